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

// The stores in this file are deliberately broken, each in one way a real
// store could be. TestSuitesCatchBrokenStores runs the suites against
// them and checks that each fails, in the case that covers the bug.

// ---- users ----

type memberStore = loginkit.UserStore[*Member]

func newMembers() memberStore { return memstore.NewUsers[Member]() }

// caseSensitiveUsers matches login names exactly as entered.
type caseSensitiveUsers struct{ memberStore }

func (s caseSensitiveUsers) FindByLogin(ctx context.Context, login string) (*Member, error) {
	u, err := s.memberStore.FindByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	if u.Email != login && u.Username != login {
		return nil, loginkit.ErrNotFound
	}
	return u, nil
}

// readModifyWriteUsers implements UpdateUser as a load, a change and an
// Update, with pause between the change and the Update (none when 0):
// concurrent updates are lost. With lock set, UpdateUser is atomic
// against other UpdateUser calls only, as a plain Update does not take
// the lock.
type readModifyWriteUsers struct {
	memberStore
	pause time.Duration
	lock  *sync.Mutex
}

func (s readModifyWriteUsers) UpdateUser(ctx context.Context, id string, change func(u *Member) error) (*Member, error) {
	defer hold(s.lock)()
	u, err := s.LoadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := change(u); err != nil {
		return nil, err
	}
	time.Sleep(s.pause)
	return u, s.Update(ctx, u)
}

// swallowDuplicateUsers reports success when it refused a duplicate.
type swallowDuplicateUsers struct{ memberStore }

func (s swallowDuplicateUsers) Create(ctx context.Context, u *Member) error {
	if err := s.memberStore.Create(ctx, u); !errors.Is(err, loginkit.ErrDuplicate) {
		return err
	}
	return nil
}

func (s swallowDuplicateUsers) Update(ctx context.Context, u *Member) error {
	if err := s.memberStore.Update(ctx, u); !errors.Is(err, loginkit.ErrDuplicate) {
		return err
	}
	return nil
}

// aliasingUsers hands out the very value it was given, and the same value
// on every load.
type aliasingUsers struct {
	memberStore
	byID memo[string, *Member]
}

func (s *aliasingUsers) Create(ctx context.Context, u *Member) error {
	if err := s.memberStore.Create(ctx, u); err != nil {
		return err
	}
	s.byID.put(u.ID, u)
	return nil
}

func (s *aliasingUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	if u, ok := s.byID.get(id); ok {
		return u, nil
	}
	return s.memberStore.LoadUser(ctx, id)
}

// upsertUsers creates the user when Update finds none.
type upsertUsers struct{ memberStore }

func (s upsertUsers) Update(ctx context.Context, u *Member) error {
	err := s.memberStore.Update(ctx, u)
	if errors.Is(err, loginkit.ErrNotFound) {
		return s.memberStore.Create(ctx, u)
	}
	return err
}

// strictDeleteUsers reports deleting a missing user as an error.
type strictDeleteUsers struct{ memberStore }

func (s strictDeleteUsers) Delete(ctx context.Context, id string) error {
	if _, err := s.memberStore.LoadUser(ctx, id); err != nil {
		return err
	}
	return s.memberStore.Delete(ctx, id)
}

// secondsUsers keeps times only to the second and drops the application's
// own text field.
type secondsUsers struct{ memberStore }

func (s secondsUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	u, err := s.memberStore.LoadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.Truncate(time.Second)
	u.UpdatedAt = u.UpdatedAt.Truncate(time.Second)
	return u, nil
}

// idOrderUsers lists users by ID only.
type idOrderUsers struct{ memberStore }

func (s idOrderUsers) List(ctx context.Context, opts loginkit.ListOptions) ([]*Member, int, error) {
	all, n, err := s.memberStore.List(ctx, loginkit.ListOptions{Limit: 1000})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(all, func(a, b *Member) int { return strings.Compare(a.ID, b.ID) })
	if opts.Limit <= 0 {
		opts.Limit = 50
	}
	start := min(opts.Offset, len(all))
	return all[start:min(start+opts.Limit, len(all))], n, nil
}

