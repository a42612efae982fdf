package loginkit_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/policies"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// faultyTokens fails the n-th call made to it after arm, once: a
// transient store failure at every possible point of a remember restore.
type faultyTokens struct {
	loginkit.TokenStore
	mu      sync.Mutex
	calls   int
	failAt  int // 0: disarmed
	failed  bool
	failing string
	// lost makes a failing write happen before the error is returned, as
	// when the store's reply is lost.
	lost bool
}

var errTransient = errors.New("transient token store failure")

func (f *faultyTokens) arm(n int) {
	f.mu.Lock()
	f.calls, f.failAt, f.failed = 0, n, false
	f.mu.Unlock()
}

func (f *faultyTokens) disarm() {
	f.mu.Lock()
	f.failAt = 0
	f.mu.Unlock()
}

func (f *faultyTokens) fault(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAt == 0 {
		return nil
	}
	f.calls++
	if f.calls == f.failAt {
		f.failed, f.failing = true, op
		return errTransient
	}
	return nil
}

func (f *faultyTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if err := f.fault("Create"); err != nil {
		if f.lost {
			_ = f.TokenStore.Create(ctx, t)
		}
		return err
	}
	return f.TokenStore.Create(ctx, t)
}

func (f *faultyTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	if err := f.fault("Get"); err != nil {
		return nil, err
	}
	return f.TokenStore.Get(ctx, sel)
}

func (f *faultyTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	if err := f.fault("Consume"); err != nil {
		if f.lost {
			_, _ = f.TokenStore.Consume(ctx, sel)
		}
		return nil, err
	}
	return f.TokenStore.Consume(ctx, sel)
}

func (f *faultyTokens) Delete(ctx context.Context, sel string) error {
	if err := f.fault("Delete"); err != nil {
		if f.lost {
			_ = f.TokenStore.Delete(ctx, sel)
		}
		return err
	}
	return f.TokenStore.Delete(ctx, sel)
}

func (f *faultyTokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	if err := f.fault("DeleteByUser"); err != nil {
		return 0, err
	}
	return f.TokenStore.DeleteByUser(ctx, userID, purpose)
}

// A transient token store failure while a remember cookie is restored
// must never turn the browser's legitimate cookie into a "stolen" one:
// after the grace window the browser still gets in, RememberTheft does
// not fire, and the user's other sessions live on. Each run fails a
// different call of the restore, with the write either not done or done
// and its reply lost.
func TestTransientRememberFailureIsNotTheft(t *testing.T) {
	for _, lost := range []bool{false, true} {
		testTransientRememberFailure(t, lost)
	}
}

func testTransientRememberFailure(t *testing.T, lost bool) {
	for n := 1; ; n++ {
		var thefts int
		faulty := &faultyTokens{TokenStore: memstore.NewTokens(), lost: lost}
		a := newApp(t, func(b *loginkit.Builder[*user]) {
			b.Tokens(faulty)
			b.Hooks(loginkit.Hooks[*user]{RememberTheft: func(*http.Request, string) { thefts++ }})
		})
		a.register("ann", "pw-ann-123")
		other := a.browser()
		other.userAgent = "OtherDevice/1.0"
		other.mustLogin("ann", "pw-ann-123", false)
		b := a.browser()
		b.mustLogin("ann", "pw-ann-123", true)
		b.restart()
		faulty.arm(n)
		got := b.whoami() // the restore, with its n-th token call failing
		faulty.disarm()
		if !faulty.failed {
			if n == 1 {
				t.Fatal("the restore made no token store call")
			}
			return // every call of the restore has been failed once
		}
		t.Run(fmt.Sprintf("fail_%d_%s_lost=%v", n, faulty.failing, lost), func(t *testing.T) {
			if got != "user:ann:stale" && got != "anonymous" {
				t.Fatalf("restore with a failing store: %q", got)
			}
			// 2 minutes: twice the default grace window.
			for _, wait := range []time.Duration{0, 2 * time.Minute} {
				a.clock.Advance(wait)
				b.restart()
				if got := b.whoami(); got != "user:ann:stale" {
					t.Fatalf("%v after the failed restore, the browser's own cookie gives %q", wait, got)
				}
			}
			if thefts != 0 {
				t.Fatalf("RememberTheft fired %d times after a transient failure", thefts)
			}
			wantWho(t, other, "user:ann:fresh")
		})
	}
}

