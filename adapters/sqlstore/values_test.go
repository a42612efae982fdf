package sqlstore_test

import (
	"testing"

	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

// TestSessionValues runs the session-values scenario through the manager
// on SQLite and PostgreSQL.
func TestSessionValues(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, opt, _ := fresh(t, b)
			valuestest.Run(t, sqlstore.NewSessions(db, opt), sqlstore.NewTokens(db, opt))
		})
	}
}
