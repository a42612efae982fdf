package memstore_test

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/conformance"
)

// The stores are tested through the exported suites, exactly as a third
// party tests its own store.

func TestUsersConformance(t *testing.T) {
	conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
		New: func(testing.TB) loginkit.UserStore[*conformance.Member] {
			return memstore.NewUsers[conformance.Member]()
		},
		Fill:    conformance.FillMember,
		Updater: true,
	})
}

// plainUser has no fields of its own: the harness needs neither NewUser
// nor Fill.
type plainUser struct{ loginkit.Account }

func TestUsersConformancePlainAccount(t *testing.T) {
	conformance.TestUsers(t, conformance.UserHarness[*plainUser]{
		New:     func(testing.TB) loginkit.UserStore[*plainUser] { return memstore.NewUsers[plainUser]() },
		Updater: true,
	})
}

func TestSessionsConformance(t *testing.T) {
	conformance.TestSessions(t, conformance.SessionHarness{
		New:     func(testing.TB) loginkit.SessionStore { return memstore.NewSessions() },
		Toucher: true,
		NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
			return memstore.NewSessions(memstore.WithClock(now))
		},
	})
}

func TestTokensConformance(t *testing.T) {
	conformance.TestTokens(t, conformance.TokenHarness{
		New: func(testing.TB) loginkit.TokenStore { return memstore.NewTokens() },
		NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.TokenStore {
			return memstore.NewTokens(memstore.WithClock(now))
		},
	})
}

func TestSecondFactorsConformance(t *testing.T) {
	conformance.TestSecondFactors(t, conformance.SecondFactorHarness{
		New: func(testing.TB) loginkit.SecondFactorStore { return memstore.NewSecondFactors() },
	})
}
