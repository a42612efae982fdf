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
	db := freshDB(t)
	if err := mongostore.Migrate(ctx(t), db); err != nil {
		t.Fatal(err)
	}
	mode, err := mongostore.NewSessions(db).ExpiryMode(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return mode == mongostore.ExpiryTTL
}

func TestSessionsConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestSessions(t, conformance.SessionHarness{
		New: func(tb testing.TB) loginkit.SessionStore {
			db := freshDB(tb)
			s := mongostore.NewSessions(db)
			if err := mongostore.Migrate(ctx(tb), db); err != nil {
				tb.Fatal(err)
			}
			return s
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
			db := freshDB(tb)
			s := mongostore.NewTokens(db)
			if err := mongostore.Migrate(ctx(tb), db); err != nil {
				tb.Fatal(err)
			}
			return s
		},
		TimePrecision: time.Millisecond,
		NativeExpiry:  nativeExpiry(t),
	})
}

func TestUsersConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
		New: func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
			db := freshDB(tb)
			s := mongostore.NewUsers[conformance.Member](db)
			if err := mongostore.Migrate(ctx(tb), db); err != nil {
				tb.Fatal(err)
			}
			return s
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
			db := freshDB(tb)
			s := mongostore.NewSecondFactors(db)
			if err := mongostore.Migrate(ctx(tb), db); err != nil {
				tb.Fatal(err)
			}
			return s
		},
		TimePrecision: time.Millisecond,
	})
}
