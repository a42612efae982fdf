// Package policies holds loginkit.Policy implementations: who may log in
// and who may go on making requests.
//
//   - Lockout refuses logins after repeated failures, keeping its state in
//     the user's Account so that it holds across processes.
//   - Require and RequireUser turn a yes/no check (email verified, role,
//     time of day) into a policy; At limits a policy to one stage. A policy
//     that needs its own error is a loginkit.PolicyFunc.
//   - All and Any combine policies.
//
// Two checks are not here because the manager makes them itself: it
// refuses inactive users (User.IsActive) at login and on every request,
// and Manager.FreshRequired, with Builder.FreshFor for a maximum age,
// requires a fresh login on sensitive routes.
//
// Policies are pure functions of the *loginkit.Check they are given: they
// read the clock from Check.Now, never from time.Now, and change nothing
// (Lockout's state changes go through loginkit.LoginRecorder, which the
// manager calls and saves). They answer with the loginkit sentinels, which
// the manager maps to responses: ErrInactive and ErrUnauthorized to the
// unauthorized handler, ErrNeedsRefresh to the needs-refresh handler,
// ErrLocked (at login) to a refused login, and ErrForbidden, or any other
// error, to 403.
package policies

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
)

// Require returns a policy that allows when ok(c) reports true and
// otherwise refuses with an error matching loginkit.ErrForbidden, at both
// stages (combine with At to limit it to one).
func Require(ok func(c *loginkit.Check) bool) loginkit.Policy {
	return loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if !ok(c) {
			return loginkit.ErrForbidden
		}
		return nil
	})
}

// RequireUser returns a policy that allows when the checked user is of the
// application's type U and ok(user) reports true, and otherwise refuses
// with an error matching loginkit.ErrForbidden: a role or flag check
// without type assertions.
//
//	admins := policies.RequireUser(func(u *Staff) bool { return u.IsAdmin })
func RequireUser[U loginkit.User](ok func(u U) bool) loginkit.Policy {
	return loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		u, isU := c.User.(U)
		if !isU || !ok(u) {
			return loginkit.ErrForbidden
		}
		return nil
	})
}

// At returns a policy that applies p at the given stage only and allows at
// the other.
func At(stage loginkit.Stage, p loginkit.Policy) loginkit.Policy {
	return loginkit.PolicyFunc(func(ctx context.Context, c *loginkit.Check) error {
		if c.Stage != stage {
			return nil
		}
		return p.Check(ctx, c)
	})
}

// All returns a policy that allows when every one of ps allows; it checks
// them in order and returns the first refusal. All() allows. Nil policies
// are skipped.
func All(ps ...loginkit.Policy) loginkit.Policy {
	ps = compact(ps)
	return allPolicy(ps)
}

type allPolicy []loginkit.Policy

// Check implements loginkit.Policy.
func (a allPolicy) Check(ctx context.Context, c *loginkit.Check) error {
	for _, p := range a {
		if err := p.Check(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// RecordLogin passes the attempt on to every policy in a that records
// logins (see Lockout), so a Lockout inside All keeps working.
func (a allPolicy) RecordLogin(acc *loginkit.Account, ok bool, now time.Time) bool {
	return recordAll(a, acc, ok, now)
}

// Any returns a policy that allows when at least one of ps allows. When
// all refuse it returns their errors joined (errors.Is matches each of
// them; the manager looks for ErrNeedsRefresh first, then ErrUnauthorized
// and ErrInactive). Any() refuses with ErrForbidden: it fails closed. Nil
// policies are skipped.
func Any(ps ...loginkit.Policy) loginkit.Policy {
	ps = compact(ps)
	return anyPolicy(ps)
}

type anyPolicy []loginkit.Policy

// Check implements loginkit.Policy.
func (a anyPolicy) Check(ctx context.Context, c *loginkit.Check) error {
	if len(a) == 0 {
		return fmt.Errorf("%w: no policy to satisfy", loginkit.ErrForbidden)
	}
	errs := make([]error, 0, len(a))
	for _, p := range a {
		err := p.Check(ctx, c)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RecordLogin passes the attempt on to every policy in a that records
// logins.
func (a anyPolicy) RecordLogin(acc *loginkit.Account, ok bool, now time.Time) bool {
	return recordAll(a, acc, ok, now)
}

func recordAll(ps []loginkit.Policy, acc *loginkit.Account, ok bool, now time.Time) bool {
	changed := false
	for _, p := range ps {
		if r, isR := p.(loginkit.LoginRecorder); isR && r.RecordLogin(acc, ok, now) {
			changed = true
		}
	}
	return changed
}

func compact(ps []loginkit.Policy) []loginkit.Policy {
	out := make([]loginkit.Policy, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}
