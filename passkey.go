package loginkit

import (
	"context"
	"slices"
	"time"
)

// Passkey is one WebAuthn credential (a passkey) of a user, as a
// PasskeyStore keeps it. The credential ID identifies it among every
// user's credentials: no two passkeys share one.
type Passkey struct {
	// CredentialID is the credential ID the authenticator chose: opaque
	// bytes (1 to 1023 of them), compared byte for byte.
	CredentialID []byte
	// UserID is the user the passkey signs in.
	UserID string
	// PublicKey is the credential's public key, COSE-encoded, as the
	// authenticator reported it at registration.
	PublicKey []byte
	// SignCount is the authenticator's signature counter as last seen.
	// Authenticators that keep no counter (synced passkeys) report 0
	// every time.
	SignCount uint32
	// Transports are the transports the authenticator reported at
	// registration ("internal", "hybrid", "usb", ...), in its order.
	Transports []string
	// BackupEligible reports a credential that may be synced to other
	// devices (the authenticator data's BE flag); it never changes.
	BackupEligible bool
	// BackedUp reports a credential currently backed up (the BS flag),
	// as of its last use.
	BackedUp bool
	// Name is the name the user gave the passkey; it may be empty.
	Name string
	// CreatedAt is when the passkey was registered.
	CreatedAt time.Time
	// LastUsedAt is when it last signed in; zero when never.
	LastUsedAt time.Time
}

// Clone returns a deep copy of p.
func (p *Passkey) Clone() *Passkey {
	if p == nil {
		return nil
	}
	c := *p
	c.CredentialID = slices.Clone(p.CredentialID)
	c.PublicKey = slices.Clone(p.PublicKey)
	c.Transports = slices.Clone(p.Transports)
	return &c
}

// PasskeyStore keeps users' passkeys. The manager does the WebAuthn
// cryptography; a store keeps bytes, and must make two rules hold: a
// credential ID belongs to one passkey only, across all users (lookup by
// credential ID is unique, and should be indexed: it is how a
// passwordless sign-in finds its user), and UpdateSignCount is an atomic
// compare-and-set. Every method honours ctx (a cancelled context changes
// nothing and returns an error matching context.Canceled). An empty
// userID or credential ID is ErrInvalid. Values passed in and returned
// are never shared with the store. Times come back in UTC, kept to at
// least a millisecond. Every adapter in this module implements it;
// conformance.TestPasskeys checks the contract. When an application
// deletes a user, it calls DeleteUserPasskeys too.
type PasskeyStore interface {
	// CreatePasskey stores a new passkey. A credential ID already stored,
	// for this user or any other, is ErrDuplicate and changes nothing. An
	// empty CredentialID, UserID or PublicKey is ErrInvalid.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// GetPasskey returns the passkey with this credential ID, whoever's it
	// is; an unknown ID is ErrNotFound.
	GetPasskey(ctx context.Context, credentialID []byte) (*Passkey, error)
	// ListPasskeys returns the user's passkeys, and only theirs, oldest
	// (by CreatedAt) first; a user without passkeys gets an empty list
	// and no error.
	ListPasskeys(ctx context.Context, userID string) ([]*Passkey, error)
	// RenamePasskey sets the name of the user's passkey with this
	// credential ID. A credential ID that is not one of this user's
	// passkeys (unknown, or another user's) is ErrNotFound and changes
	// nothing.
	RenamePasskey(ctx context.Context, userID string, credentialID []byte, name string) error
	// UpdateSignCount records a use of the passkey, as one atomic
	// compare-and-set: if, and only if, its stored SignCount is old, it
	// becomes count, BackedUp becomes backedUp and LastUsedAt becomes
	// usedAt. Otherwise nothing changes and the error is ErrReplayed
	// (another sign-in moved the counter first): of concurrent callers
	// with the same old count exactly one succeeds. An unknown credential
	// ID is ErrNotFound.
	UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error
	// DeletePasskey removes the user's passkey with this credential ID.
	// A credential ID that is not one of this user's passkeys is
	// ErrNotFound and removes nothing.
	DeletePasskey(ctx context.Context, userID string, credentialID []byte) error
	// DeleteUserPasskeys removes every passkey of the user and returns
	// how many it removed (0, and no error, for a user without any).
	DeleteUserPasskeys(ctx context.Context, userID string) (int, error)
}
