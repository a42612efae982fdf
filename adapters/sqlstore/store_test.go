package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// TestConcurrentRegistrations races 50 registrations of one email address
// (written differently each time), then of one username, on every
// database: exactly one of each succeeds and the other 49 are
// ErrDuplicate, because the unique indexes decide, not a read before the
// write.
func TestConcurrentRegistrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		us := freshUsers(t, b)
		race := func(what string, user func(i int) *conformance.Member) {
			t.Helper()
			const racers = 50
			errs := make([]error, racers)
			users := make([]*conformance.Member, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range racers {
				users[i] = user(i)
				wg.Go(func() {
					<-start
					errs[i] = us.Create(context.Background(), users[i])
				})
			}
			close(start)
			wg.Wait()
			wins, dups := 0, 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, loginkit.ErrDuplicate):
					dups++
					if users[i].ID != "" {
						t.Errorf("%s: a failed Create left ID %q in the user", what, users[i].ID)
					}
				default:
					t.Errorf("%s: Create: want nil or ErrDuplicate, got %v", what, err)
				}
			}
			if wins != 1 || dups != racers-1 {
				t.Errorf("%s: %d successes and %d ErrDuplicate among %d concurrent registrations; want 1 and %d", what, wins, dups, racers, racers-1)
			}
		}
		race("email", func(i int) *conformance.Member {
			email := []string{"Ann@Example.com", " ann@EXAMPLE.com ", "ANN@example.COM"}[i%3]
			return &conformance.Member{Account: loginkit.Account{Email: email}}
		})
		race("username", func(i int) *conformance.Member {
			name := []string{"Ölaf", "ölaf", " ÖLAF "}[i%3]
			return &conformance.Member{Account: loginkit.Account{Email: fmt.Sprintf("u%d@example.com", i), Username: name}}
		})
		_, total, err := us.List(context.Background(), loginkit.ListOptions{})
		if err != nil || total != 2 {
			t.Errorf("List: total %d, %v; want 2 users", total, err)
		}
	})
}

// TestDuplicateSaysWhat checks that ErrDuplicate names what was taken
// (read from the constraint on PostgreSQL, the column on SQLite) without
// repeating the value.
func TestDuplicateSaysWhat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		us := freshUsers(t, b)
		ctx := context.Background()
		ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann"}}
		if err := us.Create(ctx, ann); err != nil {
			t.Fatal(err)
		}
		for what, u := range map[string]*conformance.Member{
			"email":    {Account: loginkit.Account{Email: "ANN@example.com"}},
			"username": {Account: loginkit.Account{Email: "bob@example.com", Username: "Ann"}},
			"id":       {Account: loginkit.Account{ID: ann.ID, Email: "cy@example.com"}},
		} {
			err := us.Create(ctx, u)
			want := "sqlstore: create user: " + what + " already taken: "
			if !errors.Is(err, loginkit.ErrDuplicate) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "example.com") {
				t.Errorf("taken %s: got %v; want ErrDuplicate beginning %q, without the address", what, err, want)
			}
		}
	})
}

// TestConcurrentSessionWrites checks that concurrent writers on one
// database never see "database is locked" (SQLite's busy_timeout and WAL)
// or any other error.
func TestConcurrentSessionWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, opt, _ := fresh(t, b)
		ss := sqlstore.NewSessions(db, opt)
		ts := sqlstore.NewTokens(db, opt)
		ctx := context.Background()
		now := time.Now()
		const writers, each = 8, 10
		errs := make(chan error, writers*each*3)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					key := fmt.Sprintf("s-%d-%d", w, i)
					s := &loginkit.Session{Key: key, UserID: fmt.Sprintf("u%d", w), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
					errs <- ss.Save(ctx, s)
					_, err := ss.Get(ctx, key)
					errs <- err
					errs <- ts.Create(ctx, &loginkit.Token{Selector: key, UserID: s.UserID, ExpiresAt: s.ExpiresAt})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		list, err := ss.ListByUser(ctx, "u3")
		if err != nil || len(list) != each {
			t.Errorf("ListByUser: %d sessions, %v; want %d", len(list), err, each)
		}
	})
}

