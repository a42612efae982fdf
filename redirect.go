package loginkit

import (
	"net/http"
	"net/url"
	"strings"
)

// maxNextBytes bounds the redirect targets SafeNext accepts.
const maxNextBytes = 2048

// SafeNext reports whether next is a safe post-login redirect target — a
// local path on this site, or an absolute URL on one of allowedHosts — and
// returns it unchanged. A local path must start with a single '/' and be
// one that no browser can read as another host: SafeNext refuses
// scheme-relative "//host", any backslash (which browsers treat as '/'),
// schemes such as "javascript:", control characters and white space
// (which browsers strip), "." and ".." path segments (which a later
// normalisation could collapse into "//host"), and percent-encoded forms
// of those, as well as targets longer than 2048 bytes.
//
// allowedHosts lets an application whose login page runs on another host
// (an SSO-style login app) accept the absolute "next" URLs that
// LoginRedirectURL builds for it: an "http://" or "https://" URL is
// accepted when its host (with the port, if it has one) equals one of
// allowedHosts, ignoring case, and has no user information, and its path,
// query and fragment obey the rules for local paths. Hosts are names such
// as "app.example" or "app.example:8443", not patterns.
func SafeNext(next string, allowedHosts ...string) (string, bool) {
	if len(next) > maxNextBytes {
		return "", false
	}
	if len(allowedHosts) > 0 && !strings.HasPrefix(next, "/") {
		if safeAbsolute(next, allowedHosts) {
			return next, true
		}
		return "", false
	}
	if !safeLocal(next) {
		return "", false
	}
	return next, true
}

// safeLocal checks a local redirect target.
func safeLocal(next string) bool {
	if next == "" || next[0] != '/' {
		return false
	}
	if !safePathChars(next, true) {
		return false
	}
	// Decode once and check again, so that "/%2F%2Fevil.example" or
	// "/%5Cevil.example" cannot turn into a host after a later decode
	// (by a proxy, a framework or the next redirect).
	if strings.IndexByte(next, '%') >= 0 {
		dec, err := url.PathUnescape(next)
		if err != nil || !safePathChars(dec, false) {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// safeAbsolute checks an absolute redirect target against allowed hosts.
func safeAbsolute(next string, allowed []string) bool {
	var rest string
	switch {
	case len(next) >= 8 && strings.EqualFold(next[:8], "https://"):
		rest = next[8:]
	case len(next) >= 7 && strings.EqualFold(next[:7], "http://"):
		rest = next[7:]
	default:
		return false
	}
	host, path := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
		if path[0] != '/' {
			path = "/" + path
		}
	}
	if host == "" || !hostChars(host) || !hostAllowed(host, allowed) {
		return false
	}
	if !safeLocal(path) {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.User == nil && u.Opaque == "" && strings.EqualFold(u.Host, host)
}

// hostChars reports whether host holds only the bytes of a DNS name, an
// IP address literal and a port: no '@', '%', '\' or white space.
func hostChars(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']':
		default:
			return false
		}
	}
	return true
}

func hostAllowed(host string, allowed []string) bool {
	for _, a := range allowed {
		if a != "" && strings.EqualFold(host, a) {
			return true
		}
	}
	return false
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

// DefaultNextParam is the query parameter that carries the page to return
// to after logging in, unless Builder.NextParam sets another.
const DefaultNextParam = "next"

// NextOr returns the request's next parameter (Builder.NextParam, "next"
// by default) when SafeNext accepts it with the manager's AllowedHosts,
// and fallback otherwise.
func (m *Manager[U]) NextOr(r *http.Request, fallback string) string {
	if next, ok := SafeNext(r.FormValue(m.nextParam), m.allowedHosts...); ok {
		return next
	}
	return fallback
}

// LoginRedirectURL returns where an anonymous request is sent to log in:
// the login URL with the next parameter set to the request's path and
// query, or, when the login URL is on another host, to the request's
// absolute URL (add this app's host to AllowedHosts of the login app's
// manager, so its NextOr accepts it). It returns "" when no login URL is
// configured. Unauthorized handlers use it to build the same redirect as
// the default one.
func (m *Manager[U]) LoginRedirectURL(r *http.Request) string {
	return m.redirectWithNext(m.loginURL, r)
}

// RefreshRedirectURL is LoginRedirectURL for the refresh (re-login) URL.
func (m *Manager[U]) RefreshRedirectURL(r *http.Request) string {
	return m.redirectWithNext(m.refreshURL, r)
}

func (m *Manager[U]) redirectWithNext(target string, r *http.Request) string {
	if target == "" {
		return ""
	}
	return withNext(target, m.nextParam, m.nextFor(target, r))
}

// nextFor returns the next value for a redirect to target: the request's
// path and query, made absolute when target is on another host (or
// scheme) than the request, as Flask-Login's make_next_param does.
func (m *Manager[U]) nextFor(target string, r *http.Request) string {
	next := r.URL.RequestURI()
	t, err := url.Parse(target)
	if err != nil || t.Host == "" {
		return next
	}
	scheme := "http"
	if r.TLS != nil || m.cookie.secure {
		scheme = "https"
	}
	if strings.EqualFold(t.Host, r.Host) && strings.EqualFold(t.Scheme, scheme) {
		return next
	}
	return scheme + "://" + r.Host + next
}

// withNext returns target with the query parameter param set to next.
func withNext(target, param, next string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + url.QueryEscape(param) + "=" + url.QueryEscape(next)
}
