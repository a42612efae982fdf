package loginkit

import (
	"net/http"
	"net/url"
	"strings"
)

// maxNextBytes bounds the redirect targets SafeNext accepts.
const maxNextBytes = 2048

// SafeNext reports whether next is a safe post-login redirect target — a
// local path on this site — and returns it cleaned. It accepts only
// targets that start with a single '/' and that no browser can read as
// another host: it refuses scheme-relative "//host", any backslash (which
// browsers treat as '/'), schemes such as "javascript:", control
// characters and white space (which browsers strip), "." and ".." path
// segments (which a later normalisation could collapse into "//host"), and
// percent-encoded forms of those, as well as targets longer than 2048
// bytes.
func SafeNext(next string) (string, bool) {
	if next == "" || len(next) > maxNextBytes || next[0] != '/' {
		return "", false
	}
	if !safePathChars(next, true) {
		return "", false
	}
	// Decode once and check again, so that "/%2F%2Fevil.example" or
	// "/%5Cevil.example" cannot turn into a host after a later decode
	// (by a proxy, a framework or the next redirect).
	if strings.IndexByte(next, '%') >= 0 {
		dec, err := url.PathUnescape(next)
		if err != nil || !safePathChars(dec, false) {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return next, true
}

// safePathChars checks the rules that must hold both before and after
// percent-decoding; raw also refuses spaces, which a well-formed URL
// carries only percent-encoded.
func safePathChars(s string, raw bool) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' || (raw && c == ' ') {
			return false
		}
	}
	// Dot segments: "/..//evil.example" is harmless as it stands, but a
	// later RFC 3986 normalisation (a proxy, a framework) turns it into
	// "//evil.example", another host.
	path := s
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// NextOr returns the request's "next" form or query value when SafeNext
// accepts it, and fallback otherwise.
func NextOr(r *http.Request, fallback string) string {
	if next, ok := SafeNext(r.FormValue("next")); ok {
		return next
	}
	return fallback
}

// withNext returns target with a "next" query parameter set to next.
func withNext(target, next string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + "next=" + url.QueryEscape(next)
}
