package hashers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/loginkit/loginkit"
)

// Scheme names, as New takes them and Identify reports them for the
// formats this package writes.
const (
	SchemeArgon2id     = "argon2id"
	SchemeBcrypt       = "bcrypt"
	SchemeScrypt       = "scrypt"
	SchemePBKDF2SHA256 = "pbkdf2-sha256"
	SchemePBKDF2SHA512 = "pbkdf2-sha512"
)

// Default costs, at or above the OWASP Password Storage Cheat Sheet
// recommendations.
const (
	// DefaultArgon2Memory is Argon2id's memory in KiB (19 MiB).
	DefaultArgon2Memory = 19 * 1024
	// DefaultArgon2Time is Argon2id's number of passes.
	DefaultArgon2Time = 2
	// DefaultArgon2Parallelism is Argon2id's number of lanes.
	DefaultArgon2Parallelism = 1
	// DefaultBcryptCost is bcrypt's cost (log2 of the rounds).
	DefaultBcryptCost = 12
	// DefaultScryptCost is scrypt's log2(N): N = 2^17.
	DefaultScryptCost = 17
	// DefaultScryptBlockSize is scrypt's r.
	DefaultScryptBlockSize = 8
	// DefaultScryptParallelism is scrypt's p.
	DefaultScryptParallelism = 1
	// DefaultPBKDF2SHA256Iterations is PBKDF2-HMAC-SHA256's iteration count.
	DefaultPBKDF2SHA256Iterations = 600_000
	// DefaultPBKDF2SHA512Iterations is PBKDF2-HMAC-SHA512's iteration count.
	DefaultPBKDF2SHA512Iterations = 210_000
	// DefaultMaxPasswordBytes is the longest password, in bytes after NFC
	// normalisation, that Hash and Verify accept unless MaxPasswordBytes
	// says otherwise.
	DefaultMaxPasswordBytes = 4096
	// BcryptMaxPasswordBytes is the most bcrypt reads of a password.
	BcryptMaxPasswordBytes = 72
)

// Sizes of what this package writes.
const (
	saltLen = 16
	keyLen  = 32
)

// Limits bounds the parameters Verify accepts in a stored hash. A hash
// outside them is refused with loginkit.ErrUnsafeHashParams before any
// work is done. The zero value of a field means its default.
type Limits struct {
	// MaxMemoryKiB bounds Argon2's m and scrypt's 128·N·r bytes. Default
	// 1 GiB (1<<20 KiB). Argon2's m·t and scrypt's 128·N·r·p are bounded
	// by four times this amount.
	MaxMemoryKiB uint32
	// MaxTime bounds Argon2's passes t. Default 16.
	MaxTime uint32
	// MaxParallelism bounds Argon2's lanes and scrypt's p. Default 16.
	MaxParallelism int
	// MaxBcryptCost bounds bcrypt's cost. Default 16; at most 31.
	MaxBcryptCost int
	// MaxIterations bounds PBKDF2's iteration count. Default 10,000,000.
	MaxIterations int
}

