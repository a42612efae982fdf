package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
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

func checkCredential(ctx context.Context, op string, id []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	if len(id) == 0 {
		return fmt.Errorf("memstore: %s: empty credential ID: %w", op, loginkit.ErrInvalid)
	}
	return nil
}

// CreatePasskey implements loginkit.PasskeyStore.
func (m *Passkeys) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	const op = "create passkey"
	if p == nil {
		return fmt.Errorf("memstore: %s: nil passkey: %w", op, loginkit.ErrInvalid)
	}
	if err := checkCredential(ctx, op, p.CredentialID); err != nil {
		return err
	}
	if err := checkUser(ctx, op, p.UserID); err != nil {
		return err
	}
	if len(p.PublicKey) == 0 {
		return fmt.Errorf("memstore: %s: empty public key: %w", op, loginkit.ErrInvalid)
	}
	c := p.Clone()
	c.CreatedAt, c.LastUsedAt = utcOrZero(c.CreatedAt), utcOrZero(c.LastUsedAt)
	key := string(c.CredentialID)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[key]; ok {
		return fmt.Errorf("memstore: %s: %w", op, loginkit.ErrDuplicate)
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

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// GetPasskey implements loginkit.PasskeyStore.
func (m *Passkeys) GetPasskey(ctx context.Context, credentialID []byte) (*loginkit.Passkey, error) {
	if err := checkCredential(ctx, "get passkey", credentialID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.byID[string(credentialID)]
	if p == nil {
		return nil, fmt.Errorf("memstore: get passkey: %w", loginkit.ErrNotFound)
	}
	return p.Clone(), nil
}

// ListPasskeys implements loginkit.PasskeyStore.
func (m *Passkeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	if err := checkUser(ctx, "list passkeys", userID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]*loginkit.Passkey, 0, len(m.byUser[userID]))
	for id := range m.byUser[userID] {
		out = append(out, m.byID[id].Clone())
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b *loginkit.Passkey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return slices.Compare(a.CredentialID, b.CredentialID)
	})
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
	if err := checkCredential(ctx, op, credentialID); err != nil {
		return err
	}
	if err := checkUser(ctx, op, userID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.owned(userID, credentialID)
	if p == nil {
		return fmt.Errorf("memstore: %s: %w", op, loginkit.ErrNotFound)
	}
	p.Name = name
	return nil
}

// UpdateSignCount implements loginkit.PasskeyStore.
func (m *Passkeys) UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error {
	const op = "update sign count"
	if err := checkCredential(ctx, op, credentialID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.byID[string(credentialID)]
	switch {
	case p == nil:
		return fmt.Errorf("memstore: %s: %w", op, loginkit.ErrNotFound)
	case p.SignCount != old:
		return fmt.Errorf("memstore: %s: stored count %d, not %d: %w", op, p.SignCount, old, loginkit.ErrReplayed)
	}
	p.SignCount, p.BackedUp, p.LastUsedAt = count, backedUp, utcOrZero(usedAt)
	return nil
}

// DeletePasskey implements loginkit.PasskeyStore.
func (m *Passkeys) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	const op = "delete passkey"
	if err := checkCredential(ctx, op, credentialID); err != nil {
		return err
	}
	if err := checkUser(ctx, op, userID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owned(userID, credentialID) == nil {
		return fmt.Errorf("memstore: %s: %w", op, loginkit.ErrNotFound)
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
	if err := checkUser(ctx, "delete user passkeys", userID); err != nil {
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
