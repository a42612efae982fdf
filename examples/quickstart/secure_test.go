package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// seedPablo imports the user pablo (password pabloPassword) into a new
// database file and returns its path.
func seedPablo(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "app.db")
	st, closeDB, err := openSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	in := strings.NewReader("email,username,password_hash\npablo@example.com,pablo," + pabloHash + "\n")
	if n, _, err := importCSV(context.Background(), st.Users, in, io.Discard); err != nil || n != 1 {
		t.Fatalf("seeding pablo: %d imported, %v", n, err)
	}
	return db
}

// loginCookies logs pablo in on the server at base over plain HTTP and
// returns the cookies the response sets, by name.
func loginCookies(t *testing.T, base string) map[string]*http.Cookie {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(base+"/login", url.Values{"login": {"pablo"}, "password": {pabloPassword}, "remember": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		cookies[c.Name] = c
	}
	return cookies
}

const insecureWarning = "development mode: cookies are NOT marked Secure, for plain HTTP on this machine only; behind an HTTPS reverse proxy, restart with -secure-cookies"

// On loopback without -secure-cookies the app works over plain HTTP, and
// says at start-up that its cookies are not Secure, naming the flag.
func TestServeLoopbackDefaultsToInsecureCookiesAndSaysSo(t *testing.T) {
	base, log := startServer(t, "-addr", "127.0.0.1:0", "-db", seedPablo(t))
	if n := strings.Count(log.String(), insecureWarning); n != 1 {
		t.Fatalf("the start-up log has the insecure-cookie warning %d times, want 1:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "level=WARN") {
		t.Fatalf("the warning is not at WARN level:\n%s", log.String())
	}
	cookies := loginCookies(t, base)
	for _, name := range []string{"session", "remember"} {
		c, ok := cookies[name]
		if !ok || c.Secure {
			t.Fatalf("cookie %q: %v (all: %v); want it set without Secure", name, c, cookies)
		}
	}
}

// Behind an HTTPS proxy on loopback, -secure-cookies keeps the cookies
// Secure, with the __Host- prefix, and there is no insecure warning.
func TestServeSecureCookiesFlagOnLoopback(t *testing.T) {
	base, log := startServer(t, "-addr", "127.0.0.1:0", "-secure-cookies", "-db", seedPablo(t))
	if strings.Contains(log.String(), "NOT marked Secure") || !strings.Contains(log.String(), "cookies are marked Secure") {
		t.Fatalf("start-up log:\n%s", log.String())
	}
	cookies := loginCookies(t, base)
	for _, name := range []string{"__Host-session", "__Host-remember"} {
		c, ok := cookies[name]
		if !ok || !c.Secure || c.Path != "/" || c.Domain != "" {
			t.Fatalf("cookie %q: %v (all: %v); want it Secure, Path=/, no Domain", name, c, cookies)
		}
	}
	if _, ok := cookies["session"]; ok {
		t.Fatal("an unprefixed session cookie was set too")
	}
}

func TestInsecureCookiesOnlyOnLoopbackWithoutTheFlag(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		flag     bool
		insecure bool
	}{
		{"127.0.0.1:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"127.0.0.1:8080", true, false},
		{"localhost:8080", true, false},
		// Secure is forced on any other address, whatever the flag says.
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"192.0.2.10:8080", false, false},
		{"0.0.0.0:8080", true, false},
	} {
		if got := insecureCookies(tc.addr, tc.flag); got != tc.insecure {
			t.Errorf("insecureCookies(%q, %v) = %v, want %v", tc.addr, tc.flag, got, tc.insecure)
		}
	}
}
