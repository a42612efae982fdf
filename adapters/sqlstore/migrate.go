package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
	"github.com/uptrace/bun/schema"
)

// Migration names, in the order they apply. Applied names are recorded in
// <prefix>migrations; never rename or reorder them.
const (
	migrationCreateTables       = "20260301000001"
	migrationSecondFactorTables = "20260401000001"
	migrationPasskeyTable       = "20260501000001"
)

// Migrate creates or updates the tables the stores use, with bun's migrate
// package, for the user type T (the application's struct embedding
// loginkit.Account): <prefix>users, <prefix>sessions and <prefix>tokens
// with their indexes, <prefix>second_factors and <prefix>recovery_codes, <prefix>passkeys, and bun's bookkeeping tables <prefix>migrations and
// <prefix>migration_locks. Pass the same options as to the stores.
//
// It is idempotent: run it at every start-up. Each migration runs once,
// in a transaction, and is recorded in <prefix>migrations when it has
// succeeded. After the migrations, Migrate adds to <prefix>users a column
// for every field of T that has none yet (ALTER TABLE ... ADD COLUMN), so
// that a field added to T later is stored; such a column is nullable
// unless its field has both notnull and default: tags. Migrate never drops
// or changes a column; do that with a migration of your own.
//
// On PostgreSQL, concurrent Migrate calls (several instances starting at
// once) are serialised by a session-level advisory lock, released when
// Migrate returns or its connection is lost. On SQLite, writes are
// serialised by the database itself and every step is idempotent.
//
// A T that does not embed loginkit.Account (so that *T is no
// loginkit.AccountUser) is loginkit.ErrInvalid.
func Migrate[T any](ctx context.Context, db *bun.DB, opts ...Option) error {
	const op = "migrate"
	c := newConfig(opts)
	if err := errs.Ready(ctx, op, c.Err); err != nil {
		return err
	}
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct || !reflect.PointerTo(typ).Implements(reflect.TypeFor[loginkit.AccountUser]()) {
		return errs.Invalid(op, fmt.Sprintf("user type %v is not a struct embedding loginkit.Account", typ))
	}
	if err := errs.Ready(ctx, op, nil); err != nil {
		return err
	}

	if db.Dialect().Name() == dialect.PG {
		unlock, err := advisoryLock(ctx, db, "sqlstore migrate "+c.Prefix)
		if err != nil {
			return wrap(ctx, op, err)
		}
		defer unlock()
	}

	ms := migrate.NewMigrations()
	// Each migration creates its tables in a transaction of its own.
	for _, step := range []struct {
		name, comment string
		up            func(context.Context, bun.Tx) error
	}{
		{migrationCreateTables, "create_tables", func(ctx context.Context, tx bun.Tx) error { return createTables(ctx, tx, (*T)(nil), c) }},
		{migrationSecondFactorTables, "second_factor_tables", func(ctx context.Context, tx bun.Tx) error { return createSecondFactorTables(ctx, tx, c) }},
		{migrationPasskeyTable, "passkey_table", func(ctx context.Context, tx bun.Tx) error { return createPasskeyTable(ctx, tx, c) }},
	} {
		ms.Add(migrate.Migration{
			Name:    step.name,
			Comment: step.comment,
			Up: func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
				return m.DB().RunInTx(ctx, nil, step.up)
			},
		})
	}
	m := migrate.NewMigrator(db, ms,
		migrate.WithTableName(c.Prefix+"migrations"),
		migrate.WithLocksTableName(c.Prefix+"migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithUpsert(true),
	)
	if err := m.Init(ctx); err != nil {
		return wrap(ctx, op, fmt.Errorf("create migration tables: %w", err))
	}
	if _, err := m.Migrate(ctx); err != nil {
		return wrap(ctx, op, err)
	}
	if err := addMissingColumns(ctx, db, (*T)(nil), c.usersTable()); err != nil {
		return wrap(ctx, op, fmt.Errorf("add columns to %s: %w", c.usersTable(), err))
	}
	return nil
}

