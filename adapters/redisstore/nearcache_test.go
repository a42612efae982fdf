package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// nearSessions returns a session store with a near-cache of the given
// bound on rdb's server, closed when the test ends.
func nearSessions(tb testing.TB, rdb redis.UniversalClient, prefix string, bound time.Duration) *redisstore.Sessions {
	tb.Helper()
	st := redisstore.NewSessions(rdb, redisstore.WithPrefix(prefix),
		redisstore.WithNearCache(redisstore.NearCacheConfig{Bound: bound, Logger: quiet}))
	tb.Cleanup(func() { _ = st.Close() })
	if s := st.NearCacheStats(); !s.Enabled {
		tb.Fatalf("near-cache off: %s", s.Reason)
	}
	return st
}

// trusted waits until the store's near-cache serves a read of key from
// the cache, so that a test starts from a warm, trusted cache.
func warm(tb testing.TB, st *redisstore.Sessions, key string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := st.NearCacheStats().Hits
		if _, err := st.Get(context.Background(), key); err != nil {
			tb.Fatalf("warm up: %v", err)
		}
		if st.NearCacheStats().Hits > before {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the near-cache never served %s: %+v", key, st.NearCacheStats())
		}
		time.Sleep(time.Millisecond)
	}
}

// hourSession is a session of userID that expires in an hour.
func hourSession(key, userID string) *loginkit.Session {
	return newSession(key, userID, time.Now().Add(time.Hour))
}

// TestNearCacheOffWhereUnsupported checks that a client that cannot carry
// the cache (Cluster, Sentinel, another database, RESP2) is reported at
// construction and used uncached, exactly as without the option.
func TestNearCacheOffWhereUnsupported(t *testing.T) {
	url := testenv.Require(t, testenv.RedisURL)
	base, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	db1 := *base
	db1.DB = 1
	resp2 := *base
	resp2.Protocol = 2
	cases := []struct {
		name string
		rdb  redis.UniversalClient
		why  string
		real bool // a real server: check the store works
	}{
		{"Cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), "single-node", false},
		{"Sentinel", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}}), "Sentinel", false},
		{"DB1", redis.NewClient(&db1), "database 1", true},
		{"RESP2", redis.NewClient(&resp2), "RESP3", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer c.rdb.Close()
			var logged bytes.Buffer
			st := redisstore.NewSessions(c.rdb, redisstore.WithPrefix(testRoot+"off:"+strconv.FormatInt(time.Now().UnixNano(), 36)+":"),
				redisstore.WithNearCache(redisstore.NearCacheConfig{Logger: slog.New(slog.NewTextHandler(&logged, nil))}))
			defer st.Close()
			s := st.NearCacheStats()
			if s.Enabled || !strings.Contains(s.Reason, c.why) {
				t.Errorf("stats %+v; want disabled, reason naming %q", s, c.why)
			}
			if !strings.Contains(logged.String(), "near-cache off") || !strings.Contains(logged.String(), c.why) {
				t.Errorf("construction logged %q; want a line saying the near-cache is off because of %q", logged.String(), c.why)
			}
			if !c.real {
				return
			}
			ctx := context.Background()
			sess := hourSession("k1", "u1")
			if err := st.Save(ctx, sess); err != nil {
				t.Fatal(err)
			}
			defer st.Delete(ctx, "k1")
			for range 3 {
				if got, err := st.Get(ctx, "k1"); err != nil || got.UserID != "u1" {
					t.Fatalf("Get: %v, %v", got, err)
				}
			}
			if err := st.Delete(ctx, "k1"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, "k1"); !errors.Is(err, loginkit.ErrNotFound) {
				t.Fatalf("Get after Delete: %v", err)
			}
			if s := st.NearCacheStats(); s.Hits != 0 || s.Misses != 0 || s.Bypassed != 0 {
				t.Errorf("an uncached store counted cache activity: %+v", s)
			}
		})
	}
}

