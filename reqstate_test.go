package loginkit

import (
	"context"
	"net/http"
	"testing"
	"unsafe"
)

// sizeUser is a user type for measuring the request state.
type sizeUser struct{ Account }

func (u *sizeUser) UserID() string { return u.ID }
func (u *sizeUser) IsActive() bool { return !u.Disabled }

// TestRequestStateFitsItsSizeClass keeps the per-request allocation that
// carries the context node, the state and the response writer within 112
// bytes, one of the allocator's size classes: each step up costs every
// request (bench's BenchmarkAuthenticatedGET shows it in B/op). Fields few
// requests need belong in stateExtra.
func TestRequestStateFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(reqState[*sizeUser]{}); n > 112 {
		t.Errorf("reqState is %d bytes; keep it within 112 (move rare fields to stateExtra)", n)
	}
}

// TestResponseWriterIsNotAContext checks that the writer handlers get is
// the request state seen as a trackingWriter only: the context's methods
// stay off it.
func TestResponseWriterIsNotAContext(t *testing.T) {
	c := &reqState[*sizeUser]{parent: context.Background()}
	var w http.ResponseWriter = c.writer()
	if _, ok := w.(context.Context); ok {
		t.Fatal("the response writer implements context.Context")
	}
	if _, ok := any(c).(context.Context); !ok {
		t.Fatal("the request state is not a context.Context")
	}
}
