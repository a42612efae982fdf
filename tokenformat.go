package loginkit

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"

	"github.com/loginkit/loginkit/internal/hotpath"
)

// Token sizes. A session token carries 256 random bits; a remember cookie
// is a 128-bit selector and a 256-bit validator.
const (
	sessionTokenBytes = 32
	selectorBytes     = 16
	validatorBytes    = 32
)

var (
	sessionTokenLen = base64.RawURLEncoding.EncodedLen(sessionTokenBytes) // 43
	selectorLen     = base64.RawURLEncoding.EncodedLen(selectorBytes)     // 22
	validatorLen    = base64.RawURLEncoding.EncodedLen(validatorBytes)    // 43
)

// errMalformedCookie reports a cookie value that is not one the manager
// issued; the request is treated as anonymous and the cookie cleared.
var errMalformedCookie = errors.New("loginkit: malformed cookie")

// randomString returns n random bytes from crypto/rand, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSessionToken returns a fresh session token for the cookie and the
// lookup key under which the store keeps the session.
func newSessionToken() (token, key string) {
	token = randomString(sessionTokenBytes)
	return token, hashToken(token)
}

// hashToken returns base64url(SHA-256(token)): the only form in which
// tokens and validators are stored. The inputs carry 256 random bits, so a
// fast hash is enough; nothing here is a password.
func hashToken(token string) string { return hotpath.HashToken(token) }

// isBase64URL reports whether s is non-empty and uses only the unpadded
// base64url alphabet.
func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decodeSessionCookie checks a server-side session cookie value and returns
// the store key it refers to.
func decodeSessionCookie(v string) (key string, err error) {
	if len(v) != sessionTokenLen || !isBase64URL(v) {
		return "", errMalformedCookie
	}
	return hashToken(v), nil
}

// newSplitToken returns a new selector and validator and the string
// "selector.validator" joining them: the form of remember cookies and of
// the tokens IssueToken hands out.
func newSplitToken() (selector, validator, joined string) {
	selector = randomString(selectorBytes)
	validator = randomString(validatorBytes)
	return selector, validator, selector + "." + validator
}

// parseSplitToken splits a split token "selector.validator" (a remember
// cookie value or an IssueToken string) into its parts.
func parseSplitToken(v string) (selector, validator string, err error) {
	if len(v) != selectorLen+1+validatorLen || v[selectorLen] != '.' {
		return "", "", errMalformedCookie
	}
	selector, validator = v[:selectorLen], v[selectorLen+1:]
	if !isBase64URL(selector) || !isBase64URL(validator) {
		return "", "", errMalformedCookie
	}
	return selector, validator, nil
}

// splitValidatorMatches compares a presented validator with a stored hash in
// constant time.
func splitValidatorMatches(validator, storedHash string) bool {
	h := hashToken(validator)
	return subtle.ConstantTimeCompare([]byte(h), []byte(storedHash)) == 1
}