// tableNames returns the names of the tables in db (in the current schema
// for PostgreSQL) that begin with prefix.
func tableNames(t *testing.T, db *bun.DB, prefix string) []string {
	t.Helper()
	var names []string
	var err error
	if db.Dialect().Name() == dialect.PG {
		err = db.NewSelect().Column("tablename").Table("pg_tables").
			Where("schemaname = current_schema() AND starts_with(tablename, ?)", prefix).
			Scan(context.Background(), &names)
	} else {
		err = db.NewSelect().Column("name").Table("sqlite_master").
			Where("type = 'table' AND substr(name, 1, ?) = ?", len(prefix), prefix).
			Scan(context.Background(), &names)
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// indexNames returns the names of the indexes on table.
func indexNames(t *testing.T, db *bun.DB, table string) []string {
	t.Helper()
	var names []string
	var err error
	if db.Dialect().Name() == dialect.PG {
		err = db.NewSelect().Column("indexname").Table("pg_indexes").
			Where("schemaname = current_schema() AND tablename = ?", table).
			Scan(context.Background(), &names)
	} else {
		err = db.NewSelect().Column("name").Table("sqlite_master").
			Where("type = 'index' AND tbl_name = ?", table).
			Scan(context.Background(), &names)
	}
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestMigrate checks that Migrate is idempotent, also when several run at
// once, records its migration once, honours the prefix and creates the
// indexes the stores rely on.
func TestMigrate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		prefix := newPrefix()
		opts := []sqlstore.Option{sqlstore.WithPrefix(prefix)}
		migrate(t, db, prefix, opts...)

		us := sqlstore.NewUsers[conformance.Member](db, opts...)
		ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}, DisplayName: "Ann"}
		if err := us.Create(ctx, ann); err != nil {
			t.Fatal(err)
		}

		// Again, sequentially and concurrently: nothing changes, nothing fails.
		if err := sqlstore.Migrate[conformance.Member](ctx, db, opts...); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = sqlstore.Migrate[conformance.Member](ctx, db, opts...) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
		if got, err := us.LoadUser(ctx, ann.ID); err != nil || got.DisplayName != "Ann" {
			t.Errorf("user after repeated Migrate: %+v, %v", got, err)
		}
		n, err := db.NewSelect().TableExpr("?", bun.Ident(prefix+"migrations")).Count(ctx)
		if err != nil || n != 3 {
			t.Errorf("%smigrations has %d rows, %v; want 3", prefix, n, err)
		}

		want := []string{prefix + "migration_locks", prefix + "migrations", prefix + "passkeys", prefix + "recovery_codes", prefix + "second_factors", prefix + "sessions", prefix + "tokens", prefix + "users"}
		if got := tableNames(t, db, prefix); !slices.Equal(got, want) {
			t.Errorf("tables %v, want %v", got, want)
		}
		if b.shared {
			if got := tableNames(t, db, sqlstore.DefaultPrefix); len(got) != 0 {
				t.Errorf("Migrate with a custom prefix created tables with the default one: %v", got)
			}
		}
		for table, wantIdx := range map[string][]string{
			prefix + "users":    {prefix + "users_created_idx"},
			prefix + "sessions": {prefix + "sessions_user_idx", prefix + "sessions_expires_idx"},
			prefix + "tokens":   {prefix + "tokens_user_idx", prefix + "tokens_expires_idx"},
			prefix + "passkeys": {prefix + "passkeys_user_idx"},
		} {
			got := indexNames(t, db, table)
			for _, ix := range wantIdx {
				if !slices.Contains(got, ix) {
					t.Errorf("table %s: no index %s (has %v)", table, ix, got)
				}
			}
		}
	})
}

