package cookiestore

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/hotpath"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of the keys New and WithOldKeys accept.
const KeySize = 32

// DefaultPurpose is the purpose sealed values are bound to unless
// WithPurpose names another.
const DefaultPurpose = "session"

// formatV1 is the first byte of every sealed value: the version of the
// envelope and of the payload format inside it.
const formatV1 = 1

const (
	headerSize   = 2 // format version, key id
	nonceOffset  = headerSize
	cipherOffset = nonceOffset + chacha20poly1305.NonceSizeX
	// minSealed is the shortest possible sealed value, in raw bytes:
	// header, nonce, a one-byte payload and the tag.
	minSealed = cipherOffset + 1 + chacha20poly1305.Overhead
)

// ErrTooLarge is returned (wrapped, together with loginkit.ErrInvalid) by
// Seal when the sealed session would be longer than the store's size limit,
// typically because of too many or too long Values. Keep large application
// data in a server-side store and only small values in the session.
var ErrTooLarge = errors.New("cookiestore: session too large for a cookie")

// Errors Open returns, allocated once: Open runs on every request.
var (
	errInvalid = fmt.Errorf("cookiestore: invalid session cookie: %w", loginkit.ErrNotFound)
	errExpired = fmt.Errorf("cookiestore: expired session cookie: %w", loginkit.ErrNotFound)
)

// Option configures a Store.
type Option func(*config)

type config struct {
	oldKeys  [][]byte
	now      func() time.Time
	purpose  string
	maxBytes int
}

// WithOldKeys adds keys that Open still accepts but Seal no longer uses,
// for key rotation: start sealing with a new key by passing it to New and
// the previous one here; remove the old key once every cookie sealed under
// it has expired (after the manager's absolute timeout). Each key must be
// KeySize bytes.
func WithOldKeys(keys ...[]byte) Option {
	return func(c *config) { c.oldKeys = append(c.oldKeys, keys...) }
}

// WithClock sets the clock Open checks expiry against; the default is
// the system clock. Use the same clock as the manager's (loginkit's
// Builder.Clock sets it on the store): the manager opens sessions with
// OpenAt and its own clock's time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithPurpose binds sealed values to purpose (authenticated, not
// encrypted): a value sealed for one purpose does not open under another,
// even with the same key. The default is DefaultPurpose.
func WithPurpose(purpose string) Option {
	return func(c *config) { c.purpose = purpose }
}

// WithMaxBytes sets the longest sealed value Seal produces and Open
// accepts, in bytes. The default, and the largest value allowed, is
// loginkit.MaxCookieBytes, the longest cookie the manager reads; browsers
// limit a cookie's name, value and attributes together to about 4096
// bytes, so a lower limit leaves room for those.
func WithMaxBytes(n int) Option {
	return func(c *config) { c.maxBytes = n }
}

// key is one usable key: its AEAD, its one-byte identifier (which lets Open
// pick the key without trying them all) and the associated data that binds
// a value to the format version, the key id and the purpose.
type key struct {
	id   byte
	aead cipher.AEAD
	ad   []byte
}

// Store seals sessions into cookie values and opens them again. It
// implements loginkit.SessionSealer, so the manager keeps the session in
// the cookie, and loginkit.SessionStore, so it can be passed wherever a
// session store is expected; the store methods hold nothing (see the
// package documentation). A Store is safe for concurrent use.
type Store struct {
	keys     []key // keys[0] seals
	now      func() time.Time
	maxBytes int
	maxRaw   int // longest decoded sealed value Open accepts
}

// Compile-time checks.
var (
	_ loginkit.SessionSealer = (*Store)(nil)
	_ loginkit.SessionStore  = (*Store)(nil)
)

