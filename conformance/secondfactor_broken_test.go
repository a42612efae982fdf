package conformance

import (
	"context"
	"errors"
	"slices"
	"strings"
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

// racyStepSF checks the step and then writes it back with the whole
// record, with pause between (none when 0): two concurrent requests can
// both accept one code. With lock set, accepts are serialised against
// each other, but SetTOTP does not take the lock, so a re-enrolment
// landing inside an accept is undone.
type racyStepSF struct {
	sfStore
	pause time.Duration
	lock  *sync.Mutex
}

func (s racyStepSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	defer hold(s.lock)()
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil || len(f.TOTPSecret) == 0 {
		return loginkit.ErrNotFound
	}
	if step <= f.TOTPLastStep {
		return loginkit.ErrReplayed
	}
	time.Sleep(s.pause)
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
// back without the code, with pause between (none when 0): concurrent
// uses of one code all succeed, and concurrent uses of different codes
// restore each other's. With lock set, uses are serialised against each
// other, but SetRecoveryCodes does not take the lock, so a regeneration
// landing inside a use is undone.
type racyCodeSF struct {
	sfStore
	pause time.Duration
	lock  *sync.Mutex
}

func (s racyCodeSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	defer hold(s.lock)()
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil {
		return err
	}
	i := slices.Index(f.RecoveryCodes, hash)
	if i < 0 {
		return loginkit.ErrNotFound
	}
	time.Sleep(s.pause)
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
	secret memo[string, []byte]
}

func (s *aliasingSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	s.secret.put(userID, secret)
	return s.sfStore.SetTOTP(ctx, userID, secret, step, at)
}

func (s *aliasingSF) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	f, err := s.sfStore.GetSecondFactor(ctx, userID)
	if sec, ok := s.secret.get(userID); ok && err == nil {
		f.TOTPSecret = sec
	}
	return f, err
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

func TestSecondFactorSuiteCatchesBrokenStores(t *testing.T) {
	sf := secondFactorsWith
	wantCaught(t, []mutant{
		{"TOTP step checked then written", sf(func() sfStore { return racyStepSF{sfStore: newSF(), pause: time.Millisecond} }),
			[][2]string{{"/AcceptTOTPStepConcurrent", "want exactly 1 success"}}},
		{"TOTP step never refused", sf(func() sfStore { return noReplaySF{newSF()} }),
			[][2]string{{"/AcceptTOTPStep:", "a replayed step is ErrReplayed"}, {"/AcceptTOTPStepConcurrent", "want exactly 1 success"}}},
		{"recovery code read then rewritten", sf(func() sfStore { return racyCodeSF{sfStore: newSF(), pause: time.Millisecond} }),
			[][2]string{{"/UseRecoveryCodeConcurrent", "want exactly 1 success"}, {"/UseDifferentRecoveryCodesConcurrent", "none lost, none restored"}}},
		{"recovery code never removed", sf(func() sfStore { return reusableCodeSF{newSF()} }),
			[][2]string{{"/UseRecoveryCode:", "want ErrNotFound"}, {"/UseRecoveryCodeConcurrent", "want exactly 1 success"}}},
		{"recovery codes appended on regenerate", sf(func() sfStore { return appendingCodesSF{newSF()} }),
			[][2]string{{"/SetRecoveryCodesReplaces", "old codes stop working"}}},
		{"secret aliased", sf(func() sfStore { return &aliasingSF{sfStore: newSF()} }),
			[][2]string{{"/ReturnedValuesIsolated", "store copies"}}},
		{"recovery codes survive delete", sf(func() sfStore { return partialDeleteSF{newSF()} }),
			[][2]string{{"/Delete", "removes the secret and every code"}}},
		{"one step for every user", sf(func() sfStore { return &sharedStepSF{sfStore: newSF()} }),
			[][2]string{{"/UsersIsolated", "does not replay another's"}}},
		{"context ignored", sf(func() sfStore { return contextFreeSF{newSF()} }),
			[][2]string{{"/ContextCancelled", "UseRecoveryCode with a cancelled context"}}},
		{"enabled time truncated to seconds", sf(func() sfStore { return secondsSF{newSF()} }),
			[][2]string{{"/RoundTrip", "TOTPEnabledAt"}}},
		{"recovery codes declared unsupported", sf(func() sfStore { return unsupportedCodesSF{newSF()} }),
			[][2]string{{"/UseRecoveryCode:", "SecondFactorStore.UseRecoveryCode may not answer"}}},
	})
}

// TestSecondFactorSuitePassesMemstore checks that the suite, run through
// the recorder, passes memstore with no failure and no skip.
func TestSecondFactorSuitePassesMemstore(t *testing.T) {
	wantPasses(t, secondFactorsWith(newSF), 18)
}

// equalStepSF accepts a step equal to the last one (>= where > was
// needed).
type equalStepSF struct {
	sfStore
	mu sync.Mutex
}

func (s *equalStepSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil || len(f.TOTPSecret) == 0 {
		return loginkit.ErrNotFound
	}
	if step < f.TOTPLastStep {
		return loginkit.ErrReplayed
	}
	return s.SetTOTP(ctx, userID, f.TOTPSecret, step, f.TOTPEnabledAt)
}

// matchingSF finds the code to use with match instead of ==: a
// case-insensitive collation, a trimmed or a LIKE comparison.
type matchingSF struct {
	sfStore
	mu    sync.Mutex
	match func(stored, given string) bool
}

func (s *matchingSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.GetSecondFactor(ctx, userID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(f.RecoveryCodes, func(c string) bool { return s.match(c, hash) })
	if i < 0 {
		return loginkit.ErrNotFound
	}
	return s.sfStore.UseRecoveryCode(ctx, userID, f.RecoveryCodes[i])
}

// concatCodesSF keeps every user's codes in one set of userID+hash, with
// no separator.
type concatCodesSF struct {
	sfStore
	mu    sync.Mutex
	codes map[string]bool
}

func (s *concatCodesSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := s.sfStore.SetRecoveryCodes(ctx, userID, hashes); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hashes {
		s.codes[userID+h] = true
	}
	return nil
}

func (s *concatCodesSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.codes[userID+hash] {
		return loginkit.ErrNotFound
	}
	delete(s.codes, userID+hash)
	if err := s.sfStore.UseRecoveryCode(ctx, userID, hash); err != nil {
		// The code belonged to another user whose ID runs into it.
		for id := range s.users(userID) {
			if s.sfStore.UseRecoveryCode(ctx, id, strings.TrimPrefix(userID+hash, id)) == nil {
				return nil
			}
		}
		return err
	}
	return nil
}

func (s *concatCodesSF) users(prefix string) map[string]bool {
	out := map[string]bool{}
	for k := range s.codes {
		if strings.HasPrefix(k, prefix) && len(k) > len(prefix) {
			for i := len(prefix); i <= len(k); i++ {
				out[k[:i]] = true
			}
		}
	}
	return out
}

// prefixDeleteSF deletes every user whose ID starts with the one given
// (a SCAN MATCH id* or LIKE 'id%').
type prefixDeleteSF struct {
	sfStore
	users memo[string, bool]
}

func (s *prefixDeleteSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	s.users.put(userID, true)
	return s.sfStore.SetTOTP(ctx, userID, secret, step, at)
}

func (s *prefixDeleteSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	s.users.put(userID, true)
	return s.sfStore.SetRecoveryCodes(ctx, userID, hashes)
}

func (s *prefixDeleteSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for id := range s.users.snapshot() {
		if strings.HasPrefix(id, userID) {
			if err := s.sfStore.DeleteSecondFactor(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// zoneKeepingSF keeps enabledAt in the zone it was given (no UTC()).
type zoneKeepingSF struct {
	sfStore
	loc memo[string, *time.Location]
}

func (s *zoneKeepingSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	if err := s.sfStore.SetTOTP(ctx, userID, secret, step, at); err != nil {
		return err
	}
	s.loc.put(userID, at.Location())
	return nil
}

func (s *zoneKeepingSF) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	f, err := s.sfStore.GetSecondFactor(ctx, userID)
	if l, ok := s.loc.get(userID); ok && err == nil && !f.TOTPEnabledAt.IsZero() {
		f.TOTPEnabledAt = f.TOTPEnabledAt.In(l)
	}
	return f, err
}

// epochZeroSF stores enabledAt as Unix milliseconds in a NOT NULL
// column: a zero time comes back as 1970-01-01.
type epochZeroSF struct{ sfStore }

func (s epochZeroSF) SetTOTP(ctx context.Context, userID string, secret []byte, step int64, at time.Time) error {
	ms := int64(0)
	if !at.IsZero() {
		ms = at.UnixMilli()
	}
	return s.sfStore.SetTOTP(ctx, userID, secret, step, time.UnixMilli(ms).UTC())
}

// acceptThenCheckCtxSF accepts the step and only then looks at ctx.
type acceptThenCheckCtxSF struct{ sfStore }

func (s acceptThenCheckCtxSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := s.sfStore.AcceptTOTPStep(context.Background(), userID, step); err != nil {
		return err
	}
	return ctx.Err()
}

// aliasedCodesSF returns the very code slice it keeps.
type aliasedCodesSF struct {
	sfStore
	codes memo[string, []string]
}

func (s *aliasedCodesSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := s.sfStore.SetRecoveryCodes(ctx, userID, hashes); err != nil {
		return err
	}
	s.codes.put(userID, slices.Clone(hashes))
	return nil
}

func (s *aliasedCodesSF) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	f, err := s.sfStore.GetSecondFactor(ctx, userID)
	if c, ok := s.codes.get(userID); ok && err == nil {
		f.RecoveryCodes = c
	}
	return f, err
}

func (s *aliasedCodesSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := s.sfStore.UseRecoveryCode(ctx, userID, hash); err != nil {
		return err
	}
	s.codes.update(userID, func(c []string) []string { return slices.DeleteFunc(c, func(c string) bool { return c == hash }) })
	return nil
}

func (s *aliasedCodesSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	if err := s.sfStore.DeleteSecondFactor(ctx, userID); err != nil {
		return err
	}
	s.codes.drop(userID)
	return nil
}

// setIgnoresCtxSF overwrites the secret without looking at ctx.
type setIgnoresCtxSF struct{ sfStore }

func (s setIgnoresCtxSF) SetTOTP(_ context.Context, userID string, secret []byte, step int64, at time.Time) error {
	return s.sfStore.SetTOTP(context.Background(), userID, secret, step, at)
}

// emptyUserDeletesSF treats an empty user ID as "every user" in
// DeleteSecondFactor (a WHERE clause dropped for an empty argument).
type emptyUserDeletesSF struct{ sfStore }

func (s emptyUserDeletesSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	if userID == "" {
		return nil
	}
	return s.sfStore.DeleteSecondFactor(ctx, userID)
}

func TestSecondFactorSuiteCatchesMoreBrokenStores(t *testing.T) {
	fold := func() sfStore {
		return &matchingSF{sfStore: newSF(), match: strings.EqualFold}
	}
	sf := secondFactorsWith
	wantCaught(t, []mutant{
		{"TOTP step read then written, no pause", sf(func() sfStore { return racyStepSF{sfStore: newSF()} }),
			[][2]string{{"/AcceptTOTPStepConcurrent", "want exactly 1 success"}}},
		{"recovery code read then rewritten, no pause", sf(func() sfStore { return racyCodeSF{sfStore: newSF()} }),
			[][2]string{{"/UseRecoveryCodeConcurrent", "want exactly 1 success"}, {"/UseDifferentRecoveryCodesConcurrent", "none lost, none restored"}}},
		{"uses locked against each other only", sf(func() sfStore { return racyCodeSF{sfStore: newSF(), lock: new(sync.Mutex)} }),
			[][2]string{{"/SetRecoveryCodesRacingUse", "no old code comes back"}}},
		{"accepts locked against each other only", sf(func() sfStore { return racyStepSF{sfStore: newSF(), lock: new(sync.Mutex)} }),
			[][2]string{{"/SetTOTPRacingAcceptTOTPStep", "AcceptTOTPStep changes only the step"}}},
		{"step equal to the last accepted", sf(func() sfStore { return &equalStepSF{sfStore: newSF()} }),
			[][2]string{{"/AcceptTOTPStep:", "a replayed step is ErrReplayed"}}},
		{"recovery code matched case-insensitively", sf(fold),
			[][2]string{{"/RecoveryCodeMatchIsExact", "case, spaces and length count"}}},
		{"recovery code matched after trimming", sf(func() sfStore {
			return &matchingSF{sfStore: newSF(), match: func(a, b string) bool { return a == strings.TrimSpace(b) }}
		}), [][2]string{{"/RecoveryCodeMatchIsExact", "case, spaces and length count"}}},
		{"recovery code matched by prefix", sf(func() sfStore {
			return &matchingSF{sfStore: newSF(), match: func(a, b string) bool { return strings.HasPrefix(a, strings.TrimSuffix(b, "%")) }}
		}), [][2]string{{"/RecoveryCodeMatchIsExact", "case, spaces and length count"}}},
		{"codes keyed by user ID and hash run together", sf(func() sfStore { return &concatCodesSF{sfStore: newSF(), codes: map[string]bool{}} }),
			[][2]string{{"/UserIDsPrefixesOfEachOther", "user ID and hash are not run together"}}},
		{"delete by user ID prefix", sf(func() sfStore { return &prefixDeleteSF{sfStore: newSF()} }),
			[][2]string{{"/UserIDsPrefixesOfEachOther", "removes that user's data only"}}},
		{"enabled time kept in the caller's zone", sf(func() sfStore { return &zoneKeepingSF{sfStore: newSF()} }),
			[][2]string{{"/EnabledAtUTC", "returned in time.UTC"}}},
		{"zero enabled time stored as the Unix epoch", sf(func() sfStore { return epochZeroSF{newSF()} }),
			[][2]string{{"/EnabledAtUTC", "a zero time stays zero"}}},
		{"step accepted before the context is checked", sf(func() sfStore { return acceptThenCheckCtxSF{newSF()} }),
			[][2]string{{"/ContextCancelled", "a cancelled call changes nothing"}}},
		{"SetTOTP ignores ctx", sf(func() sfStore { return setIgnoresCtxSF{newSF()} }),
			[][2]string{{"/ContextCancelled", "SetTOTP with a cancelled context"}}},
		{"empty user ID accepted by DeleteSecondFactor", sf(func() sfStore { return emptyUserDeletesSF{newSF()} }),
			[][2]string{{"/EmptyValuesRefused", "DeleteSecondFactor with an empty user ID"}}},
		{"recovery codes returned aliased", sf(func() sfStore { return &aliasedCodesSF{sfStore: newSF()} }),
			[][2]string{{"/ReturnedValuesIsolated", "GetSecondFactor returns a copy"}}},
	})
}

// TestSecondFactorRaceMutantsCaughtEveryTime runs each second-factor race
// case 10 times against a store whose race window has no pause in it, and
// requires the case to fail every time.
func TestSecondFactorRaceMutantsCaughtEveryTime(t *testing.T) {
	sf := secondFactorsWith
	wantRacesCaught(t, []raceMutant{
		{"AcceptTOTPStep read then written", "AcceptTOTPStepConcurrent", "want exactly 1 success", sf(func() sfStore { return racyStepSF{sfStore: newSF()} })},
		{"UseRecoveryCode read then rewritten", "UseRecoveryCodeConcurrent", "want exactly 1 success", sf(func() sfStore { return racyCodeSF{sfStore: newSF()} })},
		{"UseRecoveryCode read then rewritten, different codes", "UseDifferentRecoveryCodesConcurrent", "none lost, none restored", sf(func() sfStore { return racyCodeSF{sfStore: newSF()} })},
		{"uses locked against each other only", "SetRecoveryCodesRacingUse", "no old code comes back", sf(func() sfStore { return racyCodeSF{sfStore: newSF(), lock: new(sync.Mutex)} })},
		{"accepts locked against each other only", "SetTOTPRacingAcceptTOTPStep", "AcceptTOTPStep changes only the step", sf(func() sfStore { return racyStepSF{sfStore: newSF(), lock: new(sync.Mutex)} })},
	})
}
