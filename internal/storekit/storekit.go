// Package storekit holds the plumbing the store adapters share, so that
// each adapter deals only with its storage: the errors they return, the
// checks and normalisation before a user is written, ID assignment, the
// bounds of a user list page, the validation of their options, and the
// varint codec of their compact records.
package storekit

import (
	"context"
	"fmt"

	"github.com/loginkit/loginkit"
)

// Errs makes the errors of one adapter, whose name it is ("redisstore").
// Every message reads "<adapter>: <operation>: <detail>", and the error
// matches the loginkit sentinel it names.
type Errs string

// Wrap returns nil for a nil err, and otherwise err with the adapter's name
// and the operation in front.
func (e Errs) Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", e, op, err)
}

// NotFound is the error for a missing or expired record.
func (e Errs) NotFound(op string) error {
	return fmt.Errorf("%s: %s: %w", e, op, loginkit.ErrNotFound)
}

// Invalid is the error for a value a store refuses.
func (e Errs) Invalid(op, why string) error {
	return fmt.Errorf("%s: %s: %s: %w", e, op, why, loginkit.ErrInvalid)
}

// Duplicate is the error for a write that would break a uniqueness rule;
// what names the rule ("email"), never the value.
func (e Errs) Duplicate(op, what string) error {
	return fmt.Errorf("%s: %s: %s already taken: %w", e, op, what, loginkit.ErrDuplicate)
}

// Config is the error for a bad option given to a constructor; it matches
// loginkit.ErrConfig.
func (e Errs) Config(format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", e, fmt.Sprintf(format, args...), loginkit.ErrConfig)
}

// Ready is the check at the start of every store method: a store built
// with a bad option (cfgErr, from Config) answers every call with that
// error, and a context that is already done sends nothing to the server.
func (e Errs) Ready(ctx context.Context, op string, cfgErr error) error {
	if cfgErr != nil {
		return fmt.Errorf("%s: %w", op, cfgErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", e, op, err)
	}
	return nil
}

// CheckAccount refuses the login names no store may hold (see
// loginkit.Account.CheckLoginNames) and sets the normalised keys every
// store indexes (loginkit.Account.NormalizeKeys): what every store does
// before it writes a user.
func (e Errs) CheckAccount(op string, a *loginkit.Account) error {
	if err := a.CheckLoginNames(); err != nil {
		return fmt.Errorf("%s: %s: %w", e, op, err)
	}
	a.NormalizeKeys()
	return nil
}

// AssignID gives a an ID from loginkit.NewID when it has none, as
// UserStore.Create promises, and returns a function that clears it again,
// for a Create that fails (it does nothing when a already had an ID).
func AssignID(a *loginkit.Account) (undo func()) {
	if a.ID != "" {
		return func() {}
	}
	a.ID = loginkit.NewID()
	return func() { a.ID = "" }
}

// Bounds of a page of users (loginkit.ListOptions).
const (
	// DefaultListLimit is the page size when ListOptions.Limit is 0 or
	// less.
	DefaultListLimit = 50
	// MaxListLimit caps ListOptions.Limit.
	MaxListLimit = 1000
)

// Page returns the offset and limit of the page opts selects: a negative
// Offset counts as 0, a Limit of 0 or less is DefaultListLimit, and a
// larger one is capped at MaxListLimit.
func Page(opts loginkit.ListOptions) (offset, limit int) {
	limit = opts.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	return max(opts.Offset, 0), min(limit, MaxListLimit)
}

// Config holds the options every adapter takes: the prefix of its key,
// table or collection names, and the first bad option, reported by every
// method of a store built with it.
type Config struct {
	Prefix string
	Err    error
}

// Fail records err as the configuration's error, unless one is already
// recorded.
func (c *Config) Fail(err error) {
	if c.Err == nil {
		c.Err = err
	}
}
