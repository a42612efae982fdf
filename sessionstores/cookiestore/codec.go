package cookiestore

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// The session payload, before encryption, is a hand-written binary format
// (version 1, named by the envelope's first byte):
//
//	payload  = flags key userID time* version fingerprint ip userAgent values
//	flags    = 1 byte: bit 0 Fresh, bit 1 Remembered, bits 2-6 set when
//	           CreatedAt, AuthenticatedAt, LastSeenAt, ExpiresAt and
//	           AbsoluteExpiresAt (in that order) are non-zero, bit 7 set
//	           when Values is non-nil
//	time     = for each non-zero time: zigzag varint of its Unix
//	           milliseconds minus those of the previous non-zero time
//	           (the first is relative to the Unix epoch)
//	version  = zigzag varint
//	string   = uvarint(n<<2 | kind) then n bytes; kind 0: the string's
//	           bytes; kind 1: the string is the unpadded base64url encoding
//	           of the n bytes; kind 2: the string is the IP address whose n
//	           (4 or 16) bytes follow
//	values   = uvarint count, then count pairs of strings (name, value),
//	           names strictly increasing
//
// Varints are encoding/binary's (LEB128). Session keys, fingerprints and
// hexadecimal or base64url user IDs are stored as their raw bytes, IP
// addresses as 4 or 16 bytes: a typical payload is about 200 bytes, most of
// it the User-Agent.

const (
	flagFresh = 1 << iota
	flagRemembered
	flagCreated
	flagAuthenticated
	flagLastSeen
	flagExpires
	flagAbsolute
	flagValues
)

const (
	kindRaw = iota
	kindBase64
	kindIP
	numKinds
)

// errCorrupt reports a payload that does not follow the format. Open never
// shows it to callers: any undecodable value is ErrNotFound.
var errCorrupt = errors.New("cookiestore: malformed session payload")

var b64 = base64.RawURLEncoding.Strict()

// appendString appends s in the plain form (kind 0).
func appendString(b []byte, s string) []byte {
	b = storekit.AppendUvarint(b, uint64(len(s))<<2|kindRaw)
	return append(b, s...)
}

// appendToken appends s as its raw bytes when it is canonical unpadded
// base64url (session keys, fingerprints, many user IDs), else plainly.
func appendToken(b []byte, s string) []byte {
	if s == "" || len(s) > 1<<12 || !isBase64URL(s) {
		return appendString(b, s)
	}
	n := b64.DecodedLen(len(s))
	start := len(b)
	b = storekit.AppendUvarint(b, uint64(n)<<2|kindBase64)
	hdr := len(b)
	b = slices.Grow(b, n)[:hdr+n]
	m, err := b64.Decode(b[hdr:], []byte(s))
	if err != nil || m != n || b64.EncodedLen(m) != len(s) {
		return appendString(b[:start], s)
	}
	return b
}

// appendIP appends s as 4 or 16 bytes when it is an IP address that
// formats back to exactly s, else plainly.
func appendIP(b []byte, s string) []byte {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return appendString(b, s)
	}
	var buf [64]byte
	if string(a.AppendTo(buf[:0])) != s {
		return appendString(b, s)
	}
	raw := a.AsSlice()
	b = storekit.AppendUvarint(b, uint64(len(raw))<<2|kindIP)
	return append(b, raw...)
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendSession appends the payload encoding of s to b.
func appendSession(b []byte, s *loginkit.Session) []byte {
	times := [...]time.Time{s.CreatedAt, s.AuthenticatedAt, s.LastSeenAt, s.ExpiresAt, s.AbsoluteExpiresAt}
	var flags byte
	if s.Fresh {
		flags |= flagFresh
	}
	if s.Remembered {
		flags |= flagRemembered
	}
	for i, t := range times {
		if !t.IsZero() {
			flags |= flagCreated << i
		}
	}
	if s.Values != nil {
		flags |= flagValues
	}
	b = append(b, flags)
	b = appendToken(b, s.Key)
	b = appendToken(b, s.UserID)
	var prev int64
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		ms := t.UnixMilli()
		b = storekit.AppendUvarint(b, storekit.Zigzag(ms-prev))
		prev = ms
	}
	b = storekit.AppendUvarint(b, storekit.Zigzag(s.Version))
	b = appendToken(b, s.Fingerprint)
	b = appendIP(b, s.IP)
	b = appendString(b, s.UserAgent)
	b = storekit.AppendUvarint(b, uint64(len(s.Values)))
	switch len(s.Values) {
	case 0:
	case 1:
		for k, v := range s.Values {
			b = appendString(b, k)
			b = appendString(b, v)
		}
	default:
		keys := make([]string, 0, len(s.Values))
		for k := range s.Values {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, s.Values[k])
		}
	}
	return b
}

