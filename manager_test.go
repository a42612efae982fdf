package loginkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

func TestAnonymousBrowserIsRedirectedWithNext(t *testing.T) {
	a := newApp(t)
	b := a.browser()
	res := b.get("/protected?a=1")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", res.StatusCode)
	}
	if loc := res.Header.Get("Location"); loc != "/login?next=%2Fprotected%3Fa%3D1" {
		t.Fatalf("Location = %q, want /login?next=%%2Fprotected%%3Fa%%3D1", loc)
	}
}

func TestAnonymousJSONClientGets401(t *testing.T) {
	a := newApp(t)
	b := a.browser()
	b.accept = "application/json"
	res := b.get("/protected")
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", res.StatusCode)
	}
	if res.Header.Get("Location") != "" {
		t.Fatalf("a JSON client must not be redirected, got Location %q", res.Header.Get("Location"))
	}
	var msg struct{ Error string }
	if err := json.Unmarshal([]byte(body(res)), &msg); err != nil || msg.Error != "unauthorized" {
		t.Fatalf("body is not the JSON error: %v %+v", err, msg)
	}
}

func TestNoLoginURLMeans401ForBrowsersToo(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.LoginURL("") })
	res := a.browser().get("/protected")
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", res.StatusCode)
	}
}

func TestOptionsIsGuardedLikeEveryMethod(t *testing.T) {
	// Guards once let OPTIONS through unchecked (as Flask-Login does,
	// where Flask answers OPTIONS before the view); in Go the handler
	// itself then ran for anyone. TestAttackOptionsRequestReachesGuardedHandler
	// has the attack; here, the plain cases.
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	anon := a.browser()
	if res := anon.do("OPTIONS", "/protected", ""); res.StatusCode != http.StatusSeeOther || body(res) == "anonymous" {
		t.Fatalf("anonymous OPTIONS: status %d body %q, want the login redirect", res.StatusCode, body(res))
	}
	anon.mustLogin("ann", "pw-ann-123", false)
	if res := anon.do("OPTIONS", "/protected", ""); res.StatusCode != http.StatusOK || body(res) != "user:ann:fresh" {
		t.Fatalf("logged-in OPTIONS: status %d body %q, want the handler's 200", res.StatusCode, body(res))
	}
}

func TestCustomUnauthorizedAndNeedsRefreshHandlers(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.UnauthorizedHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) }))
		b.NeedsRefreshHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(419) }))
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	if res := b.get("/protected"); res.StatusCode != 418 {
		t.Fatalf("unauthorized handler not used: %d", res.StatusCode)
	}
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	if res := b.get("/fresh"); res.StatusCode != 419 {
		t.Fatalf("needs-refresh handler not used: %d", res.StatusCode)
	}
}

func TestLoginRotatesSessionAndKillsOldToken(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	a.register("bob", "pw-bob-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	first := b.cookie(sessionCookie)
	if first == "" {
		t.Fatal("login set no session cookie")
	}
	attacker := b.clone()
	b.mustLogin("bob", "pw-bob-123", false)
	if second := b.cookie(sessionCookie); second == first || second == "" {
		t.Fatalf("login did not issue a new session token")
	}
	wantWho(t, b, "user:bob:fresh")
	wantWho(t, attacker, "anonymous") // the pre-login token is revoked
}

func TestLoginWithPlantedSessionCookieIssuesNewToken(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	planted := strings.Repeat("A", 43)
	b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: planted}
	b.mustLogin("ann", "pw-ann-123", false)
	if b.cookie(sessionCookie) == planted {
		t.Fatal("login kept a session token chosen by the client (fixation)")
	}
	wantWho(t, b, "user:ann:fresh")
}

func TestLogoutRevokesServerSide(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	copied := b.clone()
	if res := b.do("POST", "/logout", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout status %d", res.StatusCode)
	}
	if b.cookie(sessionCookie) != "" || b.cookie(rememberCookie) != "" {
		t.Fatal("logout left cookies in the browser")
	}
	wantWho(t, b, "anonymous")
	wantWho(t, copied, "anonymous") // replayed session and remember cookies are dead
	if res := copied.get("/protected"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed cookies reached a protected page: %d", res.StatusCode)
	}
}

