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

// olderDatabase returns a migrated SQLite database holding one user, ann,
// from which the tables of a later migration have been removed with its
// record, as if it had been migrated before that migration existed.
func olderDatabase(t *testing.T, migration string, tables ...string) (*bun.DB, *sqlstore.Users[conformance.Member, *conformance.Member], *conformance.Member) {
	t.Helper()
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
	for _, tbl := range tables {
		if _, err := db.ExecContext(ctx, "DROP TABLE ?", bun.Ident(tbl)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM loginkit_migrations WHERE name = ?", migration); err != nil {
		t.Fatal(err)
	}
	return db, us, ann
}

// TestMigrateAddsSecondFactorTablesToAnExistingDatabase checks the
// upgrade path: a database migrated before the second-factor tables
// existed (simulated by removing them and their migration record) gets
// them from the next Migrate, with its users kept.
func TestMigrateAddsSecondFactorTablesToAnExistingDatabase(t *testing.T) {
	db, us, ann := olderDatabase(t, "20260401000001", "loginkit_second_factors", "loginkit_recovery_codes")
	ctx := context.Background()
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

// TestMigrateAddsPasskeyTableToAnExistingDatabase checks the upgrade path
// for passkeys: a database migrated before the passkey table existed gets
// it, with its index, from the next Migrate, its users kept.
func TestMigrateAddsPasskeyTableToAnExistingDatabase(t *testing.T) {
	db, us, ann := olderDatabase(t, "20260501000001", "loginkit_passkeys")
	ctx := context.Background()
	if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
		t.Fatalf("Migrate on the older database: %v", err)
	}
	if got := indexNames(t, db, "loginkit_passkeys"); !slices.Contains(got, "loginkit_passkeys_user_idx") {
		t.Errorf("after Migrate: no index loginkit_passkeys_user_idx (have %v)", got)
	}
	pk := sqlstore.NewPasskeys(db)
	if err := pk.CreatePasskey(ctx, &loginkit.Passkey{CredentialID: []byte{0, 1}, UserID: ann.ID, PublicKey: []byte{2}, CreatedAt: time.Now()}); err != nil {
		t.Fatalf("CreatePasskey after the upgrade: %v", err)
	}
	if _, err := us.LoadUser(ctx, ann.ID); err != nil {
		t.Fatalf("the user did not survive the upgrade: %v", err)
	}
}
