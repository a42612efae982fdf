package ratelimit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
)

func TestMemorySlidingWindow(t *testing.T) {
	l := ratelimit.NewMemory()
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	rate := ratelimit.Rate{Count: 3, Per: time.Minute}
	allow := func(key string, at time.Time) bool {
		ok, err := l.Allow(ctx, key, rate, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 3 {
		if !allow("a", now.Add(time.Duration(i)*10*time.Second)) {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if allow("a", now.Add(30*time.Second)) {
		t.Fatal("4th event within the window allowed")
	}
	if !allow("b", now.Add(30*time.Second)) {
		t.Fatal("another key refused")
	}
	// The window is (now-Per, now]: at +60s the first event has left
	// it, and the refused event at +30s was not counted.
	if allow("a", now.Add(60*time.Second-time.Millisecond)) {
		t.Fatal("allowed while the first event is still in the window")
	}
	if !allow("a", now.Add(60*time.Second)) {
		t.Fatal("refused after the first event left the window")
	}
	if allow("a", now.Add(61*time.Second)) {
		t.Fatal("allowed a 4th event in the new window")
	}
	for _, r := range []ratelimit.Rate{{Count: -1}, {Count: -1, Per: time.Second}} {
		if ok, _ := l.Allow(ctx, "a", r, now); !ok {
			t.Errorf("unlimited rate %+v refused", r)
		}
	}
	if ok, _ := l.Allow(ctx, "z", ratelimit.Rate{Count: 0, Per: time.Minute}, now); ok {
		t.Error("a zero count allowed an event")
	}
}

func TestMemoryBoundsKeys(t *testing.T) {
	l := ratelimit.NewMemory()
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	rate := ratelimit.Rate{Count: 1, Per: time.Minute}
	for i := range ratelimit.DefaultMaxKeys {
		if ok, _ := l.Allow(ctx, strconv.Itoa(i), rate, now); !ok {
			t.Fatalf("key %d refused", i)
		}
	}
	if ok, _ := l.Allow(ctx, "one too many", rate, now); ok {
		t.Fatal("a new key beyond the bound was allowed (must fail closed)")
	}
	// Once the old keys' events have left their window, they make room.
	if ok, _ := l.Allow(ctx, "later", rate, now.Add(2*time.Minute)); !ok {
		t.Fatal("expired keys were not dropped")
	}
}