func TestLogoutWhenAnonymousIsSafe(t *testing.T) {
	a := newApp(t)
	if res := a.browser().do("POST", "/logout", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous logout: status %d", res.StatusCode)
	}
}

func TestRememberCookieAloneRestoresNonFreshLogin(t *testing.T) {
	var restored int
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hooks(loginkit.Hooks[*user]{RememberRestored: func(*http.Request, *user) { restored++ }})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	oldRemember := b.cookie(rememberCookie)
	b.restart()
	if b.cookie(sessionCookie) != "" || b.cookie(rememberCookie) == "" {
		t.Fatal("restart should drop the session cookie and keep the remember cookie")
	}
	wantWho(t, b, "user:ann:stale")
	if restored != 1 {
		t.Fatalf("RememberRestored hook ran %d times, want 1", restored)
	}
	if b.cookie(rememberCookie) == oldRemember {
		t.Fatal("remember token was not rotated on use")
	}
	if b.cookie(sessionCookie) == "" {
		t.Fatal("restoring from the remember cookie set no session cookie")
	}
	// Stale session: FreshRequired sends the browser to re-authenticate.
	res := b.get("/fresh")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reauth?next=%2Ffresh" {
		t.Fatalf("stale session on /fresh: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.do("POST", "/reauth", "password=wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reauth with a wrong password: %d", res.StatusCode)
	}
	if res := b.do("POST", "/reauth", "password=pw-ann-123&next=/fresh"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: %d", res.StatusCode)
	}
	if got := body(b.get("/fresh")); got != "user:ann:fresh" {
		t.Fatalf("after reauth /fresh = %q", got)
	}
}

func TestRotatedRememberReplayAfterGraceRevokesEverything(t *testing.T) {
	var thefts int
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Remember(loginkit.RememberOptions{Grace: 30 * time.Second})
		b.Hooks(loginkit.Hooks[*user]{RememberTheft: func(*http.Request, string) { thefts++ }})
	})
	a.register("ann", "pw-ann-123")
	victim := a.browser()
	victim.mustLogin("ann", "pw-ann-123", true)
	thief := victim.clone() // the thief copies the remember cookie
	thief.restart()
	other := a.browser() // the user's second device
	other.mustLogin("ann", "pw-ann-123", false)

	victim.restart()
	wantWho(t, victim, "user:ann:stale") // rotates the remember token
	a.clock.Advance(time.Minute)
	wantWho(t, thief, "anonymous") // replay after the grace window
	if thefts != 1 {
		t.Fatalf("RememberTheft hook ran %d times, want 1", thefts)
	}
	// Every session and remember token of the user is gone.
	wantWho(t, victim, "anonymous")
	wantWho(t, other, "anonymous")
	victim.restart()
	wantWho(t, victim, "anonymous")
	if toks, _ := a.tokens.ListByUser(context.Background(), "", ""); len(toks) != 0 {
		t.Fatalf("tokens left: %d", len(toks))
	}
}

func TestParallelRequestsInsideGraceStayLoggedIn(t *testing.T) {
	a := newApp(t)
	u := a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	// A page fires several requests at once, all with the same remember
	// cookie and no session cookie.
	const n = 8
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = b.request("GET", "/protected", "")
	}
	var wg sync.WaitGroup
	results := make([]*http.Response, n)
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, reqs[i])
			results[i] = rec.Result()
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.StatusCode != http.StatusOK {
			t.Fatalf("parallel request %d: status %d (logged out by its own parallel request)", i, res.StatusCode)
		}
	}
	for _, res := range results {
		b.store(res)
	}
	// A few seconds later, the old cookie (if the browser kept it) still works.
	a.clock.Advance(5 * time.Second)
	wantWho(t, b, "user:ann:stale")
	live, _ := a.tokens.ListByUser(context.Background(), u.ID, loginkit.PurposeRemember)
	if len(live) != 1 {
		t.Fatalf("%d live remember tokens after parallel rotation, want exactly 1", len(live))
	}
}

