package hashers

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/bits"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// maxEncodedLen bounds the hash strings parse looks at; every supported
// format is far shorter.
const maxEncodedLen = 1024

// Bounds on decoded salts and digests.
const (
	minSalt = 1
	maxSalt = 256
	maxKey  = 256
	// argon2MinTag is Argon2's shortest tag (RFC 9106, section 3.1).
	argon2MinTag = 4
)

type algo uint8

const (
	algoArgon2id algo = iota + 1
	algoArgon2i
	algoBcrypt
	algoScrypt
	algoPBKDF2
	algoSHACrypt     // iter rounds, digest SHA-256 or SHA-512
	algoPHPass       // iter MD5 iterations
	algoSpringSHA256 // StandardPasswordEncoder: iter SHA-256 digests
)

type digestKind uint8

const (
	digestSHA1 digestKind = iota + 1
	digestSHA224
	digestSHA256
	digestSHA384
	digestSHA512
)

func (d digestKind) new() func() hash.Hash {
	switch d {
	case digestSHA1:
		return sha1.New
	case digestSHA224:
		return sha256.New224
	case digestSHA256:
		return sha256.New
	case digestSHA384:
		return sha512.New384
	default:
		return sha512.New
	}
}

func (d digestKind) size() int {
	switch d {
	case digestSHA1:
		return sha1.Size
	case digestSHA224:
		return sha256.Size224
	case digestSHA256:
		return sha256.Size
	case digestSHA384:
		return sha512.Size384
	default:
		return sha512.Size
	}
}

// werkzeugDigests maps the hashlib names Werkzeug hashes accept.
var werkzeugDigests = map[string]digestKind{
	"sha1": digestSHA1, "sha224": digestSHA224, "sha256": digestSHA256,
	"sha384": digestSHA384, "sha512": digestSHA512,
}

// spec is a parsed hash: its algorithm, parameters, salt and expected
// digest. Numeric parameters are kept as uint64 so that absurd values
// survive parsing and are refused by checkLimits.
type spec struct {
	scheme string // the name Identify reports
	algo   algo
	// own reports a format this package also writes, whose passwords may
	// be NFC-normalised.
	own bool

	mem, time, threads uint64 // argon2
	n, r, p            uint64 // scrypt
	iter               uint64 // pbkdf2
	digest             digestKind
	cost               uint64 // bcrypt
	bcrypt             []byte // the standard $2x$ string
	prehash            func(pw []byte) []byte
	// refuseEmpty makes the empty password never match, as Spring
	// Security's matches does for every encoder.
	refuseEmpty bool
	// alt is a second reading of the same string (Spring's unprefixed
	// 80-hex-digit hashes): the password matches if either matches.
	alt *spec

	salt, key []byte
}

// parse reads encoded into a spec and checks it against l. On an unsafe
// parameter it returns the spec (its scheme set) with the error.
func parse(encoded string, l Limits) (spec, error) {
	s, err := parseFormat(encoded)
	if err != nil {
		return s, err // s names the scheme of a refused legacy hash
	}
	if err := s.checkLimits(l); err != nil {
		return s, err
	}
	return s, nil
}

