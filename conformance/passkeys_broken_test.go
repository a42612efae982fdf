package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Passkey stores broken in one way each, for
// TestPasskeySuiteCatchesBrokenStores.

type pkStore = loginkit.PasskeyStore

func newPK() pkStore { return memstore.NewPasskeys() }

// overwritingPK lets a new passkey replace one with the same credential
// ID: someone registering another user's credential ID takes it over.
type overwritingPK struct{ pkStore }

func (s overwritingPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	if old, err := s.GetPasskey(ctx, p.CredentialID); err == nil {
		_ = s.DeletePasskey(ctx, old.UserID, old.CredentialID)
	}
	return s.pkStore.CreatePasskey(ctx, p)
}

// racyCreatePK checks for the ID, then writes without checking again.
type racyCreatePK struct{ pkStore }

func (s racyCreatePK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	if _, err := s.GetPasskey(ctx, p.CredentialID); err == nil {
		return loginkit.ErrDuplicate
	}
	time.Sleep(time.Millisecond)
	err := s.pkStore.CreatePasskey(ctx, p)
	if errors.Is(err, loginkit.ErrDuplicate) {
		return nil // the write "succeeded": a second row with the same ID
	}
	return err
}

// foldedIDPK compares credential IDs without their last byte's case bit,
// as a case-insensitive text column would.
type foldedIDPK struct{ pkStore }

func fold(id []byte) []byte {
	c := append([]byte(nil), id...)
	c[0] |= 0x20
	return c
}

func (s foldedIDPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	c := p.Clone()
	c.CredentialID = fold(c.CredentialID)
	return s.pkStore.CreatePasskey(ctx, c)
}

func (s foldedIDPK) GetPasskey(ctx context.Context, id []byte) (*loginkit.Passkey, error) {
	p, err := s.pkStore.GetPasskey(ctx, fold(id))
	if err == nil {
		p.CredentialID = id
	}
	return p, err
}

// aliasingPK keeps the passkey it is given and returns it.
type aliasingPK struct {
	pkStore
	kept memo[string, *loginkit.Passkey]
}

func (s *aliasingPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	if err := s.pkStore.CreatePasskey(ctx, p); err != nil {
		return err
	}
	s.kept.put(string(p.CredentialID), p)
	return nil
}

func (s *aliasingPK) GetPasskey(ctx context.Context, id []byte) (*loginkit.Passkey, error) {
	p, err := s.pkStore.GetPasskey(ctx, id)
	if k, ok := s.kept.get(string(id)); ok && err == nil {
		return k, nil
	}
	return p, err
}

// leakyListPK lists the passkeys of every user it has seen.
type leakyListPK struct {
	pkStore
	users memo[string, bool]
}

func (s *leakyListPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	s.users.put(p.UserID, true)
	return s.pkStore.CreatePasskey(ctx, p)
}

func (s *leakyListPK) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	var out []*loginkit.Passkey
	for u := range s.users.snapshot() {
		l, err := s.pkStore.ListPasskeys(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	return out, nil
}

// unorderedListPK lists newest first.
type unorderedListPK struct{ pkStore }

func (s unorderedListPK) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	l, err := s.pkStore.ListPasskeys(ctx, userID)
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
	return l, err
}

// anyOwnerPK renames and deletes a passkey whoever's it is.
type anyOwnerPK struct{ pkStore }

func (s anyOwnerPK) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	if p, err := s.GetPasskey(ctx, id); err == nil {
		userID = p.UserID
	}
	return s.pkStore.RenamePasskey(ctx, userID, id, name)
}

func (s anyOwnerPK) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	if p, err := s.GetPasskey(ctx, id); err == nil {
		userID = p.UserID
	}
	return s.pkStore.DeletePasskey(ctx, userID, id)
}

// racyCountPK checks the old count, pauses, then writes whatever the count
// is by then: two concurrent sign-ins with one assertion both succeed.
type racyCountPK struct{ pkStore }

func (s racyCountPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, backedUp bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	if p.SignCount != old {
		return loginkit.ErrReplayed
	}
	time.Sleep(time.Millisecond)
	p, err = s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	return s.pkStore.UpdateSignCount(ctx, id, p.SignCount, count, backedUp, at)
}

// noCASPK ignores the old count.
type noCASPK struct{ pkStore }

func (s noCASPK) UpdateSignCount(ctx context.Context, id []byte, _, count uint32, backedUp bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	return s.pkStore.UpdateSignCount(ctx, id, p.SignCount, count, backedUp, at)
}

