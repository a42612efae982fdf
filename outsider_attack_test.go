package loginkit_test

// Attacks an outsider who read the README would try, through HTTP only:
// each test is named after the attack and asserts the outcome the README
// promises.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// withAttackRoutes puts routes an application typically has (a page that
// stores a session value, a login that honours AllowedHosts, a forced
// login) in front of the app's usual ones.
func withAttackRoutes(a *app) {
	mux := http.NewServeMux()
	mux.Handle("/", a.routes())
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.SetValue(w, r, r.FormValue("k"), r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("set"))
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := a.m.Value(r, r.FormValue("k"))
		_, _ = w.Write([]byte(v))
	})
	mux.HandleFunc("POST /login-next", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{}); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, a.m.NextOr(r, "/"), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		u := &user{Name: r.FormValue("username")}
		u.Username, u.Email = r.FormValue("username"), r.FormValue("email")
		switch err := a.m.Register(r.Context(), u, r.FormValue("password")); {
		case err == nil:
			_, _ = w.Write([]byte("registered"))
		case errors.Is(err, loginkit.ErrInvalid), errors.Is(err, loginkit.ErrDuplicate):
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /force-login", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.users.FindByLogin(r.Context(), r.FormValue("login"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{Force: true}); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("forced"))
	})
	a.handler = a.m.Middleware(mux)
}

// browserTarget returns where a browser goes for a Location header: it
// strips tabs and newlines, reads '\' as '/', and resolves the rest
// against the page's URL.
func browserTarget(t *testing.T, page, loc string) *url.URL {
	t.Helper()
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	base, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	return base.ResolveReference(ref)
}

func TestAttackOpenRedirectThroughNextWithAllowedHosts(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.AllowedHosts("app.example") })
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	mustAccept := map[string]bool{
		"https://app.example/x?y=1": true,
		"https://APP.EXAMPLE/x":     true,
		"HTTPS://app.example/x":     true,
		"/account":                  true,
	}
	for _, next := range []string{
		"https://app.example/x?y=1", "https://APP.EXAMPLE/x", "HTTPS://app.example/x", "/account",
		"https://evil.example/", "https://app.example@evil.example/", "https://app.example:@evil.example/",
		"https://app.example.evil.example/", "https://evil.example/app.example", "https://evil.example?app.example",
		"https://app.example%2F@evil.example/", "https://app.example%40evil.example/", "https://app.example\\@evil.example/",
		"https://app.example\t.evil.example/", " https://evil.example/", "https://\tevil.example/",
		"https:app.example/x", "https:/evil.example/", "https:\\\\evil.example/", "//evil.example/", "///evil.example/",
		"/\\evil.example/", "/%2f%2fevil.example", "/%5c%5cevil.example", "\\/evil.example", "/\t/evil.example",
		"https://аpp.example/", "https://app.exаmple/", "https://xn--pp-8cd.example/", "https://app.example./",
		"https://app.example:443.evil.example/", "https://[::ffff:app.example]/", "ftp://app.example/",
		"javascript://app.example/%0aalert(1)", "java\tscript:alert(1)", "data:text/html,<script>", "\x00/evil",
		"https://app.example/..//evil.example", "https://app.example/%2F%2Fevil.example", "https://app.example//evil.example",
		"https://app.example#@evil.example", "https://app.example?@evil.example", "http://evil.example\\.app.example/",
		"https://evil.example\u3002app.example/", "https://evil.example\uff0fapp.example/", "/\u3002/evil.example",
	} {
		b := a.browser()
		res := b.do("POST", "/login-next", "login=ann&password=pw-ann-123&next="+url.QueryEscape(next))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("next=%q: status %d", next, res.StatusCode)
		}
		loc := res.Header.Get("Location")
		if mustAccept[next] && loc != next {
			t.Errorf("next=%q on an allowed host was refused (redirect to %q)", next, loc)
		}
		u := browserTarget(t, "https://login.example/login-next", loc)
		if host := strings.ToLower(u.Hostname()); host != "login.example" && host != "app.example" {
			t.Errorf("next=%q: redirect to %q lands on host %q", next, loc, u.Host)
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			t.Errorf("next=%q: redirect to %q has scheme %q", next, loc, u.Scheme)
		}
	}
}

