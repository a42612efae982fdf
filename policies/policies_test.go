package policies

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

type staff struct {
	loginkit.Account
	Admin bool
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func check(stage loginkit.Stage, u *staff, s *loginkit.Session, now time.Time) *loginkit.Check {
	return &loginkit.Check{Stage: stage, User: u, Account: &u.Account, Session: s, Now: now}
}

func TestRequireAt(t *testing.T) {
	ctx := context.Background()
	admin, plain := &staff{Admin: true}, &staff{}
	isAdmin := RequireUser(func(u *staff) bool { return u.Admin })
	if err := isAdmin.Check(ctx, check(loginkit.StageRequest, admin, nil, t0)); err != nil {
		t.Errorf("admin refused: %v", err)
	}
	if err := isAdmin.Check(ctx, check(loginkit.StageRequest, plain, nil, t0)); !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("non-admin: %v; want ErrForbidden", err)
	}
	other := &loginkit.Check{Stage: loginkit.StageRequest, User: &loginkit.Account{}, Now: t0}
	if err := isAdmin.Check(ctx, other); !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("user of another type: %v; want ErrForbidden", err)
	}
	daytime := Require(func(c *loginkit.Check) bool { return c.Now.Hour() >= 8 && c.Now.Hour() < 18 })
	if err := daytime.Check(ctx, check(loginkit.StageLogin, plain, nil, t0)); err != nil {
		t.Errorf("noon refused: %v", err)
	}
	if err := daytime.Check(ctx, check(loginkit.StageLogin, plain, nil, t0.Add(10*time.Hour))); !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("22:00: %v; want ErrForbidden", err)
	}
	verified := loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Account.Email == "" {
			return loginkit.ErrUnauthorized
		}
		return nil
	})
	if err := verified.Check(ctx, check(loginkit.StageRequest, plain, nil, t0)); !errors.Is(err, loginkit.ErrUnauthorized) {
		t.Errorf("Func: %v", err)
	}
	loginOnly := At(loginkit.StageLogin, isAdmin)
	if err := loginOnly.Check(ctx, check(loginkit.StageRequest, plain, nil, t0)); err != nil {
		t.Errorf("At(login) at request stage: %v", err)
	}
	if err := loginOnly.Check(ctx, check(loginkit.StageLogin, plain, nil, t0)); !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("At(login) at login stage: %v", err)
	}
}

func TestAllAny(t *testing.T) {
	ctx := context.Background()
	allow := loginkit.PolicyFunc(func(context.Context, *loginkit.Check) error { return nil })
	forbid := loginkit.PolicyFunc(func(context.Context, *loginkit.Check) error { return loginkit.ErrForbidden })
	refresh := loginkit.PolicyFunc(func(context.Context, *loginkit.Check) error { return loginkit.ErrNeedsRefresh })
	calls := 0
	counted := loginkit.PolicyFunc(func(context.Context, *loginkit.Check) error { calls++; return nil })
	c := check(loginkit.StageRequest, &staff{}, nil, t0)

	if err := All().Check(ctx, c); err != nil {
		t.Errorf("All(): %v", err)
	}
	if err := All(allow, nil, allow).Check(ctx, c); err != nil {
		t.Errorf("All(allow, allow): %v", err)
	}
	if err := All(allow, refresh, forbid, counted).Check(ctx, c); !errors.Is(err, loginkit.ErrNeedsRefresh) || errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("All: %v; want the first refusal only", err)
	}
	if calls != 0 {
		t.Errorf("All went on after a refusal")
	}
	if err := Any().Check(ctx, c); !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("Any(): %v; want ErrForbidden", err)
	}
	if err := Any(forbid, allow).Check(ctx, c); err != nil {
		t.Errorf("Any(forbid, allow): %v", err)
	}
	err := Any(refresh, forbid).Check(ctx, c)
	if !errors.Is(err, loginkit.ErrNeedsRefresh) || !errors.Is(err, loginkit.ErrForbidden) {
		t.Errorf("Any(refresh, forbid): %v; want both joined", err)
	}
}

