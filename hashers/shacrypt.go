package hashers

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"strings"
)

// SHA-crypt ($5$ and $6$), as specified by Ulrich Drepper's "Unix crypt
// using SHA-256 and SHA-512" and implemented by glibc, libxcrypt and
// passlib's sha256_crypt and sha512_crypt.
const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999_999_999
	shaCryptMaxSalt       = 16
)

// crypt64 is the alphabet of the crypt(3) family's base64 (SHA-crypt,
// MD5-crypt, phpass), least significant bits first.
const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Byte orders of the final encoding: each triple is written as four
// characters, the first byte the most significant.
var (
	sha256CryptOrder = [][3]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
	}
	sha512CryptOrder = [][3]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41},
	}
)

// parseSHACrypt reads $5$[rounds=N$]salt$hash and $6$[rounds=N$]salt$hash.
// Rounds outside 1000..999,999,999 (which glibc would have clamped, so no
// implementation writes them) and salts over 16 bytes are malformed;
// rounds above the Limits' MaxIterations are refused by checkLimits.
func parseSHACrypt(e string) (spec, error) {
	scheme, d, hashLen := "sha256-crypt", digestSHA256, 43
	if hasPrefix(e, "$6$") {
		scheme, d, hashLen = "sha512-crypt", digestSHA512, 86
	}
	parts := strings.Split(e[3:], "$")
	rounds := uint64(shaCryptDefaultRounds)
	if len(parts) == 3 {
		r, ok := strings.CutPrefix(parts[0], "rounds=")
		n, okNum := parseNum(r)
		if !ok || !okNum || (len(r) > 1 && r[0] == '0') {
			return spec{}, unknown("%s: malformed rounds", scheme)
		}
		if n < shaCryptMinRounds || n > shaCryptMaxRounds {
			if n > shaCryptMaxRounds && len(parts[2]) == hashLen {
				return spec{scheme: scheme, algo: algoSHACrypt, iter: n}, nil // refused by checkLimits
			}
			return spec{}, unknown("%s: rounds %d outside %d..%d", scheme, n, shaCryptMinRounds, shaCryptMaxRounds)
		}
		rounds = n
		parts = parts[1:]
	}
	if len(parts) != 2 {
		return spec{}, unknown("%s: expected %s[rounds=N$]salt$hash", scheme, e[:3])
	}
	salt, sum := parts[0], parts[1]
	// Any byte but "$" may be in a salt (PHP's crypt() and glibc take
	// ':' and spaces); NUL cannot, C strings end there.
	if len(salt) > shaCryptMaxSalt || strings.IndexByte(salt, 0) >= 0 {
		return spec{}, unknown("%s: salt longer than %d bytes or with a NUL byte", scheme, shaCryptMaxSalt)
	}
	if len(sum) != hashLen {
		return spec{}, unknown("%s: hash of %d characters, want %d", scheme, len(sum), hashLen)
	}
	for i := 0; i < len(sum); i++ {
		if strings.IndexByte(crypt64, sum[i]) < 0 {
			return spec{}, unknown("%s: invalid character in the hash", scheme)
		}
	}
	return spec{scheme: scheme, algo: algoSHACrypt, iter: rounds, digest: d, salt: []byte(salt), key: []byte(sum)}, nil
}

// shaCryptMatches computes SHA-crypt of pw with s's digest, rounds and
// salt, and compares its encoding with the stored one in constant time.
func (s *spec) shaCryptMatches(pw []byte) bool {
	newHash, order := sha256.New, sha256CryptOrder
	if s.digest == digestSHA512 {
		newHash, order = sha512.New, sha512CryptOrder
	}
	sum := shaCrypt(newHash, pw, s.salt, int(s.iter))
	enc := make([]byte, 0, len(s.key))
	for _, o := range order {
		enc = crypt64Triple(enc, sum[o[0]], sum[o[1]], sum[o[2]], 4)
	}
	if s.digest == digestSHA512 {
		enc = crypt64Triple(enc, 0, 0, sum[63], 2)
	} else {
		enc = crypt64Triple(enc, 0, sum[31], sum[30], 3)
	}
	return subtle.ConstantTimeCompare(enc, s.key) == 1
}

// crypt64Triple appends n characters of the 24-bit value b2·b1·b0, least
// significant six bits first.
func crypt64Triple(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for range n {
		dst = append(dst, crypt64[w&0x3f])
		w >>= 6
	}
	return dst
}

// shaCrypt is the SHA-crypt digest (steps 1 to 21 of the specification).
func shaCrypt(newHash func() hash.Hash, pw, salt []byte, rounds int) []byte {
	h := newHash()
	size := h.Size()
	// B = H(pw salt pw)
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)
	// A = H(pw salt B-repeated-to-len(pw) then B or pw per bit of len(pw))
	h.Reset()
	h.Write(pw)
	h.Write(salt)
	for n := len(pw); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)
	// P = H(pw repeated len(pw) times), repeated to len(pw) bytes.
	h.Reset()
	for range len(pw) {
		h.Write(pw)
	}
	dp := h.Sum(nil)
	p := repeatTo(dp, len(pw))
	// S = H(salt repeated 16+A[0] times), repeated to len(salt) bytes.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	ds := h.Sum(nil)
	sl := repeatTo(ds, len(salt))
	c, next := a, make([]byte, 0, size)
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sl)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		next = h.Sum(next[:0])
		c, next = next, c
	}
	return c
}

// repeatTo returns n bytes of d repeated.
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}

// passwordWorkOK reports whether checking a password of n bytes against s
// stays within the work the limits allow. SHA-crypt hashes the password
// up to three times in every round and phpass once in every iteration, so
// their cost grows with the password's length, unlike PBKDF2's, scrypt's
// or Argon2's: a long password against a hash of many rounds (passlib's
// sha512_crypt default is 656,000) would cost seconds. The work, in hash
// blocks, may be at most that of MaxIterations rounds or iterations with
// a 64-byte password; beyond it Verify refuses the password as too long.
func (s *spec) passwordWorkOK(n int, l Limits) bool {
	budget := uint64(max(l.MaxIterations, 0))
	var block, perPass uint64
	switch s.algo {
	case algoSHACrypt:
		block, perPass = 64, 3
		if s.digest == digestSHA512 {
			block = 128
		}
	case algoPHPass:
		block, perPass = 64, 1
	default:
		return true
	}
	blocks := func(n uint64) uint64 { return 1 + perPass*(16+n)/block }
	return s.iter*blocks(uint64(n)) <= budget*blocks(64)
}
