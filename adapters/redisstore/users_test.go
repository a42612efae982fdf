package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
)

var _ loginkit.UserStore[*conformance.Member] = redisstore.NewUsers[conformance.Member](nil)

// TestConcurrentRegistrations races 50 registrations of one email address
// (written differently each time) and then of one username: exactly one of
// each succeeds, and the others are ErrDuplicate.
func TestConcurrentRegistrations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	us := redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(e.prefix(t)))
	race := func(what string, user func(i int) *conformance.Member) {
		t.Helper()
		const racers = 50
		users := make([]*conformance.Member, racers)
		for i := range users {
			users[i] = user(i)
		}
		wins, others := race(racers, loginkit.ErrDuplicate, func(i int) error {
			err := us.Create(ctx, users[i])
			if errors.Is(err, loginkit.ErrDuplicate) && users[i].ID != "" {
				return fmt.Errorf("failed Create left ID %q in the user", users[i].ID)
			}
			return err
		})
		if wins != 1 || len(others) > 0 {
			t.Errorf("%s: %d of %d concurrent registrations succeeded (want 1); unexpected: %v", what, wins, racers, others)
		}
	}
	race("email", func(i int) *conformance.Member {
		email := "Ann@Example.com"
		if i%2 == 1 {
			email = " ann@EXAMPLE.com "
		}
		return &conformance.Member{Account: loginkit.Account{Email: email}}
	})
	race("username", func(i int) *conformance.Member {
		names := []string{"Ölaf", "ölaf", " ÖLAF "}
		return &conformance.Member{Account: loginkit.Account{
			Email: fmt.Sprintf("user%d@example.com", i), Username: names[i%len(names)]}}
	})
	_, total, err := us.List(ctx, loginkit.ListOptions{})
	if err != nil || total != 2 {
		t.Errorf("List total = %d, %v; want 2", total, err)
	}
}

// TestUserScriptsShareOneSlot checks that the user scripts pass keys of
// one slot only, and that every key of the user store lands in that slot.
func TestUserScriptsShareOneSlot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.prefix(t)
	us := redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(p))
	var ids []string
	for i := range 20 {
		u := &conformance.Member{Account: loginkit.Account{
			Email: fmt.Sprintf("u%d@example.com", i), Username: fmt.Sprint("user", i), CreatedAt: time.Now()}}
		if err := us.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	u, err := us.LoadUser(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	u.Email = "changed@example.com"
	if err := us.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := us.Delete(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	keys, err := e.keys(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2+19 {
		t.Errorf("user store has %d keys, want 21 (logins, order, 19 users): %v", len(keys), keys)
	}
	want := slot(p + "{users}")
	for _, k := range keys {
		if slot(k) != want {
			t.Errorf("key %q is in slot %d, not the users' slot %d", k, slot(k), want)
		}
	}
	scripts := e.check.scripts()
	if len(scripts) < 22 {
		t.Errorf("saw %d script runs, want at least 22", len(scripts))
	}
	for _, keys := range scripts {
		for _, k := range keys {
			if slot(k) != want {
				t.Errorf("script key %q is in slot %d, not the users' slot %d", k, slot(k), want)
			}
		}
	}
}

// TestUserListOrder checks that List orders by CreatedAt to the
// nanosecond, then by ID, and that an Update moving CreatedAt moves the
// user.
func TestUserListOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	us := redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(e.prefix(t)))
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	created := map[string]time.Time{
		"c": base, "a": base, "b": base, // a tie, broken by ID
		"z": base.Add(-time.Nanosecond),
		"y": base.Add(time.Nanosecond),
		"x": time.Time{},
		"w": base.Add(24 * time.Hour),
	}
	for id, at := range created {
		if err := us.Create(ctx, &conformance.Member{Account: loginkit.Account{ID: id, CreatedAt: at}}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(opts loginkit.ListOptions) []string {
		t.Helper()
		users, total, err := us.List(ctx, opts)
		if err != nil || total != len(created) {
			t.Fatalf("List(%+v): total %d, %v", opts, total, err)
		}
		out := make([]string, len(users))
		for i, u := range users {
			out[i] = u.ID
		}
		return out
	}
	if got, want := ids(loginkit.ListOptions{}), []string{"x", "z", "a", "b", "c", "y", "w"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	if got, want := ids(loginkit.ListOptions{Offset: 2, Limit: 3}), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("List(offset 2, limit 3) = %v, want %v", got, want)
	}
	if got := ids(loginkit.ListOptions{Offset: 7}); len(got) != 0 {
		t.Errorf("List past the end = %v, want none", got)
	}
	u, err := us.LoadUser(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	u.CreatedAt = base.Add(48 * time.Hour)
	if err := us.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(loginkit.ListOptions{}), []string{"z", "a", "b", "c", "y", "w", "x"}; !slices.Equal(got, want) {
		t.Errorf("List after moving x = %v, want %v", got, want)
	}
}

// TestUserLoginsFollowUpdates checks that an Update frees the old email
// and username for others and that FindByLogin follows the change.
func TestUserLoginsFollowUpdates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	us := redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(e.prefix(t)))
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann"}}
	bob := &conformance.Member{Account: loginkit.Account{Email: "bob@example.com", Username: "bob"}}
	for _, u := range []*conformance.Member{ann, bob} {
		if err := us.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	bob.Email, bob.Username = "ANN@example.com", "robert"
	if err := us.Update(ctx, bob); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Fatalf("Update to a taken email = %v, want ErrDuplicate", err)
	}
	if u, err := us.FindByLogin(ctx, "bob"); err != nil || u.ID != bob.ID || u.Email != "bob@example.com" {
		t.Fatalf("after a refused Update, FindByLogin(bob) = %+v, %v", u, err)
	}
	ann.Email, ann.Username = "anna@example.com", "anna"
	if err := us.Update(ctx, ann); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"ann@example.com", "ann"} {
		if _, err := us.FindByLogin(ctx, login); !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("FindByLogin(%q) after ann changed it = %v, want ErrNotFound", login, err)
		}
	}
	if u, err := us.FindByLogin(ctx, " ANNA "); err != nil || u.ID != ann.ID {
		t.Errorf("FindByLogin(ANNA) = %v, %v; want ann", u, err)
	}
	if err := us.Update(ctx, bob); err != nil {
		t.Fatalf("Update to a freed email: %v", err)
	}
	if u, err := us.FindByLogin(ctx, "ann@example.com"); err != nil || u.ID != bob.ID {
		t.Errorf("FindByLogin(ann@example.com) = %v, %v; want bob", u, err)
	}
	if err := us.Delete(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := us.Create(ctx, &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "robert"}}); err != nil {
		t.Errorf("Create with a deleted user's email and username: %v", err)
	}
}
