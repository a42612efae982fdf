package loginkit_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// gateHasher is testHasher whose next Verify, once armed, stops until the
// test opens the gate: a login held mid-check while the test changes the
// account.
type gateHasher struct {
	testHasher
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func (g *gateHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if g.armed.CompareAndSwap(true, false) {
		g.reached <- struct{}{}
		<-g.release
	}
	return g.testHasher.Verify(ctx, pw, encoded)
}

// TestLoginCannotUndoConcurrentReset checks that a login whose password
// check overlaps an administrator's password reset and disable writes
// nothing stale back: the reset, the disable and the session-version bump
// all stand, and the old password no longer logs in.
func TestLoginCannotUndoConcurrentReset(t *testing.T) {
	g := &gateHasher{reached: make(chan struct{}), release: make(chan struct{})}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Hasher(g) })
	ann := a.register("ann", "old-password-1")
	ctx := context.Background()

	var loginErr error
	var wg sync.WaitGroup
	g.armed.Store(true)
	wg.Go(func() { _, loginErr = a.m.Authenticate(ctx, "ann", "old-password-1") })
	<-g.reached // the login is inside Verify, holding its copy of ann
	stored, err := a.users.LoadUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored.Disabled = true
	if err := a.users.Update(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := a.m.SetPassword(ctx, stored, "new-password-2"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	wg.Wait()

	if !errors.Is(loginErr, loginkit.ErrInvalidCredentials) {
		t.Fatalf("login with the old password across a reset: %v, want ErrInvalidCredentials", loginErr)
	}
	now, err := a.users.LoadUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !now.Disabled || now.SessionVersion != stored.SessionVersion || now.PasswordHash != stored.PasswordHash || !now.LastLoginAt.IsZero() {
		t.Fatalf("the login wrote a stale copy back: disabled %v, version %d (want %d), hash reverted %v, last login %v",
			now.Disabled, now.SessionVersion, stored.SessionVersion, now.PasswordHash != stored.PasswordHash, now.LastLoginAt)
	}
}

// slowHasher makes each check take a while, so parallel logins overlap.
type slowHasher struct{ testHasher }

func (s slowHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	time.Sleep(2 * time.Millisecond)
	return s.testHasher.Verify(ctx, pw, encoded)
}

func TestParallelWrongPasswordsAreAllCounted(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hasher(slowHasher{})
		b.Policies(policies.Lockout(5, 15*time.Minute, 15*time.Minute))
	})
	ann := a.register("ann", "pw-ann-123")
	const guesses = 20
	var wg sync.WaitGroup
	for range guesses {
		wg.Go(func() { _, _ = a.m.Authenticate(context.Background(), "ann", "wrong") })
	}
	wg.Wait()
	u, err := a.users.LoadUser(context.Background(), ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Every password check is counted; the guesses beyond the limit are
	// refused before any check (see TestLockoutBoundsConcurrentGuesses).
	if u.FailedLogins != 5 || !u.LockedUntil.After(a.clock.Now()) {
		t.Fatalf("%d parallel wrong guesses: FailedLogins %d, locked until %v; want 5 and locked", guesses, u.FailedLogins, u.LockedUntil)
	}
	if _, err := a.m.Authenticate(context.Background(), "ann", "pw-ann-123"); !errors.Is(err, loginkit.ErrLocked) {
		t.Fatalf("right password after the burst: %v, want ErrLocked", err)
	}
}

