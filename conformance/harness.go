package conformance

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// UserHarness describes a UserStore under test.
type UserHarness[U loginkit.AccountUser] struct {
	// New returns a new, empty store for one subtest. Release what it
	// holds with tb.Cleanup. Required.
	New func(tb testing.TB) loginkit.UserStore[U]
	// NewUser returns a new, zero user of the store's type, not stored.
	// Optional when U is a pointer to a struct: the suite allocates one.
	NewUser func() U
	// Fill sets the application's own fields of u (those outside Account)
	// to values derived from seed, so the suite can check that they
	// round-trip. Different seeds must give different values; seed 0
	// should give zero values. Optional when U has no fields of its own.
	Fill func(u U, seed int)
	// TimePrecision is the precision the store keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
	// Updater declares that the store implements loginkit.UserUpdater, so
	// that a store which does not (a near-miss signature, a misspelt
	// name) fails instead of having the UpdateUser cases skipped.
	// Optional: whether or not it is set, a store with a method named
	// UpdateUser that does not satisfy loginkit.UserUpdater fails.
	Updater bool
}

// SessionHarness describes a server-side SessionStore under test.
type SessionHarness struct {
	// New returns a new, empty store for one subtest. Required.
	New func(tb testing.TB) loginkit.SessionStore
	// TimePrecision is the precision the store keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
	// Toucher declares that the store implements loginkit.SessionToucher,
	// so that a store which does not fails instead of having the Touch
	// cases skipped. Optional: whether or not it is set, a store with a
	// method named Touch that does not satisfy loginkit.SessionToucher
	// fails.
	Toucher bool
	// NativeExpiry declares that the store's server removes expired
	// sessions by itself (a TTL), so that DeleteExpired may report fewer
	// removals than there were expired sessions, 0 included. When false
	// (the default), DeleteExpired must report exactly the number of
	// expired sessions it removed.
	NativeExpiry bool
	// NewWithClock, when set, returns a new, empty store like New that
	// reads the current time from now (memstore.WithClock, for example),
	// so that the suite can put an expiry at exactly "now". Optional:
	// without it the boundary is tested against the store's own clock,
	// which must not run behind the test's.
	NewWithClock func(tb testing.TB, now func() time.Time) loginkit.SessionStore
}

// TokenHarness describes a TokenStore under test.
type TokenHarness struct {
	// New returns a new, empty store for one subtest. Required.
	New func(tb testing.TB) loginkit.TokenStore
	// TimePrecision is the precision the store keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
	// NativeExpiry declares that the store's server removes expired
	// tokens by itself, so that DeleteExpired may report fewer removals
	// than there were expired tokens, 0 included. When false (the
	// default), DeleteExpired must report exactly the number of expired
	// tokens it removed.
	NativeExpiry bool
	// NewWithClock, when set, returns a new, empty store like New that
	// reads the current time from now, so that the suite can put an
	// expiry at exactly "now". Optional, as for SessionHarness.
	NewWithClock func(tb testing.TB, now func() time.Time) loginkit.TokenStore
}

// SealerHarness describes a stateless SessionSealer under test.
type SealerHarness struct {
	// New returns a sealer for one subtest. Required.
	New func(tb testing.TB) loginkit.SessionSealer
	// Rotated returns a sealer that encrypts with a new key and still
	// opens what New's sealer sealed; nil when the sealer has no key
	// rotation.
	Rotated func(tb testing.TB) loginkit.SessionSealer
	// TimePrecision is the precision the sealer keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
}

// HasherHarness describes a Hasher under test.
type HasherHarness struct {
	// New returns the hasher. Required.
	New func(tb testing.TB) loginkit.Hasher
	// Outdated, when set, returns a hash of password that New's hasher
	// must verify and report as needing a rehash (an older scheme or a
	// lower cost).
	Outdated func(tb testing.TB, password string) string
	// MaxPasswordBytes is the longest password the hasher accepts; longer
	// ones must fail Hash with ErrPasswordTooLong. 0 means no limit below
	// 4096 bytes.
	MaxPasswordBytes int
	// Imported lists hashes made by other libraries, in schemes or costs
	// other than New's preferred one, that New's hasher claims to read
	// (an imported user table). Each must verify with its password and
	// ask for a rehash, refuse its wrong candidates, and be replaced by a
	// fresh hash that verifies without one. Empty skips the case.
	Imported []ImportedHash
}

// ImportedHash is a hash made by another library, with the password it was
// made from.
type ImportedHash struct {
	// Format names the format, for messages ("phpass", "spring-scrypt").
	Format string
	// Hash is the stored string, exactly as the other library wrote it.
	Hash string
	// Password is the password Hash was made from.
	Password string
	// Wrong are candidates the other library refuses; "not-" + Password
	// and, for passwords of at most 72 bytes, Password less its last byte
	// are always tried too.
	Wrong []string
}
