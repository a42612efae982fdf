// Package storekit holds the plumbing the store adapters share, so that
// each adapter deals only with its storage: the errors they return, the
// checks at the start of their methods (a store's configuration error, a
// done context, and the input every store refuses alike: nil records,
// empty keys, IDs, secrets and hashes), the rule that an empty key names
// nothing to delete, the normalisation and ID assignment before a user is
// written, the step of UpdateUser that runs the change and checks what it
// left, the bounds of a user list page,
// the order of session, token and passkey listings, the zero-time
// conventions of stored times, the validation of their options, and the
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

// CheckChanged is the check UserUpdater.UpdateUser makes of the user
// change left, whose account is a, before it writes it: a change that
// altered the ID (id before the change) is ErrInvalid and stores nothing;
// otherwise CheckAccount.
func (e Errs) CheckChanged(op, id string, a *loginkit.Account) error {
	if a.ID != id {
		return e.Invalid(op, "change may not alter the ID")
	}
	return e.CheckAccount(op, a)
}

// ApplyChange is the step of UserUpdater.UpdateUser between reading the
// stored user u, whose ID is id, and writing it back: it runs change on u,
// returning change's error as it is, then checks what change left
// (CheckChanged). It returns u's account.
func ApplyChange[PT loginkit.AccountUser](e Errs, op, id string, u PT, change func(PT) error) (*loginkit.Account, error) {
	if err := change(u); err != nil {
		return nil, err
	}
	a := u.LoginAccount()
	if err := e.CheckChanged(op, id, a); err != nil {
		return nil, err
	}
	return a, nil
}

// CreateWithID runs create, a store's insert of the user whose account is
// a, after giving a an ID from loginkit.NewID when it has none, and clears
// that ID again when create fails, as UserStore.Create promises.
func CreateWithID(a *loginkit.Account, create func() error) error {
	if a.ID != "" {
		return create()
	}
	a.ID = loginkit.NewID()
	err := create()
	if err != nil {
		a.ID = ""
	}
	return err
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

// ReadyPage is Ready for UserStore.List: it returns the page opts selects
// (see Page).
func (e Errs) ReadyPage(ctx context.Context, op string, cfgErr error, opts loginkit.ListOptions) (offset, limit int, err error) {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return 0, 0, err
	}
	offset, limit = Page(opts)
	return offset, limit, nil
}

// ReadyLogin is Ready for UserStore.FindByLogin: it returns the key the
// store looks up, loginkit.NormalizeLogin(login), and ErrNotFound for a
// login that normalises to nothing.
func (e Errs) ReadyLogin(ctx context.Context, op string, cfgErr error, login string) (string, error) {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return "", err
	}
	k := loginkit.NormalizeLogin(login)
	if k == "" {
		return "", e.NotFound(op)
	}
	return k, nil
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

// UserWrite is the check at the start of a store's Create (create is
// true) and Update: Ready with the store's configuration error, a nil user
// (ErrInvalid), for Update a user without an ID (ErrNotFound), then
// CheckAccount. It returns the user's Account.
func UserWrite[T any, PT interface {
	*T
	loginkit.AccountUser
}](ctx context.Context, e Errs, op string, cfgErr error, u PT, create bool) (*loginkit.Account, error) {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, e.Invalid(op, "nil user")
	}
	a := u.LoginAccount()
	if !create && a.ID == "" {
		return nil, e.NotFound(op)
	}
	if err := e.CheckAccount(op, a); err != nil {
		return nil, err
	}
	return a, nil
}

// CreateUser is a store's UserStore.Create around insert, its write of
// the user u, whose account insert is given: the checks of UserWrite, then
// insert under CreateWithID.
func CreateUser[T any, PT interface {
	*T
	loginkit.AccountUser
}](ctx context.Context, e Errs, op string, cfgErr error, u PT, insert func(a *loginkit.Account) error) error {
	a, err := UserWrite(ctx, e, op, cfgErr, u, true)
	if err != nil {
		return err
	}
	return CreateWithID(a, func() error { return insert(a) })
}

// SetPrefix sets the prefix, or records bad (from the adapter's own check
// of it, an error from Errs.Config) when it is not nil.
func (c *Config) SetPrefix(prefix string, bad error) {
	if bad != nil {
		c.Fail(bad)
		return
	}
	c.Prefix = prefix
}

// Apply returns c with the options applied in order; nil options are
// skipped.
func Apply[C any, O ~func(*C)](c C, opts []O) C {
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// ReadyKey is Ready for the lookups by a key, a selector or an ID, where
// an empty one finds nothing (ErrNotFound).
func (e Errs) ReadyKey(ctx context.Context, op string, cfgErr error, key string) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	if key == "" {
		return e.NotFound(op)
	}
	return nil
}

// Delete is the delete of one record by its key, selector or ID (a
// user's, a session's, a token's): Ready, then del, which deletes the
// record and returns the store's own error. An empty key names nothing to
// delete: del does not run and the answer is nil, as it is for a missing
// record.
func (e Errs) Delete(ctx context.Context, op string, cfgErr error, key string, del func() error) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil || key == "" {
		return err
	}
	return del()
}
