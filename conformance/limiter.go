package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
)

// LimiterHarness describes a ratelimit.Limiter under test.
type LimiterHarness struct {
	// New returns a new limiter with no events recorded, for one subtest.
	// Release what it holds with tb.Cleanup. Required.
	New func(tb testing.TB) ratelimit.Limiter
}

// TestLimiter checks a ratelimit.Limiter (the counter behind the rate
// limits of package recovery) against its contract: up to Count events
// in a window are allowed and the next is refused; the window is
// (now-Per, now], measured with the now passed in (never the limiter's
// own clock), so that it slides; refused events are not counted; keys
// are independent; a negative Count never refuses; among 20 concurrent
// calls on one key exactly Count are allowed; and a cancelled context is
// an error matching context.Canceled.
func TestLimiter(t *testing.T, h LimiterHarness) {
	t.Helper()
	runLimiter(wrapT(t), h)
}

// limiterSuite holds the limiter cases; they share nothing but limiterBase.
type limiterSuite struct{}

func runLimiter(t suiteT, h LimiterHarness) {
	t.Helper()
	s := &limiterSuite{}
	runSuite(t, "LimiterHarness", "Limiter", []string{"Allow"}, h.New, []suiteCase[ratelimit.Limiter]{
		{"AllowsUpToCount", s.upToCount},
		{"WindowSlides", s.slides},
		{"ZonesDoNotMatter", s.zones},
		{"RefusedNotCounted", s.refusedNotCounted},
		{"KeysIndependent", s.keys},
		{"KeysExact", s.keysExact},
		{"EventsBelongToKeyNotRate", s.keyNotRate},
		{"LargeCount", s.largeCount},
		{"ZeroCountRefuses", s.zeroCount},
		{"Unlimited", s.unlimited},
		{"Concurrent", s.concurrent},
		{"ContextCancelled", s.cancelled},
	})
}

// limiterBase is the instant the cases count from: a fixed time, so that a
// limiter using its own clock instead of the one passed in is caught.
var limiterBase = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

func (s *limiterSuite) allow(t suiteT, l ratelimit.Limiter, key string, r ratelimit.Rate, at time.Duration) bool {
	t.Helper()
	ok, err := l.Allow(background(), key, r, limiterBase.Add(at))
	if err != nil {
		skipUnsupported(t, "Allow", err)
		t.Fatalf("Allow(%q, %+v, base%+v): %v", key, r, at, err)
	}
	return ok
}

func (s *limiterSuite) want(t suiteT, l ratelimit.Limiter, key string, r ratelimit.Rate, at time.Duration, want bool, clause string) {
	t.Helper()
	if got := s.allow(t, l, key, r, at); got != want {
		t.Errorf("Allow(%q, %d per %v) at base%+v = %v, want %v (%s)", key, r.Count, r.Per, at, got, want, clause)
	}
}

func (s *limiterSuite) upToCount(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 3, Per: time.Minute}
	for i := range 3 {
		s.want(t, l, "k", r, time.Duration(i)*time.Second, true, "Limiter: events up to Count are allowed")
	}
	s.want(t, l, "k", r, 3*time.Second, false, "Limiter: the event after Count in the window is refused")
	s.want(t, l, "k", r, 59*time.Second, false, "Limiter: the event after Count in the window is refused")
	// Events at one instant are events each (a set keyed by the time
	// would count them once).
	for range 3 {
		s.want(t, l, "same-instant", r, 0, true, "Limiter: events up to Count are allowed")
	}
	s.want(t, l, "same-instant", r, 0, false, "Limiter: events at the same instant are counted each")
}

func (s *limiterSuite) slides(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 2, Per: time.Hour}
	s.want(t, l, "k", r, 0, true, "Limiter: first event")
	s.want(t, l, "k", r, 30*time.Minute, true, "Limiter: second event")
	s.want(t, l, "k", r, 59*time.Minute, false, "Limiter: window is (now-Per, now] of the now passed in")
	s.want(t, l, "k", r, time.Hour, true, "Limiter: an event at exactly now-Per has left the window")
	s.want(t, l, "k", r, time.Hour+time.Minute, false, "Limiter: the events at +30m and +60m are in the window")
	s.want(t, l, "k", r, 10*time.Hour, true, "Limiter: a later window starts empty")
}

