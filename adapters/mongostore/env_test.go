package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// shared is the client every test shares, connected on first use to the
// server named by LOGINKIT_MONGO_URL and disconnected by TestMain.
var shared struct {
	once   sync.Once
	client *mongo.Client
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = shared.client.Disconnect(ctx)
		cancel()
	}
	os.Exit(code)
}

// client returns the shared client, skipping the test when
// LOGINKIT_MONGO_URL is unset (failing under CI=true).
func client(tb testing.TB) *mongo.Client {
	tb.Helper()
	url := testenv.Require(tb, testenv.MongoURL)
	shared.once.Do(func() {
		shared.client, shared.err = mongo.Connect(options.Client().ApplyURI(url).SetTimeout(30 * time.Second))
		if shared.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			shared.err = shared.client.Ping(ctx, nil)
			cancel()
		}
	})
	if shared.err != nil {
		tb.Fatalf("MongoDB server at %s (%s): %v", url, testenv.MongoURL, shared.err)
	}
	return shared.client
}

// freshDB returns a database of its own for the caller, on the shared
// client, dropped when the test ends.
func freshDB(tb testing.TB) *mongo.Database {
	tb.Helper()
	return dbOn(tb, client(tb))
}

// dbOn returns a new, uniquely named database on c, dropped when the test
// ends.
func dbOn(tb testing.TB, c *mongo.Client) *mongo.Database {
	tb.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	db := c.Database("lktest_" + hex.EncodeToString(b[:]))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("drop database %s: %v", db.Name(), err)
		}
	})
	return db
}

// ctx returns a context that ends with the test, with a generous deadline.
func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

// migratedDB returns a database of its own for the caller, as freshDB,
// after Migrate has run on it.
func migratedDB(tb testing.TB) *mongo.Database {
	tb.Helper()
	db := freshDB(tb)
	if err := mongostore.Migrate(ctx(tb), db); err != nil {
		tb.Fatal(err)
	}
	return db
}

// concurrently runs f(0) to f(n-1) in goroutines of their own and returns
// their errors once all have returned.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errs
}
