// Package sqlstore keeps loginkit users, sessions and tokens in an SQL
// database through bun (github.com/uptrace/bun), unchanged on PostgreSQL
// and SQLite:
//
//	db, err := sqlstore.OpenSQLite("app.db") // or sqlstore.OpenPostgres("postgres://...")
//	...
//	err = sqlstore.Migrate[MyUser](ctx, db)  // create or update the tables; run at every start
//	users := sqlstore.NewUsers[MyUser](db)   // a loginkit.UserStore[*MyUser] (and UserUpdater)
//	sessions := sqlstore.NewSessions(db)     // a loginkit.SessionStore (and SessionToucher)
//	tokens := sqlstore.NewTokens(db)         // a loginkit.TokenStore
//	passkeys := sqlstore.NewPasskeys(db)     // a loginkit.PasskeyStore
//
// MyUser is the application's own struct embedding loginkit.Account; the
// whole struct is stored, one column per field, its own fields included
// (bun struct tags name the columns). The stores take any *bun.DB with the
// PostgreSQL or SQLite dialect, so an application may open the database
// itself; OpenSQLite and OpenPostgres open it with the settings described
// below.
//
// # Drivers
//
// SQLite goes through modernc.org/sqlite, a pure-Go translation of SQLite:
// no cgo, so the application cross-compiles and builds in a scratch
// container. OpenSQLite turns on WAL and a busy timeout so that
// concurrent requests wait for each other instead of failing with
// "database is locked"; see OpenSQLite for the settings and the pool size.
// SQLite 3.35 or later is needed (for RETURNING); the driver bundles a
// newer one.
//
// PostgreSQL goes through pgx (github.com/jackc/pgx/v5) and its
// database/sql driver, with bun's PostgreSQL dialect on top. pgx rather
// than bun's own pgdriver, for cancellation: when a request's context is
// cancelled while its statement runs on the server, pgx returns at once
// and has the server stop the statement, whereas pgdriver leaves it
// running on the server (a blocked write would go on waiting and could
// still apply later). The price is a dependency tree of its own (pgx and
// three small modules of its author). OpenPostgres sends every query in
// the simple protocol, one round trip, since bun has already put the
// arguments into the SQL text. Unique violations are recognised from the
// server's SQLSTATE (23505). The stores also work over a *bun.DB that the
// application opened with another driver, pgdriver included, with the
// cancellation that driver provides.
//
// # Tables
//
// Every name begins with the prefix (WithPrefix, default "loginkit_"):
//
//	<prefix>users            one row per user: id (primary key), email, username,
//	                         email_key and username_key (unique), ..., and the
//	                         application's own columns; index on (created_at, id)
//	<prefix>sessions         key (primary key), user_id, times, flags, client, data;
//	                         indexes on user_id and expires_at
//	<prefix>tokens           selector (primary key), validator_hash, user_id, purpose,
//	                         version, times; indexes on (user_id, purpose) and expires_at
//	<prefix>migrations       bun's record of applied migrations
//	<prefix>migration_locks  bun's migration lock table (unused by Migrate)
//
// Emails and usernames are unique through the unique constraints on
// email_key and username_key, which hold loginkit.NormalizeLogin of Email
// and Username, or NULL when empty: both databases allow any number of
// NULLs in a unique index, so users without a username do not collide.
// The database decides between concurrent registrations of one address,
// and the loser gets loginkit.ErrDuplicate.
//
// Session and token times are stored as Unix milliseconds (BIGINT), so
// that expiry compares as plain integers on both databases; user times use
// bun's mapping (TIMESTAMPTZ on PostgreSQL, UTC text on SQLite, to the
// microsecond). Every time the stores return is in UTC, on both
// databases, the application's own time fields included.
//
// # Migrations
//
// Migrate creates the tables with bun's migrate package, recording each
// migration in <prefix>migrations, and adds a column for every field that
// the user type has gained since. It is idempotent and safe to run from
// several instances at once. See Migrate.
//
// # Expiry and sweeping
//
// Expired sessions and tokens are never returned (every read compares
// expires_at with the current time), but their rows stay until removed.
// Sessions.DeleteExpired and Tokens.DeleteExpired remove them, each in one
// DELETE using the expires_at index. Run them periodically, for example
// hourly from a goroutine of the application:
//
//	go func() {
//		tick := time.NewTicker(time.Hour)
//		defer tick.Stop()
//		for {
//			select {
//			case <-ctx.Done():
//				return
//			case <-tick.C:
//				if _, err := sessions.DeleteExpired(ctx); err != nil {
//					slog.Warn("sweeping sessions", "err", err)
//				}
//				if _, err := tokens.DeleteExpired(ctx); err != nil {
//					slog.Warn("sweeping tokens", "err", err)
//				}
//			}
//		}
//	}()
//
// or from a cron job running a small command that does the same once.
// Running it from several instances at once is harmless.
//
// # Errors, contexts and atomicity
//
// A missing (or expired) record is loginkit.ErrNotFound, a unique
// violation loginkit.ErrDuplicate, a refused value loginkit.ErrInvalid;
// every other error, such as a lost connection, is returned wrapped as
// "sqlstore: <operation>: <cause>" and matches its cause with errors.Is.
//
// Every query runs with the caller's context, and a context that is done
// (cancelled, or past its deadline) ends the call with an error that
// matches ctx.Err() (context.Canceled or context.DeadlineExceeded):
//
//   - A context that is already done sends no query.
//   - PostgreSQL: when the context ends while the statement runs, pgx
//     returns at once, discards that connection (the pool opens another
//     when needed) and sends the server a cancel request, so the
//     statement stops there too. A cancelled write has then either not
//     happened or, if the server had already finished it, happened
//     completely; each method is one statement or one transaction, so
//     never in part.
//   - SQLite: the driver interrupts the running statement
//     (sqlite3_interrupt), with the same all-or-nothing outcome. One
//     limit: a write waiting for another connection's write lock waits
//     out the busy timeout (at most SQLiteBusyTimeout) before it reports
//     the context's error.
//
// Each store method is one statement (List: a count and a page), except
// Users.UpdateUser, which is one transaction, so no method leaves a
// half-done change.
//
// Users.UpdateUser (loginkit.UserUpdater, which the manager uses for its
// own writes) changes a user without losing concurrent writes: in one
// transaction it locks the user's row, loads it, applies the caller's
// change and writes it back. On PostgreSQL the transaction is READ
// COMMITTED, whatever the server's default, and the lock is SELECT ...
// FOR UPDATE: BEGIN, SELECT, UPDATE, COMMIT, four round trips, and
// concurrent calls on one user wait for each other, while other users'
// rows are not held. On SQLite the transaction's first statement is a
// no-op write of the row, which takes the database's single write lock
// (OpenSQLite's transactions already take it at BEGIN): concurrent calls,
// and every other write to the database, wait for it up to the busy
// timeout. Plain Update writes a whole user as given, however stale. Token consumption is a single
// DELETE ... RETURNING: among concurrent Consume calls for one selector
// exactly one gets the token. Creating a token whose selector belongs to an
// expired token replaces that token in the same INSERT ... ON CONFLICT
// statement.
//
// After a PostgreSQL restart or failover the same stores keep working:
// calls fail with wrapped connection errors while the server is away, and
// the pool replaces its broken connections when it is back.
package sqlstore
