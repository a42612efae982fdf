package loginkit_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/loginkittest"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// discard is a ResponseWriter that keeps nothing, so benchmarks measure
// the handler chain and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// countingSessions and countingUsers count store reads.
type countingSessions struct {
	loginkit.SessionStore
	gets, saves atomic.Int64
}

func (c *countingSessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	c.gets.Add(1)
	return c.SessionStore.Get(ctx, key)
}

func (c *countingSessions) Save(ctx context.Context, s *loginkit.Session) error {
	c.saves.Add(1)
	return c.SessionStore.Save(ctx, s)
}

type countingUsers struct {
	loginkit.UserStore[*user]
	loads atomic.Int64
}

func (c *countingUsers) LoadUser(ctx context.Context, id string) (*user, error) {
	c.loads.Add(1)
	return c.UserStore.LoadUser(ctx, id)
}

// hotPath builds a manager on the given session store, logs a user in and
// returns the guarded handler and a request carrying the session cookie.
func hotPath(tb testing.TB, users loginkit.UserStore[*user], sessions loginkit.SessionStore, opts ...appOption) (http.Handler, *http.Request) {
	tb.Helper()
	now := time.Now().UTC()
	b := loginkit.New[*user]().Users(users).Sessions(sessions).Hasher(testHasher{}).
		TouchInterval(time.Hour).Clock(func() time.Time { return now })
	for _, o := range opts {
		o(b)
	}
	m, err := b.Build()
	if err != nil {
		tb.Fatal(err)
	}
	u := &user{Name: "ann"}
	u.Username = "ann"
	if err := m.Register(context.Background(), u, "pw-ann-123"); err != nil {
		tb.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = w.Write([]byte(u.Name))
	})
	return m.Middleware(m.Required(page)), loginkittest.Request(tb, m, u, "GET", "/account", nil)
}

// TestHotPathStoreReads checks the per-request budget: one session read
// and one user read, and no write, for an authenticated request.
func TestHotPathStoreReads(t *testing.T) {
	users := &countingUsers{UserStore: memstore.NewUsers[user]()}
	sessions := &countingSessions{SessionStore: memstore.NewSessions()}
	h, r := hotPath(t, users, sessions)
	users.loads.Store(0)
	sessions.gets.Store(0)
	sessions.saves.Store(0)
	const n = 10
	for i := 0; i < n; i++ {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, r)
		if len(w.h["Set-Cookie"]) != 0 {
			t.Fatalf("steady-state request set cookies: %v", w.h["Set-Cookie"])
		}
	}
	if g, l, s := sessions.gets.Load(), users.loads.Load(), sessions.saves.Load(); g != n || l != n || s != 0 {
		t.Fatalf("%d requests made %d session reads, %d user reads, %d session writes; want %d, %d, 0", n, g, l, s, n, n)
	}
}

// countingPasskeys counts every passkey store call.
type countingPasskeys struct {
	loginkit.PasskeyStore
	calls atomic.Int64
}

func (c *countingPasskeys) GetPasskey(ctx context.Context, id []byte) (*loginkit.Passkey, error) {
	c.calls.Add(1)
	return c.PasskeyStore.GetPasskey(ctx, id)
}

func (c *countingPasskeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	c.calls.Add(1)
	return c.PasskeyStore.ListPasskeys(ctx, userID)
}

func withPasskeys(store loginkit.PasskeyStore) appOption {
	return func(b *loginkit.Builder[*user]) {
		b.Tokens(memstore.NewTokens()).Passkeys(store, loginkit.PasskeyOptions{RPID: "login.example", RPDisplayName: "Login", Origins: []string{"https://login.example"}})
	}
}

// TestHotPathStoreReadsWithPasskeys checks that turning passkeys on
// leaves the per-request budget of an authenticated request unchanged
// (one session read, one user read, no write) and adds no passkey store
// call to it.
func TestHotPathStoreReadsWithPasskeys(t *testing.T) {
	users := &countingUsers{UserStore: memstore.NewUsers[user]()}
	sessions := &countingSessions{SessionStore: memstore.NewSessions()}
	pk := &countingPasskeys{PasskeyStore: memstore.NewPasskeys()}
	h, r := hotPath(t, users, sessions, withPasskeys(pk))
	users.loads.Store(0)
	sessions.gets.Store(0)
	sessions.saves.Store(0)
	pk.calls.Store(0)
	const n = 10
	for range n {
		h.ServeHTTP(&discard{h: http.Header{}}, r)
	}
	if g, l, s, p := sessions.gets.Load(), users.loads.Load(), sessions.saves.Load(), pk.calls.Load(); g != n || l != n || s != 0 || p != 0 {
		t.Fatalf("%d requests made %d session reads, %d user reads, %d session writes, %d passkey store calls; want %d, %d, 0, 0", n, g, l, s, p, n, n)
	}
}

