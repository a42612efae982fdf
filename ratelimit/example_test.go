package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
)

// Example allows three events a minute per key: the fourth within the
// minute is refused, and the window slides.
func Example() {
	l := ratelimit.NewMemory()
	rate := ratelimit.Rate{Count: 3, Per: time.Minute}
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, at := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second, 61 * time.Second} {
		ok, err := l.Allow(context.Background(), "reset:client:192.0.2.1", rate, start.Add(at))
		fmt.Println(i+1, ok, err)
	}
	// Output:
	// 1 true <nil>
	// 2 true <nil>
	// 3 true <nil>
	// 4 false <nil>
	// 5 true <nil>
}
