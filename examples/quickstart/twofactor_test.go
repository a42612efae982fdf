package main

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// testClock is real time plus an offset the test moves forward, so that
// consecutive TOTP codes fall in different 30-second steps without
// waiting.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// nextStep moves the clock into the next TOTP step.
func (c *testClock) nextStep() { c.mu.Lock(); c.offset += 30 * time.Second; c.mu.Unlock() }

// code returns the TOTP code of secret (as shown, grouped) now.
func (c *testClock) code(t testing.TB, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// newTwoFactorApp starts an app with second factors on a fresh database,
// with the test clock and, if asked, admin pages that need a second factor.
func newTwoFactorApp(t *testing.T, admin2FA bool) (*testApp, *testClock) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quickstart.db")
	st, closeDB, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := loadOrCreateKey(path + ".2fa-key")
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{}
	a, err := NewApp(st, Options{
		Hasher:           testHasher(t),
		Policies:         defaultPolicies(),
		InsecureCookies:  true,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:            clk.Now,
		SecondFactorKey:  key,
		AdminRequires2FA: admin2FA,
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
	return &testApp{t: t, app: a, stores: st, srv: srv, dbPath: path}, clk
}

var (
	secretRE = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)
	codesRE  = regexp.MustCompile(`<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>`)
)

// enrol turns two-factor authentication on for the logged-in client and
// returns the key shown as text and the recovery codes.
func enrol(t *testing.T, c *client, clk *testClock) (string, []string) {
	t.Helper()
	res := c.get("/account/2fa")
	wantStatus(t, "enable page", res, http.StatusOK)
	m := secretRE.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("the enable page shows no key:\n%s", res.Body)
	}
	secret := m[1]
	qr := c.get("/account/2fa/qr.png")
	wantStatus(t, "QR code", qr, http.StatusOK)
	if _, err := png.Decode(bytes.NewReader([]byte(qr.Body))); err != nil || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("the QR code is not a PNG: %v %q", err, qr.Header.Get("Content-Type"))
	}
	res = c.post("/account/2fa", url.Values{"code": {"000000"}})
	wantStatus(t, "a wrong confirming code", res, http.StatusUnprocessableEntity)
	res = c.post("/account/2fa", url.Values{"code": {clk.code(t, secret)}})
	wantStatus(t, "confirming code", res, http.StatusOK)
	var codes []string
	for _, m := range codesRE.FindAllStringSubmatch(res.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10:\n%s", len(codes), res.Body)
	}
	return secret, codes
}

