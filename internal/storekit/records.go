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

// refusal is one way an input is refused: when bad holds, the check
// answers ErrInvalid, saying why.
type refusal struct {
	bad bool
	why string
}

func noUser(userID string) refusal { return refusal{userID == "", "empty user ID"} }

func noCredential(id []byte) refusal { return refusal{len(id) == 0, "empty credential ID"} }

// refuse is Ready, then ErrInvalid for the first of rs that is bad: the
// shape of every check below.
func (e Errs) refuse(ctx context.Context, op string, cfgErr error, rs ...refusal) error {
	if err := e.Ready(ctx, op, cfgErr); err != nil {
		return err
	}
	for _, r := range rs {
		if r.bad {
			return e.Invalid(op, r.why)
		}
	}
	return nil
}

// ReadyUser is Ready for the methods that take a user ID, which must not
// be empty (ErrInvalid).
func (e Errs) ReadyUser(ctx context.Context, op string, cfgErr error, userID string) error {
	return e.refuse(ctx, op, cfgErr, noUser(userID))
}

// CheckSession is the check at the start of SessionStore.Save (and of
// SessionToucher.Touch where an empty key is refused): Ready, then a nil
// session or an empty Key is ErrInvalid.
func (e Errs) CheckSession(ctx context.Context, op string, cfgErr error, s *loginkit.Session) error {
	return e.refuse(ctx, op, cfgErr, refusal{s == nil || s.Key == "", "empty session key"})
}

// CheckToken is the check at the start of TokenStore.Create: Ready, then
// a nil token or an empty Selector is ErrInvalid.
func (e Errs) CheckToken(ctx context.Context, op string, cfgErr error, t *loginkit.Token) error {
	return e.refuse(ctx, op, cfgErr, refusal{t == nil || t.Selector == "", "empty selector"})
}

// ReadyCredential is Ready for the passkey methods that take a credential
// ID, which must not be empty (ErrInvalid).
func (e Errs) ReadyCredential(ctx context.Context, op string, cfgErr error, id []byte) error {
	return e.refuse(ctx, op, cfgErr, noCredential(id))
}

// ReadyOwnCredential is ReadyCredential for the methods that act on one
// user's own passkey, whose user ID must not be empty either (ErrInvalid).
func (e Errs) ReadyOwnCredential(ctx context.Context, op string, cfgErr error, userID string, id []byte) error {
	return e.refuse(ctx, op, cfgErr, noCredential(id), noUser(userID))
}

// CheckPasskey is the check at the start of PasskeyStore.CreatePasskey:
// Ready, then a nil passkey, an empty credential ID, user ID or public key
// is ErrInvalid.
func (e Errs) CheckPasskey(ctx context.Context, op string, cfgErr error, p *loginkit.Passkey) error {
	if p == nil {
		return e.refuse(ctx, op, cfgErr, refusal{true, "nil passkey"})
	}
	return e.refuse(ctx, op, cfgErr, noCredential(p.CredentialID), noUser(p.UserID),
		refusal{len(p.PublicKey) == 0, "empty public key"})
}

// CheckTOTP is the check at the start of SecondFactorStore.SetTOTP:
// ReadyUser, then an empty secret is ErrInvalid.
func (e Errs) CheckTOTP(ctx context.Context, op string, cfgErr error, userID string, secret []byte) error {
	return e.refuse(ctx, op, cfgErr, noUser(userID), refusal{len(secret) == 0, "empty secret"})
}

// CheckRecoveryCodes is the check at the start of
// SecondFactorStore.SetRecoveryCodes: ReadyUser, then an empty hash among
// hashes is ErrInvalid.
func (e Errs) CheckRecoveryCodes(ctx context.Context, op string, cfgErr error, userID string, hashes []string) error {
	return e.refuse(ctx, op, cfgErr, noUser(userID), refusal{slices.Contains(hashes, ""), "empty hash"})
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
