package loginkit_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
	"github.com/loginkit/loginkit/twofactor"
	"github.com/pquerna/otp/totp"
)

// tfApp is the test app with second factors on, and routes for every
// second-factor operation.
type tfApp struct {
	*app
	factors *memstore.SecondFactors
	key     []byte
	events  *tfEvents
}

// tfEvents counts hook calls.
type tfEvents struct {
	mu                                          sync.Mutex
	succeeded, failed, enrolled, disabled, used int
	lastLeft                                    int
	kinds                                       []loginkit.FactorKind
}

// twoFactorOf is the second-factor service of m, built with
// Builder.SecondFactor.
func twoFactorOf[U loginkit.User](m *loginkit.Manager[U]) *twofactor.Service[U] {
	s, err := twofactor.New(m)
	if err != nil {
		panic(err)
	}
	return s
}

func (e *tfEvents) hooks() loginkit.Hooks[*user] {
	return loginkit.Hooks[*user]{
		SecondFactorSucceeded: func(_ *http.Request, _ *user, k loginkit.FactorKind) {
			e.mu.Lock()
			e.succeeded++
			e.kinds = append(e.kinds, k)
			e.mu.Unlock()
		},
		SecondFactorFailed: func(*http.Request, string, loginkit.FactorKind, error) { e.mu.Lock(); e.failed++; e.mu.Unlock() },
		SecondFactorEnrolled: func(*http.Request, *user, loginkit.FactorKind) {
			e.mu.Lock()
			e.enrolled++
			e.mu.Unlock()
		},
		SecondFactorDisabled: func(*http.Request, *user) { e.mu.Lock(); e.disabled++; e.mu.Unlock() },
		RecoveryCodeUsed: func(_ *http.Request, _ *user, left int) {
			e.mu.Lock()
			e.used++
			e.lastLeft = left
			e.mu.Unlock()
		},
	}
}

func (e *tfEvents) count(p *int) int { e.mu.Lock(); defer e.mu.Unlock(); return *p }

var testFactorKey = bytes.Repeat([]byte{7}, loginkit.SecondFactorKeySize)

func newTFApp(t *testing.T, o loginkit.SecondFactorOptions, opts ...appOption) *tfApp {
	t.Helper()
	ta := &tfApp{factors: memstore.NewSecondFactors(), events: &tfEvents{}}
	if o.Key == nil {
		o.Key = testFactorKey
	}
	if o.Issuer == "" {
		o.Issuer = "loginkit test"
	}
	ta.key = o.Key
	opts = append([]appOption{func(b *loginkit.Builder[*user]) {
		b.SecondFactor(ta.factors, o).Hooks(ta.events.hooks())
	}}, opts...)
	ta.app = newApp(t, opts...)
	ta.handler = ta.m.Middleware(ta.routes())
	return ta
}

