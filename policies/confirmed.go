package policies

import (
	"context"
	"fmt"

	"github.com/loginkit/loginkit"
)

// ErrEmailUnconfirmed is what ConfirmedEmail refuses with. It matches
// loginkit.ErrForbidden, so guards answer it with 403 (or the manager's
// ForbiddenHandler, which can send the user to a "confirm your address"
// page instead).
var ErrEmailUnconfirmed = fmt.Errorf("%w: email address not confirmed", loginkit.ErrForbidden)

// ConfirmedEmail returns a policy that lets a request through only when
// the user's current email address is confirmed
// (loginkit.Account.EmailConfirmed): put it on the routes that need a
// verified address with Manager.Guard. Logins are not refused (at
// StageLogin it allows), so that an unconfirmed user can still log in
// and ask for a new confirmation link. A user type without an embedded
// Account is refused.
func ConfirmedEmail() loginkit.Policy {
	return loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Stage != loginkit.StageRequest {
			return nil
		}
		if c.Account == nil || !c.Account.EmailConfirmed() {
			return ErrEmailUnconfirmed
		}
		return nil
	})
}
