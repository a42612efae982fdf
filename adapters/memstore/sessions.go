package memstore

import (
	"context"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// Sessions is an in-memory loginkit.SessionStore. Create it with
// NewSessions; the zero value is not usable.
//
// Get and Save cost one map access plus the copy of the session; a
// per-user index serves ListByUser and DeleteByUser, and an expiry heap
// serves DeleteExpired. Get removes an expired session it meets.
//
// A stored session adds one pointer-free buffer to the heap and no other
// object (see sessionRec), so that the garbage collector's work, and the
// cost it adds to every request, does not grow with the number of live
// sessions. Times come back in UTC, without a monotonic clock reading.
type Sessions struct {
	// expiring holds the clock, the lock over the fields below, and the
	// expiry heap of record positions.
	expiring[int32]

	// recs holds the records by value, nrecs of them in use or free;
	// free slots are chained from free through next.
	recs  recPages
	nrecs int32
	free  int32
	// byKey maps a Key to its record; the map's key is the Key cut from
	// the record's buffer.
	byKey map[string]int32
	// byUser maps a UserID to the first of the user's records, which are
	// chained through prev and next; the map's key is the UserID cut
	// from that first record's buffer.
	byUser map[string]int32
}

var _ loginkit.SessionStore = (*Sessions)(nil)

// NewSessions returns an empty session store.
func NewSessions(opts ...Option) *Sessions {
	c := newConfig(opts)
	m := &Sessions{
		free:   noRec,
		byKey:  make(map[string]int32),
		byUser: make(map[string]int32),
	}
	m.now = c.now
	m.heap.place = func(i int32, p int) { m.recs.at(i).heapIdx = int32(p) }
	return m
}

// Save implements loginkit.SessionStore: it stores a copy of s, replacing
// every field of a session saved under the same key. An empty Key is
// loginkit.ErrInvalid. A session whose ExpiresAt has passed is stored but
// never returned.
func (m *Sessions) Save(ctx context.Context, s *loginkit.Session) error {
	return m.put(ctx, "save session", s, false)
}

// Touch implements loginkit.SessionToucher: it replaces the session only
// while a live session with that key exists, and returns ErrNotFound
// otherwise, storing nothing.
func (m *Sessions) Touch(ctx context.Context, s *loginkit.Session) error {
	return m.put(ctx, "touch session", s, true)
}

// put stores a copy of s; with existing, only over a live session.
func (m *Sessions) put(ctx context.Context, op string, s *loginkit.Session, existing bool) error {
	if err := errs.CheckSession(ctx, op, nil, s); err != nil {
		return err
	}
	e, ok := encodeSession(s)
	if !ok {
		return errs.Invalid(op, "session too large")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.byKey[s.Key]
	switch {
	case existing && (!ok || !m.recs.at(i).liveAt(now)):
		return errs.NotFound(op)
	case ok:
		r := m.recs.at(i)
		moved := r.userID() != s.UserID
		if moved {
			m.unlink(i)
		}
		r.set(&e, s)
		// Assigning an existing key replaces the map's copy of the key
		// too, so the map lets go of the old buffer.
		m.byKey[r.key()] = i
		switch {
		case moved:
			m.link(i)
		case r.prev == noRec:
			m.byUser[r.userID()] = i // likewise for the user index
		}
		m.heap.fix(int(r.heapIdx), s.ExpiresAt)
	default:
		i = m.alloc()
		r := m.recs.at(i)
		r.set(&e, s)
		m.byKey[r.key()] = i
		m.link(i)
		m.heap.push(i, s.ExpiresAt)
	}
	return nil
}

// alloc returns the position of an unused record; the caller holds the
// write lock.
func (m *Sessions) alloc() int32 {
	if i := m.free; i != noRec {
		m.free = m.recs.at(i).next
		return i
	}
	if int(m.nrecs) == len(m.recs)*recPageSize {
		m.recs = append(m.recs, new([recPageSize]sessionRec))
	}
	m.nrecs++
	return m.nrecs - 1
}

// link puts record i first in its user's chain.
func (m *Sessions) link(i int32) {
	r := m.recs.at(i)
	r.prev, r.next = noRec, noRec
	if h, ok := m.byUser[r.userID()]; ok {
		r.next = h
		m.recs.at(h).prev = i
	}
	m.byUser[r.userID()] = i
}

// unlink takes record i out of its user's chain.
func (m *Sessions) unlink(i int32) {
	r := m.recs.at(i)
	if r.next != noRec {
		m.recs.at(r.next).prev = r.prev
	}
	switch {
	case r.prev != noRec:
		m.recs.at(r.prev).next = r.next
	case r.next != noRec:
		// The next record becomes the first; keying the map by its
		// UserID lets go of i's buffer.
		m.byUser[m.recs.at(r.next).userID()] = r.next
	default:
		delete(m.byUser, r.userID())
	}
	r.prev, r.next = noRec, noRec
}

// drop removes record i; the caller holds the write lock.
func (m *Sessions) drop(i int32) {
	r := m.recs.at(i)
	delete(m.byKey, r.key())
	m.unlink(i)
	m.heap.remove(int(r.heapIdx))
	*r = sessionRec{heapIdx: noRec, prev: noRec, next: m.free}
	m.free = i
}

// SetClock implements loginkit.ClockSetter, like WithClock: Builder.Build
// calls it with the builder's Clock. Call it before the store is in use.
func (m *Sessions) SetClock(now func() time.Time) { m.setClock(now) }

// Get implements loginkit.SessionStore. A missing or expired session is
// loginkit.ErrNotFound; an expired one is removed.
func (m *Sessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	return m.GetAt(ctx, key, m.now())
}

// GetAt is Get with expiry decided at now instead of the store's clock:
// a session whose ExpiresAt is not after now is loginkit.ErrNotFound and
// is removed. The manager calls it with the time it has read for the
// request, so that an authenticated request on memstore reads the clock
// once (bench's BenchmarkAuthenticatedGET).
func (m *Sessions) GetAt(ctx context.Context, key string, now time.Time) (*loginkit.Session, error) {
	if err := errs.Ready(ctx, "get session", nil); err != nil {
		return nil, err
	}
	m.mu.RLock()
	i, ok := m.byKey[key]
	if ok && m.recs.at(i).liveAt(now) {
		s := m.recs.at(i).out()
		m.mu.RUnlock()
		return s, nil
	}
	m.mu.RUnlock()
	if ok {
		m.mu.Lock()
		if i, ok := m.byKey[key]; ok && !m.recs.at(i).liveAt(now) {
			m.drop(i)
		}
		m.mu.Unlock()
	}
	return nil, errs.NotFound("get session")
}

// Delete implements loginkit.SessionStore. Deleting a missing session is
// not an error.
func (m *Sessions) Delete(ctx context.Context, key string) error {
	if err := errs.Ready(ctx, "delete session", nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.byKey[key]; ok {
		m.drop(i)
	}
	return nil
}

// ListByUser implements loginkit.SessionStore: the user's unexpired
// sessions, newest CreatedAt first (then by key).
func (m *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	if err := errs.Ready(ctx, "list sessions", nil); err != nil {
		return nil, err
	}
	now := m.now()
	var out []*loginkit.Session
	m.mu.RLock()
	i, ok := m.byUser[userID]
	for ok && i != noRec {
		r := m.recs.at(i)
		if r.liveAt(now) {
			out = append(out, r.out())
		}
		i = r.next
	}
	m.mu.RUnlock()
	if out == nil {
		out = []*loginkit.Session{}
	}
	storekit.SortSessions(out)
	return out, nil
}

// DeleteByUser implements loginkit.SessionStore. It removes all of the
// user's sessions except exceptKey's, and reports how many unexpired
// sessions it removed (expired ones go too, uncounted, as they were
// already gone for every reader).
func (m *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	if err := errs.Ready(ctx, "delete sessions", nil); err != nil {
		return 0, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	i, ok := m.byUser[userID]
	for ok && i != noRec {
		r := m.recs.at(i)
		next := r.next
		if r.key() != exceptKey {
			if r.liveAt(now) {
				n++
			}
			m.drop(i)
		}
		i = next
	}
	return n, nil
}

// DeleteExpired implements loginkit.SessionStore: it removes every
// session whose ExpiresAt is not after now and reports how many, taking
// them from the expiry heap without looking at live sessions.
func (m *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	return m.deleteExpired(ctx, "delete expired sessions", m.drop)
}