// createTables is the first migration: the three tables and their indexes.
func createTables(ctx context.Context, tx bun.Tx, user any, c config) error {
	tables := []struct {
		model any
		name  string
	}{
		{user, c.usersTable()},
		{(*sessionRow)(nil), c.sessionsTable()},
		{(*tokenRow)(nil), c.tokensTable()},
	}
	for _, t := range tables {
		if _, err := tx.NewCreateTable().Model(t.model).ModelTableExpr("?", bun.Ident(t.name)).
			IfNotExists().Exec(ctx); err != nil {
			return fmt.Errorf("create table %s: %w", t.name, err)
		}
	}
	indexes := []struct {
		table, name string
		columns     []string
	}{
		{c.usersTable(), c.Prefix + "users_created_idx", []string{"created_at", "id"}},
		{c.sessionsTable(), c.Prefix + "sessions_user_idx", []string{"user_id"}},
		{c.sessionsTable(), c.Prefix + "sessions_expires_idx", []string{"expires_at"}},
		{c.tokensTable(), c.Prefix + "tokens_user_idx", []string{"user_id", "purpose"}},
		{c.tokensTable(), c.Prefix + "tokens_expires_idx", []string{"expires_at"}},
	}
	for _, ix := range indexes {
		if _, err := tx.NewCreateIndex().IfNotExists().
			TableExpr("?", bun.Ident(ix.table)).Index(ix.name).Column(ix.columns...).
			Exec(ctx); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	return nil
}

// createSecondFactorTables is the second migration: the tables of
// SecondFactors. Both are keyed by user ID first, which serves every
// lookup.
func createSecondFactorTables(ctx context.Context, tx bun.Tx, c config) error {
	for _, t := range []struct {
		model any
		name  string
	}{
		{(*secondFactorRow)(nil), c.secondFactorsTable()},
		{(*recoveryCodeRow)(nil), c.recoveryCodesTable()},
	} {
		if _, err := tx.NewCreateTable().Model(t.model).ModelTableExpr("?", bun.Ident(t.name)).
			IfNotExists().Exec(ctx); err != nil {
			return fmt.Errorf("create table %s: %w", t.name, err)
		}
	}
	return nil
}

// addMissingColumns adds to table a column for every field of model's
// type that has no column there yet.
func addMissingColumns(ctx context.Context, db *bun.DB, model any, table string) error {
	have, err := columns(ctx, db, table)
	if err != nil {
		return err
	}
	t := db.Table(reflect.TypeOf(model).Elem())
	for _, f := range t.Fields {
		if slices.Contains(have, f.Name) {
			continue
		}
		if _, err := db.ExecContext(ctx, "ALTER TABLE ? ADD COLUMN ?", bun.Ident(table), columnDef(f)); err != nil {
			return fmt.Errorf("add column %s: %w", f.Name, err)
		}
	}
	return nil
}

// columnDef is a column definition for ALTER TABLE ... ADD COLUMN.
func columnDef(f *schema.Field) schema.QueryWithArgs {
	def := "? " + f.CreateTableSQLType
	if f.SQLDefault != "" {
		def += " DEFAULT " + f.SQLDefault
		if f.NotNull {
			def += " NOT NULL"
		}
	}
	return bun.SafeQuery(def, bun.Ident(f.Name))
}

// columns returns the names of table's columns, read from the result of a
// query that returns no rows (portable across databases).
func columns(ctx context.Context, db *bun.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM ? WHERE 1 = 0", bun.Ident(table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	return cols, rows.Err()
}

// advisoryLock takes a PostgreSQL session-level advisory lock named by
// name on a connection of its own, waiting while ctx allows, and returns
// the function that releases it.
func advisoryLock(ctx context.Context, db *bun.DB, name string) (unlock func(), err error) {
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("advisory lock: %w", err)
	}
	return func() {
		// A fresh context: the lock must go even when ctx is done. Closing
		// the connection would release it too, but only once the pool
		// drops the connection.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", key); err != nil {
			// Have the pool close the connection, which ends the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}, nil
}

// createPasskeyTable is the third migration: the table of Passkeys, keyed
// by credential ID, and its index for listing a user's passkeys.
func createPasskeyTable(ctx context.Context, tx bun.Tx, c config) error {
	if _, err := tx.NewCreateTable().Model((*passkeyRow)(nil)).ModelTableExpr("?", bun.Ident(c.passkeysTable())).
		IfNotExists().Exec(ctx); err != nil {
		return fmt.Errorf("create table %s: %w", c.passkeysTable(), err)
	}
	name := c.Prefix + "passkeys_user_idx"
	if _, err := tx.NewCreateIndex().IfNotExists().TableExpr("?", bun.Ident(c.passkeysTable())).
		Index(name).Column("user_id", "created_at").Exec(ctx); err != nil {
		return fmt.Errorf("create index %s: %w", name, err)
	}
	return nil
}
