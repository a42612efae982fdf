package conformance

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Second-factor stores broken in one way each, for
// TestSecondFactorSuiteCatchesBrokenStores.

type sfStore = loginkit.SecondFactorStore

func newSF() sfStore { return memstore.NewSecondFactors() }

// racyStepSF checks the step and then writes it, with a pause between:
// two concurrent requests can both accept one code.
type racyStepSF struct{ sfStore }

func (s racyStepSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil || len(f.TOTPSecret) == 0 {
		return loginkit.ErrNotFound
	}
	if step <= f.TOTPLastStep {
		return loginkit.ErrReplayed
	}
	time.Sleep(time.Millisecond)
	return s.SetTOTP(ctx, userID, f.TOTPSecret, step, f.TOTPEnabledAt)
}

// noReplaySF accepts any step, even one already used.
type noReplaySF struct{ sfStore }

func (s noReplaySF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil || len(f.TOTPSecret) == 0 {
		return loginkit.ErrNotFound
	}
	return s.SetTOTP(ctx, userID, f.TOTPSecret, max(step, f.TOTPLastStep), f.TOTPEnabledAt)
}

// racyCodeSF uses a recovery code by reading the set, then writing it
// back without the code: concurrent uses of one code all succeed, and
// concurrent uses of different codes restore each other's.
type racyCodeSF struct{ sfStore }

func (s racyCodeSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil {
		return err
	}
	i := slices.Index(f.RecoveryCodes, hash)
	if i < 0 {
		return loginkit.ErrNotFound
	}
	time.Sleep(time.Millisecond)
	return s.SetRecoveryCodes(ctx, userID, slices.Delete(f.RecoveryCodes, i, i+1))
}

// reusableCodeSF never removes a used code.
type reusableCodeSF struct{ sfStore }

func (s reusableCodeSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil || !slices.Contains(f.RecoveryCodes, hash) {
		return loginkit.ErrNotFound
	}
	return nil
}

// appendingCodesSF adds the new codes to the old set instead of
// replacing it.
type appendingCodesSF struct{ sfStore }

func (s appendingCodesSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if f, err := s.GetSecondFactor(ctx, userID); err == nil && len(hashes) > 0 {
		hashes = append(slices.Clone(f.RecoveryCodes), hashes...)
	}
	return s.sfStore.SetRecoveryCodes(ctx, userID, hashes)
}

// aliasingSF keeps and returns the very slices it is given.
type aliasingSF struct {
	sfStore
	mu     sync.Mutex
	secret map[string][]byte
}

func (s *aliasingSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	s.mu.Lock()
	s.secret[userID] = secret
	s.mu.Unlock()
	return s.sfStore.SetTOTP(ctx, userID, secret, step, at)
}

func (s *aliasingSF) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	f, err := s.sfStore.GetSecondFactor(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.secret[userID]; ok {
		f.TOTPSecret = sec
	}
	return f, nil
}

// partialDeleteSF deletes the TOTP secret but leaves the recovery codes.
type partialDeleteSF struct{ sfStore }

func (s partialDeleteSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil {
		return nil
	}
	if err := s.sfStore.DeleteSecondFactor(ctx, userID); err != nil {
		return err
	}
	if len(f.RecoveryCodes) > 0 {
		return s.sfStore.SetRecoveryCodes(ctx, userID, f.RecoveryCodes)
	}
	return nil
}

// sharedStepSF keeps one last step for every user.
type sharedStepSF struct {
	sfStore
	mu   sync.Mutex
	last int64
}

func (s *sharedStepSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := s.sfStore.AcceptTOTPStep(ctx, userID, step); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if step <= s.last {
		return loginkit.ErrReplayed
	}
	s.last = step
	return nil
}

// contextFreeSF ignores the caller's context.
type contextFreeSF struct{ sfStore }

func (s contextFreeSF) UseRecoveryCode(_ context.Context, userID, hash string) error {
	return s.sfStore.UseRecoveryCode(context.Background(), userID, hash)
}

// secondsSF keeps times only to the second.
type secondsSF struct{ sfStore }