func TestReauthenticateObeysLockout(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	for i := 0; i < 3; i++ {
		if res := b.do("POST", "/reauth", "password=wrong"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong reauth %d: %d", i, res.StatusCode)
		}
	}
	res := b.do("POST", "/reauth", "password=pw-ann-123")
	if got := body(res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(got, loginkit.ErrLocked.Error()) {
		t.Fatalf("right password after 3 wrong reauths: %d %q, want ErrLocked", res.StatusCode, got)
	}
}

func TestRememberTheftEndsCookieSessions(t *testing.T) {
	cs, err := cookiestore.New(cookiestore.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	thefts := 0
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Sessions(cs)
		b.Remember(loginkit.RememberOptions{Grace: 30 * time.Second})
		b.Hooks(loginkit.Hooks[*user]{RememberTheft: func(*http.Request, string) { thefts++ }})
	})
	a.register("ann", "pw-ann-123")
	victim := a.browser()
	victim.mustLogin("ann", "pw-ann-123", true)
	thief := victim.clone()
	thief.restart()
	wantWho(t, thief, "user:ann:stale") // the thief uses the copy first and gets a sealed session
	a.clock.Advance(time.Minute)
	victim.restart()
	wantWho(t, victim, "anonymous") // the victim's cookie was rotated away: theft
	if thefts != 1 {
		t.Fatalf("RememberTheft ran %d times, want 1", thefts)
	}
	wantWho(t, thief, "anonymous") // the thief's stateless session died with the version bump
}

func TestOldRememberCookieDeadAfterLogout(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Remember(loginkit.RememberOptions{Grace: time.Minute})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	old := b.clone()
	old.restart()
	b.restart()
	wantWho(t, b, "user:ann:stale") // rotates the remember token
	a.clock.Advance(10 * time.Second)
	if res := b.do("POST", "/logout", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	a.clock.Advance(10 * time.Second) // still inside the grace window
	wantWho(t, old, "anonymous")
}

func TestSelectorAloneDeletesNoToken(t *testing.T) {
	a := newApp(t)
	ann := a.register("ann", "pw-ann-123")
	secret, tok, err := loginkit.IssueToken(context.Background(), a.tokens, ann.ID, loginkit.PurposeRemember, ann.SessionVersion, time.Hour)
	if err != nil || secret == "" {
		t.Fatal(err)
	}
	mallory := a.browser()
	mallory.cookies[rememberCookie] = &http.Cookie{Name: rememberCookie, Value: tok.Selector + "." + strings.Repeat("A", 43)}
	_ = mallory.do("POST", "/logout", "")
	if _, err := a.tokens.Get(context.Background(), tok.Selector); err != nil {
		t.Fatalf("a logout carrying only a known selector deleted the token: %v", err)
	}
}

func TestRegisterRefusesEmailWithoutAt(t *testing.T) {
	a := newApp(t)
	a.register("bob", "pw-bob-123")
	u := &user{Name: "mallory"}
	u.Email, u.Username = "BOB", "mallory"
	if err := a.m.Register(context.Background(), u, "pw-mallory-1"); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf(`Register with email "BOB": %v, want ErrInvalid`, err)
	}
	if got, err := a.m.Authenticate(context.Background(), "bob", "pw-bob-123"); err != nil || got.Name != "bob" {
		t.Fatalf("bob's own login: %v, %v", got, err)
	}
}

func TestUnreadableHashIsPlainInvalidCredentials(t *testing.T) {
	a := newApp(t)
	ann := a.register("ann", "pw-ann-123")
	ann.PasswordHash = "$unknown$format"
	if err := a.users.Update(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	_, err := a.m.Authenticate(context.Background(), "ann", "pw-ann-123")
	if err != loginkit.ErrInvalidCredentials {
		t.Fatalf("a stored hash the hasher cannot read: %v, want exactly ErrInvalidCredentials (no detail for the client)", err)
	}
}

func TestBuildRefusesTouchIntervalNotBelowIdle(t *testing.T) {
	_, err := loginkit.New[*user]().Users(newApp(t).users).Sessions(newApp(t).sessions).Hasher(testHasher{}).
		Timeouts(time.Hour, 2*time.Hour).TouchInterval(time.Hour).Build()
	if !errors.Is(err, loginkit.ErrConfig) {
		t.Fatalf("TouchInterval equal to the idle timeout: %v, want ErrConfig", err)
	}
}