// countingSlowHasher is testHasher counting its checks, each taking a
// little time so that concurrent ones overlap.
type countingSlowHasher struct {
	testHasher
	checks atomic.Int64
}

func (h *countingSlowHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	h.checks.Add(1)
	time.Sleep(3 * time.Millisecond)
	return h.testHasher.Verify(ctx, pw, encoded)
}

// A login whose password check was in flight when a burst of wrong
// guesses locked the account fails, even with the right password, and
// leaves the lock in place.
func TestLoginInFlightWhenLockLandsFailsAndKeepsLock(t *testing.T) {
	g := &gateHasher{reached: make(chan struct{}), release: make(chan struct{})}
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hasher(g)
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	ann := a.register("ann", "pw-ann-123")
	ctx := context.Background()
	var loginErr error
	var wg sync.WaitGroup
	g.armed.Store(true)
	wg.Go(func() { _, loginErr = a.m.Authenticate(ctx, "ann", "pw-ann-123") })
	<-g.reached // the right password is being checked
	for range 2 {
		if _, err := a.m.Authenticate(ctx, "ann", "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("wrong guess: %v", err)
		}
	}
	if _, err := a.m.Authenticate(ctx, "ann", "wrong"); !errors.Is(err, loginkit.ErrLocked) {
		t.Fatalf("a fourth check while three are counted: %v; want ErrLocked", err)
	}
	close(g.release)
	wg.Wait()
	if !errors.Is(loginErr, loginkit.ErrLocked) {
		t.Fatalf("the right password in flight when the lock landed: %v; want ErrLocked", loginErr)
	}
	stored, err := a.users.LoadUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.FailedLogins != 3 || !stored.LockedUntil.After(a.clock.Now()) {
		t.Fatalf("the in-flight login cleared the lock: failed %d, locked until %v", stored.FailedLogins, stored.LockedUntil)
	}
}

// The last of the allowed checks may be the right password: a
// lockout after n failures still lets n-1 failures and a success in.
func TestRightPasswordOnLastAllowedCheckLogsIn(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	a.register("ann", "pw-ann-123")
	ctx := context.Background()
	for range 2 {
		if _, err := a.m.Authenticate(ctx, "ann", "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("wrong guess: %v", err)
		}
	}
	u, err := a.m.Authenticate(ctx, "ann", "pw-ann-123")
	if err != nil {
		t.Fatalf("right password on the third check: %v", err)
	}
	if u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Fatalf("after success: failed %d, locked until %v", u.FailedLogins, u.LockedUntil)
	}
}

// Re-authentication from a logged-in (perhaps stolen) session obeys the
// same bound: a burst of concurrent wrong passwords costs at most limit
// checks, and the right one is then refused by Reauthenticate and
// ChangePassword until the lock ends.
func TestReauthenticationBoundsConcurrentGuesses(t *testing.T) {
	h := &countingSlowHasher{}
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hasher(h)
		b.Policies(policies.Lockout(5, 15*time.Minute, 15*time.Minute))
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	h.checks.Store(0)
	const guesses = 60
	var wg sync.WaitGroup
	for i := range guesses {
		req := b.request("POST", "/reauth", "password=wrong")
		if i%2 == 1 {
			req = b.request("POST", "/password", "current=wrong&new=whatever-123")
		}
		wg.Go(func() { a.handler.ServeHTTP(httptest.NewRecorder(), req) })
	}
	wg.Wait()
	if n := h.checks.Load(); n > 5 {
		t.Fatalf("%d concurrent wrong re-authentications made %d password checks; want at most 5", guesses, n)
	}
	res := b.do("POST", "/reauth", "password=pw-ann-123")
	if got := body(res); !strings.Contains(got, loginkit.ErrLocked.Error()) {
		t.Fatalf("right password while locked: %d %q; want ErrLocked", res.StatusCode, got)
	}
	res = b.do("POST", "/password", "current=pw-ann-123&new=whatever-123")
	if got := body(res); !strings.Contains(got, loginkit.ErrLocked.Error()) {
		t.Fatalf("password change while locked: %d %q; want ErrLocked", res.StatusCode, got)
	}
	a.clock.Advance(16 * time.Minute)
	if res := b.do("POST", "/reauth", "password=pw-ann-123"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the lock: %d %q", res.StatusCode, body(res))
	}
}

// countingFinds counts the user store's FindByLogin calls.
type countingFinds struct {
	*memstore.Users[user, *user]
	finds atomic.Int64
}