func benchHandler(b *testing.B, h http.Handler, r *http.Request) {
	b.ReportAllocs()
	w := &discard{h: http.Header{}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkAuthenticatedRequest compares an authenticated GET through
// Middleware and Required with a bare handler doing the same work. Compare
// the sub-benchmarks within one run (benchstat over -count=6).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		u := &user{Name: "ann"}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(u.Name)) })
		benchHandler(b, h, httptest.NewRequest("GET", "/account", nil))
	})
	b.Run("memstore", func(b *testing.B) {
		h, r := hotPath(b, memstore.NewUsers[user](), memstore.NewSessions())
		benchHandler(b, h, r)
	})
	b.Run("memstore+passkeys", func(b *testing.B) {
		h, r := hotPath(b, memstore.NewUsers[user](), memstore.NewSessions(), withPasskeys(memstore.NewPasskeys()))
		benchHandler(b, h, r)
	})
	b.Run("cookiestore", func(b *testing.B) {
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(i)
		}
		cs, err := cookiestore.New(key)
		if err != nil {
			b.Fatal(err)
		}
		h, r := hotPath(b, memstore.NewUsers[user](), cs)
		benchHandler(b, h, r)
	})
}

// budgetAllocs is the hot-path allocation budget: an authenticated
// request on memstore through Middleware and Required allocates at most
// this many times more than the bare handler. Its time budget (1 µs over
// the bare handler) is measured by BenchmarkAuthenticatedRequest here and
// by bench/run.sh, not by a timed test.
const budgetAllocs = 8

// TestHotPathAllocBudget keeps the authenticated request within the
// allocation budget, counted exactly. The race detector changes the
// counts, so the test needs a build without it.
func TestHotPathAllocBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector; run go test without -race")
	}
	bare, bareReq, h, r := budgetHandlers(t)
	w := &discard{h: http.Header{}}
	run := func(h http.Handler, r *http.Request) func() {
		return func() { clear(w.h); h.ServeHTTP(w, r) }
	}
	ab, am := testing.AllocsPerRun(1000, run(bare, bareReq)), testing.AllocsPerRun(1000, run(h, r))
	t.Logf("allocations: bare %.0f, memstore %.0f", ab, am)
	if am-ab > budgetAllocs {
		t.Errorf("authenticated request: %.0f allocations over the bare handler's %.0f, budget %d", am-ab, ab, budgetAllocs)
	}
}

func budgetHandlers(t *testing.T) (bare http.Handler, bareReq *http.Request, h http.Handler, r *http.Request) {
	u := &user{Name: "ann"}
	bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(u.Name)) })
	h, r = hotPath(t, memstore.NewUsers[user](), memstore.NewSessions())
	return bare, httptest.NewRequest("GET", "/account", nil), h, r
}

// TestHotPathReadsTheClockOnce checks that an authenticated request on
// memstore or cookiestore reads the clock once: the manager passes the
// time it read to the store (memstore's GetAt, cookiestore's OpenAt)
// instead of letting it read the clock again.
func TestHotPathReadsTheClockOnce(t *testing.T) {
	cookies, err := cookiestore.New(bytes.Repeat([]byte{7}, cookiestore.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		sessions loginkit.SessionStore
	}{
		{"memstore", memstore.NewSessions()},
		{"cookiestore", cookies},
	} {
		t.Run(c.name, func(t *testing.T) {
			var reads atomic.Int64
			now := time.Now().UTC()
			clock := func() time.Time { reads.Add(1); return now }
			h, r := hotPath(t, memstore.NewUsers[user](), c.sessions, func(b *loginkit.Builder[*user]) { b.Clock(clock) })
			reads.Store(0)
			const n = 10
			for range n {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || w.Body.String() != "ann" {
					t.Fatalf("authenticated request: %d %q, want 200 \"ann\"", w.Code, w.Body.String())
				}
			}
			if got := reads.Load(); got != n {
				t.Fatalf("%d authenticated requests read the clock %d times; want %d", n, got, n)
			}
		})
	}
}