// TestNearCacheForgetsOwnWrites checks that the store's own writes (a
// throttled touch, a save, a delete, DeleteByUser) take effect on its very
// next read, with no wait for Redis's invalidation; and, directly, that
// the local invalidation finds the entry go-redis cached.
func TestNearCacheForgetsOwnWrites(t *testing.T) {
	e := newEnv(t)
	p := e.prefix(t)
	st := nearSessions(t, e.rdb, p, time.Second)
	ctx := context.Background()

	s := hourSession("own", "u-own")
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	warm(t, st, "own")
	if n := redisstore.NearForget(st, "own"); n != 1 {
		t.Fatalf("forgetting a cached session dropped %d entries; want 1 (the cache namespace does not match go-redis's)", n)
	}

	for i := range 200 {
		warm(t, st, "own")
		s.IP = "198.51.100." + strconv.Itoa(i%250)
		s.LastSeenAt = s.LastSeenAt.Add(time.Second)
		var err error
		if i%2 == 0 {
			err = st.Touch(ctx, s)
		} else {
			err = st.Save(ctx, s)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, "own")
		if err != nil || got.IP != s.IP {
			t.Fatalf("write %d: the next read returned IP %v (%v); want %s", i, got, err, s.IP)
		}
	}
	warm(t, st, "own")
	if err := st.Delete(ctx, "own"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "own"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("read after the store's own Delete: %v, %v; want ErrNotFound", got, err)
	}

	for _, k := range []string{"a", "b", "c"} {
		if err := st.Save(ctx, hourSession(k, "u-many")); err != nil {
			t.Fatal(err)
		}
		warm(t, st, k)
	}
	if n, err := st.DeleteByUser(ctx, "u-many", "b"); err != nil || n != 2 {
		t.Fatalf("DeleteByUser: %d, %v", n, err)
	}
	for _, k := range []string{"a", "c"} {
		if got, err := st.Get(ctx, k); !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("read of %s after the store's own DeleteByUser: %v, %v; want ErrNotFound", k, got, err)
		}
	}
	if _, err := st.Get(ctx, "b"); err != nil {
		t.Errorf("the kept session: %v", err)
	}
}

// nearBuilder is redisBuilder with a near-cache of the given bound on the
// sessions.
func nearBuilder(tb testing.TB, rdb *redis.Client, prefix string, bound time.Duration) (*loginkit.Builder[*conformance.Member], *redisstore.Sessions) {
	p := redisstore.WithPrefix(prefix)
	st := nearSessions(tb, rdb, prefix, bound)
	return loginkit.New[*conformance.Member]().
		Users(redisstore.NewUsers[conformance.Member](rdb, p)).
		Sessions(st).
		Tokens(redisstore.NewTokens(rdb, p)), st
}