func (c *countingFinds) FindByLogin(ctx context.Context, login string) (*user, error) {
	c.finds.Add(1)
	return c.Users.FindByLogin(ctx, login)
}

// countingHasher is testHasher counting its checks.
type countingHasher struct {
	testHasher
	checks atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	h.checks.Add(1)
	return h.testHasher.Verify(ctx, pw, encoded)
}

// hostileNames are login names no account can have: controls, NUL,
// invisible and bidirectional-control characters, unassigned code points
// and invalid UTF-8.
var hostileNames = []string{
	"a\x00", "ann\x00@example.com", "adm\u200bin", "ann\u200d", "ann\u202eevil", "ann\u2066",
	"an\u00adn", "ann\x07", "ann\tsmith", "ann\u0378", "ann\xff", "\ufeffann",
}

// Hostile login names are wrong credentials, refused before the store is
// asked (a SQL driver refuses a NUL byte with an error that would
// otherwise surface as a store failure), after the same password work
// as an unknown login.
func TestHostileLoginNamesAreInvalidCredentialsBeforeStore(t *testing.T) {
	users := &countingFinds{Users: memstore.NewUsers[user]()}
	h := &countingHasher{}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Users(users).Hasher(h) })
	a.register("ann", "pw-ann-123")
	ctx := context.Background()
	for _, name := range hostileNames {
		users.finds.Store(0)
		h.checks.Store(0)
		if _, err := a.m.Authenticate(ctx, name, "pw-ann-123"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%q): %v; want ErrInvalidCredentials", name, err)
		}
		if n := users.finds.Load(); n != 0 {
			t.Errorf("Authenticate(%q) asked the store %d times", name, n)
		}
		if n := h.checks.Load(); n != 1 {
			t.Errorf("Authenticate(%q) made %d password checks; want the 1 of an unknown login", name, n)
		}
	}
	for _, pw := range []string{"pw-ann-123\x00", "pw-ann\u200b-123", "pw\xff"} {
		if _, err := a.m.Authenticate(ctx, "ann", pw); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Errorf("Authenticate(ann, %q): %v; want ErrInvalidCredentials", pw, err)
		}
	}
}

// Register refuses hostile login names and passwords with ErrInvalid,
// storing nothing; new names follow RFC 8265 (UsernameCaseMapped per
// space-separated part).
func TestRegisterRefusesHostileNamesAndPasswords(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	for _, name := range append(hostileNames, "ann🙂", "ﬁle", "ann\u2028x") {
		u := &user{}
		u.Username = name
		if err := a.m.Register(ctx, u, "pw-ann-123"); !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("Register(username %q): %v; want ErrInvalid", name, err)
		}
		u = &user{}
		u.Email = name + "@example.com"
		if err := a.m.Register(ctx, u, "pw-ann-123"); !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("Register(email %q): %v; want ErrInvalid", u.Email, err)
		}
	}
	for _, pw := range []string{"pw-ann-123\x00", "pw-ann\u200b-123", "pw\xff-ann-123", "pw\u202e-ann-123"} {
		u := &user{}
		u.Username = "ann"
		if err := a.m.Register(ctx, u, pw); !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("Register(password %q): %v; want ErrInvalid", pw, err)
		}
	}
	if _, n, _ := a.users.List(ctx, loginkit.ListOptions{}); n != 0 {
		t.Fatalf("%d users stored after refused registrations", n)
	}
	// What RFC 8265 allows still registers: other scripts, ASCII
	// punctuation, words separated by spaces, NFD input.
	for i, name := range []string{"Zoë", "josé.o'neil", "Ann Smith", "名前", "cafe\u0301"} {
		u := &user{}
		u.Username = name
		if err := a.m.Register(ctx, u, "pw-ann-123"); err != nil {
			t.Errorf("Register(username %q) #%d: %v", name, i, err)
		}
	}
}

// schemeHasher verifies "<scheme>$<password>" hashes, each scheme taking
// its own time, like imported hashes of other libraries at their own
// costs. Hash makes "fast$" hashes, as the manager's own scheme.
type schemeHasher map[string]time.Duration

func (h schemeHasher) Hash(_ context.Context, pw string) (string, error) { return "fast$" + pw, nil }

func (h schemeHasher) Verify(_ context.Context, pw, encoded string) (bool, error) {
	scheme, want, ok := strings.Cut(encoded, "$")
	cost, known := h[scheme]
	if !ok || !known {
		return false, loginkit.ErrUnknownHashFormat
	}
	time.Sleep(cost)
	if pw != want {
		return false, loginkit.ErrMismatch
	}
	return scheme != "fast", nil
}

