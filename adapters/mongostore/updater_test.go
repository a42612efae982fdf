package mongostore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// mongostoreMembers is the store newMembers returns.
type mongostoreMembers = mongostore.Users[conformance.Member, *conformance.Member]

// The store must be usable as the manager's atomic updater.
var _ loginkit.UserUpdater[*conformance.Member] = (*mongostoreMembers)(nil)

// newMember stores a member with the given email and returns it.
func newMember(tb testing.TB, us *mongostoreMembers, email string) *conformance.Member {
	tb.Helper()
	m := &conformance.Member{Account: loginkit.Account{Email: email}}
	if err := us.Create(ctx(tb), m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// wantNoLocks fails the test if a lock document was left behind.
func wantNoLocks(tb testing.TB, us *mongostoreMembers) {
	tb.Helper()
	n, err := us.LockCollection().CountDocuments(ctx(tb), bson.D{})
	if err != nil {
		tb.Fatal(err)
	}
	if n != 0 {
		tb.Errorf("%d lock documents left behind", n)
	}
}

// TestUpdateUserConcurrentIncrements runs 20 concurrent increments of
// FailedLogins through UpdateUser on the test server. A replace
// conditioned on a revision alone loses most of them on FerretDB 1.x,
// whose updates are a query and a write by _id; the lock keeps them all.
func TestUpdateUserConcurrentIncrements(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "count@example.com")
	const n = 20
	errs := concurrently(n, func(int) error {
		_, err := us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error {
			u.FailedLogins++
			return nil
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("UpdateUser %d: %v", i, err)
		}
	}
	got, err := us.LoadUser(ctx(t), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FailedLogins != n {
		t.Errorf("FailedLogins: want %d, got %d (updates lost)", n, got.FailedLogins)
	}
	wantNoLocks(t, us)
}

// TestUpdateUserRetriesOnConflict forces a write between UpdateUser's
// load and its replace, by a writer that does not take the lock (as a
// holder whose lease ran out would): the conditional replace fails,
// change runs again on the newer user, and neither write is lost.
func TestUpdateUserRetriesOnConflict(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "retry@example.com")
	calls := 0
	got, err := us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error {
		calls++
		if calls == 1 {
			_, err := us.Collection().UpdateOne(ctx(t), bson.D{{Key: "_id", Value: m.ID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: true}, {Key: "_rev", Value: "intruder"}}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		u.FailedLogins++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("change: want 2 calls (one retry), got %d", calls)
	}
	if !got.Disabled || got.FailedLogins != 1 {
		t.Errorf("returned user: want Disabled and FailedLogins 1, got %v and %d", got.Disabled, got.FailedLogins)
	}
	stored, err := us.LoadUser(ctx(t), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Disabled || stored.FailedLogins != 1 {
		t.Errorf("stored user: want Disabled and FailedLogins 1, got %v and %d", stored.Disabled, stored.FailedLogins)
	}
	wantNoLocks(t, us)
}

// TestUpdateUserWithoutRevision updates a document written before
// revisions were kept (no _rev field).
func TestUpdateUserWithoutRevision(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "old@example.com")
	if _, err := us.Collection().UpdateOne(ctx(t), bson.D{{Key: "_id", Value: m.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "_rev", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error {
		u.SessionVersion = 7
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw, err := us.Collection().FindOne(ctx(t), bson.D{{Key: "_id", Value: m.ID}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if rev, ok := raw.Lookup("_rev").StringValueOK(); !ok || rev == "" {
		t.Errorf("_rev after UpdateUser: want a revision, got %s", raw.Lookup("_rev"))
	}
	if v := raw.Lookup("session_version").AsInt64(); v != 7 {
		t.Errorf("session_version: want 7, got %d", v)
	}
}

// TestUpdateUserWaitsForLock holds a user's lock as another writer would:
// UpdateUser and Update wait, give up with their context and change
// nothing; once the lock is released they proceed.
func TestUpdateUserWaitsForLock(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "wait@example.com")
	held := bson.D{{Key: "_id", Value: "other-writer"}, {Key: "user_id", Value: m.ID}, {Key: "expires_at", Value: time.Now().Add(time.Hour)}}
	if _, err := us.LockCollection().InsertOne(ctx(t), held); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	called := false
	_, err := us.UpdateUser(short, m.ID, func(u *conformance.Member) error {
		called = true
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("UpdateUser with the lock held: want context.DeadlineExceeded, got %v", err)
	}
	if called {
		t.Error("UpdateUser called change without the lock")
	}
	m.Disabled = true
	if err := us.Update(short, m); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update with the lock held: want context.DeadlineExceeded, got %v", err)
	}
	if got, err := us.LoadUser(ctx(t), m.ID); err != nil || got.Disabled {
		t.Fatalf("user after refused writes: %v, Disabled %v", err, got != nil && got.Disabled)
	}

	if _, err := us.LockCollection().DeleteOne(ctx(t), bson.D{{Key: "_id", Value: "other-writer"}}); err != nil {
		t.Fatal(err)
	}
	if err := us.Update(ctx(t), m); err != nil {
		t.Fatalf("Update after release: %v", err)
	}
	if _, err := us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error { return nil }); err != nil {
		t.Fatalf("UpdateUser after release: %v", err)
	}
	wantNoLocks(t, us)
}

// TestUpdateUserTakesOverExpiredLock leaves a lock whose lease has run
// out, as a writer that died would: the next write removes it and
// proceeds.
func TestUpdateUserTakesOverExpiredLock(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "dead@example.com")
	stale := bson.D{{Key: "_id", Value: "dead-writer"}, {Key: "user_id", Value: m.ID}, {Key: "expires_at", Value: time.Now().Add(-time.Second)}}
	if _, err := us.LockCollection().InsertOne(ctx(t), stale); err != nil {
		t.Fatal(err)
	}
	got, err := us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error {
		u.FailedLogins = 3
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.FailedLogins != 3 {
		t.Errorf("FailedLogins: want 3, got %d", got.FailedLogins)
	}
	wantNoLocks(t, us)
}

// TestUpdateUserErrors checks the errors of UpdateUser that the
// conformance suite does not, and that each leaves no lock behind.
func TestUpdateUserErrors(t *testing.T) {
	us := newMembers(t)
	m := newMember(t, us, "errors@example.com")
	newMember(t, us, "taken@example.com")
	errChange := errors.New("refused")
	cases := []struct {
		name   string
		id     string
		change func(u *conformance.Member) error
		want   error
	}{
		{"ChangeError", m.ID, func(u *conformance.Member) error { u.Disabled = true; return errChange }, errChange},
		{"Missing", "no-such-user", func(u *conformance.Member) error { return nil }, loginkit.ErrNotFound},
		{"EmptyID", "", func(u *conformance.Member) error { return nil }, loginkit.ErrNotFound},
		{"EmailTaken", m.ID, func(u *conformance.Member) error { u.Email = "TAKEN@example.com"; return nil }, loginkit.ErrDuplicate},
		{"EmailWithoutAt", m.ID, func(u *conformance.Member) error { u.Email = "errors"; return nil }, loginkit.ErrInvalid},
		{"UsernameWithAt", m.ID, func(u *conformance.Member) error { u.Username = "a@b"; return nil }, loginkit.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := us.UpdateUser(ctx(t), c.id, c.change); !errors.Is(err, c.want) {
				t.Errorf("want %v, got %v", c.want, err)
			}
			got, err := us.LoadUser(ctx(t), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Disabled || got.Email != "errors@example.com" || got.Username != "" {
				t.Errorf("a failed UpdateUser stored a change: %+v", got.Account)
			}
			wantNoLocks(t, us)
		})
	}
	t.Run("ChangeCannotMoveID", func(t *testing.T) {
		before, err := us.LoadUser(ctx(t), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = us.UpdateUser(ctx(t), m.ID, func(u *conformance.Member) error { u.ID = "elsewhere"; u.Age = 40; return nil })
		if !errors.Is(err, loginkit.ErrInvalid) {
			t.Fatalf("UpdateUser changing the ID: want ErrInvalid, got %v", err)
		}
		got, err := us.LoadUser(ctx(t), m.ID)
		if err != nil || got.Age != before.Age {
			t.Errorf("after a refused ID change: want the user unchanged (Age %d), got %+v, %v", before.Age, got, err)
		}
		if _, err := us.LoadUser(ctx(t), "elsewhere"); !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("LoadUser(elsewhere): want ErrNotFound, got %v", err)
		}
		wantNoLocks(t, us)
	})
}