// TestNearCacheTwoManagers runs two managers with near-caches, each with
// its own client, on one Redis: a logout through A is refused by B within
// the bound though B had the session cached, and a password change
// through A is refused by B for every other session, while the session
// that changed it goes on. The refusal delay is reported.
func TestNearCacheTwoManagers(t *testing.T) {
	const bound = 500 * time.Millisecond
	e1, e2 := newEnv(t), newEnv(t)
	p := e1.prefix(t)
	ba, _ := nearBuilder(t, e1.rdb, p, bound)
	bb, stB := nearBuilder(t, e2.rdb, p, bound)
	a, b := newApp(t, ba), newApp(t, bb)
	ctx := context.Background()
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}}
	if err := a.m.Register(ctx, ann, "first password"); err != nil {
		t.Fatal(err)
	}
	login := func(br *browser, srv *app, password string) {
		t.Helper()
		if res := br.login(srv, "ann@example.com", password, false); res.StatusCode != http.StatusNoContent {
			t.Fatalf("login: %d", res.StatusCode)
		}
	}
	// warmOn makes B serve br's session from its cache.
	warmOn := func(br *browser) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			before := stB.NearCacheStats().Hits
			if code, _ := br.me(b); code != http.StatusOK {
				t.Fatalf("GET /me on B: %d", code)
			}
			if stB.NearCacheStats().Hits > before {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("B never served the session from its cache")
			}
			time.Sleep(time.Millisecond)
		}
	}
	// refusedWithin replays br on B until it is refused and reports how
	// long after `done` that was; it fails if a request begun more than
	// the bound after done is accepted.
	refusedWithin := func(who string, br *browser, done time.Time) time.Duration {
		t.Helper()
		for {
			start := time.Now()
			code, _ := br.me(b)
			if code == http.StatusUnauthorized {
				return start.Sub(done)
			}
			if start.Sub(done) > bound {
				t.Fatalf("%s: B accepted a request begun %s after the revocation; bound %s", who, start.Sub(done), bound)
			}
		}
	}

	var delays []time.Duration
	for range 5 {
		tablet := newBrowser()
		login(tablet, b, "first password")
		warmOn(tablet)
		stolen := tablet.clone()
		if res := tablet.do(a.h, "POST", "/logout", url.Values{}); res.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		delays = append(delays, refusedWithin("logout through A", stolen, time.Now()))
	}
	t.Logf("logout through A refused by B after %v (bound %s)", delays, bound)

	others := []*browser{newBrowser(), newBrowser(), newBrowser()}
	for _, br := range others {
		login(br, b, "first password")
		warmOn(br)
	}
	phone := newBrowser()
	login(phone, a, "first password")
	warmOn(phone)
	if res := phone.do(a.h, "POST", "/password", url.Values{"current": {"first password"}, "next": {"second password"}}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("change password: %d", res.StatusCode)
	}
	done := time.Now()
	for i, br := range others {
		d := refusedWithin("session "+strconv.Itoa(i)+" after the password change through A", br, done)
		t.Logf("other session %d refused by B %s after the password change", i, d)
	}
	if code, _ := phone.me(b); code != http.StatusOK {
		t.Errorf("the session that changed the password, on B: %d; want 200", code)
	}
}

// TestNearCacheOwnLogout checks that a logout takes effect on the very
// next request to the same instance, though the session was cached.
func TestNearCacheOwnLogout(t *testing.T) {
	e := newEnv(t)
	p := e.prefix(t)
	bld, st := nearBuilder(t, e.rdb, p, time.Second)
	a := newApp(t, bld)
	ctx := context.Background()
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}}
	if err := a.m.Register(ctx, ann, "first password"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		br := newBrowser()
		if res := br.login(a, "ann@example.com", "first password", false); res.StatusCode != http.StatusNoContent {
			t.Fatalf("login: %d", res.StatusCode)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			before := st.NearCacheStats().Hits
			if code, _ := br.me(a); code != http.StatusOK {
				t.Fatalf("GET /me: %d", code)
			}
			if st.NearCacheStats().Hits > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the session was never served from the cache")
			}
		}
		stolen := br.clone()
		if res := br.do(a.h, "POST", "/logout", url.Values{}); res.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if code, _ := stolen.me(a); code != http.StatusUnauthorized {
			t.Fatalf("round %d: the request right after the logout, with the old cookies: %d; want 401", i, code)
		}
	}
}

