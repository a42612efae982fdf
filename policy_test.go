package loginkit_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/policies"
)

// withRoute returns a browser of a's whose handler also serves path with
// h, beside the app's usual routes.
func withRoute(a *app, pattern string, h http.Handler) *browser {
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	mux.Handle("/", a.routes())
	b := a.browser()
	b.h = a.m.Middleware(mux)
	return b
}

func TestGuardWithPolicies(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	a.register("root", "pw-root-123")
	admin := a.m.Guard(policies.RequireUser(func(u *user) bool { return u.Name == "root" }))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("admin page")) }))

	anon := withRoute(a, "GET /admin", admin)
	res := anon.get("/admin")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fadmin" {
		t.Fatalf("anonymous: %d %q, want 303 to the login page", res.StatusCode, res.Header.Get("Location"))
	}

	ann := withRoute(a, "GET /admin", admin)
	ann.mustLogin("ann", "pw-ann-123", false)
	if res := ann.get("/admin"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a logged-in user the policy refuses: %d, want 403", res.StatusCode)
	}

	root := withRoute(a, "GET /admin", admin)
	root.mustLogin("root", "pw-root-123", false)
	if res := root.get("/admin"); res.StatusCode != http.StatusOK || body(res) != "admin page" {
		t.Fatalf("the user the policy admits: %d", res.StatusCode)
	}
}

func TestManagerPoliciesApplyToEveryRequest(t *testing.T) {
	// A manager-wide policy refuses at login and on every later request.
	blocked := map[string]bool{}
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.RequireUser(func(u *user) bool { return !blocked[u.Name] }))
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	if res := b.get("/protected"); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", res.StatusCode)
	}
	blocked["ann"] = true
	if res := b.get("/protected"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("after the policy turned: %d, want 403", res.StatusCode)
	}
	if res := a.browser().login("ann", "pw-ann-123", false); res.StatusCode == http.StatusSeeOther {
		t.Fatal("login succeeded for a user the manager's policy refuses")
	}
}

func TestFreshForMaxAgeAndReauthenticate(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.FreshFor(10 * time.Minute) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	if got := body(b.get("/fresh")); got != "user:ann:fresh" {
		t.Fatalf("right after a password login: %q", got)
	}
	a.clock.Advance(11 * time.Minute)
	res := b.get("/fresh")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reauth?next=%2Ffresh" {
		t.Fatalf("11 minutes after login with FreshFor(10m): %d %q, want 303 to /reauth", res.StatusCode, res.Header.Get("Location"))
	}
	if got := body(b.get("/protected")); got != "user:ann:fresh" && got != "user:ann:stale" {
		t.Fatalf("Required still admits the stale session: %q", got)
	}
	if res := b.do("POST", "/reauth?next=%2Ffresh", "password=wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reauthenticate with a wrong password: %d", res.StatusCode)
	}
	old := b.cookie(sessionCookie)
	res = b.do("POST", "/reauth?next=%2Ffresh", "password=pw-ann-123")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/fresh" {
		t.Fatalf("reauthenticate: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if b.cookie(sessionCookie) == old {
		t.Fatal("reauthentication did not rotate the session token")
	}
	if got := body(b.get("/fresh")); got != "user:ann:fresh" {
		t.Fatalf("after reauthentication: %q", got)
	}
}

func TestLockoutOverHTTP(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	for i := 0; i < 3; i++ {
		if res := b.login("ann", "wrong", false); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, res.StatusCode)
		}
	}
	res := b.login("ann", "pw-ann-123", false)
	if got := body(res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(got, loginkit.ErrLocked.Error()) {
		t.Fatalf("right password while locked: %d %q, want 401 with ErrLocked", res.StatusCode, got)
	}
	a.clock.Advance(16 * time.Minute)
	b.mustLogin("ann", "pw-ann-123", false)
	u, err := a.users.FindByLogin(t.Context(), "ann")
	if err != nil || u.FailedLogins != 0 || !u.LockedUntil.IsZero() && u.LockedUntil.After(a.clock.Now()) {
		t.Fatalf("after a successful login: %+v, %v; want the failure count reset", u, err)
	}
}

func TestNonASCIIUserIDSurvivesCookies(t *testing.T) {
	a := newApp(t)
	u := &user{Name: "zoë"}
	u.ID = "ü-日本-\u00e9\u0301 ; = ,"
	u.Username = "zoë"
	if err := a.m.Register(t.Context(), u, "pw-zoe-123"); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.mustLogin(url.QueryEscape("zoë"), "pw-zoe-123", true)
	wantWho(t, b, "user:zoë:fresh")
	b.restart() // only the remember cookie survives
	wantWho(t, b, "user:zoë:stale")
}

func TestFingerprintIgnoresClientPort(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.SessionProtection(loginkit.ProtectionStrong) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	b.addr = "192.0.2.10:51234" // same host, new connection
	wantWho(t, b, "user:ann:fresh")
	b.addr = "198.51.100.7:40000" // another host
	wantWho(t, b, "anonymous")
}