func (a *tfApp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", a.app.routes())
	fail := func(w http.ResponseWriter, err error) {
		status := http.StatusUnauthorized
		switch {
		case errors.Is(err, loginkit.ErrLocked):
			status = http.StatusTooManyRequests
		case errors.Is(err, loginkit.ErrNeedsRefresh):
			status = http.StatusForbidden
		case errors.Is(err, loginkit.ErrInvalidCode):
			status = http.StatusBadRequest
		}
		http.Error(w, err.Error(), status)
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err != nil {
			fail(w, err)
			return
		}
		err = a.m.Login(w, r, u, loginkit.LoginOptions{Remember: r.FormValue("remember") == "1"})
		switch {
		case errors.Is(err, loginkit.ErrSecondFactorRequired):
			http.Redirect(w, r, "/2fa", http.StatusSeeOther)
		case err != nil:
			http.Error(w, err.Error(), http.StatusForbidden)
		default:
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	})
	mux.HandleFunc("GET /2fa", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := twoFactorOf(a.m).PendingUser(r); ok {
			_, _ = w.Write([]byte("pending:" + u.Name))
			return
		}
		_, _ = w.Write([]byte("none"))
	})
	step := func(f func(w http.ResponseWriter, r *http.Request, code string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r, r.FormValue("code")); err != nil {
				fail(w, err)
				return
			}
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	}
	mux.HandleFunc("POST /2fa/totp", step(twoFactorOf(a.m).VerifyTOTP))
	mux.HandleFunc("POST /2fa/recovery", step(twoFactorOf(a.m).UseRecoveryCode))
	mux.HandleFunc("POST /2fa/custom", step(func(w http.ResponseWriter, r *http.Request, kind string) error {
		return twoFactorOf(a.m).Complete(w, r, loginkit.FactorKind(kind))
	}))
	mux.Handle("POST /account/totp/begin", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := twoFactorOf(a.m).BeginTOTP(w, r)
		if err != nil {
			fail(w, err)
			return
		}
		_, _ = w.Write([]byte(e.Secret + "\n" + e.URL))
	})))
	mux.Handle("POST /account/totp/confirm", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes, err := twoFactorOf(a.m).ConfirmTOTP(w, r, r.FormValue("code"))
		if err != nil {
			fail(w, err)
			return
		}
		_, _ = w.Write([]byte(strings.Join(codes, "\n")))
	})))
	mux.Handle("POST /account/2fa/disable", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := twoFactorOf(a.m).Disable(w, r); err != nil {
			fail(w, err)
			return
		}
		_, _ = w.Write([]byte("disabled"))
	})))
	mux.Handle("POST /account/2fa/regenerate", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes, err := twoFactorOf(a.m).RegenerateRecoveryCodes(w, r)
		if err != nil {
			fail(w, err)
			return
		}
		_, _ = w.Write([]byte(strings.Join(codes, "\n")))
	})))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.Handle("GET /admin", a.m.Guard(policies.SecondFactor())(ok))
	mux.Handle("GET /recent", a.m.Guard(policies.RecentSecondFactor(5*time.Minute))(ok))
	return mux
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// code returns the TOTP code of secret at the manager's clock plus d.
func (a *tfApp) code(secret string, d time.Duration) string {
	a.t.Helper()
	c, err := totp.GenerateCode(secret, a.clock.Now().Add(d))
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// enrol logs name in, enrols TOTP and returns the secret and the recovery
// codes; the browser stays logged in.
func (a *tfApp) enrol(b *browser, name, password string) (string, []string) {
	a.t.Helper()
	b.mustLogin(name, password, false)
	res := b.do("POST", "/account/totp/begin", "")
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("begin TOTP: %d %s", res.StatusCode, body(res))
	}
	secret, uri, _ := strings.Cut(body(res), "\n")
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		a.t.Fatalf("otpauth URI %q does not carry the secret %q", uri, secret)
	}
	res = b.do("POST", "/account/totp/confirm", form("code", a.code(secret, 0)))
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("confirm TOTP: %d %s", res.StatusCode, body(res))
	}
	codes := strings.Split(body(res), "\n")
	if len(codes) != 10 { // SecondFactorOptions.RecoveryCodes' default
		a.t.Fatalf("got %d recovery codes, want 10: %q", len(codes), codes)
	}
	return secret, codes
}

