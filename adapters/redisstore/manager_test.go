package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/loginkittest"
	"github.com/redis/go-redis/v9"
)

// redisBuilder returns a builder whose users, sessions and tokens are all
// in rdb under prefix.
func redisBuilder(rdb redis.UniversalClient, prefix string) *loginkit.Builder[*conformance.Member] {
	p := redisstore.WithPrefix(prefix)
	return loginkit.New[*conformance.Member]().
		Users(redisstore.NewUsers[conformance.Member](rdb, p)).
		Sessions(redisstore.NewSessions(rdb, p)).
		Tokens(redisstore.NewTokens(rdb, p))
}

// TestMultiInstance runs two managers, two "application servers" each
// with its own Redis client, on one Redis: a login through either is
// recognised by the other, and a logout, a password change, "log out
// other sessions" or an administrator's RevokeUser through either takes
// effect on the other at its very next request. Revoked cookies are
// replayed from copies, as a thief (or a second tab) would, so that a
// 401 proves the server refused them rather than the browser dropping
// them.
func TestMultiInstance(t *testing.T) {
	e1, e2 := newEnv(t), newEnv(t)
	p := e1.prefix(t)
	a := newApp(t, redisBuilder(e1.rdb, p))
	b := newApp(t, redisBuilder(e2.rdb, p))
	ctx := context.Background()

	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}, DisplayName: "Ann"}
	if err := a.m.Register(ctx, ann, "first password"); err != nil {
		t.Fatal(err)
	}
	want := func(who string, br *browser, srv *app, status int) {
		t.Helper()
		got, body := br.me(srv)
		if got != status || (status == http.StatusOK && body != ann.ID) {
			t.Errorf("%s: GET /me = %d %q, want %d", who, got, body, status)
		}
	}
	login := func(br *browser, srv *app, password string, remember bool) {
		t.Helper()
		if res := br.login(srv, "ANN@example.com", password, remember); res.StatusCode != http.StatusNoContent {
			t.Fatalf("login: %d", res.StatusCode)
		}
	}

	// A login through A is recognised by B, and the other way round.
	laptop := newBrowser()
	login(laptop, a, "first password", true)
	want("laptop, logged in through A, on B", laptop, b, http.StatusOK)
	want("laptop on A", laptop, a, http.StatusOK)
	phone := newBrowser()
	login(phone, b, "first password", false)
	want("phone, logged in through B, on A", phone, a, http.StatusOK)

	// A remember cookie issued by A restores the login on B.
	restored := laptop.clone()
	if restored.cookies["session"] == "" || restored.cookies["remember"] == "" {
		t.Fatalf("laptop's cookies after a login with remember-me: %v", restored.cookies)
	}
	delete(restored.cookies, "session")
	want("laptop's remember cookie alone, on B", restored, b, http.StatusOK)

	// Logout through A ends the session on B.
	tablet := newBrowser()
	login(tablet, b, "first password", true)
	stolen := tablet.clone()
	if res := tablet.do(a.h, "POST", "/logout", url.Values{}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	want("tablet's cookies after logout through A, replayed on B", stolen, b, http.StatusUnauthorized)

	// A password change through B ends every other login, remember
	// cookies included, on A; the phone's own session goes on, rotated.
	laptopCopy := laptop.clone()
	if res := phone.do(b.h, "POST", "/password", url.Values{"current": {"first password"}, "next": {"second password"}}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("change password: %d", res.StatusCode)
	}
	want("laptop after the password change through B, on A", laptop, a, http.StatusUnauthorized)
	want("laptop's old cookies after the password change, on B", laptopCopy, b, http.StatusUnauthorized)
	want("phone after its own password change, on A", phone, a, http.StatusOK)
	if res := newBrowser().login(a, "ann@example.com", "first password", false); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("login through A with the old password: %d, want 401", res.StatusCode)
	}

	// "Log out other sessions" through A ends the laptop's new login on B.
	login(laptop, b, "second password", true)
	want("laptop's new login, on A", laptop, a, http.StatusOK)
	if res := phone.do(a.h, "POST", "/logout-others", url.Values{}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout others: %d", res.StatusCode)
	}
	want("laptop after LogoutOthers through A, on B", laptop, b, http.StatusUnauthorized)
	want("phone after its own LogoutOthers, on B", phone, b, http.StatusOK)

	// An administrator's RevokeUser on B ends the phone's login on A.
	u, err := b.m.Authenticate(ctx, "ann@example.com", "second password")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.m.RevokeUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	want("phone after RevokeUser on B, on A", phone, a, http.StatusUnauthorized)

	// Nothing is left in the user's indexes.
	sessions, err := redisstore.NewSessions(e1.raw, redisstore.WithPrefix(p)).ListByUser(ctx, ann.ID)
	if err != nil || len(sessions) != 0 {
		t.Errorf("sessions left after RevokeUser: %d, %v", len(sessions), err)
	}
	tokens, err := redisstore.NewTokens(e1.raw, redisstore.WithPrefix(p)).ListByUser(ctx, ann.ID, "")
	if err != nil || len(tokens) != 0 {
		t.Errorf("tokens left after RevokeUser: %d, %v", len(tokens), err)
	}
}

