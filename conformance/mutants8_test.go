package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Broken stores of the third generation whose user index is keyed by
// creation time (a sorted set whose member is the time, not the key):
// records of one user created at the same instant collapse into one.

type sameInstantSessions struct{ *memstore.Sessions }

func (s sameInstantSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	l, err := s.Sessions.ListByUser(ctx, userID)
	seen := map[int64]bool{}
	out := l[:0]
	for _, x := range l {
		if !seen[x.CreatedAt.UnixNano()] {
			seen[x.CreatedAt.UnixNano()] = true
			out = append(out, x)
		}
	}
	return out, err
}

type sameInstantTokens struct{ *memstore.Tokens }

func (s sameInstantTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	l, err := s.Tokens.ListByUser(ctx, userID, purpose)
	seen := map[int64]bool{}
	out := l[:0]
	for _, t := range l {
		if !seen[t.CreatedAt.UnixNano()] {
			seen[t.CreatedAt.UnixNano()] = true
			out = append(out, t)
		}
	}
	return out, err
}

type sameInstantPK struct{ pkStore }

func (s sameInstantPK) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	l, err := s.pkStore.ListPasskeys(ctx, userID)
	seen := map[int64]bool{}
	out := l[:0]
	for _, p := range l {
		if !seen[p.CreatedAt.UnixNano()] {
			seen[p.CreatedAt.UnixNano()] = true
			out = append(out, p)
		}
	}
	return out, err
}

// foldedUniqueIDUsers refuses a new user whose ID differs from a stored
// one only in case (a unique index under a case-insensitive collation).
type foldedUniqueIDUsers struct{ memberUpdater }

func (s foldedUniqueIDUsers) Create(ctx context.Context, u *Member) error {
	all, _, err := s.List(ctx, loginkit.ListOptions{Limit: 1000})
	if err != nil {
		return err
	}
	for _, v := range all {
		if u.ID != "" && strings.EqualFold(v.ID, u.ID) {
			return fmt.Errorf("unique index on id: %w", loginkit.ErrDuplicate)
		}
	}
	return s.memberUpdater.Create(ctx, u)
}

func eighthMutants() []mutant {
	return []mutant{
		{"user IDs unique without regard to case", usersWith(func() memberStore { return foldedUniqueIDUsers{newUpdatable()} }),
			[][2]string{{"/CreateDuplicateID:", "an ID differing from a stored one only in case is no duplicate"}}},
		{"sessions created at one instant listed once", sessionsWith(func() loginkit.SessionStore { return sameInstantSessions{memstore.NewSessions()} }),
			[][2]string{{"/ListByUser:", "those created at the same instant included"}}},
		{"tokens created at one instant listed once", tokensWith(func() loginkit.TokenStore { return sameInstantTokens{memstore.NewTokens()} }),
			[][2]string{{"/ListByUser:", "those created at the same instant included"}}},
		{"passkeys created at one instant listed once", passkeysWith(func() pkStore { return sameInstantPK{newPK()} }),
			[][2]string{{"/ListPerUser:", "those created at the same instant included"}}},
	}
}

// TestSuitesCatchTimeKeyedIndexes runs the suites against the stores
// above: each must fail in the case that names its bug.
func TestSuitesCatchTimeKeyedIndexes(t *testing.T) { wantCaught(t, eighthMutants()) }
