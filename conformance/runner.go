package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// suiteT is what the suites report to. The exported TestX functions pass a
// *testing.T through realT; the package's own tests pass a recorder, so
// that they can run a suite against a deliberately broken store and check
// that it fails without failing themselves.
type suiteT interface {
	testing.TB
	// Run runs f as a subtest named name, like testing.T.Run.
	Run(name string, f func(t suiteT)) bool
}

// realT adapts a *testing.T to suiteT.
type realT struct{ *testing.T }

// Run implements suiteT.
func (r realT) Run(name string, f func(t suiteT)) bool {
	return r.T.Run(name, func(t *testing.T) { f(realT{t}) })
}

// wrapT returns t as a suiteT.
func wrapT(t *testing.T) suiteT { return realT{t} }

// background is the context the suites use for calls expected to succeed.
func background() context.Context { return context.Background() }

// cancelled returns an already cancelled context.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// precisionOr returns p, or a millisecond when p is 0.
func precisionOr(p time.Duration) time.Duration {
	if p <= 0 {
		return time.Millisecond
	}
	return p
}

// scopedT is a suiteT that knows which store kind its suite tests and
// which of that kind's operations may answer errors.ErrUnsupported. It
// passes itself on to subtests.
type scopedT struct {
	suiteT
	kind    string          // "UserStore", "SessionStore", "TokenStore"
	methods []string        // every method name the suite calls
	allowed map[string]bool // the methods that may be unsupported
}

// Run implements suiteT, keeping the scope for the subtest.
func (s scopedT) Run(name string, f func(t suiteT)) bool {
	return s.suiteT.Run(name, func(t suiteT) { f(scopedT{t, s.kind, s.methods, s.allowed}) })
}

// scope returns t scoped to a store kind.
func scope(t suiteT, kind string, methods []string, allowed ...string) suiteT {
	a := map[string]bool{}
	for _, m := range allowed {
		a[m] = true
	}
	return scopedT{t, kind, methods, a}
}

// Unsupported returns, by store kind ("UserStore", "SessionStore",
// "TokenStore", "SecondFactorStore", "PasskeyStore", "Hasher",
// "SessionSealer", "Limiter"), the only operations that may return an error matching
// errors.ErrUnsupported; the suites skip a case that meets one, and fail
// a case in which any other operation returns it. A session store that
// keeps no server-side records (a stateless cookie store) can neither
// list nor revoke a user's sessions, and a store whose server expires
// records by itself has nothing to sweep. Every other operation is one
// the manager relies on: every operation of a SecondFactorStore is one
// two-factor login relies on, every one of a PasskeyStore one passkey
// sign-in relies on, and a hasher, sealer or limiter that cannot
// hash, verify, seal, open or count is none. The map is a new copy on
// each call.
func Unsupported() map[string][]string {
	return map[string][]string{
		"UserStore":         {},
		"SessionStore":      {"ListByUser", "DeleteByUser", "DeleteExpired"},
		"TokenStore":        {"DeleteExpired"},
		"SecondFactorStore": {},
		"PasskeyStore":      {},
		"Hasher":            {},
		"SessionSealer":     {},
		"Limiter":           {},
	}
}

// methodIn returns the first word of op that names one of methods.
func methodIn(op string, methods []string) string {
	for _, w := range strings.FieldsFunc(op, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if slices.Contains(methods, w) {
			return w
		}
	}
	return ""
}

// unsupportedAllowed reports whether op (a description starting with, or
// naming, the method called) may answer errors.ErrUnsupported in t's
// suite. Outside a scoped suite (none of the package's suites runs
// unscoped) it may.
func unsupportedAllowed(t suiteT, op string) (allowed bool, kind, method string) {
	sc, ok := t.(scopedT)
	if !ok {
		return true, "", ""
	}
	m := methodIn(op, sc.methods)
	return sc.allowed[m], sc.kind, m
}

// skipUnsupported skips the current case when err reports an unsupported
// operation that the store kind may leave unsupported, and fails it at
// once when err reports one that it may not.
func skipUnsupported(t suiteT, op string, err error) {
	t.Helper()
	if !errors.Is(err, errors.ErrUnsupported) {
		return
	}
	ok, kind, m := unsupportedAllowed(t, op)
	if ok {
		t.Skipf("%s: the store reports errors.ErrUnsupported; case skipped", op)
	}
	t.Fatalf("%s: the store reports errors.ErrUnsupported, which %s.%s may not answer (conformance.Unsupported(): only %v may be unsupported), error %v", op, kind, orUnknown(m), Unsupported()[kind], err)
}

