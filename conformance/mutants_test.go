package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// The stores in this file are a second generation of deliberately broken
// stores (see broken_test.go for the first): each has one bug a careful
// author could still make, and TestSuitesCatchMutants checks that the
// suites fail each one in the case whose message names the broken clause.

// memberUpdater is a user store that also implements UserUpdater.
type memberUpdater interface {
	memberStore
	loginkit.UserUpdater[*Member]
}

func newUpdatable() memberUpdater { return memstore.NewUsers[Member]() }

// otherZone stands for a server or driver time zone that is not UTC.
var otherZone = time.FixedZone("CET", 3600)

// ---- users: UpdateUser ----

// invalidPretendingUsers reports success for a change the store refused
// as invalid (it logs and moves on).
type invalidPretendingUsers struct{ memberUpdater }

func (s invalidPretendingUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	u, err := s.memberUpdater.UpdateUser(ctx, id, change)
	if errors.Is(err, loginkit.ErrInvalid) {
		return s.LoadUser(ctx, id)
	}
	return u, err
}

// accountRollbackUsers undoes a refused change to the Account only, and
// writes the application's own fields the change had set.
type accountRollbackUsers struct{ memberUpdater }

func (s accountRollbackUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	var refused error
	u, err := s.memberUpdater.UpdateUser(ctx, id, func(m *Member) error {
		saved := m.Account
		if err := change(m); err != nil {
			m.Account = saved
			refused = err
		}
		return nil
	})
	if refused != nil {
		return nil, refused
	}
	return u, err
}

// idResettingUsers puts the ID back when a change altered it, and stores
// the rest of the change (mongostore did this).
type idResettingUsers struct{ memberUpdater }

func (s idResettingUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	return s.memberUpdater.UpdateUser(ctx, id, func(m *Member) error {
		err := change(m)
		m.ID = id
		return err
	})
}

// idMovingUsers stores a user whose ID a change altered under the new ID,
// deleting the old one, as a store keyed by u.ID on write would.
type idMovingUsers struct{ memberUpdater }

func (s idMovingUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	u, err := s.LoadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := change(u); err != nil {
		return nil, err
	}
	if u.ID == id {
		return u, s.Update(ctx, u)
	}
	if err := s.Delete(ctx, id); err != nil {
		return nil, err
	}
	return u, s.Create(ctx, u)
}

// cachingUsers keeps the user UpdateUser returned as its cache and serves
// LoadUser from it: the caller's later changes reach every reader.
type cachingUsers struct {
	memberUpdater
	cache memo[string, *Member]
}

func (s *cachingUsers) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	u, err := s.memberUpdater.UpdateUser(ctx, id, change)
	if err == nil {
		s.cache.put(id, u)
	}
	return u, err
}

func (s *cachingUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	if u, ok := s.cache.get(id); ok {
		return u, nil
	}
	return s.memberUpdater.LoadUser(ctx, id)
}

// contextFreeUpdater ignores the caller's context in UpdateUser.
type contextFreeUpdater struct{ memberUpdater }

func (s contextFreeUpdater) UpdateUser(_ context.Context, id string, change func(*Member) error) (*Member, error) {
	return s.memberUpdater.UpdateUser(context.Background(), id, change)
}

// nearMissUpdater's change function returns no error: the method is not a
// loginkit.UserUpdater, and the manager silently falls back.
type nearMissUpdater struct{ memberStore }

func (s nearMissUpdater) UpdateUser(ctx context.Context, id string, change func(*Member)) (*Member, error) {
	return newUpdatable().UpdateUser(ctx, id, func(m *Member) error { change(m); return nil })
}

// pointerOnlyUpdater has UpdateUser on its pointer receiver, but its
// author's constructor returns the struct by value. Its two fields are the
// same store.
type pointerOnlyUpdater struct {
	memberStore
	up memberUpdater
}

func newPointerOnlyUpdater() pointerOnlyUpdater {
	u := newUpdatable()
	return pointerOnlyUpdater{u, u}
}

func (s *pointerOnlyUpdater) UpdateUser(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	return s.up.UpdateUser(ctx, id, change)
}

// misspeltUpdater meant to implement UserUpdater (its harness says so) but
// named the method UpdateUsers.
type misspeltUpdater struct{ memberStore }

func (s misspeltUpdater) UpdateUsers(ctx context.Context, id string, change func(*Member) error) (*Member, error) {
	return nil, loginkit.ErrNotFound
}

// ---- users: a plain map store, for bugs memstore cannot be wrapped into ----

// mapUsers keeps users in a map under a read-write mutex. With racy set,
// Create and Update check that the login names are free with the store's
// own FindByLogin (under the read lock) and then write under the write
// lock, with no pause between: the classic lock "upgrade" that is no
// upgrade. With blankNamesTaken set, a
// name that is not empty but normalises to empty still takes the empty
// key, so that a second blank name is a duplicate.
type mapUsers struct {
	racy, blankNamesTaken bool

	mu   sync.RWMutex
	byID map[string]Member
}

func newMapUsers(racy, blank bool) *mapUsers {
	return &mapUsers{racy: racy, blankNamesTaken: blank, byID: map[string]Member{}}
}

