package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// LimiterHarness describes a loginkit.Limiter under test.
type LimiterHarness struct {
	// New returns a new limiter with no events recorded, for one subtest.
	// Release what it holds with tb.Cleanup. Required.
	New func(tb testing.TB) loginkit.Limiter
}

// TestLimiter checks a loginkit.Limiter (the counter behind the rate
// limits of loginkit.Recovery) against its contract: up to Count events
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

type limiterSuite struct{ h LimiterHarness }

func runLimiter(t suiteT, h LimiterHarness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("conformance: LimiterHarness.New is nil")
	}
	s := &limiterSuite{h: h}
	for _, c := range []struct {
		name string
		f    func(t suiteT)
	}{
		{"AllowsUpToCount", s.upToCount},
		{"WindowSlides", s.slides},
		{"RefusedNotCounted", s.refusedNotCounted},
		{"KeysIndependent", s.keys},
		{"Unlimited", s.unlimited},
		{"Concurrent", s.concurrent},
		{"ContextCancelled", s.cancelled},
	} {
		t.Run(c.name, c.f)
	}
}

// base is the instant the cases count from: a fixed time, so that a
// limiter using its own clock instead of the one passed in is caught.
var limiterBase = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

func (s *limiterSuite) allow(t suiteT, l loginkit.Limiter, key string, r loginkit.Rate, at time.Duration) bool {
	t.Helper()
	ok, err := l.Allow(background(), key, r, limiterBase.Add(at))
	if err != nil {
		t.Fatalf("Allow(%q, %+v, base%+v): %v", key, r, at, err)
	}
	return ok
}

func (s *limiterSuite) want(t suiteT, l loginkit.Limiter, key string, r loginkit.Rate, at time.Duration, want bool, clause string) {
	t.Helper()
	if got := s.allow(t, l, key, r, at); got != want {
		t.Errorf("Allow(%q, %d per %v) at base%+v = %v, want %v (%s)", key, r.Count, r.Per, at, got, want, clause)
	}
}

func (s *limiterSuite) upToCount(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: 3, Per: time.Minute}
	for i := range 3 {
		s.want(t, l, "k", r, time.Duration(i)*time.Second, true, "Limiter: events up to Count are allowed")
	}
	s.want(t, l, "k", r, 3*time.Second, false, "Limiter: the event after Count in the window is refused")
	s.want(t, l, "k", r, 59*time.Second, false, "Limiter: the event after Count in the window is refused")
}

func (s *limiterSuite) slides(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: 2, Per: time.Hour}
	s.want(t, l, "k", r, 0, true, "Limiter: first event")
	s.want(t, l, "k", r, 30*time.Minute, true, "Limiter: second event")
	s.want(t, l, "k", r, 59*time.Minute, false, "Limiter: window is (now-Per, now] of the now passed in")
	s.want(t, l, "k", r, time.Hour, true, "Limiter: an event at exactly now-Per has left the window")
	s.want(t, l, "k", r, time.Hour+time.Minute, false, "Limiter: the events at +30m and +60m are in the window")
	s.want(t, l, "k", r, 10*time.Hour, true, "Limiter: a later window starts empty")
}

func (s *limiterSuite) refusedNotCounted(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: 1, Per: time.Minute}
	s.want(t, l, "k", r, 0, true, "Limiter: first event")
	for i := 1; i <= 5; i++ {
		s.want(t, l, "k", r, time.Duration(i)*10*time.Second, false, "Limiter: over the limit")
	}
	s.want(t, l, "k", r, time.Minute, true, "Limiter: refused events are not recorded, so they do not extend the window")
}

func (s *limiterSuite) keys(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: 1, Per: time.Minute}
	for _, k := range []string{"reset:client:192.0.2.1", "reset:client:192.0.2.2", "reset:login:ann@example.com", "ann@example.com", "äöü:{x}"} {
		s.want(t, l, k, r, 0, true, "Limiter: keys are independent")
	}
	s.want(t, l, "reset:client:192.0.2.1", r, time.Second, false, "Limiter: each key keeps its own events")
}

func (s *limiterSuite) unlimited(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: -1}
	for i := range 50 {
		s.want(t, l, "k", r, time.Duration(i)*time.Millisecond, true, "Limiter: a negative Count never refuses")
	}
}

func (s *limiterSuite) concurrent(t suiteT) {
	l := s.h.New(t)
	r := loginkit.Rate{Count: 5, Per: time.Minute}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 20)
	start := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := l.Allow(background(), "busy", r, limiterBase.Add(time.Duration(i)*time.Millisecond))
			errs[i] = err
			if ok {
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Allow: %v", err)
	}
	if n := allowed.Load(); n != int32(r.Count) {
		t.Errorf("20 concurrent Allow calls with Count %d: %d allowed (Limiter: counting is atomic)", r.Count, n)
	}
}

func (s *limiterSuite) cancelled(t suiteT) {
	l := s.h.New(t)
	_, err := l.Allow(cancelled(), "k", loginkit.Rate{Count: 1, Per: time.Minute}, limiterBase)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a cancelled context: %v, want an error matching context.Canceled (%s)", err,
			fmt.Sprint("Limiter: every method honours ctx"))
	}
}
