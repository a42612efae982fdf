package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
)

// SecondFactors is an in-memory loginkit.SecondFactorStore. Create it with
// NewSecondFactors; the zero value is not usable. Every method runs under
// one lock, which makes AcceptTOTPStep's compare-and-set and
// UseRecoveryCode's removal atomic.
type SecondFactors struct {
	mu     sync.Mutex
	byUser map[string]*loginkit.SecondFactor
}

var _ loginkit.SecondFactorStore = (*SecondFactors)(nil)

// NewSecondFactors returns an empty second-factor store.
func NewSecondFactors() *SecondFactors {
	return &SecondFactors{byUser: make(map[string]*loginkit.SecondFactor)}
}

func checkUser(ctx context.Context, op, userID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	if userID == "" {
		return fmt.Errorf("memstore: %s: empty user ID: %w", op, loginkit.ErrInvalid)
	}
	return nil
}

// record returns the user's record, creating it; the caller holds the lock.
func (m *SecondFactors) record(userID string) *loginkit.SecondFactor {
	f := m.byUser[userID]
	if f == nil {
		f = &loginkit.SecondFactor{UserID: userID}
		m.byUser[userID] = f
	}
	return f
}

// prune drops a record left with neither secret nor codes.
func (m *SecondFactors) prune(f *loginkit.SecondFactor) {
	if len(f.TOTPSecret) == 0 && len(f.RecoveryCodes) == 0 {
		delete(m.byUser, f.UserID)
	}
}

// GetSecondFactor implements loginkit.SecondFactorStore.
func (m *SecondFactors) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	if err := checkUser(ctx, "get second factor", userID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.byUser[userID]
	if f == nil {
		return nil, fmt.Errorf("memstore: get second factor: %w", loginkit.ErrNotFound)
	}
	return f.Clone(), nil
}

// SetTOTP implements loginkit.SecondFactorStore.
func (m *SecondFactors) SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error {
	if err := checkUser(ctx, "set TOTP", userID); err != nil {
		return err
	}
	if len(secret) == 0 {
		return fmt.Errorf("memstore: set TOTP: empty secret: %w", loginkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.record(userID)
	f.TOTPSecret, f.TOTPLastStep, f.TOTPEnabledAt = slices.Clone(secret), lastStep, enabledAt.UTC()
	return nil
}

// AcceptTOTPStep implements loginkit.SecondFactorStore.
func (m *SecondFactors) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := checkUser(ctx, "accept TOTP step", userID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.byUser[userID]
	switch {
	case f == nil || len(f.TOTPSecret) == 0:
		return fmt.Errorf("memstore: accept TOTP step: %w", loginkit.ErrNotFound)
	case step <= f.TOTPLastStep:
		return fmt.Errorf("memstore: accept TOTP step: %w", loginkit.ErrReplayed)
	}
	f.TOTPLastStep = step
	return nil
}

// SetRecoveryCodes implements loginkit.SecondFactorStore.
func (m *SecondFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := checkUser(ctx, "set recovery codes", userID); err != nil {
		return err
	}
	if slices.Contains(hashes, "") {
		return fmt.Errorf("memstore: set recovery codes: empty hash: %w", loginkit.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.record(userID)
	f.RecoveryCodes = slices.Clone(hashes)
	m.prune(f)
	return nil
}

// UseRecoveryCode implements loginkit.SecondFactorStore.
func (m *SecondFactors) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := checkUser(ctx, "use recovery code", userID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.byUser[userID]
	i := -1
	if f != nil && hash != "" {
		i = slices.Index(f.RecoveryCodes, hash)
	}
	if i < 0 {
		return fmt.Errorf("memstore: use recovery code: %w", loginkit.ErrNotFound)
	}
	f.RecoveryCodes = slices.Delete(f.RecoveryCodes, i, i+1)
	m.prune(f)
	return nil
}

// DeleteSecondFactor implements loginkit.SecondFactorStore.
func (m *SecondFactors) DeleteSecondFactor(ctx context.Context, userID string) error {
	if err := checkUser(ctx, "delete second factor", userID); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.byUser, userID)
	m.mu.Unlock()
	return nil
}