func parseFormat(e string) (spec, error) {
	if len(e) > maxEncodedLen {
		return spec{}, unknown("hash string of %d bytes is too long", len(e))
	}
	switch {
	case e == "":
		return spec{}, unknown("empty hash string")
	case hasPrefix(e, "$2x$"):
		// crypt_blowfish's buggy variant: refused by parseLegacy, not
		// read as bcrypt.
	case isSpringScrypt(e): // before "$2": Spring's "$20801$" is N=4
		return parseSpringScrypt(e)
	case hasPrefix(e, "$argon2id$"):
		return parsePHCArgon2(e, "argon2id", algoArgon2id, true)
	case hasPrefix(e, "$argon2i$"):
		return parsePHCArgon2(e, "argon2i", algoArgon2i, false)
	case hasPrefix(e, "$2"):
		return parseBcrypt(e, "bcrypt", hasPrefix(e, "$2b$"), nil)
	case hasPrefix(e, "$scrypt$"):
		return parsePHCScrypt(e)
	case hasPrefix(e, "$pbkdf2-sha256$"):
		return parsePBKDF2Dollar(e, "$pbkdf2-sha256$", digestSHA256, SchemePBKDF2SHA256, "passlib-pbkdf2-sha256")
	case hasPrefix(e, "$pbkdf2-sha512$"):
		return parsePBKDF2Dollar(e, "$pbkdf2-sha512$", digestSHA512, SchemePBKDF2SHA512, "passlib-pbkdf2-sha512")
	case hasPrefix(e, "$pbkdf2$"):
		return parsePBKDF2Dollar(e, "$pbkdf2$", digestSHA1, "", "passlib-pbkdf2-sha1")
	case hasPrefix(e, "$bcrypt-sha256$"):
		return parsePasslibBcryptSHA256(e)
	case hasPrefix(e, "pbkdf2:"):
		return parseWerkzeugPBKDF2(e)
	case hasPrefix(e, "scrypt:"):
		return parseWerkzeugScrypt(e)
	case hasPrefix(e, "pbkdf2_sha256$"):
		return parseDjangoPBKDF2(e, "pbkdf2_sha256$", digestSHA256, "django-pbkdf2_sha256")
	case hasPrefix(e, "pbkdf2_sha1$"):
		return parseDjangoPBKDF2(e, "pbkdf2_sha1$", digestSHA1, "django-pbkdf2_sha1")
	case hasPrefix(e, "argon2$argon2id$"):
		return parsePHCArgon2(e[len("argon2"):], "django-argon2", algoArgon2id, false)
	case hasPrefix(e, "argon2$argon2i$"):
		return parsePHCArgon2(e[len("argon2"):], "django-argon2", algoArgon2i, false)
	case hasPrefix(e, "bcrypt_sha256$"):
		return parseBcrypt(e[len("bcrypt_sha256$"):], "django-bcrypt_sha256", false, djangoSHA256Prehash)
	case hasPrefix(e, "bcrypt$"):
		return parseBcrypt(e[len("bcrypt$"):], "django-bcrypt", false, nil)
	case hasPrefix(e, "scrypt$"):
		return parseDjangoScrypt(e)
	case hasPrefix(e, "$5$"), hasPrefix(e, "$6$"):
		return parseSHACrypt(e)
	case hasPrefix(e, "$P$"), hasPrefix(e, "$H$"):
		return parsePHPass(e)
	case hasPrefix(e, "$wp$"):
		return parseBcrypt(e[len("$wp"):], "wordpress-bcrypt", false, wordpressPrehash)
	case hasPrefix(e, "{"):
		if s, err, ok := parseSpring(e); ok {
			return s, err
		}
		if s, err, ok := parseSchemePrefix(e); ok {
			return s, err
		}
	case (len(e) == 80 || len(e) == 96) && isHex(e):
		return parseSpringRawHex(e)
	case (len(e) == 56 || len(e) == 64) && !isHex(e):
		if s, err := parseSpringPBKDF2(e, true, true); err == nil {
			return s, nil
		}
	}
	if s, err, ok := parseLegacy(e); ok {
		return s, err
	}
	return spec{}, unknown("unrecognised hash format")
}

// parseArgon2Params reads Argon2's PHC parameters m=, t= and p=, in any
// order (argon2-cffi and PHP write m,t,p; npm argon2 writes m,p,t), each
// exactly once. A duplicate, a missing or an unknown name (such as the
// keyid= and data= of old libraries) is malformed.
func parseArgon2Params(s, scheme string) (m, t, p uint64, err error) {
	ps := strings.Split(s, ",")
	if len(ps) != 3 {
		return 0, 0, 0, unknown("%s: expected the parameters m=, t= and p=", scheme)
	}
	var seen [3]bool
	for _, kvs := range ps {
		name, val, ok := strings.Cut(kvs, "=")
		v, okNum := parseNum(val)
		if !ok || !okNum {
			return 0, 0, 0, unknown("%s: malformed parameters %q", scheme, s)
		}
		var i int
		switch name {
		case "m":
			i, m = 0, v
		case "t":
			i, t = 1, v
		case "p":
			i, p = 2, v
		default:
			return 0, 0, 0, unknown("%s: unknown parameter %q", scheme, name)
		}
		if seen[i] {
			return 0, 0, 0, unknown("%s: parameter %q given twice", scheme, name)
		}
		seen[i] = true
	}
	return m, t, p, nil
}