// New returns a Store that seals with k and opens values sealed with k or
// any key given to WithOldKeys. k must be KeySize (32) random bytes, kept
// secret and the same on every server. A key of another length, or a bad
// option, is an error matching loginkit.ErrConfig (as the other adapters'
// option errors do) and, for compatibility, loginkit.ErrInvalid. Store the key outside the code (an
// environment variable or secret manager) and generate it with
// GenerateKey or crypto/rand.
func New(k []byte, opts ...Option) (*Store, error) {
	c := config{now: hotpath.Now, purpose: DefaultPurpose, maxBytes: loginkit.MaxCookieBytes}
	for _, o := range opts {
		o(&c)
	}
	if c.now == nil {
		return nil, fmt.Errorf("cookiestore: nil clock: %w: %w", loginkit.ErrConfig, loginkit.ErrInvalid)
	}
	minEncoded := (minSealed*8 + 5) / 6
	if c.maxBytes < minEncoded+256 || c.maxBytes > loginkit.MaxCookieBytes {
		return nil, fmt.Errorf("cookiestore: size limit %d outside [%d, %d]: %w: %w",
			c.maxBytes, minEncoded+256, loginkit.MaxCookieBytes, loginkit.ErrConfig, loginkit.ErrInvalid)
	}
	s := &Store{now: c.now, maxBytes: c.maxBytes, maxRaw: c.maxBytes * 6 / 8}
	for i, raw := range append([][]byte{k}, c.oldKeys...) {
		if len(raw) != KeySize {
			what := "key"
			if i > 0 {
				what = fmt.Sprintf("old key %d", i)
			}
			return nil, fmt.Errorf("cookiestore: %s is %d bytes, want %d: %w: %w", what, len(raw), KeySize, loginkit.ErrConfig, loginkit.ErrInvalid)
		}
		kk, err := deriveKey(raw, c.purpose)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, kk)
	}
	return s, nil
}

// deriveKey derives the encryption key and key id from a master key, so
// that the key given to New is never used directly and the same master key
// may safely serve other uses of the application.
func deriveKey(master []byte, purpose string) (key, error) {
	enc, err := hkdf.Key(sha256.New, master, nil, "loginkit cookiestore v1 encryption", chacha20poly1305.KeySize)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: derive key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, master, nil, "loginkit cookiestore v1 key id", 1)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: derive key id: %w", err)
	}
	aead, err := chacha20poly1305.NewX(enc)
	if err != nil {
		return key{}, fmt.Errorf("cookiestore: %w", err)
	}
	ad := append([]byte{formatV1, id[0]}, "loginkit session\x00"...)
	ad = append(ad, purpose...)
	return key{id: id[0], aead: aead, ad: ad}, nil
}

// GenerateKey returns KeySize bytes from crypto/rand, suitable for New.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

// bufPool holds scratch buffers for Seal and Open: the payload, its
// ciphertext and the encoded cookie all fit in one.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*loginkit.MaxCookieBytes); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 4*loginkit.MaxCookieBytes {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// Seal encodes s, encrypts and authenticates it under the newest key with a
// fresh random nonce and returns it as unpadded base64url, safe in a cookie
// value. Every field of s is kept, times to the millisecond. Seal does not
// check expiry (Open does). A nil session is an error matching
// loginkit.ErrInvalid; a session whose sealed form would exceed the size
// limit (see WithMaxBytes) is an error matching both ErrTooLarge and
// loginkit.ErrInvalid.
func (st *Store) Seal(s *loginkit.Session) (string, error) {
	if s == nil {
		return "", fmt.Errorf("cookiestore: seal nil session: %w", loginkit.ErrInvalid)
	}
	k := &st.keys[0]
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], formatV1, k.id)
	b = b[:cipherOffset] // the pooled buffer's capacity always covers this
	_, _ = rand.Read(b[nonceOffset:cipherOffset])
	b = appendSession(b, s)
	raw := len(b) + chacha20poly1305.Overhead
	if n := b64.EncodedLen(raw); n > st.maxBytes {
		return "", fmt.Errorf("%w: sealed it would be %d bytes, over the %d-byte limit (%d values; keep Values small): %w",
			ErrTooLarge, n, st.maxBytes, len(s.Values), loginkit.ErrInvalid)
	}
	sealed := k.aead.Seal(b[:cipherOffset], b[nonceOffset:cipherOffset], b[cipherOffset:], k.ad)
	return string(b64.AppendEncode(sealed[len(sealed):], sealed)), nil
}

// SetClock implements loginkit.ClockSetter, like WithClock: Builder.Build
// calls it with the builder's Clock. Call it before the store is in use.
func (st *Store) SetClock(now func() time.Time) {
	if now != nil {
		st.now = now
	}
}

