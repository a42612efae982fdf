package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// Broken stores of the third generation whose bug is a write of a whole
// record read earlier, racing another method's write of part of it.

// wholeRecordSetTOTP replaces the TOTP secret by writing back the whole
// record it read first, recovery codes included: a code used in between
// comes back.
type wholeRecordSetTOTP struct{ sfStore }

func (s wholeRecordSetTOTP) SetTOTP(ctx context.Context, userID string, secret []byte, last int64, at time.Time) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err := s.sfStore.SetTOTP(ctx, userID, secret, last, at); err != nil {
		return err
	}
	if err == nil && len(f.RecoveryCodes) > 0 {
		return s.sfStore.SetRecoveryCodes(ctx, userID, f.RecoveryCodes)
	}
	return nil
}

// wholeRecordSetCodes replaces the recovery codes by writing back the
// whole record it read first, TOTP step included: a step accepted in
// between is forgotten, and its code can be replayed.
type wholeRecordSetCodes struct{ sfStore }

func (s wholeRecordSetCodes) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err := s.sfStore.SetRecoveryCodes(ctx, userID, hashes); err != nil {
		return err
	}
	if err == nil && len(f.TOTPSecret) > 0 {
		return s.sfStore.SetTOTP(ctx, userID, f.TOTPSecret, f.TOTPLastStep, f.TOTPEnabledAt)
	}
	return nil
}

// wholeRecordRenamePK renames a passkey by writing back the whole record
// it read first: a sign count moved in between goes back.
type wholeRecordRenamePK struct{ pkStore }

func (s wholeRecordRenamePK) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	if err := s.pkStore.RenamePasskey(ctx, userID, id, name); err != nil {
		return err
	}
	cur, err := s.GetPasskey(ctx, id)
	if err != nil || cur.SignCount == p.SignCount {
		return nil
	}
	return s.pkStore.UpdateSignCount(ctx, id, cur.SignCount, p.SignCount, p.BackedUp, p.LastUsedAt)
}

// upsertSignCountPK writes the new count with an upsert of the record it
// read first: a passkey deleted in between comes back.
type upsertSignCountPK struct{ pkStore }

func (s upsertSignCountPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, b bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	err = s.pkStore.UpdateSignCount(ctx, id, old, count, b, at)
	if errors.Is(err, loginkit.ErrNotFound) && p.SignCount == old {
		p.SignCount, p.BackedUp, p.LastUsedAt = count, b, at
		return s.pkStore.CreatePasskey(ctx, p)
	}
	return err
}

// upsertingUpdateUser stores UpdateUser's result with an upsert: a user
// deleted while the change ran comes back.
type upsertingUpdateUser struct{ memberUpdater }

func (s upsertingUpdateUser) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	u, err := s.LoadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := change(u); err != nil {
		return nil, err
	}
	if err := s.Update(ctx, u); errors.Is(err, loginkit.ErrNotFound) {
		return u, s.Create(ctx, u)
	} else if err != nil {
		return nil, err
	}
	return u, nil
}

// foldedIDUsers matches user IDs without regard to case (a
// case-insensitive collation on the ID column).
type foldedIDUsers struct{ memberUpdater }

func (s foldedIDUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	u, err := s.memberUpdater.LoadUser(ctx, id)
	if errors.Is(err, loginkit.ErrNotFound) && id != strings.ToLower(id) {
		return s.memberUpdater.LoadUser(ctx, strings.ToLower(id))
	}
	return u, err
}

func fifthMutants() []mutant {
	return []mutant{
		{"SetTOTP writing back the whole record", secondFactorsWith(func() sfStore { return wholeRecordSetTOTP{newSF()} }),
			[][2]string{{"/SetTOTPRacingUseRecoveryCode:", "a used code never comes back"}}},
		{"SetRecoveryCodes writing back the whole record", secondFactorsWith(func() sfStore { return wholeRecordSetCodes{newSF()} }),
			[][2]string{{"/SetRecoveryCodesRacingAcceptTOTPStep:", "an accepted step is never forgotten"}}},
		{"RenamePasskey writing back the whole record", passkeysWith(func() pkStore { return wholeRecordRenamePK{newPK()} }),
			[][2]string{{"/RenameRacingSignCount:", "the sign count never goes back"}}},
		{"UpdateSignCount upserting", passkeysWith(func() pkStore { return upsertSignCountPK{newPK()} }),
			[][2]string{{"/SignCountRacingDelete:", "a passkey deleted while it signs in stays deleted"}}},
		{"UpdateUser upserting its result", usersWith(func() memberStore { return upsertingUpdateUser{newUpdatable()} }),
			[][2]string{{"/UpdateUserAtomic:", "applied atomically, none lost"}}},
		{"user IDs folded", usersWith(func() memberStore { return foldedIDUsers{newUpdatable()} }),
			[][2]string{{"/LoadUserMissing:", "user IDs are exact and case-sensitive"}}},
	}
}

// TestSuitesCatchWholeRecordWrites runs the suites against the stores
// above: each must fail in the case that names its bug.
func TestSuitesCatchWholeRecordWrites(t *testing.T) { wantCaught(t, fifthMutants()) }

// TestSecondFactorWholeRecordRacesCaughtEveryTime runs each of the new
// second-factor race cases 10 times against a store that writes back a
// whole record it read, with no pause in between, and requires a failure
// every time.
func TestSecondFactorWholeRecordRacesCaughtEveryTime(t *testing.T) {
	wantRacesCaught(t, []raceMutant{
		{"SetTOTP writing back the whole record", "SetTOTPRacingUseRecoveryCode", "a used code never comes back",
			secondFactorsWith(func() sfStore { return wholeRecordSetTOTP{newSF()} })},
		{"SetRecoveryCodes writing back the whole record", "SetRecoveryCodesRacingAcceptTOTPStep", "an accepted step is never forgotten",
			secondFactorsWith(func() sfStore { return wholeRecordSetCodes{newSF()} })},
	})
}

// TestPasskeyWholeRecordRacesCaughtEveryTime does the same for the
// passkey race cases.
func TestPasskeyWholeRecordRacesCaughtEveryTime(t *testing.T) {
	wantRacesCaught(t, []raceMutant{
		{"RenamePasskey writing back the whole record", "RenameRacingSignCount", "the sign count never goes back",
			passkeysWith(func() pkStore { return wholeRecordRenamePK{newPK()} })},
		{"UpdateSignCount upserting", "SignCountRacingDelete", "a passkey deleted while it signs in stays deleted",
			passkeysWith(func() pkStore { return upsertSignCountPK{newPK()} })},
	})
}
