package loginkit

import (
	"context"
	"slices"
	"time"
)

// SecondFactor is what a SecondFactorStore keeps for one user: the TOTP
// secret, sealed by the manager (never in clear), the last TOTP time step
// accepted, and the hashes of the user's unused recovery codes. A user
// with neither a TOTP secret nor a recovery code has no record.
type SecondFactor struct {
	// UserID is the user the data belongs to.
	UserID string
	// TOTPSecret is the TOTP secret as sealed by the manager (encrypted
	// and authenticated with the application's key); empty when the user
	// has no TOTP authenticator.
	TOTPSecret []byte
	// TOTPLastStep is the last TOTP time step (Unix time / 30 s) accepted
	// for the user; a code of that step or an earlier one is refused.
	TOTPLastStep int64
	// TOTPEnabledAt is when the authenticator was confirmed; zero when
	// there is none.
	TOTPEnabledAt time.Time
	// RecoveryCodes holds the hashes of the user's unused recovery codes,
	// in no particular order.
	RecoveryCodes []string
}

// Clone returns a deep copy of f.
func (f *SecondFactor) Clone() *SecondFactor {
	if f == nil {
		return nil
	}
	c := *f
	c.TOTPSecret = slices.Clone(f.TOTPSecret)
	c.RecoveryCodes = slices.Clone(f.RecoveryCodes)
	return &c
}

// SecondFactorStore keeps users' second-factor data. The manager does the
// cryptography (sealing secrets, hashing recovery codes, checking codes);
// a store only keeps bytes and strings, but it must make the two
// single-use rules atomic: AcceptTOTPStep and UseRecoveryCode each let
// exactly one of any number of concurrent callers succeed. Every method
// honours ctx (a cancelled context changes nothing and returns an error
// matching context.Canceled). An empty userID is ErrInvalid. Values
// passed in and returned are never shared with the store. Every adapter
// in this module implements it; conformance.TestSecondFactors checks the
// contract. The data outlives nothing on its own: when an application
// deletes a user, it calls DeleteSecondFactor too.
type SecondFactorStore interface {
	// GetSecondFactor returns the user's data; a user with no TOTP secret
	// and no recovery code is ErrNotFound.
	GetSecondFactor(ctx context.Context, userID string) (*SecondFactor, error)
	// SetTOTP stores the user's sealed TOTP secret, its last accepted step
	// and when it was enabled, replacing any earlier secret and creating
	// the record if needed; recovery codes are untouched. An empty secret
	// is ErrInvalid.
	SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error
	// AcceptTOTPStep records step as the user's last accepted TOTP step if,
	// and only if, it is greater than the stored one, as one atomic
	// compare-and-set: of concurrent callers with the same step exactly
	// one succeeds. A step not greater than the stored one is ErrReplayed
	// and changes nothing; a user without a TOTP secret is ErrNotFound.
	AcceptTOTPStep(ctx context.Context, userID string, step int64) error
	// SetRecoveryCodes replaces the user's recovery code hashes with
	// hashes (an empty list removes them all), creating the record if
	// needed; the TOTP secret is untouched. An empty hash is ErrInvalid.
	SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode removes hash from the user's recovery codes,
	// atomically: among concurrent callers with the same hash exactly one
	// succeeds, and concurrent uses of different hashes are all kept
	// apart (none is lost or restored). A hash not in the set, or a user
	// without a record, is ErrNotFound.
	UseRecoveryCode(ctx context.Context, userID, hash string) error
	// DeleteSecondFactor removes all of the user's data (TOTP secret and
	// recovery codes). Deleting missing data is not an error.
	DeleteSecondFactor(ctx context.Context, userID string) error
}

// FactorKind names a kind of second factor. The manager records the kind
// that completed a login in the session (see twofactor.Passed).
type FactorKind string

// Factor kinds the library knows.
const (
	// FactorTOTP is a code from an authenticator app (RFC 6238).
	FactorTOTP FactorKind = "totp"
	// FactorRecoveryCode is a single-use recovery code.
	FactorRecoveryCode FactorKind = "recovery_code"
	// FactorPasskey is a passkey (WebAuthn) used after the password.
	FactorPasskey FactorKind = "passkey"
)
