package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// SQLiteBusyTimeout is how long a SQLite connection opened by OpenSQLite
// waits for another connection's write lock before a statement fails
// with "database is locked".
const SQLiteBusyTimeout = 5 * time.Second

// sqlitePragmas are applied by the driver to every new connection.
var sqlitePragmas = []string{
	fmt.Sprintf("_pragma=busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds()),
	"_pragma=journal_mode(WAL)",
	"_pragma=synchronous(NORMAL)",
	"_pragma=foreign_keys(1)",
	"_txlock=immediate",
}

// OpenSQLite opens the SQLite database at path through modernc.org/sqlite,
// a pure-Go driver (no cgo), and returns it as a *bun.DB with the SQLite
// dialect. path is a file name (created if missing), ":memory:", or a URI
// such as "file::memory:?cache=shared" or "file:app.db?mode=rwc"; it must
// not otherwise contain '?'.
//
// Every connection gets journal_mode=WAL (readers never block the writer,
// nor it them), synchronous=NORMAL (safe with WAL; a power cut may lose
// the last commits but never corrupts), foreign_keys=ON, a busy_timeout of
// SQLiteBusyTimeout (a writer waits for the lock instead of failing with
// "database is locked"), and transactions that begin IMMEDIATE (so that a
// transaction never fails when upgrading from reading to writing).
//
// Pool sizing: for a file, up to max(4, GOMAXPROCS) connections, all kept
// idle, so that reads run in parallel while writes take turns on SQLite's
// single write lock. An in-memory database (":memory:", "mode=memory" or
// "file::memory:") gets exactly one connection that is never closed: each
// connection to a plain ":memory:" is a database of its own, and a
// shared-cache database reports "table is locked" without waiting instead
// of honouring busy_timeout; one connection avoids both, at the price of
// serialising every query. Change the pool with db.SetMaxOpenConns and
// db.SetMaxIdleConns if you know better, never above one connection for
// an in-memory database. The database is gone when db is closed.
//
// OpenSQLite opens one connection to report a bad path or an unreadable
// file at once.
func OpenSQLite(path string) (*bun.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlstore: open sqlite: empty path")
	}
	sep := "?"
	if strings.Contains(path, "?") {
		if !strings.HasPrefix(path, "file:") {
			return nil, fmt.Errorf("sqlstore: open sqlite: %q: a path with query parameters must be a file: URI", path)
		}
		sep = "&"
	}
	dsn := path + sep + strings.Join(sqlitePragmas, "&")
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite %q: %w", path, err)
	}
	if isMemory(path) {
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxLifetime(0)
		sqldb.SetConnMaxIdleTime(0)
	} else {
		n := max(4, runtime.GOMAXPROCS(0))
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), SQLiteBusyTimeout+5*time.Second)
	defer cancel()
	if err := sqldb.PingContext(ctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite %q: %w", path, err)
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// isMemory reports whether a SQLite path names an in-memory database.
func isMemory(path string) bool {
	return path == ":memory:" ||
		strings.HasPrefix(path, "file::memory:") ||
		strings.HasPrefix(path, ":memory:?") ||
		strings.Contains(path, "mode=memory")
}

// OpenPostgres returns a *bun.DB with the PostgreSQL dialect for dsn, a URL
// such as "postgres://user:pass@host:5432/db?sslmode=disable" or a
// "host=... user=..." keyword string, through pgx's database/sql driver
// (see the package documentation for why pgx). Every query goes out in
// PostgreSQL's simple protocol, in one round trip: bun has already put the
// arguments into the SQL text, so prepared statements would only add a
// round trip and fill a statement cache with one-off texts.
//
// It checks the DSN but does not connect: the first query (typically
// Migrate) does, so an application can start while its database is still
// coming up. Pool sizing: up to 4×GOMAXPROCS connections, all kept idle,
// bun's recommendation for a web application; a connection that the
// server closed (a restart, a failover) is discarded and replaced, so the
// same *bun.DB recovers by itself. Change the pool with db.SetMaxOpenConns
// and db.SetMaxIdleConns; keep it below the server's max_connections
// divided by the number of application instances.
func OpenPostgres(dsn string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error repeats the DSN with its password masked.
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	sqldb := stdlib.OpenDB(*cfg)
	n := 4 * runtime.GOMAXPROCS(0)
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}