// memoryLoader is an in-process user loader, standing in for users kept
// outside Redis (a SQL store, or a cache in front of one).
type memoryLoader struct {
	mu    sync.Mutex
	users map[string]conformance.Member
}

func (l *memoryLoader) LoadUser(_ context.Context, id string) (*conformance.Member, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.users[id]
	if !ok {
		return nil, loginkit.ErrNotFound
	}
	return &u, nil
}

// steadyState builds a manager with sessions in rdb and users either in
// memory (users == nil) or in the given store, logs a user in, and returns
// the guarded handler, a request carrying the session cookie, and a
// function that moves the manager's clock forward.
func steadyState(tb testing.TB, rdb redis.UniversalClient, prefix string, users loginkit.UserStore[*conformance.Member]) (http.Handler, *http.Request, func(time.Duration)) {
	tb.Helper()
	var (
		mu  sync.Mutex
		now = time.Now().UTC()
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	ann := &conformance.Member{Account: loginkit.Account{ID: loginkit.NewID(), Email: "ann@example.com"}}
	b := loginkit.New[*conformance.Member]().
		Sessions(redisstore.NewSessions(rdb, redisstore.WithPrefix(prefix))).
		Hasher(testHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).
		TouchInterval(time.Minute).Clock(clock).Logger(quiet)
	if users == nil {
		b.Loader(&memoryLoader{users: map[string]conformance.Member{ann.ID: *ann}})
	} else {
		if err := users.Create(context.Background(), ann); err != nil {
			tb.Fatal(err)
		}
		b.Users(users)
	}
	m, err := b.Build()
	if err != nil {
		tb.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = w.Write([]byte(u.ID))
	})
	r := loginkittest.Request(tb, m, ann, "GET", "/account", nil, loginkittest.From(clientAddr, loginkittest.UserAgent))
	return m.Middleware(m.Required(page)), r, advance
}

