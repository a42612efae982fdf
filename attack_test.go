package loginkit_test

// Attacks from outside, over HTTP and at the API level, against the
// promises of the README's security notes: each test is named after the
// attack it tries, and fails if the attack works.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/ratelimit"
	"github.com/loginkit/loginkit/recovery"
)

// TestStaleStolenSessionCannotEnrolAttackersAuthenticator: a session that
// is not fresh (a stolen remember cookie) must not enrol an authenticator
// app: the thief would hold the account's second factor, and the owner,
// even after a password reset, could no longer log in.
func TestStaleStolenSessionCannotEnrolAttackersAuthenticator(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("sam", "pw-sam-123")
	owner := ta.browser()
	owner.mustLogin("sam", "pw-sam-123", true)
	thief := owner.clone()
	thief.addr = "198.51.100.7:5555"
	delete(thief.cookies, sessionCookie) // only the remember cookie was stolen
	wantWho(t, thief, "user:sam:stale")
	res := thief.do("POST", "/account/totp/begin", "")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("BeginTOTP on a stale session: %d %s, want 403 (ErrNeedsRefresh)", res.StatusCode, body(res))
	}
	// Even with an enrolment begun while fresh, confirming it needs a
	// fresh session too.
	owner2 := ta.browser()
	owner2.mustLogin("sam", "pw-sam-123", false)
	res = owner2.do("POST", "/account/totp/begin", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("BeginTOTP on a fresh session: %d %s", res.StatusCode, body(res))
	}
	secret, _, _ := strings.Cut(body(res), "\n")
	owner2.addr = "203.0.113.9:4444" // network change: ProtectionBasic marks it stale
	wantWho(t, owner2, "user:sam:stale")
	res = owner2.do("POST", "/account/totp/confirm", form("code", ta.code(secret, 0)))
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("ConfirmTOTP on a stale session: %d %s, want 403 (ErrNeedsRefresh)", res.StatusCode, body(res))
	}
	if st, err := twoFactorOf(ta.m).Status(context.Background(), ta.userNamed("sam")); err != nil || st.TOTP {
		t.Fatalf("status after refused enrolments: %+v, %v", st, err)
	}
}

