package loginkit_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

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

// logoutDuringRequest deletes each session right after Get returns it,
// as a Logout in another request would between this request's read and
// its "last seen" update.
type logoutDuringRequest struct {
	*memstore.Sessions
	armed atomic.Bool
}

func (l *logoutDuringRequest) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	s, err := l.Sessions.Get(ctx, key)
	if err == nil && l.armed.Load() {
		_ = l.Sessions.Delete(ctx, key)
	}
	return s, err
}

// TestTouchCannotResurrectLoggedOutSession checks that a request in
// flight when its session is deleted does not write the session back with
// its throttled last-seen update: the copied cookie stays dead.
func TestTouchCannotResurrectLoggedOutSession(t *testing.T) {
	sessions := &logoutDuringRequest{Sessions: memstore.NewSessions()}
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.Sessions(sessions) })
	ann := a.register("ann", "pw-ann-123")
	b := a.browser()
	b.mustLogin("ann", "pw-ann-123", false)
	copied := b.clone()
	a.clock.Advance(10 * time.Minute) // past the touch interval: this request writes
	sessions.armed.Store(true)
	_ = b.get("/protected")
	sessions.armed.Store(false)
	if got := copied.whoami(); got != "anonymous" {
		t.Fatalf("a cookie whose session was deleted mid-request still works: %q", got)
	}
	n, err := sessions.ListByUser(context.Background(), ann.ID)
	if err != nil || len(n) != 0 {
		t.Fatalf("sessions left after the delete: %v, %v", n, err)
	}
}
