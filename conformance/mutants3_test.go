package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/ratelimit"
)

// The stores in this file are a third generation of deliberately broken
// stores: each has one bug a careful author could still make, different
// from those of broken_test.go and mutants_test.go, and
// TestSuitesCatchThirdMutants checks that the suites fail each one in the
// case whose message names the broken clause.

// ---- users ----

// pageTotalUsers reports as List's total the number of users on the page.
type pageTotalUsers struct{ memberUpdater }

func (s pageTotalUsers) List(ctx context.Context, o loginkit.ListOptions) ([]*Member, int, error) {
	us, _, err := s.memberUpdater.List(ctx, o)
	return us, len(us), err
}

// offsetFromOneUsers treats Offset as a 1-based position (OFFSET ?-1).
type offsetFromOneUsers struct{ memberUpdater }

func (s offsetFromOneUsers) List(ctx context.Context, o loginkit.ListOptions) ([]*Member, int, error) {
	if o.Offset > 0 {
		o.Offset--
	}
	return s.memberUpdater.List(ctx, o)
}

// softDeleteUsers marks a user deleted and keeps its login names taken
// (a unique index over rows that are only flagged deleted).
type softDeleteUsers struct {
	memberUpdater
	gone *memo[string, bool] // normalised login names of deleted users
}

func newSoftDeleteUsers() softDeleteUsers {
	return softDeleteUsers{newUpdatable(), new(memo[string, bool])}
}

func (s softDeleteUsers) taken(u *Member) bool {
	for _, n := range []string{u.Email, u.Username} {
		if k := loginkit.NormalizeLogin(n); k != "" {
			if _, ok := s.gone.get(k); ok {
				return true
			}
		}
	}
	return false
}

func (s softDeleteUsers) Delete(ctx context.Context, id string) error {
	if u, err := s.LoadUser(ctx, id); err == nil {
		for _, n := range []string{u.Email, u.Username} {
			if k := loginkit.NormalizeLogin(n); k != "" {
				s.gone.put(k, true)
			}
		}
	}
	return s.memberUpdater.Delete(ctx, id)
}

func (s softDeleteUsers) Create(ctx context.Context, u *Member) error {
	if s.taken(u) {
		return fmt.Errorf("unique index: %w", loginkit.ErrDuplicate)
	}
	return s.memberUpdater.Create(ctx, u)
}

func (s softDeleteUsers) Update(ctx context.Context, u *Member) error {
	if s.taken(u) {
		return fmt.Errorf("unique index: %w", loginkit.ErrDuplicate)
	}
	return s.memberUpdater.Update(ctx, u)
}

// idNotWrittenBackUsers creates a copy of the user, so the ID it assigns
// never reaches the caller's value.
type idNotWrittenBackUsers struct{ memberUpdater }

func (s idNotWrittenBackUsers) Create(ctx context.Context, u *Member) error {
	c := *u
	return s.memberUpdater.Create(ctx, &c)
}

// textNotFoundUsers reports a failed FindByLogin with an error of its
// own, that does not match ErrNotFound.
type textNotFoundUsers struct{ memberUpdater }

func (s textNotFoundUsers) FindByLogin(ctx context.Context, login string) (*Member, error) {
	u, err := s.memberUpdater.FindByLogin(ctx, login)
	if errors.Is(err, loginkit.ErrNotFound) {
		return nil, fmt.Errorf("find by login %q: %v", login, err)
	}
	return u, err
}

// updateMissingTextUsers answers an Update of a missing user with an
// error that does not match ErrNotFound ("0 rows affected").
type updateMissingTextUsers struct{ memberUpdater }

func (s updateMissingTextUsers) Update(ctx context.Context, u *Member) error {
	err := s.memberUpdater.Update(ctx, u)
	if errors.Is(err, loginkit.ErrNotFound) {
		return errors.New("update: 0 rows affected")
	}
	return err
}

// preChangeResultUsers returns from UpdateUser the user as loaded, before
// the change.
type preChangeResultUsers struct{ memberUpdater }

func (s preChangeResultUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	var before *Member
	_, err := s.memberUpdater.UpdateUser(ctx, id, func(m *Member) error {
		c := *m
		before = &c
		return change(m)
	})
	if err != nil {
		return nil, err
	}
	return before, nil
}