// contextFreeUsers ignores the caller's context.
type contextFreeUsers struct{ memberStore }

func (s contextFreeUsers) Create(_ context.Context, u *Member) error {
	return s.memberStore.Create(context.Background(), u)
}

func (s contextFreeUsers) LoadUser(_ context.Context, id string) (*Member, error) {
	return s.memberStore.LoadUser(context.Background(), id)
}

// ---- sessions ----

// pastClock makes a memstore believe it is two hours earlier, so that it
// returns sessions and tokens that expired an hour ago.
func pastClock() time.Time { return time.Now().Add(-2 * time.Hour) }

// aliasingSessions returns the session it was given.
type aliasingSessions struct {
	loginkit.SessionStore
	byKey memo[string, *loginkit.Session]
}

func (s *aliasingSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if err := s.SessionStore.Save(ctx, x); err != nil {
		return err
	}
	s.byKey.put(x.Key, x)
	return nil
}

func (s *aliasingSessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	got, err := s.SessionStore.Get(ctx, key)
	if x, ok := s.byKey.get(key); ok && err == nil {
		got.Values = x.Values // a struct copy, but the map is shared
	}
	return got, err
}

// keepFirstSessions does not replace a saved session.
type keepFirstSessions struct{ loginkit.SessionStore }

func (s keepFirstSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if _, err := s.SessionStore.Get(ctx, x.Key); err == nil {
		return nil
	}
	return s.SessionStore.Save(ctx, x)
}

// everyoneOutSessions ignores exceptKey.
type everyoneOutSessions struct{ loginkit.SessionStore }

func (s everyoneOutSessions) DeleteByUser(ctx context.Context, userID, _ string) (int, error) {
	return s.SessionStore.DeleteByUser(ctx, userID, "")
}

// upsertTouchSessions implements Touch as Save, so a touch after a
// concurrent Logout brings the session back.
type upsertTouchSessions struct{ loginkit.SessionStore }

func (s upsertTouchSessions) Touch(ctx context.Context, x *loginkit.Session) error {
	return s.Save(ctx, x)
}

// userlessRefusingSessions refuses sessions without a UserID, which the
// manager uses for anonymous visitors' values.
type userlessRefusingSessions struct{ loginkit.SessionStore }

func (s userlessRefusingSessions) Save(ctx context.Context, x *loginkit.Session) error {
	if x != nil && x.UserID == "" {
		return loginkit.ErrInvalid
	}
	return s.SessionStore.Save(ctx, x)
}

// oldestFirstSessions lists sessions in the wrong order.
type oldestFirstSessions struct{ loginkit.SessionStore }

func (s oldestFirstSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	list, err := s.SessionStore.ListByUser(ctx, userID)
	slices.Reverse(list)
	return list, err
}

// noSweepSessions declares DeleteExpired unsupported: the suite must skip
// the case, not fail it.
type noSweepSessions struct{ loginkit.SessionStore }

func (noSweepSessions) DeleteExpired(context.Context) (int, error) {
	return 0, errors.ErrUnsupported
}

// ---- tokens ----

// getThenDeleteTokens consumes with a Get, then a Delete, with pause
// between (none when 0): concurrent consumers can all get the token.
type getThenDeleteTokens struct {
	loginkit.TokenStore
	pause time.Duration
}

func (s getThenDeleteTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Get(ctx, sel)
	if err != nil {
		return nil, err
	}
	time.Sleep(s.pause)
	return t, s.Delete(ctx, sel)
}

// overwriteTokens replaces a token whose selector is taken.
type overwriteTokens struct{ loginkit.TokenStore }