// DefaultLimits returns the limits Default and Identify use.
func DefaultLimits() Limits {
	return Limits{
		MaxMemoryKiB:   1 << 20,
		MaxTime:        16,
		MaxParallelism: 16,
		MaxBcryptCost:  16,
		MaxIterations:  10_000_000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMemoryKiB == 0 {
		l.MaxMemoryKiB = d.MaxMemoryKiB
	}
	if l.MaxTime == 0 {
		l.MaxTime = d.MaxTime
	}
	if l.MaxParallelism == 0 {
		l.MaxParallelism = d.MaxParallelism
	}
	if l.MaxBcryptCost == 0 {
		l.MaxBcryptCost = d.MaxBcryptCost
	}
	l.MaxBcryptCost = min(l.MaxBcryptCost, 31) // bcrypt's own maximum
	if l.MaxIterations == 0 {
		l.MaxIterations = d.MaxIterations
	}
	return l
}

// An Option configures a Multi: the cost of its preferred scheme, its
// concurrency bound, its password length limit, the limits on stored
// hashes. An option that does not apply to the preferred scheme (Memory
// with bcrypt) is an error.
type Option func(*config)

type config struct {
	scheme      string
	memory      uint32 // argon2 KiB
	iterations  int    // argon2 t, pbkdf2 iterations
	parallelism int    // argon2 lanes, scrypt p
	cost        int    // bcrypt cost, scrypt log2 N
	blockSize   int    // scrypt r
	concurrency int
	maxPassword int
	limits      Limits
	errs        []error
}

// forSchemes returns the option name, which applies set with the schemes
// named and is an error (reported by New) with any other.
func forSchemes(name string, set func(*config), schemes ...string) Option {
	return func(c *config) {
		if !slices.Contains(schemes, c.scheme) {
			c.errs = append(c.errs, fmt.Errorf("hashers: option %s does not apply to %s", name, c.scheme))
		}
		set(c)
	}
}

// Iterations sets PBKDF2's iteration count or Argon2id's passes (t).
func Iterations(n int) Option {
	return forSchemes("Iterations", func(c *config) { c.iterations = n }, SchemeArgon2id, SchemePBKDF2SHA256, SchemePBKDF2SHA512)
}

// Memory sets Argon2id's memory in KiB.
func Memory(kib uint32) Option {
	return forSchemes("Memory", func(c *config) { c.memory = kib }, SchemeArgon2id)
}

// Parallelism sets Argon2id's lanes or scrypt's p.
func Parallelism(p int) Option {
	return forSchemes("Parallelism", func(c *config) { c.parallelism = p }, SchemeArgon2id, SchemeScrypt)
}

// Cost sets bcrypt's cost (4 to 31, log2 of the rounds) or scrypt's
// log2(N).
func Cost(n int) Option {
	return forSchemes("Cost", func(c *config) { c.cost = n }, SchemeBcrypt, SchemeScrypt)
}

// BlockSize sets scrypt's r.
func BlockSize(r int) Option {
	return forSchemes("BlockSize", func(c *config) { c.blockSize = r }, SchemeScrypt)
}

// Concurrency sets how many hash computations may run at once (default
// runtime.GOMAXPROCS(0)); n must be positive.
func Concurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// MaxPasswordBytes sets the longest password, in bytes after NFC
// normalisation, that Hash and Verify accept (default
// DefaultMaxPasswordBytes). With bcrypt preferred, Hash accepts at most 72
// bytes whatever this says.
func MaxPasswordBytes(n int) Option {
	return func(c *config) { c.maxPassword = n }
}

// WithLimits sets the bounds on stored hashes' parameters; zero fields
// keep their defaults.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// Multi is a loginkit.Hasher that hashes with one preferred scheme and
// verifies every format the package reads (see the package doc). It is
// safe for concurrent use.
type Multi struct {
	scheme      string
	pref        spec // preferred parameters (no salt or key)
	maxPassword int  // for Hash
	maxVerify   int  // for Verify: the configured maximum
	limits      Limits
	sem         chan struct{}
}

var _ loginkit.Hasher = (*Multi)(nil)

// New returns a Multi that hashes with scheme (one of the Scheme
// constants: bcrypt is cost 12, scrypt N=2^17, r=8, p=1, PBKDF2-SHA256
// 600,000 iterations and PBKDF2-SHA512 210,000 unless options say
// otherwise; bcrypt's Hash refuses passwords longer than 72 bytes with
// loginkit.ErrPasswordTooLong) at its default cost changed by opts, or an error for an
// unknown scheme, an option that does not apply to it, or a cost outside
// the valid range or beyond the configured Limits (so that every hash it
// writes, it also verifies).
func New(scheme string, opts ...Option) (*Multi, error) {
	c := config{scheme: scheme}
	switch scheme {
	case SchemeArgon2id:
		c.memory, c.iterations, c.parallelism = DefaultArgon2Memory, DefaultArgon2Time, DefaultArgon2Parallelism
	case SchemeBcrypt:
		c.cost = DefaultBcryptCost
	case SchemeScrypt:
		c.cost, c.blockSize, c.parallelism = DefaultScryptCost, DefaultScryptBlockSize, DefaultScryptParallelism
	case SchemePBKDF2SHA256:
		c.iterations = DefaultPBKDF2SHA256Iterations
	case SchemePBKDF2SHA512:
		c.iterations = DefaultPBKDF2SHA512Iterations
	default:
		return nil, fmt.Errorf("hashers: unknown scheme %q", scheme)
	}
	c.concurrency = runtime.GOMAXPROCS(0)
	c.maxPassword = DefaultMaxPasswordBytes
	for _, o := range opts {
		o(&c)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if c.concurrency < 1 {
		return nil, fmt.Errorf("hashers: concurrency %d is not positive", c.concurrency)
	}
	if c.maxPassword < 1 {
		return nil, fmt.Errorf("hashers: maximum password length %d is not positive", c.maxPassword)
	}
	m := &Multi{
		scheme:      scheme,
		maxPassword: c.maxPassword,
		maxVerify:   c.maxPassword,
		limits:      c.limits.withDefaults(),
		sem:         make(chan struct{}, c.concurrency),
	}
	p := spec{scheme: scheme, key: make([]byte, keyLen), salt: make([]byte, saltLen)}
	switch scheme {
	case SchemeArgon2id:
		if c.iterations < 1 || c.parallelism < 1 || c.parallelism > 255 || uint64(c.memory) < 8*uint64(c.parallelism) {
			return nil, fmt.Errorf("hashers: invalid argon2id parameters m=%d t=%d p=%d", c.memory, c.iterations, c.parallelism)
		}
		p.algo, p.mem, p.time, p.threads = algoArgon2id, uint64(c.memory), uint64(c.iterations), uint64(c.parallelism)
	case SchemeBcrypt:
		if c.cost < 4 || c.cost > 31 {
			return nil, fmt.Errorf("hashers: bcrypt cost %d outside 4..31", c.cost)
		}
		p.algo, p.cost, p.key, p.salt = algoBcrypt, uint64(c.cost), nil, nil
		m.maxPassword = min(m.maxPassword, BcryptMaxPasswordBytes)
	case SchemeScrypt:
		if c.cost < 1 || c.cost > 62 || c.blockSize < 1 || c.parallelism < 1 {
			return nil, fmt.Errorf("hashers: invalid scrypt parameters ln=%d r=%d p=%d", c.cost, c.blockSize, c.parallelism)
		}
		p.algo, p.n, p.r, p.p = algoScrypt, uint64(1)<<c.cost, uint64(c.blockSize), uint64(c.parallelism)
	case SchemePBKDF2SHA256, SchemePBKDF2SHA512:
		if c.iterations < 1 {
			return nil, fmt.Errorf("hashers: PBKDF2 iterations %d is not positive", c.iterations)
		}
		p.algo, p.iter, p.digest = algoPBKDF2, uint64(c.iterations), digestSHA256
		if scheme == SchemePBKDF2SHA512 {
			p.digest = digestSHA512
			p.key = make([]byte, 64)
		}
	}
	if err := p.checkLimits(m.limits); err != nil {
		return nil, fmt.Errorf("hashers: preferred cost exceeds the verification limits: %w", err)
	}
	m.pref = p
	return m, nil
}

// Must returns m when err is nil and panics otherwise. It is for hashers
// built from fixed options, in package-level variables and tests:
//
//	var testHasher = hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000)))
//
// Code that takes options from configuration calls New and handles the
// error.
func Must(m *Multi, err error) *Multi {
	if err != nil {
		panic(err)
	}
	return m
}

// Default returns a Multi preferring Argon2id at the default cost (19 MiB,
// 2 passes, 1 lane), with the default concurrency, password length and
// limits. It takes no options and cannot fail.
func Default() *Multi { return Must(New(SchemeArgon2id)) }

// Scheme returns the name of the preferred scheme.
func (m *Multi) Scheme() string { return m.scheme }

// MaxPasswordBytes returns the longest password, in bytes after NFC
// normalisation, that Hash accepts.
func (m *Multi) MaxPasswordBytes() int { return m.maxPassword }

// Hash returns the encoded hash of password's NFC form in the preferred
// scheme, with a fresh random salt. A password longer than
// MaxPasswordBytes is refused with an error matching
// loginkit.ErrPasswordTooLong; a context that ends while Hash waits for a
// computation slot ends it with the context's error, wrapped.
func (m *Multi) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > 4*m.maxPassword {
		return "", fmt.Errorf("hashers: %w (over %d bytes)", loginkit.ErrPasswordTooLong, m.maxPassword)
	}
	pw := norm.NFC.String(password)
	if len(pw) > m.maxPassword {
		return "", fmt.Errorf("hashers: %w (%d bytes, at most %d)", loginkit.ErrPasswordTooLong, len(pw), m.maxPassword)
	}
	s := m.pref
	s.salt = make([]byte, saltLen)
	_, _ = rand.Read(s.salt) // crypto/rand.Read never fails
	if err := m.acquire(ctx); err != nil {
		return "", err
	}
	defer m.release()
	return s.encode([]byte(pw))
}

// Verify checks password against encoded, in any format the package
// reads. It returns nil when they match, an error matching
// loginkit.ErrMismatch when they do not, one matching
// loginkit.ErrUnknownHashFormat for a string it cannot read,
// loginkit.ErrUnsafeHashParams for parameters beyond the limits (both
// without hashing), or the context's error, wrapped, when ctx ends while
// Verify waits for a computation slot. rehash reports a match whose hash
// is not in the preferred scheme and cost, or that matched only the
// password's unnormalised bytes.
func (m *Multi) Verify(ctx context.Context, password, encoded string) (rehash bool, err error) {
	s, err := parse(encoded, m.limits)
	if err != nil {
		return false, err
	}
	if len(password) > 4*m.verifyMax() {
		return false, fmt.Errorf("hashers: %w: %w", loginkit.ErrMismatch, loginkit.ErrPasswordTooLong)
	}
	raw := []byte(password)
	var nfc []byte
	if s.own {
		if !norm.NFC.IsNormalString(password) {
			nfc = []byte(norm.NFC.String(password))
		}
	}
	if len(raw) > m.verifyMax() || len(nfc) > m.verifyMax() || !s.passwordWorkOK(max(len(raw), len(nfc)), m.limits) {
		return false, fmt.Errorf("hashers: %w: %w", loginkit.ErrMismatch, loginkit.ErrPasswordTooLong)
	}
	if err := m.acquire(ctx); err != nil {
		return false, err
	}
	defer m.release()
	if nfc != nil {
		if s.matches(nfc) {
			return !m.preferred(&s), nil
		}
		if s.matches(raw) {
			return true, nil
		}
		return false, fmt.Errorf("hashers: %w", loginkit.ErrMismatch)
	}
	if s.matches(raw) {
		return !m.preferred(&s), nil
	}
	return false, fmt.Errorf("hashers: %w", loginkit.ErrMismatch)
}

// verifyMax is the longest password Verify accepts: the configured
// maximum, which is not lowered to 72 bytes with bcrypt preferred, so
// that legacy bcrypt hashes of longer passwords still verify.
func (m *Multi) verifyMax() int { return m.maxVerify }

// NeedsRehash reports whether encoded is not a well-formed hash in the
// preferred scheme and cost: true for any other scheme or cost, and for
// strings Verify would refuse.
func (m *Multi) NeedsRehash(encoded string) bool {
	s, err := parse(encoded, m.limits)
	return err != nil || !m.preferred(&s)
}

// preferred reports whether s is in the preferred scheme with the
// preferred parameters.
func (m *Multi) preferred(s *spec) bool {
	p := &m.pref
	if s.scheme != p.scheme {
		return false
	}
	if p.algo != algoBcrypt && (len(s.key) < len(p.key) || len(s.salt) < saltLen) {
		return false
	}
	switch p.algo {
	case algoArgon2id:
		return s.mem == p.mem && s.time == p.time && s.threads == p.threads
	case algoBcrypt:
		return s.cost == p.cost
	case algoScrypt:
		return s.n == p.n && s.r == p.r && s.p == p.p
	case algoPBKDF2:
		return s.iter == p.iter && s.digest == p.digest
	}
	return false
}

func (m *Multi) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hashers: %w", err)
	}
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hashers: waiting for a hashing slot: %w", ctx.Err())
	}
}