// TestDefaultPrefix checks that stores and Migrate without options use
// loginkit_ tables, on a database of its own.
func TestDefaultPrefix(t *testing.T) {
	db := openSQLiteFile(t)
	ctx := context.Background()
	if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
		t.Fatal(err)
	}
	want := []string{"loginkit_migration_locks", "loginkit_migrations", "loginkit_passkeys", "loginkit_recovery_codes", "loginkit_second_factors", "loginkit_sessions", "loginkit_tokens", "loginkit_users"}
	if got := tableNames(t, db, "loginkit_"); !slices.Equal(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
	ss := sqlstore.NewSessions(db)
	if err := ss.Save(ctx, &loginkit.Session{Key: "k", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.NewSelect().Table("loginkit_sessions").Count(ctx); err != nil || n != 1 {
		t.Errorf("loginkit_sessions has %d rows, %v; want 1", n, err)
	}
}

// memberV1 and memberV2 are two versions of an application's user model:
// V2 adds two fields, one with a default.
type memberV1 struct {
	bun.BaseModel `bun:"alias:m"`
	loginkit.Account
	Nickname string `bun:"nickname"`
}

type memberV2 struct {
	bun.BaseModel `bun:"alias:m"`
	loginkit.Account
	Nickname string `bun:"nickname"`
	Country  string `bun:"country"`
	Level    int    `bun:"level,notnull,default:7"`
}

// TestMigrateAddsColumns checks that Migrate adds the columns of fields
// added to the user type since the table was created, keeping the rows.
func TestMigrateAddsColumns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		prefix := newPrefix()
		opt := sqlstore.WithPrefix(prefix)
		t.Cleanup(func() { dropTables(t, db, prefix) })
		if err := sqlstore.Migrate[memberV1](ctx, db, opt); err != nil {
			t.Fatal(err)
		}
		v1 := &memberV1{Account: loginkit.Account{Email: "ann@example.com"}, Nickname: "Annie"}
		if err := sqlstore.NewUsers[memberV1](db, opt).Create(ctx, v1); err != nil {
			t.Fatal(err)
		}
		if err := sqlstore.Migrate[memberV2](ctx, db, opt); err != nil {
			t.Fatalf("Migrate with the new user type: %v", err)
		}
		users := sqlstore.NewUsers[memberV2](db, opt)
		got, err := users.LoadUser(ctx, v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != "ann@example.com" || got.Nickname != "Annie" || got.Country != "" || got.Level != 7 {
			t.Errorf("old user under the new type: %+v; want its email and nickname, no country, level 7", got)
		}
		got.Country, got.Level = "NZ", 3
		if err := users.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, err := users.LoadUser(ctx, v1.ID); err != nil || again.Country != "NZ" || again.Level != 3 {
			t.Errorf("after Update: %+v, %v", again, err)
		}
		if err := sqlstore.Migrate[memberV2](ctx, db, opt); err != nil {
			t.Errorf("Migrate again: %v", err)
		}
	})
}

// TestMigrateRejectsPlainStruct checks that a user type without an
// embedded Account is ErrInvalid and creates nothing.
func TestMigrateRejectsPlainStruct(t *testing.T) {
	db := openSQLiteFile(t)
	type plain struct{ ID string }
	err := sqlstore.Migrate[plain](context.Background(), db)
	if !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("Migrate[plain]: want ErrInvalid, got %v", err)
	}
	if got := tableNames(t, db, ""); len(got) != 0 {
		t.Errorf("Migrate[plain] created tables %v", got)
	}
}

