package mongostore_test

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
)

// nativeExpiry reports whether the test server has TTL indexes, in which
// case it removes expired records itself and DeleteExpired may find fewer.
func nativeExpiry(t *testing.T) bool {
	mode, err := mongostore.NewSessions(migratedDB(t)).ExpiryMode(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return mode == mongostore.ExpiryTTL
}

func TestSessionsConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestSessions(t, conformance.SessionHarness{
		New: func(tb testing.TB) loginkit.SessionStore {
			return mongostore.NewSessions(migratedDB(tb))
		},
		TimePrecision: time.Millisecond,
		Toucher:       true,
		NativeExpiry:  nativeExpiry(t),
	})
}

func TestTokensConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestTokens(t, conformance.TokenHarness{
		New: func(tb testing.TB) loginkit.TokenStore {
			return mongostore.NewTokens(migratedDB(tb))
		},
		TimePrecision: time.Millisecond,
		NativeExpiry:  nativeExpiry(t),
	})
}

func TestUsersConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
		New: func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
			return mongostore.NewUsers[conformance.Member](migratedDB(tb))
		},
		Fill:          conformance.FillMember,
		TimePrecision: time.Millisecond,
		Updater:       true,
	})
}

func TestSecondFactorsConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestSecondFactors(t, conformance.SecondFactorHarness{
		New: func(tb testing.TB) loginkit.SecondFactorStore {
			return mongostore.NewSecondFactors(migratedDB(tb))
		},
		TimePrecision: time.Millisecond,
	})
}

func TestPasskeysConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestPasskeys(t, conformance.PasskeyHarness{
		New: func(tb testing.TB) loginkit.PasskeyStore {
			return mongostore.NewPasskeys(migratedDB(tb))
		},
		TimePrecision: time.Millisecond,
	})
}