func TestLockoutFixed(t *testing.T) {
	ctx := context.Background()
	p := Lockout(3, 10*time.Minute, 15*time.Minute)
	u := &staff{}
	now := t0
	for i := 1; i <= 2; i++ {
		if !p.RecordLogin(&u.Account, false, now) {
			t.Fatal("a failure did not change the account")
		}
		now = now.Add(time.Minute)
	}
	if err := p.Check(ctx, check(loginkit.StageLogin, u, nil, now)); err != nil {
		t.Fatalf("locked after 2 of 3 failures: %v", err)
	}
	p.RecordLogin(&u.Account, false, now) // third: lock
	if u.FailedLogins != 3 || !u.LockedUntil.Equal(now.Add(15*time.Minute)) || !u.LastFailedLoginAt.Equal(now) {
		t.Fatalf("after 3 failures: %+v", u.Account)
	}
	if err := p.Check(ctx, check(loginkit.StageLogin, u, nil, now.Add(15*time.Minute-time.Nanosecond))); !errors.Is(err, loginkit.ErrLocked) {
		t.Errorf("just before the lock ends: %v; want ErrLocked", err)
	}
	if err := p.Check(ctx, check(loginkit.StageRequest, u, nil, now)); err != nil {
		t.Errorf("request stage while locked: %v; sessions are not affected", err)
	}
	end := now.Add(15 * time.Minute)
	if err := p.Check(ctx, check(loginkit.StageLogin, u, nil, end)); err != nil {
		t.Errorf("when the lock ends: %v", err)
	}
	// Fixed: a further failure soon after the lock ends locks for LockFor again.
	p.RecordLogin(&u.Account, false, end.Add(time.Minute))
	if !u.LockedUntil.Equal(end.Add(16 * time.Minute)) {
		t.Errorf("second lock until %v; want %v", u.LockedUntil, end.Add(16*time.Minute))
	}
	// Success resets.
	if !p.RecordLogin(&u.Account, true, end.Add(time.Hour)) || u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after success: %+v", u.Account)
	}
	if p.RecordLogin(&u.Account, true, end.Add(time.Hour)) {
		t.Error("a second success reported a change")
	}
}

func TestLockoutWindow(t *testing.T) {
	p := Lockout(3, 10*time.Minute, 15*time.Minute)
	var a loginkit.Account
	p.RecordLogin(&a, false, t0)
	p.RecordLogin(&a, false, t0.Add(5*time.Minute))
	p.RecordLogin(&a, false, t0.Add(16*time.Minute)) // 11 minutes after the last: count restarts
	if a.FailedLogins != 1 || !a.LockedUntil.IsZero() {
		t.Errorf("after a gap longer than the window: %+v", a)
	}
	// After a lock that ended more than a window ago, counting starts afresh.
	var b loginkit.Account
	for i := range 3 {
		p.RecordLogin(&b, false, t0.Add(time.Duration(i)*time.Minute))
	}
	locked := b.LockedUntil
	p.RecordLogin(&b, false, locked.Add(11*time.Minute))
	if b.FailedLogins != 1 || !b.LockedUntil.IsZero() {
		t.Errorf("failure long after a lock: %+v", b)
	}
	// A failure recorded during a lock does not extend it.
	var c loginkit.Account
	for i := range 4 {
		p.RecordLogin(&c, false, t0.Add(time.Duration(i)*time.Second))
	}
	if !c.LockedUntil.Equal(t0.Add(2*time.Second + 15*time.Minute)) {
		t.Errorf("lock extended by a failure during it: %v", c.LockedUntil)
	}
}

func TestLockoutGrowing(t *testing.T) {
	p := Lockout(2, 10*time.Minute, time.Minute).Growing(5 * time.Minute)
	var a loginkit.Account
	now := t0
	var got []time.Duration
	for range 6 {
		p.RecordLogin(&a, false, now)
		if !a.LockedUntil.IsZero() && a.LockedUntil.After(now) {
			got = append(got, a.LockedUntil.Sub(now))
			now = a.LockedUntil // retry as soon as the lock ends
		} else {
			now = now.Add(time.Second)
		}
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if len(got) != len(want) {
		t.Fatalf("locks %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("locks %v; want %v", got, want)
		}
	}
}

// TestLockoutInsideCombinators checks that All and Any pass attempts on to
// a Lockout they contain.
func TestLockoutInsideCombinators(t *testing.T) {
	for name, p := range map[string]loginkit.Policy{
		"All": All(Require(func(*loginkit.Check) bool { return true }), Lockout(1, time.Minute, time.Minute)),
		"Any": Any(Lockout(1, time.Minute, time.Minute)),
	} {
		rec, ok := p.(loginkit.LoginRecorder)
		if !ok {
			t.Fatalf("%s is not a LoginRecorder", name)
		}
		var a loginkit.Account
		if !rec.RecordLogin(&a, false, t0) || a.LockedUntil.IsZero() {
			t.Errorf("%s: failure not recorded: %+v", name, a)
		}
		u := &staff{Account: a}
		if err := p.Check(context.Background(), check(loginkit.StageLogin, u, nil, t0)); !errors.Is(err, loginkit.ErrLocked) {
			t.Errorf("%s: %v; want ErrLocked", name, err)
		}
	}
}

func TestLockoutNoAccount(t *testing.T) {
	p := Lockout(1, time.Minute, time.Minute)
	c := &loginkit.Check{Stage: loginkit.StageLogin, User: &staff{}, Now: t0}
	if err := p.Check(context.Background(), c); err != nil {
		t.Errorf("no account: %v", err)
	}
	if p.RecordLogin(nil, false, t0) {
		t.Error("RecordLogin(nil) reported a change")
	}
	z := &LockoutPolicy{} // zero value: 1 failure, one-minute window and lock
	var a loginkit.Account
	z.RecordLogin(&a, false, t0)
	if !a.LockedUntil.Equal(t0.Add(time.Minute)) {
		t.Errorf("zero LockoutPolicy: %+v", a)
	}
}
