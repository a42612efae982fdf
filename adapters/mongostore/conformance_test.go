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
	s := mongostore.NewSessions(freshDB(t))
	if err := s.EnsureIndexes(ctx(t)); err != nil {
		t.Fatal(err)
	}
	return s.ExpiryMode() == mongostore.ExpiryTTL
}

func TestSessionsConformance(t *testing.T) {
	client(t) // skip, or fail under CI, once rather than in every case
	conformance.TestSessions(t, conformance.SessionHarness{
		New: func(tb testing.TB) loginkit.SessionStore {
			s := mongostore.NewSessions(freshDB(tb))
			if err := s.EnsureIndexes(ctx(tb)); err != nil {
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
			s := mongostore.NewTokens(freshDB(tb))
			if err := s.EnsureIndexes(ctx(tb)); err != nil {
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
			s := mongostore.NewUsers[conformance.Member](freshDB(tb))
			if err := s.EnsureIndexes(ctx(tb)); err != nil {
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
			s := mongostore.NewSecondFactors(freshDB(tb))
			if err := s.EnsureIndexes(ctx(tb)); err != nil {
				tb.Fatal(err)
			}
			return s
		},
		TimePrecision: time.Millisecond,
	})
}
