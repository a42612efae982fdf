package loginkit

import (
	"crypto/sha256"
	"encoding/base64"
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
	h := sha256.New()
	h.Write([]byte(ip))
	h.Write([]byte{0})
	h.Write([]byte(userAgent))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:16])
}

func truncateUA(ua string) string {
	if len(ua) > maxUserAgent {
		return ua[:maxUserAgent]
	}
	return ua
}
