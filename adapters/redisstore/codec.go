package redisstore

import (
	"errors"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// Sessions and tokens are stored in a compact binary encoding rather than
// JSON: a session is read on every authenticated request, and this format
// is about a third of the size of its JSON and decodes without reflection,
// with one allocation for the session (plus one for Values, if any): the
// decoded strings share the memory of the value read from Redis.
//
// Layout (all integers are unsigned LEB128 varints, as encoding/binary's
// AppendUvarint writes them; strings are a varint length then the bytes):
//
//	session: 0x01 flags userID created authenticated lastSeen expires
//	         absoluteExpires version fingerprint ip userAgent
//	         nValues (key value)*
//	token:   0x01 validatorHash userID purpose version created expires
//
// flags: bit 0 Fresh, bit 1 Remembered, bit 2 Values is non-nil. A time is
// 0 for the zero time, otherwise storekit.Zigzag(Unix milliseconds)+1; a version is
// storekit.Zigzag(version). The session key and the token selector are not stored:
// they are in the Redis key.

const codecVersion = 1

const (
	flagFresh = 1 << iota
	flagRemembered
	flagValues
)

// errCorrupt reports a stored value this codec cannot read.
var errCorrupt = errors.New("undecodable record")

func appendString(b []byte, s string) []byte {
	b = storekit.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return storekit.AppendUvarint(b, storekit.Zigzag(t.UnixMilli())+1)
}

// reader decodes from a string, so that decoded strings are substrings of
// the value go-redis returned and cost no allocation. The first error
// sticks; later reads return zero values.
type reader struct {
	s   string
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := storekit.Uvarint(r.s)
	if n == 0 {
		r.bad, r.s = true, ""
		return 0
	}
	r.s = r.s[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.s) == 0 {
		r.bad = true
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.bad, r.s = true, ""
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

func (r *reader) time() time.Time {
	u := r.uvarint()
	if u == 0 {
		return time.Time{}
	}
	return time.UnixMilli(storekit.Unzigzag(u - 1)).UTC()
}

func (r *reader) int64() int64 { return storekit.Unzigzag(r.uvarint()) }

// done reports whether the whole input was read without error.
func (r *reader) done() bool { return !r.bad && len(r.s) == 0 }

// appendSession appends the encoding of s (without its Key) to b.
func appendSession(b []byte, s *loginkit.Session) []byte {
	var flags byte
	if s.Fresh {
		flags |= flagFresh
	}
	if s.Remembered {
		flags |= flagRemembered
	}
	if s.Values != nil {
		flags |= flagValues
	}
	b = append(b, codecVersion, flags)
	b = appendString(b, s.UserID)
	b = appendTime(b, s.CreatedAt)
	b = appendTime(b, s.AuthenticatedAt)
	b = appendTime(b, s.LastSeenAt)
	b = appendTime(b, s.ExpiresAt)
	b = appendTime(b, s.AbsoluteExpiresAt)
	b = storekit.AppendUvarint(b, storekit.Zigzag(s.Version))
	b = appendString(b, s.Fingerprint)
	b = appendString(b, s.IP)
	b = appendString(b, s.UserAgent)
	b = storekit.AppendUvarint(b, uint64(len(s.Values)))
	for k, v := range s.Values {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	return b
}

// decodeSession decodes a value written by appendSession; key is the
// session key, taken from the Redis key.
func decodeSession(key, v string) (*loginkit.Session, error) {
	r := reader{s: v}
	if r.byte() != codecVersion {
		return nil, errCorrupt
	}
	flags := r.byte()
	s := &loginkit.Session{
		Key:               key,
		Fresh:             flags&flagFresh != 0,
		Remembered:        flags&flagRemembered != 0,
		UserID:            r.string(),
		CreatedAt:         r.time(),
		AuthenticatedAt:   r.time(),
		LastSeenAt:        r.time(),
		ExpiresAt:         r.time(),
		AbsoluteExpiresAt: r.time(),
		Version:           r.int64(),
		Fingerprint:       r.string(),
		IP:                r.string(),
		UserAgent:         r.string(),
	}
	n := r.uvarint()
	if flags&^(flagFresh|flagRemembered|flagValues) != 0 || (n > 0 && flags&flagValues == 0) ||
		n > uint64(len(r.s)/2) || r.bad {
		return nil, errCorrupt
	}
	if flags&flagValues != 0 {
		s.Values = make(map[string]string, n)
		for ; n > 0; n-- {
			k := r.string()
			s.Values[k] = r.string()
		}
	}
	if !r.done() {
		return nil, errCorrupt
	}
	return s, nil
}

// appendToken appends the encoding of t (without its Selector) to b.
func appendToken(b []byte, t *loginkit.Token) []byte {
	b = append(b, codecVersion)
	b = appendString(b, t.ValidatorHash)
	b = appendString(b, t.UserID)
	b = appendString(b, t.Purpose)
	b = storekit.AppendUvarint(b, storekit.Zigzag(t.Version))
	b = appendTime(b, t.CreatedAt)
	return appendTime(b, t.ExpiresAt)
}

// decodeToken decodes a value written by appendToken; selector is taken
// from the Redis key.
func decodeToken(selector, v string) (*loginkit.Token, error) {
	r := reader{s: v}
	if r.byte() != codecVersion {
		return nil, errCorrupt
	}
	t := &loginkit.Token{
		Selector:      selector,
		ValidatorHash: r.string(),
		UserID:        r.string(),
		Purpose:       r.string(),
		Version:       r.int64(),
		CreatedAt:     r.time(),
		ExpiresAt:     r.time(),
	}
	if !r.done() {
		return nil, errCorrupt
	}
	return t, nil
}
