package hashers

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// phpass portable hashes, as written by the PHP Password Hashing
// Framework's class-phpass.php (WordPress before 6.8, phpBB 3, Drupal 7's
// imported users and many other PHP applications) and by passlib's
// phpass: $P$ (or phpBB's $H$), one character for log2 of the iteration
// count, eight characters of salt and 22 of MD5 digest in crypt64.
const (
	phpassMinLog2 = 7
	phpassMaxLog2 = 30
	phpassLen     = 34
)

// parsePHPass reads $P$<count><salt8><hash22> and $H$…. A count character
// outside phpass's own range 7..30 is malformed (phpass itself refuses
// it); iteration counts above the Limits' MaxIterations are refused by
// checkLimits.
func parsePHPass(e string) (spec, error) {
	const scheme = "phpass"
	if len(e) != phpassLen {
		return spec{}, unknown("%s: hash of %d characters, want %d", scheme, len(e), phpassLen)
	}
	log2 := strings.IndexByte(crypt64, e[3])
	if log2 < phpassMinLog2 || log2 > phpassMaxLog2 {
		return spec{}, unknown("%s: iteration count character %q outside 2^%d..2^%d", scheme, e[3], phpassMinLog2, phpassMaxLog2)
	}
	salt, sum := e[4:12], e[12:]
	for i := 0; i < len(sum); i++ {
		if strings.IndexByte(crypt64, sum[i]) < 0 {
			return spec{}, unknown("%s: invalid character in the hash", scheme)
		}
	}
	if strings.ContainsAny(salt, "$:\n\x00") {
		return spec{}, unknown("%s: invalid character in the salt", scheme)
	}
	return spec{scheme: scheme, algo: algoPHPass, iter: uint64(1) << log2, salt: []byte(salt), key: []byte(sum)}, nil
}

// phpassMatches computes phpass's iterated MD5 (h = MD5(salt pw), then
// count times h = MD5(h pw)) and compares its crypt64 encoding with the
// stored one in constant time.
func (s *spec) phpassMatches(pw []byte) bool {
	buf := make([]byte, 0, md5.Size+len(pw))
	buf = append(append(buf, s.salt...), pw...)
	sum := md5.Sum(buf)
	for range s.iter {
		buf = append(append(buf[:0], sum[:]...), pw...)
		sum = md5.Sum(buf)
	}
	return subtle.ConstantTimeCompare(phpassEncode(sum[:]), s.key) == 1
}

// phpassEncode is phpass's encode64: little-endian groups of three bytes,
// six bits a character, the last group short.
func phpassEncode(b []byte) []byte {
	out := make([]byte, 0, (len(b)*8+5)/6)
	for i := 0; i < len(b); i += 3 {
		w := uint32(b[i])
		n := 2
		if i+1 < len(b) {
			w |= uint32(b[i+1]) << 8
			n++
		}
		if i+2 < len(b) {
			w |= uint32(b[i+2]) << 16
			n++
		}
		for range n {
			out = append(out, crypt64[w&0x3f])
			w >>= 6
		}
	}
	return out
}

// WordPress 6.8 and later hash new passwords with bcrypt over a SHA-384
// pre-hash and mark them "$wp": "$wp$2y$10$…" is the bcrypt hash of
// base64(HMAC-SHA384(key "wp-sha384", password)), so every byte of the
// password counts (wp_hash_password and wp_check_password in
// wp-includes/pluggable.php).
func wordpressPrehash(pw []byte) []byte {
	mac := hmac.New(sha512.New384, []byte("wp-sha384"))
	mac.Write(pw)
	return []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}
