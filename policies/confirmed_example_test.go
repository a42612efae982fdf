package policies_test

import (
	"context"
	"fmt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/policies"
)

// ConfirmedEmail guards the routes that need a verified address; logins
// are not refused, so an unconfirmed user can still ask for a new link.
//
//	mux.Handle("POST /invite", m.Guard(policies.ConfirmedEmail())(invite))
func ExampleConfirmedEmail() {
	p := policies.ConfirmedEmail()
	a := &loginkit.Account{ID: "1", Email: "Ann@Example.com"}
	check := func() error {
		return p.Check(context.Background(), &loginkit.Check{Stage: loginkit.StageRequest, User: a, Account: a})
	}
	fmt.Println(check())
	a.ConfirmedEmail = loginkit.NormalizeLogin(a.Email)
	fmt.Println(check())
	// Output:
	// loginkit: forbidden: email address not confirmed
	// <nil>
}
