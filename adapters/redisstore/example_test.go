package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Staff is an application's user model: the Account the library needs,
// plus fields of the application's own, which the store keeps too.
type Staff struct {
	loginkit.Account
	IsAdmin  bool   `json:"is_admin"`
	Nickname string `json:"nickname"`
}

// This example stores a user and a session, finds them again, counts a
// failed login atomically, and logs the user out everywhere. It needs a Redis server; TestExample runs it
// against the test server.
func Example() {
	opt, err := redis.ParseURL(os.Getenv("LOGINKIT_REDIS_URL")) // such as redis://127.0.0.1:6379/0
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opt) // or redis.NewClusterClient, redis.NewFailoverClient
	defer rdb.Close()
	ctx := context.Background()

	users := redisstore.NewUsers[Staff](rdb, redisstore.WithPrefix("example:"))
	sessions := redisstore.NewSessions(rdb, redisstore.WithPrefix("example:"))

	ann := &Staff{Account: loginkit.Account{Email: "Ann@Example.com"}, IsAdmin: true, Nickname: "Annie"}
	if err := users.Create(ctx, ann); err != nil {
		log.Fatal(err)
	}
	err = users.Create(ctx, &Staff{Account: loginkit.Account{Email: "ann@example.com"}})
	fmt.Println("second ann:", err)

	found, err := users.FindByLogin(ctx, " ANN@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", found.Email, found.Nickname, found.IsAdmin)

	// UpdateUser changes the user as stored now, never a stale copy: a
	// concurrent write is kept, and change is run again on top of it.
	updated, err := users.UpdateUser(ctx, ann.ID, func(u *Staff) error {
		u.FailedLogins++
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("failed logins:", updated.FailedLogins)

	now := time.Now()
	s := &loginkit.Session{Key: "session-key", UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := sessions.Save(ctx, s); err != nil {
		log.Fatal(err)
	}
	got, err := sessions.Get(ctx, "session-key")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session belongs to ann:", got.UserID == ann.ID)

	n, err := sessions.DeleteByUser(ctx, ann.ID, "")
	if err != nil {
		log.Fatal(err)
	}
	_, err = sessions.Get(ctx, "session-key")
	fmt.Println("logged out everywhere:", n, "session;", err)

	if err := users.Delete(ctx, ann.ID); err != nil {
		log.Fatal(err)
	}
}

// TestExample runs Example against the test server and checks what it
// prints (an Example with an Output comment could not skip when there is
// no server).
func TestExample(t *testing.T) {
	e := newEnv(t)
	clean := func() {
		keys, err := e.keys("example:")
		if err != nil {
			t.Error(err)
		}
		for _, k := range keys {
			e.raw.Unlink(context.Background(), k)
		}
	}
	clean()
	t.Cleanup(clean)

	got := testenv.Stdout(t, Example)

	want := `second ann: redisstore: create user: email already taken: loginkit: duplicate
found: Ann@Example.com Annie true
failed logins: 1
session belongs to ann: true
logged out everywhere: 1 session; redisstore: get session: loginkit: not found
`
	if got != want {
		t.Errorf("Example printed\n%s\nwant\n%s", got, want)
	}
	if keys, _ := e.keys("example:"); len(keys) != 0 {
		t.Errorf("Example left keys behind: %v", keys)
	}
}

// This example turns on the near-cache: session reads are served from
// this process while Redis's invalidations are confirmed to be flowing,
// and a session revoked anywhere is refused here within the bound.
// TestExampleWithNearCache runs it against the test server.
func ExampleWithNearCache() {
	opt, err := redis.ParseURL(os.Getenv("LOGINKIT_REDIS_URL")) // a single node, database 0
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	sessions := redisstore.NewSessions(rdb, redisstore.WithPrefix("example-near:"),
		redisstore.WithNearCache(redisstore.NearCacheConfig{Bound: 500 * time.Millisecond}))
	defer sessions.Close() // stops the heartbeats; rdb stays open
	ctx := context.Background()

	now := time.Now()
	s := &loginkit.Session{Key: "near-key", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := sessions.Save(ctx, s); err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := sessions.Get(ctx, "near-key"); err != nil {
			log.Fatal(err)
		}
	}
	// This store's own delete takes effect on its very next read.
	if err := sessions.Delete(ctx, "near-key"); err != nil {
		log.Fatal(err)
	}
	_, err = sessions.Get(ctx, "near-key")
	st := sessions.NearCacheStats()
	fmt.Println("enabled:", st.Enabled, "bound:", st.Bound, "after delete:", err)
}

// TestExampleWithNearCache runs ExampleWithNearCache against the test
// server and checks what it prints.
func TestExampleWithNearCache(t *testing.T) {
	newEnv(t)
	got := testenv.Stdout(t, ExampleWithNearCache)
	want := "enabled: true bound: 500ms after delete: redisstore: get session: loginkit: not found\n"
	if got != want {
		t.Errorf("ExampleWithNearCache printed\n%s\nwant\n%s", got, want)
	}
}