func TestSessionProtectionStrong(t *testing.T) {
	var protected int
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.SessionProtection(loginkit.ProtectionStrong)
		b.Hooks(loginkit.Hooks[*user]{SessionProtected: func(*http.Request, string, loginkit.Protection) { protected++ }})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	wantWho(t, b, "user:ann:fresh")
	b.addr = "192.0.2.10:50123" // a new connection from the same host
	wantWho(t, b, "user:ann:fresh")
	stolen := b.clone()
	stolen.userAgent = "OtherBrowser/2.0"
	wantWho(t, stolen, "anonymous")
	if protected != 1 {
		t.Fatalf("SessionProtected ran %d times, want 1", protected)
	}
	// The session and the remember token were deleted, not just ignored.
	wantWho(t, b, "anonymous")
	b.restart()
	wantWho(t, b, "anonymous")
}

func TestSessionProtectionStrongWithRememberKeepsWorking(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.SessionProtection(loginkit.ProtectionStrong) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	wantWho(t, b, "user:ann:stale") // restored from the remember cookie
	// The restored session recorded the fingerprint: the next requests
	// from the same browser are not treated as stolen.
	for i := 0; i < 3; i++ {
		wantWho(t, b, "user:ann:stale")
	}
}

func TestSessionProtectionBasicMarksStale(t *testing.T) {
	a := newApp(t) // basic is the default
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	b.addr = "198.51.100.7:1234"
	wantWho(t, b, "user:ann:stale")
	if res := b.get("/fresh"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stale session reached /fresh: %d", res.StatusCode)
	}
}

func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.SessionProtection(loginkit.ProtectionStrong) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	// Untrusted peers cannot change their address with a header.
	r := b.request("GET", "/", "")
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, r)
	if got := rec.Body.String(); got != "user:ann:fresh" {
		t.Fatalf("X-Forwarded-For from an untrusted peer changed the fingerprint: %q", got)
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Timeouts(30*time.Minute, 2*time.Hour) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	// Activity every 20 minutes keeps the session alive (the idle timeout slides)...
	for i := 0; i < 5; i++ {
		a.clock.Advance(20 * time.Minute)
		wantWho(t, b, "user:ann:fresh")
	}
	// ...until the absolute lifetime ends it.
	a.clock.Advance(20 * time.Minute)
	wantWho(t, b, "anonymous")

	b.mustLogin("ann", "pw-ann-123", false)
	a.clock.Advance(31 * time.Minute)
	wantWho(t, b, "anonymous") // idle
}

func TestRememberWorksAcrossIdleExpiry(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Timeouts(30*time.Minute, 2*time.Hour) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	a.clock.Advance(45 * time.Minute)
	wantWho(t, b, "user:ann:stale") // the session idled out; remember restored it
	a.clock.Advance(3 * time.Hour)
	wantWho(t, b, "user:ann:stale")
}

func TestLastSeenWriteIsThrottled(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.TouchInterval(time.Minute) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	s1 := onlySession(t, a)
	for i := 0; i < 5; i++ {
		a.clock.Advance(5 * time.Second)
		wantWho(t, b, "user:ann:fresh")
	}
	if s2 := onlySession(t, a); !s2.LastSeenAt.Equal(s1.LastSeenAt) {
		t.Fatalf("last-seen written within the touch interval: %v -> %v", s1.LastSeenAt, s2.LastSeenAt)
	}
	a.clock.Advance(time.Minute)
	wantWho(t, b, "user:ann:fresh")
	if s3 := onlySession(t, a); !s3.LastSeenAt.After(s1.LastSeenAt) {
		t.Fatal("last-seen not written after the touch interval")
	}
}