func (s *mapUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return nil, loginkit.ErrNotFound
	}
	return &u, nil
}

func (s *mapUsers) FindByLogin(ctx context.Context, login string) (*Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := loginkit.NormalizeLogin(login)
	if key == "" {
		return nil, loginkit.ErrNotFound
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, byEmail := range []bool{true, false} {
		for _, u := range s.byID {
			if byEmail && u.EmailKey == key || !byEmail && u.UsernameKey == key {
				return &u, nil
			}
		}
	}
	return nil, loginkit.ErrNotFound
}

func (s *mapUsers) takenLocked(u *Member) bool {
	for id, o := range s.byID {
		if id == u.ID {
			continue
		}
		emailSet, nameSet := u.EmailKey != "", u.UsernameKey != ""
		if s.blankNamesTaken {
			emailSet, nameSet = u.Email != "", u.Username != ""
		}
		if emailSet && o.EmailKey == u.EmailKey || nameSet && o.UsernameKey == u.UsernameKey {
			return true
		}
	}
	return false
}

func (s *mapUsers) write(ctx context.Context, u *Member, create bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := u.CheckLoginNames(); err != nil {
		return err
	}
	if create && u.ID == "" {
		u.ID = loginkit.NewID()
	}
	c := *u
	c.NormalizeKeys()
	if s.racy {
		for _, login := range []string{c.Email, c.Username} {
			if other, err := s.FindByLogin(ctx, login); err == nil && other.ID != c.ID {
				return loginkit.ErrDuplicate
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.racy && s.takenLocked(&c) {
		return loginkit.ErrDuplicate
	}
	_, exists := s.byID[c.ID]
	switch {
	case create && exists:
		return loginkit.ErrDuplicate
	case !create && !exists:
		return loginkit.ErrNotFound
	}
	s.byID[c.ID] = c
	if create {
		u.NormalizeKeys()
	}
	return nil
}

func (s *mapUsers) Create(ctx context.Context, u *Member) error { return s.write(ctx, u, true) }
func (s *mapUsers) Update(ctx context.Context, u *Member) error { return s.write(ctx, u, false) }

func (s *mapUsers) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	return nil
}

func (s *mapUsers) List(ctx context.Context, opts loginkit.ListOptions) ([]*Member, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	all := slices.Collect(maps.Values(s.byID))
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Member) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if opts.Limit <= 0 {
		opts.Limit = 50
	}
	start := min(opts.Offset, len(all))
	var out []*Member
	for _, u := range all[start:min(start+opts.Limit, len(all))] {
		out = append(out, &u)
	}
	return out, len(all), nil
}

// ---- users: other bugs ----

// prefixDeleteUsers deletes every user whose ID begins with the one given,
// as a DELETE ... WHERE id LIKE ? || '%' would.
type prefixDeleteUsers struct{ memberStore }

func (s prefixDeleteUsers) Delete(ctx context.Context, id string) error {
	all, _, err := s.List(ctx, loginkit.ListOptions{Limit: 1000})
	if err != nil {
		return err
	}
	for _, u := range all {
		if strings.HasPrefix(u.ID, id) {
			if err := s.memberStore.Delete(ctx, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldsFirstUsers updates in two steps, the application's fields and
// then the login names, so that a refused login name leaves the other
// fields written.
type fieldsFirstUsers struct{ memberStore }

func (s fieldsFirstUsers) Update(ctx context.Context, u *Member) error {
	if err := u.CheckLoginNames(); err != nil {
		if old, lerr := s.LoadUser(ctx, u.ID); lerr == nil {
			c := *u
			c.Email, c.Username = old.Email, old.Username
			_ = s.memberStore.Update(ctx, &c)
		}
		return err
	}
	return s.memberStore.Update(ctx, u)
}

// cappedListUsers caps List at 500 users, below the documented 1000.
type cappedListUsers struct{ memberStore }

func (s cappedListUsers) List(ctx context.Context, opts loginkit.ListOptions) ([]*Member, int, error) {
	opts.Limit = min(opts.Limit, 500)
	return s.memberStore.List(ctx, opts)
}

// lookupUnsupportedUsers cannot look users up by login name.
type lookupUnsupportedUsers struct{ memberStore }

func (lookupUnsupportedUsers) FindByLogin(context.Context, string) (*Member, error) {
	return nil, fmt.Errorf("no login index: %w", errors.ErrUnsupported)
}

// zonedUsers returns times in the database server's zone.
type zonedUsers struct{ memberStore }

func (s zonedUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	u, err := s.memberStore.LoadUser(ctx, id)
	if err == nil && !u.CreatedAt.IsZero() {
		u.CreatedAt = u.CreatedAt.In(otherZone)
	}
	return u, err
}

// ---- sessions ----

// touchThenSave implements Touch as Get then Save, with no pause between:
// a Delete landing between the two is undone.
type touchThenSave struct{ loginkit.SessionStore }

func (s touchThenSave) Touch(ctx context.Context, x *loginkit.Session) error {
	if _, err := s.Get(ctx, x.Key); err != nil {
		return err
	}
	return s.Save(ctx, x)
}

// nearMissToucher takes the session by value: it is not a
// loginkit.SessionToucher.
type nearMissToucher struct{ loginkit.SessionStore }

func (s nearMissToucher) Touch(ctx context.Context, x loginkit.Session) error {
	return s.SessionStore.(loginkit.SessionToucher).Touch(ctx, &x)
}

// contextFreeToucher ignores the caller's context in Touch.
type contextFreeToucher struct{ *memstore.Sessions }

func (s contextFreeToucher) Touch(_ context.Context, x *loginkit.Session) error {
	return s.Sessions.Touch(context.Background(), x)
}

// aliasingToucher keeps the Values map of the session it was last
// touched with and serves it from Get.
type aliasingToucher struct {
	*memstore.Sessions
	values memo[string, map[string]string]
}

func (s *aliasingToucher) Touch(ctx context.Context, x *loginkit.Session) error {
	if err := s.Sessions.Touch(ctx, x); err != nil {
		return err
	}
	s.values.put(x.Key, x.Values)
	return nil
}

func (s *aliasingToucher) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	got, err := s.Sessions.Get(ctx, key)
	if v, ok := s.values.get(key); ok && err == nil {
		got.Values = v
	}
	return got, err
}

// trackedSessions remembers every session saved, for the wrappers below
// that decide from what they saw.
type trackedSessions struct {
	*memstore.Sessions
	saved memo[string, loginkit.Session]
}

func newTrackedSessions() *trackedSessions {
	return &trackedSessions{Sessions: memstore.NewSessions()}
}

func (s *trackedSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if err := s.Sessions.Save(ctx, x); err != nil {
		return err
	}
	s.saved.put(x.Key, *x)
	return nil
}

func (s *trackedSessions) snapshot() map[string]loginkit.Session { return s.saved.snapshot() }

// absoluteSweepSessions also sweeps sessions past AbsoluteExpiresAt,
// though their ExpiresAt has not passed.
type absoluteSweepSessions struct{ *trackedSessions }

func (s absoluteSweepSessions) DeleteExpired(ctx context.Context) (int, error) {
	n, err := s.trackedSessions.DeleteExpired(ctx)
	for k, x := range s.snapshot() {
		if !x.AbsoluteExpiresAt.IsZero() && x.AbsoluteExpiresAt.Before(time.Now()) {
			if _, err := s.Sessions.Get(ctx, k); err == nil {
				_ = s.Delete(ctx, k)
				n++
			}
		}
	}
	return n, err
}

// absoluteListSessions leaves out of ListByUser the sessions past their
// AbsoluteExpiresAt, whatever their ExpiresAt.
type absoluteListSessions struct{ *memstore.Sessions }

func (s absoluteListSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	list, err := s.Sessions.ListByUser(ctx, userID)
	return slices.DeleteFunc(list, func(x *loginkit.Session) bool { return !x.AbsoluteExpiresAt.After(time.Now()) }), err
}

// uncountedSweepSessions sweeps but reports 0, as a store with native
// expiry may, though it has none.
type uncountedSweepSessions struct{ *memstore.Sessions }

func (s uncountedSweepSessions) DeleteExpired(ctx context.Context) (int, error) {
	return sweepUncounted(ctx, s.Sessions.DeleteExpired)
}

// backgroundSweepSessions sweeps even when the caller's context is
// cancelled, and only then reports the cancellation.
type backgroundSweepSessions struct{ *memstore.Sessions }

func (s backgroundSweepSessions) DeleteExpired(ctx context.Context) (int, error) {
	return sweepRegardless(ctx, s.Sessions.DeleteExpired)
}

// forever stands for "no expiry".
var forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// zeroForeverSessions takes a zero ExpiresAt to mean "no expiry" (no TTL
// set), instead of long past.
type zeroForeverSessions struct{ *memstore.Sessions }

func (s zeroForeverSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if x.ExpiresAt.IsZero() {
		x = x.Clone()
		x.ExpiresAt = forever
	}
	return s.Sessions.Save(ctx, x)
}

// prefixUserSessions deletes a user's sessions by matching the UserID as
// a prefix, as a SCAN MATCH user-1* would.
type prefixUserSessions struct{ *trackedSessions }

func (s prefixUserSessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	n := 0
	for k, x := range s.snapshot() {
		if k == exceptKey || !strings.HasPrefix(x.UserID, userID) {
			continue
		}
		if _, err := s.Get(ctx, k); err == nil {
			_ = s.Delete(ctx, k)
			n++
		}
	}
	return n, nil
}

// shortAgentSessions keeps the User-Agent in a VARCHAR(255).
type shortAgentSessions struct{ *memstore.Sessions }

func (s shortAgentSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if len(x.UserAgent) > 255 {
		x = x.Clone()
		x.UserAgent = x.UserAgent[:255]
	}
	return s.Sessions.Save(ctx, x)
}

// lastSeenOrderSessions lists sessions by LastSeenAt, newest first.
type lastSeenOrderSessions struct{ *memstore.Sessions }

func (s lastSeenOrderSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	list, err := s.Sessions.ListByUser(ctx, userID)
	slices.SortStableFunc(list, func(a, b *loginkit.Session) int { return b.LastSeenAt.Compare(a.LastSeenAt) })
	return list, err
}

// pagedSessions lists at most the first page of 100 sessions, as a
// ZRANGE ... LIMIT 0 100 would.
type pagedSessions struct{ *memstore.Sessions }

func (s pagedSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	list, err := s.Sessions.ListByUser(ctx, userID)
	return list[:min(len(list), 100)], err
}

// zonedSessions returns times in the server's zone.
type zonedSessions struct{ *memstore.Sessions }

func (s zonedSessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	x, err := s.Sessions.Get(ctx, key)
	if err == nil {
		x.CreatedAt = x.CreatedAt.In(otherZone)
	}
	return x, err
}

// deleteUnsupportedSessions declares Delete unsupported, which no
// session store may.
type deleteUnsupportedSessions struct{ *memstore.Sessions }

func (deleteUnsupportedSessions) Delete(context.Context, string) error {
	return fmt.Errorf("append-only log: %w", errors.ErrUnsupported)
}

// foldedKeySessions folds keys to lower case, as a case-insensitive
// collation does.
type foldedKeySessions struct{ *memstore.Sessions }

func (s foldedKeySessions) Save(ctx context.Context, x *loginkit.Session) error {
	x = x.Clone()
	x.Key = strings.ToLower(x.Key)
	return s.Sessions.Save(ctx, x)
}

func (s foldedKeySessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	x, err := s.Sessions.Get(ctx, strings.ToLower(key))
	if err == nil {
		x.Key = key
	}
	return x, err
}

func (s foldedKeySessions) Delete(ctx context.Context, key string) error {
	return s.Sessions.Delete(ctx, strings.ToLower(key))
}

// keepExpiryToucher touches a session's fields but leaves its expiry as
// it was (a SET ... KEEPTTL).
type keepExpiryToucher struct{ *memstore.Sessions }

func (s keepExpiryToucher) Touch(ctx context.Context, x *loginkit.Session) error {
	old, err := s.Get(ctx, x.Key)
	if err != nil {
		return err
	}
	x = x.Clone()
	x.ExpiresAt = old.ExpiresAt
	return s.Sessions.Touch(ctx, x)
}

// expireOnCreateSessions sets a session's expiry when it is created only
// (an EXPIRE ... NX), so that replacing it does not move the expiry.
type expireOnCreateSessions struct{ *memstore.Sessions }

func (s expireOnCreateSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if old, err := s.Get(ctx, x.Key); err == nil {
		x = x.Clone()
		x.ExpiresAt = old.ExpiresAt
	}
	return s.Sessions.Save(ctx, x)
}

// prefixKeySessions looks a key up as a prefix when it is not stored
// itself (a LIKE ? || '%').
type prefixKeySessions struct{ *trackedSessions }

func (s prefixKeySessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	x, err := s.trackedSessions.Get(ctx, key)
	if !errors.Is(err, loginkit.ErrNotFound) || key == "" {
		return x, err
	}
	keys := slices.Sorted(maps.Keys(s.snapshot()))
	for _, k := range keys {
		if strings.HasPrefix(k, key) {
			if x, err := s.trackedSessions.Get(ctx, k); err == nil {
				return x, nil
			}
		}
	}
	return nil, err
}

// ---- tokens ----

// prefixDeleteTokens deletes every token whose selector begins with the
// one given.
type prefixDeleteTokens struct {
	*memstore.Tokens
	sels memo[string, bool]
}

func (s *prefixDeleteTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if err := s.Tokens.Create(ctx, t); err != nil {
		return err
	}
	s.sels.put(t.Selector, true)
	return nil
}

func (s *prefixDeleteTokens) Delete(ctx context.Context, sel string) error {
	for x := range s.sels.snapshot() {
		if strings.HasPrefix(x, sel) {
			if err := s.Tokens.Delete(ctx, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkThenSetTokens creates with a Get, then a Delete and Create that
// overwrite (a SET where SET NX was needed), with no pause between.
type checkThenSetTokens struct{ loginkit.TokenStore }

func (s checkThenSetTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if _, err := s.Get(ctx, t.Selector); err == nil {
		return loginkit.ErrDuplicate
	}
	_ = s.Delete(ctx, t.Selector)
	if err := s.TokenStore.Create(ctx, t); err != nil && !errors.Is(err, loginkit.ErrDuplicate) {
		return err
	}
	return nil
}

// prefixPurposeTokens matches the purpose as a prefix, so "remember" also
// lists the rotated-remember records.
type prefixPurposeTokens struct{ loginkit.TokenStore }

func (s prefixPurposeTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	all, err := s.TokenStore.ListByUser(ctx, userID, "")
	return slices.DeleteFunc(all, func(t *loginkit.Token) bool { return !strings.HasPrefix(t.Purpose, purpose) }), err
}

// staleIndexTokens keeps its own per-user index of selectors and never
// moves a selector when a token is created over an expired one.
type staleIndexTokens struct {
	*memstore.Tokens
	mu    sync.Mutex
	index map[string][]string
}

func newStaleIndexTokens() *staleIndexTokens {
	return &staleIndexTokens{Tokens: memstore.NewTokens(), index: map[string][]string{}}
}

func (s *staleIndexTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if err := s.Tokens.Create(ctx, t); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sels := range s.index {
		if slices.Contains(sels, t.Selector) {
			return nil // already indexed
		}
	}
	s.index[t.UserID] = append(s.index[t.UserID], t.Selector)
	return nil
}

func (s *staleIndexTokens) selectors(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.index[userID])
}

func (s *staleIndexTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	var out []*loginkit.Token
	for _, sel := range s.selectors(userID) {
		if t, err := s.Get(ctx, sel); err == nil && (purpose == "" || t.Purpose == purpose) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *loginkit.Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (s *staleIndexTokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	list, _ := s.ListByUser(ctx, userID, purpose)
	for _, t := range list {
		_ = s.Delete(ctx, t.Selector)
	}
	return len(list), nil
}

// zeroForeverTokens takes a zero ExpiresAt to mean "no expiry".
type zeroForeverTokens struct{ *memstore.Tokens }

func (s zeroForeverTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if t.ExpiresAt.IsZero() {
		c := *t
		c.ExpiresAt = forever
		t = &c
	}
	return s.Tokens.Create(ctx, t)
}

// uncountedSweepTokens sweeps but reports 0.
type uncountedSweepTokens struct{ *memstore.Tokens }

func (s uncountedSweepTokens) DeleteExpired(ctx context.Context) (int, error) {
	return sweepUncounted(ctx, s.Tokens.DeleteExpired)
}

// backgroundSweepTokens sweeps even when the caller's context is
// cancelled.
type backgroundSweepTokens struct{ *memstore.Tokens }

func (s backgroundSweepTokens) DeleteExpired(ctx context.Context) (int, error) {
	return sweepRegardless(ctx, s.Tokens.DeleteExpired)
}

// foldedSelectorTokens folds selectors to lower case.
type foldedSelectorTokens struct{ *memstore.Tokens }

func (s foldedSelectorTokens) Create(ctx context.Context, t *loginkit.Token) error {
	c := *t
	c.Selector = strings.ToLower(c.Selector)
	return s.Tokens.Create(ctx, &c)
}

func (s foldedSelectorTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Get(ctx, strings.ToLower(sel))
	if err == nil {
		t.Selector = sel
	}
	return t, err
}

func (s foldedSelectorTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Consume(ctx, strings.ToLower(sel))
	if err == nil {
		t.Selector = sel
	}
	return t, err
}

// pagedDeleteTokens deletes at most one page of 100 tokens per call.
type pagedDeleteTokens struct{ *memstore.Tokens }

func (s pagedDeleteTokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	list, err := s.ListByUser(ctx, userID, purpose)
	if err != nil {
		return 0, err
	}
	list = list[:min(len(list), 100)]
	for _, t := range list {
		if err := s.Delete(ctx, t.Selector); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

// zonedTokens returns times in the server's zone.
type zonedTokens struct{ *memstore.Tokens }

func (s zonedTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Get(ctx, sel)
	if err == nil {
		t.ExpiresAt = t.ExpiresAt.In(otherZone)
	}
	return t, err
}

// listUnsupportedTokens cannot list a user's tokens, which the manager
// needs to tell a stolen remember cookie from a parallel request.
type listUnsupportedTokens struct{ *memstore.Tokens }

func (listUnsupportedTokens) ListByUser(context.Context, string, string) ([]*loginkit.Token, error) {
	return nil, fmt.Errorf("no user index: %w", errors.ErrUnsupported)
}

// ---- the meta-tests ----

func mutants() []mutant {
	users, sessions, tokens := usersWith, sessionsWith, tokensWith
	return []mutant{
		// users
		{"UpdateUser as load, change, Update without a pause", users(func() memberStore { return readModifyWriteUsers{memberStore: newMembers()} }),
			[][2]string{{"/UpdateUserAtomic", "applied atomically, none lost"}}},
		{"UpdateUser pretending an invalid change succeeded", users(func() memberStore { return invalidPretendingUsers{newUpdatable()} }),
			[][2]string{{"/UpdateUserObeysUpdateRules", "a username that is not ValidUsername is ErrInvalid"}}},
		{"UpdateUser rolling back only the Account", users(func() memberStore { return accountRollbackUsers{newUpdatable()} }),
			[][2]string{{"/UpdateUserObeysUpdateRules", "a refused change stores nothing, on any field"}}},
		{"UpdateUser resetting a changed ID", users(func() memberStore { return idResettingUsers{newUpdatable()} }),
			[][2]string{{"/UpdateUserKeepsID", "a change that alters the user's ID is ErrInvalid and stores nothing"}}},
		{"UpdateUser moving the user to a changed ID", users(func() memberStore { return idMovingUsers{newUpdatable()} }),
			[][2]string{{"/UpdateUserKeepsID", "a change that alters the user's ID is ErrInvalid and stores nothing"}}},
		{"UpdateUser's result kept as the cache", users(func() memberStore { return &cachingUsers{memberUpdater: newUpdatable()} }),
			[][2]string{{"/ReturnedValuesIsolated", "UserUpdater.UpdateUser returns a copy of the user as stored"}}},
		{"UpdateUser ignoring the context", users(func() memberStore { return contextFreeUpdater{newUpdatable()} }),
			[][2]string{{"/ContextCancelled", "UpdateUser with a cancelled context: want context.Canceled"}}},
		{"UpdateUser with a near-miss signature", users(func() memberStore { return nearMissUpdater{newMembers()} }),
			[][2]string{{"/UpdateUserAtomic", "does not implement loginkit.UserUpdater"}, {"/UpdateUserObeysUpdateRules", "near-miss method"}}},
		{"UpdateUser on the pointer receiver of a store passed by value", users(func() memberStore { return newPointerOnlyUpdater() }),
			[][2]string{{"/UpdateUserAtomic", "on the pointer receiver only"}}},
		{"UserUpdater declared but the method misspelt", usersHarness(UserHarness[*Member]{Updater: true,
			New: func(testing.TB) memberStore { return misspeltUpdater{newMembers()} }}),
			[][2]string{{"/UpdateUserAtomic", "the harness declares that the store implements loginkit.UserUpdater"}}},
		{"UpdateUser locked against itself only", users(func() memberStore { return readModifyWriteUsers{memberStore: newMembers(), lock: new(sync.Mutex)} }),
			[][2]string{{"/UpdateUserRacingUpdate", "no other write to the user comes between its load and its store"}}},
		{"Update checking names free, then writing, without a pause", users(func() memberStore { return newMapUsers(true, false) }),
			[][2]string{{"/ConcurrentUpdateSameLogin", "uniqueness holds under concurrent updates"}}},
		{"blank login names taking the empty key", users(func() memberStore { return newMapUsers(false, true) }),
			[][2]string{{"/BlankLoginNamesCoexist", "a login name that normalises to empty is no name"}}},
		{"Delete matching IDs by prefix", users(func() memberStore { return prefixDeleteUsers{newMembers()} }),
			[][2]string{{"/IDPrefixes", "matched by exact ID and login name, not by prefix"}}},
		{"Update writing other fields before refusing a login name", users(func() memberStore { return fieldsFirstUsers{newMembers()} }),
			[][2]string{{"/UsernameWithAtRefused", "an Update refused with ErrInvalid stores nothing, on any field"}, {"/EmailWithoutAtRefused", "stores nothing, on any field"}}},
		{"List capped at 500", users(func() memberStore { return cappedListUsers{newMembers()} }),
			[][2]string{{"/ListLimits", "Limit values up to 1000 are honoured exactly"}}},
		{"FindByLogin unsupported", users(func() memberStore { return lookupUnsupportedUsers{newMembers()} }),
			[][2]string{{"/FindByLogin", "which UserStore.FindByLogin may not answer"}, {"/RoundTrip", "UserStore.FindByLogin may not answer"}}},
		{"users returned in the server's zone", users(func() memberStore { return zonedUsers{newMembers()} }),
			[][2]string{{"/RoundTrip", "CreatedAt: want a time in time.UTC"}}},

		// sessions
		{"Touch as Get then Save without a pause", sessions(func() loginkit.SessionStore { return touchThenSave{memstore.NewSessions()} }),
			[][2]string{{"/TouchRacingDelete", "a session deleted while Touch runs stays deleted"}}},
		{"Touch with a near-miss signature", sessions(func() loginkit.SessionStore { return nearMissToucher{memstore.NewSessions()} }),
			[][2]string{{"/TouchOnlyExisting", "does not implement loginkit.SessionToucher"}, {"/TouchRacingDelete", "near-miss method"}}},
		{"SessionToucher declared but missing", sessionsHarness(SessionHarness{Toucher: true,
			New: func(testing.TB) loginkit.SessionStore { return keepFirstSessions{memstore.NewSessions()} }}),
			[][2]string{{"/TouchOnlyExisting", "the harness declares that the store implements loginkit.SessionToucher"}}},
		{"Touch ignoring the context", sessions(func() loginkit.SessionStore { return contextFreeToucher{memstore.NewSessions()} }),
			[][2]string{{"/ContextCancelled", "Touch with a cancelled context: want context.Canceled"}}},
		{"Touch keeping the caller's Values", sessions(func() loginkit.SessionStore { return &aliasingToucher{Sessions: memstore.NewSessions()} }),
			[][2]string{{"/ReturnedValuesIsolated", "SessionToucher.Touch stores a copy"}}},
		{"Touch keeping the old expiry", sessionsHarness(SessionHarness{
			New: func(testing.TB) loginkit.SessionStore { return keepExpiryToucher{memstore.NewSessions()} },
			NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
				return keepExpiryToucher{memstore.NewSessions(memstore.WithClock(now))}
			}}),
			[][2]string{{"/ExpiryExtended", "Get after Touch moved ExpiresAt later"}}},
		{"expiry set on create only", sessionsHarness(SessionHarness{
			New: func(testing.TB) loginkit.SessionStore { return expireOnCreateSessions{memstore.NewSessions()} },
			NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
				return expireOnCreateSessions{memstore.NewSessions(memstore.WithClock(now))}
			}}),
			[][2]string{{"/ExpiryExtended", "Get after Save moved ExpiresAt later"}}},
		{"sweep past AbsoluteExpiresAt", sessions(func() loginkit.SessionStore { return absoluteSweepSessions{newTrackedSessions()} }),
			[][2]string{{"/DeleteExpired", "ExpiresAt decides, as in Get"}}},
		{"ListByUser deciding by AbsoluteExpiresAt", sessions(func() loginkit.SessionStore { return absoluteListSessions{memstore.NewSessions()} }),
			[][2]string{{"/DeleteExpired", "ListByUser returns unexpired sessions: ExpiresAt decides"}}},
		{"sweep reporting 0", sessions(func() loginkit.SessionStore { return uncountedSweepSessions{memstore.NewSessions()} }),
			[][2]string{{"/DeleteExpired", "want exactly 3"}, {"/DeleteExpiredThenByUser", "want exactly 3"}}},
		{"sweep under a cancelled context", sessions(func() loginkit.SessionStore { return backgroundSweepSessions{memstore.NewSessions()} }),
			[][2]string{{"/ContextCancelled", "a cancelled DeleteExpired removes nothing"}}},
		{"zero ExpiresAt taken as no expiry", sessions(func() loginkit.SessionStore { return zeroForeverSessions{memstore.NewSessions()} }),
			[][2]string{{"/ZeroExpiresAt", "a zero ExpiresAt is long past"}}},
		{"session expiry tested with Before(now)", sessionsHarness(SessionHarness{
			New: func(testing.TB) loginkit.SessionStore { return memstore.NewSessions() },
			NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
				return memstore.NewSessions(beforeNowClock(now))
			}}),
			[][2]string{{"/ExpiryBoundary", "Get of a session whose ExpiresAt is exactly now: Get(\"k-edge\"): want ErrNotFound"}}},
		{"DeleteByUser matching user IDs by prefix", sessions(func() loginkit.SessionStore { return prefixUserSessions{newTrackedSessions()} }),
			[][2]string{{"/UserIDPrefixes", "matched by exact UserID, not by prefix"}}},
		{"User-Agent in a VARCHAR(255)", sessions(func() loginkit.SessionStore { return shortAgentSessions{memstore.NewSessions()} }),
			[][2]string{{"/LongValues", "UserAgent"}}},
		{"sessions listed by LastSeenAt", sessions(func() loginkit.SessionStore { return lastSeenOrderSessions{memstore.NewSessions()} }),
			[][2]string{{"/ListByUser", "newest CreatedAt first"}}},
		{"ListByUser limited to a page of 100", sessions(func() loginkit.SessionStore { return pagedSessions{memstore.NewSessions()} }),
			[][2]string{{"/ListByUserMany", "returns all of the user's unexpired sessions, however many"}}},
		{"sessions returned in the server's zone", sessions(func() loginkit.SessionStore { return zonedSessions{memstore.NewSessions()} }),
			[][2]string{{"/SaveGetRoundTrip", "CreatedAt: want a time in time.UTC"}}},
		{"session Delete unsupported", sessions(func() loginkit.SessionStore { return deleteUnsupportedSessions{memstore.NewSessions()} }),
			[][2]string{{"/Delete", "which SessionStore.Delete may not answer"}}},
		{"session keys looked up as prefixes", sessions(func() loginkit.SessionStore { return prefixKeySessions{newTrackedSessions()} }),
			[][2]string{{"/KeysCaseSensitive", "keys are exact, not prefixes"}}},
		{"session keys folded to lower case", sessions(func() loginkit.SessionStore { return foldedKeySessions{memstore.NewSessions()} }),
			[][2]string{{"/KeysCaseSensitive", "keys are exact and case-sensitive"}}},

		// tokens
		{"Consume as Get then Delete without a pause", tokens(func() loginkit.TokenStore { return getThenDeleteTokens{TokenStore: memstore.NewTokens()} }),
			[][2]string{{"/ConsumeConcurrent", "at most one caller gets the token"}}},
		{"Create as check then overwrite without a pause", tokens(func() loginkit.TokenStore { return checkThenSetTokens{memstore.NewTokens()} }),
			[][2]string{{"/CreateConcurrentSameSelector", "a selector already stored is ErrDuplicate, also under concurrent creates"}}},
		{"purposes matched by prefix", tokens(func() loginkit.TokenStore { return prefixPurposeTokens{memstore.NewTokens()} }),
			[][2]string{{"/UserIDAndPurposePrefixes", "matched by exact UserID and Purpose, not by prefix"}}},
		{"user index not moved on Create over an expired selector", tokens(func() loginkit.TokenStore { return newStaleIndexTokens() }),
			[][2]string{{"/CreateOverExpiredSelector", "under its new owner and purpose"}}},
		{"zero token ExpiresAt taken as no expiry", tokens(func() loginkit.TokenStore { return zeroForeverTokens{memstore.NewTokens()} }),
			[][2]string{{"/ZeroExpiresAt", "a zero ExpiresAt is long past"}}},
		{"token sweep reporting 0", tokens(func() loginkit.TokenStore { return uncountedSweepTokens{memstore.NewTokens()} }),
			[][2]string{{"/DeleteExpired", "want exactly 3"}}},
		{"token sweep under a cancelled context", tokens(func() loginkit.TokenStore { return backgroundSweepTokens{memstore.NewTokens()} }),
			[][2]string{{"/ContextCancelled", "a cancelled DeleteExpired removes nothing"}}},
		{"token expiry tested with Before(now)", tokensHarness(TokenHarness{
			New: func(testing.TB) loginkit.TokenStore { return memstore.NewTokens() },
			NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.TokenStore {
				return memstore.NewTokens(beforeNowClock(now))
			}}),
			[][2]string{{"/ExpiryBoundary", "Get of a token whose ExpiresAt is exactly now"}}},
		{"token Delete matching selectors by prefix", tokens(func() loginkit.TokenStore { return &prefixDeleteTokens{Tokens: memstore.NewTokens()} }),
			[][2]string{{"/SelectorsCaseSensitive", "selectors are exact, not prefixes"}}},
		{"selectors folded to lower case", tokens(func() loginkit.TokenStore { return foldedSelectorTokens{memstore.NewTokens()} }),
			[][2]string{{"/SelectorsCaseSensitive", "selectors are exact and case-sensitive"}}},
		{"token DeleteByUser limited to a page of 100", tokens(func() loginkit.TokenStore { return pagedDeleteTokens{memstore.NewTokens()} }),
			[][2]string{{"/ListByUserMany", "removes all of the user's tokens, however many"}}},
		{"tokens returned in the server's zone", tokens(func() loginkit.TokenStore { return zonedTokens{memstore.NewTokens()} }),
			[][2]string{{"/CreateGetRoundTrip", "ExpiresAt: want a time in time.UTC"}}},
		{"token ListByUser unsupported", tokens(func() loginkit.TokenStore { return listUnsupportedTokens{memstore.NewTokens()} }),
			[][2]string{{"/ListByUser", "which TokenStore.ListByUser may not answer"}}},
	}
}

// TestSuitesCatchMutants runs the suites against the second generation
// of broken stores: each must fail in the case that names its bug.
func TestSuitesCatchMutants(t *testing.T) {
	ms := mutants()
	if len(ms) < 25 {
		t.Fatalf("only %d broken stores", len(ms))
	}
	wantCaught(t, ms)
}

// TestRaceMutantsCaughtEveryTime runs each race case 10 times against a
// store whose race window has no pause in it, and requires the case to
// fail every time: the case's repetition budget is long enough that such
// a store never slips through.
func TestRaceMutantsCaughtEveryTime(t *testing.T) {
	wantRacesCaught(t, []raceMutant{
		{"UpdateUser as load, change, Update", "UpdateUserAtomic", "none lost",
			usersWith(func() memberStore { return readModifyWriteUsers{memberStore: newMembers()} })},
		{"UpdateUser locked against itself only", "UpdateUserRacingUpdate", "no other write to the user comes between",
			usersWith(func() memberStore { return readModifyWriteUsers{memberStore: newMembers(), lock: new(sync.Mutex)} })},
		{"Update checking, then writing", "ConcurrentUpdateSameLogin", "uniqueness holds under concurrent updates",
			usersWith(func() memberStore { return newMapUsers(true, false) })},
		{"Create checking, then writing", "ConcurrentCreateSameLogin", "uniqueness holds under concurrent creates",
			usersWith(func() memberStore { return newMapUsers(true, false) })},
		{"Touch as Get then Save", "TouchRacingDelete", "a session deleted while Touch runs stays deleted",
			sessionsWith(func() loginkit.SessionStore { return touchThenSave{memstore.NewSessions()} })},
		{"Consume as Get then Delete", "ConsumeConcurrent", "at most one caller gets the token",
			tokensWith(func() loginkit.TokenStore { return getThenDeleteTokens{TokenStore: memstore.NewTokens()} })},
		{"Create as check then overwrite", "CreateConcurrentSameSelector", "also under concurrent creates",
			tokensWith(func() loginkit.TokenStore { return checkThenSetTokens{memstore.NewTokens()} })},
	})
}

// TestDocListsEveryCase checks that the package documentation names every
// case of the user, session and token suites.
func TestDocListsEveryCase(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(string(doc), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		words[w] = true
	}
	caseName := regexp.MustCompile(`(?m)^\t\t\{"(\w+)", s\.\w+\},$`)
	for _, file := range []string{"users.go", "sessions.go", "tokens.go", "secondfactor.go", "passkeys.go", "limiter.go", "hasher.go", "sealer.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := caseName.FindAllSubmatch(src, -1)
		if len(found) < 10 {
			t.Fatalf("%s: found only %d cases", file, len(found))
		}
		for _, m := range found {
			if !words[string(m[1])] {
				t.Errorf("doc.go does not list case %s of %s", m[1], file)
			}
		}
	}
}
