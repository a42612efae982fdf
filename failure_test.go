package loginkit_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

var errStoreDown = errors.New("store unavailable")

// flakySessions wraps a real store and fails every call while down is set,
// as a store whose server has gone away does. The adapters' own fault
// tests stop real servers; this one pins down the manager's side.
type flakySessions struct {
	*memstore.Sessions
	down atomic.Bool
}

func (f *flakySessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	if f.down.Load() {
		return nil, errStoreDown
	}
	return f.Sessions.Get(ctx, key)
}

func (f *flakySessions) Save(ctx context.Context, s *loginkit.Session) error {
	if f.down.Load() {
		return errStoreDown
	}
	return f.Sessions.Save(ctx, s)
}

func TestStoreFailureOnProtectedRouteIs503(t *testing.T) {
	sessions := &flakySessions{Sessions: memstore.NewSessions()}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Sessions(sessions) })
	a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	sessions.down.Store(true)
	res := b.get("/protected")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("protected route while the store is down: %d, want 503", res.StatusCode)
	}
	if got := b.whoami(); got != "anonymous" {
		t.Fatalf("public page while the store is down: %q, want anonymous", got)
	}
	if b.cookie(sessionCookie) == "" {
		t.Fatal("a store failure must not clear the session cookie")
	}
	sessions.down.Store(false)
	if got := body(b.get("/protected")); got != "user:ann:fresh" {
		t.Fatalf("after recovery: %q", got)
	}
	// Login fails cleanly while the store is down.
	sessions.down.Store(true)
	if res := a.browser().login("ann", "pw-ann-123", false); res.StatusCode != http.StatusForbidden {
		t.Fatalf("login while the store is down: %d", res.StatusCode)
	}
}
