package hashers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/loginkit/loginkit"
)

// ErrRefusedScheme is matched (with errors.Is) by the error of Verify and
// Identify for a recognised hash whose scheme this package refuses to
// verify: weak ones (plaintext ({noop}), single unsalted or salted
// digests (Spring's {MD5}, {SHA-1}, {SHA-256}, {MD4} and {ldap}, LDAP
// {SSHA}, bare hex MD5/SHA-1/SHA-256/SHA-512), MD5-crypt $1$, Apache
// $apr1$, Sun's $md5$, NetBSD's $sha1$, DES and BSDi crypt, NT-hash $3$)
// and ones it does not implement (Argon2d, yescrypt $y$ and $gy$, scrypt
// crypt $7$, crypt_blowfish's buggy $2x$, Drupal 7's $S$ and U$). Such an
// error also matches loginkit.ErrUnknownHashFormat, so a login against it
// fails like one against any unreadable hash; Identify returns the
// scheme's name with it, so that an import can report what it refused
// and why. Users with such hashes must reset their password.
var ErrRefusedScheme = errors.New("legacy hash scheme refused")

// refused returns the spec naming scheme with an ErrRefusedScheme error
// ending in why.
func refused(scheme, why string) (spec, error) {
	return spec{scheme: scheme}, fmt.Errorf("hashers: %w: %w: %s: %s", loginkit.ErrUnknownHashFormat, ErrRefusedScheme, scheme, why)
}

// parseLegacy recognises the weak schemes this package refuses, or
// returns ok=false.
func parseLegacy(e string) (s spec, err error, ok bool) {
	switch {
	case hasPrefix(e, "$1$"):
		s, err = refused("md5-crypt", "MD5-crypt ($1$) is 1000 rounds of MD5, too weak to keep; have the user reset the password")
	case hasPrefix(e, "$argon2d$"):
		s, err = refused("argon2d", argon2dWhy)
	case hasPrefix(e, "$2x$"):
		s, err = refused("bcrypt-2x", "crypt_blowfish's $2x$ marks hashes made with its sign-extension bug, which this package does not reproduce; have the user reset the password")
	case cryptFields(e, "y", 5):
		s, err = refused("yescrypt", "yescrypt ($y$, libxcrypt's default for shadow files) is not implemented by this package; have the user reset the password")
	case cryptFields(e, "gy", 5):
		s, err = refused("gost-yescrypt", "gost-yescrypt ($gy$) is not implemented by this package; have the user reset the password")
	case cryptFields(e, "7", 4):
		s, err = refused("scrypt-crypt", "libxcrypt's scrypt $7$ is not implemented by this package; have the user reset the password")
	case cryptFields(e, "sha1", 5):
		s, err = refused("sha1-crypt", "NetBSD's $sha1$ (iterated HMAC-SHA1) is not implemented by this package; have the user reset the password")
	case hasPrefix(e, "$md5$"), hasPrefix(e, "$md5,rounds="):
		s, err = refused("sun-md5-crypt", "Sun's $md5$ is MD5-based, too weak to keep; have the user reset the password")
	case hasPrefix(e, "$3$$") && len(e) == 36 && isHex(e[4:]):
		s, err = refused("nthash", "an NT hash ($3$) is one unsalted MD4 digest, far too weak to keep; have the user reset the password")
	case len(e) == 20 && e[0] == '_' && isCrypt64(e[1:]):
		s, err = refused("bsdi-crypt", "BSDi crypt (_) is DES-based, reads 8 characters of the password, far too weak to keep; have the user reset the password")
	case len(e) == 13 && isCrypt64(e):
		s, err = refused("des-crypt", "traditional DES crypt reads 8 characters of the password, far too weak to keep; have the user reset the password")
	case hasPrefix(e, "$S$") && len(e) == 55 && isCrypt64(e[3:4]):
		s, err = refused("drupal7-sha512", "Drupal 7's $S$ (iterated SHA-512, phpass-style) is not implemented by this package; have the user reset the password")
	case hasPrefix(e, "U$P$"), hasPrefix(e, "U$H$"), hasPrefix(e, "U$S$"):
		s, err = refused("drupal7-md5-upgraded", "Drupal's U$ hashes (of the MD5 digest of the password, upgraded from Drupal 6) are not implemented by this package; have the user reset the password")
	case hasPrefix(e, "$apr1$"):
		s, err = refused("apr1-md5", "Apache's $apr1$ is MD5-crypt, 1000 rounds of MD5, too weak to keep; have the user reset the password")
	case hasPrefix(e, "{SSHA}"), hasPrefix(e, "{SHA}"), hasPrefix(e, "{SMD5}"), hasPrefix(e, "{MD5}"):
		id := e[1:strings.IndexByte(e, '}')]
		s, err = refused("ldap-"+strings.ToLower(id), "LDAP {"+id+"} is one digest, far too fast to keep; have the user reset the password")
	case hasPrefix(e, "{") && isSpringMessageDigest(e):
		s, err = refused("spring-message-digest", "Spring's MessageDigestPasswordEncoder/Md4PasswordEncoder \"{salt}hex\" is one salted digest, far too fast to keep; have the user reset the password")
	case isHex(e) && (len(e) == 32 || len(e) == 40 || len(e) == 64 || len(e) == 128):
		name := map[int]string{32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}[len(e)]
		s, err = refused("unsalted-"+name, "a bare "+name+" digest (unsalted, one pass) is far too weak to keep; have the user reset the password")
	default:
		return spec{}, nil, false
	}
	return s, err, true
}

// argon2dWhy is the reason Argon2d is refused, wherever it is met.
const argon2dWhy = "Argon2d (data-dependent memory access, not meant for passwords) is not implemented by this package; have the user reset the password"

// cryptFields reports a "$id$…" string of n "$"-separated fields (the
// first empty), none of the others empty: the shape of libxcrypt's
// yescrypt, scrypt and sha1crypt output.
func cryptFields(e, id string, n int) bool {
	if !hasPrefix(e, "$"+id+"$") {
		return false
	}
	fs := strings.Split(e, "$")
	if len(fs) != n {
		return false
	}
	for _, f := range fs[1:] {
		if f == "" {
			return false
		}
	}
	return true
}

// isCrypt64 reports whether every byte of s is in crypt(3)'s alphabet.
func isCrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crypt64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// isSpringMessageDigest reports Spring's "{salt}hex" layout.
func isSpringMessageDigest(e string) bool {
	salt, digest, ok := strings.Cut(e[1:], "}")
	return ok && salt != "" && isHex(digest) && (len(digest) == 32 || len(digest) == 40 || len(digest) == 64 || len(digest) == 128)
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