// pending logs name in with the password and checks that the browser is
// now waiting for its second factor.
func (a *tfApp) pending(b *browser, name, password string, remember bool) {
	a.t.Helper()
	res := b.login(name, password, remember)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/2fa" {
		a.t.Fatalf("password step: %d %q %s, want 303 to /2fa", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if got := body(b.get("/2fa")); got != "pending:"+name {
		a.t.Fatalf("GET /2fa = %q, want pending:%s", got, name)
	}
}

// enrolAnn registers ann (password pw-ann-123), enrols TOTP for her in a new
// browser and returns that browser, still logged in, with the secret and
// the recovery codes.
func (a *tfApp) enrolAnn() (*browser, string, []string) {
	a.t.Helper()
	a.register("ann", "pw-ann-123")
	b := a.browser()
	secret, codes := a.enrol(b, "ann", "pw-ann-123")
	return b, secret, codes
}

// annPendingNextStep logs b out, moves the clock one TOTP step on (so that
// the current code is not the one already used) and enters ann's password
// again: b then waits for its second factor.
func (a *tfApp) annPendingNextStep(b *browser, remember bool) {
	a.t.Helper()
	b.do("POST", "/logout", "")
	a.clock.Advance(30 * time.Second)
	a.pending(b, "ann", "pw-ann-123", remember)
}

// totpNow posts the current TOTP code of secret to /2fa/totp from b.
func (a *tfApp) totpNow(b *browser, secret string) *http.Response {
	a.t.Helper()
	return b.do("POST", "/2fa/totp", form("code", a.code(secret, 0)))
}

func TestSecondFactorEnrolThenLoginWithCode(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	wantWho(t, b, "user:ann:fresh") // no second factor yet: Login as before

	res := b.do("POST", "/account/totp/begin", "")
	secret, _, _ := strings.Cut(body(res), "\n")
	again, _, _ := strings.Cut(body(b.do("POST", "/account/totp/begin", "")), "\n")
	if again != secret {
		t.Fatalf("a second BeginTOTP in the same session offered another secret")
	}
	if res := b.do("POST", "/account/totp/confirm", form("code", "000000")); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("confirm with a wrong code: %d, want 400", res.StatusCode)
	}
	if st, _ := twoFactorOf(a.m).Status(context.Background(), a.userNamed("ann")); st.TOTP {
		t.Fatal("TOTP enabled before a correct confirming code")
	}
	confirm := a.code(secret, 0)
	if res := b.do("POST", "/account/totp/confirm", form("code", confirm)); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d %s", res.StatusCode, body(res))
	}
	if a.events.count(&a.events.enrolled) != 1 {
		t.Errorf("enrolment hook ran %d times, want 1", a.events.enrolled)
	}
	st, err := twoFactorOf(a.m).Status(context.Background(), a.userNamed("ann"))
	if err != nil || !st.TOTP || st.RecoveryCodesLeft != 10 {
		t.Fatalf("status after enrolment = %+v, %v", st, err)
	}
	b.do("POST", "/logout", "")

	a.pending(b, "ann", "pw-ann-123", false)
	pendingCookie := b.cookie(sessionCookie)
	wantWho(t, b, "anonymous")
	// The confirming code was used: it is refused at login.
	if res := b.do("POST", "/2fa/totp", form("code", confirm)); res.StatusCode != http.StatusBadRequest || !strings.Contains(body(res), "already used") {
		t.Fatalf("the confirming code at login: %d, want 400 (replay)", res.StatusCode)
	}
	a.clock.Advance(30 * time.Second)
	stolen := b.clone()
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("correct code: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:ann:fresh")
	if c := b.cookie(sessionCookie); c == "" || c == pendingCookie {
		t.Fatal("completing the second factor did not rotate the session token")
	}
	wantWho(t, stolen, "anonymous") // the pending token is gone
	if res := b.get("/admin"); res.StatusCode != http.StatusOK {
		t.Fatalf("/admin after a second factor: %d", res.StatusCode)
	}
	if got := a.events.count(&a.events.succeeded); got != 2 { // confirm + login
		t.Errorf("success hook ran %d times, want 2", got)
	}
}

func (a *app) userNamed(name string) *user {
	a.t.Helper()
	u, err := a.users.FindByLogin(context.Background(), name)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

func TestSecondFactorSkewOneStepEachWay(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	for i, c := range []struct {
		d    time.Duration
		want int
	}{
		{0, http.StatusSeeOther},                   // the current step
		{-60 * time.Second, http.StatusBadRequest}, // two steps back: refused
		{60 * time.Second, http.StatusBadRequest},  // two steps ahead: refused
		{30 * time.Second, http.StatusSeeOther},    // one step ahead
	} {
		a.clock.Advance(5 * time.Minute)
		b.do("POST", "/logout", "")
		a.pending(b, "ann", "pw-ann-123", false)
		res := b.do("POST", "/2fa/totp", form("code", a.code(secret, c.d)))
		if res.StatusCode != c.want {
			t.Fatalf("case %d: code of clock%+v: %d, want %d", i, c.d, res.StatusCode, c.want)
		}
	}
	a.clock.Advance(5 * time.Minute)
	b.do("POST", "/logout", "")
	a.pending(b, "ann", "pw-ann-123", false)
	if res := b.do("POST", "/2fa/totp", form("code", a.code(secret, -30*time.Second))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code of the previous step: %d, want accepted", res.StatusCode)
	}
}

func TestSecondFactorTOTPReplaySequential(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	a.clock.Advance(30 * time.Second)
	b.do("POST", "/logout", "")
	a.pending(b, "ann", "pw-ann-123", false)
	used := a.code(secret, 0)
	if res := b.do("POST", "/2fa/totp", form("code", used)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %d", res.StatusCode)
	}
	// An attacker who saw the code and knows the password replays it.
	eve := a.browser()
	eve.addr = b.addr
	a.pending(eve, "ann", "pw-ann-123", false)
	res := eve.do("POST", "/2fa/totp", form("code", used))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body(res), "already used") {
		t.Fatalf("replayed code: %d, want 400 (already used)", res.StatusCode)
	}
	// The previous step's code is older than the one used: refused too.
	if res := eve.do("POST", "/2fa/totp", form("code", a.code(secret, -30*time.Second))); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an older code after a newer one: %d, want 400", res.StatusCode)
	}
	wantWho(t, eve, "anonymous")
}