// median returns the median of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// An unknown login must take as long as a wrong password, whatever the
// scheme of the stored hash: users imported with a slower (or faster)
// scheme than the manager's own must not be told apart by timing. The
// median-time ratio of unknown login to wrong password stays within
// 0.7–1.43 for each scheme, with users of every scheme in one store.
func TestUnknownLoginTakesAsLongAsWrongPasswordForEveryScheme(t *testing.T) {
	h := schemeHasher{"fast": 4 * time.Millisecond, "mid": 20 * time.Millisecond, "slow": 60 * time.Millisecond}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Hasher(h) })
	ctx := context.Background()
	schemes := []string{"fast", "mid", "slow"}
	for _, s := range schemes {
		u := &user{}
		u.Username, u.PasswordHash = "user-"+s, s+"$right"
		if err := a.users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	timeOf := func(login string) time.Duration {
		start := time.Now()
		if _, err := a.m.Authenticate(ctx, login, "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("Authenticate(%s): %v", login, err)
		}
		return time.Since(start)
	}
	for _, s := range schemes { // a server that has been running a while
		for range 3 {
			timeOf("user-" + s)
		}
	}
	const rounds = 15
	unknown := make([]time.Duration, 0, rounds)
	wrong := map[string][]time.Duration{}
	for i := range rounds {
		unknown = append(unknown, timeOf(fmt.Sprintf("nobody-%d", i)))
		for _, s := range schemes {
			wrong[s] = append(wrong[s], timeOf("user-"+s))
		}
	}
	mu := median(unknown)
	for _, s := range schemes {
		mw := median(wrong[s])
		ratio := float64(mu) / float64(mw)
		t.Logf("%s: unknown %v, wrong password %v, ratio %.2f", s, mu, mw, ratio)
		if ratio < 0.7 || ratio > 1.43 {
			t.Errorf("scheme %s: median unknown login %v vs wrong password %v: ratio %.2f, want 0.7–1.43", s, mu, mw, ratio)
		}
	}
}

// An inactive user who gives the right password is refused as inactive,
// and the check it reserved is refunded: its owner cannot lock it.
func TestRightPasswordOfInactiveUserIsNotCountedAsFailure(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	ann := a.register("ann", "pw-ann-123")
	ctx := context.Background()
	ann.Disabled = true
	if err := a.users.Update(ctx, ann); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := a.m.Authenticate(ctx, "ann", "pw-ann-123"); !errors.Is(err, loginkit.ErrInactive) {
			t.Fatalf("right password of an inactive user: %v; want ErrInactive", err)
		}
	}
	stored, err := a.users.LoadUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.FailedLogins != 0 || !stored.LockedUntil.IsZero() {
		t.Fatalf("right passwords counted as failures: failed %d, locked until %v", stored.FailedLogins, stored.LockedUntil)
	}
}

// TestRememberedLoginIsAllOrNothing checks that a login asked to be
// remembered, whose remember token cannot be stored, fails whole: Login
// returns the store's error, the session it started is deleted and its
// cookie cleared, so the browser is not left logged in without the
// remember-me it asked for.
func TestRememberedLoginIsAllOrNothing(t *testing.T) {
	faulty := &faultyTokens{TokenStore: memstore.NewTokens()}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Tokens(faulty) })
	u := a.register("ann", "pw-ann-123")
	faulty.arm(1) // the token's Create
	w := httptest.NewRecorder()
	err := a.m.Login(w, httptest.NewRequest(http.MethodPost, "/login", nil), u, loginkit.LoginOptions{Remember: true})
	faulty.disarm()
	if !errors.Is(err, errTransient) {
		t.Fatalf("Login with a failing token store: %v, want the store's error", err)
	}
	if n, err := a.sessions.ListByUser(context.Background(), u.ID); err != nil || len(n) != 0 {
		t.Fatalf("sessions left after the failed login: %d (%v), want none", len(n), err)
	}
	// The browser applies Set-Cookie headers in order: the last one for a
	// name decides.
	session, remember := a.m.CookieNames()
	var last *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == remember {
			t.Fatalf("the failed login set a remember cookie: %v", c)
		}
		if c.Name == session {
			last = c
		}
	}
	if last != nil && last.MaxAge >= 0 {
		t.Fatalf("the failed login left a session cookie: %v", last)
	}
}
