package loginkit

import (
	"context"
	"errors"
	"fmt"
)

// errNoChange, returned by a change function, tells updateUser that there
// is nothing to store.
var errNoChange = errors.New("loginkit: no change")

// updateUser applies change to the stored account of the user with the
// given ID and stores the result, atomically where the user store
// implements UserUpdater. Otherwise it reloads the user just before
// writing, which narrows the window for a lost update but cannot close
// it. It returns the user as stored (as loaded when change returned
// errNoChange, and then stores nothing).
func (m *Manager[U]) updateUser(ctx context.Context, id string, change func(a *Account) error) (U, error) {
	var zero U
	if m.users == nil {
		return zero, fmt.Errorf("%w: saving users needs a user store", ErrConfig)
	}
	apply := func(u U) error {
		if isNil(u) {
			return fmt.Errorf("%w: the store returned a nil user", ErrNotFound)
		}
		a := accountOf(u)
		if a == nil {
			return fmt.Errorf("%w: saving users needs a user type embedding loginkit.Account", ErrConfig)
		}
		return change(a)
	}
	if up, ok := m.users.(UserUpdater[U]); ok {
		var unchanged U
		u, err := up.UpdateUser(ctx, id, func(u U) error {
			err := apply(u)
			if errors.Is(err, errNoChange) {
				unchanged = u
			}
			return err
		})
		if errors.Is(err, errNoChange) {
			return unchanged, nil
		}
		return u, err
	}
	u, err := m.users.LoadUser(ctx, id)
	if err != nil {
		return zero, err
	}
	if err := apply(u); err != nil {
		if errors.Is(err, errNoChange) {
			return u, nil
		}
		return zero, err
	}
	if err := m.users.Update(ctx, u); err != nil {
		return zero, err
	}
	return u, nil
}

// hasRecorders reports whether any policy records login attempts.
func (m *Manager[U]) hasRecorders() bool {
	for _, p := range m.policies {
		if _, ok := p.(LoginRecorder); ok {
			return true
		}
	}
	return false
}

// copyAccount makes u's Account equal to stored's, so that a value the
// caller holds reflects what was written.
func copyAccount[U User](u, stored U) {
	if a, b := accountOf(u), accountOf(stored); a != nil && b != nil && a != b {
		*a = *b
	}
}
