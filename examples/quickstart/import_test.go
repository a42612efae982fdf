package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importedPasswords are the passwords behind the hashes in
// testdata/import.csv (made by testdata/gen_import_csv.sh with the real
// libraries of each ecosystem).
var importedPasswords = map[string]string{
	"wanda": "werkzeug-scrypt-pw", // Werkzeug 3 default: scrypt:32768:8:1
	"walt":  "werkzeug-pbkdf2-pw", // Werkzeug pbkdf2:sha256
	"dora":  "django-pbkdf2-pw",   // Django pbkdf2_sha256
	"dario": "django-bcrypt-pw",   // Django bcrypt_sha256
	"paula": "passlib-pbkdf2-pw",  // passlib $pbkdf2-sha256$
	"pablo": "passlib-bcrypt-pw",  // passlib bcrypt ($2b$)
	"bea":   "bcrypt-module-pw",   // Python bcrypt module ($2b$)
	"phil":  "php-bcrypt-pw",      // PHP password_hash PASSWORD_BCRYPT ($2y$)
	"pia":   "php-argon2id-pw",    // PHP password_hash PASSWORD_ARGON2ID
	"ines":  "inactive-pw",        // imported inactive
	"sid":   "sha512-crypt-pw",    // passlib sha512_crypt ($6$)
}

func TestImportUsersCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	out, code := command(t, "", "import-users", "-db", db, filepath.Join("testdata", "import.csv"))
	if code != 1 {
		t.Fatalf("import-users with rejected rows: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"row 2: imported wanda (",
		"row 3: imported walt (",
		"row 4: imported dora (",
		"row 5: imported dario (",
		"row 6: imported paula (",
		"row 7: imported pablo (",
		"row 8: imported bea (",
		"row 9: imported ines (",
		"row 10: imported sid (sha512-crypt hash)",
		"row 11: rejected wanda2: a user with that email or username already exists",
		"row 12: rejected DORA: a user with that email or username already exists",
		"row 13: rejected mal@lory: a username cannot contain '@'",
		`row 14: rejected phoebe: invalid email "Phoebe <phoebe@example.com>"`,
		`row 15: rejected maybe: active must be true or false, not "sometimes"`,
		"row 16: rejected: needs an email or a username",
		"row 17: imported phil (",
		"row 18: imported pia (",
		"row 19: rejected nohash: no password hash",
		"row 20: rejected plain: unknown or malformed password hash (unrecognised hash format)",
		"row 21: rejected trunc: unknown or malformed password hash (wrong length)",
		`row 22: rejected: parse error on line 22, column 46: extraneous or missing " in quoted-field`,
		"11 imported, 10 rejected",
		"each hash is replaced by the app's default (argon2id) at the user's first login",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", out)
	}

	// A second run imports nothing new: every row is now a duplicate or
	// refused.
	out, code = command(t, "", "import-users", "-db", db, filepath.Join("testdata", "import.csv"))
	if code != 1 || !strings.Contains(out, "0 imported, 21 rejected") {
		t.Fatalf("second import: exit %d\n%s", code, out)
	}

	// The imported users log in with their old passwords, with the app's
	// real hasher, and their hashes are upgraded at that first login.
	ta := newTestAppOn(t, db, defaultHasher())
	for _, name := range []string{"wanda", "walt", "dora", "dario", "paula", "pablo", "bea", "phil", "pia", "sid"} {
		t.Run(name, func(t *testing.T) {
			before := ta.user(name).PasswordHash
			c := ta.client()
			wantStatus(t, "wrong password", c.login(name, "not "+importedPasswords[name], false), http.StatusUnauthorized)
			c.mustLogin(name, importedPasswords[name], false)
			after := ta.user(name).PasswordHash
			scheme, err := identifyHash(after)
			if err != nil || scheme != "argon2id" {
				t.Fatalf("after the first login the hash is %q (%s, %v), want argon2id", after, scheme, err)
			}
			if after == before && !strings.HasPrefix(before, "$argon2id$v=19$m=65536,t=4,p=1$") {
				t.Fatal("the hash was not upgraded")
			}
			ta.client().mustLogin(name, importedPasswords[name], false)
		})
	}
	// The inactive user's password is right, and still refused.
	wantStatus(t, "inactive imported user", ta.client().login("ines", importedPasswords["ines"], false), http.StatusUnauthorized)
	if u := ta.user("ines@example.com"); !u.Disabled {
		t.Fatal("ines was imported active")
	}
	if _, err := ta.stores.Users.FindByLogin(context.Background(), "plain"); err == nil {
		t.Fatal("a rejected row was imported")
	}
}

func TestImportUsersRefusesABadHeader(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	csv := filepath.Join(t.TempDir(), "bad.csv")
	writeFile(t, csv, "mail,user,hash\nann@example.com,ann,$2b$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
	out, code := command(t, "", "import-users", "-db", db, csv)
	if code != 1 || !strings.Contains(out, `"email" is missing`) {
		t.Fatalf("exit %d\n%s", code, out)
	}
	out, code = command(t, "", "import-users", "-db", db)
	if code != 2 || !strings.Contains(out, "import-users -db PATH [-dry-run] FILE.csv") {
		t.Fatalf("without a file: exit %d\n%s", code, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
