package main

import (
	"context"
	"os"
	"time"

	"github.com/loginkit/loginkit/bench"
)

// soakRun runs bench.Soak and prints its report as markdown.
func soakRun(d time.Duration, rate, users int, bound, idle time.Duration) error {
	rep, err := bench.Soak(context.Background(), bench.SoakConfig{
		RedisURL: os.Getenv("LOGINKIT_REDIS_URL"),
		Duration: d, Rate: rate, Users: users, Bound: bound, Idle: idle,
		Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	rep.Markdown(os.Stdout)
	return nil
}