func (m *Multi) release() { <-m.sem }

// Identify names the format of encoded (for example "argon2id", "bcrypt",
// "werkzeug-pbkdf2-sha256", "django-pbkdf2_sha256"; see the package doc
// for the full list) after checking that it is well formed, doing no
// hashing work. It returns an error matching loginkit.ErrUnknownHashFormat
// for a string it cannot read, the scheme with an error matching
// loginkit.ErrUnsafeHashParams for one whose parameters exceed
// DefaultLimits, and the scheme with an error matching ErrRefusedScheme
// (and loginkit.ErrUnknownHashFormat) for a weak legacy scheme this
// package recognises and refuses ("md5-crypt", "spring-noop", …).
func Identify(encoded string) (scheme string, err error) {
	s, err := parse(encoded, DefaultLimits())
	if err != nil && (errors.Is(err, loginkit.ErrUnsafeHashParams) || errors.Is(err, ErrRefusedScheme)) {
		return s.scheme, err
	}
	if err != nil {
		return "", err
	}
	return s.scheme, nil
}

// unknown returns an ErrUnknownHashFormat error describing what is wrong.
func unknown(format string, args ...any) error {
	return fmt.Errorf("hashers: %w: %s", loginkit.ErrUnknownHashFormat, fmt.Sprintf(format, args...))
}

// unsafeParams returns an ErrUnsafeHashParams error describing what is wrong.
func unsafeParams(format string, args ...any) error {
	return fmt.Errorf("hashers: %w: %s", loginkit.ErrUnsafeHashParams, fmt.Sprintf(format, args...))
}

// hasPrefix is strings.HasPrefix, named for readability in parse.
var hasPrefix = strings.HasPrefix
