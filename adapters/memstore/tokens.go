package memstore

import (
	"context"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// Tokens is an in-memory loginkit.TokenStore. Create it with NewTokens;
// the zero value is not usable.
//
// Consume is atomic: it looks the token up and deletes it under one lock,
// so among concurrent callers exactly one gets it.
type Tokens struct {
	// expiring holds the clock, the lock over the maps below, and the
	// expiry heap of the entries.
	expiring[*tokenEntry]

	bySel  map[string]*tokenEntry
	byUser map[string]map[string]struct{}
}

// tokenEntry is a stored token and its place in the expiry heap.
type tokenEntry struct {
	t   loginkit.Token
	idx int
}

func (e *tokenEntry) out() *loginkit.Token {
	c := e.t
	return &c
}

func (e *tokenEntry) live(now time.Time) bool { return e.t.ExpiresAt.After(now) }

var _ loginkit.TokenStore = (*Tokens)(nil)

// NewTokens returns an empty token store.
func NewTokens(opts ...Option) *Tokens {
	c := newConfig(opts)
	return &Tokens{
		expiring: expiring[*tokenEntry]{
			now:  c.now,
			heap: expiryHeap[*tokenEntry]{place: func(e *tokenEntry, i int) { e.idx = i }},
		},
		bySel:  make(map[string]*tokenEntry),
		byUser: make(map[string]map[string]struct{}),
	}
}

func (m *Tokens) index(userID, sel string) {
	sels := m.byUser[userID]
	if sels == nil {
		sels = make(map[string]struct{}, 1)
		m.byUser[userID] = sels
	}
	sels[sel] = struct{}{}
}

// drop removes e; the caller holds the write lock.
func (m *Tokens) drop(e *tokenEntry) {
	delete(m.bySel, e.t.Selector)
	sels := m.byUser[e.t.UserID]
	delete(sels, e.t.Selector)
	if len(sels) == 0 {
		delete(m.byUser, e.t.UserID)
	}
	m.heap.remove(e.idx)
}

// Create implements loginkit.TokenStore: it stores a copy of t. An empty
// selector is loginkit.ErrInvalid; a selector held by an unexpired token
// is loginkit.ErrDuplicate, while an expired one is replaced.
func (m *Tokens) Create(ctx context.Context, t *loginkit.Token) error {
	const op = "create token"
	if err := errs.CheckToken(ctx, op, nil, t); err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.bySel[t.Selector]; ok {
		if old.live(now) {
			return errs.Duplicate(op, "selector")
		}
		m.drop(old)
	}
	e := &tokenEntry{t: *t}
	// Tokens come back in UTC, whatever zone the caller's times were in.
	e.t.CreatedAt, e.t.ExpiresAt = e.t.CreatedAt.UTC(), e.t.ExpiresAt.UTC()
	m.bySel[t.Selector] = e
	m.index(t.UserID, t.Selector)
	m.heap.push(e, e.t.ExpiresAt)
	return nil
}

// SetClock implements loginkit.ClockSetter, like WithClock: Builder.Build
// calls it with the builder's Clock. Call it before the store is in use.
func (m *Tokens) SetClock(now func() time.Time) { m.setClock(now) }

// Get implements loginkit.TokenStore. A missing or expired token is
// loginkit.ErrNotFound; an expired one is removed.
func (m *Tokens) Get(ctx context.Context, selector string) (*loginkit.Token, error) {
	if err := errs.Ready(ctx, "get token", nil); err != nil {
		return nil, err
	}
	now := m.now()
	m.mu.RLock()
	e, ok := m.bySel[selector]
	if ok && e.live(now) {
		t := e.out()
		m.mu.RUnlock()
		return t, nil
	}
	m.mu.RUnlock()
	if ok {
		m.mu.Lock()
		if e, ok := m.bySel[selector]; ok && !e.live(now) {
			m.drop(e)
		}
		m.mu.Unlock()
	}
	return nil, errs.NotFound("get token")
}

// Consume implements loginkit.TokenStore: it returns and deletes the
// token under one lock. A missing or expired token is
// loginkit.ErrNotFound.
func (m *Tokens) Consume(ctx context.Context, selector string) (*loginkit.Token, error) {
	if err := errs.Ready(ctx, "consume token", nil); err != nil {
		return nil, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.bySel[selector]
	if !ok {
		return nil, errs.NotFound("get token")
	}
	m.drop(e)
	if !e.live(now) {
		return nil, errs.NotFound("get token")
	}
	return e.out(), nil
}

// Delete implements loginkit.TokenStore. Deleting a missing token is not
// an error.
func (m *Tokens) Delete(ctx context.Context, selector string) error {
	if err := errs.Ready(ctx, "delete token", nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.bySel[selector]; ok {
		m.drop(e)
	}
	return nil
}

// ListByUser implements loginkit.TokenStore: the user's unexpired tokens
// of purpose (all purposes when it is empty), newest CreatedAt first
// (then by selector).
func (m *Tokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	if err := errs.Ready(ctx, "list tokens", nil); err != nil {
		return nil, err
	}
	now := m.now()
	m.mu.RLock()
	sels := m.byUser[userID]
	out := make([]*loginkit.Token, 0, len(sels))
	for sel := range sels {
		e := m.bySel[sel]
		if e.live(now) && (purpose == "" || e.t.Purpose == purpose) {
			out = append(out, e.out())
		}
	}
	m.mu.RUnlock()
	storekit.SortTokens(out)
	return out, nil
}

// DeleteByUser implements loginkit.TokenStore. It removes the user's
// tokens of purpose (all purposes when it is empty) and reports how many
// unexpired tokens it removed (expired ones go too, uncounted).
func (m *Tokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	if err := errs.Ready(ctx, "delete tokens", nil); err != nil {
		return 0, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for sel := range m.byUser[userID] {
		e := m.bySel[sel]
		if purpose != "" && e.t.Purpose != purpose {
			continue
		}
		if e.live(now) {
			n++
		}
		m.drop(e)
	}
	return n, nil
}

// DeleteExpired implements loginkit.TokenStore: it removes every token
// whose ExpiresAt is not after now and reports how many, taking them from
// the expiry heap without looking at live tokens.
func (m *Tokens) DeleteExpired(ctx context.Context) (int, error) {
	return m.deleteExpired(ctx, "delete expired tokens", m.drop)
}