// TestNearCacheSaturated revokes sessions, most of them cached, from
// another client while this process's CPUs are saturated by busy
// goroutines, which starve go-redis's invalidation drainer and the
// heartbeat alike: no read begun more than the bound after a revocation
// may return the session.
func TestNearCacheSaturated(t *testing.T) {
	const bound = 250 * time.Millisecond
	// Sessions are revoked until enough of them were served from the
	// cache just before (a busy machine may keep the cache untrusted for
	// long stretches, which is the point), up to maxSessions.
	const maxSessions, wantCached = 40, 3
	e := newEnv(t)
	p := e.prefix(t)
	st := nearSessions(t, e.rdb, p, bound)
	other := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p))
	ctx := context.Background()

	stop := make(chan struct{})
	var burners sync.WaitGroup
	for range 3 * runtime.GOMAXPROCS(0) {
		burners.Add(1)
		go func() {
			defer burners.Done()
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range 100_000 {
					x += i
				}
			}
		}()
	}
	defer func() { close(stop); burners.Wait() }()

	var late []time.Duration    // read start minus deletion, first refused read
	var rawLatest time.Duration // latest read of a deleted session served by go-redis's cache alone
	cachedAtDeletion := 0
	before := st.NearCacheStats()
	sessions := 0
	for i := 0; i < maxSessions && cachedAtDeletion < wantCached; i++ {
		sessions++
		key := "sat-" + strconv.Itoa(i)
		if err := other.Save(ctx, hourSession(key, "u-sat")); err != nil {
			t.Fatal(err)
		}
		// Read until served from the cache, for at most two bounds.
		for start := time.Now(); time.Since(start) < 2*bound; {
			hits := st.NearCacheStats().Hits
			if _, err := st.Get(ctx, key); err != nil {
				t.Fatal(err)
			}
			if st.NearCacheStats().Hits > hits {
				cachedAtDeletion++
				break
			}
		}
		if err := other.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		refused := false
		for {
			// What go-redis's cache alone serves, for comparison.
			if start := time.Now(); redisstore.NearRawGet(st, key) == nil {
				rawLatest = max(rawLatest, start.Sub(deleted))
			}
			start := time.Now()
			_, err := st.Get(ctx, key)
			if err == nil && start.Sub(deleted) > bound {
				t.Fatalf("session %d served from a read begun %s after its deletion; bound %s", i, start.Sub(deleted), bound)
			}
			if err != nil && !refused {
				refused = true
				late = append(late, start.Sub(deleted))
			}
			if start.Sub(deleted) > 2*bound {
				break
			}
		}
	}
	after := st.NearCacheStats()
	slices.Sort(late)
	t.Logf("saturated: %d of %d sessions cached when deleted; first refusal %s .. %s after the deletion (median %s); hits %d, misses %d, reads sent to Redis while untrusted %d, flushes %d",
		cachedAtDeletion, sessions, late[0], late[len(late)-1], late[len(late)/2],
		after.Hits-before.Hits, after.Misses-before.Misses, after.Bypassed-before.Bypassed, after.Flushes-before.Flushes)
	t.Logf("saturated: go-redis's cache alone, read beside the store, served a deleted session up to %s after its deletion", rawLatest)
	if cachedAtDeletion < wantCached {
		t.Errorf("only %d of %d sessions were served from the cache before their deletion: the test did not exercise the cache", cachedAtDeletion, sessions)
	}
}

