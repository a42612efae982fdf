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
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.runCleanups()
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("panic: %v", p)
			}
		}()
		suite(r)
	}()
	<-done
	return rec
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

// Run runs f in its own goroutine, as testing.T.Run does, so that
// FailNow and SkipNow end only the subtest.
func (r *recorder) Run(name string, f func(t suiteT)) bool {
	child := &recorder{TB: r.TB, name: r.name + "/" + name, root: r.root}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer child.runCleanups()
		defer func() {
			if p := recover(); p != nil {
				child.Errorf("panic: %v", p)
			}
		}()
		f(child)
	}()
	<-done
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