func TestTwoFactorLoginWithCodeAndRecoveryCode(t *testing.T) {
	ta, clk := newTwoFactorApp(t, false)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", false)
	wantBody(t, "account page", c.get("/account"), `id="twofactor-status">Off.`)
	secret, codes := enrol(t, c, clk)
	wantBody(t, "account page after enrolling", c.get("/account"), "On: authenticator app", `<span id="recovery-left">10</span>`)
	// The key file keeps the key out of the database, for its owner only.
	if fi, err := os.Stat(ta.dbPath + ".2fa-key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	// Someone else enters ann's password: the account page shows the
	// sign-in waiting for its code.
	eve := ta.client()
	wantRedirect(t, "eve's password step", eve.login("ann", "correct horse", false), "/login/2fa")
	wantBody(t, "account page with a pending sign-in", c.get("/account"), "password entered, waiting for the two-factor code")
	c.post("/logout", nil)

	// Password, then code.
	clk.nextStep()
	res := c.login("ann", "correct horse", true)
	wantRedirect(t, "password step", res, "/login/2fa")
	if c.cookie("remember") != "" {
		t.Fatal("remember cookie set before the second factor")
	}
	wantRedirect(t, "account while pending", c.get("/account"), "/login?next=%2Faccount")
	wantBody(t, "code page", c.get("/login/2fa"), "Signed in as <strong>ann</strong>")
	code := clk.code(t, secret)
	wantRedirect(t, "code", c.post("/login/2fa", url.Values{"code": {code}}), "/account")
	if c.loggedInAs() != "ann" || c.cookie("remember") == "" {
		t.Fatalf("after the code: logged in as %q, remember cookie %q", c.loggedInAs(), c.cookie("remember"))
	}
	c.post("/logout", nil)

	// The same code again is refused.
	c.login("ann", "correct horse", false)
	res = c.post("/login/2fa", url.Values{"code": {code}})
	wantStatus(t, "the same code again", res, http.StatusUnauthorized)
	wantBody(t, "the same code again", res, "That code is not valid")

	// A recovery code works once.
	wantRedirect(t, "recovery code", c.post("/login/2fa", url.Values{"recovery": {strings.ToUpper(codes[0])}}), "/account")
	wantBody(t, "account page", c.get("/account"), `<span id="recovery-left">9</span>`)
	c.post("/logout", nil)
	c.login("ann", "correct horse", false)
	wantStatus(t, "a used recovery code", c.post("/login/2fa", url.Values{"recovery": {codes[0]}}), http.StatusUnauthorized)
	if c.loggedInAs() != "" {
		t.Fatal("logged in with a used recovery code")
	}
}

func TestTwoFactorRegenerateAndDisableNeedFreshLogin(t *testing.T) {
	ta, clk := newTwoFactorApp(t, false)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", false)
	secret, _ := enrol(t, c, clk)
	c.post("/logout", nil)
	clk.nextStep()
	c.login("ann", "correct horse", true)
	c.post("/login/2fa", url.Values{"code": {clk.code(t, secret)}})
	c.restart() // remembered: not fresh
	wantRedirect(t, "disable from a stale session", c.post("/account/2fa/disable", nil), "/reauth?next=%2Faccount%2F2fa%2Fdisable")
	res := c.post("/reauth", url.Values{"password": {"correct horse"}, "next": {"/account/2fa/disable"}})
	wantRedirect(t, "reauth", res, "/account/2fa/disable")
	wantRedirect(t, "back to the account", c.get("/account/2fa/disable"), "/account")
	res = c.post("/account/2fa/recovery-codes", nil)
	wantStatus(t, "regenerate", res, http.StatusOK)
	fresh := codesRE.FindAllStringSubmatch(res.Body, -1)
	if len(fresh) != 10 {
		t.Fatalf("%d new codes", len(fresh))
	}
	wantRedirect(t, "disable", c.post("/account/2fa/disable", nil), "/account")
	wantBody(t, "account page", c.get("/account"), "Two-factor authentication is off.", `id="twofactor-status">Off.`)
	c.post("/logout", nil)
	c.mustLogin("ann", "correct horse", false) // no second step any more
}

// TestTwoFactorEnrolFromStaleSessionAsksForPassword: a remembered (stale)
// session, such as a stolen remember cookie, cannot turn two-factor
// authentication on with an app of its own.
func TestTwoFactorEnrolFromStaleSessionAsksForPassword(t *testing.T) {
	ta, _ := newTwoFactorApp(t, false)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", true)
	c.restart() // remembered: not fresh
	wantRedirect(t, "enrolment page from a stale session", c.get("/account/2fa"), "/reauth?next=%2Faccount%2F2fa")
	wantRedirect(t, "enrolment from a stale session", c.post("/account/2fa", url.Values{"code": {"123456"}}), "/reauth?next=%2Faccount%2F2fa")
}

func TestTwoFactorRequiredForAdminPages(t *testing.T) {
	ta, clk := newTwoFactorApp(t, true)
	ta.createUser("root", "root@example.com", "correct horse", true)
	c := ta.client()
	c.mustLogin("root", "correct horse", false)
	res := c.get("/admin/users")
	wantStatus(t, "admin without two-factor", res, http.StatusForbidden)
	wantBody(t, "admin without two-factor", res, "turn it on from your account page")
	secret, _ := enrol(t, c, clk)
	// Enrolling proves the factor for this session too.
	wantStatus(t, "admin right after enrolling", c.get("/admin/users"), http.StatusOK)
	c.post("/logout", nil)
	clk.nextStep()
	c.login("root", "correct horse", false)
	c.post("/login/2fa", url.Values{"code": {clk.code(t, secret)}})
	wantStatus(t, "admin after a login with two-factor", c.get("/admin/users"), http.StatusOK)
	if !strings.Contains(html.UnescapeString(c.get("/admin/users").Body), "root@example.com") {
		t.Fatal("the admin page does not list the users")
	}
}
