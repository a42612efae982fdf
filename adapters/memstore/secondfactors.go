package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
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

// withRecord runs f under the lock with the user's record, which is
// created first when create is true and is nil otherwise when the user
// has none. A record that f leaves with neither secret nor codes is
// dropped.
func (m *SecondFactors) withRecord(userID string, create bool, f func(*loginkit.SecondFactor) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.byUser[userID]
	if r == nil && create {
		r = &loginkit.SecondFactor{UserID: userID}
		m.byUser[userID] = r
	}
	err := f(r)
	if r != nil && storekit.NoSecondFactor(r) {
		delete(m.byUser, userID)
	}
	return err
}

// GetSecondFactor implements loginkit.SecondFactorStore.
func (m *SecondFactors) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	const op = "get second factor"
	if err := errs.ReadyUser(ctx, op, nil, userID); err != nil {
		return nil, err
	}
	var out *loginkit.SecondFactor
	err := m.withRecord(userID, false, func(f *loginkit.SecondFactor) error {
		if f == nil {
			return errs.NotFound(op)
		}
		out = f.Clone()
		return nil
	})
	return out, err
}

// SetTOTP implements loginkit.SecondFactorStore.
func (m *SecondFactors) SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error {
	if err := errs.CheckTOTP(ctx, "set TOTP", nil, userID, secret); err != nil {
		return err
	}
	return m.withRecord(userID, true, func(f *loginkit.SecondFactor) error {
		f.TOTPSecret, f.TOTPLastStep, f.TOTPEnabledAt = slices.Clone(secret), lastStep, enabledAt.UTC()
		return nil
	})
}

// AcceptTOTPStep implements loginkit.SecondFactorStore.
func (m *SecondFactors) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "accept TOTP step"
	if err := errs.ReadyUser(ctx, op, nil, userID); err != nil {
		return err
	}
	return m.withRecord(userID, false, func(f *loginkit.SecondFactor) error {
		switch {
		case f == nil || len(f.TOTPSecret) == 0:
			return errs.NotFound(op)
		case step <= f.TOTPLastStep:
			return errs.Wrap(op, loginkit.ErrReplayed)
		}
		f.TOTPLastStep = step
		return nil
	})
}

// SetRecoveryCodes implements loginkit.SecondFactorStore.
func (m *SecondFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := errs.CheckRecoveryCodes(ctx, "set recovery codes", nil, userID, hashes); err != nil {
		return err
	}
	return m.withRecord(userID, true, func(f *loginkit.SecondFactor) error {
		f.RecoveryCodes = slices.Clone(hashes)
		return nil
	})
}

// UseRecoveryCode implements loginkit.SecondFactorStore.
func (m *SecondFactors) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if err := errs.ReadyUser(ctx, op, nil, userID); err != nil {
		return err
	}
	return m.withRecord(userID, false, func(f *loginkit.SecondFactor) error {
		i := -1
		if f != nil && hash != "" {
			i = slices.Index(f.RecoveryCodes, hash)
		}
		if i < 0 {
			return errs.NotFound(op)
		}
		f.RecoveryCodes = slices.Delete(f.RecoveryCodes, i, i+1)
		return nil
	})
}

// DeleteSecondFactor implements loginkit.SecondFactorStore.
func (m *SecondFactors) DeleteSecondFactor(ctx context.Context, userID string) error {
	if err := errs.ReadyUser(ctx, "delete second factor", nil, userID); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.byUser, userID)
	m.mu.Unlock()
	return nil
}
