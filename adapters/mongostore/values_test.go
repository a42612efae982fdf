package mongostore_test

import (
	"testing"

	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

// TestSessionValues runs the session-values scenario through the manager
// on MongoDB (FerretDB in CI).
func TestSessionValues(t *testing.T) {
	db := freshDB(t)
	s, tk := mongostore.NewSessions(db), mongostore.NewTokens(db)
	if err := s.EnsureIndexes(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := tk.EnsureIndexes(ctx(t)); err != nil {
		t.Fatal(err)
	}
	valuestest.Run(t, s, tk)
}