// wrappedChangeErrorUsers reports change's error as text, so that the
// caller can no longer match it.
type wrappedChangeErrorUsers struct{ memberUpdater }

func (s wrappedChangeErrorUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	var changeErr error
	u, err := s.memberUpdater.UpdateUser(ctx, id, func(m *Member) error {
		changeErr = change(m)
		return changeErr
	})
	if err != nil && changeErr != nil && errors.Is(err, changeErr) {
		return nil, fmt.Errorf("update user %s: %v", id, err)
	}
	return u, err
}

// confirmedNotUpdatedUsers forgot the email-confirmation columns in its
// UPDATE statement (they were added to the INSERT only).
type confirmedNotUpdatedUsers struct{ memberUpdater }

func (s confirmedNotUpdatedUsers) Update(ctx context.Context, u *Member) error {
	old, err := s.LoadUser(ctx, u.ID)
	if err == nil {
		c := *u
		c.ConfirmedEmail, c.EmailConfirmedAt = old.ConfirmedEmail, old.EmailConfirmedAt
		u = &c
	}
	return s.memberUpdater.Update(ctx, u)
}

// shortHashUsers keeps PasswordHash in a VARCHAR(60), made for bcrypt.
type shortHashUsers struct{ memberUpdater }

func cut60(u *Member) *Member {
	if len(u.PasswordHash) > 60 {
		c := *u
		c.PasswordHash = c.PasswordHash[:60]
		return &c
	}
	return u
}

func (s shortHashUsers) Create(ctx context.Context, u *Member) error {
	c := cut60(u)
	err := s.memberUpdater.Create(ctx, c)
	u.ID = c.ID
	return err
}

func (s shortHashUsers) Update(ctx context.Context, u *Member) error {
	return s.memberUpdater.Update(ctx, cut60(u))
}

// upsertingUpdater's UpdateUser calls change on a new user when there is
// none, and creates it.
type upsertingUpdater struct{ memberUpdater }

func (s upsertingUpdater) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	u, err := s.memberUpdater.UpdateUser(ctx, id, change)
	if !errors.Is(err, loginkit.ErrNotFound) {
		return u, err
	}
	n := &Member{}
	n.ID = id
	if err := change(n); err != nil {
		return nil, err
	}
	return n, s.Create(ctx, n)
}

// listIgnoresContextUsers checks the context in every method but List.
type listIgnoresContextUsers struct{ memberUpdater }

func (s listIgnoresContextUsers) List(_ context.Context, o loginkit.ListOptions) ([]*Member, int, error) {
	return s.memberUpdater.List(context.Background(), o)
}

// ---- sessions ----

// prefixListSessions lists a user's sessions with LIKE 'user%'.
type prefixListSessions struct{ *trackedSessions }

