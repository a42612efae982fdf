package loginkit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// countingTokens counts token store reads and writes.
type countingTokens struct {
	loginkit.TokenStore
	gets, creates, consumes atomic.Int64
}

func (c *countingTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	c.gets.Add(1)
	return c.TokenStore.Get(ctx, sel)
}

func (c *countingTokens) Create(ctx context.Context, t *loginkit.Token) error {
	c.creates.Add(1)
	return c.TokenStore.Create(ctx, t)
}

func (c *countingTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	c.consumes.Add(1)
	return c.TokenStore.Consume(ctx, sel)
}

// counted is an app whose stores count their calls.
type counted struct {
	*app
	users    *countingUsers
	sessions *countingSessions
	tokens   *countingTokens
}

func newCounted(t *testing.T, opts ...appOption) *counted {
	c := &counted{
		users:    &countingUsers{UserStore: memstore.NewUsers[user]()},
		sessions: &countingSessions{SessionStore: memstore.NewSessions()},
		tokens:   &countingTokens{TokenStore: memstore.NewTokens()},
	}
	opts = append([]appOption{func(b *loginkit.Builder[*user]) {
		b.Users(c.users).Sessions(c.sessions).Tokens(c.tokens)
	}}, opts...)
	c.app = newApp(t, opts...)
	return c
}

// reads returns the store calls so far and resets the counters.
func (c *counted) reads() (sessionGets, sessionSaves, userLoads, tokenGets, tokenWrites int64) {
	sessionGets, sessionSaves = c.sessions.gets.Swap(0), c.sessions.saves.Swap(0)
	userLoads, tokenGets = c.users.loads.Swap(0), c.tokens.gets.Swap(0)
	tokenWrites = c.tokens.creates.Swap(0) + c.tokens.consumes.Swap(0)
	return
}

// static is a handler that never asks for the user, as a file server.
func staticRoute(a *app) *browser {
	return withRoute(a, "GET /static/app.css", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		_, _ = w.Write([]byte("body{}"))
	}))
}

func TestStaticRequestAfterRestartReadsNothingAndSetsNoCookie(t *testing.T) {
	c := newCounted(t)
	c.register("ann", "pw-ann-123")
	b := staticRoute(c.app)
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart() // only the remember cookie is left
	remember := b.cookie(rememberCookie)
	if remember == "" || b.cookie(sessionCookie) != "" {
		t.Fatalf("after restart: session %q remember %q, want only a remember cookie", b.cookie(sessionCookie), remember)
	}
	c.reads()

	res := b.get("/static/app.css")
	if res.StatusCode != 200 || body(res) != "body{}" {
		t.Fatalf("static: %d %q", res.StatusCode, body(res))
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("static request set cookies: %v", sc)
	}
	if v := res.Header.Get("Vary"); v != "" {
		t.Fatalf("static request got Vary %q; its content does not depend on the user", v)
	}
	if sg, ss, ul, tg, tw := c.reads(); sg+ss+ul+tg+tw != 0 {
		t.Fatalf("static request touched the stores: %d session reads, %d session writes, %d user loads, %d token reads, %d token writes", sg, ss, ul, tg, tw)
	}

	// A protected request right after restores the login and rotates the
	// remember token, as before.
	res = b.get("/protected")
	if got := body(res); got != "user:ann:stale" {
		t.Fatalf("protected after restart = %q, want the restored, non-fresh login", got)
	}
	if b.cookie(sessionCookie) == "" {
		t.Fatal("restore set no session cookie")
	}
	if nr := b.cookie(rememberCookie); nr == "" || nr == remember {
		t.Fatalf("remember cookie not rotated: %q", nr)
	}
	if v := res.Header.Get("Vary"); v != "Cookie" {
		t.Fatalf("Vary = %q, want Cookie on a response that depended on the user", v)
	}
	sg, ss, ul, tg, tw := c.reads()
	if tg != 1 || ul != 1 || ss != 1 || tw != 3 || sg != 0 {
		t.Fatalf("restore: %d token reads, %d user loads, %d session saves, %d token writes, %d session reads; want 1, 1, 1, 3 (record, consume, issue), 0", tg, ul, ss, tw, sg)
	}
	// And the session it started serves the next request.
	wantWho(t, b, "user:ann:stale")
}

func TestLoggedInStaticRequestReadsNothing(t *testing.T) {
	c := newCounted(t)
	c.register("ann", "pw-ann-123")
	b := staticRoute(c.app)
	b.mustLogin("ann", "pw-ann-123", false)
	c.reads()
	res := b.get("/static/app.css")
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("static request set cookies: %v", sc)
	}
	if sg, ss, ul, tg, tw := c.reads(); sg+ss+ul+tg+tw != 0 {
		t.Fatalf("static request touched the stores: %d %d %d %d %d", sg, ss, ul, tg, tw)
	}
}

