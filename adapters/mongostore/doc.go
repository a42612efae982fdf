// Package mongostore keeps loginkit users, sessions and tokens in MongoDB
// through the official Go driver (go.mongodb.org/mongo-driver/v2). Each
// store takes a *mongo.Database and keeps its documents in one collection
// (Users also keeps short-lived write locks in a second):
//
//	db := client.Database("myapp")
//	if err := mongostore.Migrate(ctx, db); err != nil { // at every start-up
//		return err
//	}
//	users := mongostore.NewUsers[MyUser](db) // a UserStore[*MyUser]
//	sessions := mongostore.NewSessions(db)
//	tokens := mongostore.NewTokens(db)
//
// Constructors send no command and start no goroutine. Call Migrate once
// at every start-up, before the stores serve requests, with the same
// options as the stores (as sqlstore.Migrate): it creates the indexes the
// stores rely on (the unique indexes on emails and usernames among them)
// and is idempotent. Every
// method honours its context's deadline and cancellation, and a context
// that is already done sends nothing. No operation needs a multi-document
// transaction. mongo.ErrNoDocuments becomes loginkit.ErrNotFound, a
// duplicate key loginkit.ErrDuplicate, and every other error is wrapped
// with %w, so that a server outage is never mistaken for a missing
// session.
//
// # Collections
//
// The default collections are "loginkit_users", "loginkit_sessions" and
// "loginkit_tokens"; WithPrefix changes the "loginkit_" prefix; the lock
// collection is named after the users collection, with "_locks" appended.
//
//	loginkit_users        _id = user ID; the whole user struct; email_key, username_key (unique); _rev
//	loginkit_users_locks  _id = random token; user_id (unique); expires_at: per-user write locks
//	loginkit_sessions  _id = session key; user_id; expires_at (date) ...
//	loginkit_tokens    _id = selector; user_id, purpose; expires_at (date) ...
//
// Times are BSON dates, kept to the millisecond, and read back in UTC.
//
// # Users
//
// Users are stored as the bson encoding of the application's own struct,
// its extra fields included; embed loginkit.Account with `bson:",inline"`.
// Emails and usernames are unique after loginkit.NormalizeLogin through
// unique indexes on email_key and username_key, which the server enforces
// atomically, so two concurrent registrations of one address cannot both
// succeed. Some servers have no partial indexes, so a user without a
// username (or without an email) stores a stand-in key derived from its ID
// rather than no key; see Users.
//
// Users implements loginkit.UserUpdater. UpdateUser takes a per-user
// write lock (a document in the "_locks" collection, inserted under a
// unique index and deleted when done, with a lease of a few seconds after
// which a dead writer's lock is taken over), loads the user, calls the
// change function and replaces the document on the condition that its
// revision (_rev, a random value renewed by every write) is unchanged,
// retrying on a mismatch: an insert, a find, a replace and a delete.
// Update takes the same lock, so it costs three round trips rather than
// one. Emails that are not loginkit.ValidEmail and usernames that are not
// loginkit.ValidUsername are refused with loginkit.ErrInvalid.
//
// # Expiry
//
// Sessions and tokens carry their expiry as a date in expires_at, and
// every read filters on it, so an expired session or token is never
// returned. Migrate creates a TTL index on expires_at where the
// server has TTL indexes (MongoDB), and the server then deletes expired
// documents on its own (about once a minute). Where the server answers
// that TTL indexes are not implemented (FerretDB), it creates an ordinary
// index instead, and expired documents stay until DeleteExpired removes
// them: call DeleteExpired on both stores periodically. ExpiryMode reports
// which mode a store is in.
//
// # Servers
//
// The package's tests run against FerretDB 1.24 with its SQLite backend
// (see tools/ferretdb), not against MongoDB itself. Several of the choices
// above are workarounds for what that server lacks or does differently,
// each harmless on MongoDB:
//
//   - Tokens.Consume is a find followed by a conditional delete whose count
//     decides the winner, instead of one findAndModify, which FerretDB
//     does not perform atomically.
//   - UpdateUser needs its lock: FerretDB runs a replace as a query
//     followed by a write keyed on _id alone, so two replaces conditioned
//     on the same revision can both succeed (the tests saw 20 concurrent
//     increments end at 2 to 12 without the lock). On MongoDB the
//     conditional replace alone would be atomic; the lock is kept there
//     too, so that one code path is the one tested.
//   - A unique-index violation on an update, which FerretDB reports as an
//     internal error quoting SQLite, is recognised as ErrDuplicate.
//   - Migrate creates one index per command.
//   - The stand-in email and username keys replace partial indexes.
//
// The TTL-index mode has therefore not been exercised by the tests.
package mongostore
