package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/hashers"
)

// TestJSONUsersConformance is all a store author needs: the suite checks
// every part of the UserStore contract against a fresh store per case.
func TestJSONUsersConformance(t *testing.T) {
	conformance.TestUsers(t, conformance.UserHarness[*User]{
		New: func(tb testing.TB) loginkit.UserStore[*User] {
			s, err := OpenJSONUsers(filepath.Join(tb.TempDir(), "users.json"))
			if err != nil {
				tb.Fatal(err)
			}
			return s
		},
		Fill: func(u *User, seed int) {
			u.Team = ""
			if seed != 0 {
				u.Team = strings.Repeat("ü", seed%5) + "team"
			}
		},
		Updater: true, // JSONUsers implements loginkit.UserUpdater
	})
}

// TestJSONUsersSurviveRestart checks the file really is the storage.
func TestJSONUsersSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := OpenJSONUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &User{Team: "red"}
	u.Username = "Ann"
	if err := s.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenJSONUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.FindByLogin(context.Background(), "ann")
	if err != nil || got.Team != "red" || got.ID != u.ID {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
}

// TestJSONUsersUnchangedWhenSaveFails checks that a write the file does
// not take leaves the store as it was: no new user, no changed user, no
// deleted user.
func TestJSONUsersUnchangedWhenSaveFails(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := OpenJSONUsers(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	ann := &User{Team: "red"}
	ann.Username = "ann"
	if err := s.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil { // every save fails from now on
		t.Fatal(err)
	}
	bob := &User{}
	bob.Username = "bob"
	if err := s.Create(ctx, bob); err == nil {
		t.Fatal("Create succeeded without its file")
	}
	if _, err := s.FindByLogin(ctx, "bob"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("after a failed Create: FindByLogin(bob) = %v, want ErrNotFound", err)
	}
	changed := *ann
	changed.Team = "blue"
	if err := s.Update(ctx, &changed); err == nil {
		t.Fatal("Update succeeded without its file")
	}
	if err := s.Delete(ctx, ann.ID); err == nil {
		t.Fatal("Delete succeeded without its file")
	}
	got, err := s.LoadUser(ctx, ann.ID)
	if err != nil || got.Team != "red" {
		t.Fatalf("after a failed Update and Delete: %+v, %v; want ann of team red", got, err)
	}
}

// TestLoginFlowOverHTTP drives the example app through a real HTTP server:
// anonymous, failed login, login by username in another case, a guarded
// page reading the application's own field, logout. The store really
// keeps its users in the file: a second store opened on it sees the login
// time the first recorded.
func TestLoginFlowOverHTTP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	users, err := OpenJSONUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	h, m, err := newHandler(users, hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))), true)
	if err != nil {
		t.Fatal(err)
	}
	u := &User{Team: "green"}
	u.Username = "demo"
	if err := m.Register(context.Background(), u, "demo-password"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var res *http.Response
		var err error
		if method == "POST" {
			res, err = c.PostForm(srv.URL+path, form)
		} else {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Accept", "text/html")
			res, err = c.Do(req)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(b)
	}

	if code, loc, _ := do("GET", "/team", nil); code != http.StatusSeeOther || loc != "/?next=%2Fteam" {
		t.Fatalf("anonymous /team: %d to %q, want the login page", code, loc)
	}
	if code, _, body := do("POST", "/login", url.Values{"login": {"demo"}, "password": {"wrong"}}); code != http.StatusUnauthorized || !strings.Contains(body, "Invalid username or password") {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	if code, loc, _ := do("POST", "/login", url.Values{"login": {"DEMO"}, "password": {"demo-password"}, "next": {"/team"}}); code != http.StatusSeeOther || loc != "/team" {
		t.Fatalf("login: %d to %q", code, loc)
	}
	if code, _, body := do("GET", "/team", nil); code != http.StatusOK || strings.TrimSpace(body) != "green" {
		t.Fatalf("/team after login: %d %q", code, body)
	}
	if code, _, body := do("GET", "/", nil); code != http.StatusOK || !strings.Contains(body, "Hello, demo of team green.") {
		t.Fatalf("home after login: %d %s", code, body)
	}

	// The login recorded its time in the file.
	again, err := OpenJSONUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := again.LoadUser(context.Background(), u.ID)
	if err != nil || stored.LastLoginAt.IsZero() || stored.Team != "green" {
		t.Fatalf("the file after login: %+v, %v", stored, err)
	}

	if code, loc, _ := do("POST", "/logout", url.Values{}); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("logout: %d to %q", code, loc)
	}
	if code, _, _ := do("GET", "/team", nil); code != http.StatusSeeOther {
		t.Fatalf("/team after logout: %d", code)
	}
}