func onlySession(t *testing.T, a *app) *loginkit.Session {
	t.Helper()
	u, err := a.users.FindByLogin(context.Background(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := a.sessions.ListByUser(context.Background(), u.ID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions of ann: %d, %v", len(ss), err)
	}
	return ss[0]
}

func TestPasswordChangeLogsOutOtherBrowsers(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	home, work := a.browser(), a.browser()
	home.mustLogin("ann", "pw-ann-123", true)
	work.mustLogin("ann", "pw-ann-123", true)
	if res := home.do("POST", "/password", "current=wrong&new=new-pass-456"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("change with a wrong current password: %d", res.StatusCode)
	}
	if res := home.do("POST", "/password", "current=pw-ann-123&new=new-pass-456"); body(res) != "changed" {
		t.Fatal("password change failed")
	}
	wantWho(t, home, "user:ann:fresh") // this session stays, rotated
	wantWho(t, work, "anonymous")      // the other browser is out on its next request
	work.restart()
	wantWho(t, work, "anonymous") // and its remember cookie is dead too
	if res := a.browser().login("ann", "pw-ann-123", false); res.StatusCode != http.StatusUnauthorized {
		t.Fatal("old password still works")
	}
	a.browser().mustLogin("ann", "new-pass-456", false)
}

func TestLogoutOthers(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	one, two := a.browser(), a.browser()
	one.mustLogin("ann", "pw-ann-123", false)
	two.mustLogin("ann", "pw-ann-123", true)
	if body(one.do("POST", "/logout-others", "")) != "done" {
		t.Fatal("logout-others failed")
	}
	wantWho(t, one, "user:ann:fresh")
	wantWho(t, two, "anonymous")
	two.restart()
	wantWho(t, two, "anonymous")
}

func TestInactiveUserRefusedAtLoginAndDroppedMidSession(t *testing.T) {
	a := newApp(t)
	u := a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	u.Disabled = true
	if err := a.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	wantWho(t, b, "anonymous") // dropped on the next request
	b.restart()
	wantWho(t, b, "anonymous") // and the remember cookie does not bring it back
	if res := a.browser().login("ann", "pw-ann-123", false); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body(res), "not active") {
		t.Fatalf("inactive user login: %d", res.StatusCode)
	}
	_, err := a.m.Authenticate(context.Background(), "ann", "wrong")
	if !errors.Is(err, loginkit.ErrInvalidCredentials) {
		t.Fatalf("inactive user with a wrong password: %v, want ErrInvalidCredentials (no disclosure)", err)
	}
}

func TestForcedLoginOfInactiveUserIsConsistent(t *testing.T) {
	a := newApp(t)
	u := a.register("ann", "pw-ann-123")
	u.Disabled = true
	if err := a.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{}); !errors.Is(err, loginkit.ErrInactive) {
			t.Errorf("Login of an inactive user: %v, want ErrInactive", err)
		}
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{Force: true}); err != nil {
			t.Errorf("forced Login: %v", err)
		}
	}))
	b := a.browser()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, b.request("GET", "/", ""))
	b.store(rec.Result())
	// The forced session keeps working on the next requests.
	wantWho(t, b, "user:ann:fresh")
	wantWho(t, b, "user:ann:fresh")
}

