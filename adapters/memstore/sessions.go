package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
)

// Sessions is an in-memory loginkit.SessionStore. Create it with
// NewSessions; the zero value is not usable.
//
// Get and Save cost one map access plus the copy of the session; a
// per-user index serves ListByUser and DeleteByUser, and an expiry heap
// serves DeleteExpired. Get removes an expired session it meets.
type Sessions struct {
	now func() time.Time

	mu     sync.RWMutex
	byKey  map[string]*sessionEntry
	byUser map[string]map[string]struct{}
	heap   expiryHeap[*sessionEntry]
}

// sessionEntry is a stored session and its place in the expiry heap.
type sessionEntry struct {
	s   loginkit.Session
	idx int
}

func (e *sessionEntry) expiry() time.Time { return e.s.ExpiresAt }
func (e *sessionEntry) heapIndex() *int   { return &e.idx }

var _ loginkit.SessionStore = (*Sessions)(nil)

// NewSessions returns an empty session store.
func NewSessions(opts ...Option) *Sessions {
	c := newConfig(opts)
	return &Sessions{
		now:    c.now,
		byKey:  make(map[string]*sessionEntry),
		byUser: make(map[string]map[string]struct{}),
	}
}

// copyValues returns a copy of m, nil for an empty map.
func copyValues(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// out returns a copy of the stored session for a caller.
func (e *sessionEntry) out() *loginkit.Session {
	c := e.s
	c.Values = copyValues(e.s.Values)
	return &c
}

func live(s *loginkit.Session, now time.Time) bool { return s.ExpiresAt.After(now) }

// Save implements loginkit.SessionStore: it stores a copy of s, replacing
// every field of a session saved under the same key. An empty Key is
// loginkit.ErrInvalid. A session whose ExpiresAt has passed is stored but
// never returned.
func (m *Sessions) Save(ctx context.Context, s *loginkit.Session) error {
	return m.put(ctx, "save", s, false)
}

// Touch implements loginkit.SessionToucher: it replaces the session only
// while a live session with that key exists, and returns ErrNotFound
// otherwise, storing nothing.
func (m *Sessions) Touch(ctx context.Context, s *loginkit.Session) error {
	return m.put(ctx, "touch", s, true)
}

// put stores a copy of s; with existing, only over a live session.
func (m *Sessions) put(ctx context.Context, op string, s *loginkit.Session, existing bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s session: %w", op, err)
	}
	if s == nil || s.Key == "" {
		return fmt.Errorf("memstore: %s session: empty key: %w", op, loginkit.ErrInvalid)
	}
	c := *s
	c.Values = copyValues(s.Values)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byKey[c.Key]
	switch {
	case existing && (!ok || !live(&e.s, now)):
		return fmt.Errorf("memstore: %s session: %w", op, loginkit.ErrNotFound)
	case ok:
		if e.s.UserID != c.UserID {
			m.unindex(e.s.UserID, c.Key)
			m.index(c.UserID, c.Key)
		}
		e.s = c
		m.heap.fix(e)
	default:
		e = &sessionEntry{s: c}
		m.byKey[c.Key] = e
		m.index(c.UserID, c.Key)
		m.heap.push(e)
	}
	return nil
}

func (m *Sessions) index(userID, key string) {
	keys := m.byUser[userID]
	if keys == nil {
		keys = make(map[string]struct{}, 1)
		m.byUser[userID] = keys
	}
	keys[key] = struct{}{}
}

func (m *Sessions) unindex(userID, key string) {
	keys := m.byUser[userID]
	delete(keys, key)
	if len(keys) == 0 {
		delete(m.byUser, userID)
	}
}

// drop removes e; the caller holds the write lock.
func (m *Sessions) drop(e *sessionEntry) {
	delete(m.byKey, e.s.Key)
	m.unindex(e.s.UserID, e.s.Key)
	m.heap.remove(e)
}

// Get implements loginkit.SessionStore. A missing or expired session is
// loginkit.ErrNotFound; an expired one is removed.
func (m *Sessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get session: %w", err)
	}
	now := m.now()
	m.mu.RLock()
	e, ok := m.byKey[key]
	if ok && live(&e.s, now) {
		s := e.out()
		m.mu.RUnlock()
		return s, nil
	}
	m.mu.RUnlock()
	if ok {
		m.mu.Lock()
		if e, ok := m.byKey[key]; ok && !live(&e.s, now) {
			m.drop(e)
		}
		m.mu.Unlock()
	}
	return nil, fmt.Errorf("memstore: session: %w", loginkit.ErrNotFound)
}

// Delete implements loginkit.SessionStore. Deleting a missing session is
// not an error.
func (m *Sessions) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete session: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byKey[key]; ok {
		m.drop(e)
	}
	return nil
}

// ListByUser implements loginkit.SessionStore: the user's unexpired
// sessions, newest CreatedAt first (then by key).
func (m *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list sessions: %w", err)
	}
	now := m.now()
	m.mu.RLock()
	keys := m.byUser[userID]
	out := make([]*loginkit.Session, 0, len(keys))
	for k := range keys {
		if e := m.byKey[k]; live(&e.s, now) {
			out = append(out, e.out())
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b *loginkit.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// DeleteByUser implements loginkit.SessionStore. It removes all of the
// user's sessions except exceptKey's, and reports how many unexpired
// sessions it removed (expired ones go too, uncounted, as they were
// already gone for every reader).
func (m *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: delete sessions: %w", err)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.byUser[userID] {
		if k == exceptKey {
			continue
		}
		e := m.byKey[k]
		if live(&e.s, now) {
			n++
		}
		m.drop(e)
	}
	return n, nil
}

// DeleteExpired implements loginkit.SessionStore: it removes every
// session whose ExpiresAt is not after now and reports how many, taking
// them from the expiry heap without looking at live sessions.
func (m *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: delete expired sessions: %w", err)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for {
		e, ok := m.heap.min()
		if !ok || live(&e.s, now) {
			return n, nil
		}
		m.drop(e)
		n++
	}
}
