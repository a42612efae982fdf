// Package testenv locates the test servers (PostgreSQL, Redis, MongoDB, Mailpit,
// Chromium) that scripts/test starts, for the project's own tests.
package testenv

import (
	"os"
	"testing"
)

// Environment variables naming the test servers. scripts/services.sh
// exports them.
const (
	PostgresURL = "LOGINKIT_POSTGRES_URL"
	RedisURL    = "LOGINKIT_REDIS_URL"
	MongoURL    = "LOGINKIT_MONGO_URL"
	Chromium    = "LOGINKIT_CHROMIUM"
)

// CI reports whether the tests run under CI (CI=true), where a missing
// server is a failure rather than a skip.
func CI() bool { return os.Getenv("CI") == "true" }

// Require returns the value of the environment variable name. When it is
// unset, the test fails under CI=true and is skipped otherwise, with a
// message naming the variable.
func Require(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := name + " is not set: run the tests with scripts/test, which starts the servers, or point " + name + " at a server of your own"
	if CI() {
		tb.Fatal(msg + " (CI=true: a missing server is a failure)")
	}
	tb.Skip(msg)
	return ""
}
