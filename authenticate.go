package loginkit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Authenticate checks a login name (email or username) and password. It
// returns ErrInvalidCredentials both for an unknown login and for a wrong
// password, and spends the same hashing work on both, so neither the error
// nor the timing tells them apart: every ErrInvalidCredentials outcome is
// padded to the time a wrong password takes against the slowest hash
// scheme seen failing recently (a per-scheme median), so that
// users imported with a slower or faster scheme than the hasher's own
// cannot be told from unknown logins either. A login that is not
// ValidLoginName, or a password with code points the PRECIS OpaqueString
// profile disallows, is ErrInvalidCredentials too, without asking the
// store. Other outcomes:
//
//   - ErrLocked when a policy (policies.Lockout) refuses the account for
//     now, whatever the password; padded like ErrInvalidCredentials, so
//     an application that shows both the same message does not reveal
//     through the time that the account exists;
//   - ErrInactive, or another policy error, only after the right
//     password, so that they reveal nothing to someone who lacks it;
//   - a wrapped store or context error when it cannot tell.
//
// With LoginRecorder policies (policies.Lockout), each password check is
// reserved before it is made: the attempt is counted as failed in the
// stored account, and refused with ErrLocked when the account is locked,
// then refunded once the password proves right. So a lockout after n
// failures allows at most n password checks per account per lock,
// however many logins run at once; a login whose check was in flight
// when the lock landed fails with ErrLocked even if its password was
// right, and leaves the lock in place.
//
// On success it re-hashes a password whose hash is outdated, records the
// login time, and lets LoginRecorder policies reset their state, saving
// the user once. These writes change the stored account atomically when
// the user store implements UserUpdater (every store in this module does),
// so a login that runs while the password is changed, the account
// disabled or its sessions revoked cannot undo that; with a store that
// does not, the lockout bound holds only approximately. A password
// changed while the check ran is ErrInvalidCredentials. Authenticate does
// not log the user in: call Login next.
func (m *Manager[U]) Authenticate(ctx context.Context, login, password string) (U, error) {
	start := time.Now()
	u, err := m.authenticate(ctx, login, password, start)
	if errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrLocked) {
		// A locked account is refused without a password check: padded
		// too, or its quick answer would tell it from an unknown name.
		m.failures.pad(ctx, start)
	}
	if err != nil && m.hooks.LoginFailed != nil {
		m.hooks.LoginFailed(ctx, requestOf(ctx), login, err)
	}
	return u, err
}

