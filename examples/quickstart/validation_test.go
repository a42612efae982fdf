package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// pabloHash is a bcrypt hash (cost 6) of pabloPassword, from
// testdata/import.csv.
const (
	pabloHash     = "$2b$06$L0nOBbamrEWi3Fw3azL.vOsYif3TlSIMiUCVrjZRIzrEL4WGlUPdi"
	pabloPassword = "passlib-bcrypt-pw"
)

// reservingUsers is the app's SQLite user store with one rule of its own,
// as a custom store may have: it refuses a username starting with
// "reserved" with loginkit.ErrInvalid and stores nothing. The app's own
// checks accept such a name, so it reaches the store's refusal.
type reservingUsers struct {
	loginkit.UserStore[*User]
}

func (s reservingUsers) check(u *User) error {
	if strings.HasPrefix(loginkit.NormalizeLogin(u.Username), "reserved") {
		return fmt.Errorf("%w: the username %q is reserved", loginkit.ErrInvalid, u.Username)
	}
	return nil
}

func (s reservingUsers) Create(ctx context.Context, u *User) error {
	if err := s.check(u); err != nil {
		return err
	}
	return s.UserStore.Create(ctx, u)
}

func (s reservingUsers) Update(ctx context.Context, u *User) error {
	if err := s.check(u); err != nil {
		return err
	}
	return s.UserStore.Update(ctx, u)
}

func withReservingUsers(st Stores) Stores {
	st.Users = reservingUsers{st.Users}
	return st
}

// An ErrInvalid from the user store is a field error on the form (422),
// never a 500 page, and nothing is stored.
func TestStoreRefusalIsAFieldError(t *testing.T) {
	ta := newTestAppWith(t, filepath.Join(t.TempDir(), "app.db"), testHasher(t), withReservingUsers)
	const msg = "That username or email cannot be used; please choose another."

	c := ta.client()
	res := c.post("/register", url.Values{"username": {"reserved1"}, "email": {"r1@example.com"}, "password": {"battery staple"}, "confirm": {"battery staple"}})
	wantStatus(t, "register", res, http.StatusUnprocessableEntity)
	wantBody(t, "register", res, `<p class="error" id="err-username">`+htmlEscape(msg)+`</p>`, `value="r1@example.com"`)
	if c.cookie("session") != "" {
		t.Fatal("a refused registration set a session cookie")
	}
	if n := ta.userCount(); n != 0 {
		t.Fatalf("%d users after a refused registration, want 0", n)
	}

	ta.createUser("root", "root@example.com", "admin password", true)
	carol := ta.createUser("carol", "carol@example.com", "carol password", false)
	admin := ta.client()
	admin.mustLogin("root", "admin password", false)
	res = admin.post("/admin/users", url.Values{"username": {"reserved2"}, "email": {"r2@example.com"}, "password": {"initial password"}})
	wantStatus(t, "admin create", res, http.StatusUnprocessableEntity)
	wantBody(t, "admin create", res, `<p class="error">`+htmlEscape(msg)+`</p>`)
	res = admin.post("/admin/users/"+carol.ID, url.Values{"username": {"reserved3"}, "email": {"carol@example.com"}})
	wantStatus(t, "admin edit", res, http.StatusUnprocessableEntity)
	wantBody(t, "admin edit", res, `<p class="error">`+htmlEscape(msg)+`</p>`)
	if n := ta.userCount(); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
	if got := ta.user("carol@example.com"); got.Username != "carol" {
		t.Fatalf("a refused edit changed the username to %q", got.Username)
	}
}

