package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Customer is an application's own user model: loginkit.Account, inlined
// so that its fields sit at the top level of each document, plus fields of
// the application's own, which the store keeps too.
type Customer struct {
	loginkit.Account `bson:",inline"`

	Name    string   `bson:"name"`
	Plan    string   `bson:"plan"`
	Credits int      `bson:"credits"`
	Tags    []string `bson:"tags"`
}

// This example stores a custom user model, finds it by a differently
// spelt email, and shows the unique index refusing a second account with
// the same address. It needs a server; TestExample runs it against the
// test server and checks what it prints.
func Example() {
	url := os.Getenv("LOGINKIT_MONGO_URL") // such as mongodb://127.0.0.1:27017/
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(url).SetTimeout(10 * time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database(exampleDBName())
	defer db.Drop(ctx)

	// Once at start-up, with the same options as the stores: the indexes.
	if err := mongostore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	users := mongostore.NewUsers[Customer](db) // a loginkit.UserStore[*Customer]
	sessions := mongostore.NewSessions(db)

	ann := &Customer{
		Account: loginkit.Account{Email: "ann@example.com", CreatedAt: time.Now()},
		Name:    "Ann Lee", Plan: "pro", Credits: 100, Tags: []string{"beta"},
	}
	if err := users.Create(ctx, ann); err != nil { // fills in ann.ID
		log.Fatal(err)
	}

	found, err := users.FindByLogin(ctx, "  ANN@Example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.Name, found.Plan, found.Credits, found.Tags)

	err = users.Create(ctx, &Customer{Account: loginkit.Account{Email: "Ann@example.com"}})
	fmt.Println("second account is a duplicate:", errors.Is(err, loginkit.ErrDuplicate))

	mode, err := sessions.ExpiryMode(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("expiry:", mode) // "filter" on FerretDB, "ttl" on MongoDB
}

// This example shows the collection names the options give. The stores
// send nothing until used, so it needs no server.
func ExampleWithPrefix() {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database("myapp")

	users := mongostore.NewUsers[Customer](db, mongostore.WithPrefix("shop_"))
	sessions := mongostore.NewSessions(db, mongostore.WithPrefix("shop_"))
	tokens := mongostore.NewTokens(db, mongostore.WithPrefix("shop_"))
	fmt.Println(users.Collection().Name(), sessions.Collection().Name(), tokens.Collection().Name())
	// Output:
	// shop_users shop_sessions shop_tokens
}

// TestExample runs Example against the test server and checks what it
// prints (an Example with an Output comment could not skip when there is
// no server).
func TestExample(t *testing.T) {
	client(t) // skips, or fails under CI, without a server
	got := testenv.Stdout(t, Example)
	mode := "ttl"
	if isFerretDB(t, freshDB(t)) {
		mode = "filter"
	}
	want := "Ann Lee pro 100 [beta]\nsecond account is a duplicate: true\nexpiry: " + mode + "\n"
	if got != want {
		t.Errorf("Example printed\n%s\nwant\n%s", got, want)
	}
}

// exampleDBName returns a database name of the example's own.
func exampleDBName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lkexample_" + hex.EncodeToString(b[:])
}
