package sqlstore_test

import (
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/loginfuzz"
)

// FuzzRegisterAuthenticate feeds arbitrary bytes to Register and
// Authenticate on a SQLite database: every answer is a success or a
// documented refusal, never a driver error (SQLite and PostgreSQL refuse
// a NUL byte in text) surfacing as a store failure.
func FuzzRegisterAuthenticate(f *testing.F) {
	loginfuzz.Run(f, func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
		db, opt, _ := fresh(tb, backends[0])
		return sqlstore.NewUsers[conformance.Member](db, opt)
	}, func() *conformance.Member { return &conformance.Member{} })
}
