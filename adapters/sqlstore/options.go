package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/loginkit/loginkit/internal/storekit"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultPrefix is the table name prefix stores and Migrate use unless
// WithPrefix says otherwise.
const DefaultPrefix = "loginkit_"

// maxPrefixLen keeps every derived name (the longest is the prefix plus
// "migration_locks" or an index name) under PostgreSQL's 63-byte limit.
const maxPrefixLen = 32

var prefixRE = regexp.MustCompile(`^([a-z_][a-z0-9_]*)?$`)

// Option configures Migrate and the stores made by NewUsers, NewSessions
// and NewTokens.
type Option func(*config)

type config struct {
	storekit.Config
}

// errs makes the package's errors.
const errs = storekit.Errs("sqlstore")

// WithPrefix sets the prefix of every table and index name (default
// DefaultPrefix): the tables are <prefix>users, <prefix>sessions,
// <prefix>tokens, <prefix>second_factors, <prefix>recovery_codes, and bun's
// <prefix>migrations and <prefix>migration_locks.
// Pass the same prefix to Migrate and to every store of one application;
// different prefixes let several independent sets of tables share one
// database or schema.
//
// The prefix must be empty or consist of lower-case ASCII letters, digits
// and underscores, not starting with a digit, and be at most 32 bytes, so
// that names need no quoting and mean the same on both databases.
// Any other prefix is an error matching loginkit.ErrConfig, reported by
// Migrate, by CheckConfig (which loginkit's Build calls) and by every
// method of a store given it.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.SetPrefix(prefix, checkPrefix(prefix)) }
}

// checkPrefix returns the error for a prefix WithPrefix refuses.
func checkPrefix(prefix string) error {
	if len(prefix) > maxPrefixLen || !prefixRE.MatchString(prefix) {
		return errs.Config("table prefix %q must match [a-z_][a-z0-9_]* and be at most %d bytes", prefix, maxPrefixLen)
	}
	return nil
}

func newConfig(opts []Option) config {
	return storekit.Apply(config{storekit.Config{Prefix: DefaultPrefix}}, opts)
}

func (c config) usersTable() string    { return c.Prefix + "users" }
func (c config) sessionsTable() string { return c.Prefix + "sessions" }
func (c config) tokensTable() string   { return c.Prefix + "tokens" }

func (c config) secondFactorsTable() string { return c.Prefix + "second_factors" }
func (c config) recoveryCodesTable() string { return c.Prefix + "recovery_codes" }

// IsUniqueViolation reports whether err comes from a unique index or
// primary key refusing a row: SQLSTATE 23505 from PostgreSQL (pgx's
// *pgconn.PgError, or any driver's error with a SQLState() string method
// or, like bun's pgdriver, a Field('C') string method), or
// SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY from SQLite
// (modernc.org/sqlite, or another driver's error carrying SQLite's
// "UNIQUE constraint failed" message). The stores already turn such errors
// into loginkit.ErrDuplicate; this is for an application's own queries.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if code, ok := sqlState(err); ok {
		return code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
		return false
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed: ")
}

// pgFielder is a PostgreSQL error that returns its fields by their
// protocol code ('C' for SQLSTATE, 'n' for the constraint), as bun's
// pgdriver does.
type pgFielder interface{ Field(byte) string }

// sqlState returns the SQLSTATE of a PostgreSQL server error in err's
// chain, if there is one.
func sqlState(err error) (string, bool) {
	var stater interface{ SQLState() string }
	if errors.As(err, &stater) {
		return stater.SQLState(), true
	}
	var fielder pgFielder
	if errors.As(err, &fielder) {
		return fielder.Field('C'), true
	}
	return "", false
}

// wrap turns a database error into a store error: sql.ErrNoRows becomes
// loginkit.ErrNotFound, a unique violation loginkit.ErrDuplicate, and
// anything else (a lost connection, a server error) is wrapped with the
// operation's name. When ctx is done, the error also matches ctx.Err():
// pgx and modernc.org/sqlite already report the context's error when it
// interrupts a query, and wrap adds it for a driver that words it its own
// way.
func wrap(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return errs.NotFound(op)
	case IsUniqueViolation(err):
		return errs.Duplicate(op, takenWhat(err))
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return errs.Wrap(op, fmt.Errorf("%w: %w", cerr, err))
	}
	return errs.Wrap(op, err)
}

// takenWhat names what a unique violation was about, from the constraint
// (PostgreSQL) or the column (SQLite) named in the error, without
// repeating the value, which may be an email address.
func takenWhat(err error) string {
	name := err.Error()
	var pgErr *pgconn.PgError
	var fielder pgFielder
	if errors.As(err, &pgErr) {
		name = pgErr.ConstraintName
	} else if errors.As(err, &fielder) {
		name = fielder.Field('n')
	} else if _, cols, ok := strings.Cut(name, "UNIQUE constraint failed: "); ok {
		// SQLite: "... UNIQUE constraint failed: table.column (1555)".
		name, _, _ = strings.Cut(cols, " ")
	}
	switch {
	case strings.Contains(name, "email_key"):
		return "email"
	case strings.Contains(name, "username_key"):
		return "username"
	case strings.HasSuffix(name, "users_pkey"), strings.HasSuffix(name, "users.id"):
		return "id"
	}
	return "key"
}