// partialDeleteUserPK deletes only the user's oldest passkey.
type partialDeleteUserPK struct{ pkStore }

func (s partialDeleteUserPK) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	l, err := s.ListPasskeys(ctx, userID)
	if err != nil || len(l) == 0 {
		return 0, err
	}
	return len(l), s.DeletePasskey(ctx, userID, l[0].CredentialID)
}

// contextFreePK ignores the caller's context when updating the count.
type contextFreePK struct{ pkStore }

func (s contextFreePK) UpdateSignCount(_ context.Context, id []byte, old, count uint32, backedUp bool, at time.Time) error {
	return s.pkStore.UpdateSignCount(context.Background(), id, old, count, backedUp, at)
}

// secondsPK keeps times only to the second.
type secondsPK struct{ pkStore }

func (s secondsPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	c := p.Clone()
	c.CreatedAt = c.CreatedAt.Truncate(time.Second)
	return s.pkStore.CreatePasskey(ctx, c)
}

// droppedFlagsPK forgets the transports and the backup flags.
type droppedFlagsPK struct{ pkStore }

func (s droppedFlagsPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	c := p.Clone()
	c.Transports, c.BackupEligible, c.BackedUp = nil, false, false
	return s.pkStore.CreatePasskey(ctx, c)
}

// unsupportedRenamePK declares renaming unsupported.
type unsupportedRenamePK struct{ pkStore }

func (unsupportedRenamePK) RenamePasskey(context.Context, string, []byte, string) error {
	return errors.ErrUnsupported
}

func TestPasskeySuiteCatchesBrokenStores(t *testing.T) {
	pk := passkeysWith
	wantCaught(t, []mutant{
		{"duplicate ID takes over", pk(func() pkStore { return overwritingPK{newPK()} }),
			[][2]string{{"/DuplicateIDRefused", "want ErrDuplicate"}}},
		{"ID checked then written", pk(func() pkStore { return racyCreatePK{newPK()} }),
			[][2]string{{"/DuplicateIDRefused", "want exactly 1 success"}}},
		{"IDs compared folded", pk(func() pkStore { return foldedIDPK{newPK()} }),
			[][2]string{{"/IDsExact", "compared byte for byte"}}},
		{"passkey aliased", pk(func() pkStore { return &aliasingPK{pkStore: newPK()} }),
			[][2]string{{"/ReturnedValuesIsolated", "CreatePasskey stores a copy"}}},
		{"list leaks other users", pk(func() pkStore { return &leakyListPK{pkStore: newPK()} }),
			[][2]string{{"/ListPerUser", "only theirs"}}},
		{"list newest first", pk(func() pkStore { return unorderedListPK{newPK()} }),
			[][2]string{{"/ListPerUser", "oldest first"}}},
		{"rename and delete of another user's passkey", pk(func() pkStore { return anyOwnerPK{newPK()} }),
			[][2]string{{"/Rename", "own passkey only"}, {"/Delete", "own passkey only"}}},
		{"sign count checked then written", pk(func() pkStore { return racyCountPK{newPK()} }),
			[][2]string{{"/SignCountConcurrent", "want exactly 1 success"}}},
		{"sign count without compare", pk(func() pkStore { return noCASPK{newPK()} }),
			[][2]string{{"/SignCount:", "a stale old count is ErrReplayed"}, {"/SignCountConcurrent", "want exactly 1 success"}}},
		{"delete user leaves passkeys", pk(func() pkStore { return partialDeleteUserPK{newPK()} }),
			[][2]string{{"/DeleteUser", "removes every passkey of the user"}}},
		{"context ignored", pk(func() pkStore { return contextFreePK{newPK()} }),
			[][2]string{{"/ContextCancelled", "UpdateSignCount with a cancelled context"}}},
		{"times truncated to seconds", pk(func() pkStore { return secondsPK{newPK()} }),
			[][2]string{{"/RoundTrip", "CreatedAt"}}},
		{"flags dropped", pk(func() pkStore { return droppedFlagsPK{newPK()} }),
			[][2]string{{"/RoundTrip", "Transports"}, {"/RoundTrip", "BackupEligible"}}},
		{"rename declared unsupported", pk(func() pkStore { return unsupportedRenamePK{newPK()} }),
			[][2]string{{"/Rename:", "PasskeyStore.RenamePasskey may not answer"}}},
	})
}

// TestPasskeySuitePassesMemstore checks that the suite, run through the
// recorder, passes memstore with no failure and no skip.
func TestPasskeySuitePassesMemstore(t *testing.T) {
	wantPasses(t, passkeysWith(newPK), 13)
}
