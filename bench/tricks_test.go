package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/loginkit/loginkit/internal/hotpath"
)

var (
	sinkString string
	sinkAny    any
)

// requestState stands for the manager's per-request state: a few words.
type requestState struct {
	user    any
	authed  bool
	session *struct{}
	err     error
}

type stateKey struct{}

// stateContext is the manager's one-allocation trick (its reqState in
// middleware.go): the context node and the request state in one
// allocation, answering Value(key) with a pointer to the state, where
// context.WithValue and a separately allocated state take two.
type stateContext struct {
	context.Context
	key   *stateKey
	state requestState
}

func (c *stateContext) Value(key any) any {
	if k, ok := key.(*stateKey); ok && k == c.key {
		return &c.state
	}
	return c.Context.Value(key)
}

// BenchmarkHotPathTricks compares each hand-written part of the request
// path in internal/hotpath with the standard way it replaces, on the
// inputs of an authenticated request. A trick stays only while its
// sub-benchmark shows it saving allocations or time.
func BenchmarkHotPathTricks(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/account", nil)
	// A browser's Cookie header: the session cookie among a few others.
	r.Header.Set("Cookie", "_ga=GA1.1.123456789.1700000000; theme=dark; __Host-session=q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c; _gid=GA1.1.987654321.1700000000")
	const name = "__Host-session"
	want, _ := r.Cookie(name)
	token := want.Value

	b.Run("cookie/std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := r.Cookie(name)
			if err != nil {
				b.Fatal(err)
			}
			sinkString = c.Value
		}
	})
	b.Run("cookie/hotpath", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, bad := hotpath.CookieValue(r.Header, name, 4096)
			if bad || v != token {
				b.Fatalf("got %q, %v", v, bad)
			}
			sinkString = v
		}
	})

	b.Run("clock/std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkTime = time.Now()
		}
	})
	b.Run("clock/hotpath", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkTime = hotpath.Now()
		}
	})

	b.Run("hash/std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256([]byte(token))
			sinkString = base64.RawURLEncoding.EncodeToString(sum[:])
		}
	})
	b.Run("hash/hotpath", func(b *testing.B) {
		b.ReportAllocs()
		sum := sha256.Sum256([]byte(token))
		if hotpath.HashToken(token) != base64.RawURLEncoding.EncodeToString(sum[:]) {
			b.Fatal("HashToken differs from base64url(SHA-256)")
		}
		for b.Loop() {
			sinkString = hotpath.HashToken(token)
		}
	})

	b.Run("context/std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st := &requestState{authed: true}
			ctx := context.WithValue(r.Context(), stateKey{}, st)
			sinkAny = ctx.Value(stateKey{})
		}
	})
	b.Run("context/hotpath", func(b *testing.B) {
		b.ReportAllocs()
		key := &stateKey{}
		for b.Loop() {
			c := &stateContext{Context: r.Context(), key: key}
			c.state.authed = true
			sinkAny = c.Value(key)
		}
	})
}

var sinkTime time.Time