func TestAttackOpenRedirectThroughHostileRequestPath(t *testing.T) {
	// The guard's redirect carries the request's path as next; a path an
	// attacker chose ("//evil.example") must not become a redirect off site
	// after the login.
	a := newApp(t)
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	for _, path := range []string{"//evil.example/protected", "/protected/..//evil.example", "/protected?next=//evil.example"} {
		b := a.browser()
		r := b.request("GET", "/", "")
		path, query, _ := strings.Cut(path, "?")
		r.URL, r.RequestURI = &url.URL{Path: path, RawQuery: query}, path
		rec := httptest.NewRecorder()
		a.m.Middleware(a.m.Required(http.NotFoundHandler())).ServeHTTP(rec, r)
		loc := rec.Result().Header.Get("Location")
		lu, err := url.Parse(loc)
		if err != nil || lu.Path != "/login" {
			t.Fatalf("path %q: redirect to %q, want the login page", path, loc)
		}
		next := lu.Query().Get("next")
		res := b.do("POST", "/login-next", "login=ann&password=pw-ann-123&next="+url.QueryEscape(next))
		target := browserTarget(t, "https://site.example/login-next", res.Header.Get("Location"))
		if target.Host != "site.example" {
			t.Errorf("path %q: next %q sends the browser to %q", path, next, target)
		}
	}
}

func TestAttackPlantedAnonymousSessionInOddCookieFormsGainsNoLogin(t *testing.T) {
	// The attacker gets a real anonymous session (by storing a value) and
	// plants its cookie in the victim's browser: quoted, duplicated, or
	// behind a garbage cookie of the same name. After the victim logs in,
	// the attacker's copy must still be anonymous, and the victim's
	// session token must be new.
	a := newApp(t)
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	for _, form := range []string{"%s", `"%s"`, "%s; __Host-session=%s", "garbage; __Host-session=%s", "%s; __Host-session=AAAA"} {
		attacker := a.browser()
		if body(attacker.do("POST", "/set", "k=msg&v=hi")) != "set" {
			t.Fatal("could not store a value")
		}
		planted := attacker.cookie(sessionCookie)
		if planted == "" {
			t.Fatal("SetValue gave the anonymous visitor no session cookie")
		}
		value := strings.ReplaceAll(form, "%s", planted)
		if strings.HasPrefix(form, "garbage") {
			value = "garbage; __Host-session=" + planted
		}
		victim := a.browser()
		victim.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: value}
		res := victim.login("ann", "pw-ann-123", false)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cookie %q: login status %d", value, res.StatusCode)
		}
		if got := victim.cookie(sessionCookie); got == "" || strings.Contains(value, got) {
			t.Fatalf("cookie %q: login kept a client-chosen session token (%q)", value, got)
		}
		wantWho(t, victim, "user:ann:fresh")
		wantWho(t, attacker, "anonymous")
		if res := attacker.get("/protected"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cookie %q: the planted session reached a protected page: %d", value, res.StatusCode)
		}
	}
}

func TestAttackConcurrentReplaysOfStolenRememberCookieAfterGrace(t *testing.T) {
	var thefts atomic.Int32
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Remember(loginkit.RememberOptions{Grace: 30 * time.Second})
		b.Hooks(loginkit.Hooks[*user]{RememberTheft: func(*http.Request, string) { thefts.Add(1) }})
	})
	a.register("ann", "pw-ann-123")
	victim := a.browser()
	victim.mustLogin("ann", "pw-ann-123", true)
	thief := victim.clone()
	thief.restart()
	victim.restart()
	wantWho(t, victim, "user:ann:stale") // rotation: the thief's copy is now old
	a.clock.Advance(time.Minute)

	const n = 20
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, thief.request("GET", "/protected", ""))
			got[i] = strconv.Itoa(rec.Code) + " " + rec.Body.String()
		}()
	}
	wg.Wait()
	for i, g := range got {
		if !strings.HasPrefix(g, "303") {
			t.Errorf("replay %d of the stolen cookie got %q, want the login redirect", i, g)
		}
	}
	if thefts.Load() == 0 {
		t.Fatal("no RememberTheft reported for replays after the grace window")
	}
	wantWho(t, victim, "anonymous") // every session of the user is revoked
}