// parseNum reads a non-empty decimal number; numbers too large for uint64
// read as math.MaxUint64, which every limit refuses.
func parseNum(s string) (uint64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			v = math.MaxUint64
			for _, c := range s[i+1:] {
				if c < '0' || c > '9' {
					return 0, false
				}
			}
			return v, true
		}
		v = lo
	}
	return v, true
}

// kv reads "name=number".
func kv(s, name string) (uint64, bool) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, false
	}
	return parseNum(v)
}

// decode decodes s with enc and checks the length bounds.
func decode(enc *base64.Encoding, s, what string, lo, hi int) ([]byte, error) {
	if len(s) > 2*maxKey+4 {
		return nil, unknown("%s too long", what)
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, unknown("%s is not valid base64", what)
	}
	if len(b) < lo || len(b) > hi {
		return nil, unknown("%s of %d bytes is outside %d..%d", what, len(b), lo, hi)
	}
	return b, nil
}

var (
	// Strict decoding refuses non-canonical trailing bits, so each digest
	// has one spelling.
	b64Raw = base64.RawStdEncoding.Strict()
	b64Pad = base64.StdEncoding.Strict()
	// ab64 is passlib's "adapted base64": '.' instead of '+', no padding.
	ab64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding).Strict()
)

// parsePHCArgon2 reads $argon2id$v=19$m=M,t=T,p=P$salt$hash.
func parsePHCArgon2(e, scheme string, a algo, own bool) (spec, error) {
	parts := strings.Split(e, "$")
	if len(parts) != 6 || parts[0] != "" {
		return spec{}, unknown("%s: expected $type$v=19$m=,t=,p=$salt$hash", scheme)
	}
	if parts[2] != "v=19" {
		return spec{}, unknown("%s: unsupported version %q (only v=19)", scheme, parts[2])
	}
	m, t, p, err := parseArgon2Params(parts[3], scheme)
	if err != nil {
		return spec{}, err
	}
	if t < 1 || p < 1 || (p < math.MaxUint64/8 && m < 8*p) {
		return spec{}, unknown("%s: invalid parameters m=%d t=%d p=%d", scheme, m, t, p)
	}
	salt, err := decode(b64Raw, parts[4], scheme+" salt", 8, maxSalt)
	if err != nil {
		return spec{}, err
	}
	// The tag length is an input of Argon2 (a shorter tag is not a
	// prefix of a longer one), so any length from Argon2's minimum is
	// read, as its libraries read it (npm argon2's hashLength,
	// argon2-cffi's hash_len).
	key, err := decode(b64Raw, parts[5], scheme+" hash", argon2MinTag, maxKey)
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: a, own: own, mem: m, time: t, threads: p, salt: salt, key: key}, nil
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// parseBcrypt reads a standard $2a$/$2b$/$2y$ bcrypt string.
func parseBcrypt(e, scheme string, own bool, prehash func([]byte) []byte) (spec, error) {
	if len(e) < 7 || !(hasPrefix(e, "$2a$") || hasPrefix(e, "$2b$") || hasPrefix(e, "$2y$")) {
		return spec{}, unknown("%s: expected $2a$, $2b$ or $2y$", scheme)
	}
	costStr, rest, ok := strings.Cut(e[4:], "$")
	cost, okNum := parseNum(costStr)
	if !ok || !okNum || len(costStr) < 2 {
		return spec{}, unknown("%s: malformed cost", scheme)
	}
	if len(rest) != 53 || len(costStr) != 2 {
		if cost > 31 && len(rest) == 53 && len(costStr) <= 64 {
			return spec{scheme: scheme, algo: algoBcrypt, cost: cost}, nil // refused by checkLimits
		}
		return spec{}, unknown("%s: wrong length", scheme)
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(bcryptAlphabet, rest[i]) < 0 {
			return spec{}, unknown("%s: invalid character", scheme)
		}
	}
	if cost < 4 {
		return spec{}, unknown("%s: cost %d below 4", scheme, cost)
	}
	return spec{scheme: scheme, algo: algoBcrypt, own: own, cost: cost, bcrypt: []byte(e), prehash: prehash}, nil
}