// TestPendingSessionIsAnonymousToEveryAPI: in the "second factor
// pending" state, no call of the manager treats the request as logged in.
func TestPendingSessionIsAnonymousToEveryAPI(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("pia", "pw-pia-123")
	ta.enrol(ta.browser(), "pia", "pw-pia-123")
	b := ta.browser()
	ta.pending(b, "pia", "pw-pia-123", true)
	if b.cookie(rememberCookie) != "" {
		t.Fatal("remember cookie issued before the second factor")
	}
	m := ta.m
	calls := map[string]func(w http.ResponseWriter, r *http.Request) error{
		"CurrentUser": func(_ http.ResponseWriter, r *http.Request) error {
			if _, ok := m.CurrentUser(r); ok {
				return errors.New("reports a user")
			}
			return nil
		},
		"CurrentSession": func(_ http.ResponseWriter, r *http.Request) error {
			if s, ok := m.CurrentSession(r); ok {
				return errors.New("reports a session " + s.UserID)
			}
			return nil
		},
		"Identity": func(_ http.ResponseWriter, r *http.Request) error {
			if id := m.Identity(r); id.Authenticated || id.Fresh || id.User != nil {
				return errors.New("authenticated identity")
			}
			return nil
		},
		"Reauthenticate": func(w http.ResponseWriter, r *http.Request) error {
			return wantUnauthorized(m.Reauthenticate(w, r, "pw-pia-123"))
		},
		"ConfirmLogin": func(w http.ResponseWriter, r *http.Request) error {
			return wantUnauthorized(m.ConfirmLogin(w, r))
		},
		"ChangePassword": func(w http.ResponseWriter, r *http.Request) error {
			return wantUnauthorized(m.ChangePassword(w, r, "pw-pia-123", "taken-over-1"))
		},
		"LogoutOthers": func(w http.ResponseWriter, r *http.Request) error {
			return wantUnauthorized(m.LogoutOthers(w, r))
		},
		"BeginTOTP": func(w http.ResponseWriter, r *http.Request) error {
			_, err := twoFactorOf(m).BeginTOTP(w, r)
			return wantUnauthorized(err)
		},
		"ConfirmTOTP": func(w http.ResponseWriter, r *http.Request) error {
			_, err := twoFactorOf(m).ConfirmTOTP(w, r, "123456")
			return wantUnauthorized(err)
		},
		"DisableSecondFactor": func(w http.ResponseWriter, r *http.Request) error {
			return wantUnauthorized(twoFactorOf(m).Disable(w, r))
		},
		"RegenerateRecoveryCodes": func(w http.ResponseWriter, r *http.Request) error {
			_, err := twoFactorOf(m).RegenerateRecoveryCodes(w, r)
			return wantUnauthorized(err)
		},
	}
	for name, call := range calls {
		rec := httptest.NewRecorder()
		var got error
		m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = call(w, r)
		})).ServeHTTP(rec, b.request("POST", "/api", ""))
		if got != nil {
			t.Errorf("%s in the pending state: %v", name, got)
		}
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge >= 0 && c.Value != "" {
				t.Errorf("%s in the pending state set cookie %s", name, c.Name)
			}
		}
	}
	for _, path := range []string{"/protected", "/fresh", "/admin", "/recent"} {
		if res := b.get(path); res.StatusCode == http.StatusOK {
			t.Errorf("GET %s in the pending state: 200 %s", path, body(res))
		}
	}
	// Nothing above changed the account or the pending state itself.
	b.mustLogin("pia", "pw-pia-123", false) // the password is unchanged
	if got := body(b.get("/2fa")); got != "pending:pia" {
		t.Fatalf("GET /2fa = %q", got)
	}
	if st, err := twoFactorOf(m).Status(context.Background(), ta.userNamed("pia")); err != nil || !st.TOTP || st.RecoveryCodesLeft != 10 {
		t.Fatalf("second factor changed from the pending state: %+v, %v", st, err)
	}
}

