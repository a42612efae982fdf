package loginkit_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

func TestBuildRefusesEqualCookieNames(t *testing.T) {
	for _, c := range []loginkit.CookieOptions{
		{SessionName: "auth", RememberName: "auth"},
		{SessionName: "__Host-remember"},
		{RememberName: "session", Insecure: true},
	} {
		_, err := loginkit.New[*user]().Loader(memstore.NewUsers[user]()).Sessions(memstore.NewSessions()).
			Cookies(c).Development(true).Build()
		if !isErr(err, loginkit.ErrConfig) || !strings.Contains(err.Error(), "different names") {
			t.Errorf("%+v: Build = %v, want ErrConfig about the names", c, err)
		}
	}
}

func TestCookieNamesFollowTheConfiguration(t *testing.T) {
	for _, c := range []struct {
		opts             loginkit.CookieOptions
		session, remembr string
	}{
		{loginkit.CookieOptions{}, "__Host-session", "__Host-remember"},
		{loginkit.CookieOptions{Path: "/"}, "__Host-session", "__Host-remember"},
		{loginkit.CookieOptions{Domain: "example.com"}, "session", "remember"},
		{loginkit.CookieOptions{Path: "/app"}, "session", "remember"},
		{loginkit.CookieOptions{Insecure: true}, "session", "remember"},
		{loginkit.CookieOptions{SessionName: "sid"}, "sid", "__Host-remember"},
	} {
		m, err := loginkit.New[*user]().Loader(memstore.NewUsers[user]()).Sessions(memstore.NewSessions()).
			Cookies(c.opts).Development(true).Build()
		if err != nil {
			t.Fatal(err)
		}
		if s, r := m.CookieNames(); s != c.session || r != c.remembr {
			t.Errorf("%+v: names %q %q, want %q %q", c.opts, s, r, c.session, c.remembr)
		}
	}
}

// TestBuilderClockReachesStores: with a test clock on the builder, the
// memstore and cookiestore stores expire tokens and sessions by the same
// clock as the manager.
func TestBuilderClockReachesStores(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Remember(loginkit.RememberOptions{Duration: time.Hour}) })
	ann := a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	ctx := context.Background()
	if toks, err := a.tokens.ListByUser(ctx, ann.ID, loginkit.PurposeRemember); err != nil || len(toks) != 1 {
		t.Fatalf("remember tokens after login: %v %v", toks, err)
	}
	// An hour and a minute later by the builder's clock (the app's), the
	// store itself no longer has the token or the session.
	a.clock.Advance(61 * time.Minute)
	if toks, err := a.tokens.ListByUser(ctx, ann.ID, loginkit.PurposeRemember); err != nil || len(toks) != 0 {
		t.Fatalf("remember tokens an hour later by the builder's clock: %v %v, want none", toks, err)
	}

	cs, err := cookiestore.New(make([]byte, cookiestore.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	if _, err := loginkit.New[*user]().Loader(memstore.NewUsers[user]()).Sessions(cs).Clock(clock.Now).Build(); err != nil {
		t.Fatal(err)
	}
	s := &loginkit.Session{Key: "k", UserID: "u", ExpiresAt: clock.Now().Add(time.Minute), AbsoluteExpiresAt: clock.Now().Add(time.Hour)}
	v, err := cs.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Open(v); err != nil {
		t.Fatalf("fresh sealed session: %v", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := cs.Open(v); !isErr(err, loginkit.ErrNotFound) {
		t.Fatalf("sealed session two minutes later by the builder's clock: %v, want ErrNotFound", err)
	}
}

// TestNewHooks: LoginConfirmed runs after a re-authentication, and a hook
// run while the login loads may itself ask for the current user.
func TestNewHooks(t *testing.T) {
	var events []string
	var m *loginkit.Manager[*user]
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hooks(loginkit.Hooks[*user]{
			LoginConfirmed: func(_ *http.Request, u *user) { events = append(events, "confirmed:"+u.Name) },
			RememberRestored: func(r *http.Request, u *user) {
				cur, ok := m.CurrentUser(r)
				events = append(events, "restored:"+u.Name+":"+strconv.FormatBool(ok && cur == u))
			},
		})
	})
	m = a.m
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	wantWho(t, b, "user:ann:stale")
	if res := b.do("POST", "/reauth", "password=pw-ann-123"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: %d %s", res.StatusCode, body(res))
	}
	if got := strings.Join(events, " "); got != "restored:ann:true confirmed:ann" {
		t.Fatalf("events = %q", got)
	}
}