// TestRoundTripsPerRequest counts, with a go-redis hook, the round trips
// an authenticated request through Middleware and Required costs.
//
// With users outside Redis, the steady state is exactly one round trip: a
// single GET of the session. With users in this package's store as well,
// it is two: the session GET and an HGET of the user. The two cannot be
// folded into one: the session is found from its key alone and the user
// from the ID inside it, so the second read depends on the first, and in a
// Cluster the two keys are in different slots, where no script may read
// both. An application that wants one round trip keeps its users in
// process or elsewhere. When the throttled "last seen" refresh is due, the
// request costs one more round trip: a pipeline of SET and the index
// script.
func TestRoundTripsPerRequest(t *testing.T) {
	const requests = 10
	run := func(t *testing.T, e *env, p string, users loginkit.UserStore[*conformance.Member], wantCommands int, wantNames []string) {
		h, r, advance := steadyState(t, e.rdb, p, users)
		e.check.counts()
		e.check.names()
		for range requests {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || len(w.Result().Cookies()) != 0 {
				t.Fatalf("steady-state request: %d, cookies %v", w.Code, w.Result().Cookies())
			}
		}
		cmds, pipes, _, _ := e.check.counts()
		if cmds != requests*wantCommands || pipes != 0 {
			t.Errorf("%d requests sent %d commands and %d pipelines; want %d commands (%v each) and no pipeline",
				requests, cmds, pipes, requests*wantCommands, wantNames)
		}
		if got := e.check.names(); !equalRepeated(got, wantNames, requests) {
			t.Errorf("commands sent: %v; want %v per request", got, wantNames)
		}

		// The "last seen" refresh, once due, costs one pipeline more.
		advance(2 * time.Minute)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cmds, pipes, pipelined, names := e.check.counts()
		if w.Code != http.StatusOK || cmds != wantCommands || pipes != 1 || pipelined != 2 {
			t.Errorf("request with a refresh due: %d; %d commands and %d pipelines of %d commands %v; want %d commands and 1 pipeline of 2",
				w.Code, cmds, pipes, pipelined, names, wantCommands)
		}
		e.check.names()
	}
	t.Run("UsersInMemory", func(t *testing.T) {
		e := newEnv(t)
		run(t, e, e.prefix(t), nil, 1, []string{"get"})
	})
	t.Run("UsersInRedis", func(t *testing.T) {
		e := newEnv(t)
		p := e.prefix(t)
		run(t, e, p, redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(p)), 2, []string{"get", "hget"})
	})
}

func equalRepeated(got, unit []string, n int) bool {
	if len(got) != len(unit)*n {
		return false
	}
	for i, g := range got {
		if g != unit[i%len(unit)] {
			return false
		}
	}
	return true
}

// BenchmarkMiddleware measures an authenticated GET through Middleware
// and Required against the real server, in the steady state (no refresh
// due): one round trip with users in memory, two with users in Redis.
func BenchmarkMiddleware(b *testing.B) {
	bench := func(b *testing.B, users func(e *env, prefix string) loginkit.UserStore[*conformance.Member]) {
		e := newEnv(b)
		p := e.prefix(b)
		var us loginkit.UserStore[*conformance.Member]
		if users != nil {
			us = users(e, p)
		}
		h, r, _ := steadyState(b, e.raw, p, us)
		w := &discard{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			w.code = 0
			h.ServeHTTP(w, r)
			if w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	}
	b.Run("UsersInMemory", func(b *testing.B) { bench(b, nil) })
	b.Run("UsersInRedis", func(b *testing.B) {
		bench(b, func(e *env, p string) loginkit.UserStore[*conformance.Member] {
			return redisstore.NewUsers[conformance.Member](e.raw, redisstore.WithPrefix(p))
		})
	})
}

// discard is a ResponseWriter that keeps only the status, so that the
// benchmark measures the handler chain and not a recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// TestManagerSessionSize checks the session size quoted in the package
// documentation on a session the manager itself wrote: a password login
// from an IPv4 address with a common desktop User-Agent.
func TestManagerSessionSize(t *testing.T) {
	e := newEnv(t)
	p := e.prefix(t)
	m, err := loginkit.New[*conformance.Member]().
		Loader(&memoryLoader{}).
		Sessions(redisstore.NewSessions(e.rdb, redisstore.WithPrefix(p))).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "203.0.113.45:52100"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36")
	ann := &conformance.Member{Account: loginkit.Account{ID: loginkit.NewID(), Email: "ann@example.com", SessionVersion: 3}}
	if err := m.Login(httptest.NewRecorder(), r, ann, loginkit.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, err := e.keys(p + "s:")
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys after one login: %v, %v", keys, err)
	}
	n, err := e.raw.StrLen(context.Background(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != redisstore.TypicalSessionSize {
		t.Errorf("the manager's session is %d bytes; the package documentation says %d", n, redisstore.TypicalSessionSize)
	}
}
