package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/loginkit/loginkit/internal/testenv"
)

// TestBrowserTwoFactor drives two-factor authentication in real headless
// Chromium: turn it on with a code computed from the key shown as text
// (the QR code image loads), keep the recovery codes shown, log out, log
// in with the password and a code, see the same code refused a second
// time, log in with a recovery code, and see that code refused a second
// time too.
func TestBrowserTwoFactor(t *testing.T) {
	chromium := testenv.Require(t, testenv.Chromium)
	ta, clk := newTwoFactorApp(t, false)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	base := ta.srv.URL
	artifacts := artifactsDir(t)
	b := startBrowser(t, chromium, t.TempDir())

	login := func() {
		t.Helper()
		b.open(base + "/login")
		b.fill(`input[name="login"]`, "ann")
		b.fill(`input[name="password"]`, "correct horse")
		b.submit(`main form button[type="submit"]`)
		b.wantPath("/login/2fa")
		b.wantText("h1", "Two-factor authentication")
	}
	logout := func() {
		t.Helper()
		b.submit(`header form[action="/logout"] button`)
		b.wantPath("/")
	}

	// Log in (no second factor yet) and turn it on.
	b.open(base + "/login")
	b.fill(`input[name="login"]`, "ann")
	b.fill(`input[name="password"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText("#twofactor-status", "Off.")
	b.open(base + "/account/2fa")
	b.wantText("h1", "Turn on two-factor authentication")
	if w := runStep(b, "QR code width", chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); w < 100 {
		t.Fatalf("the QR code image did not load (naturalWidth %d)", w)
	}
	b.screenshot(filepath.Join(artifacts, "2fa-enable.png"))
	secret := strings.TrimSpace(b.text("#totp-secret"))
	b.fill(`input[name="code"]`, clk.code(t, secret))
	b.submit(`main form button[type="submit"]`)
	b.wantText("h1", "Your recovery codes")
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10: %q", len(codes), codes)
	}
	b.open(base + "/account")
	b.wantText("#twofactor-status", "On: authenticator app")
	logout()

	// Password and a code.
	clk.nextStep()
	login()
	b.screenshot(filepath.Join(artifacts, "2fa-login.png"))
	code := clk.code(t, secret)
	b.fill(`#totp-form input[name="code"]`, code)
	b.submit(`#totp-form button`)
	b.wantPath("/account")
	b.wantText("#username", "ann")
	logout()

	// The same code a second time is refused.
	login()
	b.fill(`#totp-form input[name="code"]`, code)
	b.submit(`#totp-form button`)
	b.wantPath("/login/2fa")
	b.wantText("#twofactor-error", "That code is not valid")
	b.open(base + "/account")
	b.wantPath("/login")

	// A recovery code, once.
	login()
	b.fill(`#recovery-form input[name="recovery"]`, codes[0])
	b.submit(`#recovery-form button`)
	b.wantPath("/account")
	b.wantText("#recovery-left", "9")
	logout()
	login()
	b.fill(`#recovery-form input[name="recovery"]`, codes[0])
	b.submit(`#recovery-form button`)
	b.wantPath("/login/2fa")
	b.wantText("#twofactor-error", "That code is not valid")
}