func (s secondsSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	return s.sfStore.SetTOTP(ctx, userID, secret, step, at.Truncate(time.Second))
}

// unsupportedCodesSF declares recovery codes unsupported: the suite must
// fail it, not skip, since two-factor login relies on them.
type unsupportedCodesSF struct{ sfStore }

func (unsupportedCodesSF) UseRecoveryCode(context.Context, string, string) error {
	return errors.ErrUnsupported
}

func secondFactorsWith(newStore func() sfStore) func(st suiteT) {
	return func(st suiteT) {
		runSecondFactors(st, SecondFactorHarness{New: func(testing.TB) sfStore { return newStore() }})
	}
}

func TestSecondFactorSuiteCatchesBrokenStores(t *testing.T) {
	cases := []struct {
		name  string
		store func() sfStore
		want  [][2]string
	}{
		{"TOTP step checked then written", func() sfStore { return racyStepSF{newSF()} },
			[][2]string{{"/AcceptTOTPStepConcurrent", "want exactly 1 success"}}},
		{"TOTP step never refused", func() sfStore { return noReplaySF{newSF()} },
			[][2]string{{"/AcceptTOTPStep:", "a replayed step is ErrReplayed"}, {"/AcceptTOTPStepConcurrent", "want exactly 1 success"}}},
		{"recovery code read then rewritten", func() sfStore { return racyCodeSF{newSF()} },
			[][2]string{{"/UseRecoveryCodeConcurrent", "want exactly 1 success"}, {"/UseDifferentRecoveryCodesConcurrent", "none lost, none restored"}}},
		{"recovery code never removed", func() sfStore { return reusableCodeSF{newSF()} },
			[][2]string{{"/UseRecoveryCode:", "want ErrNotFound"}, {"/UseRecoveryCodeConcurrent", "want exactly 1 success"}}},
		{"recovery codes appended on regenerate", func() sfStore { return appendingCodesSF{newSF()} },
			[][2]string{{"/SetRecoveryCodesReplaces", "old codes stop working"}}},
		{"secret aliased", func() sfStore { return &aliasingSF{sfStore: newSF(), secret: map[string][]byte{}} },
			[][2]string{{"/ReturnedValuesIsolated", "store copies"}}},
		{"recovery codes survive delete", func() sfStore { return partialDeleteSF{newSF()} },
			[][2]string{{"/Delete", "removes the secret and every code"}}},
		{"one step for every user", func() sfStore { return &sharedStepSF{sfStore: newSF()} },
			[][2]string{{"/UsersIsolated", "does not replay another's"}}},
		{"context ignored", func() sfStore { return contextFreeSF{newSF()} },
			[][2]string{{"/ContextCancelled", "UseRecoveryCode with a cancelled context"}}},
		{"enabled time truncated to seconds", func() sfStore { return secondsSF{newSF()} },
			[][2]string{{"/RoundTrip", "TOTPEnabledAt"}}},
		{"recovery codes declared unsupported", func() sfStore { return unsupportedCodesSF{newSF()} },
			[][2]string{{"/UseRecoveryCode:", "SecondFactorStore.UseRecoveryCode may not answer"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := runRecorded(t, secondFactorsWith(c.store))
			for _, w := range c.want {
				sub := w[0]
				if sub[len(sub)-1] != ':' {
					sub += ":"
				}
				if !rec.failedWith(sub, w[1]) {
					t.Errorf("the suite did not fail case %s with %q; it recorded %s", w[0], w[1], rec)
				}
			}
		})
	}
}

// TestSecondFactorSuitePassesMemstore checks that the suite, run through
// the recorder, passes memstore with no failure and no skip.
func TestSecondFactorSuitePassesMemstore(t *testing.T) {
	rec := runRecorded(t, secondFactorsWith(newSF))
	if len(rec.failures) != 0 || len(rec.skips) != 0 {
		t.Errorf("the suite does not pass memstore: %s", rec)
	}
	if len(rec.passed) < 18 {
		t.Errorf("only %d cases passed: %v", len(rec.passed), rec.passed)
	}
}