// Open decodes, authenticates and decrypts a value made by Seal with the
// current or an old key and returns the session. Anything else — an empty,
// malformed, truncated, oversized or tampered value, one sealed under an
// unknown key or for another purpose, an unknown format version — and a
// session whose ExpiresAt or AbsoluteExpiresAt (when set) is not after the
// store's clock is an error matching loginkit.ErrNotFound. Open never
// panics. The returned session is the caller's to modify.
func (st *Store) Open(value string) (*loginkit.Session, error) {
	return st.OpenAt(value, st.now())
}

// OpenAt is Open with expiry decided at now instead of the store's clock.
// The manager calls it with the time it has read for the request, so that
// an authenticated request on cookiestore reads the clock once (bench's
// BenchmarkAuthenticatedGET).
func (st *Store) OpenAt(value string, now time.Time) (*loginkit.Session, error) {
	if len(value) > st.maxBytes || len(value) < (minSealed*8+5)/6 || !isBase64URL(value) {
		return nil, errInvalid
	}
	bp := getBuf()
	defer putBuf(bp)
	buf := *bp
	if cap(buf) < 2*len(value) {
		buf = make([]byte, 0, 2*len(value))
	}
	src := append(buf[len(value):len(value)], value...)
	n, err := b64.Decode(buf[:len(value)], src)
	if err != nil || n < minSealed || n > st.maxRaw {
		return nil, errInvalid
	}
	b := buf[:n]
	if b[0] != formatV1 {
		return nil, errInvalid
	}
	// Decrypt after the ciphertext, not over it: a failed Open clears its
	// output, and the next key with the same id needs the ciphertext.
	dst := buf[n:n]
	for i := range st.keys {
		k := &st.keys[i]
		if k.id != b[1] {
			continue
		}
		p, err := k.aead.Open(dst, b[nonceOffset:cipherOffset], b[cipherOffset:], k.ad)
		if err != nil {
			continue
		}
		s, err := decodeSession(p)
		if err != nil {
			return nil, errInvalid
		}
		if !s.ExpiresAt.After(now) || (!s.AbsoluteExpiresAt.IsZero() && !s.AbsoluteExpiresAt.After(now)) {
			return nil, errExpired
		}
		return s, nil
	}
	return nil, errInvalid
}

// Save does nothing: the session travels in the cookie, which the manager
// writes with Seal. It returns ctx's error if ctx is done, and an error
// matching loginkit.ErrInvalid for a nil session.
func (st *Store) Save(ctx context.Context, s *loginkit.Session) error {
	if s == nil {
		return fmt.Errorf("cookiestore: save nil session: %w", loginkit.ErrInvalid)
	}
	return ctx.Err()
}

// Get always returns an error matching loginkit.ErrNotFound (or ctx's
// error): the store keeps nothing to look up. The manager opens cookie
// sessions with Open instead.
func (st *Store) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("cookiestore: stateless store has no session %q: %w", key, loginkit.ErrNotFound)
}

// Delete does nothing and returns ctx's error: a cookie session ends when
// the manager clears the cookie, or, for copies of the cookie kept
// elsewhere, when it expires or the user's session version changes.
func (st *Store) Delete(ctx context.Context, key string) error { return ctx.Err() }

// ListByUser returns an error matching errors.ErrUnsupported: a stateless
// store cannot enumerate the cookies it has sealed.
func (st *Store) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	return nil, fmt.Errorf("cookiestore: list sessions of a stateless store: %w", errors.ErrUnsupported)
}

// DeleteByUser returns 0 and an error matching errors.ErrUnsupported: a
// stateless store cannot reach the cookies it has sealed. Revoke a user's
// cookie sessions by bumping Account.SessionVersion instead, which the
// manager's ChangePassword, LogoutOthers and RevokeUser do; the manager
// compares it with each session's Version on every request.
func (st *Store) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	return 0, fmt.Errorf("cookiestore: delete sessions of a stateless store: %w", errors.ErrUnsupported)
}

// DeleteExpired returns 0 and ctx's error: expired cookies are refused by
// Open and there is nothing stored to remove.
func (st *Store) DeleteExpired(ctx context.Context) (int, error) { return 0, ctx.Err() }
