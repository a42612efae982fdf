package hashers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/loginkit/loginkit"
)

// ErrRefusedScheme is matched (with errors.Is) by the error of Verify and
// Identify for a recognised hash whose scheme this package refuses to
// verify: plaintext ({noop}), single unsalted or salted digests (Spring's
// {MD5}, {SHA-1}, {SHA-256}, {MD4} and {ldap}, LDAP {SSHA}, bare hex
// MD5/SHA-1/SHA-256/SHA-512), MD5-crypt $1$ and Apache $apr1$. Such an
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
