package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// Passkeys is an in-memory loginkit.PasskeyStore. Create it with
// NewPasskeys; the zero value is not usable. Passkeys are indexed by
// credential ID and by user; every method runs under one lock, which
// makes the uniqueness check of CreatePasskey and the compare-and-set of
// UpdateSignCount atomic.
type Passkeys struct {
	mu     sync.Mutex
	byID   map[string]*loginkit.Passkey
	byUser map[string]map[string]struct{}
}

var _ loginkit.PasskeyStore = (*Passkeys)(nil)

// NewPasskeys returns an empty passkey store.
func NewPasskeys() *Passkeys {
	return &Passkeys{byID: map[string]*loginkit.Passkey{}, byUser: map[string]map[string]struct{}{}}
}

// CreatePasskey implements loginkit.PasskeyStore.
func (m *Passkeys) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	const op = "create passkey"
	if err := errs.CheckPasskey(ctx, op, nil, p); err != nil {
		return err
	}
	c := p.Clone()
	c.CreatedAt, c.LastUsedAt = storekit.UTCOrZero(c.CreatedAt), storekit.UTCOrZero(c.LastUsedAt)
	key := string(c.CredentialID)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[key]; ok {
		return errs.Duplicate(op, "credential ID")
	}
	m.byID[key] = c
	ids := m.byUser[c.UserID]
	if ids == nil {
		ids = map[string]struct{}{}
		m.byUser[c.UserID] = ids
	}
	ids[key] = struct{}{}
	return nil
}

// GetPasskey implements loginkit.PasskeyStore.
func (m *Passkeys) GetPasskey(ctx context.Context, credentialID []byte) (*loginkit.Passkey, error) {
	const op = "get passkey"
	if err := errs.ReadyCredential(ctx, op, nil, credentialID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.byID[string(credentialID)]
	if p == nil {
		return nil, errs.NotFound(op)
	}
	return p.Clone(), nil
}

// ListPasskeys implements loginkit.PasskeyStore.
func (m *Passkeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	if err := errs.ReadyUser(ctx, "list passkeys", nil, userID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]*loginkit.Passkey, 0, len(m.byUser[userID]))
	for id := range m.byUser[userID] {
		out = append(out, m.byID[id].Clone())
	}
	m.mu.Unlock()
	storekit.SortPasskeys(out)
	return out, nil
}

// owned returns the user's passkey with this ID; the caller holds the lock.
func (m *Passkeys) owned(userID string, credentialID []byte) *loginkit.Passkey {
	p := m.byID[string(credentialID)]
	if p == nil || p.UserID != userID {
		return nil
	}
	return p
}

// RenamePasskey implements loginkit.PasskeyStore.
func (m *Passkeys) RenamePasskey(ctx context.Context, userID string, credentialID []byte, name string) error {
	const op = "rename passkey"
	if err := errs.ReadyOwnCredential(ctx, op, nil, userID, credentialID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.owned(userID, credentialID)
	if p == nil {
		return errs.NotFound(op)
	}
	p.Name = name
	return nil
}

// UpdateSignCount implements loginkit.PasskeyStore.
func (m *Passkeys) UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error {
	const op = "update sign count"
	if err := errs.ReadyCredential(ctx, op, nil, credentialID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.byID[string(credentialID)]
	switch {
	case p == nil:
		return errs.NotFound(op)
	case p.SignCount != old:
		return fmt.Errorf("memstore: %s: stored count %d, not %d: %w", op, p.SignCount, old, loginkit.ErrReplayed)
	}
	p.SignCount, p.BackedUp, p.LastUsedAt = count, backedUp, storekit.UTCOrZero(usedAt)
	return nil
}

// DeletePasskey implements loginkit.PasskeyStore.
func (m *Passkeys) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	const op = "delete passkey"
	if err := errs.ReadyOwnCredential(ctx, op, nil, userID, credentialID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owned(userID, credentialID) == nil {
		return errs.NotFound(op)
	}
	delete(m.byID, string(credentialID))
	delete(m.byUser[userID], string(credentialID))
	if len(m.byUser[userID]) == 0 {
		delete(m.byUser, userID)
	}
	return nil
}

// DeleteUserPasskeys implements loginkit.PasskeyStore.
func (m *Passkeys) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	if err := errs.ReadyUser(ctx, "delete user passkeys", nil, userID); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.byUser[userID]
	for id := range ids {
		delete(m.byID, id)
	}
	delete(m.byUser, userID)
	return len(ids), nil
}