func TestSecondFactorTOTPReplayConcurrent(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 100})
	a.register("ann", "pw-ann-123")
	secret, _ := a.enrol(a.browser(), "ann", "pw-ann-123")
	a.clock.Advance(30 * time.Second)
	const n = 20
	bs := make([]*browser, n)
	for i := range bs {
		bs[i] = a.browser()
		a.pending(bs[i], "ann", "pw-ann-123", false)
	}
	code := a.code(secret, 0)
	var ok, replay atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, b := range bs {
		wg.Go(func() {
			<-start
			rec := b.request("POST", "/2fa/totp", form("code", code))
			w := httptest.NewRecorder()
			a.handler.ServeHTTP(w, rec)
			switch res := w.Result(); {
			case res.StatusCode == http.StatusSeeOther:
				ok.Add(1)
			case res.StatusCode == http.StatusBadRequest && strings.Contains(w.Body.String(), "already used"):
				replay.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replay.Load() != n-1 {
		t.Fatalf("%d concurrent uses of one code: %d accepted, %d refused as replays; want 1 and %d", n, ok.Load(), replay.Load(), n-1)
	}
}

func TestSecondFactorRecoveryCodeConsumedOnceByTwentyConcurrentUses(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 100})
	a.register("ann", "pw-ann-123")
	_, codes := a.enrol(a.browser(), "ann", "pw-ann-123")
	const n = 20
	bs := make([]*browser, n)
	for i := range bs {
		bs[i] = a.browser()
		a.pending(bs[i], "ann", "pw-ann-123", false)
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, b := range bs {
		wg.Go(func() {
			<-start
			w := httptest.NewRecorder()
			a.handler.ServeHTTP(w, b.request("POST", "/2fa/recovery", form("code", strings.ToUpper(codes[3]))))
			if w.Result().StatusCode == http.StatusSeeOther {
				ok.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent uses of one recovery code: %d succeeded, want exactly 1", n, ok.Load())
	}
	if got := a.events.count(&a.events.used); got != 1 || a.events.lastLeft != 9 {
		t.Errorf("recovery hook: %d calls, left %d; want 1 call, 9 left", got, a.events.lastLeft)
	}
	// Used once, refused for good; another code still works.
	b := a.browser()
	a.pending(b, "ann", "pw-ann-123", false)
	if res := b.do("POST", "/2fa/recovery", form("code", codes[3])); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a used recovery code: %d, want 400", res.StatusCode)
	}
	if res := b.do("POST", "/2fa/recovery", form("code", codes[4])); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another recovery code: %d", res.StatusCode)
	}
	wantWho(t, b, "user:ann:fresh")
}

func TestSecondFactorPendingExpires(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{PendingFor: 2 * time.Minute})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, false)
	a.clock.Advance(2*time.Minute + time.Second)
	if got := body(b.get("/2fa")); got != "none" {
		t.Fatalf("GET /2fa after the pending state expired = %q, want none", got)
	}
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a correct code after expiry: %d, want 401", res.StatusCode)
	}
	wantWho(t, b, "anonymous")
}