func (s overwriteTokens) Create(ctx context.Context, t *loginkit.Token) error {
	err := s.TokenStore.Create(ctx, t)
	if errors.Is(err, loginkit.ErrDuplicate) {
		_ = s.TokenStore.Delete(ctx, t.Selector)
		return s.TokenStore.Create(ctx, t)
	}
	return err
}

// reusableTokens never deletes on Consume.
type reusableTokens struct{ loginkit.TokenStore }

func (s reusableTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	return s.TokenStore.Get(ctx, sel)
}

// allPurposesTokens ignores the purpose in DeleteByUser.
type allPurposesTokens struct{ loginkit.TokenStore }

func (s allPurposesTokens) DeleteByUser(ctx context.Context, userID, _ string) (int, error) {
	return s.TokenStore.DeleteByUser(ctx, userID, "")
}

// ---- the meta-test ----

func TestSuitesCatchBrokenStores(t *testing.T) {
	wantCaught(t, []mutant{
		{"users updated by read-modify-write", usersWith(func() memberStore { return readModifyWriteUsers{memberStore: newMembers(), pause: time.Millisecond} }),
			[][2]string{{"/UpdateUserAtomic", "none lost"}}},
		{"users matched case-sensitively", usersWith(func() memberStore { return caseSensitiveUsers{newMembers()} }),
			[][2]string{{"/FindByLogin", "FindByLogin matches the email or username after NormalizeLogin"}}},
		{"users without ErrDuplicate", usersWith(func() memberStore { return swallowDuplicateUsers{newMembers()} }),
			[][2]string{
				{"/DuplicateEmailOnCreate", "want ErrDuplicate"},
				{"/DuplicateUsernameOnCreate", "want ErrDuplicate"},
				{"/DuplicateOnUpdate", "want ErrDuplicate"},
				{"/CreateDuplicateID", "want ErrDuplicate"},
				{"/ConcurrentCreateSameLogin", "want exactly 1 success"},
			}},
		{"users returning aliased values", usersWith(func() memberStore { return &aliasingUsers{memberStore: newMembers()} }),
			[][2]string{{"/ReturnedValuesIsolated", "UserStore.Create stores a copy"}}},
		{"users upserting on Update", usersWith(func() memberStore { return upsertUsers{newMembers()} }),
			[][2]string{{"/UpdateMissing", "want ErrNotFound"}}},
		{"users failing a repeated Delete", usersWith(func() memberStore { return strictDeleteUsers{newMembers()} }),
			[][2]string{{"/Delete", "deleting a missing user is not an error"}}},
		{"users losing sub-second times", usersWith(func() memberStore { return secondsUsers{newMembers()} }),
			[][2]string{{"/RoundTrip", "CreatedAt"}}},
		{"users listed by ID", usersWith(func() memberStore { return idOrderUsers{newMembers()} }),
			[][2]string{{"/List", "ordered by CreatedAt, then ID"}}},
		{"users ignoring the context", usersWith(func() memberStore { return contextFreeUsers{newMembers()} }),
			[][2]string{{"/ContextCancelled", "Create with a cancelled context: want context.Canceled"}}},

		{"sessions returned after expiry", sessionsWith(func() loginkit.SessionStore { return memstore.NewSessions(memstore.WithClock(pastClock)) }),
			[][2]string{{"/GetExpired", "an expired session is ErrNotFound"}, {"/ListByUser", "newest CreatedAt first"}}},
		{"sessions sharing Values", sessionsWith(func() loginkit.SessionStore { return &aliasingSessions{SessionStore: memstore.NewSessions()} }),
			[][2]string{{"/ReturnedValuesIsolated", "Values"}}},
		{"sessions not replaced by Save", sessionsWith(func() loginkit.SessionStore { return keepFirstSessions{memstore.NewSessions()} }),
			[][2]string{{"/SaveReplacesEveryField", "replaces every field"}}},
		{"sessions all deleted despite exceptKey", sessionsWith(func() loginkit.SessionStore { return everyoneOutSessions{memstore.NewSessions()} }),
			[][2]string{{"/DeleteByUser", "keeps the session whose key is exceptKey"}}},
		{"sessions listed oldest first", sessionsWith(func() loginkit.SessionStore { return oldestFirstSessions{memstore.NewSessions()} }),
			[][2]string{{"/ListByUser", "newest CreatedAt first"}}},
		{"sessions refusing an empty UserID", sessionsWith(func() loginkit.SessionStore { return userlessRefusingSessions{memstore.NewSessions()} }),
			[][2]string{{"/AnonymousSession", "empty UserID"}}},
		{"sessions touched back to life", sessionsWith(func() loginkit.SessionStore { return upsertTouchSessions{memstore.NewSessions()} }),
			[][2]string{{"/TouchOnlyExisting", "only an existing, unexpired session is updated"}}},

		{"tokens consumed non-atomically", tokensWith(func() loginkit.TokenStore { return getThenDeleteTokens{memstore.NewTokens(), time.Millisecond} }),
			[][2]string{{"/ConsumeConcurrent", "want exactly 1 success"}}},
		{"tokens overwritten on duplicate selector", tokensWith(func() loginkit.TokenStore { return overwriteTokens{memstore.NewTokens()} }),
			[][2]string{{"/CreateDuplicateSelector", "want ErrDuplicate"}, {"/CreateConcurrentSameSelector", "want exactly 1 success"}}},
		{"tokens consumable twice", tokensWith(func() loginkit.TokenStore { return reusableTokens{memstore.NewTokens()} }),
			[][2]string{{"/Consume", "a token is consumed at most once"}, {"/ConsumeConcurrent", "want exactly 1 success"}}},
		{"tokens returned after expiry", tokensWith(func() loginkit.TokenStore { return memstore.NewTokens(memstore.WithClock(pastClock)) }),
			[][2]string{{"/Expired", "expired is ErrNotFound"}}},
		{"tokens deleted across purposes", tokensWith(func() loginkit.TokenStore { return allPurposesTokens{memstore.NewTokens()} }),
			[][2]string{{"/DeleteByUser", "want 1 removed"}}},
	})
}

