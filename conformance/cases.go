package conformance

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// suiteCase is one case of a suite: the name of its subtest (what a user
// sees in a failure, and what doc.go lists) and its body, which is handed
// a fresh subject from the harness: a store, a hasher, a sealer or a
// limiter.
type suiteCase[S any] struct {
	name string
	run  func(t suiteT, subject S)
}

// runSuite runs a suite's cases, each as a subtest of t named after it
// and given a fresh subject from open (the harness's New). It fails at
// once when open is nil, naming the harness type. The subtests are scoped
// to the store kind, so that only the operations Unsupported()[kind]
// lists may answer errors.ErrUnsupported; methods are every method the
// cases call. Under the package's own recorder, only the cases it asks
// for run.
func runSuite[S any](t suiteT, harness, kind string, methods []string, open func(testing.TB) S, cases []suiteCase[S]) {
	t.Helper()
	if open == nil {
		t.Fatalf("conformance: %s.New is nil", harness)
	}
	only := onlyCases(t)
	t = scope(t, kind, methods, Unsupported()[kind]...)
	for _, c := range cases {
		if only != nil && !only[c.name] {
			continue
		}
		t.Run(c.name, func(t suiteT) {
			c.run(t, open(t))
		})
	}
}

// methodsOf returns the names of the methods of S, the interface a suite
// tests, followed by extra: the methods of the optional interfaces its
// cases also call (loginkit.SessionToucher's Touch, for example). These
// are the methods runSuite is given.
func methodsOf[S any](extra ...string) []string {
	typ := reflect.TypeFor[S]()
	names := make([]string, 0, typ.NumMethod()+len(extra))
	for i := range typ.NumMethod() {
		names = append(names, typ.Method(i).Name)
	}
	return append(names, extra...)
}

// timing is what the cases of a suite whose subject keeps times share:
// the precision the subject keeps them to and the instant the cases count
// from.
type timing struct {
	prec time.Duration
	now  time.Time
}

// newTiming returns the timing of a suite whose harness declares
// precision p (0 for a millisecond), counting from suiteNow.
func newTiming(p time.Duration) timing {
	return timing{prec: precisionOr(p), now: suiteNow()}
}

// clock is a settable clock for the harness's NewWithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// uniqueUser returns a user ID starting with name and unique to this
// run, so that stores sharing a database between subtests do not see each
// other's data.
func uniqueUser(name string) string {
	return name + "-" + loginkit.NewID()[:12] + "-Zoë"
}

// wantDeleteByUser calls del (the DeleteByUser of a kind store:
// "SessionStore" or "TokenStore") for userID and arg (the except key or
// the purpose), and checks that it succeeds and reports want removals.
// what names the call in a failure, and clause, when set, the rule.
func wantDeleteByUser(t suiteT, del func(context.Context, string, string) (int, error), userID, arg string, want int, kind, what, clause string) {
	t.Helper()
	n, err := del(background(), userID, arg)
	must(t, err, "DeleteByUser", kind+".DeleteByUser contract")
	if n == want {
		return
	}
	if clause != "" {
		clause = " (" + clause + ")"
	}
	t.Errorf("%s: want %d removed%s, got %d", what, want, clause, n)
}