func TestSecondFactorPendingRefusedByEveryGuard(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, _, _ := a.enrolAnn()
	b.do("POST", "/logout", "")
	a.pending(b, "ann", "pw-ann-123", true)
	if b.cookie(rememberCookie) != "" {
		t.Fatal("a remember cookie was issued before the second factor")
	}
	for _, path := range []string{"/protected", "/fresh", "/admin", "/recent"} {
		res := b.get(path)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
			t.Errorf("GET %s while pending: %d %q, want 303 to the login page", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	api := b.clone()
	api.accept = "application/json"
	if res := api.get("/protected"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("JSON client while pending: %d, want 401", res.StatusCode)
	}
	for _, p := range []struct{ path, want string }{
		{"/account/totp/begin", ""}, {"/account/2fa/disable", ""}, {"/account/2fa/regenerate", ""}, {"/password", ""}, {"/logout-others", ""},
	} {
		if res := b.do("POST", p.path, "current=pw-ann-123&new=x"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("POST %s while pending: %d, want the login redirect", p.path, res.StatusCode)
		}
	}
	wantWho(t, b, "anonymous")
	// Reauthenticate, ConfirmLogin and CurrentSession see no login either.
	r := b.request("GET", "/", "")
	var sawSession, sawUser bool
	a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawSession = a.m.CurrentSession(r)
		_, sawUser = a.m.CurrentUser(r)
		if err := a.m.ConfirmLogin(w, r); !errors.Is(err, loginkit.ErrUnauthorized) {
			t.Errorf("ConfirmLogin while pending = %v, want ErrUnauthorized", err)
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
	if sawSession || sawUser {
		t.Errorf("pending request: CurrentSession %v, CurrentUser %v; want neither", sawSession, sawUser)
	}
}

func TestSecondFactorWrongCodesCountedByLockout(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 100}, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(3, 15*time.Minute, 15*time.Minute))
	})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, false)
	for i := range 3 {
		if res := b.do("POST", "/2fa/totp", form("code", "123456")); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d, want 400", i+1, res.StatusCode)
		}
	}
	if u := a.userNamed("ann"); u.FailedLogins != 3 || !u.LockedUntil.After(a.clock.Now()) {
		t.Fatalf("after 3 wrong codes: FailedLogins %d, LockedUntil %v; want the account locked", u.FailedLogins, u.LockedUntil)
	}
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a correct code on a locked account: %d, want 429 (ErrLocked)", res.StatusCode)
	}
	if res := a.browser().login("ann", "pw-ann-123", false); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("password login on the locked account: %d, want 429", res.StatusCode)
	}
	if got := a.events.count(&a.events.failed); got != 4 {
		t.Errorf("failure hook ran %d times, want 4", got)
	}
}

func TestSecondFactorWrongCodesBoundedPerAccountPerWindow(t *testing.T) {
	// No lockout policy: the second factor's own limit still holds, and
	// entering the password again does not reset it.
	var tokens *memstore.Tokens
	a := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 3, AttemptWindow: 10 * time.Minute}, func(b *loginkit.Builder[*user]) {
		tokens = memstore.NewTokens(memstore.WithClock(time.Now))
		b.Tokens(tokens)
	})
	b, secret, _ := a.enrolAnn()
	b.do("POST", "/logout", "")
	a.clock.Advance(30 * time.Second)
	for i := range 3 {
		a.pending(b, "ann", "pw-ann-123", false) // the password again, each time
		if res := b.do("POST", "/2fa/totp", form("code", "999999")); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i+1, res.StatusCode)
		}
	}
	a.pending(b, "ann", "pw-ann-123", false)
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt in the window (a correct code): %d, want 429", res.StatusCode)
	}
	if res := b.do("POST", "/2fa/recovery", form("code", "aaaaa-aaaaa")); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a recovery code over the limit: %d, want 429", res.StatusCode)
	}
	// The limit is the account's, not the browser's.
	other := a.browser()
	other.addr = "198.51.100.7:1234"
	a.pending(other, "ann", "pw-ann-123", false)
	if res := other.do("POST", "/2fa/totp", form("code", a.code(secret, 0))); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("another client over the account's limit: %d, want 429", res.StatusCode)
	}
	// Once the window has passed (the token store's clock is real time),
	// the attempts are forgotten.
	list, _ := tokens.ListByUser(context.Background(), a.userNamed("ann").ID, "")
	if len(list) != 3 {
		t.Fatalf("%d attempt records stored, want 3 (one per wrong code)", len(list))
	}
	for _, tok := range list {
		_ = tokens.Delete(context.Background(), tok.Selector) // what expiry does
	}
	if res := other.do("POST", "/2fa/totp", form("code", a.code(secret, 0))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a correct code after the window: %d", res.StatusCode)
	}
}

func TestSecondFactorRememberOnlyAfterFactor(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, true)
	if b.cookie(rememberCookie) != "" {
		t.Fatal("remember cookie issued at the password step")
	}
	b.restart()
	if got := body(b.get("/2fa")); got != "none" {
		t.Fatalf("the pending state survived a browser restart: %q", got)
	}
	a.pending(b, "ann", "pw-ann-123", true)
	a.totpNow(b, secret)
	if b.cookie(rememberCookie) == "" {
		t.Fatal("no remember cookie after the second factor, though asked for")
	}
	b.restart()
	wantWho(t, b, "user:ann:stale")
}

