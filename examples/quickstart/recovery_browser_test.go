package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/loginkit/loginkit/internal/testenv"
	lkmail "github.com/loginkit/loginkit/mail"
)

// newMailTestApp starts an app that sends its mail through the test SMTP
// server (Mailpit), with links built on the test server's own URL, and
// returns it with the server's mailbox.
func newMailTestApp(t *testing.T) (*testApp, *testenv.Mailbox) {
	t.Helper()
	smtpURL := testenv.Require(t, testenv.SMTPURL)
	mb := testenv.OpenMailbox(t)
	cfg, err := lkmail.ParseSMTPURL(smtpURL + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := lkmail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "quickstart.db")
	st, closeDB, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	a, err := NewApp(st, Options{
		Hasher:          testHasher(t),
		Policies:        defaultPolicies(),
		InsecureCookies: true,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mailer:          mailer,
		BaseURL:         "http://" + srv.Listener.Addr().String(),
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.rc.Wait()
		closeDB()
	})
	return &testApp{t: t, app: a, stores: st, srv: srv, dbPath: path}, mb
}

// randomSuffix returns 10 random hex digits, for addresses no other test
// uses on the shared mail server.
func randomSuffix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var mailLink = regexp.MustCompile(`https?://\S+token=[A-Za-z0-9._-]+`)

// linkFrom returns the link in the newest of n messages to addr.
func linkFrom(t *testing.T, mb *testenv.Mailbox, addr string, n int, subject string) string {
	t.Helper()
	msgs := mb.Wait(t, addr, n)
	if len(msgs) != n {
		t.Fatalf("%d messages to %s, want %d", len(msgs), addr, n)
	}
	if !strings.Contains(msgs[0].Subject, subject) {
		t.Fatalf("newest message to %s: subject %q, want %q", addr, msgs[0].Subject, subject)
	}
	l := mailLink.FindString(msgs[0].Text)
	if l == "" || !strings.Contains(msgs[0].HTML, strings.ReplaceAll(l, "&", "&amp;")) {
		t.Fatalf("no link in text %q or not the same in HTML %q", msgs[0].Text, msgs[0].HTML)
	}
	return l
}

// TestBrowserConfirmationAndReset drives the quickstart in headless
// Chromium with mail delivered by SMTP to a real mail server: register,
// see the "unconfirmed" banner, ask for a new link, confirm the address
// with it, then log out, follow "Forgot your password?", reset the
// password from the emailed link, and log in with the new password.
func TestBrowserConfirmationAndReset(t *testing.T) {
	chromium := testenv.Require(t, testenv.Chromium)
	ta, mb := newMailTestApp(t)
	base := ta.srv.URL
	artifacts := artifactsDir(t)
	name := "zoe" + randomSuffix()
	email := name + "@example.com"

	b := startBrowser(t, chromium, t.TempDir())
	b.open(base + "/register")
	b.fill(`input[name="username"]`, name)
	b.fill(`input[name="email"]`, email)
	b.fill(`input[name="password"]`, "correct horse")
	b.fill(`input[name="confirm"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText("#unconfirmed", "is unconfirmed")
	first := linkFrom(t, mb, email, 1, "Confirm your email address")
	if !strings.HasPrefix(first, base+"/confirm?token=") {
		t.Fatalf("confirmation link %s does not start with %s", first, base)
	}

	// The banner's button sends a new link, which voids the first.
	b.submit(`#resend`)
	b.wantPath("/account")
	b.wantText(".flash", "We sent a new confirmation link")
	second := linkFrom(t, mb, email, 2, "Confirm your email address")
	b.open(first)
	b.wantText("main", "invalid or has expired")
	b.open(second)
	b.wantText("#confirm-email", email)
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText(".flash", "your email address is confirmed")
	if n := runStep(b, "count banners", chromedp.Evaluate[int](`document.querySelectorAll("#unconfirmed").length`)); n != 0 {
		t.Fatalf("the unconfirmed banner is still shown")
	}
	if u := ta.user(email); !u.EmailConfirmed() {
		t.Fatalf("stored user not confirmed: %+v", u.Account)
	}

	// Log out, then reset the password from the login page.
	b.submit(`header form[action="/logout"] button`)
	b.open(base + "/login")
	b.submit(`#forgot`)
	b.wantPath("/forgot")
	b.fill(`input[name="login"]`, name)
	b.submit(`main form button[type="submit"]`)
	b.wantText("#forgot-sent", "If an account exists for that name")
	b.screenshot(filepath.Join(artifacts, "forgot.png"))
	reset := linkFrom(t, mb, email, 3, "Reset your loginkit quickstart password")
	if !strings.HasPrefix(reset, base+"/reset?token=") {
		t.Fatalf("reset link %s does not start with %s", reset, base)
	}
	b.open(reset)
	b.wantText("h1", "Choose a new password")
	b.fill(`input[name="password"]`, "new battery staple")
	b.fill(`input[name="confirm"]`, "new battery staple")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/login")
	b.wantText(".flash", "Your password was reset")

	// The link worked once.
	b.open(reset)
	b.wantText("main", "invalid or has expired")

	b.open(base + "/login")
	b.fill(`input[name="login"]`, email)
	b.fill(`input[name="password"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantText("#login-error", "Invalid username or password")
	b.open(base + "/login")
	b.fill(`input[name="login"]`, email)
	b.fill(`input[name="password"]`, "new battery staple")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.wantText("#email", email)
}
