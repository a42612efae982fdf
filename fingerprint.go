package loginkit

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxUserAgent bounds the User-Agent kept in a session.
const maxUserAgent = 256

// clientIP returns the client's address: the host part of RemoteAddr (never
// its port, which changes with every connection), or, when the direct
// peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For.
func (m *Manager[U]) clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if len(m.trusted) == 0 {
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !m.isTrusted(peer) {
		return host
	}
	// Walk X-Forwarded-For from the right: the rightmost entries were
	// added by our own proxies; the first untrusted one is the client.
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return host // malformed header: trust only the peer
			}
			if !m.isTrusted(a) {
				return a.String()
			}
		}
	}
	return host
}

func (m *Manager[U]) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range m.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fingerprint identifies a client by IP address and User-Agent, for
// session protection: 128 bits of SHA-256, base64url.
func fingerprint(ip, userAgent string) string {
	var out [fingerprintLen]byte
	return string(fingerprintInto(&out, ip, userAgent))
}

// fingerprintLen is the length of an encoded fingerprint: 16 bytes of
// SHA-256 in unpadded base64url.
const fingerprintLen = 22

// fingerprintInto writes the fingerprint of ip and userAgent into out
// and returns it, without allocating.
func fingerprintInto(out *[fingerprintLen]byte, ip, userAgent string) []byte {
	h := sha256.New()
	_, _ = io.WriteString(h, ip)
	h.Write([]byte{0})
	_, _ = io.WriteString(h, userAgent)
	var sum [sha256.Size]byte
	base64.RawURLEncoding.Encode(out[:], h.Sum(sum[:0])[:16])
	return out[:]
}

// fingerprintMatches reports whether want is the fingerprint of ip and
// userAgent. It does not allocate: it runs on every request under
// session protection.
func fingerprintMatches(ip, userAgent, want string) bool {
	var out [fingerprintLen]byte
	return string(fingerprintInto(&out, ip, userAgent)) == want
}

// userAgent returns the request's User-Agent, cut to maxUserAgent bytes.
// It reads the header map under the canonical key: Header.Get
// canonicalises the key on every call and costs about three times as
// much, on every authenticated request (bench's BenchmarkAuthenticatedGET).
func userAgent(r *http.Request) string {
	v := r.Header["User-Agent"]
	if len(v) == 0 {
		return ""
	}
	if len(v[0]) > maxUserAgent {
		return v[0][:maxUserAgent]
	}
	return v[0]
}
