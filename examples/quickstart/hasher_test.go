package main

import (
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/hashers"
)

// testHasher is a cheap hasher for tests: PBKDF2 with 1000 iterations. It
// verifies every format the default hasher reads.
func testHasher(t *testing.T) loginkit.Hasher {
	t.Helper()
	return hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000)))
}