// djangoSHA256Prehash is Django's BCryptSHA256PasswordHasher's pre-hash:
// the lower-case hex SHA-256 of the password.
func djangoSHA256Prehash(pw []byte) []byte {
	sum := sha256.Sum256(pw)
	return []byte(hex.EncodeToString(sum[:]))
}

// parsePasslibBcryptSHA256 reads passlib's bcrypt_sha256:
// $bcrypt-sha256$v=2,t=2b,r=12$salt$digest (key: base64 of
// HMAC-SHA256 keyed by the salt string) and the older
// $bcrypt-sha256$2a,12$salt$digest (key: base64 of SHA-256).
func parsePasslibBcryptSHA256(e string) (spec, error) {
	const scheme = "passlib-bcrypt-sha256"
	parts := strings.Split(e, "$")
	if len(parts) != 5 || len(parts[3]) != 22 || len(parts[4]) != 31 {
		return spec{}, unknown("%s: expected $bcrypt-sha256$v=2,t=2b,r=N$salt$digest", scheme)
	}
	ps := strings.Split(parts[2], ",")
	var ident, rounds string
	v2 := false
	switch {
	case len(ps) == 3 && ps[0] == "v=2" && ps[1] == "t=2b" && hasPrefix(ps[2], "r="):
		v2, ident, rounds = true, "2b", ps[2][2:]
	case len(ps) == 2 && (ps[0] == "2a" || ps[0] == "2b"):
		ident, rounds = ps[0], ps[1]
	default:
		return spec{}, unknown("%s: unsupported parameters %q", scheme, parts[2])
	}
	cost, ok := parseNum(rounds)
	if !ok || len(rounds) > 2 {
		if ok && cost > 31 {
			return spec{scheme: scheme, algo: algoBcrypt, cost: cost}, nil // refused by checkLimits
		}
		return spec{}, unknown("%s: malformed rounds", scheme)
	}
	salt := parts[3]
	pre := func(pw []byte) []byte {
		sum := sha256.Sum256(pw)
		return []byte(base64.StdEncoding.EncodeToString(sum[:]))
	}
	if v2 {
		pre = func(pw []byte) []byte {
			mac := hmac.New(sha256.New, []byte(salt))
			mac.Write(pw)
			return []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		}
	}
	std := fmt.Sprintf("$%s$%02d$%s%s", ident, cost, parts[3], parts[4])
	return parseBcrypt(std, scheme, false, pre)
}

// parsePHCScrypt reads $scrypt$ln=L,r=R,p=P$salt$hash (passlib's format,
// and this package's).
func parsePHCScrypt(e string) (spec, error) {
	parts := strings.Split(e, "$")
	if len(parts) != 5 || parts[0] != "" {
		return spec{}, unknown("scrypt: expected $scrypt$ln=,r=,p=$salt$hash")
	}
	ps := strings.Split(parts[2], ",")
	if len(ps) != 3 {
		return spec{}, unknown("scrypt: expected parameters ln=,r=,p=")
	}
	ln, ok1 := kv(ps[0], "ln")
	r, ok2 := kv(ps[1], "r")
	p, ok3 := kv(ps[2], "p")
	if !ok1 || !ok2 || !ok3 || ln < 1 || r < 1 || p < 1 {
		return spec{}, unknown("scrypt: malformed parameters %q", parts[2])
	}
	n := uint64(math.MaxUint64)
	if ln < 64 {
		n = 1 << ln
	}
	salt, err := decode(b64Raw, parts[3], "scrypt salt", minSalt, maxSalt)
	if err != nil {
		return spec{}, err
	}
	// PBKDF2 (inside scrypt) output is a prefix of any longer output, so
	// a truncated digest would still match: the length is fixed.
	key, err := decode(b64Raw, parts[4], "scrypt hash", keyLen, keyLen)
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: SchemeScrypt, algo: algoScrypt, own: true, n: n, r: r, p: p, salt: salt, key: key}, nil
}

