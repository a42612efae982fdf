package policies

import (
	"context"
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/twofactor"
)

// SecondFactor returns a policy for routes that need a login completed
// with a second factor, such as admin pages: at StageRequest it refuses,
// with an error matching loginkit.ErrForbidden, a request whose session
// did not pass a second factor (see twofactor.Passed), including
// users who have not enrolled one (answer the 403 with a page that
// invites them to, through Builder.ForbiddenHandler) and users
// authenticated by a request loader. At StageLogin it allows.
func SecondFactor() loginkit.Policy {
	return loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Stage == loginkit.StageLogin {
			return nil
		}
		if _, _, ok := twofactor.Passed(c.Session); !ok {
			return fmt.Errorf("%w: a login with a second factor is required", loginkit.ErrForbidden)
		}
		return nil
	})
}

// RecentSecondFactor returns a policy for the most sensitive routes: at
// StageRequest it refuses a session that did not pass a second factor
// (loginkit.ErrForbidden, as SecondFactor does) and one whose second
// factor was last verified more than maxAge before Check.Now, with an
// error matching loginkit.ErrNeedsRefresh: the page the refresh URL
// leads to should ask for a code (twofactor.Service.VerifyTOTP re-confirms the
// factor of a logged-in session). At StageLogin it allows.
func RecentSecondFactor(maxAge time.Duration) loginkit.Policy {
	return loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Stage == loginkit.StageLogin {
			return nil
		}
		_, at, ok := twofactor.Passed(c.Session)
		switch {
		case !ok:
			return fmt.Errorf("%w: a login with a second factor is required", loginkit.ErrForbidden)
		case c.Now.Sub(at) > maxAge:
			return fmt.Errorf("%w: second factor verified more than %s ago", loginkit.ErrNeedsRefresh, maxAge)
		}
		return nil
	})
}
