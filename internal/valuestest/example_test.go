package valuestest_test

import (
	"fmt"
	"testing"

	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

// An adapter's test runs the scenario on its session and token stores:
//
//	func TestSessionValues(t *testing.T) {
//		valuestest.Run(t, redisstore.NewSessions(rdb, p), redisstore.NewTokens(rdb, p))
//	}
//
// The Example runs it on memstore with a stand-in for the test's t.
func Example() {
	t := &testing.T{}
	valuestest.Run(t, memstore.NewSessions(), memstore.NewTokens())
	fmt.Println("failed:", t.Failed())
	// Output:
	// failed: false
}
