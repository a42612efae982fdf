package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// TestGetAtDecidesExpiryAtTheGivenTime checks that GetAt answers as Get
// would at the time it is given, whatever the store's clock says, and
// removes a session expired at that time.
func TestGetAtDecidesExpiryAtTheGivenTime(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st := memstore.NewSessions(memstore.WithClock(func() time.Time { return start }))
	s := &loginkit.Session{
		Key: "k1", UserID: "u1", CreatedAt: start, AuthenticatedAt: start, LastSeenAt: start,
		ExpiresAt: start.Add(time.Hour), AbsoluteExpiresAt: start.Add(2 * time.Hour),
	}
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetAt(ctx, "k1", start.Add(59*time.Minute))
	if err != nil || got.UserID != "u1" {
		t.Fatalf("GetAt before expiry = %v, %v; want the session", got, err)
	}
	if _, err := st.GetAt(ctx, "k1", start.Add(time.Hour)); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("GetAt at ExpiresAt: %v, want ErrNotFound", err)
	}
	// The store's own clock still says the session is live, but GetAt at
	// its expiry removed it.
	if _, err := st.Get(ctx, "k1"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("Get after GetAt found it expired: %v, want ErrNotFound (removed)", err)
	}
	if _, err := st.GetAt(ctx, "missing", start); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("GetAt of a missing key: %v, want ErrNotFound", err)
	}
}