// TestNearCacheRedisRestart restarts Redis under a store with a warm
// near-cache, then deletes the cached session from another client on the
// new server, whose connections never tracked it. The store must flush
// its cache, never accept the session past the bound, and cache again
// once tracking is confirmed.
func TestNearCacheRedisRestart(t *testing.T) {
	const bound = 200 * time.Millisecond
	srv := testenv.StartRedis(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	raw := redis.NewClient(opt)
	defer raw.Close()
	st := nearSessions(t, rdb, "restart:", bound)
	other := redisstore.NewSessions(raw, redisstore.WithPrefix("restart:"))
	ctx := context.Background()

	if err := other.Save(ctx, hourSession("s1", "u1")); err != nil {
		t.Fatal(err)
	}
	warm(t, st, "s1")
	flushes := st.NearCacheStats().Flushes

	srv.Stop(t)
	srv.Start(t)
	var deleted time.Time
	for {
		if err := other.Delete(ctx, "s1"); err == nil {
			deleted = time.Now()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		start := time.Now()
		_, err := st.Get(ctx, "s1")
		if err == nil && start.Sub(deleted) > bound {
			t.Fatalf("the session deleted after the restart was served %s later; bound %s", start.Sub(deleted), bound)
		}
		if start.Sub(deleted) > 5*bound {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got := st.NearCacheStats().Flushes; got <= flushes {
		t.Errorf("flushes %d after the restart, %d before; want more", got, flushes)
	}
	// Tracking comes back: a new session is served from the cache again.
	if err := other.Save(ctx, hourSession("s2", "u1")); err != nil {
		t.Fatal(err)
	}
	warm(t, st, "s2")
}

// TestNearCacheMemoryBounded churns many sessions through a small cache:
// its entries stay within MaxEntries and its memory within a bound, and
// Close releases its goroutines.
func TestNearCacheMemoryBounded(t *testing.T) {
	const maxEntries = 1000
	e := newEnv(t)
	p := e.prefix(t)
	goroutines := runtime.NumGoroutine()
	st := redisstore.NewSessions(e.rdb, redisstore.WithPrefix(p),
		redisstore.WithNearCache(redisstore.NearCacheConfig{MaxEntries: maxEntries, Conns: 2, Logger: quiet}))
	ctx := context.Background()
	var peakEntries int
	var peakBytes int64
	for i := range 10_000 {
		key := "churn-" + strconv.Itoa(i)
		if err := st.Save(ctx, hourSession(key, "u-"+strconv.Itoa(i%100))); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := st.Get(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if i%500 == 0 {
			s := st.NearCacheStats()
			peakEntries = max(peakEntries, s.Entries)
			peakBytes = max(peakBytes, s.MemoryBytes)
		}
	}
	s := st.NearCacheStats()
	peakEntries = max(peakEntries, s.Entries)
	peakBytes = max(peakBytes, s.MemoryBytes)
	t.Logf("after 10000 sessions: %d entries, %d bytes (peak %d entries, %d bytes, %d B/entry)",
		s.Entries, s.MemoryBytes, peakEntries, peakBytes, peakBytes/int64(max(1, peakEntries)))
	if peakEntries > maxEntries {
		t.Errorf("the cache held %d entries; MaxEntries is %d", peakEntries, maxEntries)
	}
	if peakBytes > maxEntries*1024 {
		t.Errorf("the cache held %d bytes for at most %d entries", peakBytes, maxEntries)
	}
	if s.Hits == 0 {
		t.Errorf("no hits: %+v", s)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the store", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wireCounter wraps every connection a client dials and counts the
// commands written to Redis, leaving out the near-cache's heartbeats.
type wireCounter struct{ n atomic.Int64 }

// respCommand matches the start of a command written in RESP (an array
// of bulk strings) and its first two arguments.
var respCommand = regexp.MustCompile(`(?:^|\r\n)\*\d+\r\n\$\d+\r\n([^\r]*)\r\n(?:\$\d+\r\n[^\r]*)?`)

// connectionUpkeep names the commands a connection sends for itself, not
// for a request: the near-cache's CLIENT INFO heartbeat and the handshake
// (HELLO, CLIENT TRACKING/SETINFO, AUTH, SELECT, PING) of a connection
// the pool opens again in the background, for instance after a heartbeat
// timed out on a loaded machine.
var connectionUpkeep = map[string]bool{"client": true, "hello": true, "auth": true, "select": true, "ping": true}

type countedConn struct {
	net.Conn
	w *wireCounter
}

func (c countedConn) Write(b []byte) (int, error) {
	for _, m := range respCommand.FindAllSubmatch(b, -1) {
		if !connectionUpkeep[string(bytes.ToLower(m[1]))] {
			c.w.n.Add(1)
		}
	}
	return c.Conn.Write(b)
}

// TestNearCacheRoundTrips counts the commands written to the wire by every
// connection of the store (the client handed to it and the near-cache's
// own), less connection upkeep: a steady-state authenticated request on a
// warm cache sends none, and every one of them is a cache hit.
// TestRoundTripsPerRequest shows the one it costs without the cache.
func TestNearCacheRoundTrips(t *testing.T) {
	url := testenv.Require(t, testenv.RedisURL)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	wire := &wireCounter{}
	var d net.Dialer
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countedConn{Conn: c, w: wire}, nil
	}
	e := newEnv(t)
	e.rdb.Close()
	e.rdb = redis.NewClient(opt)
	e.rdb.AddHook(e.check)
	p := e.prefix(t)
	st := nearSessions(t, e.rdb, p, time.Second)
	h, r := steadyStateOn(t, st)
	serve := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || len(w.Result().Cookies()) != 0 {
			t.Fatalf("steady-state request: %d, cookies %v", w.Code, w.Result().Cookies())
		}
	}
	// Warm up until a request is served from the cache.
	deadline := time.Now().Add(10 * time.Second)
	for before := st.NearCacheStats().Hits; st.NearCacheStats().Hits == before; {
		serve()
		if time.Now().After(deadline) {
			t.Fatal("never served from the cache")
		}
	}
	const requests = 100
	hits := st.NearCacheStats().Hits
	wire.n.Store(0)
	e.check.counts()
	for range requests {
		serve()
	}
	if n := wire.n.Load(); n != 0 {
		t.Errorf("%d warm requests wrote %d commands to Redis; want 0", requests, n)
	}
	if cmds, pipes, _, _ := e.check.counts(); cmds != 0 || pipes != 0 {
		t.Errorf("%d warm requests sent %d commands and %d pipelines through the store's client; want none", requests, cmds, pipes)
	}
	if got := st.NearCacheStats().Hits - hits; got != requests {
		t.Errorf("%d warm requests, %d cache hits", requests, got)
	}
}

// steadyStateOn is steadyState with the given session store: a manager
// with users in memory and a logged-in request.
func steadyStateOn(tb testing.TB, st loginkit.SessionStore) (http.Handler, *http.Request) {
	tb.Helper()
	ann := &conformance.Member{Account: loginkit.Account{ID: loginkit.NewID(), Email: "ann@example.com"}}
	m, err := loginkit.New[*conformance.Member]().
		Sessions(st).Hasher(testHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).
		Loader(&memoryLoader{users: map[string]conformance.Member{ann.ID: *ann}}).
		Logger(quiet).Build()
	if err != nil {
		tb.Fatal(err)
	}
	login := httptest.NewRecorder()
	lr := httptest.NewRequest("POST", "/login", nil)
	lr.RemoteAddr = clientAddr
	if err := m.Login(login, lr, ann, loginkit.LoginOptions{}); err != nil {
		tb.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = w.Write([]byte(u.ID))
	})
	r := httptest.NewRequest("GET", "/account", nil)
	r.RemoteAddr = clientAddr
	for _, c := range login.Result().Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return m.Middleware(m.Required(page)), r
}

// BenchmarkNearCacheGet measures a session Get served from a warm
// near-cache, beside the same Get without it (one round trip).
func BenchmarkNearCacheGet(b *testing.B) {
	e := newEnv(b)
	p := e.prefix(b)
	ctx := context.Background()
	plain := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p))
	if err := plain.Save(ctx, hourSession("bench", "u-bench")); err != nil {
		b.Fatal(err)
	}
	near := nearSessions(b, e.raw, p, time.Second)
	warm(b, near, "bench")
	for _, c := range []struct {
		name string
		st   *redisstore.Sessions
	}{{"cache=near", near}, {"cache=none", plain}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.st.Get(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNearCacheBytesPerEntry reports the heap a near-cache holds per
// cached session (typical size), over 20 thousand sessions, and go-redis's
// own estimate of it.
func BenchmarkNearCacheBytesPerEntry(b *testing.B) {
	const n = 20_000
	e := newEnv(b)
	p := e.prefix(b)
	ctx := context.Background()
	plain := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p))
	s := hourSession("", "")
	s.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
	s.Fingerprint = "0123456789abcdefghijkl"
	for i := range n {
		s.Key = fmt.Sprintf("%043d", i)
		s.UserID = fmt.Sprintf("%032d", i%1000)
		if err := plain.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		near := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p),
			redisstore.WithNearCache(redisstore.NearCacheConfig{Logger: quiet}))
		for i := range n {
			if _, err := near.Get(ctx, fmt.Sprintf("%043d", i)); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := near.NearCacheStats()
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(st.Entries), "B/entry")
		b.ReportMetric(float64(st.MemoryBytes)/float64(st.Entries), "estimated-B/entry")
		b.ReportMetric(float64(st.Entries), "entries")
		_ = near.Close()
	}
}

// staller wraps connections so that a test can stall them: while paused,
// nothing the server sends is read (a Read waits, honouring its deadline),
// as when a network path stops delivering.
type staller struct{ paused atomic.Bool }

type stallConn struct {
	net.Conn
	st *staller
	mu sync.Mutex
	rd time.Time // read deadline
}

func (c *stallConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rd = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *stallConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rd = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *stallConn) Read(b []byte) (int, error) {
	for c.st.paused.Load() {
		c.mu.Lock()
		rd := c.rd
		c.mu.Unlock()
		if !rd.IsZero() && time.Now().After(rd) {
			return 0, os.ErrDeadlineExceeded
		}
		time.Sleep(time.Millisecond)
	}
	return c.Conn.Read(b)
}

// TestNearCacheStalledConnection stalls every connection of a store with a
// warm near-cache, so that neither invalidations nor heartbeat replies
// arrive, then deletes the cached session from another client: reads
// served from memory during the stall are fine within the bound, and no
// read begun past the bound returns the session.
func TestNearCacheStalledConnection(t *testing.T) {
	const bound = 200 * time.Millisecond
	url := testenv.Require(t, testenv.RedisURL)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	st := &staller{}
	var d net.Dialer
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: c, st: st}, nil
	}
	opt.ReadTimeout = 300 * time.Millisecond
	opt.MaxRetries = -1
	e := newEnv(t)
	p := e.prefix(t)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	near := nearSessions(t, rdb, p, bound)
	other := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p))
	// Each attempt must both keep the bound (checked strictly) and show
	// reads served from the cache during the stall (else it tested
	// nothing). On a loaded machine the cache may already be past its
	// bound when the stall begins; then the attempt is repeated.
	const attempts = 5
	for i := 1; ; i++ {
		served := stallAttempt(t, st, near, other, fmt.Sprintf("stall-%d", i), bound)
		if served > 0 {
			t.Logf("stalled (attempt %d): %d reads served from the cache within the bound after the deletion", i, served)
			return
		}
		if i == attempts {
			t.Fatalf("no read was served from the cache during the stall in %d attempts: the test did not exercise it", attempts)
		}
		t.Logf("attempt %d: no read served from the cache during the stall (the cache was past its bound); again", i)
	}
}

