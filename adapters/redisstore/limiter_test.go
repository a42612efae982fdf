package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/ratelimit"
)

func TestLimiterConformance(t *testing.T) {
	e := newEnv(t)
	conformance.TestLimiter(t, conformance.LimiterHarness{
		New: func(tb testing.TB) ratelimit.Limiter {
			return redisstore.NewLimiter(e.rdb, redisstore.WithPrefix(e.prefix(tb)))
		},
	})
}

// TestLimiterSharedAcrossInstances: two limiters on one Redis (two
// application instances) share their counts, and the key expires once
// its window has passed.
func TestLimiterSharedAcrossInstances(t *testing.T) {
	e := newEnv(t)
	p := e.prefix(t)
	a, b := redisstore.NewLimiter(e.rdb, redisstore.WithPrefix(p)), redisstore.NewLimiter(e.rdb, redisstore.WithPrefix(p))
	ctx := context.Background()
	r := ratelimit.Rate{Count: 2, Per: 300 * time.Millisecond}
	now := time.Now()
	for i, l := range []*redisstore.Limiter{a, b, a, b} {
		ok, err := l.Allow(ctx, "reset:client:192.0.2.1", r, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 2; ok != want {
			t.Fatalf("call %d: %v, want %v", i+1, ok, want)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, err := e.raw.Keys(ctx, p+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("limiter keys left after the window: %v", keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
