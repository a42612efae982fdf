package redisstore_test

import (
	"testing"

	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

// TestSessionValues runs the session-values scenario through the manager
// on Redis.
func TestSessionValues(t *testing.T) {
	e := newEnv(t)
	p := redisstore.WithPrefix(e.prefix(t))
	valuestest.Run(t, redisstore.NewSessions(e.rdb, p), redisstore.NewTokens(e.rdb, p))
}