// wantRaceResults checks the errors of a race's calls: each must be nil
// or one that ok (when set) accepts for call i. Any other fails the case
// (it is skipped when the store reports errors.ErrUnsupported for one of
// ops and may), naming the race (what), the call and the clause.
func wantRaceResults(t suiteT, errs []error, ops, what, clause string, ok func(i int, err error) bool) {
	t.Helper()
	for i, err := range errs {
		if err == nil || (ok != nil && ok(i, err)) {
			continue
		}
		skipUnsupported(t, ops, err)
		t.Errorf("%s: call %d: %v (%s)", what, i, err, clause)
	}
}

func orUnknown(m string) string {
	if m == "" {
		return "this method"
	}
	return m
}

// must fails the case at once when err is not nil (skipping it when the
// store reports the operation unsupported). what names the clause that
// makes the call valid.
func must(t suiteT, err error, op, what string) {
	t.Helper()
	if err == nil {
		return
	}
	skipUnsupported(t, op, err)
	t.Fatalf("%s: want no error (%s), got %v", op, what, err)
}

// wantErr reports an error unless err matches target.
func wantErr(t suiteT, err, target error, op, what string) bool {
	t.Helper()
	if errors.Is(err, target) {
		return true
	}
	skipUnsupported(t, op, err)
	t.Errorf("%s: want %s (%s), got %v", op, errName(target), what, err)
	return false
}

// errName names the loginkit sentinels and context errors in messages.
func errName(err error) string {
	for _, n := range []struct {
		err  error
		name string
	}{
		{loginkit.ErrNotFound, "ErrNotFound"},
		{loginkit.ErrDuplicate, "ErrDuplicate"},
		{loginkit.ErrInvalid, "ErrInvalid"},
		{loginkit.ErrReplayed, "ErrReplayed"},
		{context.Canceled, "context.Canceled"},
	} {
		if err == n.err {
			return n.name
		}
	}
	return err.Error()
}

// errCanceled is the error a call with a cancelled context must match.
var errCanceled = context.Canceled

// wantCanceled reports an error unless err matches context.Canceled. A
// store that declares the operation unsupported, where that is allowed, is
// let off for that call only, so that the other calls of the case are
// still checked.
func wantCanceled(t suiteT, err error, op, what string) {
	t.Helper()
	if errors.Is(err, errors.ErrUnsupported) {
		if ok, _, _ := unsupportedAllowed(t, op); ok {
			t.Logf("%s: the store reports errors.ErrUnsupported; call not checked", op)
			return
		}
		skipUnsupported(t, op, err)
	}
	wantErr(t, err, errCanceled, op, what)
}

// suiteNow returns the current time in UTC with a fixed fraction of a
// second (.123456789), so that a store losing sub-second or
// sub-millisecond digits is caught whatever the clock reads.
func suiteNow() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(123456789)
}

// raceBudget is how long a race case repeats its rounds against a store
// that shows no lost write; raceMinRounds is the fewest rounds it runs,
// however slow the store. A store with a read-then-write window and no
// pause in it is caught in some round well within that budget (see each
// race case's doc comment for how that was shown).
const (
	raceBudget    = 400 * time.Millisecond
	raceMinRounds = 1
)

// repeatRace runs round (numbered from 0) until it reports a failure, or
// until raceBudget has passed and at least raceMinRounds rounds have run.
// round returns false when it failed.
func repeatRace(round func(r int) bool) {
	start := time.Now()
	for r := 0; ; r++ {
		if !round(r) {
			return
		}
		if r+1 >= raceMinRounds && time.Since(start) > raceBudget {
			return
		}
	}
}

