package mongostore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// isFerretDB reports whether the server is FerretDB, whose buildInfo
// carries a ferretdbVersion field.
func isFerretDB(tb testing.TB, db *mongo.Database) bool {
	tb.Helper()
	raw, err := db.RunCommand(ctx(tb), bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		tb.Fatal(err)
	}
	_, err = raw.LookupErr("ferretdbVersion")
	return err == nil
}

// indexNames lists the indexes of c.
func indexNames(tb testing.TB, c *mongo.Collection) []string {
	tb.Helper()
	specs, err := c.Indexes().ListSpecifications(ctx(tb))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// TestMigrate checks that Migrate is idempotent, creates the
// indexes it documents, and reports the expiry mode: ExpiryFilter on
// FerretDB, which answers NotImplemented for TTL indexes, ExpiryTTL on
// MongoDB.
func TestMigrate(t *testing.T) {
	db := freshDB(t)
	users := mongostore.NewUsers[conformance.Member](db)
	sessions := mongostore.NewSessions(db)
	tokens := mongostore.NewTokens(db)
	if m, err := sessions.ExpiryMode(ctx(t)); m != mongostore.ExpiryUnknown {
		t.Errorf("ExpiryMode before Migrate: want unknown, got %v, %v", m, err)
	}
	for range 3 {
		if err := mongostore.Migrate(ctx(t), db); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	want := mongostore.ExpiryTTL
	expiryIndex := "expires_at_ttl"
	if isFerretDB(t, db) {
		want = mongostore.ExpiryFilter
		expiryIndex = "expires_at_1"
	}
	for name, mode := range map[string]func(context.Context) (mongostore.ExpiryMode, error){"sessions": sessions.ExpiryMode, "tokens": tokens.ExpiryMode} {
		if got, err := mode(ctx(t)); got != want || err != nil {
			t.Errorf("%s ExpiryMode: want %v, got %v, %v", name, want, got, err)
		}
	}
	checks := []struct {
		c    *mongo.Collection
		want []string
	}{
		{users.Collection(), []string{"_id_", "created_at_1__id_1", "email_key_unique", "username_key_unique"}},
		{sessions.Collection(), []string{"_id_", expiryIndex, "user_id_1"}},
		{tokens.Collection(), []string{"_id_", expiryIndex, "user_id_1_purpose_1"}},
	}
	for _, c := range checks {
		if got := indexNames(t, c.c); !slices.Equal(got, c.want) {
			t.Errorf("indexes of %s: want %v, got %v", c.c.Name(), c.want, got)
		}
	}
	specs, err := users.Collection().Indexes().ListSpecifications(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		unique := s.Unique != nil && *s.Unique
		if wantUnique := s.Name == "email_key_unique" || s.Name == "username_key_unique"; unique != wantUnique {
			t.Errorf("index %s: unique is %v", s.Name, unique)
		}
	}
}

// TestExpiryFilterMode checks what ExpiryFilter mode promises: expired
// documents stay stored until DeleteExpired, but no read returns them.
func TestExpiryFilterMode(t *testing.T) {
	db := migratedDB(t)
	sessions := mongostore.NewSessions(db)
	if mode, err := sessions.ExpiryMode(ctx(t)); mode != mongostore.ExpiryFilter {
		t.Skipf("the server has TTL indexes (mode %v, %v); this case is about servers without them", mode, err)
	}
	now := time.Now().UTC()
	old := &loginkit.Session{Key: "old", UserID: "u", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := sessions.Save(ctx(t), old); err != nil {
		t.Fatal(err)
	}
	stored := func() int64 {
		n, err := sessions.Collection().CountDocuments(ctx(t), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stored(); n != 1 {
		t.Fatalf("documents stored: want the expired one, got %d", n)
	}
	if _, err := sessions.Get(ctx(t), "old"); err == nil {
		t.Error("Get returned an expired session")
	}
	if n, err := sessions.DeleteExpired(ctx(t)); err != nil || n != 1 {
		t.Errorf("DeleteExpired: want 1, got %d, %v", n, err)
	}
	if n := stored(); n != 0 {
		t.Errorf("documents stored after DeleteExpired: want 0, got %d", n)
	}
}

// TestDeadline checks that a call whose deadline has passed fails with
// the context's error and sends nothing.
func TestDeadline(t *testing.T) {
	us := newMembers(t)
	c, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := us.Create(c, &conformance.Member{Account: loginkit.Account{Email: "late@example.com"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Create after the deadline: want context.DeadlineExceeded, got %v", err)
	}
	if _, err := us.FindByLogin(ctx(t), "late@example.com"); err == nil {
		t.Error("Create after its deadline stored the user")
	}
}

// TestMigratePasskeyIndexes checks that Migrate creates the passkey
// listing index and the unique index of the passkeys' write locks.
func TestMigratePasskeyIndexes(t *testing.T) {
	db := migratedDB(t)
	if got := indexNames(t, db.Collection("loginkit_passkeys")); !slices.Contains(got, "user_id_1_created_at_1") {
		t.Errorf("loginkit_passkeys indexes %v, want user_id_1_created_at_1", got)
	}
	if got := indexNames(t, db.Collection("loginkit_passkeys_locks")); !slices.Contains(got, "user_id_unique") {
		t.Errorf("loginkit_passkeys_locks indexes %v, want user_id_unique", got)
	}
}