func TestStateLoadsOncePerRequest(t *testing.T) {
	c := newCounted(t)
	c.register("ann", "pw-ann-123")
	var who []string
	b := withRoute(c.app, "GET /many", c.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			u, _ := c.m.CurrentUser(r)
			who = append(who, u.Name)
		}
		_ = c.m.Identity(r)
		_, _ = c.m.CurrentSession(r)
		_, _ = c.m.Value(r, "x")
	})))
	b.mustLogin("ann", "pw-ann-123", false)
	c.reads()
	res := b.get("/many")
	if res.StatusCode != 200 || len(who) != 3 || who[2] != "ann" {
		t.Fatalf("status %d, users %v", res.StatusCode, who)
	}
	if sg, ss, ul, tg, tw := c.reads(); sg != 1 || ul != 1 || ss+tg+tw != 0 {
		t.Fatalf("one request asking six times: %d session reads, %d user loads, %d other calls; want 1, 1, 0", sg, ul, ss+tg+tw)
	}
	if v := res.Header.Values("Vary"); len(v) != 1 || v[0] != "Cookie" {
		t.Fatalf("Vary = %v, want one Cookie", v)
	}
}

func TestVaryCookieNotRepeated(t *testing.T) {
	a := newApp(t)
	b := withRoute(a, "GET /v", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding, cookie")
		a.m.CurrentUser(r)
	}))
	res := b.get("/v")
	if v := res.Header.Values("Vary"); len(v) != 1 || v[0] != "Accept-Encoding, cookie" {
		t.Fatalf("Vary = %v, want the handler's own, naming Cookie once", v)
	}
}

func TestLateAskIgnoresRememberCookieWithoutConsumingIt(t *testing.T) {
	c := newCounted(t)
	c.register("ann", "pw-ann-123")
	var late []bool
	b := withRoute(c.app, "GET /late", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("header sent; "))
		_, ok := c.m.CurrentUser(r)
		late = append(late, ok)
	}))
	b.mustLogin("ann", "pw-ann-123", true)
	b.restart()
	remember := b.cookie(rememberCookie)
	c.reads()
	res := b.get("/late")
	if len(late) != 1 || late[0] {
		t.Fatalf("a load after the header was written restored the login: %v", late)
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("late load set cookies: %v", sc)
	}
	if _, _, _, tg, tw := c.reads(); tg+tw != 0 {
		t.Fatalf("late load used the remember token: %d reads, %d writes", tg, tw)
	}
	// The token was not consumed: the next request restores normally.
	if b.cookie(rememberCookie) != remember {
		t.Fatal("remember cookie changed")
	}
	wantWho(t, b, "user:ann:stale")
}

func TestTrackingWriterKeepsFlusherAndReaderFrom(t *testing.T) {
	a := newApp(t)
	var flusher, readerFrom, unwrap bool
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, flusher = w.(http.Flusher)
		_, readerFrom = w.(io.ReaderFrom)
		_, unwrap = w.(interface{ Unwrap() http.ResponseWriter })
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !flusher || !readerFrom || !unwrap || !rec.Flushed {
		t.Fatalf("Flusher %v, ReaderFrom %v, Unwrap %v, flushed %v", flusher, readerFrom, unwrap, rec.Flushed)
	}
}

func TestTrackingWriterHijacks(t *testing.T) {
	a := newApp(t)
	srv := httptest.NewServer(a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack through the wrapper: %v", err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = buf.Flush()
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); string(b) != "hijacked" {
		t.Fatalf("body %q", b)
	}
}

// TestRestoreThenLogoutInOneRequest: a handler that first asks for the
// user (restoring the login from the remember cookie, which rotates the
// token) and then logs out or logs in again leaves no remember token
// behind: the one issued by the restore is revoked with the rest.
func TestRestoreThenLogoutInOneRequest(t *testing.T) {
	for _, then := range []string{"logout", "login"} {
		t.Run(then, func(t *testing.T) {
			a := newApp(t)
			ann := a.register("ann", "pw-ann-123")
			b := withRoute(a, "POST /both", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, ok := a.m.CurrentUser(r)
				if !ok {
					t.Error("the remember cookie did not restore the login")
					return
				}
				var err error
				if then == "logout" {
					err = a.m.Logout(w, r)
				} else {
					err = a.m.Login(w, r, u, loginkit.LoginOptions{})
				}
				if err != nil {
					t.Error(err)
				}
			}))
			b.mustLogin("ann", "pw-ann-123", true)
			b.restart()
			// The login's own session stays in the store, orphaned by the
			// restart; only sessions made by the request below count.
			before := map[string]bool{}
			old, _ := a.sessions.ListByUser(context.Background(), ann.ID)
			for _, s := range old {
				before[s.Key] = true
			}
			b.do("POST", "/both", "x=1")
			toks, err := a.tokens.ListByUser(context.Background(), ann.ID, loginkit.PurposeRemember)
			if err != nil || len(toks) != 0 {
				t.Fatalf("remember tokens left after restore then %s: %d (%v)", then, len(toks), err)
			}
			if b.cookie(rememberCookie) != "" {
				t.Fatalf("the browser kept a remember cookie after restore then %s", then)
			}
			sessions, err := a.sessions.ListByUser(context.Background(), ann.ID)
			var made []*loginkit.Session
			for _, s := range sessions {
				if !before[s.Key] {
					made = append(made, s)
				}
			}
			want := map[string]int{"logout": 0, "login": 1}[then]
			if err != nil || len(made) != want || (want == 1 && made[0].Remembered) {
				t.Fatalf("sessions made by restore then %s: %d (%v), want %d fresh login", then, len(made), err, want)
			}
		})
	}
}