func TestAttackConcurrentReplaysOfRememberCookieAfterLogout(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Remember(loginkit.RememberOptions{Grace: time.Minute}) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	copied := b.clone()
	copied.restart()
	b.restart()
	wantWho(t, b, "user:ann:stale") // rotated: the copy is inside the grace window
	if res := b.do("POST", "/logout", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	var wg sync.WaitGroup
	var in atomic.Int32
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, copied.request("GET", "/", ""))
			if rec.Body.String() != "anonymous" {
				in.Add(1)
			}
		}()
	}
	wg.Wait()
	if in.Load() != 0 {
		t.Fatalf("%d replays of a remember cookie from before the logout logged in", in.Load())
	}
}

func TestAttackSessionCookieCopiedBeforePasswordChangeOnCookieSessions(t *testing.T) {
	cs, err := cookiestore.New(cookiestore.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Sessions(cs) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", true)
	stolen := b.clone()
	if res := b.do("POST", "/password", "current=pw-ann-123&new=new-pass-456"); body(res) != "changed" {
		t.Fatalf("password change failed: %d", res.StatusCode)
	}
	wantWho(t, b, "user:ann:fresh")
	wantWho(t, stolen, "anonymous")
	stolen.restart()
	wantWho(t, stolen, "anonymous") // the remember cookie of before is dead too
}

func TestAttackCookiesCopiedBeforeRevokeUser(t *testing.T) {
	for name, opt := range map[string]appOption{
		"memstore":    func(*loginkit.Builder[*user]) {},
		"cookiestore": func(b *loginkit.Builder[*user]) { cs, _ := cookiestore.New(cookiestore.GenerateKey()); b.Sessions(cs) },
	} {
		t.Run(name, func(t *testing.T) {
			a := newApp(t, opt)
			u := a.register("ann", "pw-ann-123")
			b := a.browser()
			b.mustLogin("ann", "pw-ann-123", true)
			stolen := b.clone()
			if err := a.m.RevokeUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			wantWho(t, stolen, "anonymous")
			stolen.restart()
			wantWho(t, stolen, "anonymous")
			wantWho(t, b, "anonymous")
		})
	}
}

func TestAttackShortRememberCookieNotExtendedByRefreshEachRequest(t *testing.T) {
	// "Remember me on this shared computer for an hour": no response may
	// hand the browser a remember cookie that outlives the hour.
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.Remember(loginkit.RememberOptions{RefreshEachRequest: true})
	})
	a.register("ann", "pw-ann-123")
	b := a.browser()
	checkMaxAge := func(what string, res *http.Response, left time.Duration) {
		t.Helper()
		for _, c := range res.Cookies() {
			if c.Name == rememberCookie && c.MaxAge > int(left/time.Second)+1 {
				t.Fatalf("%s: remember cookie Max-Age %ds, past the %v the login asked for", what, c.MaxAge, left)
			}
		}
	}
	res := b.do("POST", "/login", "login=ann&password=pw-ann-123&remember=1&remember_for=1h")
	checkMaxAge("login", res, time.Hour)
	a.clock.Advance(10 * time.Minute)
	checkMaxAge("logged-in request", b.get("/"), 50*time.Minute)
	b.restart()
	a.clock.Advance(10 * time.Minute)
	checkMaxAge("restore", b.get("/"), 40*time.Minute)
	a.clock.Advance(10 * time.Minute)
	checkMaxAge("request after restore", b.get("/"), 30*time.Minute)
	a.clock.Advance(31 * time.Minute)
	b.restart()
	wantWho(t, b, "anonymous")
}

