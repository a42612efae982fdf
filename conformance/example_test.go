package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/conformance"
)

// This file is what a store author writes: a harness whose New gives every
// case a fresh, empty store, and one test function per suite. The stores
// here are memstore's, standing in for your own.

// sessionHarness describes the session store under test. New receives the
// subtest's testing.TB: open a connection or a private key prefix there,
// and release it with tb.Cleanup.
func sessionHarness() conformance.SessionHarness {
	return conformance.SessionHarness{
		New: func(tb testing.TB) loginkit.SessionStore {
			return memstore.NewSessions()
		},
		// memstore implements loginkit.SessionToucher: declaring it makes
		// a store that stops implementing it fail instead of skipping.
		Toucher: true,
		// A store keeping times to the second only would set
		// TimePrecision: time.Second; the default is a millisecond.
	}
}

// userHarness describes a user store for the application's own user type;
// conformance.Member and FillMember stand for it and for a function that
// sets its own fields from a seed.
func userHarness() conformance.UserHarness[*conformance.Member] {
	return conformance.UserHarness[*conformance.Member]{
		New: func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
			return memstore.NewUsers[conformance.Member]()
		},
		Fill: conformance.FillMember,
	}
}

// TestMySessions is the whole of a session store's conformance test.
func TestMySessions(t *testing.T) {
	conformance.TestSessions(t, sessionHarness())
}

// TestMyUsers is the whole of a user store's conformance test.
func TestMyUsers(t *testing.T) {
	conformance.TestUsers(t, userHarness())
}

// TestMyTokens is the whole of a token store's conformance test.
func TestMyTokens(t *testing.T) {
	conformance.TestTokens(t, conformance.TokenHarness{
		New: func(testing.TB) loginkit.TokenStore { return memstore.NewTokens() },
	})
}

// A suite needs the *testing.T of a test function, as in TestMySessions
// above:
//
//	func TestMySessions(t *testing.T) {
//		conformance.TestSessions(t, sessionHarness())
//	}
//
// Each case gets its own store from the harness, empty:
func ExampleTestSessions() {
	h := sessionHarness()
	store := h.New(nil) // the suite passes each subtest's testing.TB
	_, err := store.Get(context.Background(), "any-key")
	fmt.Println(errors.Is(err, loginkit.ErrNotFound))
	// Output: true
}

// The user suite checks that the application's own fields round-trip:
// Fill sets them from a seed, different for every user it creates.
func ExampleTestUsers() {
	h := userHarness()
	store := h.New(nil)
	ctx := context.Background()
	m := &conformance.Member{}
	m.Email = "Ann@Example.com"
	h.Fill(m, 3)
	if err := store.Create(ctx, m); err != nil {
		fmt.Println(err)
		return
	}
	got, err := store.FindByLogin(ctx, " ANN@EXAMPLE.COM")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Email, got.DisplayName, got.Age)
	// Output: Ann@Example.com Zoë Ångström 数 3 🙂 23
}

func ExampleFillMember() {
	var m conformance.Member
	conformance.FillMember(&m, 2)
	fmt.Println(m.DisplayName, m.IsAdmin, m.Age, m.Balance, m.Birthday.Format("2006-01-02"))
	conformance.FillMember(&m, 0)
	fmt.Printf("%q %v %v %v %v\n", m.DisplayName, m.IsAdmin, m.Age, m.Balance, m.Birthday.IsZero())
	// Output:
	// Zoë Ångström 数 2 🙂 false 22 2.25 1982-03-03
	// "" false 0 0 true
}
