package mongostore_test

import (
	"testing"

	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

// TestSessionValues runs the session-values scenario through the manager
// on MongoDB (FerretDB in CI).
func TestSessionValues(t *testing.T) {
	db := migratedDB(t)
	valuestest.Run(t, mongostore.NewSessions(db), mongostore.NewTokens(db))
}