// TestSuitesPassReferenceStores checks that the suites, run through the
// recorder, pass memstore without a failure or a skip: the failures above
// come from the broken stores, not from the suite or the recorder.
func TestSuitesPassReferenceStores(t *testing.T) {
	for name, suite := range map[string]func(suiteT){
		"users":    usersWith(newMembers),
		"sessions": sessionsWith(func() loginkit.SessionStore { return memstore.NewSessions() }),
		"tokens":   tokensWith(func() loginkit.TokenStore { return memstore.NewTokens() }),
	} {
		t.Run(name, func(t *testing.T) { wantPasses(t, suite, 10) })
	}
}

// TestUnsupportedIsSkipped checks that a store declaring an operation
// unsupported has the cases that need it skipped, not failed.
func TestUnsupportedIsSkipped(t *testing.T) {
	rec := runRecorded(t, sessionsWith(func() loginkit.SessionStore { return noSweepSessions{memstore.NewSessions()} }))
	if len(rec.failures) != 0 {
		t.Errorf("want no failures, got %s", rec)
	}
	// The wrapper also hides memstore's optional Touch, so those cases
	// skip too; the cases that sweep skip for ErrUnsupported, and every
	// other case must run.
	var skips []string
	for _, s := range rec.skips {
		if !strings.Contains(s, "/Touch") {
			skips = append(skips, s)
		}
	}
	slices.Sort(skips)
	if len(skips) != 2 || !strings.Contains(skips[0], "/DeleteExpired:") || !strings.Contains(skips[1], "/DeleteExpiredThenByUser:") || !strings.Contains(skips[0], "ErrUnsupported") {
		t.Errorf("want the DeleteExpired cases skipped for ErrUnsupported, got %v", rec.skips)
	}
}