func TestWithPrefix(t *testing.T) {
	db := openSQLiteMemory(t)
	ctx := context.Background()
	for _, p := range []string{"", "app_", "a1_", "_x", strings.Repeat("a", 32)} {
		if err := sqlstore.NewSessions(db, sqlstore.WithPrefix(p)).CheckConfig(); err != nil {
			t.Errorf("WithPrefix(%q): %v", p, err)
		}
	}
	for _, p := range []string{"App_", "1a_", "a-b_", "a b", `a"b`, "a;drop", strings.Repeat("a", 33), "é_"} {
		opt := sqlstore.WithPrefix(p)
		if err := sqlstore.Migrate[conformance.Member](ctx, db, opt); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("Migrate with WithPrefix(%q) = %v; want ErrConfig", p, err)
		}
		users := sqlstore.NewUsers[conformance.Member](db, opt)
		if err := users.CheckConfig(); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("WithPrefix(%q): CheckConfig = %v; want ErrConfig", p, err)
		}
		if _, err := users.LoadUser(ctx, "x"); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("WithPrefix(%q): LoadUser = %v; want ErrConfig", p, err)
		}
		if _, err := sqlstore.NewTokens(db, opt).Get(ctx, "x"); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("WithPrefix(%q): Tokens.Get = %v; want ErrConfig", p, err)
		}
	}
}

// TestOpenSQLite checks the settings OpenSQLite promises: WAL, the busy
// timeout, foreign keys, and one connection for an in-memory database.
func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	file := openSQLiteFile(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": fmt.Sprint(sqlstore.SQLiteBusyTimeout.Milliseconds()),
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := file.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	if n := file.Stats().MaxOpenConnections; n < 4 {
		t.Errorf("file database: MaxOpenConnections = %d, want at least 4", n)
	}

	for _, path := range []string{":memory:", "file::memory:?cache=shared", "file:openmem?mode=memory&cache=shared"} {
		db, err := sqlstore.OpenSQLite(path)
		if err != nil {
			t.Fatalf("OpenSQLite(%q): %v", path, err)
		}
		if n := db.Stats().MaxOpenConnections; n != 1 {
			t.Errorf("OpenSQLite(%q): MaxOpenConnections = %d, want 1", path, n)
		}
		// The database outlives a single query: the tables are still there.
		if err := sqlstore.Migrate[conformance.Member](ctx, db); err != nil {
			t.Errorf("OpenSQLite(%q): Migrate: %v", path, err)
		} else if _, _, err := sqlstore.NewUsers[conformance.Member](db).List(ctx, loginkit.ListOptions{}); err != nil {
			t.Errorf("OpenSQLite(%q): List after Migrate: %v", path, err)
		}
		_ = db.Close()
	}

	for _, path := range []string{"", filepath.Join(t.TempDir(), "missing", "dir", "x.db"), "x.db?mode=ro"} {
		if db, err := sqlstore.OpenSQLite(path); err == nil {
			_ = db.Close()
			t.Errorf("OpenSQLite(%q): want an error", path)
		}
	}
}

// TestOpenPostgresBadDSN checks that OpenPostgres refuses a DSN it cannot
// use, without repeating its password.
func TestOpenPostgresBadDSN(t *testing.T) {
	for _, dsn := range []string{"://nope", "postgres://u:s3cret@h:5432/db?sslmode=bogus", "host=h password=s3cret port=nan"} {
		db, err := sqlstore.OpenPostgres(dsn)
		if err == nil {
			_ = db.Close()
			t.Errorf("OpenPostgres(%q): want an error", dsn)
			continue
		}
		if !strings.HasPrefix(err.Error(), "sqlstore: open postgres: ") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenPostgres(%q): error %q is not a store error or shows the password", dsn, err)
		}
	}
}

