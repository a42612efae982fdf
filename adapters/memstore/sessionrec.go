package memstore

import (
	"math"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// The session store keeps its sessions in a layout that the garbage
// collector can mark cheaply, so that the cost of a request does not grow
// with the number of live sessions:
//
//   - every string of a session (Key, UserID, Fingerprint, IP, UserAgent
//     and the Values pairs) is packed into one string, its buffer, built
//     once by Save or Touch and never written afterwards; a later write
//     builds a new buffer, so a session handed to a caller may share its
//     strings with the buffer without a copy;
//   - the rest of the session lives in a sessionRec of numbers and UTC
//     times, held by value in fixed-size pages (so that growing the store
//     never copies the records); the buffer is the only non-nil pointer a
//     session adds, and it points to memory without pointers;
//   - the indexes refer to records by int32 position: the key index maps
//     the Key (a view of the record's buffer) to the position, the user
//     index maps a UserID to the first of the user's records, which are
//     chained through the records themselves, and the expiry heap holds
//     positions and expiries only.

// The times of a session are kept in UTC, which strips the monotonic
// clock reading and leaves their Location pointer nil, so that they give
// the garbage collector nothing to follow and Get copies them as they
// are; they come back in UTC.
const (
	tCreated = iota
	tAuthenticated
	tLastSeen
	tExpires
	tAbsoluteExpires
	numTimes
)

// noRec marks the absence of a record position.
const noRec int32 = -1

// Records are allocated recPageSize at a time. Positions are int32, which
// bounds a store to 2^31-1 sessions, far beyond what fits in memory.
const (
	recPageBits = 8
	recPageSize = 1 << recPageBits
)

// recPages holds the records by position.
type recPages []*[recPageSize]sessionRec

func (p recPages) at(i int32) *sessionRec { return &p[i>>recPageBits][i&(recPageSize-1)] }

// sessionRec is one stored session, or a free slot when buf is empty.
//
// buf holds, in this order: Key, UserID, Fingerprint, IP, UserAgent, then
// nvals Values pairs, each key and value preceded by its length as a
// uvarint. keyEnd..uaEnd are the end offsets of the first five strings.
// buf is immutable: it is built by encodeSession and replaced, never
// modified, so strings cut from it stay valid for whoever holds them.
type sessionRec struct {
	buf string

	keyEnd, userEnd, fpEnd, ipEnd, uaEnd uint32
	nvals                                uint32

	times [numTimes]time.Time

	version int64

	// heapIdx is the record's position in the expiry heap.
	heapIdx int32
	// prev and next chain the records of one user; next also chains the
	// free slots.
	prev, next int32

	fresh, remembered bool
}

func (r *sessionRec) key() string    { return r.buf[:r.keyEnd] }
func (r *sessionRec) userID() string { return r.buf[r.keyEnd:r.userEnd] }

// liveAt reports whether the record expires after now.
func (r *sessionRec) liveAt(now time.Time) bool { return r.times[tExpires].After(now) }

// encodedSession is a session's buffer and the numbers that describe it,
// built outside the store's lock.
type encodedSession struct {
	buf                                  string
	keyEnd, userEnd, fpEnd, ipEnd, uaEnd uint32
	nvals                                uint32
}

func uvarintLen(n int) int { return storekit.UvarintLen(uint64(n)) }

func appendUvarint(b *strings.Builder, n int) {
	var tmp [10]byte
	b.Write(storekit.AppendUvarint(tmp[:0], uint64(n)))
}

// readUvarint decodes a uvarint at s[i:] and returns it and the offset
// after it. The buffer was written by appendUvarint, so it is well formed.
func readUvarint(s string, i int) (int, int) {
	v, n := storekit.Uvarint(s[i:])
	return int(v), i + n
}

// encodeSession packs the strings of s into one new buffer. It reports
// false when the buffer would not fit the record's 32-bit offsets.
func encodeSession(s *loginkit.Session) (encodedSession, bool) {
	n := len(s.Key) + len(s.UserID) + len(s.Fingerprint) + len(s.IP) + len(s.UserAgent)
	for k, v := range s.Values {
		n += uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
	}
	if n > math.MaxUint32 || len(s.Values) > math.MaxUint32 {
		return encodedSession{}, false
	}
	// strings.Builder grown to the exact size allocates the buffer once
	// and hands it out as a string without a copy; nothing writes to it
	// after String.
	var b strings.Builder
	b.Grow(n)
	var e encodedSession
	b.WriteString(s.Key)
	e.keyEnd = uint32(b.Len())
	b.WriteString(s.UserID)
	e.userEnd = uint32(b.Len())
	b.WriteString(s.Fingerprint)
	e.fpEnd = uint32(b.Len())
	b.WriteString(s.IP)
	e.ipEnd = uint32(b.Len())
	b.WriteString(s.UserAgent)
	e.uaEnd = uint32(b.Len())
	for k, v := range s.Values {
		appendUvarint(&b, len(k))
		b.WriteString(k)
		appendUvarint(&b, len(v))
		b.WriteString(v)
	}
	e.nvals = uint32(len(s.Values))
	e.buf = b.String()
	return e, true
}

// set stores s into r, with e its encoded strings; it keeps r's heap
// position and user chain.
func (r *sessionRec) set(e *encodedSession, s *loginkit.Session) {
	r.buf = e.buf
	r.keyEnd, r.userEnd, r.fpEnd, r.ipEnd, r.uaEnd = e.keyEnd, e.userEnd, e.fpEnd, e.ipEnd, e.uaEnd
	r.nvals = e.nvals
	r.times = [numTimes]time.Time{
		tCreated:         s.CreatedAt.UTC(),
		tAuthenticated:   s.AuthenticatedAt.UTC(),
		tLastSeen:        s.LastSeenAt.UTC(),
		tExpires:         s.ExpiresAt.UTC(),
		tAbsoluteExpires: s.AbsoluteExpiresAt.UTC(),
	}
	r.version = s.Version
	r.fresh, r.remembered = s.Fresh, s.Remembered
}

// out returns a new session for a caller. Its strings share the record's
// immutable buffer; its Values map is its own (nil when empty), so the
// caller may change anything it gets.
func (r *sessionRec) out() *loginkit.Session {
	b := r.buf
	s := &loginkit.Session{
		Key:               b[:r.keyEnd],
		UserID:            b[r.keyEnd:r.userEnd],
		CreatedAt:         r.times[tCreated],
		AuthenticatedAt:   r.times[tAuthenticated],
		LastSeenAt:        r.times[tLastSeen],
		ExpiresAt:         r.times[tExpires],
		AbsoluteExpiresAt: r.times[tAbsoluteExpires],
		Fresh:             r.fresh,
		Remembered:        r.remembered,
		Version:           r.version,
		Fingerprint:       b[r.userEnd:r.fpEnd],
		IP:                b[r.fpEnd:r.ipEnd],
		UserAgent:         b[r.ipEnd:r.uaEnd],
	}
	if r.nvals > 0 {
		s.Values = make(map[string]string, r.nvals)
		i := int(r.uaEnd)
		for range r.nvals {
			var n int
			n, i = readUvarint(b, i)
			k := b[i : i+n]
			i += n
			n, i = readUvarint(b, i)
			s.Values[k] = b[i : i+n]
			i += n
		}
	}
	return s
}