func TestSecondFactorDisableNeedsFreshLogin(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, true)
	a.totpNow(b, secret)
	b.restart() // now logged in by the remember cookie: not fresh
	wantWho(t, b, "user:ann:stale")
	if res := b.do("POST", "/account/2fa/disable", ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("disable from a stale session: %d, want refused (needs refresh)", res.StatusCode)
	}
	if res := b.do("POST", "/account/2fa/regenerate", ""); res.StatusCode != http.StatusForbidden {
		t.Fatalf("regenerate from a stale session: %d, want refused (needs refresh)", res.StatusCode)
	}
	if st, _ := twoFactorOf(a.m).Status(context.Background(), a.userNamed("ann")); !st.TOTP {
		t.Fatal("a stale session disabled the second factor")
	}
	if res := b.do("POST", "/reauth", "password=pw-ann-123"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: %d", res.StatusCode)
	}
	if res := b.do("POST", "/account/2fa/disable", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("disable from a fresh session: %d %s", res.StatusCode, body(res))
	}
	if a.events.count(&a.events.disabled) != 1 {
		t.Error("the disabling hook did not run")
	}
	b.do("POST", "/logout", "")
	b.mustLogin("ann", "pw-ann-123", false) // straight in again
	wantWho(t, b, "user:ann:fresh")
}

func TestSecondFactorRegenerateInvalidatesOldCodes(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, _, old := a.enrolAnn()
	res := b.do("POST", "/account/2fa/regenerate", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("regenerate: %d %s", res.StatusCode, body(res))
	}
	fresh := strings.Split(body(res), "\n")
	b.do("POST", "/logout", "")
	a.pending(b, "ann", "pw-ann-123", false)
	if res := b.do("POST", "/2fa/recovery", form("code", old[0])); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an old code after regenerating: %d, want 400", res.StatusCode)
	}
	if res := b.do("POST", "/2fa/recovery", form("code", fresh[0])); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a new code: %d", res.StatusCode)
	}
}

func TestSecondFactorSecretsUnreadableAtRestWithoutKey(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	u := a.register("ann", "pw-ann-123")
	b := a.browser()
	secret, codes := a.enrol(b, "ann", "pw-ann-123")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := a.factors.GetSecondFactor(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.TOTPSecret, raw) || bytes.Contains(stored.TOTPSecret, []byte(secret)) {
		t.Fatal("the stored TOTP secret contains the secret in clear")
	}
	for _, h := range stored.RecoveryCodes {
		for _, c := range codes {
			if strings.Contains(h, c) || strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
				t.Fatal("a stored recovery code hash contains the code")
			}
		}
	}
	// Sessions hold no secret in clear either (the enrolment is sealed).
	list, _ := a.sessions.ListByUser(context.Background(), u.ID)
	for _, s := range list {
		for _, v := range s.Values {
			if strings.Contains(v, secret) {
				t.Fatal("a session value holds the TOTP secret in clear")
			}
		}
	}

	// A manager with another key (someone with the database but not the
	// key) can neither read the secret nor accept a code or recovery code.
	otherKey := bytes.Repeat([]byte{9}, loginkit.SecondFactorKeySize)
	other := newTFAppOn(t, a, loginkit.SecondFactorOptions{Key: otherKey})
	ob := other.browser()
	a.clock.Advance(30 * time.Second)
	other.pending(ob, "ann", "pw-ann-123", false)
	if res := a.totpNow(ob, secret); res.StatusCode == http.StatusSeeOther {
		t.Fatal("a manager without the key accepted a TOTP code")
	}
	if res := ob.do("POST", "/2fa/recovery", form("code", codes[0])); res.StatusCode == http.StatusSeeOther {
		t.Fatal("a manager without the key accepted a recovery code")
	}
	// Key rotation: the new key with the old one as OldKeys works.
	rotated := newTFAppOn(t, a, loginkit.SecondFactorOptions{Key: otherKey, OldKeys: [][]byte{testFactorKey}})
	rb := rotated.browser()
	rotated.pending(rb, "ann", "pw-ann-123", false)
	if res := a.totpNow(rb, secret); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rotated keys: a correct code: %d %s", res.StatusCode, body(res))
	}
	rb.do("POST", "/logout", "")
	rotated.pending(rb, "ann", "pw-ann-123", false)
	if res := rb.do("POST", "/2fa/recovery", form("code", codes[1])); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rotated keys: a recovery code hashed under the old key: %d", res.StatusCode)
	}
	// A secret copied to another user's record does not open.
	bob := a.register("bob", "pw-bob-123")
	if err := a.factors.SetTOTP(context.Background(), bob.ID, stored.TOTPSecret, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	bb := a.browser()
	a.clock.Advance(30 * time.Second)
	a.pending(bb, "bob", "pw-bob-123", false)
	if res := a.totpNow(bb, secret); res.StatusCode == http.StatusSeeOther {
		t.Fatal("ann's sealed secret, copied to bob's record, let bob in with ann's code")
	}
}