func wantUnauthorized(err error) error {
	if !errors.Is(err, loginkit.ErrUnauthorized) {
		return errors.New("got " + errString(err) + ", want ErrUnauthorized")
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestPendingStateDoesNotSurviveLogout: logging out in the pending state
// ends it on the server, so a copy of the cookie taken before cannot
// finish the login with a code.
func TestPendingStateDoesNotSurviveLogout(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("lou", "pw-lou-123")
	secret, _ := ta.enrol(ta.browser(), "lou", "pw-lou-123")
	b := ta.browser()
	ta.pending(b, "lou", "pw-lou-123", false)
	copied := b.clone()
	b.do("POST", "/logout", "")
	if got := body(copied.get("/2fa")); got != "none" {
		t.Fatalf("copied pending cookie after logout: GET /2fa = %q, want none", got)
	}
	ta.clock.Advance(30 * time.Second)
	if res := copied.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode == http.StatusSeeOther {
		t.Fatal("copied pending cookie completed the login after logout")
	}
	wantWho(t, copied, "anonymous")
}

// TestPendingStateNotPromotedByRememberCookie: a browser holding another
// account's remember cookie that enters the pending state for a second
// account is neither logged in as either.
func TestPendingStateNotPromotedByRememberCookie(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("rex", "pw-rex-123")
	ta.register("ria", "pw-ria-123")
	ta.enrol(ta.browser(), "ria", "pw-ria-123")
	b := ta.browser()
	b.mustLogin("rex", "pw-rex-123", true)
	oldRemember := b.cookies[rememberCookie]
	ta.pending(b, "ria", "pw-ria-123", true)
	wantWho(t, b, "anonymous")
	// Put rex's cookie back next to the pending session: still anonymous,
	// and rex's old token was revoked by the new login anyway.
	b.cookies[rememberCookie] = oldRemember
	wantWho(t, b, "anonymous")
	if res := b.get("/protected"); res.StatusCode == http.StatusOK {
		t.Fatalf("pending + old remember cookie: 200 %s", body(res))
	}
	// Once the pending state expires, the old remember cookie does not
	// log anyone in either.
	ta.clock.Advance(5*time.Minute + time.Second) // the default PendingFor
	wantWho(t, b, "anonymous")
}

// TestPasswordResetEndsAttackersPendingSecondFactor: an attacker who knows
// the password waits in the pending state; the owner's reset ends it.
func TestPasswordResetEndsAttackersPendingSecondFactor(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("pat", "pw-pat-123")
	secret, _ := ta.enrol(ta.browser(), "pat", "pw-pat-123")
	box := &outbox{}
	rc, err := recovery.New(ta.m, recovery.Options[*user]{Mailer: box, From: "no-reply@example.test", BaseURL: recoveryBase})
	if err != nil {
		t.Fatal(err)
	}
	attacker := ta.browser()
	attacker.addr = "198.51.100.66:1000"
	ta.pending(attacker, "pat", "pw-pat-123", false)
	if err := rc.RequestReset(ta.browser().request("POST", "/forgot", ""), "pat"); err != nil {
		t.Fatal(err)
	}
	rc.Wait()
	msgs := box.to("pat@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if _, err := rc.CompleteReset(nil, ta.browser().request("POST", "/reset", ""), tokenOf(t, linkIn(t, msgs[0])), "new-password-1"); err != nil {
		t.Fatal(err)
	}
	if got := body(attacker.get("/2fa")); got != "none" {
		t.Fatalf("attacker's pending state after the reset: %q", got)
	}
	ta.clock.Advance(30 * time.Second)
	if res := attacker.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode == http.StatusSeeOther {
		t.Fatal("pending state from before the reset completed the login")
	}
}

// TestTOTPCodeOfEarlierStepRefusedAfterLaterOne: within the ±1 step
// window, once the next step's code was accepted, the current step's
// code (still inside the window) is a replay.
func TestTOTPCodeOfEarlierStepRefusedAfterLaterOne(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("tim", "pw-tim-123")
	secret, _ := ta.enrol(ta.browser(), "tim", "pw-tim-123")
	ta.clock.Advance(60 * time.Second)
	b := ta.browser()
	ta.pending(b, "tim", "pw-tim-123", false)
	if res := b.do("POST", "/2fa/totp", form("code", ta.code(secret, 30*time.Second))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("next step's code: %d %s", res.StatusCode, body(res))
	}
	for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
		c := ta.browser()
		ta.pending(c, "tim", "pw-tim-123", false)
		if res := c.do("POST", "/2fa/totp", form("code", ta.code(secret, d))); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("code at %v after the next step's was used: %d %s, want 400", d, res.StatusCode, body(res))
		}
	}
}

// TestResetClientLimitNotBypassedByForwardedFor: an untrusted client
// cannot spread reset requests over made-up X-Forwarded-For addresses.
func TestResetClientLimitNotBypassedByForwardedFor(t *testing.T) {
	ra := newRecoveryApp(t, func(o *recovery.Options[*user]) {
		o.ResetPerClient = ratelimit.Rate{Count: 3, Per: time.Hour}
	})
	b := ra.browser()
	limited := false
	for i := range 6 {
		r := b.request("POST", "/forgot", "login="+url.QueryEscape("nobody"+strings.Repeat("x", i)))
		r.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		rec := httptest.NewRecorder()
		ra.handler.ServeHTTP(rec, r)
		if rec.Code == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("6 reset requests from one client with varying X-Forwarded-For were never limited (limit 3)")
	}
}

// TestPendingCookieCopyCannotLogInAfterCompletion: completing the second
// factor replaces the pending session under a new token; a copy of the
// pending cookie (fixation, or a cookie seen in transit) is worthless.
func TestPendingCookieCopyCannotLogInAfterCompletion(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("fay", "pw-fay-123")
	secret, _ := ta.enrol(ta.browser(), "fay", "pw-fay-123")
	ta.clock.Advance(30 * time.Second)
	b := ta.browser()
	ta.pending(b, "fay", "pw-fay-123", false)
	pendingToken := b.cookie(sessionCookie)
	copied := b.clone()
	if res := b.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor: %d %s", res.StatusCode, body(res))
	}
	if b.cookie(sessionCookie) == pendingToken || b.cookie(sessionCookie) == "" {
		t.Fatal("completing the second factor kept the pending session token")
	}
	wantWho(t, b, "user:fay:fresh")
	wantWho(t, copied, "anonymous")
	if got := body(copied.get("/2fa")); got != "none" {
		t.Fatalf("copied pending cookie after completion: GET /2fa = %q", got)
	}
	ta.clock.Advance(30 * time.Second)
	if res := copied.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode == http.StatusSeeOther {
		t.Fatal("the copied pending cookie completed a second login")
	}
}