func (m *Manager[U]) authenticate(ctx context.Context, login, password string, start time.Time) (U, error) {
	var zero U
	if m.users == nil || m.hasher == nil {
		return zero, fmt.Errorf("%w: Authenticate needs a user store and a hasher", ErrConfig)
	}
	now := m.now().UTC()
	if !ValidLoginName(login) || !ValidPassword(password) {
		// No account has such a name, and no password such code points:
		// refuse before asking the store, after the same work as for an
		// unknown login.
		return zero, m.dummyVerify(ctx, password)
	}
	u, err := m.users.FindByLogin(ctx, login)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			return zero, fmt.Errorf("loginkit: authenticate: %w", err)
		}
		return zero, m.dummyVerify(ctx, password)
	}
	a := accountOf(u)
	if a == nil {
		return zero, fmt.Errorf("%w: Authenticate needs a user type embedding loginkit.Account", ErrConfig)
	}
	// Policies run before the password check so a locked account is
	// refused without trying the password; other refusals are held back
	// until the password is known to be right.
	var refused error
	if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: a, Now: now}); err != nil {
		if errors.Is(err, ErrLocked) {
			return zero, err
		}
		refused = err
	}
	if a.PasswordHash == "" {
		return zero, m.dummyVerify(ctx, password)
	}
	verified := a.PasswordHash
	res, err := m.reserveAttempt(ctx, u, now)
	switch {
	case errors.Is(err, ErrLocked):
		return zero, err
	case errors.Is(err, ErrNotFound):
		return zero, m.dummyVerify(ctx, password) // deleted meanwhile
	case err != nil:
		return zero, fmt.Errorf("loginkit: authenticate: %w", err)
	}
	rehash, err := m.hasher.Verify(ctx, password, verified)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return zero, fmt.Errorf("loginkit: authenticate: %w", ctxErr)
		}
		if !errors.Is(err, ErrMismatch) {
			// A hash the hasher cannot read: refuse, tell the operator,
			// and spend a real check's work so that timing does not
			// single the account out.
			m.logger.ErrorContext(ctx, "loginkit: cannot verify stored password hash", "user", a.ID, "error", err)
			_ = m.dummyVerify(ctx, password)
		} else {
			// What a wrong password costs in this scheme: every
			// failure is padded to the slowest (see timing.go).
			m.failures.observe(hashScheme(verified), time.Since(start), time.Now())
		}
		return zero, ErrInvalidCredentials // counted by the reservation
	}
	if refused == nil && !u.IsActive() {
		refused = ErrInactive
	}
	if refused != nil {
		// The password was right: refund the reserved attempt, so that a
		// refused account (inactive, say) is not locked by its owner.
		if m.hasRecorders() {
			_, err := m.updateUser(ctx, a.ID, func(a *Account) error {
				return m.settleAttempt(ctx, u, a, now, res)
			})
			if err != nil && !errors.Is(err, ErrLocked) {
				m.logger.WarnContext(ctx, "loginkit: could not record login", "user", a.ID, "error", err)
			}
		}
		return zero, refused
	}
	newHash := ""
	if rehash {
		if h, err := m.hasher.Hash(ctx, password); err == nil {
			newHash = h
		} else {
			m.logger.WarnContext(ctx, "loginkit: could not upgrade password hash", "user", a.ID, "error", err)
		}
	}
	stored, err := m.updateUser(ctx, a.ID, func(a *Account) error {
		if a.PasswordHash != verified {
			// The password changed while this login checked the old
			// one: the old password no longer opens the account.
			return ErrInvalidCredentials
		}
		if err := m.settleAttempt(ctx, u, a, now, res); err != nil {
			return err
		}
		if newHash != "" {
			a.PasswordHash = newHash
		}
		a.LastLoginAt = now
		a.UpdatedAt = now
		return nil
	})
	switch {
	case errors.Is(err, ErrLocked):
		return zero, err
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrNotFound):
		return zero, ErrInvalidCredentials
	case err != nil:
		return zero, fmt.Errorf("loginkit: authenticate: save user: %w", err)
	}
	if !stored.IsActive() {
		return zero, ErrInactive // disabled while this login ran
	}
	return stored, nil
}

// reserveAttempt counts a password check against u's stored account
// before the check is made, atomically where the store implements
// UserUpdater: the attempt is recorded as failed (LoginRecorder) until
// settleAttempt proves the password right. An account that the recorder
// policies lock already is refused with their ErrLocked and nothing is
// recorded, so that however many logins run at once, a lockout after n
// failures lets at most n password checks through per lock. It returns
// what settleAttempt needs to know about it. Without LoginRecorder
// policies it does nothing.
func (m *Manager[U]) reserveAttempt(ctx context.Context, u U, now time.Time) (res reservation, err error) {
	if !m.hasRecorders() {
		return reservation{}, nil
	}
	_, err = m.updateUser(ctx, u.UserID(), func(a *Account) error {
		res = reservation{}
		if err := m.lockedOut(ctx, u, a, now); err != nil {
			return err
		}
		m.recordAt(a, false, now)
		if m.lockedOut(ctx, u, a, now) != nil {
			res = reservation{locked: true, failures: a.FailedLogins}
		}
		return nil
	})
	return res, err
}

// reservation describes a reserved attempt whose own count locked the
// account (the last check the lockout allows): once the account is
// locked nobody else can reserve, so while FailedLogins still has the
// value it left, the lock is this attempt's own, and a right password
// may lift it. It is a count rather than a time because stores keep
// times with less precision than the clock.
type reservation struct {
	locked   bool
	failures int
}

