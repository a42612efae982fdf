package conformance

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/ratelimit"
)

// What the deliberately broken stores of the meta-tests share: the suites
// they run through, a memo to keep what they were given, and the sweeps
// and clocks that sessions and tokens get wrong alike.

// suiteOf returns the suite run by run against harness h, as a function
// for runRecorded.
func suiteOf[H any](run func(suiteT, H), h H) func(st suiteT) {
	return func(st suiteT) { run(st, h) }
}

// fresh returns a harness New that calls newStore for each subtest.
func fresh[S any](newStore func() S) func(testing.TB) S {
	return func(testing.TB) S { return newStore() }
}

// usersHarness returns the user suite run against h, with FillMember
// when h has no Fill.
func usersHarness(h UserHarness[*Member]) func(st suiteT) {
	if h.Fill == nil {
		h.Fill = FillMember
	}
	return suiteOf(runUsers, h)
}

func usersWith(newStore func() memberStore) func(st suiteT) {
	return usersHarness(UserHarness[*Member]{New: fresh(newStore)})
}

func sessionsHarness(h SessionHarness) func(st suiteT) { return suiteOf(runSessions, h) }

func sessionsWith(newStore func() loginkit.SessionStore) func(st suiteT) {
	return sessionsHarness(SessionHarness{New: fresh(newStore)})
}

func tokensHarness(h TokenHarness) func(st suiteT) { return suiteOf(runTokens, h) }

func tokensWith(newStore func() loginkit.TokenStore) func(st suiteT) {
	return tokensHarness(TokenHarness{New: fresh(newStore)})
}

func secondFactorsWith(newStore func() sfStore) func(st suiteT) {
	return suiteOf(runSecondFactors, SecondFactorHarness{New: fresh(newStore)})
}

func passkeysWith(newStore func() pkStore) func(st suiteT) {
	return suiteOf(runPasskeys, PasskeyHarness{New: fresh(newStore)})
}

func limiterWith(newLimiter func() ratelimit.Limiter) func(st suiteT) {
	return suiteOf(runLimiter, LimiterHarness{New: fresh(newLimiter)})
}

// memo is a map guarded by a mutex, in which a broken store keeps what it
// was given, to hand it back (aliasing) or to decide from it later. The
// zero value is ready to use.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (m *memo[K, V]) put(k K, v V) { m.update(k, func(V) V { return v }) }

func (m *memo[K, V]) get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// update replaces the value under k (the zero value when there is none)
// with f's result, atomically.
func (m *memo[K, V]) update(k K, f func(V) V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[K]V{}
	}
	m.m[k] = f(m.m[k])
}

func (m *memo[K, V]) drop(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}

// snapshot returns a copy of the whole map.
func (m *memo[K, V]) snapshot() map[K]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.m)
}

// hold locks mu, when it is set, and returns its unlock (a no-op when
// not): a broken store whose method is serialised against itself only,
// by a lock its other methods do not take, holds its lock this way.
func hold(mu *sync.Mutex) (unlock func()) {
	if mu == nil {
		return func() {}
	}
	mu.Lock()
	return mu.Unlock
}

// sweepUncounted runs sweep (a store's DeleteExpired) but reports 0
// removed, as a store with native expiry may, though it has none.
func sweepUncounted(ctx context.Context, sweep func(context.Context) (int, error)) (int, error) {
	_, err := sweep(ctx)
	return 0, err
}

// sweepRegardless runs sweep (a store's DeleteExpired) even when ctx is
// cancelled, and only then reports the cancellation.
func sweepRegardless(ctx context.Context, sweep func(context.Context) (int, error)) (int, error) {
	n, err := sweep(context.Background())
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return n, err
}

// beforeNowClock makes a memstore test expiry with ExpiresAt.Before(now):
// a record whose ExpiresAt is exactly now is still live.
func beforeNowClock(now func() time.Time) memstore.Option {
	return memstore.WithClock(func() time.Time { return now().Add(-time.Nanosecond) })
}
