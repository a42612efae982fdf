package storekit

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/loginkit/loginkit"
)

// The checks at the start of the record stores' methods: every adapter
// refuses the same input with the same sentinel, before it talks to its
// server.

// CheckSession is the check at the start of SessionStore.Save (and of
// SessionToucher.Touch where an empty key is refused): Ready, then a nil
// session or an empty Key is ErrInvalid.
func (e Errs) CheckSession(ctx context.Context, op string, cfgErr error, s *loginkit.Session) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	if s == nil || s.Key == "" {
		return e.Invalid(op, "empty session key")
	}
	return nil
}

// CheckToken is the check at the start of TokenStore.Create: Ready, then
// a nil token or an empty Selector is ErrInvalid.
func (e Errs) CheckToken(ctx context.Context, op string, cfgErr error, t *loginkit.Token) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	if t == nil || t.Selector == "" {
		return e.Invalid(op, "empty selector")
	}
	return nil
}

// ReadyCredential is Ready for the passkey methods that take a credential
// ID, which must not be empty (ErrInvalid).
func (e Errs) ReadyCredential(ctx context.Context, op string, cfgErr error, id []byte) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	if len(id) == 0 {
		return e.Invalid(op, "empty credential ID")
	}
	return nil
}

// ReadyOwnCredential is ReadyCredential for the methods that act on one
// user's own passkey, whose user ID must not be empty either (ErrInvalid).
func (e Errs) ReadyOwnCredential(ctx context.Context, op string, cfgErr error, userID string, id []byte) error {
	if err := e.ReadyCredential(ctx, op, cfgErr, id); err != nil {
		return err
	}
	return e.ReadyUser(ctx, op, nil, userID)
}

// CheckPasskey is the check at the start of PasskeyStore.CreatePasskey:
// Ready, then a nil passkey, an empty credential ID, user ID or public key
// is ErrInvalid.
func (e Errs) CheckPasskey(ctx context.Context, op string, cfgErr error, p *loginkit.Passkey) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	if p == nil {
		return e.Invalid(op, "nil passkey")
	}
	if err := e.ReadyOwnCredential(ctx, op, nil, p.UserID, p.CredentialID); err != nil {
		return err
	}
	if len(p.PublicKey) == 0 {
		return e.Invalid(op, "empty public key")
	}
	return nil
}

// CheckTOTP is the check at the start of SecondFactorStore.SetTOTP:
// ReadyUser, then an empty secret is ErrInvalid.
func (e Errs) CheckTOTP(ctx context.Context, op string, cfgErr error, userID string, secret []byte) error {
	if err := e.ReadyUser(ctx, op, cfgErr, userID); err != nil {
		return err
	}
	if len(secret) == 0 {
		return e.Invalid(op, "empty secret")
	}
	return nil
}

// CheckRecoveryCodes is the check at the start of
// SecondFactorStore.SetRecoveryCodes: ReadyUser, then an empty hash among
// hashes is ErrInvalid.
func (e Errs) CheckRecoveryCodes(ctx context.Context, op string, cfgErr error, userID string, hashes []string) error {
	if err := e.ReadyUser(ctx, op, cfgErr, userID); err != nil {
		return err
	}
	if slices.Contains(hashes, "") {
		return e.Invalid(op, "empty hash")
	}
	return nil
}

// NoSecondFactor reports whether f holds neither a TOTP secret nor a
// recovery code: a record SecondFactorStore.GetSecondFactor answers with
// ErrNotFound.
func NoSecondFactor(f *loginkit.SecondFactor) bool {
	return len(f.TOTPSecret) == 0 && len(f.RecoveryCodes) == 0
}

// UTCOrZero returns t in UTC, and the zero time for a zero t (whose UTC
// form would keep a location).
func UTCOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// MillisOrZero returns t as Unix milliseconds, and 0 for the zero time.
func MillisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// TimeOrZero reverses MillisOrZero: Unix milliseconds as a UTC time, and
// the zero time for 0.
func TimeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// SortSessions sorts sessions in the order SessionStore.ListByUser
// promises: newest CreatedAt first, ties by Key.
func SortSessions(list []*loginkit.Session) {
	slices.SortFunc(list, func(a, b *loginkit.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Key, b.Key))
	})
}

// SortTokens sorts tokens in the order TokenStore.ListByUser promises:
// newest CreatedAt first, ties by Selector.
func SortTokens(list []*loginkit.Token) {
	slices.SortFunc(list, func(a, b *loginkit.Token) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Selector, b.Selector))
	})
}

// SortPasskeys sorts passkeys in the order PasskeyStore.ListPasskeys
// promises: oldest created first, ties by credential ID.
func SortPasskeys(list []*loginkit.Passkey) {
	slices.SortFunc(list, func(a, b *loginkit.Passkey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), slices.Compare(a.CredentialID, b.CredentialID))
	})
}