func TestAttackLibraryValuesDoNotShrinkTheApplicationValueBudget(t *testing.T) {
	// MaxValueBytes bounds the application's values: a value of exactly
	// MaxValueBytes fits in any session, whatever the library keeps in it
	// (here the mark of a forced login of an inactive user).
	a := newApp(t)
	withAttackRoutes(a)
	u := a.register("ann", "pw-ann-123")
	u.Disabled = true
	if err := a.users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	if body(b.do("POST", "/force-login", "login=ann")) != "forced" {
		t.Fatal("forced login failed")
	}
	v := strings.Repeat("x", loginkit.MaxValueBytes-1)
	if res := b.do("POST", "/set", "k=k&v="+v); res.StatusCode != http.StatusOK {
		t.Fatalf("a value of MaxValueBytes was refused: %d %s", res.StatusCode, body(res))
	}
	if got := body(b.get("/get?k=k")); got != v {
		t.Fatalf("value read back has %d bytes", len(got))
	}
	if res := b.do("POST", "/set", "k=k2&v=y"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a value past MaxValueBytes was accepted: %d", res.StatusCode)
	}
}

func TestAttackLoginResponseCachedWithoutVaryCookie(t *testing.T) {
	// A shared cache keys responses on the URL unless Vary says more. The
	// README promises Vary: Cookie on every response whose handler asked
	// for the login — and Login, Logout and SetValue ask. A response that
	// sets a login cookie without it could be served to someone else.
	a := newApp(t)
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	a.register("bob", "pw-bob-123")
	b := a.browser()
	check := func(what string, res *http.Response) {
		t.Helper()
		if len(res.Cookies()) == 0 {
			t.Fatalf("%s set no cookie; the scenario is wrong", what)
		}
		for _, v := range res.Header.Values("Vary") {
			for f := range strings.SplitSeq(v, ",") {
				if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
					return
				}
			}
		}
		t.Errorf("%s: response sets %d cookies without Vary: Cookie (Vary %q)", what, len(res.Cookies()), res.Header.Values("Vary"))
	}
	check("anonymous SetValue", b.do("POST", "/set", "k=a&v=b"))
	check("login", b.login("ann", "pw-ann-123", true))
	check("login over a login", b.login("bob", "pw-bob-123", false))
	check("forced login", b.do("POST", "/force-login", "login=ann"))
	check("password change", b.do("POST", "/password", "current=pw-ann-123&new=new-pass-456"))
	check("logout", b.do("POST", "/logout", ""))
	c := a.browser()
	check("login from nothing", c.login("bob", "pw-bob-123", true))
	c.restart()
	check("restore", c.get("/"))
	check("logout others", c.do("POST", "/logout-others", ""))
}

func TestAttackCookieAttributesOnEveryFlow(t *testing.T) {
	// Every cookie the manager sets or clears, in any flow, is HttpOnly,
	// Secure, SameSite=Lax and a __Host- cookie (Path=/, no Domain).
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Remember(loginkit.RememberOptions{RefreshEachRequest: true}) })
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	n := 0
	check := func(what string, res *http.Response) {
		t.Helper()
		for _, c := range res.Cookies() {
			n++
			if !strings.HasPrefix(c.Name, "__Host-") || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("%s: cookie %s has attributes %+v", what, c.Name, c)
			}
		}
	}
	check("anonymous SetValue", b.do("POST", "/set", "k=a&v=b"))
	check("login", b.login("ann", "pw-ann-123", true))
	check("refresh", b.get("/"))
	check("reauth", b.do("POST", "/reauth", "password=pw-ann-123"))
	check("logout others", b.do("POST", "/logout-others", ""))
	check("logout", b.do("POST", "/logout", ""))
	b.login("ann", "pw-ann-123", true)
	b.restart()
	check("restore", b.get("/"))
	bad := a.browser()
	bad.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: "garbage"}
	bad.cookies[rememberCookie] = &http.Cookie{Name: rememberCookie, Value: "x.y"}
	check("malformed cookies cleared", bad.get("/"))
	if n < 10 {
		t.Fatalf("only %d cookies seen; the scenario is wrong", n)
	}
}

