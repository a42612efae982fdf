package conformance

import (
	"context"
	"errors"
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

// skipUnsupported skips the current case when err reports an unsupported
// operation.
func skipUnsupported(t suiteT, op string, err error) {
	t.Helper()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("%s: the store reports errors.ErrUnsupported; case skipped", op)
	}
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
// store that declares the operation unsupported is let off for that
// call only, so that the other calls of the case are still checked.
func wantCanceled(t suiteT, err error, op, what string) {
	t.Helper()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Logf("%s: the store reports errors.ErrUnsupported; call not checked", op)
		return
	}
	wantErr(t, err, errCanceled, op, what)
}

// suiteNow returns the current time in UTC with a fixed fraction of a
// second (.123456789), so that a store losing sub-second or
// sub-millisecond digits is caught whatever the clock reads.
func suiteNow() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(123456789)
}
