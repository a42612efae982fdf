package policies_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/policies"
)

// TestLockoutThroughAuthenticate checks Lockout as the manager
// uses them: the lockout state is saved in the store by Authenticate,
// refuses even the right password while locked, and resets on success.
func TestLockoutThroughAuthenticate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	users := memstore.NewUsers[Staff]()
	h := hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000)))
	m, err := loginkit.New[*Staff]().
		Users(users).Sessions(memstore.NewSessions()).Hasher(h).
		Policies(policies.Lockout(2, 10*time.Minute, 15*time.Minute)).
		Clock(func() time.Time { return now }).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(ctx, "right")
	if err != nil {
		t.Fatal(err)
	}
	ann := &Staff{Account: loginkit.Account{Email: "ann@example.com", PasswordHash: enc}}
	if err := users.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := m.Authenticate(ctx, "ann@example.com", "wrong"); !errors.Is(err, loginkit.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	stored, err := users.LoadUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.FailedLogins != 2 || !stored.LockedUntil.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("stored lockout state: failed=%d until=%v", stored.FailedLogins, stored.LockedUntil)
	}
	if _, err := m.Authenticate(ctx, "ann@example.com", "right"); !errors.Is(err, loginkit.ErrLocked) {
		t.Fatalf("right password while locked: %v; want ErrLocked", err)
	}
	now = now.Add(15 * time.Minute)
	if _, err := m.Authenticate(ctx, "ann@example.com", "right"); err != nil {
		t.Fatalf("right password after the lock: %v", err)
	}
	stored, _ = users.LoadUser(ctx, ann.ID)
	if stored.FailedLogins != 0 || !stored.LockedUntil.IsZero() {
		t.Errorf("after success: failed=%d until=%v", stored.FailedLogins, stored.LockedUntil)
	}
	stored.Disabled = true
	if err := users.Update(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, "ann@example.com", "right"); !errors.Is(err, loginkit.ErrInactive) {
		t.Errorf("inactive user: %v; want ErrInactive", err)
	}
}
