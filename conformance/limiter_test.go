package conformance

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

func limiterWith(newLimiter func() loginkit.Limiter) func(st suiteT) {
	return func(st suiteT) {
		runLimiter(st, LimiterHarness{New: func(testing.TB) loginkit.Limiter { return newLimiter() }})
	}
}

func TestLimiterPassesMemoryLimiter(t *testing.T) {
	TestLimiter(t, LimiterHarness{New: func(testing.TB) loginkit.Limiter { return loginkit.NewMemoryLimiter() }})
}

// leakyLimiter counts refused events too.
type leakyLimiter struct {
	mu sync.Mutex
	ev map[string][]time.Time
}

func (l *leakyLimiter) Allow(ctx context.Context, key string, r loginkit.Rate, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if r.Count < 0 {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var in []time.Time
	for _, t := range l.ev[key] {
		if t.After(now.Add(-r.Per)) {
			in = append(in, t)
		}
	}
	l.ev[key] = append(in, now)
	return len(in) < r.Count, nil
}

// wallClockLimiter ignores the now it is given.
type wallClockLimiter struct{ *loginkit.MemoryLimiter }

func (l wallClockLimiter) Allow(ctx context.Context, key string, r loginkit.Rate, _ time.Time) (bool, error) {
	return l.MemoryLimiter.Allow(ctx, key, r, time.Now())
}

// racyLimiter checks and records in two steps.
type racyLimiter struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *racyLimiter) Allow(ctx context.Context, key string, r loginkit.Rate, _ time.Time) (bool, error) {
	if r.Count < 0 {
		return true, ctx.Err()
	}
	l.mu.Lock()
	n := l.n[key]
	l.mu.Unlock()
	time.Sleep(time.Millisecond)
	if n >= r.Count {
		return false, ctx.Err()
	}
	l.mu.Lock()
	l.n[key] = n + 1
	l.mu.Unlock()
	return true, ctx.Err()
}

func TestLimiterSuiteCatchesBrokenLimiters(t *testing.T) {
	for _, c := range []struct {
		name string
		new  func() loginkit.Limiter
		want string // a case that must fail
	}{
		{"counts refused events", func() loginkit.Limiter { return &leakyLimiter{ev: map[string][]time.Time{}} }, "/RefusedNotCounted"},
		{"own clock", func() loginkit.Limiter { return wallClockLimiter{loginkit.NewMemoryLimiter()} }, "/WindowSlides"},
		{"not atomic", func() loginkit.Limiter { return &racyLimiter{n: map[string]int{}} }, "/Concurrent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := runRecorded(t, limiterWith(c.new))
			found := false
			for _, f := range rec.failures {
				if strings.Contains(f, c.want+":") {
					found = true
				}
			}
			if !found {
				t.Errorf("the suite did not fail %s for a limiter that %s: %s", c.want, c.name, rec)
			}
		})
	}
}
