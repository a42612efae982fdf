package conformance

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a suiteT that records failures instead of reporting them,
// so that a test can run a suite against a broken store and check that
// the suite fails. It embeds the real test for what it does not record
// (TempDir, Context, Setenv, ...).
type recorder struct {
	testing.TB
	name string
	root *record

	only map[string]bool // the cases to run; nil for all

	mu       sync.Mutex
	failed   bool
	skipped  bool
	cleanups []func()
}

// record collects what a whole run reported.
type record struct {
	mu       sync.Mutex
	failures []string // "subtest: message"
	skips    []string
	passed   []string // subtests that neither failed nor skipped
}

// runRecorded runs suite against a recorder and returns what it recorded.
// With cases given, only those cases run.
func runRecorded(t *testing.T, suite func(st suiteT), cases ...string) *record {
	t.Helper()
	rec := &record{}
	r := &recorder{TB: t, name: t.Name(), root: rec}
	if len(cases) > 0 {
		r.only = map[string]bool{}
		for _, c := range cases {
			r.only[c] = true
		}
	}
	r.run(suite)
	return rec
}

// run runs f with r in its own goroutine, as testing.T.Run does, so that
// FailNow and SkipNow end only f; it then runs r's cleanups. A panic in f
// is recorded as a failure.
func (r *recorder) run(f func(t suiteT)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.runCleanups()
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("panic: %v", p)
			}
		}()
		f(r)
	}()
	<-done
}

// failed reports whether any failure message contains every one of
// parts; with no parts, whether anything failed.
func (rec *record) failedWith(parts ...string) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, f := range rec.failures {
		all := true
		for _, p := range parts {
			if !strings.Contains(f, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (rec *record) String() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return fmt.Sprintf("%d failures:\n\t%s\nskipped: %v", len(rec.failures), strings.Join(rec.failures, "\n\t"), rec.skips)
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) onlyCases() map[string]bool { return r.only }
func (r *recorder) Helper()                    {}

func (r *recorder) Log(args ...any)                 {}
func (r *recorder) Logf(format string, args ...any) {}

func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprintln(args...)) }

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.root.mu.Lock()
	r.root.failures = append(r.root.failures, r.name+": "+strings.TrimSpace(msg))
	r.root.mu.Unlock()
}

func (r *recorder) Fail() { r.fail("Fail called") }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }

func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.root.mu.Lock()
	r.root.skips = append(r.root.skips, r.name+": "+fmt.Sprintf(format, args...))
	r.root.mu.Unlock()
	r.SkipNow()
}

func (r *recorder) Skip(args ...any) { r.Skipf("%s", fmt.Sprint(args...)) }

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

func (r *recorder) runCleanups() {
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[n-1]
		r.cleanups = r.cleanups[:n-1]
		r.mu.Unlock()
		f()
	}
}

// Run runs f as a subtest, in its own goroutine, as testing.T.Run does,
// so that FailNow and SkipNow end only the subtest.
func (r *recorder) Run(name string, f func(t suiteT)) bool {
	child := &recorder{TB: r.TB, name: r.name + "/" + name, root: r.root}
	child.run(f)
	if child.Failed() {
		r.mu.Lock()
		r.failed = true
		r.mu.Unlock()
	} else if !child.Skipped() {
		r.root.mu.Lock()
		r.root.passed = append(r.root.passed, child.name)
		r.root.mu.Unlock()
	}
	return !child.Failed()
}

// mutant is a deliberately broken subject (a store, hasher, sealer or
// limiter), run through a suite, and the failures it must cause.
type mutant struct {
	name  string
	suite func(st suiteT)
	// want lists, for each case that must fail, the subtest name (with or
	// without a leading "/" and a trailing ":") and a part of its message
	// naming the broken clause.
	want [][2]string
}

// caseName returns the bare case name of a want entry.
func caseName(w string) string { return strings.Trim(w, "/:") }

// wantCaught runs each mutant as a subtest of t, through only the cases
// its want names (each case runs with a fresh subject, so the others
// could not change the outcome, and the race cases would spend their
// whole budget on a subject they cannot fault), and checks that each of
// those cases failed with its message.
func wantCaught(t *testing.T, ms []mutant) {
	t.Helper()
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			var cases []string
			for _, w := range m.want {
				cases = append(cases, caseName(w[0]))
			}
			rec := runRecorded(t, m.suite, cases...)
			for _, w := range m.want {
				if !rec.failedWith("/"+caseName(w[0])+":", w[1]) {
					t.Errorf("the suite did not fail case %s with %q; it recorded %s", caseName(w[0]), w[1], rec)
				}
			}
		})
	}
}

// raceRuns is how many times wantCaughtEveryTime runs a race case.
const raceRuns = 10

// wantCaughtEveryTime runs case kase of suite raceRuns times against a
// subject whose race window has no pause in it, and requires the case to
// fail with a message containing want every time: the case's repetition
// budget is long enough that such a subject never slips through.
func wantCaughtEveryTime(t *testing.T, suite func(st suiteT), kase, want string) {
	t.Helper()
	caught := 0
	for range raceRuns {
		if runRecorded(t, suite, kase).failedWith("/"+kase+":", want) {
			caught++
		}
	}
	if caught != raceRuns {
		t.Errorf("case %s caught the subject in %d of %d runs, want every run", kase, caught, raceRuns)
	}
	t.Logf("case %s caught the subject in %d of %d runs", kase, caught, raceRuns)
}

// raceMutant is a subject whose race window has no pause in it, and the
// race case that must catch it every time, with its message.
type raceMutant struct {
	name, kase, want string
	suite            func(st suiteT)
}

// wantRacesCaught runs wantCaughtEveryTime for each race mutant, as a
// subtest of t.
func wantRacesCaught(t *testing.T, rs []raceMutant) {
	t.Helper()
	for _, r := range rs {
		t.Run(r.name, func(t *testing.T) { wantCaughtEveryTime(t, r.suite, r.kase, r.want) })
	}
}

// wantPasses runs suite through the recorder against a correct subject
// and checks that it records no failure and no skip, and that at least
// minPassed cases passed: the failures the mutants cause come from them,
// not from the suite or the recorder.
func wantPasses(t *testing.T, suite func(st suiteT), minPassed int) {
	t.Helper()
	rec := runRecorded(t, suite)
	if len(rec.failures) != 0 || len(rec.skips) != 0 {
		t.Errorf("the suite does not pass the reference: %s", rec)
	}
	if len(rec.passed) < minPassed {
		t.Errorf("only %d cases passed, want at least %d: %v", len(rec.passed), minPassed, rec.passed)
	}
}
