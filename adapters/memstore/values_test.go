package memstore_test

import (
	"testing"

	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/internal/valuestest"
)

func TestSessionValues(t *testing.T) {
	valuestest.Run(t, memstore.NewSessions(), memstore.NewTokens())
}
