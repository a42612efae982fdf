package hashers

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math"
	"strings"
)

// Spring Security (spring-security-crypto) encoders. DelegatingPasswordEncoder
// writes "{id}" before its delegate's output; many databases hold the
// delegate's output alone. Pbkdf2PasswordEncoder and
// StandardPasswordEncoder keep no parameters in the hash: they are those
// of Spring's presets, told apart by the decoded length.
const (
	// Pbkdf2PasswordEncoder.defaultsForSpringSecurity_v5_5: HMAC-SHA1,
	// 185,000 iterations, 8-byte salt, 32-byte key.
	springPBKDF2v55Iter, springPBKDF2v55Salt = 185_000, 8
	// defaultsForSpringSecurity_v5_8: HMAC-SHA256, 310,000 iterations,
	// 16-byte salt, 32-byte key.
	springPBKDF2v58Iter, springPBKDF2v58Salt = 310_000, 16
	springKeyLen                             = 32
	// StandardPasswordEncoder: 8-byte salt, 1024 SHA-256 digests.
	springSHA256Salt, springSHA256Iter = 8, 1024
)

// parseSpring reads a hash with a DelegatingPasswordEncoder prefix
// "{id}…". It returns ok=false when the braces do not hold a Spring
// encoder id (LDAP's {SSHA} and Spring's raw MessageDigestPasswordEncoder
// "{salt}hex" are told apart by the caller).
func parseSpring(e string) (s spec, err error, ok bool) {
	id, rest, found := strings.Cut(e[1:], "}")
	if !found {
		return spec{}, nil, false
	}
	switch id {
	case "bcrypt":
		s, err = parseBcrypt(rest, "spring-bcrypt", false, nil)
	case "pbkdf2":
		s, err = parseSpringPBKDF2(rest, true, true)
	case "pbkdf2@SpringSecurity_v5_8":
		s, err = parseSpringPBKDF2(rest, false, true)
	case "scrypt", "scrypt@SpringSecurity_v5_8":
		s, err = parseSpringScrypt(rest)
	case "argon2", "argon2@SpringSecurity_v5_8":
		switch {
		case hasPrefix(rest, "$argon2id$"):
			s, err = parsePHCArgon2(rest, "spring-argon2", algoArgon2id, false)
		case hasPrefix(rest, "$argon2i$"):
			s, err = parsePHCArgon2(rest, "spring-argon2", algoArgon2i, false)
		case hasPrefix(rest, "$argon2d$"):
			s, err = refused("argon2d", argon2dWhy)
		default:
			return spec{}, unknown("spring-argon2: only argon2id and argon2i are supported"), true
		}
	case "sha256":
		s, err = parseSpringSHA256(rest)
	case "noop":
		s, err = refused("spring-noop", "{noop} is a plaintext password, not a hash; hash it on import (Manager.SetPassword) or have the user reset the password")
	case "MD4", "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512":
		s, err = refused("spring-"+strings.ToLower(id), "Spring's {"+id+"} is one salted "+id+" digest, far too fast to keep; have the user reset the password")
	case "ldap":
		s, err = refused("spring-ldap", "Spring's {ldap} is LDAP SHA-1 ({SSHA}), one salted digest, far too fast to keep; have the user reset the password")
	default:
		return spec{}, nil, false
	}
	if err == nil {
		s.refuseEmpty = true // Spring's matches refuses the empty password
	}
	return s, err, true
}

// parseSpringPBKDF2 reads Pbkdf2PasswordEncoder's hex(salt ‖ key) or
// Base64(salt ‖ key) at the v5.5 preset (40 bytes; only when v55) or the
// v5.8 preset (48 bytes).
func parseSpringPBKDF2(e string, v55, v58 bool) (spec, error) {
	b, err := springBytes(e)
	if err != nil {
		return spec{}, err
	}
	switch {
	case v55 && len(b) == springPBKDF2v55Salt+springKeyLen:
		return spec{scheme: "spring-pbkdf2-sha1", algo: algoPBKDF2, iter: springPBKDF2v55Iter, digest: digestSHA1,
			salt: b[:springPBKDF2v55Salt], key: b[springPBKDF2v55Salt:], refuseEmpty: true}, nil
	case v58 && len(b) == springPBKDF2v58Salt+springKeyLen:
		return spec{scheme: "spring-pbkdf2-sha256", algo: algoPBKDF2, iter: springPBKDF2v58Iter, digest: digestSHA256,
			salt: b[:springPBKDF2v58Salt], key: b[springPBKDF2v58Salt:], refuseEmpty: true}, nil
	}
	return spec{}, unknown("spring-pbkdf2: %d bytes of salt and key match no Spring preset", len(b))
}

