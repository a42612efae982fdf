package loginkit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// recoveryAlphabet has no look-alike characters (no 0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// recoveryCodeLen is the number of random characters in a recovery code
// (about 50 bits), shown as two groups of five.
const recoveryCodeLen = 10

// newRecoveryCode returns a random code such as "k7fq2-mxw9c".
func newRecoveryCode() string {
	b := make([]byte, recoveryCodeLen)
	out := make([]byte, 0, recoveryCodeLen+1)
	for i := 0; i < recoveryCodeLen; {
		_, _ = rand.Read(b[:1])
		if int(b[0]) >= 256-256%len(recoveryAlphabet) {
			continue // rejection sampling: no bias
		}
		if i == recoveryCodeLen/2 {
			out = append(out, '-')
		}
		out = append(out, recoveryAlphabet[int(b[0])%len(recoveryAlphabet)])
		i++
	}
	return string(out)
}

// normalizeRecoveryCode lower-cases a code as typed and drops spaces and
// dashes.
func normalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(code) {
		if c == '-' || c == ' ' || c == '\t' {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// newRecoveryCodes makes and stores a new set of codes for the user,
// replacing the old set, and returns the codes in clear.
func (m *Manager[U]) newRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, m.factors.nCodes)
	hashes := make([]string, len(codes))
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = m.factors.codeHashes(userID, normalizeRecoveryCode(codes[i]))[0]
	}
	if err := m.factors.store.SetRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, fmt.Errorf("loginkit: recovery codes: %w", err)
	}
	return codes, nil
}

// regenerateRecoveryCodes implements twofactor.Service.RegenerateRecoveryCodes, which documents its contract.
func (m *Manager[U]) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) ([]string, error) {
	u, _, err := m.freshFactorUser(r)
	if err != nil {
		return nil, err
	}
	if on, err := m.hasSecondFactor(r.Context(), u.UserID()); err != nil {
		return nil, err
	} else if !on {
		return nil, fmt.Errorf("%w: no second factor enabled", ErrNotFound)
	}
	return m.newRecoveryCodes(r.Context(), u.UserID())
}

// useRecoveryCode implements twofactor.Service.UseRecoveryCode, which documents its contract.
func (m *Manager[U]) useRecoveryCode(w http.ResponseWriter, r *http.Request, code string) error {
	left := -1
	var user U
	err := m.factorStep(w, r, FactorRecoveryCode, func(ctx context.Context, u U) error {
		c := normalizeRecoveryCode(code)
		if len(c) != recoveryCodeLen {
			return ErrInvalidCode
		}
		for _, h := range m.factors.codeHashes(u.UserID(), c) {
			switch err := m.factors.store.UseRecoveryCode(ctx, u.UserID(), h); {
			case err == nil:
				user = u
				if f, err := m.factors.store.GetSecondFactor(ctx, u.UserID()); err == nil {
					left = len(f.RecoveryCodes)
				} else if errors.Is(err, ErrNotFound) {
					left = 0
				}
				return nil
			case !errors.Is(err, ErrNotFound):
				return fmt.Errorf("loginkit: use recovery code: %w", err)
			}
		}
		return ErrInvalidCode
	})
	if err == nil && m.hooks.RecoveryCodeUsed != nil {
		m.hooks.RecoveryCodeUsed(r, user, left)
	}
	return err
}