func TestAttackHugeLoginNameIsInvalidInputNotAStoreError(t *testing.T) {
	// A login name of 20 KB passes every character rule; PostgreSQL then
	// refuses it ("index row requires 20016 bytes"), and the application
	// answers 500 with an ERROR log line per request. Such names must be
	// refused as invalid input, before any store, by Register and by
	// Authenticate.
	a := newApp(t)
	withAttackRoutes(a)
	long := strings.Repeat("a1b2c3d4", 2500)
	b := a.browser()
	for _, form := range []string{"username=" + long, "email=" + long + "@example.com"} {
		res := b.do("POST", "/register", form+"&password=pw-123-abc")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("register %.20s…: status %d, want 400", form, res.StatusCode)
		}
	}
	u := &user{}
	u.Username = long
	if err := a.m.Register(context.Background(), u, "pw-123-abc"); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("Register of a 20 KB name: %v, want ErrInvalid", err)
	}
	if _, err := a.m.Authenticate(context.Background(), long, "pw-123-abc"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
		t.Fatalf("Authenticate with a 20 KB name: %v, want ErrInvalidCredentials", err)
	}
	// A long but reasonable name still works.
	if res := b.do("POST", "/register", "username="+strings.Repeat("n", 200)+"&password=pw-123-abc"); res.StatusCode != http.StatusOK {
		t.Fatalf("a 200-byte username was refused: %d %s", res.StatusCode, body(res))
	}
}

func TestAttackOptionsRequestReachesGuardedHandler(t *testing.T) {
	// Handlers registered without a method in the pattern see every
	// method. An OPTIONS request, forged as a CORS preflight or not, must
	// not run a guarded handler for someone the guard would refuse.
	a := newApp(t)
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	ran := 0
	admin := a.m.Guard(loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Account == nil || c.Account.Username != "root" {
			return loginkit.ErrForbidden
		}
		return nil
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		_, _ = w.Write([]byte("admin data"))
	}))
	fresh := a.m.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ }))
	required := a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ }))
	anon := a.browser()
	ann := a.browser()
	ann.mustLogin("ann", "pw-ann-123", true)
	stale := ann.clone()
	stale.restart()
	for _, c := range []struct {
		name string
		b    *browser
		h    http.Handler
	}{
		{"anonymous, Required", anon, required},
		{"anonymous, Guard", anon, admin},
		{"logged in, refused by the policy", ann, admin},
		{"remembered, FreshRequired", stale, fresh},
	} {
		for _, preflight := range []bool{false, true} {
			r := c.b.request("OPTIONS", "/admin", "")
			if preflight {
				r.Header.Set("Origin", "https://evil.example")
				r.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			a.m.Middleware(c.h).ServeHTTP(rec, r)
			if ran != 0 || rec.Code < 300 {
				t.Fatalf("%s (preflight %v): OPTIONS ran the guarded handler (status %d, body %q)", c.name, preflight, rec.Code, rec.Body.String())
			}
		}
	}
	// The guard still lets through the user it accepts.
	rec := httptest.NewRecorder()
	a.m.Middleware(required).ServeHTTP(rec, ann.request("OPTIONS", "/admin", ""))
	if ran != 1 {
		t.Fatalf("OPTIONS from a logged-in user did not reach Required's handler: %d", rec.Code)
	}
}