// zones passes the same instants in different time zones: the window is
// a span of instants, so a limiter comparing times as text, or as wall
// clock readings, miscounts.
func (s *limiterSuite) zones(t suiteT, l ratelimit.Limiter) {
	const clause = "Limiter: the window is measured in instants, whatever zone now is given in"
	east, west := time.FixedZone("UTC+14", 14*3600), time.FixedZone("UTC-12", -12*3600)
	r := ratelimit.Rate{Count: 2, Per: time.Hour}
	at := func(d time.Duration, z *time.Location) bool {
		ok, err := l.Allow(background(), "zoned", r, limiterBase.Add(d).In(z))
		if err != nil {
			skipUnsupported(t, "Allow", err)
			t.Fatalf("Allow(\"zoned\") at base%+v in %v: %v", d, z, err)
		}
		return ok
	}
	for _, c := range []struct {
		d    time.Duration
		z    *time.Location
		want bool
	}{
		{0, time.UTC, true},
		{10 * time.Minute, east, true},
		{30 * time.Minute, west, false},
		{61 * time.Minute, west, true},
		{62 * time.Minute, east, false},
		{69 * time.Minute, time.UTC, false},
	} {
		if got := at(c.d, c.z); got != c.want {
			t.Errorf("Allow(\"zoned\", 2 per 1h) at base%+v given in %v = %v, want %v (%s)", c.d, c.z, got, c.want, clause)
		}
	}
}

func (s *limiterSuite) refusedNotCounted(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 1, Per: time.Minute}
	s.want(t, l, "k", r, 0, true, "Limiter: first event")
	for i := 1; i <= 5; i++ {
		s.want(t, l, "k", r, time.Duration(i)*10*time.Second, false, "Limiter: over the limit")
	}
	s.want(t, l, "k", r, time.Minute, true, "Limiter: refused events are not recorded, so they do not extend the window")
}

func (s *limiterSuite) keys(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 1, Per: time.Minute}
	for _, k := range []string{"reset:client:192.0.2.1", "reset:client:192.0.2.2", "reset:login:ann@example.com", "ann@example.com", "äöü:{x}"} {
		s.want(t, l, k, r, 0, true, "Limiter: keys are independent")
	}
	s.want(t, l, "reset:client:192.0.2.1", r, time.Second, false, "Limiter: each key keeps its own events")
	// A key's events in the window are kept however many other keys are
	// active (a cache of the most recent keys would forget them: an
	// attacker touching many keys could reset a victim's limit).
	for i := range 300 {
		if !s.allow(t, l, fmt.Sprintf("other:%d", i), r, 2*time.Second) {
			t.Fatalf("Allow(other:%d) = false, want true (Limiter: keys are independent)", i)
		}
	}
	s.want(t, l, "reset:client:192.0.2.1", r, 3*time.Second, false, "Limiter: each key keeps its own events in the window, however many other keys are active")
}

// keysExact checks keys that a store could run together: prefixes of
// each other, differing only in case, in their last byte after a long
// common part, or in bytes a text column might drop.
func (s *limiterSuite) keysExact(t suiteT, l ratelimit.Limiter) {
	const clause = "Limiter: each distinct key string keeps its own events (no prefix, case folding, truncation or trimming)"
	r := ratelimit.Rate{Count: 1, Per: time.Minute}
	long := "reset:login:" + strings.Repeat("a", 250)
	keys := []string{
		"k", "k1", "k:1", "k1:", "K",
		"reset:login:ann@example.com", "reset:login:Ann@example.com", "reset:login:ann@example.co", "reset:login:ann@example.com ",
		long + "1", long + "2", long,
		"x\x00", "x", "x\x00y", "ü", "u\u0308",
	}
	for i, k := range keys {
		s.want(t, l, k, r, time.Duration(i)*time.Millisecond, true, clause+fmt.Sprintf("; key %q after %d other keys", k, i))
	}
	for i, k := range keys {
		s.want(t, l, k, r, time.Second+time.Duration(i)*time.Millisecond, false, clause+fmt.Sprintf("; key %q is still counted", k))
	}
}

