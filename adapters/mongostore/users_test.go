package mongostore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// newMembers returns a user store with its indexes in a fresh database.
func newMembers(tb testing.TB) *mongostore.Users[conformance.Member, *conformance.Member] {
	tb.Helper()
	return mongostore.NewUsers[conformance.Member](migratedDB(tb))
}

// TestConcurrentRegistrations races 50 registrations of one email address
// (in different spellings that normalise alike): the unique index lets
// exactly one through, and every other gets ErrDuplicate.
func TestConcurrentRegistrations(t *testing.T) {
	us := newMembers(t)
	const n = 50
	errs := concurrently(n, func(i int) error {
		email := []string{"race@example.com", "  RACE@Example.COM", "Race@example.com "}[i%3]
		return us.Create(ctx(t), &conformance.Member{Account: loginkit.Account{Email: email, Username: fmt.Sprintf("racer%d", i)}})
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loginkit.ErrDuplicate):
			t.Errorf("registration %d: want nil or ErrDuplicate, got %v", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("50 concurrent registrations of one email: want exactly 1 success, got %d", wins)
	}
	_, total, err := us.List(ctx(t), loginkit.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 {
		t.Errorf("users stored after the race: want 1, got %d", total)
	}
}

// TestStoredDocument checks the document layout: the user ID as _id, the
// application's own fields at the top level beside Account's, times as
// BSON dates, and the stand-in keys of a user without a username.
func TestStoredDocument(t *testing.T) {
	us := newMembers(t)
	m := &conformance.Member{Account: loginkit.Account{
		Email:     "Doc@Example.com",
		CreatedAt: time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.UTC),
	}}
	conformance.FillMember(m, 3)
	if err := us.Create(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	raw, err := us.Collection().FindOne(ctx(t), bson.D{{Key: "_id", Value: m.ID}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	wantString := map[string]string{
		"_id":          m.ID,
		"email":        "Doc@Example.com",
		"email_key":    "doc@example.com",
		"username":     "",
		"username_key": " id:" + m.ID,
		"display_name": m.DisplayName,
	}
	for k, want := range wantString {
		v, err := raw.LookupErr(k)
		if err != nil {
			t.Errorf("field %s: %v", k, err)
			continue
		}
		if got, ok := v.StringValueOK(); !ok || got != want {
			t.Errorf("field %s: want string %q, got %s", k, want, v)
		}
	}
	for _, k := range []string{"created_at", "updated_at", "birthday", "last_login_at"} {
		v, err := raw.LookupErr(k)
		if err != nil {
			t.Errorf("field %s: %v", k, err)
			continue
		}
		if v.Type != bson.TypeDateTime {
			t.Errorf("field %s: want a BSON date, got %s", k, v.Type)
		}
	}
	if got := raw.Lookup("created_at").Time(); !got.Equal(m.CreatedAt.Truncate(time.Millisecond)) {
		t.Errorf("created_at: want %v, got %v", m.CreatedAt.Truncate(time.Millisecond), got)
	}
	if _, err := raw.LookupErr("account"); err == nil {
		t.Error("the inline Account was stored as a subdocument")
	}

	got, err := us.LoadUser(ctx(t), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "" || got.UsernameKey != "" {
		t.Errorf("loaded user: want empty Username and UsernameKey, got %q and %q", got.Username, got.UsernameKey)
	}
	if got.EmailKey != "doc@example.com" {
		t.Errorf("loaded user: EmailKey %q", got.EmailKey)
	}
}

// TestLoginlessUsersCoexist stores many users without a username and many
// without an email, and checks that nothing finds them by an empty or
// stand-in key.
func TestLoginlessUsersCoexist(t *testing.T) {
	us := newMembers(t)
	var ids []string
	for i := range 5 {
		a := &conformance.Member{Account: loginkit.Account{Email: fmt.Sprintf("e%d@example.com", i)}}
		b := &conformance.Member{Account: loginkit.Account{Username: fmt.Sprintf("name%d", i)}}
		c := &conformance.Member{} // neither: an account for an external login, say
		for _, u := range []*conformance.Member{a, b, c} {
			if err := us.Create(ctx(t), u); err != nil {
				t.Fatalf("create %+v: %v", u.Account, err)
			}
			ids = append(ids, u.ID)
		}
	}
	for _, id := range ids {
		for _, login := range []string{"", " ", " id:" + id, "id:" + id} {
			if _, err := us.FindByLogin(ctx(t), login); !errors.Is(err, loginkit.ErrNotFound) {
				t.Errorf("FindByLogin(%q): want ErrNotFound, got %v", login, err)
			}
		}
	}
	users, total, err := us.List(ctx(t), loginkit.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if total != 15 || len(users) != 15 {
		t.Fatalf("List: want 15 users, got %d of %d", len(users), total)
	}
	for _, u := range users {
		if strings.HasPrefix(u.EmailKey, " ") || strings.HasPrefix(u.UsernameKey, " ") {
			t.Errorf("user %s: a stand-in key reached the application: %q, %q", u.ID, u.EmailKey, u.UsernameKey)
		}
	}
}

// plainStaff embeds Account without the inline tag, so the driver nests
// Account's fields under "account".
type plainStaff struct {
	loginkit.Account
	Team string `bson:"team"`
}

// TestNestedAccount checks that a user type that forgot `bson:",inline"`
// still works: uniqueness, lookups and ordering use the top-level fields
// the store writes itself.
func TestNestedAccount(t *testing.T) {
	db := migratedDB(t)
	us := mongostore.NewUsers[plainStaff](db)
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	first := &plainStaff{Account: loginkit.Account{Email: "one@example.com", Username: "one", CreatedAt: base.Add(time.Hour)}, Team: "red"}
	second := &plainStaff{Account: loginkit.Account{Email: "two@example.com", CreatedAt: base}, Team: "blue"}
	for _, u := range []*plainStaff{first, second} {
		if err := us.Create(ctx(t), u); err != nil {
			t.Fatal(err)
		}
	}
	err := us.Create(ctx(t), &plainStaff{Account: loginkit.Account{Email: "ONE@example.com"}})
	if !errors.Is(err, loginkit.ErrDuplicate) {
		t.Errorf("Create with a taken email: want ErrDuplicate, got %v", err)
	}
	got, err := us.FindByLogin(ctx(t), "One")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.Team != "red" || got.Email != "one@example.com" || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("FindByLogin: got %+v", got)
	}
	users, _, err := us.List(ctx(t), loginkit.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].ID != second.ID || users[1].ID != first.ID {
		t.Errorf("List: want [second first] by CreatedAt, got %d users", len(users))
	}
}

// TestCollectionNames checks the default names and both options.
func TestCollectionNames(t *testing.T) {
	db := freshDB(t)
	cases := []struct {
		got, want string
	}{
		{mongostore.NewUsers[conformance.Member](db).Collection().Name(), "loginkit_users"},
		{mongostore.NewSessions(db).Collection().Name(), "loginkit_sessions"},
		{mongostore.NewTokens(db).Collection().Name(), "loginkit_tokens"},
		{mongostore.NewUsers[conformance.Member](db).LockCollection().Name(), "loginkit_users_locks"},
		{mongostore.NewUsers[conformance.Member](db, mongostore.WithPrefix("people_")).LockCollection().Name(), "people_users_locks"},
		{mongostore.NewSessions(db, mongostore.WithPrefix("app_")).Collection().Name(), "app_sessions"},
		{mongostore.NewTokens(db, mongostore.WithPrefix("app_")).Collection().Name(), "app_tokens"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("collection name: want %q, got %q", c.want, c.got)
		}
	}
}
