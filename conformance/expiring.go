package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// expiringStore is what a loginkit.SessionStore and a loginkit.TokenStore
// have in common: records found by key, removed by key, by user (arg is
// DeleteByUser's except key or purpose) and by the expiry sweep.
type expiringStore[R any] interface {
	Get(ctx context.Context, key string) (*R, error)
	Delete(ctx context.Context, key string) error
	DeleteByUser(ctx context.Context, userID, arg string) (int, error)
	DeleteExpired(ctx context.Context) (int, error)
}

// expiring holds what the session and token suites share: both check
// stores (S) of records (R) that have a key, belong to a user and expire,
// under the same rules for Get, DeleteByUser and the DeleteExpired sweep,
// and both harnesses declare native expiry and a clock the same way.
type expiring[S expiringStore[R], R any] struct {
	timing
	kind         string                                      // the store kind: "SessionStore", "TokenStore"
	noun         string                                      // a record in messages: "session", "token"
	native       bool                                        // the harness's NativeExpiry
	newWithClock func(tb testing.TB, now func() time.Time) S // the harness's NewWithClock
	putOp        string                                      // the method that stores a record: "Save", "Create"
	put          func(S, context.Context, *R) error          // that method
	key          func(*R) string                             // the record's key: Session.Key, Token.Selector
	show         func(*R) string                             // a record in a failure message
}

// store puts each of xs into st; each call must succeed.
func (e *expiring[S, R]) store(t suiteT, st S, xs ...*R) {
	t.Helper()
	for _, x := range xs {
		must(t, e.put(st, background(), x), fmt.Sprintf("%s(%q)", e.putOp, e.key(x)), e.kind+"."+e.putOp+" contract")
	}
}

// describe shows x, or "<nil>", in a failure message.
func (e *expiring[S, R]) describe(x *R) string {
	if x == nil {
		return "<nil>"
	}
	return e.show(x)
}

// keys returns the keys of rs, "<nil>" for a nil record.
func (e *expiring[S, R]) keys(rs []*R) []string {
	out := make([]string, len(rs))
	for i, x := range rs {
		if x == nil {
			out[i] = "<nil>"
			continue
		}
		out[i] = e.key(x)
	}
	return out
}

// wantEqual fails unless got equals want, to the suite's precision.
func (e *expiring[S, R]) wantEqual(t suiteT, want, got *R, op, clause string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: want %s %q (%s), got nil", op, e.noun, e.key(want), clause)
		return
	}
	if d := diff(want, got, e.prec); len(d) > 0 {
		t.Errorf("%s: %s %q differs (%s):\n\t%s", op, e.noun, e.key(want), clause, strings.Join(d, "\n\t"))
	}
}

// wantStored fails unless Get of want's key returns a record equal to want.
func (e *expiring[S, R]) wantStored(t suiteT, st S, want *R, op, clause string) {
	t.Helper()
	got, err := st.Get(background(), e.key(want))
	if err != nil {
		skipUnsupported(t, "Get", err)
		t.Errorf("%s: Get(%q): want the %s (%s), got %v", op, e.key(want), e.noun, clause, err)
		return
	}
	e.wantEqual(t, want, got, op, clause)
}

// wantGone fails unless Get(key) is ErrNotFound.
func (e *expiring[S, R]) wantGone(t suiteT, st S, key, op, clause string) {
	t.Helper()
	got, err := st.Get(background(), key)
	if errors.Is(err, loginkit.ErrNotFound) {
		return
	}
	skipUnsupported(t, "Get", err)
	t.Errorf("%s: Get(%q): want ErrNotFound (%s), got %s %v, error %v", op, key, clause, e.noun, e.describe(got), err)
}

// getMissing checks that Get of a key never stored, and of the empty key,
// is ErrNotFound; what names the key ("key", "selector").
func (e *expiring[S, R]) getMissing(t suiteT, st S, missing, what, clause, emptyClause string) {
	_, err := st.Get(background(), missing)
	wantErr(t, err, loginkit.ErrNotFound, "Get of a missing "+what, clause)
	_, err = st.Get(background(), "")
	wantErr(t, err, loginkit.ErrNotFound, `Get("")`, emptyClause)
}