// decoder reads a payload. Strings are collected in one builder so that a
// decoded session costs one allocation for all its strings.
type decoder struct {
	p   []byte
	err error
	sb  strings.Builder
}

func (d *decoder) uvarint() uint64 {
	v, n := storekit.Uvarint(d.p)
	if n == 0 {
		d.err = errCorrupt
		d.p = nil
		return 0
	}
	d.p = d.p[n:]
	return v
}

// span is a string's position in the decoder's builder.
type span struct{ off, n int }

func (d *decoder) str() span {
	h := d.uvarint()
	kind, n := h&3, h>>2
	if d.err != nil || n > uint64(len(d.p)) || kind >= numKinds {
		d.fail()
		return span{}
	}
	raw := d.p[:n]
	d.p = d.p[n:]
	off := d.sb.Len()
	switch kind {
	case kindRaw:
		d.sb.Write(raw)
	case kindBase64:
		var buf [64]byte
		for len(raw) > 0 {
			c := raw[:min(len(raw), 48)] // a multiple of 3: chunks encode independently
			raw = raw[len(c):]
			d.sb.Write(b64.AppendEncode(buf[:0], c))
		}
	case kindIP:
		a, ok := netip.AddrFromSlice(raw)
		if !ok {
			d.fail()
			return span{}
		}
		var buf [64]byte
		d.sb.Write(a.AppendTo(buf[:0]))
	}
	return span{off, d.sb.Len() - off}
}

func (d *decoder) fail() {
	d.err = errCorrupt
	d.p = nil
}

// decodeSession parses a payload written by appendSession.
func decodeSession(p []byte) (*loginkit.Session, error) {
	if len(p) == 0 {
		return nil, errCorrupt
	}
	d := decoder{p: p[1:]}
	d.sb.Grow(len(p) + len(p)/3 + 48)
	flags := p[0]
	s := new(loginkit.Session)
	s.Fresh = flags&flagFresh != 0
	s.Remembered = flags&flagRemembered != 0
	key := d.str()
	userID := d.str()
	times := [...]*time.Time{&s.CreatedAt, &s.AuthenticatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.AbsoluteExpiresAt}
	var prev int64
	for i, t := range times {
		if flags&(flagCreated<<i) == 0 {
			continue
		}
		prev += storekit.Unzigzag(d.uvarint())
		*t = time.UnixMilli(prev).UTC()
	}
	s.Version = storekit.Unzigzag(d.uvarint())
	fp := d.str()
	ip := d.str()
	ua := d.str()
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.p))/2 || (n > 0 && flags&flagValues == 0) {
		return nil, errCorrupt
	}
	var pairs []span
	var stack [16]span
	if n > 0 {
		pairs = stack[:0]
		if 2*n > uint64(len(stack)) {
			pairs = make([]span, 0, 2*n)
		}
		for range n {
			pairs = append(pairs, d.str(), d.str())
		}
	}
	if d.err != nil || len(d.p) != 0 {
		return nil, errCorrupt
	}
	all := d.sb.String()
	at := func(sp span) string { return all[sp.off : sp.off+sp.n] }
	s.Key, s.UserID = at(key), at(userID)
	s.Fingerprint, s.IP, s.UserAgent = at(fp), at(ip), at(ua)
	if flags&flagValues != 0 {
		s.Values = make(map[string]string, n)
		prevKey := ""
		for i := 0; i < len(pairs); i += 2 {
			k := at(pairs[i])
			if i > 0 && k <= prevKey {
				return nil, errCorrupt // names must be strictly increasing
			}
			s.Values[k] = at(pairs[i+1])
			prevKey = k
		}
	}
	return s, nil
}