// The admin forms refuse a look-alike '@' in a username before the store
// sees it, with a message naming the character.
func TestAdminRefusesLookalikeAt(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("root", "root@example.com", "admin password", true)
	carol := ta.createUser("carol", "carol@example.com", "carol password", false)
	admin := ta.client()
	admin.mustLogin("root", "admin password", false)
	want := htmlEscape(`A username cannot contain '@' or a character that stands for it (here "＠").`)
	res := admin.post("/admin/users", url.Values{"username": {"dan＠home"}, "email": {"dan@example.com"}, "password": {"initial password"}})
	wantStatus(t, "admin create", res, http.StatusUnprocessableEntity)
	wantBody(t, "admin create", res, want)
	res = admin.post("/admin/users/"+carol.ID, url.Values{"username": {"carol＠home"}, "email": {"carol@example.com"}})
	wantStatus(t, "admin edit", res, http.StatusUnprocessableEntity)
	wantBody(t, "admin edit", res, want)
	res = admin.post("/admin/users/"+carol.ID, url.Values{"username": {"carol"}, "email": {"carol＠example.com"}})
	wantStatus(t, "admin edit email", res, http.StatusUnprocessableEntity)
	wantBody(t, "admin edit email", res, "Enter a valid email address.")
	if n := ta.userCount(); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
	if got := ta.user("carol@example.com"); got.Username != "carol" {
		t.Fatalf("a refused edit changed the username to %q", got.Username)
	}
}

// A row with a full-width '＠' in the username is rejected with its reason
// and the rows after it are still imported.
func TestImportUsersRejectsLookalikeAt(t *testing.T) {
	dir := t.TempDir()
	db, csvPath := filepath.Join(dir, "app.db"), filepath.Join(dir, "users.csv")
	writeFile(t, csvPath, "email,username,password_hash\n"+
		"fw@example.com,fw＠home,"+pabloHash+"\n"+
		"sfw＠example.com,sfw,"+pabloHash+"\n"+
		"later@example.com,later,"+pabloHash+"\n")
	out, code := command(t, "", "import-users", "-db", db, csvPath)
	for _, want := range []string{
		`row 2: rejected fw＠home: a username cannot contain '@' or a character that stands for it (here "＠")`,
		`row 3: rejected sfw: invalid email "sfw＠example.com"`,
		"row 4: imported later (bcrypt hash)",
		"1 imported, 2 rejected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", out)
	}
	ta := newTestAppOn(t, db, testHasher(t))
	if n := ta.userCount(); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	if u := ta.user("later"); u.Email != "later@example.com" {
		t.Fatalf("imported %+v", u)
	}
}

// A row the store refuses with ErrInvalid is rejected with the store's
// reason; the import goes on with the next rows.
func TestImportCSVGoesOnAfterAStoreRefusal(t *testing.T) {
	st, closeDB, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	users := reservingUsers{st.Users}
	in := strings.NewReader("email,username,password_hash\n" +
		"first@example.com,first," + pabloHash + "\n" +
		"r@example.com,reserved," + pabloHash + "\n" +
		"last@example.com,last," + pabloHash + "\n")
	var out bytes.Buffer
	imported, rejected, err := importCSV(context.Background(), users, in, &out)
	if err != nil || imported != 2 || rejected != 1 {
		t.Fatalf("importCSV = %d imported, %d rejected, %v; want 2, 1, nil\n%s", imported, rejected, err, out.String())
	}
	for _, want := range []string{
		"row 2: imported first (bcrypt hash)",
		`row 3: rejected reserved: the user store refused it as invalid (loginkit: invalid value: the username "reserved" is reserved)`,
		"row 4: imported last (bcrypt hash)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the report lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := users.FindByLogin(context.Background(), "reserved"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("FindByLogin(reserved) = %v, want ErrNotFound", err)
	}
}

func TestRefusedField(t *testing.T) {
	for _, tc := range []struct {
		username, email, field, msg string
	}{
		{"ann＠home", "ann@example.com", "username", `A username cannot contain '@' or a character that stands for it (here "＠").`},
		{"ann", "ann.example.com", "email", "Enter a valid email address."},
		{"ann", "ann@example.com", "username", "That username or email cannot be used; please choose another."},
	} {
		field, msg := refusedField(tc.username, tc.email)
		if field != tc.field || msg != tc.msg {
			t.Errorf("refusedField(%q, %q) = %q, %q; want %q, %q", tc.username, tc.email, field, msg, tc.field, tc.msg)
		}
	}
}
