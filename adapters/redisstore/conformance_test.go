package redisstore_test

import (
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
)

// The conformance suites run against the server named by
// LOGINKIT_REDIS_URL, each subtest on a store with a key prefix of its own
// that is emptied when the subtest ends. The store's client carries the
// checker hook, so every command the suites cause is also checked to stay
// within the prefix and within one Cluster slot.

func TestSessionsConformance(t *testing.T) {
	e := newEnv(t)
	conformance.TestSessions(t, conformance.SessionHarness{
		New: func(tb testing.TB) loginkit.SessionStore {
			return redisstore.NewSessions(e.rdb, redisstore.WithPrefix(e.prefix(tb)))
		},
		Toucher:      true,
		NativeExpiry: true, // Redis expires sessions itself
	})
}

func TestTokensConformance(t *testing.T) {
	e := newEnv(t)
	conformance.TestTokens(t, conformance.TokenHarness{
		New: func(tb testing.TB) loginkit.TokenStore {
			return redisstore.NewTokens(e.rdb, redisstore.WithPrefix(e.prefix(tb)))
		},
		NativeExpiry: true, // Redis expires tokens itself
	})
}

func TestUsersConformance(t *testing.T) {
	e := newEnv(t)
	conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
		New: func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
			return redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(e.prefix(tb)))
		},
		Fill:    conformance.FillMember,
		Updater: true,
	})
}

func TestSecondFactorsConformance(t *testing.T) {
	e := newEnv(t)
	conformance.TestSecondFactors(t, conformance.SecondFactorHarness{
		New: func(tb testing.TB) loginkit.SecondFactorStore {
			return redisstore.NewSecondFactors(e.rdb, redisstore.WithPrefix(e.prefix(tb)))
		},
	})
}
