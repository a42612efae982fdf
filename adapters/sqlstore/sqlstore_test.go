package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/uptrace/bun"
)

var (
	_ loginkit.UserStore[*conformance.Member] = (*sqlstore.Users[conformance.Member, *conformance.Member])(nil)
	_ loginkit.SessionStore                   = (*sqlstore.Sessions)(nil)
	_ loginkit.SessionToucher                 = (*sqlstore.Sessions)(nil)
	_ loginkit.TokenStore                     = (*sqlstore.Tokens)(nil)
)

// backend opens databases of one kind for tests.
type backend struct {
	name string
	// open returns an empty database, or one shared with other tests
	// (PostgreSQL), in which case every test uses a fresh table prefix
	// (see fresh).
	open func(tb testing.TB) *bun.DB
	// shared reports that open returns a database other tests also use.
	shared bool
}

// backends are the databases every test runs on: a SQLite file, a
// shared-cache in-memory SQLite database and PostgreSQL (skipped, or
// failed under CI, when LOGINKIT_POSTGRES_URL is unset).
var backends = []backend{
	{name: "SQLiteFile", open: openSQLiteFile},
	{name: "SQLiteMemory", open: openSQLiteMemory},
	{name: "Postgres", open: openPostgres, shared: true},
}

func openSQLiteFile(tb testing.TB) *bun.DB {
	tb.Helper()
	db, err := sqlstore.OpenSQLite(filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

var memSeq atomic.Int64

func openSQLiteMemory(tb testing.TB) *bun.DB {
	tb.Helper()
	// A name of its own: every connection to one shared-cache name in the
	// process sees the same database.
	db, err := sqlstore.OpenSQLite(fmt.Sprintf("file:memtest%d?mode=memory&cache=shared", memSeq.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

var pg struct {
	once sync.Once
	db   *bun.DB
	err  error
}

// openPostgres returns the package's one connection pool to the test
// server, opened on first use and left open until the test binary exits.
func openPostgres(tb testing.TB) *bun.DB {
	tb.Helper()
	url := testenv.Require(tb, testenv.PostgresURL)
	pg.once.Do(func() {
		pg.db, pg.err = sqlstore.OpenPostgres(url)
		if pg.err == nil {
			pg.err = pg.db.PingContext(context.Background())
		}
	})
	if pg.err != nil {
		tb.Fatalf("PostgreSQL at %s=%s: %v", testenv.PostgresURL, url, pg.err)
	}
	return pg.db
}

var prefixSeq atomic.Int64

// newPrefix returns a table prefix no other test of any test process on
// this machine uses.
func newPrefix() string {
	return fmt.Sprintf("t%d_%d_", os.Getpid(), prefixSeq.Add(1))
}

// fresh opens a database of backend b, migrates it for Member under a
// new prefix (the default one for a database of its own) and drops the
// tables when tb ends. It returns the database, the prefix option and the
// prefix.
func fresh(tb testing.TB, b backend) (*bun.DB, sqlstore.Option, string) {
	tb.Helper()
	db := b.open(tb)
	prefix := sqlstore.DefaultPrefix
	if b.shared {
		prefix = newPrefix()
	}
	opt := sqlstore.WithPrefix(prefix)
	migrate(tb, db, prefix, opt)
	return db, opt, prefix
}

// freshUsers returns a Member store in a fresh database of backend b
// (see fresh).
func freshUsers(tb testing.TB, b backend) *sqlstore.Users[conformance.Member, *conformance.Member] {
	tb.Helper()
	db, opt, _ := fresh(tb, b)
	return sqlstore.NewUsers[conformance.Member](db, opt)
}

// migrate runs Migrate[Member] and drops what it created when tb ends.
func migrate(tb testing.TB, db *bun.DB, prefix string, opts ...sqlstore.Option) {
	tb.Helper()
	tb.Cleanup(func() { dropTables(tb, db, prefix) })
	if err := sqlstore.Migrate[conformance.Member](context.Background(), db, opts...); err != nil {
		tb.Fatal(err)
	}
}

// dropTables drops the tables Migrate creates under prefix.
func dropTables(tb testing.TB, db *bun.DB, prefix string) {
	tb.Helper()
	for _, t := range []string{"users", "sessions", "tokens", "second_factors", "recovery_codes", "migrations", "migration_locks"} {
		if _, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS ?", bun.Ident(prefix+t)); err != nil {
			tb.Errorf("drop %s%s: %v", prefix, t, err)
		}
	}
}

func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func TestConformanceUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		conformance.TestUsers(t, conformance.UserHarness[*conformance.Member]{
			New: func(tb testing.TB) loginkit.UserStore[*conformance.Member] {
				db, opt, _ := fresh(tb, b)
				return sqlstore.NewUsers[conformance.Member](db, opt)
			},
			Fill:    conformance.FillMember,
			Updater: true,
		})
	})
}

func TestConformanceSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		conformance.TestSessions(t, conformance.SessionHarness{
			New: func(tb testing.TB) loginkit.SessionStore {
				db, opt, _ := fresh(tb, b)
				return sqlstore.NewSessions(db, opt)
			},
			Toucher: true,
			NewWithClock: func(tb testing.TB, now func() time.Time) loginkit.SessionStore {
				db, opt, _ := fresh(tb, b)
				s := sqlstore.NewSessions(db, opt)
				s.SetClock(now)
				return s
			},
		})
	})
}

func TestConformanceTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		conformance.TestTokens(t, conformance.TokenHarness{
			New: func(tb testing.TB) loginkit.TokenStore {
				db, opt, _ := fresh(tb, b)
				return sqlstore.NewTokens(db, opt)
			},
			NewWithClock: func(tb testing.TB, now func() time.Time) loginkit.TokenStore {
				db, opt, _ := fresh(tb, b)
				s := sqlstore.NewTokens(db, opt)
				s.SetClock(now)
				return s
			},
		})
	})
}

func TestConformanceSecondFactors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		conformance.TestSecondFactors(t, conformance.SecondFactorHarness{
			New: func(tb testing.TB) loginkit.SecondFactorStore {
				db, opt, _ := fresh(tb, b)
				return sqlstore.NewSecondFactors(db, opt)
			},
		})
	})
}

func TestConformancePasskeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		conformance.TestPasskeys(t, conformance.PasskeyHarness{
			New: func(tb testing.TB) loginkit.PasskeyStore {
				db, opt, _ := fresh(tb, b)
				return sqlstore.NewPasskeys(db, opt)
			},
		})
	})
}
