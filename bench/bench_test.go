package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/internal/testenv"
)

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler chain and not a recorder.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

func redisURL(tb testing.TB, s Stack) string {
	if !s.Redis {
		return ""
	}
	return testenv.Require(tb, testenv.RedisURL)
}

func setup(tb testing.TB, s Stack) (http.Handler, *http.Request) {
	tb.Helper()
	h, r, release, err := s.Setup(redisURL(tb, s))
	if err != nil {
		tb.Fatalf("%s: %v", s.Name, err)
	}
	tb.Cleanup(release)
	return h, r
}

// TestStacks checks that every stack serves what the benchmarks assume:
// the logged-in user's name for the cookie-carrying request, and no name
// without the cookie.
func TestStacks(t *testing.T) {
	for _, s := range Stacks() {
		t.Run(s.Name, func(t *testing.T) {
			h, r := setup(t, s)
			for i := 0; i < 3; i++ {
				w := &discard{h: http.Header{}, code: 200}
				rc := *r
				h.ServeHTTP(w, &rc)
				if w.code != 200 || w.n != len("ann") {
					t.Fatalf("request %d: status %d, %d body bytes; want 200 and \"ann\"", i, w.code, w.n)
				}
			}
			if s.Name == "bare" {
				return
			}
			anon, _ := http.NewRequest("GET", "/me", nil)
			w := &discard{h: http.Header{}, code: 200}
			h.ServeHTTP(w, anon)
			if w.code == 200 {
				t.Fatalf("request without a cookie: status 200; want a refusal")
			}
		})
	}
}

// BenchmarkAuthenticatedGET runs one authenticated GET through each
// stack. Compare each with "bare" within the same run:
//
//	go test -run '^$' -bench AuthenticatedGET -count 6 | benchstat -col /stack -
func BenchmarkAuthenticatedGET(b *testing.B) {
	for _, s := range Stacks() {
		b.Run("stack="+s.Name, func(b *testing.B) {
			h, r := setup(b, s)
			run(b, h, r)
		})
	}
}

// fillSessions saves n sessions of other users in st, with concurrency
// workers.
func fillSessions(tb testing.TB, st loginkit.SessionStore, n, workers int) {
	tb.Helper()
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx := context.Background()
			for i := w; i < n; i += workers {
				s := &loginkit.Session{
					Key: "fill-" + strconv.Itoa(i), UserID: "user-" + strconv.Itoa(i%5000),
					CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now,
					ExpiresAt: now.Add(2 * time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour),
					Fresh: true, IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) bench",
				}
				if err := st.Save(ctx, s); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}

var sizes = []int{1_000, 100_000, 1_000_000}

// BenchmarkLiveSessions measures the full authenticated request with many
// other sessions live in the store; the cost must stay flat. Each store is
// filled once, before its sub-benchmark, through the store's own Save.
// Run it with -count 1: every run fills the stores again.
func BenchmarkLiveSessions(b *testing.B) {
	for _, n := range sizes {
		st := memstore.NewSessions()
		fillSessions(b, st, n, 2)
		h, r, err := loginkitStack(st)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("store=memstore/sessions=%d", n), func(b *testing.B) { run(b, h, r) })
		runtime.KeepAlive(st)
	}
	url := testenv.Require(b, testenv.RedisURL)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 64
	// The million-session fill lives in its own database, so that the
	// tests sharing this server never scan past it.
	opt.DB = 15
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	for _, n := range sizes {
		prefix := fmt.Sprintf("benchlive:%d:", n)
		st := redisstore.NewSessions(rdb, redisstore.WithPrefix(prefix))
		// The fill stays in Redis between runs (it expires in two
		// hours); it is redone only when missing.
		if rdb.Exists(context.Background(), prefix+"s:fill-"+strconv.Itoa(n-1)).Val() == 0 {
			fillSessions(b, st, n, 48)
		}
		h, r, err := loginkitStack(st)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("store=redisstore/sessions=%d", n), func(b *testing.B) { run(b, h, r) })
	}
}

// run serves r through h b.N times. Each iteration gets its own shallow
// copy of the request, as a server makes a new one per request: a stack
// that caches state in the request (gorilla/sessions keeps its registry
// in the request's context and replaces *r) must not be served from that
// cache on the next iteration. The copy costs every stack the same one
// allocation.
func run(b *testing.B, h http.Handler, r *http.Request) {
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		rc := new(http.Request)
		*rc = *r
		h.ServeHTTP(w, rc)
	}
}

// BenchmarkMemstoreBytesPerSession reports the heap held per live session
// in memstore, measured over 100 thousand sessions.
func BenchmarkMemstoreBytesPerSession(b *testing.B) {
	const n = 100_000
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st := memstore.NewSessions()
		fillSessions(b, st, n, 1)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/session")
		runtime.KeepAlive(st)
	}
}

// TestSoakSmoke runs the soak test (cmd/loadtest -soak) for a few seconds:
// two near-cache instances sharing Redis and a memstore baseline under
// login, logout and password-change churn. No request may fail, no revoked
// session may be accepted past the bound, and the live sessions must
// return to their baseline once they have expired.
func TestSoakSmoke(t *testing.T) {
	url := testenv.Require(t, testenv.RedisURL)
	rep, err := Soak(context.Background(), SoakConfig{
		RedisURL: url, Duration: 3 * time.Second, Rate: 300, Users: 20,
		Bound: 500 * time.Millisecond, Idle: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Markdown(&out)
	t.Log("\n" + out.String())
	for _, s := range rep.Stacks {
		if s.Errors != 0 || s.StalePastBound != 0 || s.OwnAccepted != 0 {
			t.Errorf("%s: %d errors, %d stale requests past the bound, %d accepted by the revoking instance; want none",
				s.Name, s.Errors, s.StalePastBound, s.OwnAccepted)
		}
		if s.GETs == 0 || s.Logins == 0 || s.Revocations == 0 {
			t.Errorf("%s: %d GETs, %d logins, %d revocations: the smoke run did not exercise the churn", s.Name, s.GETs, s.Logins, s.Revocations)
		}
	}
	if rep.AfterExpiry.LiveSessions != rep.Baseline.LiveSessions {
		t.Errorf("%d live sessions after expiry; baseline %d", rep.AfterExpiry.LiveSessions, rep.Baseline.LiveSessions)
	}
	if len(rep.Stacks[0].Cache) != 2 || rep.Stacks[0].Cache[0].Hits+rep.Stacks[0].Cache[1].Hits == 0 {
		t.Errorf("the near-caches served nothing: %+v", rep.Stacks[0].Cache)
	}
}
