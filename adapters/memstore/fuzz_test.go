package memstore_test

import (
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/loginfuzz"
)

// FuzzRegisterAuthenticate feeds arbitrary bytes to Register and
// Authenticate on a memstore: every answer is a success or a documented
// refusal, never a store error.
func FuzzRegisterAuthenticate(f *testing.F) {
	loginfuzz.Run(f, func(testing.TB) loginkit.UserStore[*conformance.Member] {
		return memstore.NewUsers[conformance.Member]()
	}, func() *conformance.Member { return &conformance.Member{} })
}