// stallAttempt saves a session, warms near's cache with it, stalls near's
// connections, deletes the session through other and reads it through
// near for three bounds: no read begun more than bound after the deletion
// may return it. It returns how many reads the cache served during the
// stall, then lets the connection deliver again and waits until the
// deletion is visible.
func stallAttempt(t *testing.T, st *staller, near, other *redisstore.Sessions, key string, bound time.Duration) int {
	t.Helper()
	ctx := context.Background()
	if err := other.Save(ctx, hourSession(key, "u-stall")); err != nil {
		t.Fatal(err)
	}
	warm(t, near, key)

	st.paused.Store(true)
	defer st.paused.Store(false)
	hits := near.NearCacheStats().Hits
	if err := other.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	served := 0
	for time.Since(deleted) < 3*bound {
		start := time.Now()
		_, err := near.Get(ctx, key)
		if err == nil {
			served++
			if start.Sub(deleted) > bound {
				t.Fatalf("the deleted session was served from a read begun %s after the deletion, the connection stalled; bound %s", start.Sub(deleted), bound)
			}
		}
	}
	if near.NearCacheStats().Hits == hits {
		served = 0
	}
	if served > 0 && redisstore.NearRawGet(near, key) == nil {
		t.Logf("stalled: go-redis's cache alone still serves the deleted session %s after the deletion", time.Since(deleted).Round(time.Millisecond))
	}
	st.paused.Store(false)
	// Once the connection delivers again, the deletion is seen.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := near.Get(ctx, key); errors.Is(err, loginkit.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deletion never became visible after the stall")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return served
}
