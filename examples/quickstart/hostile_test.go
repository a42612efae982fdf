package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// newLoggedTestApp is newTestApp whose log the test can read.
func newLoggedTestApp(t *testing.T) (*testApp, *syncBuffer) {
	t.Helper()
	st, closeDB, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a, err := NewApp(st, Options{
		Hasher: testHasher(t), Policies: defaultPolicies(), InsecureCookies: true,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); closeDB() })
	return &testApp{t: t, app: a, stores: st, srv: srv}, logs
}

// A NUL byte or an invisible character in a login name is a field error
// or a refused login, never a 5xx, and logs no ERROR line.
func TestHostileLoginNamesGetFieldErrorsNotServerErrors(t *testing.T) {
	ta, logs := newLoggedTestApp(t)
	ta.createUser("root", "root@example.com", "admin password", true)
	carol := ta.createUser("carol", "carol@example.com", "carol password", false)
	for _, name := range []string{"a\x00", "adm\u200bin", "ann\u202eevil"} {
		c := ta.client()
		res := c.post("/register", url.Values{"username": {name}, "email": {"x@example.com"}, "password": {"battery staple"}, "confirm": {"battery staple"}})
		wantStatus(t, "register "+name, res, http.StatusUnprocessableEntity)
		wantBody(t, "register "+name, res, "not allowed")
		res = c.post("/register", url.Values{"username": {"newbie"}, "email": {name + "@example.com"}, "password": {"battery staple"}, "confirm": {"battery staple"}})
		wantStatus(t, "register email "+name, res, http.StatusUnprocessableEntity)
		wantStatus(t, "login "+name, c.login(name, "battery staple", false), http.StatusUnauthorized)
		res, _ = c.json("POST", "/api/login", map[string]any{"login": name, "password": "battery staple"})
		wantStatus(t, "api login "+name, res, http.StatusUnauthorized)
	}
	admin := ta.client()
	admin.mustLogin("root", "admin password", false)
	res := admin.post("/admin/users", url.Values{"username": {"dan\x00"}, "email": {"dan@example.com"}, "password": {"initial password"}})
	wantStatus(t, "admin create", res, http.StatusUnprocessableEntity)
	res = admin.post("/admin/users/"+carol.ID, url.Values{"username": {"car\u200bol"}, "email": {"carol@example.com"}})
	wantStatus(t, "admin edit", res, http.StatusUnprocessableEntity)
	res = admin.post("/admin/users/"+carol.ID, url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "password": {"new\x00password"}})
	wantStatus(t, "admin edit password", res, http.StatusUnprocessableEntity)
	if n := ta.userCount(); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("hostile input logged errors:\n%s", logs.String())
	}
}

// Re-authentication and password changes on a locked account get a clear
// 429 page, not a 500, for the whole lock, even with the right password.
func TestReauthOnLockedAccountIs429(t *testing.T) {
	ta, logs := newLoggedTestApp(t)
	ta.createUser("carol", "carol@example.com", "carol password", false)
	c := ta.client()
	c.mustLogin("carol", "carol password", false)
	for range lockoutAfter {
		wantStatus(t, "wrong reauth", c.post("/reauth", url.Values{"password": {"wrong password"}}), http.StatusUnauthorized)
	}
	res := c.post("/reauth", url.Values{"password": {"carol password"}})
	wantStatus(t, "reauth while locked", res, http.StatusTooManyRequests)
	wantBody(t, "reauth while locked", res, "locked")
	res = c.post("/account/password", url.Values{"current": {"carol password"}, "password": {"a new password"}, "confirm": {"a new password"}})
	wantStatus(t, "password change while locked", res, http.StatusTooManyRequests)
	wantBody(t, "password change while locked", res, "locked")
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a locked account logged errors:\n%s", logs.String())
	}
}

// FuzzFormsNeverAnswer5xx posts arbitrary bytes as names and passwords to
// the register, login and JSON login endpoints: every answer is below
// 500 and nothing is logged at ERROR level.
func FuzzFormsNeverAnswer5xx(f *testing.F) {
	for _, s := range [][3]string{
		{"ann", "ann@example.com", "battery staple"},
		{"a\x00", "a\x00@example.com", "pw\x00pw\x00pw"},
		{"adm\u200bin", "x@example.com", "battery\u200bstaple"},
		{"\xff\xfe", "\xff@example.com", "\xff\xff\xff\xff\xff\xff\xff\xff"},
		{"ann\u202eevil", "e\u202e@example.com", "\u2066battery staple"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, username, email, password string) {
		ta, logs := newLoggedTestApp(t)
		c := ta.client()
		check := func(what string, res response) {
			t.Helper()
			if res.Status >= 500 {
				t.Fatalf("%s (username %q, email %q, password %q): status %d\n%s", what, username, email, password, res.Status, res.Body)
			}
		}
		check("register", c.post("/register", url.Values{"username": {username}, "email": {email}, "password": {password}, "confirm": {password}}))
		check("login", c.login(username, password, false))
		check("login by email", c.login(email, password, true))
		res, _ := c.json("POST", "/api/login", map[string]any{"login": username, "password": password})
		check("api login", res)
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("input (username %q, email %q, password %q) logged errors:\n%s", username, email, password, logs.String())
		}
	})
}
