// Package cookiestore keeps login sessions in the cookie itself:
// a stateless session store whose sessions are encrypted and authenticated
// with XChaCha20-Poly1305 (golang.org/x/crypto/chacha20poly1305), so the
// server stores nothing and an authenticated request needs no session read.
//
// Pass a Store to the builder's Sessions like any session store. Because it
// implements loginkit.SessionSealer, the manager seals the whole session
// into the session cookie with Seal and opens it on the next request with
// Open:
//
//	sessions, err := cookiestore.New(key) // 32 secret bytes, the same on every server
//	m, err := loginkit.New[*MyUser]().Users(users).Sessions(sessions). ... .Build()
//
// # Keys and rotation
//
// New takes the current key; WithOldKeys adds previous keys that Open still
// accepts. Seal always uses the current key. To rotate, deploy the new key
// as current and the old one in WithOldKeys, and drop the old key after the
// manager's absolute session timeout. The key given to New is not used
// directly: encryption keys are derived from it with HKDF-SHA256.
//
// # Revocation
//
// A cookie session cannot be deleted on the server: the store's Save and
// Delete do nothing, Get always reports loginkit.ErrNotFound, and
// ListByUser and DeleteByUser return errors.ErrUnsupported (an "active
// sessions" page needs a server-side store). Logging out clears the cookie;
// a copy of the cookie kept elsewhere stays valid until its ExpiresAt
// (the idle timeout) or AbsoluteExpiresAt, unless the user's session version
// changes: every session records Account.SessionVersion when it is
// created, and the manager compares it with the user's current version on
// every request. ChangePassword, LogoutOthers and RevokeUser bump the
// version, which ends every other cookie session of that user at its next
// request.
//
// # Format
//
// A sealed value is the unpadded base64url encoding of
//
//	version (1 byte, 1) | key id (1 byte) | nonce (24 random bytes) | ciphertext | tag (16 bytes)
//
// The key id is derived from the key, so Open tries only the matching key.
// The associated data binds the version, the key id and the purpose
// (WithPurpose), so a value sealed for one cookie cannot be replayed as
// another. The plaintext is a compact binary encoding of every Session
// field, times as Unix milliseconds (the format is described in codec.go):
// a typical session (session key, a loginkit.NewID user ID, five times,
// fingerprint, IPv4 address and a 101-byte browser User-Agent, no values)
// seals to 327 bytes, where JSON in the same envelope would take 752.
// Seal refuses a session whose sealed value would exceed
// loginkit.MaxCookieBytes (or the limit set with WithMaxBytes) with
// ErrTooLarge: keep Values small.
//
// # Cost
//
// Seal of a typical session makes one allocation (the returned string),
// Open two (the session and one block for all its strings; two more for a
// non-empty Values map), and a forged value is refused without
// allocating. BenchmarkSeal, BenchmarkOpen and BenchmarkOpenGarbage
// measure them; the timings are in bench/ and the README's performance
// section.
//
// Open reports loginkit.ErrNotFound for anything it cannot authenticate,
// decode or that has expired, and never panics.
package cookiestore
