package conformance

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/ratelimit"
)

// Broken stores of the third generation that keep a user index of their
// own beside the records, as a key-value store does (a set or a list of
// keys per user), and get it wrong in one way each.

// indexedSessions keeps, per user, the keys of that user's sessions,
// moving a key from its old owner only when Get still finds the old
// session (an expired one is not moved), and as a list (appended to on
// every Save) when list is set. DeleteByUser deletes every key in the
// user's index, whoever owns it now.
type indexedSessions struct {
	*memstore.Sessions
	list bool

	mu  sync.Mutex
	idx map[string][]string
}

func newIndexedSessions(list bool) *indexedSessions {
	return &indexedSessions{Sessions: memstore.NewSessions(), list: list, idx: map[string][]string{}}
}

func (s *indexedSessions) Save(ctx context.Context, x *loginkit.Session) error {
	old, oldErr := s.Sessions.Get(ctx, x.Key)
	if err := s.Sessions.Save(ctx, x); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if oldErr == nil && old.UserID != x.UserID {
		s.idx[old.UserID] = slices.DeleteFunc(s.idx[old.UserID], func(k string) bool { return k == x.Key })
	}
	if s.list || !slices.Contains(s.idx[x.UserID], x.Key) {
		s.idx[x.UserID] = append(s.idx[x.UserID], x.Key)
	}
	return nil
}

func (s *indexedSessions) keysOf(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.idx[userID])
}

func (s *indexedSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []*loginkit.Session{}
	for _, k := range s.keysOf(userID) {
		if x, err := s.Sessions.Get(ctx, k); err == nil && x.UserID == userID {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b *loginkit.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (s *indexedSessions) DeleteByUser(ctx context.Context, userID, except string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	var kept []string
	for _, k := range s.keysOf(userID) {
		if k == except {
			kept = append(kept, k)
			continue
		}
		if _, err := s.Sessions.Get(ctx, k); err == nil {
			n++
		}
		if err := s.Sessions.Delete(ctx, k); err != nil {
			return n, err
		}
	}
	s.mu.Lock()
	s.idx[userID] = kept
	s.mu.Unlock()
	return n, nil
}

// listIndexTokens keeps each user's selectors in a list, appended to on
// every Create: a selector re-created by its owner is listed twice.
type listIndexTokens struct {
	*memstore.Tokens
	mu  sync.Mutex
	idx map[string][]string
}

func newListIndexTokens() *listIndexTokens {
	return &listIndexTokens{Tokens: memstore.NewTokens(), idx: map[string][]string{}}
}

func (s *listIndexTokens) Create(ctx context.Context, t *loginkit.Token) error {
	if err := s.Tokens.Create(ctx, t); err != nil {
		return err
	}
	s.mu.Lock()
	s.idx[t.UserID] = append(s.idx[t.UserID], t.Selector)
	s.mu.Unlock()
	return nil
}

func (s *listIndexTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	sels := slices.Clone(s.idx[userID])
	s.mu.Unlock()
	out := []*loginkit.Token{}
	for _, sel := range sels {
		if t, err := s.Tokens.Get(ctx, sel); err == nil && t.UserID == userID && (purpose == "" || t.Purpose == purpose) {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b *loginkit.Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// softDeleteTotalUsers counts deleted users in List's total (a COUNT(*)
// without the deleted_at IS NULL condition).
type softDeleteTotalUsers struct {
	memberUpdater
	deleted *memo[string, bool]
}

func (s softDeleteTotalUsers) Delete(ctx context.Context, id string) error {
	if _, err := s.LoadUser(ctx, id); err == nil {
		s.deleted.put(id, true)
	}
	return s.memberUpdater.Delete(ctx, id)
}

func (s softDeleteTotalUsers) List(ctx context.Context, o loginkit.ListOptions) ([]*Member, int, error) {
	us, total, err := s.memberUpdater.List(ctx, o)
	return us, total + len(s.deleted.snapshot()), err
}

// lruLimiter keeps the events of the 256 most recently used keys only (a
// bounded cache): touching many other keys resets a key's limit.
type lruLimiter struct {
	windowLimiter
	order []string
}

func (l *lruLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
	ok, err := l.windowLimiter.Allow(ctx, key, r, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.order = append(slices.DeleteFunc(l.order, func(k string) bool { return k == key }), key)
	for len(l.order) > 256 {
		delete(l.ev, l.order[0])
		l.order = l.order[1:]
	}
	return ok, err
}

func sixthMutants() []mutant {
	return []mutant{
		{"limiter keeping the 256 most recent keys", limiterWith(func() ratelimit.Limiter { return &lruLimiter{windowLimiter: newTestWindowLimiter()} }),
			[][2]string{{"/KeysIndependent:", "however many other keys are active"}}},
		{"user index not moved from an expired session", sessionsWith(func() loginkit.SessionStore { return newIndexedSessions(false) }),
			[][2]string{{"/SaveReplaceWithPastExpiry:", "stores the new session under its new owner only"}}},
		{"session user index as a list", sessionsWith(func() loginkit.SessionStore { return newIndexedSessions(true) }),
			[][2]string{{"/SaveReplacesEveryField:", "SessionStore.Save replaces, it does not add"}}},
		{"token user index as a list", tokensWith(func() loginkit.TokenStore { return newListIndexTokens() }),
			[][2]string{{"/CreateOverExpiredSelector:", "the owner has one token under that selector"}}},
		{"deleted users in List's total", usersWith(func() memberStore {
			return softDeleteTotalUsers{newUpdatable(), new(memo[string, bool])}
		}), [][2]string{{"/Delete:", "List total after Delete"}}},
	}
}

// TestSuitesCatchIndexBugs runs the suites against the stores above:
// each must fail in the case that names its bug.
func TestSuitesCatchIndexBugs(t *testing.T) { wantCaught(t, sixthMutants()) }
