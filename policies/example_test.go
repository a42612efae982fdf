package policies_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/policies"
)

type Staff struct {
	loginkit.Account
	IsAdmin bool
}

func Example() {
	lockout := policies.Lockout(3, 15*time.Minute, 15*time.Minute)
	login := policies.At(loginkit.StageLogin, lockout)
	admin := policies.RequireUser(func(u *Staff) bool { return u.IsAdmin })

	ann := &Staff{}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Three wrong passwords: the manager calls RecordLogin after each and
	// saves the account.
	for range 3 {
		lockout.RecordLogin(&ann.Account, false, now)
	}
	err := login.Check(context.Background(), &loginkit.Check{
		Stage: loginkit.StageLogin, User: ann, Account: &ann.Account, Now: now,
	})
	fmt.Println(errors.Is(err, loginkit.ErrLocked), ann.LockedUntil.Sub(now))

	// A fresh session of a non-admin is refused with ErrForbidden.
	s := &loginkit.Session{Fresh: true, AuthenticatedAt: now}
	err = admin.Check(context.Background(), &loginkit.Check{
		Stage: loginkit.StageRequest, User: ann, Account: &ann.Account, Session: s, Now: now,
	})
	fmt.Println(errors.Is(err, loginkit.ErrForbidden))
	// Output:
	// true 15m0s
	// true
}
