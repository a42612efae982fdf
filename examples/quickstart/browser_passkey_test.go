package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/loginkit/loginkit/internal/testenv"
)

// newPasskeyApp starts an app with second factors and passkeys on a fresh
// database, served at http://localhost:<port> (browsers refuse passkeys
// on an IP address).
func newPasskeyApp(t *testing.T) (*testApp, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quickstart.db")
	st, closeDB, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	origin := "http://localhost:" + port
	a, err := NewApp(st, Options{
		Hasher:          testHasher(t),
		Policies:        defaultPolicies(),
		InsecureCookies: true,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		SecondFactorKey: make([]byte, 32),
		PasskeyOrigin:   origin,
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Handler()}}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		closeDB()
	})
	return &testApp{t: t, app: a, stores: st, srv: srv, dbPath: path}, origin
}

// addAuthenticator gives the browser's tab a virtual CTAP2 authenticator
// with resident keys and user verification (Chromium's DevTools WebAuthn
// domain) and returns its ID.
func (b *browser) addAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// waitPath waits until the browser is at path (a script navigates).
func (b *browser) waitPath(path string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if u, perr := url.Parse(loc); err == nil && perr == nil && u.Path == path {
			b.do("wait for the page", chromedp.WaitReady(chromedp.CSS("body")))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.wantPath(path)
}

// waitText waits until the text of sel contains want, reading again
// while a script navigates the page away under it.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(spaces.ReplaceAllString(got, " "), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.wantText(sel, want)
}

// TestBrowserPasskey drives passkeys in real headless Chromium with a
// virtual authenticator: register one after a password login, rename it, log out,
// sign in with it and no username, use it as the second factor after the
// password, and delete it. A second browser whose own virtual
// authenticator holds a credential with the same ID and user handle, but
// another key, is refused.
func TestBrowserPasskey(t *testing.T) {
	chromium := testenv.Require(t, testenv.Chromium)
	ta, base := newPasskeyApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	artifacts := artifactsDir(t)
	b := startBrowser(t, chromium, t.TempDir())
	b.open(base + "/login")
	auth := b.addAuthenticator()

	logout := func() {
		t.Helper()
		b.submit(`header form[action="/logout"] button`)
		b.wantPath("/")
	}

	// Password login, then add a passkey on the passkeys page.
	b.fill(`input[name="login"]`, "ann")
	b.fill(`input[name="password"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/account")
	b.click("#manage-passkeys")
	b.waitPath("/account/passkeys")
	b.wantText("#no-passkeys", "No passkeys yet")
	b.do("name the passkey", chromedp.SetValue(chromedp.CSS("#passkey-name"), "Test laptop"))
	b.click("#passkey-add")
	b.waitText(".flash", "Passkey added")
	b.screenshot(filepath.Join(artifacts, "passkeys.png"))
	if v := runStep(b, "passkey name", chromedp.Value(chromedp.CSS(`#passkeys input[name="name"]`))); v != "Test laptop" {
		t.Fatalf("passkey listed as %q, want Test laptop", v)
	}
	b.do("rename the passkey", chromedp.SetValue(chromedp.CSS(`#passkeys input[name="name"]`), "Work laptop"))
	b.submit(`#passkeys button.rename`)
	b.wantText(".flash", "Passkey renamed")
	if v := runStep(b, "passkey name", chromedp.Value(chromedp.CSS(`#passkeys input[name="name"]`))); v != "Work laptop" {
		t.Fatalf("renamed passkey listed as %q, want Work laptop", v)
	}
	// The page fits a 390 px phone screen (the rest of the test runs on it).
	b.do("390 px viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	b.open(base + "/account/passkeys")
	if wide := runStep(b, "page width", chromedp.Evaluate[int](`Math.max(window.innerWidth, document.documentElement.scrollWidth, document.body.scrollWidth)`)); wide > 390 {
		t.Errorf("/account/passkeys is %d px wide on a 390 px screen", wide)
	}
	b.screenshot(filepath.Join(artifacts, "passkeys-390.png"))
	creds := b.credentials(auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the virtual authenticator holds %d credentials (%+v), want one discoverable", len(creds), creds)
	}
	logout()

	// Sign in with the passkey, no username typed.
	b.open(base + "/login")
	b.click("#passkey-login")
	b.waitPath("/account")
	b.wantText("#username", "ann")
	logout()

	// The password now asks for the second factor; the passkey gives it.
	b.open(base + "/login")
	b.fill(`input[name="login"]`, "ann")
	b.fill(`input[name="password"]`, "correct horse")
	b.submit(`main form button[type="submit"]`)
	b.wantPath("/login/2fa")
	b.click("#passkey-2fa")
	b.waitPath("/account")
	b.wantText("#username", "ann")

	// Another browser, another authenticator, the same credential ID and
	// user handle under a key of its own: refused.
	other := startBrowser(t, chromium, t.TempDir())
	other.open(base + "/login")
	otherAuth := other.addAuthenticator()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(other.ctx, stepTimeout)
	_, err = chromedp.Call(ctx, webauthn.AddCredential, webauthn.AddCredentialParams{
		AuthenticatorID: otherAuth,
		Credential: &webauthn.Credential{
			CredentialID: creds[0].CredentialID, IsResidentCredential: true, RpID: "localhost",
			PrivateKey: pkcs8, UserHandle: creds[0].UserHandle, SignCount: 100,
		},
	})
	cancel()
	if err != nil {
		t.Fatalf("WebAuthn.addCredential: %v", err)
	}
	other.click("#passkey-login")
	other.waitText("#passkey-status", "That passkey was not accepted")
	other.wantPath("/login")
	other.open(base + "/account")
	other.wantPath("/login")

	// Delete the passkey (the session is fresh from the login above).
	b.open(base + "/account/passkeys")
	b.submit(`#passkeys button.remove`)
	b.wantPath("/account/passkeys")
	b.wantText(".flash", "Passkey removed")
	b.wantText("#no-passkeys", "No passkeys yet")
	logout()
	b.open(base + "/login")
	b.click("#passkey-login")
	b.waitText("#passkey-status", "That passkey was not accepted")
	b.wantPath("/login")
}