// TestRecoveryCodeOfAnotherUserRefused: recovery codes are bound to their
// user; one user's code does not complete another's login.
func TestRecoveryCodeOfAnotherUserRefused(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("ada", "pw-ada-123")
	ta.register("bob", "pw-bob-123")
	_, adaCodes := ta.enrol(ta.browser(), "ada", "pw-ada-123")
	ta.enrol(ta.browser(), "bob", "pw-bob-123")
	b := ta.browser()
	ta.pending(b, "bob", "pw-bob-123", false)
	if res := b.do("POST", "/2fa/recovery", form("code", adaCodes[0])); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("ada's recovery code for bob: %d %s, want 400", res.StatusCode, body(res))
	}
	wantWho(t, b, "anonymous")
	// And ada's code is still unused.
	c := ta.browser()
	ta.pending(c, "ada", "pw-ada-123", false)
	if res := c.do("POST", "/2fa/recovery", form("code", adaCodes[0])); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ada's own code: %d %s", res.StatusCode, body(res))
	}
}

// TestConcurrentWrongCodesCheckedAtMostMaxAttempts: 40 concurrent guesses
// from pending sessions of one account get at most MaxAttempts checks;
// the rest are refused as locked before any check.
func TestConcurrentWrongCodesCheckedAtMostMaxAttempts(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{MaxAttempts: 5})
	ta.register("gus", "pw-gus-123")
	ta.enrol(ta.browser(), "gus", "pw-gus-123")
	const n = 40
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = ta.browser()
		ta.pending(browsers[i], "gus", "pw-gus-123", false)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			ta.handler.ServeHTTP(rec, browsers[i].request("POST", "/2fa/totp", form("code", "000000")))
			statuses[i] = rec.Code
		}()
	}
	wg.Wait()
	checked := 0
	for _, s := range statuses {
		switch s {
		case http.StatusBadRequest:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("unexpected status %d", s)
		}
	}
	if checked > 5 || checked == 0 {
		t.Fatalf("%d of %d concurrent wrong codes were checked, want 1..5", checked, n)
	}
}

// sleepyHasher is testHasher with every check taking d, like a real
// password hash, without the CPU.
type sleepyHasher struct {
	testHasher
	d time.Duration
}

func (h sleepyHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	time.Sleep(h.d)
	return h.testHasher.Verify(ctx, pw, encoded)
}

// TestLockedAccountAnswersInTheTimeOfAnUnknownLogin: an application that
// shows a locked account the same message as an unknown name (the
// quickstart does, so that the page does not tell which accounts exist)
// must not be betrayed by the time: a locked account's refusal, which
// checks no password, is padded like every other failure.
func TestLockedAccountAnswersInTheTimeOfAnUnknownLogin(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hasher(sleepyHasher{d: 20 * time.Millisecond}).Policies(policies.Lockout(2, 15*time.Minute, 15*time.Minute))
	})
	a.register("lia", "pw-lia-123")
	ctx := context.Background()
	for range 2 {
		if _, err := a.m.Authenticate(ctx, "lia", "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	var locked, unknown []time.Duration
	for range 9 {
		start := time.Now()
		if _, err := a.m.Authenticate(ctx, "lia", "wrong"); !errors.Is(err, loginkit.ErrLocked) {
			t.Fatalf("locked account: %v", err)
		}
		locked = append(locked, time.Since(start))
		start = time.Now()
		if _, err := a.m.Authenticate(ctx, "nobody-here", "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("unknown login: %v", err)
		}
		unknown = append(unknown, time.Since(start))
	}
	ratio := float64(median(locked)) / float64(median(unknown))
	if ratio < 0.7 || ratio > 1.43 {
		t.Fatalf("median locked %v / unknown %v = %.2f, want 0.7–1.43", median(locked), median(unknown), ratio)
	}
}

// valuesApp wraps a tfApp with routes that set and read a session value.
func valuesRoutes(ta *tfApp) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", ta.routes())
	mux.HandleFunc("POST /value", func(w http.ResponseWriter, r *http.Request) {
		if err := ta.m.SetValue(w, r, r.FormValue("k"), r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("set"))
	})
	mux.HandleFunc("GET /value", func(w http.ResponseWriter, r *http.Request) {
		v, _ := ta.m.Value(r, r.FormValue("k"))
		_, _ = w.Write([]byte("value:" + v))
	})
	return ta.m.Middleware(mux)
}

