package loginkit

import (
	"context"
	"errors"
	"fmt"
)

// Authenticate checks a login name (email or username) and password. It
// returns ErrInvalidCredentials both for an unknown login and for a wrong
// password, and spends the same hashing work on both, so neither the error
// nor the timing tells them apart. Other outcomes:
//
//   - ErrLocked when a policy (policies.Lockout) refuses the account for
//     now, whatever the password;
//   - ErrInactive, or another policy error, only after the right
//     password, so that they reveal nothing to someone who lacks it;
//   - a wrapped store or context error when it cannot tell.
//
// On success it re-hashes a password whose hash is outdated, records the
// login time, and lets LoginRecorder policies reset their state, saving
// the user once; a failure is recorded the same way when a policy counts
// failures. These writes change the stored account atomically when the
// user store implements UserUpdater (every store in this module does), so
// a login that runs while the password is changed, the account disabled
// or its sessions revoked cannot undo that, and parallel wrong guesses are
// all counted. A password changed while the check ran is
// ErrInvalidCredentials. Authenticate does not log the user in: call
// Login next.
func (m *Manager[U]) Authenticate(ctx context.Context, login, password string) (U, error) {
	u, err := m.authenticate(ctx, login, password)
	if err != nil && m.hooks.LoginFailed != nil {
		m.hooks.LoginFailed(ctx, requestOf(ctx), login, err)
	}
	return u, err
}

func (m *Manager[U]) authenticate(ctx context.Context, login, password string) (U, error) {
	var zero U
	if m.users == nil || m.hasher == nil {
		return zero, fmt.Errorf("%w: Authenticate needs a user store and a hasher", ErrConfig)
	}
	now := m.now().UTC()
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
	a := AccountOf(u)
	if a == nil {
		return zero, fmt.Errorf("%w: Authenticate needs a user type embedding loginkit.Account", ErrConfig)
	}
	// Policies run before the password check so a locked account is
	// refused without trying the password; other refusals are held back
	// until the password is known to be right.
	var refused error
	if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: a, Now: now}); err != nil {
		if errors.Is(err, ErrLocked) {
			_ = m.dummyVerify(ctx, password)
			return zero, err
		}
		refused = err
	}
	if a.PasswordHash == "" {
		return zero, m.dummyVerify(ctx, password)
	}
	verified := a.PasswordHash
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
		}
		m.recordFailure(ctx, a.ID)
		return zero, ErrInvalidCredentials
	}
	if refused == nil && !u.IsActive() {
		refused = ErrInactive
	}
	if refused != nil {
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
		if newHash != "" {
			a.PasswordHash = newHash
		}
		m.record(a, true)
		a.LastLoginAt = now
		a.UpdatedAt = now
		return nil
	})
	switch {
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

// record lets LoginRecorder policies update the account after a password
// check and reports whether any changed it.
func (m *Manager[U]) record(a *Account, ok bool) bool {
	changed := false
	now := m.now().UTC()
	for _, p := range m.policies {
		if rec, isRec := p.(LoginRecorder); isRec && rec.RecordLogin(a, ok, now) {
			changed = true
		}
	}
	return changed
}

// verifyPassword checks password against u's stored hash, for a user
// who is already logged in (Reauthenticate, ChangePassword). It obeys the
// same lockout as Authenticate and records the attempt, so a stolen
// session cannot be used to guess the password without limit. It returns
// the hash it verified against.
func (m *Manager[U]) verifyPassword(ctx context.Context, u U, password string) (string, error) {
	a, err := m.account(u)
	if err != nil {
		return "", err
	}
	if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: a, Now: m.now().UTC()}); errors.Is(err, ErrLocked) {
		_ = m.dummyVerify(ctx, password)
		return "", err
	}
	if a.PasswordHash == "" {
		return "", m.dummyVerify(ctx, password)
	}
	verified := a.PasswordHash
	if _, err := m.hasher.Verify(ctx, password, verified); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", fmt.Errorf("loginkit: verify password: %w", ctxErr)
		}
		if !errors.Is(err, ErrMismatch) {
			m.logger.ErrorContext(ctx, "loginkit: cannot verify stored password hash", "user", a.ID, "error", err)
		}
		m.recordFailure(ctx, a.ID)
		return "", ErrInvalidCredentials
	}
	if m.hasRecorders() {
		_, err := m.updateUser(ctx, a.ID, func(a *Account) error {
			if !m.record(a, true) {
				return errNoChange
			}
			return nil
		})
		if err != nil {
			m.logger.WarnContext(ctx, "loginkit: could not record login", "user", a.ID, "error", err)
		}
	}
	return verified, nil
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