func TestAttackSecondFactorResponsesCachedWithoutVaryCookie(t *testing.T) {
	a := newTFApp(t, loginkit.SecondFactorOptions{})
	b, secret, _ := a.enrolAnn()
	b.do("POST", "/logout", "")
	a.clock.Advance(30 * time.Second)
	varies := func(res *http.Response) bool {
		for _, v := range res.Header.Values("Vary") {
			for f := range strings.SplitSeq(v, ",") {
				if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
					return true
				}
			}
		}
		return false
	}
	res := b.login("ann", "pw-ann-123", true)
	if len(res.Cookies()) == 0 || !varies(res) {
		t.Fatalf("password step: %d cookies, Vary %q; want the pending cookie with Vary: Cookie", len(res.Cookies()), res.Header.Values("Vary"))
	}
	res = a.totpNow(b, secret)
	if len(res.Cookies()) == 0 || !varies(res) {
		t.Fatalf("second factor: %d cookies, Vary %q; want the login cookies with Vary: Cookie", len(res.Cookies()), res.Header.Values("Vary"))
	}
	wantWho(t, b, "user:ann:fresh")
}

func TestAttackIdentityClaimsFreshAfterFreshForExpired(t *testing.T) {
	// A page that shows sensitive actions when Identity.Fresh is true must
	// agree with FreshRequired, which refuses a session older than
	// FreshFor.
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.FreshFor(10 * time.Minute) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	wantWho(t, b, "user:ann:fresh")
	a.clock.Advance(11 * time.Minute)
	if res := b.get("/fresh"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("FreshRequired after FreshFor: %d, want the refresh redirect", res.StatusCode)
	}
	wantWho(t, b, "user:ann:stale")
	if res := b.do("POST", "/reauth", "password=pw-ann-123"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: %d", res.StatusCode)
	}
	wantWho(t, b, "user:ann:fresh")
}

func TestAttackManySmallValuesOverflowTheSessionCookie(t *testing.T) {
	// MaxValueBytes is the promise on every store, cookiestore included:
	// values within it fit, whatever their shape (many small ones here),
	// and the login that carries them still works.
	cs, err := cookiestore.New(cookiestore.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Sessions(cs) })
	withAttackRoutes(a)
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.userAgent = strings.Repeat("Mozilla/5.0 ", 30) // past the 256 bytes kept
	b.addr = "[2001:db8::1234:5678:9abc:def0]:443"
	used := 0
	n := 0
	for ; used+len(strconv.Itoa(n))+1 <= loginkit.MaxValueBytes; n++ {
		k := strconv.Itoa(n)
		if res := b.do("POST", "/set", "k="+k+"&v=x"); res.StatusCode != http.StatusOK {
			t.Fatalf("value %d (%d of %d bytes used) refused: %d %s", n, used, loginkit.MaxValueBytes, res.StatusCode, body(res))
		}
		used += len(k) + 1
	}
	b.mustLogin("ann", "pw-ann-123", true)
	wantWho(t, b, "user:ann:fresh")
	for _, k := range []int{0, n / 2, n - 1} {
		if got := body(b.get("/get?k=" + strconv.Itoa(k))); got != "x" {
			t.Fatalf("value %d of %d lost through the login: %q", k, n, got)
		}
	}
}

func TestAttackResetResponseClearingCookiesCachedWithoutVaryCookie(t *testing.T) {
	ra := newRecoveryApp(t, nil)
	ra.register("ivy", "old-password")
	b := ra.browser()
	b.mustLogin("ivy", "old-password", true)
	link := ra.resetLink(ra.browser(), "ivy", "ivy@example.com")
	res := ra.complete(b, tokenOf(t, link), "new-password")
	if res.StatusCode != http.StatusOK || len(res.Cookies()) == 0 {
		t.Fatalf("reset from a logged-in browser: %d, %d cookies; want 200 clearing the login cookies", res.StatusCode, len(res.Cookies()))
	}
	for _, v := range res.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
				return
			}
		}
	}
	t.Fatalf("reset response clears %d cookies without Vary: Cookie (Vary %q)", len(res.Cookies()), res.Header.Values("Vary"))
}
