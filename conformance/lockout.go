package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/policies"
)

// Lockout bound exercised through the manager: the number of password
// checks a burst of guesses may cost, and the size of the burst.
const (
	lockoutLimit   = 5
	lockoutGuesses = 60
	lockoutWindow  = 15 * time.Minute
)

// countingHasher is a Hasher that counts the password checks it makes.
// Each check takes a little time, as a real one does, so that concurrent
// logins overlap.
type countingHasher struct{ checks atomic.Int64 }

func (h *countingHasher) Hash(_ context.Context, password string) (string, error) {
	return "count$" + password, nil
}

func (h *countingHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	h.checks.Add(1)
	select {
	case <-time.After(3 * time.Millisecond):
	case <-ctx.Done():
		return false, ctx.Err()
	}
	want, ok := strings.CutPrefix(encoded, "count$")
	if !ok {
		return false, loginkit.ErrUnknownHashFormat
	}
	if password != want {
		return false, loginkit.ErrMismatch
	}
	return false, nil
}

// lockoutBound checks, for a store implementing loginkit.UserUpdater, the
// manager's lockout promise that rests on it: with
// policies.Lockout(5, ...), a burst of 60 concurrent wrong guesses costs
// at most 5 password checks; the right password sent after the burst is
// refused with ErrLocked while the lock lasts, and accepted after it.
func (s *userSuite[U]) lockoutBound(t suiteT, st loginkit.UserStore[U]) {
	s.updater(t, st) // skips a store without UserUpdater, fails a near miss
	clause := "UserUpdater.UpdateUser: a lockout bounds password checks, whatever the concurrency"
	var (
		mu  sync.Mutex
		now = s.now
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := &countingHasher{}
	m, err := loginkit.New[U]().Users(st).Sessions(memstore.NewSessions()).Hasher(h).
		Policies(policies.Lockout(lockoutLimit, lockoutWindow, lockoutWindow)).
		Clock(clock).Build()
	must(t, err, "Build a manager on the store", clause)
	ann := s.user("", "ann@example.com", "ann", 1)
	ann.LoginAccount().PasswordHash, _ = h.Hash(background(), "right password")
	s.create(t, st, ann)

	errs := make([]error, lockoutGuesses)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range lockoutGuesses {
		wg.Go(func() {
			<-start
			_, errs[i] = m.Authenticate(background(), "ann@example.com", "wrong password")
		})
	}
	close(start)
	wg.Wait()
	refused := 0
	for i, err := range errs {
		switch {
		case errors.Is(err, loginkit.ErrLocked):
			refused++
		case errors.Is(err, loginkit.ErrInvalidCredentials):
		default:
			skipUnsupported(t, "UpdateUser", err)
			t.Errorf("wrong guess %d of a concurrent burst: %v; want ErrInvalidCredentials or ErrLocked (%s)", i, err, clause)
		}
	}
	if n := h.checks.Load(); n > lockoutLimit {
		t.Errorf("%d concurrent wrong guesses against a lockout after %d failures made %d password checks; want at most %d (%s)",
			lockoutGuesses, lockoutLimit, n, lockoutLimit, clause)
	}
	if refused < lockoutGuesses-lockoutLimit {
		t.Errorf("%d of %d concurrent wrong guesses were refused as locked; want at least %d (%s)",
			refused, lockoutGuesses, lockoutGuesses-lockoutLimit, clause)
	}
	checks := h.checks.Load()
	if _, err := m.Authenticate(background(), "ann@example.com", "right password"); !errors.Is(err, loginkit.ErrLocked) {
		t.Errorf("the right password after the burst, while locked: %v; want ErrLocked (%s)", err, clause)
	}
	if n := h.checks.Load(); n != checks {
		t.Errorf("a login refused as locked made %d password checks; want none (%s)", n-checks, clause)
	}
	mu.Lock()
	now = now.Add(lockoutWindow + time.Second)
	mu.Unlock()
	u, err := m.Authenticate(background(), "ann@example.com", "right password")
	if err != nil {
		t.Fatalf("the right password after the lock ended: %v; want success (%s)", err, clause)
	}
	if a := u.LoginAccount(); a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
		t.Errorf("after a successful login: FailedLogins %d, LockedUntil %v; want 0 and zero (%s)", a.FailedLogins, a.LockedUntil, clause)
	}
}

// hostileNames checks that the store refuses, with ErrInvalid, an email
// or username holding code points loginkit.ValidLoginName refuses (a NUL
// byte, which SQL drivers reject with their own error, invisible and
// bidirectional-control characters, invalid UTF-8), and that looking one
// up finds nothing instead of failing.
func (s *userSuite[U]) hostileNames(t suiteT, st loginkit.UserStore[U]) {
	clause := "UserStore: a login name that is not ValidLoginName is ErrInvalid; FindByLogin of one is ErrNotFound"
	for i, name := range []string{"a\x00b", "adm\u200bin", "ann\u202eevil", "ann\xff", "ann\x07"} {
		u := s.user("", "", name, i)
		wantErr(t, st.Create(background(), u), loginkit.ErrInvalid, fmt.Sprintf("Create with username %q", name), clause)
		u = s.user("", name+"@example.com", "", i)
		wantErr(t, st.Create(background(), u), loginkit.ErrInvalid, fmt.Sprintf("Create with email %q", name+"@example.com"), clause)
		_, err := st.FindByLogin(background(), name)
		wantErr(t, err, loginkit.ErrNotFound, fmt.Sprintf("FindByLogin(%q)", name), clause)
	}
	ann := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, ann)
	ann.LoginAccount().Username = "ann\x00"
	wantErr(t, st.Update(background(), ann), loginkit.ErrInvalid, "Update to a username with a NUL byte", clause)
	if _, n, err := st.List(background(), loginkit.ListOptions{}); err != nil || n != 1 {
		t.Errorf("after refused writes: %d users, %v; want 1 (%s)", n, err, clause)
	}
}