// wantTies checks the listing of a user's three records created at the
// same instant: each is there, in any order among themselves.
func (e *expiring[S, R]) wantTies(t suiteT, list []*R, err error) {
	t.Helper()
	must(t, err, "ListByUser", e.kind+".ListByUser contract")
	got := e.keys(list)
	slices.Sort(got)
	if !slices.Equal(got, []string{"tie-1", "tie-2", "tie-3"}) {
		t.Errorf("ListByUser of 3 %[1]ss created at the same instant: want [tie-1 tie-2 tie-3] in any order (%[2]s.ListByUser returns every unexpired %[1]s, those created at the same instant included), got %[3]v", e.noun, e.kind, got)
	}
}

// sweep calls DeleteExpired, which must succeed, and returns its count.
func (e *expiring[S, R]) sweep(t suiteT, st S) int {
	t.Helper()
	n, err := st.DeleteExpired(background())
	must(t, err, "DeleteExpired", e.kind+".DeleteExpired contract")
	return n
}

// wantSweepCount checks the count DeleteExpired reported: exactly want
// for a store that sweeps, at most want for one with native expiry.
func (e *expiring[S, R]) wantSweepCount(t suiteT, n, want int, op string) {
	t.Helper()
	if e.native {
		if n < 0 || n > want {
			t.Errorf("%s: want at most %d (%s.DeleteExpired reports how many it removed; the harness declares native expiry), got %d", op, want, e.kind, n)
		}
		return
	}
	if n != want {
		t.Errorf("%s: want exactly %d (%s.DeleteExpired reports how many expired %ss it removed; a store without native expiry removes them all), got %d", op, want, e.kind, e.noun, n)
	}
}

// wantSweptOnce checks that a second sweep, right after one, finds
// nothing left to remove.
func (e *expiring[S, R]) wantSweptOnce(t suiteT, st S) {
	t.Helper()
	if n := e.sweep(t, st); n != 0 {
		t.Errorf("second DeleteExpired: want 0 (nothing left to remove), got %d", n)
	}
}

// wantCancelledSweepRemovedNothing checks, for a store without native
// expiry, that the one expired record of the case is still there to
// sweep after a DeleteExpired with a cancelled context.
func (e *expiring[S, R]) wantCancelledSweepRemovedNothing(t suiteT, st S, clause string) {
	t.Helper()
	if e.native {
		return
	}
	if n, err := st.DeleteExpired(background()); err == nil && n != 1 {
		t.Errorf("DeleteExpired after a DeleteExpired with a cancelled context: want 1 (%s: a cancelled DeleteExpired removes nothing), got %d", clause, n)
	}
}

// sweepThenByUser is the end of DeleteExpiredThenByUser: user-1 holds
// two expired records and l1, user-10 one expired record. After the
// sweep, list (user-1's records, of every purpose) and DeleteByUser see
// only l1.
func (e *expiring[S, R]) sweepThenByUser(t suiteT, st S, list func() ([]*R, error)) {
	t.Helper()
	e.wantSweepCount(t, e.sweep(t, st), 3, fmt.Sprintf("DeleteExpired with 3 expired %ss", e.noun))
	l, err := list()
	must(t, err, "ListByUser", e.kind+".ListByUser contract")
	if got := e.keys(l); !slices.Equal(got, []string{"l1"}) {
		t.Errorf("ListByUser after DeleteExpired: want [l1] (%s.DeleteExpired removes the swept %ss from the user's list), got %v", e.kind, e.noun, got)
	}
	left := fmt.Sprintf("%s.DeleteByUser counts only the %ss the sweep left", e.kind, e.noun)
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 1, e.kind, "DeleteByUser after DeleteExpired", left)
	wantDeleteByUser(t, st.DeleteByUser, "user-10", "", 0, e.kind, fmt.Sprintf("DeleteByUser of a user whose only %s was swept", e.noun), left)
}

// atBoundary returns the store and the instant that an ExpiryBoundary case
// takes as "now", an instant the store can keep exactly, and the earliest
// expiry after it that the store must still see as unexpired. With the
// harness's NewWithClock (when set), the store is a new one whose clock
// stands at the suite's now, and a record expiring one precision step
// later is live; without it, the store is st and the instant the current
// time, which the store's own clock will have passed when it checks an
// expiry, so that the live record expires a minute later.
func (e *expiring[S, R]) atBoundary(t suiteT, st S) (store S, at, after time.Time) {
	if e.newWithClock == nil {
		at = time.Now().UTC().Truncate(e.prec)
		return st, at, at.Add(time.Minute)
	}
	at = e.now.Truncate(e.prec)
	c := &clock{now: at}
	return e.newWithClock(t, c.Now), at, at.Add(e.prec)
}
