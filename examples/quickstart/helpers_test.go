package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// TestMain lets a test run the quickstart command itself, as a subprocess
// of the test binary: with QUICKSTART_RUN_MAIN=1 the binary is the
// command, its arguments the command's.
func TestMain(m *testing.M) {
	if os.Getenv("QUICKSTART_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testApp is a quickstart app on a fresh SQLite file, served over HTTP
// on 127.0.0.1 by httptest.
type testApp struct {
	t      *testing.T
	app    *App
	stores Stores
	srv    *httptest.Server
	dbPath string
}

// newTestApp starts an app with a fresh database and the cheap test hasher.
func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppOn(t, filepath.Join(t.TempDir(), "quickstart.db"), testHasher(t))
}

// newTestAppOn starts an app on the database at path with the given hasher.
func newTestAppOn(t *testing.T, path string, h loginkit.Hasher) *testApp {
	t.Helper()
	return newTestAppWith(t, path, h, nil)
}

// newTestAppWith starts an app on the database at path with the given
// hasher, on the stores wrap returns (when not nil).
func newTestAppWith(t *testing.T, path string, h loginkit.Hasher, wrap func(Stores) Stores) *testApp {
	t.Helper()
	st, closeDB, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		st = wrap(st)
	}
	a, err := NewApp(st, Options{
		Hasher:          h,
		Policies:        defaultPolicies(),
		InsecureCookies: true,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		closeDB()
	})
	return &testApp{t: t, app: a, stores: st, srv: srv, dbPath: path}
}

// user loads a user by login name, failing the test when it is missing.
func (ta *testApp) user(login string) *User {
	ta.t.Helper()
	u, err := ta.stores.Users.FindByLogin(context.Background(), login)
	if err != nil {
		ta.t.Fatalf("FindByLogin(%q): %v", login, err)
	}
	return u
}

// userCount returns the number of stored users.
func (ta *testApp) userCount() int {
	ta.t.Helper()
	_, n, err := ta.stores.Users.List(context.Background(), loginkit.ListOptions{Limit: 1})
	if err != nil {
		ta.t.Fatal(err)
	}
	return n
}

// createUser registers a user directly through the manager.
func (ta *testApp) createUser(username, email, password string, admin bool) *User {
	ta.t.Helper()
	u := &User{IsAdmin: admin}
	u.Username, u.Email = username, email
	if err := ta.app.m.Register(context.Background(), u, password); err != nil {
		ta.t.Fatalf("Register(%s): %v", username, err)
	}
	return u
}

// client is one browser: a cookie jar that does not follow redirects, so
// that tests see each response.
type client struct {
	t    *testing.T
	base *url.URL
	jar  *cookiejar.Jar
	hc   *http.Client
	ua   string
}

func (ta *testApp) client() *client {
	ta.t.Helper()
	base, _ := url.Parse(ta.srv.URL)
	jar, _ := cookiejar.New(nil)
	c := &client{t: ta.t, base: base, jar: jar, ua: "Mozilla/5.0 (X11; Linux x86_64) quickstart-test"}
	c.hc = &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// response is what a test looks at.
type response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.ua)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: string(b), Location: res.Header.Get("Location"), Header: res.Header}
}

func (c *client) url(path string) string { return c.base.String() + path }

// get fetches path as a browser navigation (Accept: text/html).
func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.url(path), nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	return c.do(req)
}

// post submits a form.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return c.do(req)
}

// json sends a JSON request (body may be nil) and decodes the JSON answer.
func (c *client) json(method, path string, body any) (response, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.url(path), r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res := c.do(req)
	var out map[string]any
	if res.Body != "" {
		if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
			c.t.Fatalf("%s %s: not JSON (%v): %q", method, path, err, res.Body)
		}
	}
	return res, out
}

// login posts the login form.
func (c *client) login(login, password string, remember bool) response {
	c.t.Helper()
	f := url.Values{"login": {login}, "password": {password}}
	if remember {
		f.Set("remember", "1")
	}
	return c.post("/login", f)
}

// mustLogin logs in and checks the redirect to /account.
func (c *client) mustLogin(login, password string, remember bool) {
	c.t.Helper()
	if res := c.login(login, password, remember); res.Status != http.StatusSeeOther || res.Location != "/account" {
		c.t.Fatalf("login as %s: %d %q\n%s", login, res.Status, res.Location, res.Body)
	}
}

// cookie returns the value of a cookie the browser would send, or "".
func (c *client) cookie(name string) string {
	for _, ck := range c.jar.Cookies(c.base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// restart simulates closing and reopening the browser: session cookies
// are gone, persistent ones (the remember cookie) are kept.
func (c *client) restart() {
	keep := c.cookie("remember")
	jar, _ := cookiejar.New(nil)
	if keep != "" {
		jar.SetCookies(c.base, []*http.Cookie{{Name: "remember", Value: keep, Path: "/"}})
	}
	c.jar = jar
	c.hc.Jar = jar
}

// loggedInAs reports the username /api/me names, or "" when anonymous.
func (c *client) loggedInAs() string {
	c.t.Helper()
	res, out := c.json("GET", "/api/me", nil)
	if res.Status == http.StatusUnauthorized {
		return ""
	}
	if res.Status != http.StatusOK {
		c.t.Fatalf("/api/me: %d %s", res.Status, res.Body)
	}
	name, _ := out["username"].(string)
	return name
}

// wantStatus fails the test unless res has the given status.
func wantStatus(t *testing.T, what string, res response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: status %d, want %d; Location %q\n%s", what, res.Status, status, res.Location, res.Body)
	}
}

// wantRedirect fails the test unless res is a 303 to location.
func wantRedirect(t *testing.T, what string, res response, location string) {
	t.Helper()
	if res.Status != http.StatusSeeOther || res.Location != location {
		t.Fatalf("%s: %d to %q, want 303 to %q\n%s", what, res.Status, res.Location, location, res.Body)
	}
}

// wantBody fails the test unless res's body contains every string.
func wantBody(t *testing.T, what string, res response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(res.Body, s) {
			t.Fatalf("%s: body lacks %q:\n%s", what, s, res.Body)
		}
	}
}