// TestDeadline checks that a write blocked by another transaction's lock
// gives up once its context's deadline has passed, with an error matching
// context.DeadlineExceeded, and that the store works afterwards.
// PostgreSQL gives up at the deadline. SQLite does not interrupt its
// busy-timeout wait for a context, so the SQLite case uses a database
// opened with a busy timeout of 300 ms instead of OpenSQLite's 5 s, and
// checks that the error still names the deadline.
func TestDeadline(t *testing.T) {
	run := func(t *testing.T, db *bun.DB, prefix string) {
		opt := sqlstore.WithPrefix(prefix)
		ss := sqlstore.NewSessions(db, opt)
		ctx := context.Background()
		s := &loginkit.Session{Key: "k", UserID: "u", ExpiresAt: time.Now().Add(time.Hour)}
		if err := ss.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		// Hold a write lock on the session row (PostgreSQL) or the
		// database (SQLite) in a transaction.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE ? SET user_id = 'x'", bun.Ident(prefix+"sessions")); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err = ss.Save(short, s)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "sqlstore: save session: ") {
			t.Errorf("Save blocked by a lock past its deadline: want a store error matching context.DeadlineExceeded, got %v", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got, err := ss.Get(ctx, "k"); err != nil || got.UserID != "u" {
			t.Errorf("Get after the lock is gone: %+v, %v", got, err)
		}
	}
	t.Run("SQLiteFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "deadline.db")
		sqldb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(300)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		db := bun.NewDB(sqldb, sqlitedialect.New())
		t.Cleanup(func() { _ = db.Close() })
		migrate(t, db, "d_", sqlstore.WithPrefix("d_"))
		run(t, db, "d_")
	})
	t.Run("Postgres", func(t *testing.T) {
		db, _, prefix := fresh(t, backends[2])
		run(t, db, prefix)
	})
}