// settleAttempt refunds a reserved attempt whose password proved right,
// on the stored account a: LoginRecorder policies record a success. When
// a lock landed while the check ran (by another attempt's reservation,
// not by this attempt's own, res), it returns that lock's ErrLocked
// instead and changes nothing: a login in flight when the lock landed
// fails, and does not clear the lock.
func (m *Manager[U]) settleAttempt(ctx context.Context, u U, a *Account, now time.Time, res reservation) error {
	if !m.hasRecorders() {
		return nil
	}
	if !res.locked || a.FailedLogins != res.failures {
		if err := m.lockedOut(ctx, u, a, now); err != nil {
			return err
		}
	}
	m.recordAt(a, true, now)
	return nil
}

// lockedOut asks the LoginRecorder policies, which keep the lockout
// state, whether the account a of u is locked now; it returns their
// error matching ErrLocked, or nil. Other policies are not consulted: it
// runs inside a store's atomic update.
func (m *Manager[U]) lockedOut(ctx context.Context, u U, a *Account, now time.Time) error {
	c := &Check{Stage: StageLogin, User: u, Account: a, Now: now}
	for _, p := range m.policies {
		if _, ok := p.(LoginRecorder); !ok {
			continue
		}
		if err := p.Check(ctx, c); errors.Is(err, ErrLocked) {
			return err
		}
	}
	return nil
}

// recordAt lets LoginRecorder policies update the account after a
// password check (or a reservation for one) at now, and reports whether
// any changed it.
func (m *Manager[U]) recordAt(a *Account, ok bool, now time.Time) bool {
	changed := false
	for _, p := range m.policies {
		if rec, isRec := p.(LoginRecorder); isRec && rec.RecordLogin(a, ok, now) {
			changed = true
		}
	}
	return changed
}

// verifyPassword checks password against u's stored hash, for a user
// who is already logged in (Reauthenticate, ChangePassword). It obeys the
// same lockout bound as Authenticate (see reserveAttempt), so a stolen
// session cannot be used to guess the password without limit. It returns
// the hash it verified against.
func (m *Manager[U]) verifyPassword(ctx context.Context, u U, password string) (string, error) {
	a, err := m.account(u)
	if err != nil {
		return "", err
	}
	now := m.now().UTC()
	if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: a, Now: now}); errors.Is(err, ErrLocked) {
		return "", err
	}
	if a.PasswordHash == "" {
		return "", m.dummyVerify(ctx, password)
	}
	verified := a.PasswordHash
	res, err := m.reserveAttempt(ctx, u, now)
	if err != nil {
		return "", attemptError(err, "verify password")
	}
	if _, err := m.hasher.Verify(ctx, password, verified); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", fmt.Errorf("loginkit: verify password: %w", ctxErr)
		}
		if !errors.Is(err, ErrMismatch) {
			m.logger.ErrorContext(ctx, "loginkit: cannot verify stored password hash", "user", a.ID, "error", err)
		}
		return "", ErrInvalidCredentials // counted by the reservation
	}
	if m.hasRecorders() {
		_, err := m.updateUser(ctx, a.ID, func(a *Account) error {
			return m.settleAttempt(ctx, u, a, now, res)
		})
		if err != nil {
			return "", attemptError(err, "verify password: record success")
		}
	}
	return verified, nil
}

// attemptError maps a failure to record a login attempt to what the
// caller answers: ErrLocked as it is, a user deleted meanwhile as
// ErrInvalidCredentials, anything else wrapped with op.
func attemptError(err error, op string) error {
	switch {
	case errors.Is(err, ErrLocked):
		return err
	case errors.Is(err, ErrNotFound):
		return ErrInvalidCredentials
	}
	return fmt.Errorf("loginkit: %s: %w", op, err)
}

// dummyVerify spends the work of one password check against a hash made
// once with the current hasher, and returns ErrInvalidCredentials (or the
// context's error).
func (m *Manager[U]) dummyVerify(ctx context.Context, password string) error {
	m.dummyOnce.Do(func() {
		m.dummyHash, _ = m.hasher.Hash(context.Background(), "loginkit timing equaliser "+NewID())
	})
	if m.dummyHash != "" {
		_, _ = m.hasher.Verify(ctx, password, m.dummyHash)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("loginkit: authenticate: %w", err)
	}
	return ErrInvalidCredentials
}