// newTFAppOn returns a second app (another manager, with other options)
// on the same stores and clock as a.
func newTFAppOn(t *testing.T, a *tfApp, o loginkit.SecondFactorOptions) *tfApp {
	t.Helper()
	if o.Issuer == "" {
		o.Issuer = "loginkit test"
	}
	b := loginkit.New[*user]().Users(a.users).Sessions(a.sessions).Tokens(a.tokens).Hasher(testHasher{}).
		LoginURL("/login").RefreshURL("/reauth").Clock(a.clock.Now).SecondFactor(a.factors, o)
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	inner := *a.app
	inner.m = m
	ta := &tfApp{app: &inner, factors: a.factors, key: o.Key, events: &tfEvents{}}
	ta.handler = m.Middleware(ta.routes())
	return ta
}

func TestSecondFactorPoliciesAndReconfirm(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	a.register("ann", "pw-ann-123")
	a.register("bob", "pw-bob-123")
	bob := a.browser()
	bob.mustLogin("bob", "pw-bob-123", false)
	if res := bob.get("/admin"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("/admin for a user without a second factor: %d, want 403", res.StatusCode)
	}
	b := a.browser()
	secret, _ := a.enrol(b, "ann", "pw-ann-123")
	b.do("POST", "/logout", "")
	a.clock.Advance(30 * time.Second)
	a.pending(b, "ann", "pw-ann-123", false)
	a.totpNow(b, secret)
	if res := b.get("/recent"); res.StatusCode != http.StatusOK {
		t.Fatalf("/recent right after the second factor: %d", res.StatusCode)
	}
	a.clock.Advance(6 * time.Minute)
	if res := b.get("/recent"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/reauth?") {
		t.Fatalf("/recent 6 minutes later: %d %q, want the refresh redirect", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.get("/admin"); res.StatusCode != http.StatusOK {
		t.Fatalf("/admin needs a second factor, not a recent one: %d", res.StatusCode)
	}
	before := b.cookie(sessionCookie)
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-confirming while logged in: %d %s", res.StatusCode, body(res))
	}
	if b.cookie(sessionCookie) == before {
		t.Error("re-confirming did not rotate the session token")
	}
	if res := b.get("/recent"); res.StatusCode != http.StatusOK {
		t.Fatalf("/recent after re-confirming: %d", res.StatusCode)
	}
}

// TestSecondFactorCompleteWithCustomFactor: a factor the application
// checks itself completes the pending login like a TOTP code, and is
// recorded under its own kind.
func TestSecondFactorCompleteWithCustomFactor(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	a.register("ann", "pw-ann-123")
	if res := a.browser().do("POST", "/2fa/custom", form("code", "sms")); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Complete without a pending login: %d, want 401", res.StatusCode)
	}
	b := a.browser()
	a.enrol(b, "ann", "pw-ann-123")
	b.do("POST", "/logout", "")
	a.pending(b, "ann", "pw-ann-123", false)
	if res := b.do("POST", "/2fa/custom", form("code", "")); !strings.Contains(body(res), "empty factor kind") {
		t.Fatalf("Complete with an empty kind: %d %s, want ErrInvalid", res.StatusCode, body(res))
	}
	wantWho(t, b, "anonymous")
	before := a.events.count(&a.events.succeeded)
	if res := b.do("POST", "/2fa/custom", form("code", "sms")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Complete: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:ann:fresh")
	if res := b.get("/admin"); res.StatusCode != http.StatusOK {
		t.Fatalf("/admin after a custom second factor: %d", res.StatusCode)
	}
	if got := a.events.count(&a.events.succeeded); got != before+1 {
		t.Errorf("success hook ran %d times, want %d", got, before+1)
	}
	var kind loginkit.FactorKind
	a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := a.m.CurrentSession(r)
		kind, _, _ = twofactor.Passed(s)
	})).ServeHTTP(httptest.NewRecorder(), b.request("GET", "/", ""))
	if kind != "sms" {
		t.Errorf("twofactor.Passed = %q, want sms", kind)
	}
}

func TestSecondFactorPendingSessionProtection(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, false)
	thief := b.clone()
	thief.userAgent, thief.addr = "Other/2.0", "203.0.113.9:5555"
	if res := thief.do("POST", "/2fa/totp", form("code", a.code(secret, 0))); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a pending cookie used from another client: %d, want 401", res.StatusCode)
	}
	if got := body(b.get("/2fa")); got != "none" {
		t.Fatalf("the pending session survived use from another client: %q", got)
	}
}

