package loginkit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
	"unsafe"
)

// sizeUser is a user type for measuring the request state.
type sizeUser struct{ Account }

func (u *sizeUser) UserID() string { return u.ID }
func (u *sizeUser) IsActive() bool { return !u.Disabled }

// TestRequestStateFitsItsSizeClass keeps the per-request allocation that
// carries the context node, the state and the response writer within 96
// bytes, one of the allocator's size classes: each step up costs every
// request (bench's BenchmarkAuthenticatedGET shows it in B/op). Fields few
// requests need belong in stateExtra.
func TestRequestStateFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(reqState[*sizeUser]{}); n > 96 {
		t.Errorf("reqState is %d bytes; keep it within 96 (move rare fields to stateExtra)", n)
	}
}

// TestResponseWriterIsNotAContext checks that the writer handlers get is
// the request state seen as a trackingWriter only: the context's methods
// stay off it.
func TestResponseWriterIsNotAContext(t *testing.T) {
	c := &reqState[*sizeUser]{orig: httptest.NewRequest(http.MethodGet, "/", nil)}
	var w http.ResponseWriter = c.writer()
	if _, ok := w.(context.Context); ok {
		t.Fatal("the response writer implements context.Context")
	}
	if _, ok := any(c).(context.Context); !ok {
		t.Fatal("the request state is not a context.Context")
	}
}

// TestRequestStateKeepsTheParentContext checks that the context node the
// middleware puts on the request answers for its parent: deadline,
// cancellation and the parent's values reach the handler unchanged.
func TestRequestStateKeepsTheParentContext(t *testing.T) {
	type parentKey struct{}
	m, err := New[*sizeUser]().RequestLoader(func(*http.Request) (*sizeUser, error) { return nil, nil }).Build()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), parentKey{}, "v"), deadline)
	var got context.Context
	h := m.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Context() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent))
	if _, ok := got.(*reqState[*sizeUser]); !ok {
		t.Fatalf("handler's context is %T, not the request state", got)
	}
	if d, ok := got.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline() = %v, %v; want %v, true", d, ok, deadline)
	}
	if v := got.Value(parentKey{}); v != "v" {
		t.Errorf("Value(parentKey) = %v, want the parent's value", v)
	}
	if got.Err() != nil {
		t.Fatalf("Err() = %v before cancel", got.Err())
	}
	cancel()
	select {
	case <-got.Done():
	default:
		t.Fatal("Done() is not closed after the parent was cancelled")
	}
	if !errors.Is(got.Err(), context.Canceled) {
		t.Errorf("Err() = %v, want context.Canceled", got.Err())
	}
}