// optionalIface checks that a store whose harness declares an optional
// interface (declared) implements it (has), and that a store with a
// method of the interface's name (in any letter case) implements it: a
// near-miss signature would otherwise make the suite skip the
// interface's cases while the manager falls back to a racier path. It
// fails the case and returns false on a mismatch.
func optionalIface(t suiteT, store any, has, declared bool, iface, method, want string) bool {
	t.Helper()
	if has {
		return true
	}
	typ := reflect.TypeOf(store)
	var found []string
	for _, tt := range []reflect.Type{typ, ptrTo(typ)} {
		if tt == nil {
			continue
		}
		for i := range tt.NumMethod() {
			m := tt.Method(i)
			if tt != typ {
				if _, onValue := typ.MethodByName(m.Name); onValue {
					continue
				}
			}
			if strings.EqualFold(m.Name, method) {
				how := fmt.Sprintf("%s has %s%s", tt, m.Name, strings.TrimPrefix(m.Type.String(), "func"))
				if tt != typ {
					how += " on the pointer receiver only, but the harness returned a " + typ.String()
				}
				found = append(found, how)
			}
		}
	}
	switch {
	case len(found) > 0:
		t.Errorf("the store does not implement %s (want %s): %s; a near-miss method is not used by the manager, which falls back to a racier path", iface, want, strings.Join(found, "; "))
		return false
	case declared:
		t.Errorf("the harness declares that the store implements %s, but %s has no method %s (want %s)", iface, typ, method, want)
		return false
	}
	return true
}

func ptrTo(t reflect.Type) reflect.Type {
	if t == nil || t.Kind() == reflect.Pointer {
		return nil
	}
	return reflect.PointerTo(t)
}

// caseFilter is implemented by the package's own test recorder, to run
// only some cases of a suite.
type caseFilter interface {
	onlyCases() map[string]bool
}

// onlyCases returns the cases t asks to run, or nil for all.
func onlyCases(t suiteT) map[string]bool {
	if f, ok := t.(caseFilter); ok {
		return f.onlyCases()
	}
	return nil
}

// startLine holds back the goroutines of a race round until all of them
// are running, then lets them go at once. Unlike a closed channel, which
// wakes the goroutines one after another, the goroutines wait spinning
// (yielding the processor), so that those on other processors start
// their calls at the same instant.
type startLine struct {
	n       int
	arrived atomic.Int64
	off     atomic.Bool
}

func newStartLine(n int) *startLine { return &startLine{n: n} }

// wait is called by each racing goroutine before its calls.
func (l *startLine) wait() {
	l.arrived.Add(1)
	for !l.off.Load() {
		runtime.Gosched()
	}
}

// release lets the goroutines go once all n are waiting.
func (l *startLine) release() {
	for l.arrived.Load() < int64(l.n) {
		runtime.Gosched()
	}
	l.off.Store(true)
}

// raceSteps runs n goroutines, each through steps steps, calling f(g, k)
// for goroutine g's step k; step k of every goroutine starts at the same
// instant (a startLine per step), once all have finished step k-1.
func raceSteps(n, steps int, f func(g, k int)) {
	lines := make([]*startLine, steps)
	for k := range lines {
		lines[k] = newStartLine(n)
	}
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for k := range steps {
				lines[k].wait()
				f(g, k)
			}
		})
	}
	for _, l := range lines {
		l.release()
	}
	wg.Wait()
}

// raceOneAgainst runs one call against n others (a single step of
// raceSteps: all start at the same instant) and returns their errors:
// many(i)'s at index i, one's at index n.
func raceOneAgainst(n int, many func(i int) error, one func() error) []error {
	errs := make([]error, n+1)
	raceSteps(n+1, 1, func(i, _ int) {
		if i == n {
			errs[i] = one()
			return
		}
		errs[i] = many(i)
	})
	return errs
}

// raceWins counts the calls of a race for one thing that succeeded, given
// their errors. A call may also fail with lost, the error the losers of
// such a race get; any other error fails the case (it is skipped when op
// may be unsupported), naming the calls (what) and the clause.
func raceWins(t suiteT, errs []error, lost error, op, what, clause string) int {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, lost):
		default:
			skipUnsupported(t, op, err)
			t.Errorf("%s: want nil or %s, got %v (%s)", what, errName(lost), err, clause)
		}
	}
	return wins
}

// yieldingContext is the context the race cases pass to the calls they
// race. It never ends, but each time the store consults it (Err, Done or
// Value, as every store honouring ctx does on entering a method) it
// yields the processor first, so that the racing goroutines interleave
// at the boundaries of the store's own steps even on a single, busy
// processor: a read-then-write made of two calls that consult ctx has
// its window opened in nearly every round.
type yieldingContext struct{ context.Context }

func (c yieldingContext) Err() error {
	runtime.Gosched()
	return c.Context.Err()
}

func (c yieldingContext) Done() <-chan struct{} {
	runtime.Gosched()
	return c.Context.Done()
}

func (c yieldingContext) Value(key any) any {
	runtime.Gosched()
	return c.Context.Value(key)
}

// raceContext returns the context for the calls a race case races.
func raceContext() context.Context { return yieldingContext{context.Background()} }
