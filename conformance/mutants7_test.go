package conformance

import (
	"context"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Broken stores of the third generation that look keys up with SQL LIKE
// without escaping its wildcards: '_' in a key or selector (a base64url
// character) matches any one character.

// likeMatch reports whether s matches pattern, where '_' stands for any
// one byte and every other byte for itself.
func likeMatch(pattern, s string) bool {
	if len(pattern) != len(s) {
		return false
	}
	for i := range len(s) {
		if pattern[i] != '_' && pattern[i] != s[i] {
			return false
		}
	}
	return true
}

// likeSessions looks sessions up with key LIKE ?.
type likeSessions struct{ *trackedSessions }

func (s likeSessions) match(key string) string {
	for k := range s.snapshot() {
		if likeMatch(key, k) {
			if _, err := s.Sessions.Get(context.Background(), k); err == nil {
				return k
			}
		}
	}
	return key
}

func (s likeSessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	return s.trackedSessions.Get(ctx, s.match(key))
}

func (s likeSessions) Delete(ctx context.Context, key string) error {
	return s.trackedSessions.Delete(ctx, s.match(key))
}

// likeTokens looks tokens up with selector LIKE ?.
type likeTokens struct {
	*memstore.Tokens
	sels *memo[string, bool]
}

func newLikeTokens() likeTokens { return likeTokens{memstore.NewTokens(), new(memo[string, bool])} }

func (s likeTokens) Create(ctx context.Context, t *loginkit.Token) error {
	err := s.Tokens.Create(ctx, t)
	if err == nil {
		s.sels.put(t.Selector, true)
	}
	return err
}

func (s likeTokens) match(sel string) string {
	for k := range s.sels.snapshot() {
		if likeMatch(sel, k) {
			if _, err := s.Tokens.Get(context.Background(), k); err == nil {
				return k
			}
		}
	}
	return sel
}

func (s likeTokens) Get(ctx context.Context, sel string) (*loginkit.Token, error) {
	return s.Tokens.Get(ctx, s.match(sel))
}

func (s likeTokens) Consume(ctx context.Context, sel string) (*loginkit.Token, error) {
	t, err := s.Tokens.Consume(ctx, s.match(sel))
	if err == nil && t.Selector != sel {
		// The caller checks the validator, not the selector.
		return t, nil
	}
	return t, err
}

func (s likeTokens) Delete(ctx context.Context, sel string) error {
	return s.Tokens.Delete(ctx, s.match(sel))
}

func seventhMutants() []mutant {
	return []mutant{
		{"session keys looked up with LIKE", sessionsWith(func() loginkit.SessionStore { return likeSessions{newTrackedSessions()} }),
			[][2]string{{"/KeysCaseSensitive:", "'_' and '%' are no wildcards"}}},
		{"selectors looked up with LIKE", tokensWith(func() loginkit.TokenStore { return newLikeTokens() }),
			[][2]string{{"/SelectorsCaseSensitive:", "'_' and '%' are no wildcards"}}},
	}
}

// TestSuitesCatchWildcardLookups runs the suites against the stores
// above: each must fail in the case that names its bug.
func TestSuitesCatchWildcardLookups(t *testing.T) { wantCaught(t, seventhMutants()) }