// parsePBKDF2Dollar reads this package's $pbkdf2-sha256$i=N$salt$hash
// (standard base64) and passlib's $pbkdf2-sha256$N$salt$hash (adapted
// base64); own is "" for a digest this package does not write.
func parsePBKDF2Dollar(e, prefix string, d digestKind, own, passlib string) (spec, error) {
	parts := strings.Split(e[len(prefix):], "$")
	if len(parts) != 3 {
		return spec{}, unknown("%s: expected %siterations$salt$hash", passlib, prefix)
	}
	if own != "" && hasPrefix(parts[0], "i=") {
		iter, ok := kv(parts[0], "i")
		if !ok || iter < 1 {
			return spec{}, unknown("%s: malformed iterations", own)
		}
		salt, err := decode(b64Raw, parts[1], own+" salt", minSalt, maxSalt)
		if err != nil {
			return spec{}, err
		}
		// A shorter PBKDF2 output is a prefix of the full one, so only the
		// full digest is accepted: a truncated string never matches.
		key, err := decode(b64Raw, parts[2], own+" hash", d.size(), d.size())
		if err != nil {
			return spec{}, err
		}
		return spec{scheme: own, algo: algoPBKDF2, own: true, iter: iter, digest: d, salt: salt, key: key}, nil
	}
	iter, ok := parseNum(parts[0])
	if !ok || iter < 1 {
		return spec{}, unknown("%s: malformed rounds", passlib)
	}
	salt, err := decode(ab64, parts[1], passlib+" salt", minSalt, maxSalt)
	if err != nil {
		return spec{}, err
	}
	key, err := decode(ab64, parts[2], passlib+" hash", d.size(), d.size())
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: passlib, algo: algoPBKDF2, iter: iter, digest: d, salt: salt, key: key}, nil
}

// parseWerkzeugPBKDF2 reads pbkdf2:<digest>:<iterations>$salt$hex.
func parseWerkzeugPBKDF2(e string) (spec, error) {
	method, rest, _ := strings.Cut(e, "$")
	ms := strings.Split(method, ":")
	if len(ms) != 3 {
		return spec{}, unknown("werkzeug pbkdf2: expected pbkdf2:digest:iterations")
	}
	d, ok := werkzeugDigests[ms[1]]
	if !ok {
		return spec{}, unknown("werkzeug pbkdf2: unsupported digest %q", ms[1])
	}
	scheme := "werkzeug-pbkdf2-" + ms[1]
	iter, ok := parseNum(ms[2])
	if !ok || iter < 1 {
		return spec{}, unknown("%s: malformed iterations", scheme)
	}
	salt, key, err := werkzeugSaltHex(rest, scheme, d.size(), d.size())
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: algoPBKDF2, iter: iter, digest: d, salt: salt, key: key}, nil
}

// parseWerkzeugScrypt reads scrypt:N:r:p$salt$hex.
func parseWerkzeugScrypt(e string) (spec, error) {
	const scheme = "werkzeug-scrypt"
	method, rest, _ := strings.Cut(e, "$")
	ms := strings.Split(method, ":")
	if len(ms) != 4 {
		return spec{}, unknown("%s: expected scrypt:N:r:p", scheme)
	}
	n, ok1 := parseNum(ms[1])
	r, ok2 := parseNum(ms[2])
	p, ok3 := parseNum(ms[3])
	if !ok1 || !ok2 || !ok3 || n < 2 || n&(n-1) != 0 || r < 1 || p < 1 {
		return spec{}, unknown("%s: invalid parameters %q", scheme, method)
	}
	salt, key, err := werkzeugSaltHex(rest, scheme, 64, 64)
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: algoScrypt, n: n, r: r, p: p, salt: salt, key: key}, nil
}

