package cookiestore_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// TestOpenAtDecidesExpiryAtTheGivenTime checks that OpenAt answers as
// Open would at the time it is given, whatever the store's clock says.
func TestOpenAtDecidesExpiryAtTheGivenTime(t *testing.T) {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st, err := cookiestore.New(bytes.Repeat([]byte{3}, cookiestore.KeySize),
		cookiestore.WithClock(func() time.Time { return start }))
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Seal(&loginkit.Session{
		UserID: "u1", CreatedAt: start, AuthenticatedAt: start, LastSeenAt: start,
		ExpiresAt: start.Add(time.Hour), AbsoluteExpiresAt: start.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := st.OpenAt(v, start.Add(59*time.Minute)); err != nil || s.UserID != "u1" {
		t.Fatalf("OpenAt before expiry = %v, %v; want the session", s, err)
	}
	if _, err := st.OpenAt(v, start.Add(time.Hour)); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("OpenAt at ExpiresAt: %v, want ErrNotFound", err)
	}
	if s, err := st.Open(v); err != nil || s.UserID != "u1" {
		t.Fatalf("Open by the store's clock = %v, %v; want the session", s, err)
	}
	if _, err := st.OpenAt("not-a-sealed-value", start); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("OpenAt of garbage: %v, want ErrNotFound", err)
	}
}
