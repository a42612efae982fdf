package policies

import (
	"context"
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
)

// LockoutPolicy refuses logins to an account after repeated failed
// password checks, until a cool-down passes. Its state lives in the
// user's loginkit.Account (FailedLogins, LastFailedLoginAt, LockedUntil),
// which the manager saves through the UserStore after each password
// check, so the lockout holds across processes and restarts.
//
// Counting: a failure more than Window after the previous one (with no
// lock since) starts the count again at one, so MaxFailures failures each
// within Window of the one before lock the account. The lock lasts
// LockFor; when MaxLockFor is greater, each further failure after a lock
// ends (before a success, and within Window of the lock's end) locks
// again for twice as long as the last, up to MaxLockFor. A failure more
// than Window after a lock ended starts afresh. A successful login resets
// the count and the lock.
//
// The manager counts each password check as a failure before making it
// and refunds it on success, atomically through loginkit.UserUpdater, so
// at most MaxFailures checks run per lock however many logins race (see
// loginkit.Manager.Authenticate).
//
// It refuses at StageLogin only, with an error matching
// loginkit.ErrLocked, whatever the password; existing sessions are not
// affected (combine with Active to end them by disabling the account).
// The fields must not change while the policy is in use.
type LockoutPolicy struct {
	// MaxFailures is the number of failures that locks the account.
	MaxFailures int
	// Window is the longest gap between counted failures.
	Window time.Duration
	// LockFor is how long the first lock lasts.
	LockFor time.Duration
	// MaxLockFor, when greater than LockFor, makes further locks grow,
	// doubling up to it; otherwise every lock lasts LockFor.
	MaxLockFor time.Duration
}

var (
	_ loginkit.Policy        = (*LockoutPolicy)(nil)
	_ loginkit.LoginRecorder = (*LockoutPolicy)(nil)
)

// Lockout returns a policy that locks an account for lockFor after
// maxFailures failed logins, each within window of the one before
// (fixed-length locks; set MaxLockFor, or use Growing, for growing ones).
// Values below 1 (or zero durations) are raised to 1 failure, one minute
// and one minute.
//
//	policies.Lockout(5, 15*time.Minute, 15*time.Minute)
func Lockout(maxFailures int, window, lockFor time.Duration) *LockoutPolicy {
	return &LockoutPolicy{
		MaxFailures: max(maxFailures, 1),
		Window:      orMinute(window),
		LockFor:     orMinute(lockFor),
	}
}

// Growing returns a copy of p whose locks double after each further
// failure, up to maxLockFor.
func (p *LockoutPolicy) Growing(maxLockFor time.Duration) *LockoutPolicy {
	c := *p
	c.MaxLockFor = maxLockFor
	return &c
}

func orMinute(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Minute
	}
	return d
}

// Check refuses a login while c.Account.LockedUntil is after c.Now, with
// an error matching loginkit.ErrLocked. It allows at StageRequest and for
// users without an Account.
func (p *LockoutPolicy) Check(_ context.Context, c *loginkit.Check) error {
	if c.Stage != loginkit.StageLogin || c.Account == nil {
		return nil
	}
	if c.Now.Before(c.Account.LockedUntil) {
		return fmt.Errorf("%w until %s", loginkit.ErrLocked, c.Account.LockedUntil.UTC().Format(time.RFC3339))
	}
	return nil
}

// RecordLogin implements loginkit.LoginRecorder: after a failed password
// check it counts the failure and locks the account when the count
// reaches MaxFailures; after a success it clears the count and the lock.
// It reports whether it changed a.
func (p *LockoutPolicy) RecordLogin(a *loginkit.Account, ok bool, now time.Time) bool {
	if a == nil {
		return false
	}
	if ok {
		if a.FailedLogins == 0 && a.LockedUntil.IsZero() {
			return false
		}
		a.FailedLogins = 0
		a.LockedUntil = time.Time{}
		return true
	}
	window := orMinute(p.Window)
	switch {
	case !a.LockedUntil.IsZero() && !now.Before(a.LockedUntil.Add(window)):
		// The last lock ended more than a window ago: start afresh.
		a.FailedLogins, a.LockedUntil = 0, time.Time{}
	case a.LockedUntil.IsZero() && now.Sub(a.LastFailedLoginAt) > window:
		a.FailedLogins = 0
	}
	a.FailedLogins++
	a.LastFailedLoginAt = now
	maxFailures := max(p.MaxFailures, 1)
	if a.FailedLogins >= maxFailures && !now.Before(a.LockedUntil) {
		a.LockedUntil = now.Add(p.lockDuration(a.FailedLogins - maxFailures))
	}
	return true
}

// lockDuration is the length of the lock after extra failures beyond
// MaxFailures.
func (p *LockoutPolicy) lockDuration(extra int) time.Duration {
	d := orMinute(p.LockFor)
	if p.MaxLockFor <= d {
		return d
	}
	for range extra {
		if d >= p.MaxLockFor/2 {
			return p.MaxLockFor
		}
		d *= 2
	}
	return min(d, p.MaxLockFor)
}