func werkzeugSaltHex(rest, scheme string, lo, hi int) (salt, key []byte, err error) {
	s, h, ok := strings.Cut(rest, "$")
	if !ok || len(s) < minSalt || len(s) > maxSalt || len(h) > 2*maxKey {
		return nil, nil, unknown("%s: expected $salt$hex", scheme)
	}
	key, err = hex.DecodeString(h)
	if err != nil || len(key) < lo || len(key) > hi {
		return nil, nil, unknown("%s: malformed hex digest", scheme)
	}
	return []byte(s), key, nil
}

// parseDjangoPBKDF2 reads pbkdf2_sha256$iterations$salt$base64.
func parseDjangoPBKDF2(e, prefix string, d digestKind, scheme string) (spec, error) {
	parts := strings.Split(e[len(prefix):], "$")
	if len(parts) != 3 || len(parts[1]) < minSalt || len(parts[1]) > maxSalt {
		return spec{}, unknown("%s: expected iterations$salt$hash", scheme)
	}
	iter, ok := parseNum(parts[0])
	if !ok || iter < 1 {
		return spec{}, unknown("%s: malformed iterations", scheme)
	}
	key, err := decode(b64Pad, parts[2], scheme+" hash", d.size(), d.size())
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: algoPBKDF2, iter: iter, digest: d, salt: []byte(parts[1]), key: key}, nil
}

// parseDjangoScrypt reads scrypt$N$salt$r$p$base64 (Django 4.0 and later).
func parseDjangoScrypt(e string) (spec, error) {
	const scheme = "django-scrypt"
	parts := strings.Split(e, "$")
	if len(parts) != 6 || len(parts[2]) < minSalt || len(parts[2]) > maxSalt {
		return spec{}, unknown("%s: expected scrypt$N$salt$r$p$hash", scheme)
	}
	n, ok1 := parseNum(parts[1])
	r, ok2 := parseNum(parts[3])
	p, ok3 := parseNum(parts[4])
	if !ok1 || !ok2 || !ok3 || n < 2 || n&(n-1) != 0 || r < 1 || p < 1 {
		return spec{}, unknown("%s: invalid parameters", scheme)
	}
	key, err := decode(b64Pad, parts[5], scheme+" hash", 64, 64)
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: algoScrypt, n: n, r: r, p: p, salt: []byte(parts[2]), key: key}, nil
}

// checkLimits refuses parameters beyond l, so that no work is done for
// them.
func (s *spec) checkLimits(l Limits) error {
	maxMem := uint64(l.MaxMemoryKiB)
	maxPar := uint64(min(max(l.MaxParallelism, 0), 255))
	switch s.algo {
	case algoArgon2id, algoArgon2i:
		switch {
		case s.mem > maxMem:
			return unsafeParams("%s memory m=%d KiB above %d", s.scheme, s.mem, maxMem)
		case s.time > uint64(l.MaxTime):
			return unsafeParams("%s passes t=%d above %d", s.scheme, s.time, l.MaxTime)
		case s.threads > maxPar:
			return unsafeParams("%s lanes p=%d above %d", s.scheme, s.threads, maxPar)
		case s.mem*s.time > 4*maxMem:
			return unsafeParams("%s work m·t=%d above %d", s.scheme, s.mem*s.time, 4*maxMem)
		}
	case algoBcrypt:
		if s.cost > uint64(l.MaxBcryptCost) {
			return unsafeParams("%s cost %d above %d", s.scheme, s.cost, l.MaxBcryptCost)
		}
	case algoScrypt:
		budget := maxMem * 1024 / 128 // N·r bound
		switch {
		case s.r > 1<<20 || s.n > 1<<40 || s.n*s.r > budget:
			return unsafeParams("%s memory N=%d r=%d above %d KiB", s.scheme, s.n, s.r, maxMem)
		case s.p > maxPar:
			return unsafeParams("%s parallelism p=%d above %d", s.scheme, s.p, maxPar)
		case s.p > 4*budget/(s.n*s.r):
			return unsafeParams("%s work N·r·p above the limit", s.scheme)
		}
	case algoPBKDF2, algoPHPass:
		if s.iter > uint64(max(l.MaxIterations, 0)) {
			return unsafeParams("%s iterations %d above %d", s.scheme, s.iter, l.MaxIterations)
		}
	case algoSHACrypt:
		if s.iter > uint64(min(max(l.MaxIterations, 0), shaCryptMaxRounds)) {
			return unsafeParams("%s rounds %d above %d", s.scheme, s.iter, min(l.MaxIterations, shaCryptMaxRounds))
		}
	}
	if s.alt != nil {
		return s.alt.checkLimits(l)
	}
	return nil
}

