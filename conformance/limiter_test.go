package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
)

func TestLimiterPassesMemory(t *testing.T) {
	TestLimiter(t, LimiterHarness{New: func(testing.TB) ratelimit.Limiter { return ratelimit.NewMemory() }})
}

// leakyLimiter counts refused events too.
type leakyLimiter struct {
	mu sync.Mutex
	ev map[string][]time.Time
}

func (l *leakyLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
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
type wallClockLimiter struct{ *ratelimit.Memory }

func (l wallClockLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, _ time.Time) (bool, error) {
	return l.Memory.Allow(ctx, key, r, time.Now())
}

// racyLimiter checks and records in two steps.
type racyLimiter struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *racyLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, _ time.Time) (bool, error) {
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
	wantCaught(t, []mutant{
		{"counts refused events", limiterWith(func() ratelimit.Limiter { return &leakyLimiter{ev: map[string][]time.Time{}} }),
			[][2]string{{"/RefusedNotCounted", "refused events are not recorded"}}},
		{"own clock", limiterWith(func() ratelimit.Limiter { return wallClockLimiter{ratelimit.NewMemory()} }),
			[][2]string{{"/WindowSlides", "has left the window"}}},
		{"not atomic", limiterWith(func() ratelimit.Limiter { return &racyLimiter{n: map[string]int{}} }),
			[][2]string{{"/Concurrent", "counting is atomic"}}},
	})
}

// windowLimiter is a limiter built for the broken variants below: it
// keeps event times per key, and its knobs reproduce one author's bug
// each. With every knob off it is correct.
type windowLimiter struct {
	mu sync.Mutex
	ev map[string][]time.Time

	key        func(key string, r ratelimit.Rate) string // how the key is stored
	allowOver  int                                       // events allowed beyond Count
	keep       int                                       // events kept per key (0: all)
	zeroFree   bool                                      // Count 0 means no limit
	fixed      bool                                      // windows aligned on Per, not sliding
	recordLate bool                                      // looks at ctx only after recording
	split      bool                                      // counts and records under two locks
	text       bool                                      // compares times as RFC 3339 text
}

func newWindowLimiter(set func(l *windowLimiter)) func() ratelimit.Limiter {
	return func() ratelimit.Limiter {
		l := &windowLimiter{ev: map[string][]time.Time{}}
		set(l)
		return l
	}
}

func (l *windowLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
	if !l.recordLate {
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	if r.Count < 0 || l.zeroFree && r.Count == 0 {
		return true, nil
	}
	if l.key != nil {
		key = l.key(key, r)
	}
	start := now.Add(-r.Per)
	if l.fixed {
		start = now.Truncate(r.Per).Add(-time.Nanosecond)
	}
	l.mu.Lock()
	n := 0
	for _, t := range l.ev[key] {
		if l.text {
			f := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
			if f(t) > f(start) && f(t) <= f(now) {
				n++
			}
			continue
		}
		if t.After(start) && !t.After(now) {
			n++
		}
	}
	if l.split {
		l.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return false, err
		}
		l.mu.Lock()
	}
	defer l.mu.Unlock()
	if n >= r.Count+l.allowOver {
		return false, nil
	}
	ev := append(l.ev[key], now)
	if l.keep > 0 && len(ev) > l.keep {
		ev = ev[len(ev)-l.keep:]
	}
	l.ev[key] = ev
	return true, ctx.Err()
}

func TestLimiterSuitePassesWindowLimiter(t *testing.T) {
	wantPasses(t, limiterWith(newWindowLimiter(func(*windowLimiter) {})), 12)
}

func TestLimiterSuiteCatchesMoreBrokenLimiters(t *testing.T) {
	wantCaught(t, []mutant{
		{"allows Count+1", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.allowOver = 1 })),
			[][2]string{{"AllowsUpToCount", "the event after Count in the window is refused"}}},
		{"fixed windows", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.fixed = true })),
			[][2]string{{"WindowSlides", "window is (now-Per, now]"}}},
		{"keys folded to lower case", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.key = func(k string, _ ratelimit.Rate) string { return strings.ToLower(k) } })),
			[][2]string{{"KeysExact", "no prefix, case folding"}}},
		{"keys truncated to 64 bytes", limiterWith(newWindowLimiter(func(l *windowLimiter) {
			l.key = func(k string, _ ratelimit.Rate) string { return k[:min(len(k), 64)] }
		})),
			[][2]string{{"KeysExact", "truncation"}}},
		{"keys trimmed", limiterWith(newWindowLimiter(func(l *windowLimiter) {
			l.key = func(k string, _ ratelimit.Rate) string { return strings.TrimSpace(k) }
		})),
			[][2]string{{"KeysExact", "trimming"}}},
		{"keys cut at NUL", limiterWith(newWindowLimiter(func(l *windowLimiter) {
			l.key = func(k string, _ ratelimit.Rate) string { k, _, _ = strings.Cut(k, "\x00"); return k }
		})),
			[][2]string{{"KeysExact", "each distinct key string keeps its own events"}}},
		{"events kept per key and window", limiterWith(newWindowLimiter(func(l *windowLimiter) {
			l.key = func(k string, r ratelimit.Rate) string { return k + "|" + r.Per.String() }
		})),
			[][2]string{{"EventsBelongToKeyNotRate", "whatever rate a call passes"}}},
		{"events kept per key and count", limiterWith(newWindowLimiter(func(l *windowLimiter) {
			l.key = func(k string, r ratelimit.Rate) string { return fmt.Sprint(k, "|", r.Count) }
		})),
			[][2]string{{"EventsBelongToKeyNotRate", "whatever rate a call passes"}}},
		{"only the last 100 events kept", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.keep = 100 })),
			[][2]string{{"LargeCount", "however large Count is"}}},
		{"Count 0 means no limit", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.zeroFree = true })),
			[][2]string{{"ZeroCountRefuses", "a Count of 0 allows no event"}}},
		{"records before checking ctx", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.recordLate = true })),
			[][2]string{{"ContextCancelled", "a call with a cancelled context records nothing"}}},
		{"counts and records under two locks", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.split = true })),
			[][2]string{{"Concurrent", "counting is atomic"}}},
		{"compares times as text", limiterWith(newWindowLimiter(func(l *windowLimiter) { l.text = true })),
			[][2]string{{"ZonesDoNotMatter", "measured in instants"}}},
	})
}

// TestLimiterRaceMutantCaughtEveryTime runs the Concurrent case 10 times
// against a limiter that counts and records under two locks with no pause
// between, and requires a failure every time.
func TestLimiterRaceMutantCaughtEveryTime(t *testing.T) {
	wantCaughtEveryTime(t, limiterWith(newWindowLimiter(func(l *windowLimiter) { l.split = true })), "Concurrent", "counting is atomic")
}