// keyNotRate checks that events belong to the key: a call with another
// rate on the same key counts the events recorded with the first.
func (s *limiterSuite) keyNotRate(t suiteT, l ratelimit.Limiter) {
	const clause = "Limiter: the events recorded under key are counted whatever rate a call passes"
	s.want(t, l, "k", ratelimit.Rate{Count: 5, Per: time.Minute}, 0, true, clause)
	s.want(t, l, "k", ratelimit.Rate{Count: 5, Per: time.Minute}, 10*time.Second, true, clause)
	s.want(t, l, "k", ratelimit.Rate{Count: 2, Per: time.Minute}, 20*time.Second, false, clause+": 2 events are in the window already")
	s.want(t, l, "k", ratelimit.Rate{Count: 3, Per: time.Hour}, 30*time.Minute, true, clause+": a longer window sees the 2 earlier events")
	s.want(t, l, "k", ratelimit.Rate{Count: 3, Per: time.Hour}, 31*time.Minute, false, clause+": a longer window sees the 3 earlier events")
}

// largeCount checks a Count in the hundreds: exactly Count events are
// allowed, so a store keeping only the last N events, or a counter that
// wraps, is caught.
func (s *limiterSuite) largeCount(t suiteT, l ratelimit.Limiter) {
	const clause = "Limiter: exactly Count events are allowed in the window, however large Count is"
	const n = 300
	r := ratelimit.Rate{Count: n, Per: time.Hour}
	for i := range n {
		if !s.allow(t, l, "big", r, time.Duration(i)*time.Second) {
			t.Fatalf("Allow(\"big\", %d per %v) event %d of %d: refused, want allowed (%s)", n, r.Per, i+1, n, clause)
		}
	}
	s.want(t, l, "big", r, n*time.Second, false, clause+fmt.Sprintf(": event %d is refused", n+1))
	s.want(t, l, "big", r, time.Hour, true, clause+": the first event has left the window")
	s.want(t, l, "big", r, time.Hour+time.Millisecond, false, clause+": only one event left the window")
}

// zeroCount checks that a Count of 0 refuses every event: "at most 0".
func (s *limiterSuite) zeroCount(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 0, Per: time.Minute}
	for i := range 3 {
		s.want(t, l, "zero", r, time.Duration(i)*time.Hour, false, "Limiter: a Count of 0 allows no event (only a negative Count means no limit)")
	}
	s.want(t, l, "zero", ratelimit.Rate{Count: 1, Per: time.Minute}, 3*time.Hour, true, "Limiter: refused events are not recorded")
}

func (s *limiterSuite) unlimited(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: -1}
	for i := range 50 {
		s.want(t, l, "k", r, time.Duration(i)*time.Millisecond, true, "Limiter: a negative Count never refuses")
	}
}

// concurrent races 20 callers on one key with Count 5, several keys a
// round, round after round for raceBudget, through a yielding context: a
// limiter that counts and records in two steps with no pause between is
// caught every time (TestLimiterRaceMutantCaughtEveryTime runs this case
// 10 times against such a limiter and requires a failure in each).
func (s *limiterSuite) concurrent(t suiteT, l ratelimit.Limiter) {
	const clause = "Limiter: counting is atomic"
	const callers, perRound = 20, 4
	r := ratelimit.Rate{Count: 5, Per: time.Minute}
	repeatRace(func(round int) bool {
		allowed := make([][perRound]bool, callers)
		errs := make([][perRound]error, callers)
		raceSteps(callers, perRound, func(i, k int) {
			allowed[i][k], errs[i][k] = l.Allow(raceContext(), fmt.Sprintf("busy-%d-%d", round, k), r, limiterBase)
		})
		for k := range perRound {
			n := 0
			for i := range callers {
				if errs[i][k] != nil {
					t.Errorf("concurrent Allow: %v (%s)", errs[i][k], clause)
					return false
				}
				if allowed[i][k] {
					n++
				}
			}
			if n != r.Count {
				t.Errorf("%d concurrent Allow calls with Count %d (round %d): %d allowed (%s)", callers, r.Count, round+1, n, clause)
				return false
			}
		}
		return true
	})
}

func (s *limiterSuite) cancelled(t suiteT, l ratelimit.Limiter) {
	r := ratelimit.Rate{Count: 1, Per: time.Minute}
	_, err := l.Allow(cancelled(), "k", r, limiterBase)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a cancelled context: %v, want an error matching context.Canceled (%s)", err,
			"Limiter: every method honours ctx")
	}
	s.want(t, l, "k", r, time.Second, true, "Limiter: a call with a cancelled context records nothing")
}