// matches computes the hash of pw with s's parameters and compares it in
// constant time. s has passed checkLimits.
func (s *spec) matches(pw []byte) bool {
	if s.alt != nil {
		// Both readings are computed, so the time does not tell which
		// one matched.
		a, b := s.matchesOne(pw), s.alt.matchesOne(pw)
		return a || b
	}
	return s.matchesOne(pw)
}

func (s *spec) matchesOne(pw []byte) bool {
	if s.refuseEmpty && len(pw) == 0 {
		return false
	}
	var k []byte
	switch s.algo {
	case algoArgon2id:
		k = argon2.IDKey(pw, s.salt, uint32(s.time), uint32(s.mem), uint8(s.threads), uint32(len(s.key)))
	case algoArgon2i:
		k = argon2.Key(pw, s.salt, uint32(s.time), uint32(s.mem), uint8(s.threads), uint32(len(s.key)))
	case algoScrypt:
		var err error
		k, err = scrypt.Key(pw, s.salt, int(s.n), int(s.r), int(s.p), len(s.key))
		if err != nil {
			return false
		}
	case algoPBKDF2:
		var err error
		k, err = pbkdf2.Key(s.digest.new(), string(pw), s.salt, int(s.iter), len(s.key))
		if err != nil {
			return false
		}
	case algoBcrypt:
		if s.prehash != nil {
			pw = s.prehash(pw)
		} else if len(pw) > BcryptMaxPasswordBytes {
			// What every bcrypt library that wrote such a hash did.
			pw = pw[:BcryptMaxPasswordBytes]
		}
		return bcrypt.CompareHashAndPassword(s.bcrypt, pw) == nil
	case algoSHACrypt:
		return s.shaCryptMatches(pw)
	case algoPHPass:
		return s.phpassMatches(pw)
	case algoSpringSHA256:
		return s.springSHA256Matches(pw)
	default:
		return false
	}
	return subtle.ConstantTimeCompare(k, s.key) == 1
}

// encode hashes pw with s's parameters and salt (the preferred spec) and
// returns the encoded string.
func (s *spec) encode(pw []byte) (string, error) {
	b64 := b64Raw.EncodeToString
	switch s.algo {
	case algoArgon2id:
		k := argon2.IDKey(pw, s.salt, uint32(s.time), uint32(s.mem), uint8(s.threads), keyLen)
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", s.mem, s.time, s.threads, b64(s.salt), b64(k)), nil
	case algoBcrypt:
		h, err := bcrypt.GenerateFromPassword(pw, int(s.cost))
		if err != nil {
			return "", fmt.Errorf("hashers: bcrypt: %w", err)
		}
		// x/crypto writes $2a$; for passwords under 256 bytes $2b$ is the
		// same algorithm, and it is the revision other libraries write.
		if len(h) > 3 && h[2] == 'a' {
			h[2] = 'b'
		}
		return string(h), nil
	case algoScrypt:
		k, err := scrypt.Key(pw, s.salt, int(s.n), int(s.r), int(s.p), keyLen)
		if err != nil {
			return "", fmt.Errorf("hashers: scrypt: %w", err)
		}
		return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", bits.Len64(s.n)-1, s.r, s.p, b64(s.salt), b64(k)), nil
	case algoPBKDF2:
		k, err := pbkdf2.Key(s.digest.new(), string(pw), s.salt, int(s.iter), s.digest.size())
		if err != nil {
			return "", fmt.Errorf("hashers: pbkdf2: %w", err)
		}
		return fmt.Sprintf("$%s$i=%d$%s$%s", s.scheme, s.iter, b64(s.salt), b64(k)), nil
	}
	return "", fmt.Errorf("hashers: no encoder for %s", s.scheme)
}