func TestAuthenticateErrors(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	ctx := context.Background()
	_, errUnknown := a.m.Authenticate(ctx, "nobody", "pw-ann-123")
	_, errWrong := a.m.Authenticate(ctx, "ann", "wrong")
	if !errors.Is(errUnknown, loginkit.ErrInvalidCredentials) || !errors.Is(errWrong, loginkit.ErrInvalidCredentials) {
		t.Fatalf("unknown login: %v; wrong password: %v; both must be ErrInvalidCredentials", errUnknown, errWrong)
	}
	if errUnknown.Error() != errWrong.Error() {
		t.Fatalf("errors differ: %q vs %q", errUnknown, errWrong)
	}
	for _, login := range []string{"ann", "ANN", " ann@EXAMPLE.com "} {
		if _, err := a.m.Authenticate(ctx, login, "pw-ann-123"); err != nil {
			t.Fatalf("Authenticate(%q): %v", login, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.m.Authenticate(cctx, "ann", "pw-ann-123"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestAuthenticateRehashesOutdatedHash(t *testing.T) {
	a := newApp(t)
	u := a.register("ann", "pw-ann-123")
	u.PasswordHash = "old" + strings.TrimPrefix(u.PasswordHash, "test")
	if err := a.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.Authenticate(context.Background(), "ann", "pw-ann-123"); err != nil {
		t.Fatal(err)
	}
	got, _ := a.users.LoadUser(context.Background(), u.ID)
	if !strings.HasPrefix(got.PasswordHash, "test$") {
		t.Fatalf("hash not upgraded: %q", got.PasswordHash)
	}
	if got.LastLoginAt.IsZero() {
		t.Fatal("LastLoginAt not recorded")
	}
}

func TestRegisterRefusesDuplicatesAndBadNames(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	ctx := context.Background()
	dup := &user{}
	dup.Email = " ANN@example.com"
	if err := a.m.Register(ctx, dup, "x-password"); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Fatalf("duplicate email: %v", err)
	}
	at := &user{}
	at.Username = "a@b"
	if err := a.m.Register(ctx, at, "x-password"); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("username with @: %v", err)
	}
	if err := a.m.Register(ctx, &user{}, "x-password"); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("no email nor username: %v", err)
	}
}

func TestRequestLoader(t *testing.T) {
	var a *app
	a = newApp(t, func(b *loginkit.Builder[*user]) {
		b.RequestLoader(func(r *http.Request) (*user, error) {
			if r.Header.Get("Authorization") != "Bearer ann-key" {
				return nil, loginkit.ErrNotFound
			}
			return a.users.FindByLogin(r.Context(), "ann")
		})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.accept = "application/json"
	r := b.request("GET", "/protected", "")
	r.Header.Set("Authorization", "Bearer ann-key")
	// An invalid remember cookie falls through to the request loader.
	r.AddCookie(&http.Cookie{Name: rememberCookie, Value: "garbage"})
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || rec.Body.String() != "user:ann:stale" {
		t.Fatalf("request loader: %d %q", rec.Code, rec.Body.String())
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.MaxAge >= 0 {
			t.Fatal("a request-loader login set a session cookie")
		}
	}
	if n, _ := a.sessions.DeleteExpired(context.Background()); n != 0 {
		t.Fatal("unexpected sessions")
	}
	u, _ := a.users.FindByLogin(context.Background(), "ann")
	if ss, _ := a.sessions.ListByUser(context.Background(), u.ID); len(ss) != 0 {
		t.Fatalf("a request-loader login created %d sessions", len(ss))
	}
}

func TestCookieAttributes(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	res := b.login("ann", "pw-ann-123", true)
	check := func(c *http.Cookie, deleting bool) {
		t.Helper()
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Fatalf("cookie %s (deleting=%v) has attributes %+v", c.Name, deleting, c)
		}
	}
	n := 0
	for _, c := range res.Cookies() {
		check(c, false)
		n++
	}
	if n != 2 {
		t.Fatalf("login set %d cookies, want session and remember", n)
	}
	res = b.do("POST", "/logout", "")
	n = 0
	for _, c := range res.Cookies() {
		if c.MaxAge >= 0 {
			t.Fatalf("logout did not delete %s", c.Name)
		}
		check(c, true) // a deletion must repeat the attributes or browsers ignore it
		n++
	}
	if n != 2 {
		t.Fatalf("logout deleted %d cookies, want 2", n)
	}
}

func TestCustomCookieScope(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Cookies(loginkit.CookieOptions{Domain: "example.com", Path: "/app", SameSite: http.SameSiteStrictMode})
	})
	a.register("ann", "pw-ann-123")
	res := a.browser().login("ann", "pw-ann-123", false)
	for _, c := range res.Cookies() {
		if c.Name != "session" || c.Domain != "example.com" || c.Path != "/app" || c.SameSite != http.SameSiteStrictMode {
			t.Fatalf("cookie %+v does not follow CookieOptions (no __Host- prefix with a Domain)", c)
		}
	}
}

func TestMalformedCookiesAreAnonymousAndCleared(t *testing.T) {
	a := newApp(t)
	for _, v := range []string{"x", strings.Repeat("A", 43), strings.Repeat("é", 30), strings.Repeat("A", 5000), "a.b", "..."} {
		b := a.browser()
		b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: v}
		b.cookies[rememberCookie] = &http.Cookie{Name: rememberCookie, Value: v}
		res := b.get("/protected")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cookie %.20q: status %d, want the login redirect", v, res.StatusCode)
		}
		if b.cookie(sessionCookie) != "" || b.cookie(rememberCookie) != "" {
			t.Fatalf("cookie %.20q was not cleared", v)
		}
	}
}

func TestCookiesSetBeforeFirstWrite(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	// A handler that asks for the user and then writes its header at once
	// gets the cookies set while restoring the login.
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.m.CurrentUser(r)
		w.WriteHeader(204)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, b.request("GET", "/", ""))
	var names []string
	for _, c := range rec.Result().Cookies() {
		names = append(names, c.Name)
	}
	if len(names) != 2 {
		t.Fatalf("cookies on a response written at once: %v, want the new session and remember cookies", names)
	}
}