// TestCancelPostgres checks that cancelling a context that has no
// deadline interrupts a statement already running on the server: a Save
// waiting for a row lock held by another transaction returns an error
// matching context.Canceled while the lock is still held, the server
// abandons the statement (it never takes effect), and the store works
// afterwards.
func TestCancelPostgres(t *testing.T) {
	db, opt, prefix := fresh(t, backends[2])
	ss := sqlstore.NewSessions(db, opt)
	ctx := context.Background()
	s := &loginkit.Session{Key: "k", UserID: "u", ExpiresAt: time.Now().Add(time.Hour)}
	if err := ss.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SELECT 1 FROM ? WHERE key = 'k' FOR UPDATE", bun.Ident(prefix+"sessions")); err != nil {
		t.Fatal(err)
	}

	// waiting reports how many statements on the sessions table wait for
	// a lock on the server.
	waiting := func() int {
		t.Helper()
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, ?)`,
			fmt.Sprintf("INSERT INTO %q", prefix+"sessions")).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitUntil := func(what string, want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); waiting() != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: after 10 s, %d statements wait for the lock; want %d", what, waiting(), want)
			}
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, ok := cctx.Deadline(); ok {
		t.Fatal("the context has a deadline")
	}
	changed := s.Clone()
	changed.UserID = "v"
	done := make(chan error, 1)
	go func() { done <- ss.Save(cctx, changed) }()
	waitUntil("Save blocked by the row lock", 1)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "sqlstore: save session: ") {
			t.Errorf("Save cancelled while blocked: want a store error matching context.Canceled, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Save still blocked 10 s after its context was cancelled")
	}
	// The server stops the statement too, before the lock is released, so
	// the cancelled Save never takes effect.
	waitUntil("after the cancellation", 0)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Get(ctx, "k"); err != nil || got.UserID != "u" {
		t.Errorf("Get after the cancelled Save: %+v, %v; want the session unchanged", got, err)
	}
	if err := ss.Save(ctx, changed); err != nil {
		t.Fatalf("Save after the cancellation: %v", err)
	}
	if got, err := ss.Get(ctx, "k"); err != nil || got.UserID != "v" {
		t.Errorf("Get after a Save following the cancellation: %+v, %v", got, err)
	}
}

// TestUserTimesUTC checks that a user's times, written in another zone,
// come back as the same instants in UTC from every database and every
// read method, and that an unset (nullzero) time comes back zero.
func TestUserTimesUTC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		us := freshUsers(t, b)
		ctx := context.Background()
		at := time.Date(2025, 3, 1, 12, 30, 45, 123456000, time.FixedZone("UTC+5", 5*3600))
		u := &conformance.Member{Account: loginkit.Account{
			Email: "ann@example.com", CreatedAt: at, UpdatedAt: at.Add(time.Minute), LockedUntil: at.Add(time.Hour),
		}, Birthday: at.Add(-time.Hour)}
		if err := us.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		check := func(how string, got *conformance.Member) {
			t.Helper()
			for name, c := range map[string][2]time.Time{
				"CreatedAt":   {got.CreatedAt, u.CreatedAt},
				"UpdatedAt":   {got.UpdatedAt, u.UpdatedAt},
				"LockedUntil": {got.LockedUntil, u.LockedUntil},
				"Birthday":    {got.Birthday, u.Birthday},
			} {
				if c[0].Location() != time.UTC || !c[0].Equal(c[1]) {
					t.Errorf("%s: %s = %v (zone %q); want %v in UTC", how, name, c[0], c[0].Location(), c[1].UTC())
				}
			}
			if !got.LastLoginAt.IsZero() || got.LastLoginAt != (time.Time{}) {
				t.Errorf("%s: unset LastLoginAt = %#v; want the zero time", how, got.LastLoginAt)
			}
		}
		got, err := us.LoadUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("LoadUser", got)
		if got, err = us.FindByLogin(ctx, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		check("FindByLogin", got)
		list, _, err := us.List(ctx, loginkit.ListOptions{})
		if err != nil || len(list) != 1 {
			t.Fatalf("List: %d users, %v", len(list), err)
		}
		check("List", list[0])
	})
}

// sqlStateError is an error of a PostgreSQL driver other than pgx, with
// the method pgx's *pgconn.PgError has.
type sqlStateError string

func (e sqlStateError) Error() string    { return "driver error " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

// fieldError is an error with the method of bun's pgdriver errors, which
// return the server's error fields by protocol code.
type fieldError string

func (e fieldError) Error() string { return "pgdriver-style error " + string(e) }
func (e fieldError) Field(k byte) string {
	if k == 'C' {
		return string(e)
	}
	return ""
}

// TestIsUniqueViolation checks the recognition of unique violations from
// each database's driver, and that other errors are not taken for one.
func TestIsUniqueViolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _, prefix := fresh(t, b)
		ctx := context.Background()
		ins := "INSERT INTO ? (id, email, email_key) VALUES (?, 'a@example.com', 'a@example.com')"
		if _, err := db.ExecContext(ctx, ins, bun.Ident(prefix+"users"), "1"); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, ins, bun.Ident(prefix+"users"), "2")
		if !sqlstore.IsUniqueViolation(err) {
			t.Errorf("second row with the same email_key: IsUniqueViolation(%v) = false", err)
		}
		_, err = db.ExecContext(ctx, ins, bun.Ident(prefix+"users"), "1")
		if !sqlstore.IsUniqueViolation(err) {
			t.Errorf("second row with the same id: IsUniqueViolation(%v) = false", err)
		}
		_, err = db.ExecContext(ctx, "SELECT * FROM ?", bun.Ident(prefix+"no_such_table"))
		if err == nil || sqlstore.IsUniqueViolation(err) {
			t.Errorf("missing table: IsUniqueViolation(%v) = true", err)
		}
	})
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{sqlStateError("23505"), true},
		{fmt.Errorf("wrapped: %w", sqlStateError("23505")), true},
		{sqlStateError("23503"), false},
		{fmt.Errorf("wrapped: %w", fieldError("23505")), true},
		{fieldError("40001"), false},
		{errors.New("UNIQUE constraint failed: users.email_key"), true},
	} {
		if got := sqlstore.IsUniqueViolation(c.err); got != c.want {
			t.Errorf("IsUniqueViolation(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