func TestSecondFactorBuildNeedsKeyIssuerAndTokens(t *testing.T) {
	for name, o := range map[string]loginkit.SecondFactorOptions{
		"short key": {Key: []byte("short"), Issuer: "x"},
		"no issuer": {Key: testFactorKey},
		"old key":   {Key: testFactorKey, Issuer: "x", OldKeys: [][]byte{{1}}},
	} {
		_, err := loginkit.New[*user]().Users(memstore.NewUsers[user]()).Sessions(memstore.NewSessions()).
			Tokens(memstore.NewTokens()).Hasher(testHasher{}).SecondFactor(memstore.NewSecondFactors(), o).Build()
		if !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("%s: Build = %v, want ErrConfig", name, err)
		}
	}
	_, err := loginkit.New[*user]().Users(memstore.NewUsers[user]()).Sessions(memstore.NewSessions()).Hasher(testHasher{}).
		SecondFactor(memstore.NewSecondFactors(), loginkit.SecondFactorOptions{Key: testFactorKey, Issuer: "x"}).Build()
	if !errors.Is(err, loginkit.ErrConfig) || !strings.Contains(err.Error(), "token store") {
		t.Errorf("no token store: Build = %v, want ErrConfig naming the token store", err)
	}
}

func TestSecondFactorWithStatelessCookieSessions(t *testing.T) {
	var sealer *cookiestore.Store
	a := newTFApp(t, loginkit.SecondFactorOptions{}, func(b *loginkit.Builder[*user]) {
		var err error
		sealer, err = cookiestore.New(bytes.Repeat([]byte{5}, cookiestore.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		b.Sessions(sealer)
	})
	b, secret, codes := a.enrolAnn()
	a.annPendingNextStep(b, false)
	wantWho(t, b, "anonymous")
	if res := b.get("/protected"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a pending cookie session reached a guarded page: %d", res.StatusCode)
	}
	pendingCopy := b.clone()
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:ann:fresh")
	// A copy of the pending cookie (stateless: still readable until it
	// expires) is still only pending, and the code it saw is used up.
	wantWho(t, pendingCopy, "anonymous")
	if res := pendingCopy.do("POST", "/2fa/totp", form("code", a.code(secret, 0))); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the used code through a copied pending cookie: %d, want 400", res.StatusCode)
	}
	if res := pendingCopy.do("POST", "/2fa/recovery", form("code", codes[0])); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a recovery code through the copied pending cookie: %d", res.StatusCode)
	}
}

func TestSecondFactorLimitRefusalDoesNotResetLockoutCount(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 2}, func(b *loginkit.Builder[*user]) {
		b.Policies(policies.Lockout(10, 15*time.Minute, 15*time.Minute))
	})
	b, secret, _ := a.enrolAnn()
	a.annPendingNextStep(b, false)
	for range 2 {
		b.do("POST", "/2fa/totp", form("code", "111111"))
	}
	if res := a.totpNow(b, secret); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("over the code limit: %d, want 429", res.StatusCode)
	}
	if got := a.userNamed("ann").FailedLogins; got != 3 {
		t.Fatalf("FailedLogins after 2 wrong codes and a refused attempt = %d, want 3 (a refusal must not count as a success)", got)
	}
}

// TestSecondFactorEnrolmentEndsLoginsMadeWithoutIt: a remember cookie
// (or a session) from before the user turned the second factor on was
// granted by the password alone. Once the factor is on, every login must
// have passed it, so enrolment ends the user's other logins, remember
// tokens included, and keeps the enrolling session.
func TestSecondFactorEnrolmentEndsLoginsMadeWithoutIt(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	a.register("ann", "pw-ann-123")
	old := a.browser()
	old.mustLogin("ann", "pw-ann-123", true)
	if old.cookie(rememberCookie) == "" {
		t.Fatal("no remember cookie for the earlier login")
	}
	stolen := old.clone() // a copy of the jar taken before enrolment
	wantWho(t, old, "user:ann:fresh")

	b := a.browser()
	a.enrol(b, "ann", "pw-ann-123")
	wantWho(t, b, "user:ann:fresh")

	wantWho(t, old, "anonymous")
	stolen.restart() // only the remember cookie is left
	wantWho(t, stolen, "anonymous")
	wantWho(t, b, "user:ann:fresh")
}