func (s prefixListSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	var out []*loginkit.Session
	for k := range s.snapshot() {
		x, err := s.Get(ctx, k)
		if err == nil && x.UserID != "" && strings.HasPrefix(x.UserID, userID) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *loginkit.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, ctx.Err()
}

// foldedExceptSessions compares exceptKey case-insensitively (a
// case-insensitive collation on the key column).
type foldedExceptSessions struct{ *memstore.Sessions }

func (s foldedExceptSessions) DeleteByUser(ctx context.Context, userID, except string) (int, error) {
	list, err := s.ListByUser(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range list {
		if except != "" && strings.EqualFold(x.Key, except) {
			continue
		}
		if err := s.Delete(ctx, x.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// twoColumnToucher's Touch updates LastSeenAt and ExpiresAt only (an
// UPDATE of two columns), not the rest of the session.
type twoColumnToucher struct{ *memstore.Sessions }

func (s twoColumnToucher) Touch(ctx context.Context, x *loginkit.Session) error {
	old, err := s.Get(ctx, x.Key)
	if err != nil {
		return err
	}
	old.LastSeenAt, old.ExpiresAt = x.LastSeenAt, x.ExpiresAt
	return s.Sessions.Touch(ctx, old)
}

// expiredToucher's Touch checks that the key exists, not that the
// session is live (the row is still there until the sweep).
type expiredToucher struct {
	*memstore.Sessions
	rows *memo[string, string] // key -> user ID of the rows kept
}

func newExpiredToucher() expiredToucher {
	return expiredToucher{memstore.NewSessions(), new(memo[string, string])}
}

func (s expiredToucher) Save(ctx context.Context, x *loginkit.Session) error {
	err := s.Sessions.Save(ctx, x)
	if err == nil {
		s.rows.put(x.Key, x.UserID)
	}
	return err
}

func (s expiredToucher) Delete(ctx context.Context, key string) error {
	err := s.Sessions.Delete(ctx, key)
	if err == nil {
		s.rows.drop(key)
	}
	return err
}

func (s expiredToucher) DeleteByUser(ctx context.Context, userID, except string) (int, error) {
	n, err := s.Sessions.DeleteByUser(ctx, userID, except)
	if err == nil {
		for k, u := range s.rows.snapshot() {
			if u == userID && k != except {
				s.rows.drop(k)
			}
		}
	}
	return n, err
}

func (s expiredToucher) Touch(ctx context.Context, x *loginkit.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.rows.get(x.Key); !ok {
		return loginkit.ErrNotFound
	}
	return s.Save(ctx, x)
}

// emptyValueDroppingSessions drops Values entries whose value is empty
// (a hash field set to "" taken for a deletion).
type emptyValueDroppingSessions struct{ *memstore.Sessions }

func (s emptyValueDroppingSessions) Save(ctx context.Context, x *loginkit.Session) error {
	c := x.Clone()
	for k, v := range c.Values {
		if v == "" {
			delete(c.Values, k)
		}
	}
	return s.Sessions.Save(ctx, c)
}

// mergingValuesSessions replaces a session's fields on Save but merges
// its Values into the stored ones (HSET without DEL).
type mergingValuesSessions struct{ *memstore.Sessions }

func (s mergingValuesSessions) Save(ctx context.Context, x *loginkit.Session) error {
	c := x.Clone()
	if old, err := s.Get(ctx, x.Key); err == nil && len(old.Values) > 0 {
		if c.Values == nil {
			c.Values = map[string]string{}
		}
		for k, v := range old.Values {
			if _, ok := c.Values[k]; !ok {
				c.Values[k] = v
			}
		}
	}
	return s.Sessions.Save(ctx, c)
}

// exceptCountedSessions reports, from DeleteByUser, every session of the
// user it found, the one it kept included.
type exceptCountedSessions struct{ *memstore.Sessions }

func (s exceptCountedSessions) DeleteByUser(ctx context.Context, userID, except string) (int, error) {
	list, err := s.ListByUser(ctx, userID)
	if err != nil {
		return 0, err
	}
	if _, err := s.Sessions.DeleteByUser(ctx, userID, except); err != nil {
		return 0, err
	}
	return len(list), nil
}

// noneListedSessions answers ListByUser for a user without sessions with
// ErrNotFound.
type noneListedSessions struct{ *memstore.Sessions }

func (s noneListedSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	l, err := s.Sessions.ListByUser(ctx, userID)
	if err == nil && len(l) == 0 {
		return nil, fmt.Errorf("sessions of %q: %w", userID, loginkit.ErrNotFound)
	}
	return l, err
}

// secondExpirySessions decides expiry by whole seconds, as a store that
// sets EXPIREAT (seconds) instead of PEXPIREAT would: a session expires
// at the start of the second its ExpiresAt falls in.
type secondExpirySessions struct {
	*memstore.Sessions
	now func() time.Time
}

func (s secondExpirySessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	x, err := s.Sessions.Get(ctx, key)
	if err == nil && !x.ExpiresAt.Truncate(time.Second).After(s.now()) {
		return nil, loginkit.ErrNotFound
	}
	return x, err
}

// ---- tokens ----

func cloneTok(t *loginkit.Token) *loginkit.Token { c := *t; return &c }

// expiredConsumeTokens consumes atomically, but hands out an expired
// token too (DELETE ... RETURNING without an expiry condition).
type expiredConsumeTokens struct {
	*memstore.Tokens
	all *memo[string, *loginkit.Token]
}

func newExpiredConsumeTokens() expiredConsumeTokens {
	return expiredConsumeTokens{memstore.NewTokens(), new(memo[string, *loginkit.Token])}
}

func (s expiredConsumeTokens) Create(ctx context.Context, t *loginkit.Token) error {
	err := s.Tokens.Create(ctx, t)
	if err == nil {
		s.all.put(t.Selector, cloneTok(t))
	}
	return err
}

func (s expiredConsumeTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Consume(ctx, sel)
	if errors.Is(err, loginkit.ErrNotFound) {
		s.all.mu.Lock()
		old, ok := s.all.m[sel]
		delete(s.all.m, sel)
		s.all.mu.Unlock()
		if ok && !old.ExpiresAt.After(time.Now()) {
			_ = s.Tokens.Delete(ctx, sel)
			return cloneTok(old), nil
		}
	}
	if err == nil {
		s.all.drop(sel)
	}
	return t, err
}

func (s expiredConsumeTokens) Delete(ctx context.Context, sel string) error {
	s.all.drop(sel)
	return s.Tokens.Delete(ctx, sel)
}

// literalPurposeTokens takes an empty purpose literally in ListByUser:
// only tokens without a purpose are listed.
type literalPurposeTokens struct{ *memstore.Tokens }

func (s literalPurposeTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	l, err := s.Tokens.ListByUser(ctx, userID, purpose)
	if purpose == "" {
		l = slices.DeleteFunc(l, func(t *loginkit.Token) bool { return t.Purpose != "" })
	}
	return l, err
}

// literalPurposeDeleteTokens takes an empty purpose literally in
// DeleteByUser.
type literalPurposeDeleteTokens struct{ *memstore.Tokens }

func (s literalPurposeDeleteTokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	if purpose == "" {
		l, err := s.Tokens.ListByUser(ctx, userID, "")
		if err != nil {
			return 0, err
		}
		n := 0
		for _, t := range l {
			if t.Purpose == "" {
				_ = s.Tokens.Delete(ctx, t.Selector)
				n++
			}
		}
		return n, nil
	}
	return s.Tokens.DeleteByUser(ctx, userID, purpose)
}

// perPurposeSelectorTokens keeps selectors unique per purpose only (a
// unique index over (purpose, selector)): a second token with a
// selector already stored under another purpose is accepted and hides
// the first.
type perPurposeSelectorTokens struct{ *memstore.Tokens }

func (s perPurposeSelectorTokens) Create(ctx context.Context, t *loginkit.Token) error {
	old, err := s.Get(ctx, t.Selector)
	if err == nil && old.Purpose != t.Purpose {
		if err := s.Tokens.Delete(ctx, t.Selector); err != nil {
			return err
		}
	}
	return s.Tokens.Create(ctx, t)
}

// consumeKeepsIndexTokens removes a consumed token from its record but
// not from the user index, so ListByUser and DeleteByUser still see it.
type consumeKeepsIndexTokens struct {
	*memstore.Tokens
	ghosts *memo[string, *loginkit.Token]
}

func newConsumeKeepsIndexTokens() consumeKeepsIndexTokens {
	return consumeKeepsIndexTokens{memstore.NewTokens(), new(memo[string, *loginkit.Token])}
}

func (s consumeKeepsIndexTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Consume(ctx, sel)
	if err == nil {
		s.ghosts.put(sel, cloneTok(t))
	}
	return t, err
}

func (s consumeKeepsIndexTokens) Create(ctx context.Context, t *loginkit.Token) error {
	s.ghosts.drop(t.Selector)
	return s.Tokens.Create(ctx, t)
}

func (s consumeKeepsIndexTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	l, err := s.Tokens.ListByUser(ctx, userID, purpose)
	if err != nil {
		return l, err
	}
	for _, g := range s.ghosts.snapshot() {
		if g.UserID == userID && (purpose == "" || g.Purpose == purpose) && g.ExpiresAt.After(time.Now()) {
			l = append(l, cloneTok(g))
		}
	}
	slices.SortFunc(l, func(a, b *loginkit.Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return l, nil
}

func (s consumeKeepsIndexTokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	n, err := s.Tokens.DeleteByUser(ctx, userID, purpose)
	for k, g := range s.ghosts.snapshot() {
		if g.UserID == userID && (purpose == "" || g.Purpose == purpose) {
			s.ghosts.drop(k)
			n++
		}
	}
	return n, err
}

// expiryOrderTokens lists tokens latest ExpiresAt first.
type expiryOrderTokens struct{ *memstore.Tokens }

func (s expiryOrderTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	l, err := s.Tokens.ListByUser(ctx, userID, purpose)
	slices.SortStableFunc(l, func(a, b *loginkit.Token) int { return b.ExpiresAt.Compare(a.ExpiresAt) })
	return l, err
}

// textNotFoundTokens answers Get of a missing token with an error of its
// own.
type textNotFoundTokens struct{ *memstore.Tokens }

func (s textNotFoundTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Get(ctx, sel)
	if errors.Is(err, loginkit.ErrNotFound) {
		return nil, errors.New("token not found")
	}
	return t, err
}

// ---- second factors ----

// emptyRecordSF keeps a record once its last recovery code is used (or
// its codes are cleared) and no TOTP secret is left: GetSecondFactor
// returns an empty record instead of ErrNotFound.
type emptyRecordSF struct {
	sfStore
	seen *memo[string, bool]
}

func newEmptyRecordSF() emptyRecordSF { return emptyRecordSF{newSF(), new(memo[string, bool])} }

func (s emptyRecordSF) SetTOTP(ctx context.Context, userID string, secret []byte, last int64, at time.Time) error {
	err := s.sfStore.SetTOTP(ctx, userID, secret, last, at)
	if err == nil {
		s.seen.put(userID, true)
	}
	return err
}

func (s emptyRecordSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	err := s.sfStore.SetRecoveryCodes(ctx, userID, hashes)
	if err == nil {
		s.seen.put(userID, true)
	}
	return err
}

func (s emptyRecordSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	err := s.sfStore.DeleteSecondFactor(ctx, userID)
	if err == nil {
		s.seen.drop(userID)
	}
	return err
}

func (s emptyRecordSF) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	f, err := s.sfStore.GetSecondFactor(ctx, userID)
	if errors.Is(err, loginkit.ErrNotFound) {
		if _, ok := s.seen.get(userID); ok {
			return &loginkit.SecondFactor{UserID: userID}, nil
		}
	}
	return f, err
}

// stepWithoutSecretSF accepts a TOTP step for a user who has recovery
// codes but no TOTP secret (it checks for a record, not a secret).
type stepWithoutSecretSF struct{ sfStore }

func (s stepWithoutSecretSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err == nil && len(f.TOTPSecret) == 0 {
		return nil
	}
	return s.sfStore.AcceptTOTPStep(ctx, userID, step)
}

// emptyListKeepsCodesSF does nothing when given no recovery codes (a
// loop over the new hashes inside the replacement).
type emptyListKeepsCodesSF struct{ sfStore }

func (s emptyListKeepsCodesSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if len(hashes) == 0 {
		return ctx.Err()
	}
	return s.sfStore.SetRecoveryCodes(ctx, userID, hashes)
}

// lastStepDroppedSF stores a new TOTP secret with step 0, whatever
// lastStep says.
type lastStepDroppedSF struct{ sfStore }

func (s lastStepDroppedSF) SetTOTP(ctx context.Context, userID string, secret []byte, _ int64, at time.Time) error {
	return s.sfStore.SetTOTP(ctx, userID, secret, 0, at)
}

// replayAsNotFoundSF answers a replayed step with ErrNotFound (its
// conditional UPDATE matched no row, and it did not look why).
type replayAsNotFoundSF struct{ sfStore }

func (s replayAsNotFoundSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	err := s.sfStore.AcceptTOTPStep(ctx, userID, step)
	if errors.Is(err, loginkit.ErrReplayed) {
		return fmt.Errorf("no row updated: %w", loginkit.ErrNotFound)
	}
	return err
}

// strictDeleteSF answers a DeleteSecondFactor of missing data with
// ErrNotFound.
type strictDeleteSF struct{ sfStore }

func (s strictDeleteSF) DeleteSecondFactor(ctx context.Context, userID string) error {
	if _, err := s.GetSecondFactor(ctx, userID); errors.Is(err, loginkit.ErrNotFound) {
		return err
	}
	return s.sfStore.DeleteSecondFactor(ctx, userID)
}

// ---- passkeys ----

// unknownAsReplayPK answers UpdateSignCount of an unknown credential
// with ErrReplayed (the conditional UPDATE matched no row).
type unknownAsReplayPK struct{ pkStore }

func (s unknownAsReplayPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, backedUp bool, at time.Time) error {
	err := s.pkStore.UpdateSignCount(ctx, id, old, count, backedUp, at)
	if errors.Is(err, loginkit.ErrNotFound) {
		return fmt.Errorf("0 rows: %w", loginkit.ErrReplayed)
	}
	return err
}

// silentRenamePK ignores that RenamePasskey matched no passkey.
type silentRenamePK struct{ pkStore }

func (s silentRenamePK) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	err := s.pkStore.RenamePasskey(ctx, userID, id, name)
	if errors.Is(err, loginkit.ErrNotFound) {
		return nil
	}
	return err
}

// silentDeletePK ignores that DeletePasskey matched no passkey.
type silentDeletePK struct{ pkStore }

func (s silentDeletePK) DeletePasskey(ctx context.Context, userID string, id []byte) error {
	err := s.pkStore.DeletePasskey(ctx, userID, id)
	if errors.Is(err, loginkit.ErrNotFound) {
		return nil
	}
	return err
}

// uncountedDeleteUserPK removes a user's passkeys and reports 0.
type uncountedDeleteUserPK struct{ pkStore }

func (s uncountedDeleteUserPK) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	_, err := s.pkStore.DeleteUserPasskeys(ctx, userID)
	return 0, err
}

// noneListedPK answers ListPasskeys for a user without passkeys with
// ErrNotFound.
type noneListedPK struct{ pkStore }

func (s noneListedPK) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	l, err := s.pkStore.ListPasskeys(ctx, userID)
	if err == nil && len(l) == 0 {
		return nil, loginkit.ErrNotFound
	}
	return l, err
}

// sortedTransportsPK keeps transports as a set, sorted.
type sortedTransportsPK struct{ pkStore }

func (s sortedTransportsPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	c := p.Clone()
	slices.Sort(c.Transports)
	return s.pkStore.CreatePasskey(ctx, c)
}

// backedUpKeptPK's UpdateSignCount moves the counter and LastUsedAt but
// leaves BackedUp as registered.
type backedUpKeptPK struct{ pkStore }

func (s backedUpKeptPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, _ bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	return s.pkStore.UpdateSignCount(ctx, id, old, count, p.BackedUp, at)
}

// lastUsedKeptPK's UpdateSignCount moves the counter but not LastUsedAt.
type lastUsedKeptPK struct{ pkStore }

func (s lastUsedKeptPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, b bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	return s.pkStore.UpdateSignCount(ctx, id, old, count, b, p.LastUsedAt)
}

// renameThenCheckPK renames by credential ID, and only then checks the
// owner: another user's passkey is renamed, though ErrNotFound is
// returned.
type renameThenCheckPK struct{ pkStore }

func (s renameThenCheckPK) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	if err := s.pkStore.RenamePasskey(ctx, p.UserID, id, name); err != nil {
		return err
	}
	if p.UserID != userID {
		return loginkit.ErrNotFound
	}
	return nil
}

// ---- limiter ----

// closedWindowLimiter counts events in [now-Per, now], the left edge
// included.
type closedWindowLimiter struct{ windowLimiter }

func (l *closedWindowLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
	return l.windowLimiter.Allow(ctx, key, ratelimit.Rate{Count: r.Count, Per: r.Per + time.Nanosecond}, now)
}

// TestSuitesCatchThirdMutants runs the suites against the third
// generation of broken stores: each must fail in the case that names its
// bug.
func TestSuitesCatchThirdMutants(t *testing.T) {
	ms := thirdMutants()
	if len(ms) < 25 {
		t.Fatalf("only %d broken stores", len(ms))
	}
	wantCaught(t, ms)
}

func thirdMutants() []mutant {
	users, sessions, tokens, sf, pk := usersWith, sessionsWith, tokensWith, secondFactorsWith, passkeysWith
	return []mutant{
		{"List total of the page only", users(func() memberStore { return pageTotalUsers{newUpdatable()} }), [][2]string{{"/List:", "UserStore.List reports the total number of users"}}},
		{"List Offset counted from 1", users(func() memberStore { return offsetFromOneUsers{newUpdatable()} }), [][2]string{{"/List:", "returns at most Limit users from Offset"}}},
		{"deleted users' login names kept taken", users(func() memberStore { return newSoftDeleteUsers() }), [][2]string{{"/Delete:", "UserStore.Delete frees the email and username"}}},
		{"assigned ID not written back", users(func() memberStore { return idNotWrittenBackUsers{newUpdatable()} }), [][2]string{{"/CreateAssignsID:", "want the new ID written back into the user"}}},
		{"FindByLogin miss not ErrNotFound", users(func() memberStore { return textNotFoundUsers{newUpdatable()} }), [][2]string{{"/FindByLogin:", "FindByLogin: no user has it, ErrNotFound"}}},
		{"Update of a missing user not ErrNotFound", users(func() memberStore { return updateMissingTextUsers{newUpdatable()} }), [][2]string{{"/UpdateMissing:", "UserStore: a missing user is ErrNotFound"}}},
		{"UpdateUser returning the user before the change", users(func() memberStore { return preChangeResultUsers{newUpdatable()} }), [][2]string{{"/UpdateUserAtomic:", "UserUpdater.UpdateUser returns the user as stored"}}},
		{"UpdateUser hiding change's error", users(func() memberStore { return wrappedChangeErrorUsers{newUpdatable()} }), [][2]string{{"/UpdateUserObeysUpdateRules:", "UserUpdater.UpdateUser returns change's error"}}},
		{"Update forgetting the confirmation columns", users(func() memberStore { return confirmedNotUpdatedUsers{newUpdatable()} }), [][2]string{{"/UpdateReplacesEveryField:", "UserStore.Update replaces every field"}}},
		{"PasswordHash in a VARCHAR(60)", users(func() memberStore { return shortHashUsers{newUpdatable()} }), [][2]string{{"/RoundTrip:", "PasswordHash"}}},
		{"UpdateUser upserting", users(func() memberStore { return upsertingUpdater{newUpdatable()} }), [][2]string{{"/UpdateMissing:", "UserUpdater.UpdateUser: a missing user is ErrNotFound"}}},
		{"List ignoring the context", users(func() memberStore { return listIgnoresContextUsers{newUpdatable()} }), [][2]string{{"/ContextCancelled:", "List with a cancelled context: want context.Canceled"}}},

		{"ListByUser matching user IDs by prefix", sessions(func() loginkit.SessionStore { return prefixListSessions{newTrackedSessions()} }), [][2]string{{"/UserIDPrefixes:", "matched by exact UserID, not by prefix"}}},
		{"exceptKey compared folded", sessions(func() loginkit.SessionStore { return foldedExceptSessions{memstore.NewSessions()} }), [][2]string{{"/KeysCaseSensitive:", "exceptKey is exact and case-sensitive"}}},
		{"Touch updating two columns", sessions(func() loginkit.SessionStore { return twoColumnToucher{memstore.NewSessions()} }), [][2]string{{"/TouchOnlyExisting:", "Touch replaces the session"}}},
		{"Touch reviving an expired session", sessions(func() loginkit.SessionStore { return newExpiredToucher() }), [][2]string{{"/TouchOnlyExisting:", "Touch of an expired session: want ErrNotFound"}}},
		{"empty Values dropped", sessions(func() loginkit.SessionStore { return emptyValueDroppingSessions{memstore.NewSessions()} }), [][2]string{{"/SaveGetRoundTrip:", "SessionStore.Save persists every field"}}},
		{"Values merged on Save", sessions(func() loginkit.SessionStore { return mergingValuesSessions{memstore.NewSessions()} }), [][2]string{{"/SaveReplacesEveryField:", "drops removed Values keys"}}},
		{"DeleteByUser counting the kept session", sessions(func() loginkit.SessionStore { return exceptCountedSessions{memstore.NewSessions()} }), [][2]string{{"/DeleteByUser:", "SessionStore.DeleteByUser reports how many it removed"}}},
		{"ListByUser of nobody ErrNotFound", sessions(func() loginkit.SessionStore { return noneListedSessions{memstore.NewSessions()} }), [][2]string{{"/ListByUser:", "ListByUser of a user without sessions: want no error"}}},
		{"expiry by whole seconds", sessionsHarness(SessionHarness{
			New: func(testing.TB) loginkit.SessionStore { return secondExpirySessions{memstore.NewSessions(), time.Now} },
			NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
				return secondExpirySessions{memstore.NewSessions(memstore.WithClock(now)), now}
			}}), [][2]string{{"/ExpiryBoundary:", "returns a session whose ExpiresAt is after now"}}},

		{"Consume handing out expired tokens", tokens(func() loginkit.TokenStore { return newExpiredConsumeTokens() }), [][2]string{{"/Expired:", "TokenStore.Consume: an expired token is ErrNotFound"}}},
		{"ListByUser empty purpose literal", tokens(func() loginkit.TokenStore { return literalPurposeTokens{memstore.NewTokens()} }), [][2]string{{"/ListByUser:", "all purposes when purpose is empty"}}},
		{"DeleteByUser empty purpose literal", tokens(func() loginkit.TokenStore { return literalPurposeDeleteTokens{memstore.NewTokens()} }), [][2]string{{"/DeleteByUser:", "all purposes when purpose is empty"}}},
		{"selectors unique per purpose", tokens(func() loginkit.TokenStore { return perPurposeSelectorTokens{memstore.NewTokens()} }), [][2]string{{"/CreateDuplicateSelector:", "a token with the same selector already stored is ErrDuplicate"}}},
		{"consumed tokens left in the user index", tokens(func() loginkit.TokenStore { return newConsumeKeepsIndexTokens() }), [][2]string{{"/Consume:", "TokenStore.Consume deletes the token, and only it"}}},
		{"tokens listed by ExpiresAt", tokens(func() loginkit.TokenStore { return expiryOrderTokens{memstore.NewTokens()} }), [][2]string{{"/ListByUser:", "newest CreatedAt first"}}},
		{"token Get miss not ErrNotFound", tokens(func() loginkit.TokenStore { return textNotFoundTokens{memstore.NewTokens()} }), [][2]string{{"/GetMissing:", "TokenStore.Get: missing is ErrNotFound"}}},

		{"empty record kept", sf(func() sfStore { return newEmptyRecordSF() }), [][2]string{{"/UseRecoveryCode:", "a user with no TOTP secret and no recovery code is ErrNotFound"}}},
		{"step accepted without a secret", sf(func() sfStore { return stepWithoutSecretSF{newSF()} }), [][2]string{{"/AcceptTOTPStepMissing:", "a user without a TOTP secret is ErrNotFound"}}},
		{"empty code list keeps codes", sf(func() sfStore { return emptyListKeepsCodesSF{newSF()} }), [][2]string{{"/GetMissing:", "a user with no TOTP secret and no recovery code is ErrNotFound"}}},
		{"last step dropped", sf(func() sfStore { return lastStepDroppedSF{newSF()} }), [][2]string{{"/RoundTrip:", "TOTPLastStep"}}},
		{"replay as ErrNotFound", sf(func() sfStore { return replayAsNotFoundSF{newSF()} }), [][2]string{{"/AcceptTOTPStep:", "a replayed step is ErrReplayed"}}},
		{"strict delete", sf(func() sfStore { return strictDeleteSF{newSF()} }), [][2]string{{"/Delete:", "deleting missing data is not an error"}}},

		{"unknown credential as replay", pk(func() pkStore { return unknownAsReplayPK{newPK()} }), [][2]string{{"/SignCount:", "an unknown credential ID is ErrNotFound"}}},
		{"silent rename", pk(func() pkStore { return silentRenamePK{newPK()} }), [][2]string{{"/Rename:", "RenamePasskey of another user's passkey: want ErrNotFound"}}},
		{"silent delete", pk(func() pkStore { return silentDeletePK{newPK()} }), [][2]string{{"/Delete:", "DeletePasskey of another user's passkey: want ErrNotFound"}}},
		{"delete user uncounted", pk(func() pkStore { return uncountedDeleteUserPK{newPK()} }), [][2]string{{"/DeleteUser:", "removed 0, want 4"}}},
		{"none listed", pk(func() pkStore { return noneListedPK{newPK()} }), [][2]string{{"/GetMissing:", "a user without passkeys gets an empty list and no error"}}},
		{"sorted transports", pk(func() pkStore { return sortedTransportsPK{newPK()} }), [][2]string{{"/RoundTrip:", "Transports"}}},
		{"BackedUp kept", pk(func() pkStore { return backedUpKeptPK{newPK()} }), [][2]string{{"/SignCount:", "BackedUp"}}},
		{"LastUsedAt kept", pk(func() pkStore { return lastUsedKeptPK{newPK()} }), [][2]string{{"/SignCount:", "LastUsedAt"}}},
		{"rename then check owner", pk(func() pkStore { return renameThenCheckPK{newPK()} }), [][2]string{{"/Rename:", "another user's passkey is untouched"}}},

		{"closed window", limiterWith(func() ratelimit.Limiter { return &closedWindowLimiter{windowLimiter{ev: map[string][]time.Time{}}} }), [][2]string{{"/WindowSlides:", "an event at exactly now-Per has left the window"}}},
	}
}