// TestAnotherUsersSessionValuesNotCarriedThroughSecondFactorLogin: values
// that user A kept in the session do not reach user B, who logs in on
// the same browser through the second factor.
func TestAnotherUsersSessionValuesNotCarriedThroughSecondFactorLogin(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("amy", "pw-amy-123")
	ta.register("ben", "pw-ben-123")
	secret, _ := ta.enrol(ta.browser(), "ben", "pw-ben-123")
	ta.handler = valuesRoutes(ta)
	b := ta.browser()
	b.mustLogin("amy", "pw-amy-123", false)
	if res := b.do("POST", "/value", form("k", "cart", "v", "amy-secret")); res.StatusCode != http.StatusOK {
		t.Fatalf("set value: %d %s", res.StatusCode, body(res))
	}
	ta.pending(b, "ben", "pw-ben-123", false)
	if got := body(b.get("/value?k=cart")); got != "value:" {
		t.Fatalf("pending login of ben reads amy's value: %q", got)
	}
	ta.clock.Advance(30 * time.Second)
	if res := b.do("POST", "/2fa/totp", form("code", ta.code(secret, 0))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second factor: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:ben:fresh")
	if got := body(b.get("/value?k=cart")); got != "value:" {
		t.Fatalf("ben reads amy's value: %q", got)
	}
}

// TestAnonymousValueSessionIsNoLogin: the anonymous session that session
// values create is anonymous for every guard and call, and a planted copy
// of it learns nothing of the login that follows.
func TestAnonymousValueSessionIsNoLogin(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("cid", "pw-cid-123")
	ta.handler = valuesRoutes(ta)
	attacker := ta.browser()
	if res := attacker.do("POST", "/value", form("k", "next", "/account")); res.StatusCode != http.StatusOK {
		t.Fatalf("set value: %d", res.StatusCode)
	}
	if attacker.cookie(sessionCookie) == "" {
		t.Fatal("no anonymous session cookie")
	}
	for _, path := range []string{"/protected", "/fresh", "/admin", "/recent"} {
		if res := attacker.get(path); res.StatusCode == http.StatusOK {
			t.Errorf("GET %s with an anonymous value session: 200", path)
		}
	}
	for _, p := range []string{"/account/totp/begin", "/account/2fa/disable", "/account/2fa/regenerate", "/logout-others", "/password", "/reauth"} {
		if res := attacker.do("POST", p, form("password", "pw-cid-123", "current", "pw-cid-123", "new", "x-new-pw-1")); res.StatusCode < 300 {
			t.Errorf("POST %s with an anonymous value session: %d", p, res.StatusCode)
		}
	}
	// The victim's browser is made to carry the attacker's cookie
	// (fixation), then logs in and sets a value.
	victim := attacker.clone()
	victim.mustLogin("cid", "pw-cid-123", false)
	if victim.cookie(sessionCookie) == attacker.cookie(sessionCookie) {
		t.Fatal("login kept the planted session token")
	}
	victim.do("POST", "/value", form("k", "note", "victim-private"))
	wantWho(t, attacker, "anonymous")
	if got := body(attacker.get("/value?k=note")); got != "value:" {
		t.Fatalf("the planted cookie reads the victim's value: %q", got)
	}
}
