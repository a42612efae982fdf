package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/uptrace/bun"
)

// TestMigrateAddsSecondFactorTablesToAnExistingDatabase checks the
// upgrade path: a database migrated before the second-factor tables
// existed (simulated by removing them and their migration record) gets
// them from the next Migrate, with its users kept.
func TestMigrateAddsSecondFactorTablesToAnExistingDatabase(t *testing.T) {
	db := openSQLiteFile(t)
	ctx := context.Background()
	if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
		t.Fatal(err)
	}
	us := sqlstore.NewUsers[conformance.Member](db)
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}}
	if err := us.Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"loginkit_second_factors", "loginkit_recovery_codes"} {
		if _, err := db.ExecContext(ctx, "DROP TABLE ?", bun.Ident(tbl)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM loginkit_migrations WHERE name = '20260401000001'"); err != nil {
		t.Fatal(err)
	}
	if got := tableNames(t, db, "loginkit_"); slices.Contains(got, "loginkit_second_factors") {
		t.Fatalf("setup: tables %v", got)
	}

	if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
		t.Fatalf("Migrate on the older database: %v", err)
	}
	got := tableNames(t, db, "loginkit_")
	for _, want := range []string{"loginkit_second_factors", "loginkit_recovery_codes"} {
		if !slices.Contains(got, want) {
			t.Errorf("after Migrate: no table %s (have %v)", want, got)
		}
	}
	sf := sqlstore.NewSecondFactors(db)
	if err := sf.SetTOTP(ctx, ann.ID, []byte{1, 2, 3}, 7, time.Now()); err != nil {
		t.Fatalf("SetTOTP after the upgrade: %v", err)
	}
	if _, err := us.LoadUser(ctx, ann.ID); err != nil {
		t.Fatalf("the user did not survive the upgrade: %v", err)
	}
}
