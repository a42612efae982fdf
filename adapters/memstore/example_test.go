package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Staff is an application's user model: an Account plus its own fields.
type Staff struct {
	loginkit.Account
	Team string
}

func Example() {
	ctx := context.Background()
	users := memstore.NewUsers[Staff]() // a loginkit.UserStore[*Staff]
	sessions := memstore.NewSessions()

	ann := &Staff{Team: "support"}
	ann.Email = "Ann@Example.com"
	if err := users.Create(ctx, ann); err != nil {
		fmt.Println(err)
		return
	}
	found, err := users.FindByLogin(ctx, "ann@example.com ")
	fmt.Println(found.Team, found.ID == ann.ID, err)

	dup := &Staff{}
	dup.Email = "ANN@example.com"
	fmt.Println(errors.Is(users.Create(ctx, dup), loginkit.ErrDuplicate))

	now := time.Now()
	_ = sessions.Save(ctx, &loginkit.Session{Key: "k1", UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	_ = sessions.Save(ctx, &loginkit.Session{Key: "k2", UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(-time.Second)})
	s, err := sessions.Get(ctx, "k1")
	fmt.Println(s.UserID == ann.ID, err)
	_, err = sessions.Get(ctx, "k2")
	fmt.Println(errors.Is(err, loginkit.ErrNotFound))
	// Output:
	// support true <nil>
	// true
	// true <nil>
	// true
}

// WithClock lets a test move time forward instead of sleeping.
func ExampleWithClock() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tokens := memstore.NewTokens(memstore.WithClock(func() time.Time { return now }))
	_ = tokens.Create(ctx, &loginkit.Token{Selector: "s1", UserID: "u1", Purpose: "reset", ExpiresAt: now.Add(time.Hour)})
	_ = tokens.Create(ctx, &loginkit.Token{Selector: "s2", UserID: "u1", Purpose: "reset", ExpiresAt: now.Add(3 * time.Hour)})

	now = now.Add(2 * time.Hour)
	n, _ := tokens.DeleteExpired(ctx)
	fmt.Println("removed:", n)
	_, err := tokens.Get(ctx, "s1")
	fmt.Println(errors.Is(err, loginkit.ErrNotFound))
	t, err := tokens.Consume(ctx, "s2")
	fmt.Println(t.Selector, err)
	// Output:
	// removed: 1
	// true
	// s2 <nil>
}
