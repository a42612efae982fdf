package loginkit_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// A phone moving from Wi-Fi to mobile data changes its IP: under
// ProtectionBasic the session turns stale, and re-entering the password
// must make it fresh again for that client, not loop on /reauth.
func TestReauthenticateAfterNetworkChangeMakesSessionFresh(t *testing.T) {
	a := newApp(t) // ProtectionBasic is the default
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	b.addr = "198.51.100.7:1234"
	b.userAgent = "TestBrowser/1.0 (mobile)"
	wantWho(t, b, "user:ann:stale")
	if res := b.do("POST", "/reauth", "password=pw-ann-123&next=/fresh"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: %d", res.StatusCode)
	}
	for range 2 {
		if got := body(b.get("/fresh")); got != "user:ann:fresh" {
			t.Fatalf("after reauth from the new network, /fresh = %q; want the fresh page", got)
		}
	}
	// The original network is now the changed one.
	b.addr = "192.0.2.10:40000"
	b.userAgent = "TestBrowser/1.0"
	wantWho(t, b, "user:ann:stale")
}

// "Remember me on this shared computer for an hour" must not become the
// default month at the first restore, which rotates the token.
func TestRememberForSurvivesRotation(t *testing.T) {
	a := newApp(t)
	u := a.register("ann", "pw-ann-123")
	b := a.browser()
	loginAt := a.clock.Now()
	if res := b.do("POST", "/login", "login=ann&password=pw-ann-123&remember=1&remember_for=1h"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	for i, step := range []time.Duration{10 * time.Minute, 20 * time.Minute, 20 * time.Minute} {
		a.clock.Advance(step)
		b.restart()
		wantWho(t, b, "user:ann:stale") // each restore rotates the token
		c := b.cookies[rememberCookie]
		if c == nil {
			t.Fatalf("restore %d: no remember cookie", i)
		}
		left := loginAt.Add(time.Hour).Sub(a.clock.Now())
		if got := time.Duration(c.MaxAge) * time.Second; got > left+time.Second {
			t.Fatalf("restore %d: rotated cookie lives %v, but the login asked for an hour (%v left)", i, got, left)
		}
		toks, err := a.tokens.ListByUser(context.Background(), u.ID, loginkit.PurposeRemember)
		if err != nil || len(toks) != 1 {
			t.Fatalf("restore %d: remember tokens %v, %v", i, toks, err)
		}
		if !toks[0].ExpiresAt.Equal(loginAt.Add(time.Hour)) {
			t.Fatalf("restore %d: rotated token expires at %v, want the login's deadline %v", i, toks[0].ExpiresAt, loginAt.Add(time.Hour))
		}
	}
	a.clock.Advance(11 * time.Minute) // past the hour
	b.restart()
	wantWho(t, b, "anonymous")
}