func TestSafeRedirectAfterLogin(t *testing.T) {
	a := newApp(t)
	a.register("ann", "pw-ann-123")
	for next, want := range map[string]string{
		"/account?tab=1":         "/account?tab=1",
		"//evil.example":         "/",
		"https://evil.example/":  "/",
		"/\\evil.example":        "/",
		"javascript:alert(1)":    "/",
		"/%2F%2Fevil.example":    "/",
		"/%5Cevil.example":       "/",
		"/ok%20path":             "/ok%20path",
		"/x\r\nSet-Cookie: a=b":  "/",
		"\t//evil.example":       "/",
		"/\t/evil.example":       "/",
		"https:/\\/evil.example": "/",
		"/..//evil.example":      "/",
		"/.//evil.example":       "/",
		"/a/../..//evil.example": "/",
		"/%2e%2e//evil.example":  "/",
		"/a/..b/c.d":             "/a/..b/c.d",
	} {
		b := a.browser()
		res := b.do("POST", "/login", "login=ann&password=pw-ann-123&next="+url.QueryEscape(next))
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}

func TestBuildRefusesBadConfiguration(t *testing.T) {
	users, sessions := memstore.NewUsers[user](), memstore.NewSessions()
	cases := map[string]*loginkit.Builder[*user]{
		"no loader":            loginkit.New[*user]().Sessions(sessions),
		"no sessions":          loginkit.New[*user]().Users(users).Hasher(testHasher{}),
		"users without hasher": loginkit.New[*user]().Users(users).Sessions(sessions),
		"remember without tokens": loginkit.New[*user]().Users(users).Hasher(testHasher{}).Sessions(sessions).
			Remember(loginkit.RememberOptions{}),
		"insecure without development": loginkit.New[*user]().Users(users).Hasher(testHasher{}).Sessions(sessions).
			Cookies(loginkit.CookieOptions{Insecure: true}),
		"idle above absolute": loginkit.New[*user]().Users(users).Hasher(testHasher{}).Sessions(sessions).
			Timeouts(3*time.Hour, time.Hour),
	}
	for name, b := range cases {
		m, err := b.Build()
		if err == nil || m != nil || !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("%s: Build() = %v, %v; want ErrConfig", name, m, err)
		}
	}
	// A loader function alone is enough for an application that manages users itself.
	m, err := loginkit.New[*user]().
		Loader(loginkit.LoaderFunc[*user](func(ctx context.Context, id string) (*user, error) { return users.LoadUser(ctx, id) })).
		Sessions(sessions).Build()
	if err != nil || m == nil {
		t.Fatalf("loader-only Build: %v", err)
	}
	if _, err := loginkit.New[*user]().Users(users).Hasher(testHasher{}).Sessions(sessions).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Build(); err != nil {
		t.Fatalf("insecure cookies with Development: %v", err)
	}
}

func TestCurrentUserWithoutMiddleware(t *testing.T) {
	a := newApp(t)
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok := a.m.CurrentUser(r); ok {
		t.Fatal("CurrentUser without middleware reported a user")
	}
	if id := a.m.Identity(r); id.Authenticated {
		t.Fatal("Identity without middleware reported a user")
	}
}

func TestHooks(t *testing.T) {
	var events []string
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Hooks(loginkit.Hooks[*user]{
			LoggedIn:  func(_ *http.Request, u *user) { events = append(events, "in:"+u.Name) },
			LoggedOut: func(_ *http.Request, u *user) { events = append(events, "out:"+u.Name) },
			LoginFailed: func(_ context.Context, r *http.Request, login string, _ error) {
				events = append(events, "failed:"+login+"@"+r.RemoteAddr)
			},
			Unauthorized: func(*http.Request) { events = append(events, "unauthorized") },
			NeedsRefresh: func(_ *http.Request, u *user) { events = append(events, "refresh:"+u.Name) },
		})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.get("/protected")
	b.login("ann", "nope", false)
	b.mustLogin("ann", "pw-ann-123", false)
	b.addr = "198.51.100.1:1" // basic protection makes the session stale
	b.get("/fresh")
	b.do("POST", "/logout", "")
	want := "unauthorized failed:ann@192.0.2.10:40000 in:ann refresh:ann out:ann"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("events = %q, want %q", got, want)
	}
}
