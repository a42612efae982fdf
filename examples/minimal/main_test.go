package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// browser is an HTTP client with a cookie jar that asks for HTML, as a
// browser does, so that the app redirects it to its login pages.
type browser struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
}

func (b *browser) do(method, path string, form url.Values) (status int, finalPath, body string) {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.RequestURI(), string(data)
}

// TestTutorial walks the Flask-Login tutorial through net/http: a
// protected page sends an anonymous browser to the login page and back,
// a wrong password is refused, remember-me restores the login after the
// session cookie is gone (a browser restart), such a restored login must
// confirm its password for the fresh-required page, and logout ends it.
func TestTutorial(t *testing.T) {
	h, err := newApp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, srv: srv, client: &http.Client{Jar: jar}}

	if status, path, _ := b.do("GET", "/protected", nil); status != 200 || !strings.HasPrefix(path, "/login?next=") {
		t.Fatalf("anonymous /protected: %d at %s; want the login page", status, path)
	}
	if status, _, body := b.do("POST", "/login", url.Values{"username": {"ann"}, "password": {"wrong"}, "next": {"/protected"}}); status != 401 || !strings.Contains(body, "Wrong username or password") {
		t.Fatalf("wrong password: %d %q", status, body)
	}
	status, path, body := b.do("POST", "/login", url.Values{"username": {"ann"}, "password": {"correct horse"}, "remember": {"on"}, "next": {"/protected"}})
	if status != 200 || path != "/protected" || !strings.Contains(body, "Hello, ann!") {
		t.Fatalf("login: %d at %s: %q", status, path, body)
	}
	if status, path, body := b.do("GET", "/settings", nil); status != 200 || path != "/settings" || !strings.Contains(body, "Settings") {
		t.Fatalf("fresh login on /settings: %d at %s: %q", status, path, body)
	}

	// A browser restart: the session cookie goes, the remember cookie stays.
	u, _ := url.Parse(srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Path: "/", MaxAge: -1}})
	if status, _, body := b.do("GET", "/protected", nil); status != 200 || !strings.Contains(body, "Hello, ann!") {
		t.Fatalf("remembered /protected: %d %q", status, body)
	}
	status, path, body = b.do("GET", "/settings", nil)
	if status != 200 || !strings.HasPrefix(path, "/reauth?next=") || !strings.Contains(body, "confirm your password") {
		t.Fatalf("remembered /settings: %d at %s; want the password confirmation", status, path)
	}
	if status, _, _ := b.do("POST", "/reauth", url.Values{"password": {"wrong"}, "next": {"/settings"}}); status != 401 {
		t.Fatalf("wrong password on /reauth: %d", status)
	}
	if status, path, _ := b.do("POST", "/reauth", url.Values{"password": {"correct horse"}, "next": {"/settings"}}); status != 200 || path != "/settings" {
		t.Fatalf("after re-authentication: %d at %s; want /settings", status, path)
	}

	if status, path, body := b.do("POST", "/logout", url.Values{}); status != 200 || path != "/" || !strings.Contains(body, "Log in") {
		t.Fatalf("logout: %d at %s: %q", status, path, body)
	}
	if status, path, _ := b.do("GET", "/protected", nil); status != 200 || !strings.HasPrefix(path, "/login?next=") {
		t.Fatalf("/protected after logout: %d at %s; want the login page", status, path)
	}
	// An absolute next is not followed: the login stays on this site.
	if _, path, _ := b.do("POST", "/login", url.Values{"username": {"ann"}, "password": {"correct horse"}, "next": {"https://evil.example/"}}); path != "/" {
		t.Fatalf("login with a foreign next ended at %s; want /", path)
	}
}
