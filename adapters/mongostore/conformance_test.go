package mongostore_test

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
)

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