// springBytes decodes Spring's hex (80 or 96 digits, the presets'
// lengths) or standard padded Base64.
func springBytes(e string) ([]byte, error) {
	if len(e) > 4*maxKey {
		return nil, unknown("spring: encoded value too long")
	}
	if len(e) == 80 || len(e) == 96 {
		if b, err := hex.DecodeString(e); err == nil {
			return b, nil
		}
	}
	b, err := b64Pad.DecodeString(e)
	if err != nil {
		return nil, unknown("spring: neither hex nor Base64")
	}
	return b, nil
}

// parseSpringSHA256 reads StandardPasswordEncoder's hex(salt ‖ digest).
func parseSpringSHA256(e string) (spec, error) {
	b, err := hex.DecodeString(e)
	if err != nil || len(b) != springSHA256Salt+sha256.Size {
		return spec{}, unknown("spring-sha256: expected 80 hex digits")
	}
	return spec{scheme: "spring-sha256", algo: algoSpringSHA256, iter: springSHA256Iter,
		salt: b[:springSHA256Salt], key: b[springSHA256Salt:], refuseEmpty: true}, nil
}

// parseSpringRawHex reads 80 or 96 hex digits stored without a prefix:
// 96 are Pbkdf2PasswordEncoder's v5.8 preset; 80 are either its v5.5
// preset or StandardPasswordEncoder, which have the same layout, so Verify
// tries both.
func parseSpringRawHex(e string) (spec, error) {
	if len(e) == 96 {
		return parseSpringPBKDF2(e, false, true)
	}
	p, err := parseSpringPBKDF2(e, true, false)
	if err != nil {
		return spec{}, err
	}
	sha, err := parseSpringSHA256(e)
	if err != nil {
		return spec{}, err
	}
	p.scheme = "spring-pbkdf2-sha1-or-sha256"
	p.alt = &sha
	return p, nil
}

// isSpringScrypt reports the layout of SCryptPasswordEncoder's output:
// "$", five to eight lower-case hex digits (log2(N) is at least 1), "$".
func isSpringScrypt(e string) bool {
	if len(e) < 2 || e[0] != '$' {
		return false
	}
	params, _, ok := strings.Cut(e[1:], "$")
	if !ok || len(params) < 5 || len(params) > 8 {
		return false
	}
	for i := 0; i < len(params); i++ {
		if c := params[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// parseSpringScrypt reads SCryptPasswordEncoder's
// $hex(log2(N)<<16 | r<<8 | p)$Base64(salt)$Base64(key).
func parseSpringScrypt(e string) (spec, error) {
	const scheme = "spring-scrypt"
	parts := strings.Split(e, "$")
	if len(parts) != 4 || parts[0] != "" || len(parts[1]) == 0 || len(parts[1]) > 8 {
		return spec{}, unknown("%s: expected $params$salt$key", scheme)
	}
	var params uint64
	for i := 0; i < len(parts[1]); i++ {
		c := parts[1][i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return spec{}, unknown("%s: parameters %q are not lower-case hex", scheme, parts[1])
		}
		params = params<<4 | d
	}
	ln, r, p := params>>16, params>>8&0xff, params&0xff
	if ln < 1 || r < 1 || p < 1 {
		return spec{}, unknown("%s: invalid parameters log2(N)=%d r=%d p=%d", scheme, ln, r, p)
	}
	n := uint64(math.MaxUint64)
	if ln < 64 {
		n = 1 << ln
	}
	salt, err := decode(b64Pad, parts[2], scheme+" salt", 8, 64)
	if err != nil {
		return spec{}, err
	}
	key, err := decode(b64Pad, parts[3], scheme+" key", springKeyLen, springKeyLen)
	if err != nil {
		return spec{}, err
	}
	return spec{scheme: scheme, algo: algoScrypt, n: n, r: r, p: p, salt: salt, key: key, refuseEmpty: true}, nil
}

// springSHA256Matches computes StandardPasswordEncoder's digest and
// compares it in constant time.
func (s *spec) springSHA256Matches(pw []byte) bool {
	return subtle.ConstantTimeCompare(springSHA256Sum(s.salt, pw, s.iter), s.key) == 1
}

// springSHA256Sum is StandardPasswordEncoder's digest: SHA-256 of
// salt ‖ pw (Spring's secret is empty), digested iter times in all.
func springSHA256Sum(salt, pw []byte, iter uint64) []byte {
	in := append(append(make([]byte, 0, len(salt)+len(pw)), salt...), pw...)
	sum := sha256.Sum256(in)
	for range iter - 1 {
		sum = sha256.Sum256(sum[:])
	}
	return sum[:]
}
