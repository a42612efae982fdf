package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
)

var _ loginkit.UserUpdater[*conformance.Member] = redisstore.NewUsers[conformance.Member](nil)

// newMemberStore returns a user store under a fresh prefix holding one
// user, ann@example.com, and that user's ID.
func newMemberStore(t *testing.T) (*redisstore.Users[conformance.Member, *conformance.Member], string) {
	t.Helper()
	e := newEnv(t)
	us := redisstore.NewUsers[conformance.Member](e.rdb, redisstore.WithPrefix(e.prefix(t)))
	u := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann"}, DisplayName: "Ann"}
	if err := us.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return us, u.ID
}

// TestUpdateUserRetriesOnConflict forces the compare-and-swap to lose: the
// first call of change writes the user through Update (as an admin would,
// disabling the account and bumping its session version) after UpdateUser
// has read it. UpdateUser must then read again and call change a second
// time, so that the final user holds both writes.
func TestUpdateUserRetriesOnConflict(t *testing.T) {
	us, id := newMemberStore(t)
	ctx := context.Background()
	calls := 0
	got, err := us.UpdateUser(ctx, id, func(u *conformance.Member) error {
		calls++
		if calls == 1 {
			admin, err := us.LoadUser(ctx, id)
			if err != nil {
				return err
			}
			admin.Disabled = true
			admin.SessionVersion++
			if err := us.Update(ctx, admin); err != nil {
				return err
			}
		}
		u.FailedLogins++
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if calls != 2 {
		t.Errorf("change called %d times, want 2 (one lost compare-and-swap, one retry)", calls)
	}
	stored, err := us.LoadUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*conformance.Member{got, stored} {
		if !m.Disabled || m.SessionVersion != 1 || m.FailedLogins != 1 || m.DisplayName != "Ann" {
			t.Errorf("user = Disabled %v, SessionVersion %d, FailedLogins %d, DisplayName %q; want true, 1, 1, Ann",
				m.Disabled, m.SessionVersion, m.FailedLogins, m.DisplayName)
		}
	}
}

// TestUpdateUserDeletedMeanwhile deletes the user after UpdateUser has
// read it: the compare-and-swap finds no user, stores nothing, and
// UpdateUser reports loginkit.ErrNotFound without calling change again.
func TestUpdateUserDeletedMeanwhile(t *testing.T) {
	us, id := newMemberStore(t)
	ctx := context.Background()
	calls := 0
	_, err := us.UpdateUser(ctx, id, func(u *conformance.Member) error {
		calls++
		if err := us.Delete(ctx, id); err != nil {
			return err
		}
		u.Email = "bob@example.com"
		return nil
	})
	if !errors.Is(err, loginkit.ErrNotFound) || calls != 1 {
		t.Errorf("UpdateUser = %v after %d calls of change; want ErrNotFound after 1", err, calls)
	}
	if _, err := us.FindByLogin(ctx, "bob@example.com"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("FindByLogin(new email) = %v; want ErrNotFound", err)
	}
	_, total, err := us.List(ctx, loginkit.ListOptions{})
	if err != nil || total != 0 {
		t.Errorf("List total = %d, %v; want 0", total, err)
	}
}

// TestUpdateUserConcurrent runs 10 goroutines that each increment
// FailedLogins 10 times through UpdateUser, beside one that changes the
// email and username back and forth: no increment is lost, and the logins
// hash ends up naming the user by its final email and username only.
func TestUpdateUserConcurrent(t *testing.T) {
	us, id := newMemberStore(t)
	ctx := context.Background()
	const workers, each = 10, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+10)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := us.UpdateUser(ctx, id, func(u *conformance.Member) error {
					u.FailedLogins++
					return nil
				}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			email, name := "ann@example.com", "ann"
			if i%2 == 0 {
				email, name = "Anna@Example.com", "Anna"
			}
			if _, err := us.UpdateUser(ctx, id, func(u *conformance.Member) error {
				u.Email, u.Username = email, name
				return nil
			}); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	u, err := us.LoadUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedLogins != workers*each {
		t.Errorf("FailedLogins = %d, want %d", u.FailedLogins, workers*each)
	}
	for login, want := range map[string]bool{"ann@example.com": true, "ann": true, "anna@example.com": false, "anna": false} {
		_, err := us.FindByLogin(ctx, login)
		if found := err == nil; found != want {
			t.Errorf("FindByLogin(%q) = %v; want found %v", login, err, want)
		}
	}
}

// TestUpdateUserRefusals covers the outcomes that store nothing: change
// failing, a change of ID, an invalid or taken email or username, a done
// context, and a missing user.
func TestUpdateUserRefusals(t *testing.T) {
	us, id := newMemberStore(t)
	ctx := context.Background()
	if err := us.Create(ctx, &conformance.Member{Account: loginkit.Account{Email: "bob@example.com", Username: "bob"}}); err != nil {
		t.Fatal(err)
	}
	errChange := errors.New("change refused")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		id     string
		change func(u *conformance.Member)
		want   error
	}{
		{"change error", ctx, id, nil, errChange},
		{"ID changed", ctx, id, func(u *conformance.Member) { u.ID = "other" }, loginkit.ErrInvalid},
		{"email without @", ctx, id, func(u *conformance.Member) { u.Email = "ann" }, loginkit.ErrInvalid},
		{"username with @", ctx, id, func(u *conformance.Member) { u.Username = "ann＠x" }, loginkit.ErrInvalid},
		{"email taken", ctx, id, func(u *conformance.Member) { u.Email = " BOB@example.com" }, loginkit.ErrDuplicate},
		{"username taken", ctx, id, func(u *conformance.Member) { u.Username = "Bob" }, loginkit.ErrDuplicate},
		{"context done", cancelled, id, func(*conformance.Member) {}, context.Canceled},
		{"missing user", ctx, "no-such-user", func(*conformance.Member) {}, loginkit.ErrNotFound},
		{"empty ID", ctx, "", func(*conformance.Member) {}, loginkit.ErrNotFound},
	}
	for _, c := range cases {
		_, err := us.UpdateUser(c.ctx, c.id, func(u *conformance.Member) error {
			u.DisplayName = "changed"
			if c.change == nil {
				return errChange
			}
			c.change(u)
			return nil
		})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: UpdateUser = %v; want %v", c.name, err, c.want)
		}
	}
	u, err := us.LoadUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Ann" || u.Email != "ann@example.com" || u.Username != "ann" {
		t.Errorf("user after refused changes = %q, %q, %q; want Ann, ann@example.com, ann", u.DisplayName, u.Email, u.Username)
	}
}

// TestCreateUpdateRefuseInvalidEmail checks that plain Create and Update
// refuse an email that is not loginkit.ValidEmail.
func TestCreateUpdateRefuseInvalidEmail(t *testing.T) {
	us, id := newMemberStore(t)
	ctx := context.Background()
	for _, email := range []string{"ann", " example.com "} {
		u := &conformance.Member{Account: loginkit.Account{Email: email}}
		if err := us.Create(ctx, u); !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("Create(email %q) = %v; want ErrInvalid", email, err)
		}
		stored, err := us.LoadUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		stored.Email = email
		if err := us.Update(ctx, stored); !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("Update(email %q) = %v; want ErrInvalid", email, err)
		}
	}
	_, total, err := us.List(ctx, loginkit.ListOptions{})
	if err != nil || total != 1 {
		t.Errorf("List total = %d, %v; want 1", total, err)
	}
	if u, err := us.FindByLogin(ctx, "ann@example.com"); err != nil || u.ID != id {
		t.Errorf("FindByLogin(ann@example.com) = %v; want the unchanged user", err)
	}
}
