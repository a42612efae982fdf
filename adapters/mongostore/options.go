package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultPrefix begins the default collection names: "loginkit_users",
// "loginkit_sessions" and "loginkit_tokens".
const DefaultPrefix = "loginkit_"

// Option configures Migrate and the stores made by NewUsers, NewSessions
// and NewTokens.
type Option func(*config)

type config struct {
	storekit.Config
}

// errs makes the package's errors.
const errs = storekit.Errs("mongostore")

// maxPrefixLen keeps collection names short enough for every server.
const maxPrefixLen = 64

// WithPrefix sets the prefix of the collection names (default
// DefaultPrefix): the stores append "users", "users_locks", "sessions",
// "tokens" and "second_factors" (with "_codes" and "_locks") to it. Pass the same prefix to Migrate and to every store
// of one application; different prefixes let several applications share a
// database.
//
// The prefix must be valid UTF-8 of at most 64 bytes without '$' or NUL,
// and must not begin with "system."; any other prefix is an error
// matching loginkit.ErrConfig, reported by Migrate, by CheckConfig (which
// loginkit's Build calls) and by every method of a store given it.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.SetPrefix(prefix, checkPrefix(prefix)) }
}

// checkPrefix returns the error for a prefix WithPrefix refuses.
func checkPrefix(prefix string) error {
	if len(prefix) > maxPrefixLen || !utf8.ValidString(prefix) || strings.ContainsAny(prefix, "$\x00") || strings.HasPrefix(prefix, "system.") {
		return errs.Config("collection prefix %q must be UTF-8 of at most %d bytes without '$' or NUL, not beginning with \"system.\"", prefix, maxPrefixLen)
	}
	return nil
}

func newConfig(opts []Option) config {
	return storekit.Apply(config{storekit.Config{Prefix: DefaultPrefix}}, opts)
}

// Migrate creates the indexes the stores rely on, in the collections named
// by opts (pass the same options as to the stores): the unique indexes on
// users' email and username keys and on the write locks' user IDs, the
// index List pages by, the indexes on user IDs of sessions, tokens and
// recovery codes (with the second-factor store's write locks), passkeys
// by user and creation time (with their write locks), and
// a TTL index on their expiry date where the server has TTL indexes (an
// ordinary index otherwise; see Sessions.ExpiryMode). Call it once at
// every start-up, before the stores serve requests: it is idempotent and
// safe to run from several processes at once. Without it, emails and
// usernames are not unique. Create the indexes before the users
// collection holds users with clashing keys, or Migrate fails with the
// server's duplicate key error.
func Migrate(ctx context.Context, db *mongo.Database, opts ...Option) error {
	const op = "migrate"
	c := newConfig(opts)
	if err := errs.Ready(ctx, op, c.Err); err != nil {
		return err
	}
	users := db.Collection(c.Prefix + "users")
	if err := ensureUserIndexes(ctx, users, db.Collection(users.Name()+lockSuffix)); err != nil {
		return wrap(op+": users", err)
	}
	if err := ensureExpiringIndexes(ctx, db.Collection(c.Prefix+"sessions"), fieldUserID); err != nil {
		return wrap(op+": sessions", err)
	}
	if err := ensureExpiringIndexes(ctx, db.Collection(c.Prefix+"tokens"), fieldUserID, fieldPurpose); err != nil {
		return wrap(op+": tokens", err)
	}
	sf := c.Prefix + secondFactorsName
	if err := ensureLockedIndexes(ctx, db.Collection(sf+codesSuffix), db.Collection(sf+lockSuffix), fieldUserID); err != nil {
		return wrap(op+": second factors", err)
	}
	pk := c.Prefix + passkeysName
	if err := ensureLockedIndexes(ctx, db.Collection(pk), db.Collection(pk+lockSuffix), fieldUserID, fieldCreatedAt); err != nil {
		return wrap(op+": passkeys", err)
	}
	return nil
}

// ExpiryMode says how a session or token store gets rid of expired
// documents. In every mode, reads filter on the expiry date, so an expired
// session or token is never returned whether or not it is still stored.
type ExpiryMode int

const (
	// ExpiryUnknown: the collection has no index on the expiry date
	// (Migrate has not run).
	ExpiryUnknown ExpiryMode = iota
	// ExpiryTTL: the server has a TTL index on the expiry date and deletes
	// expired documents itself (MongoDB does so about once a minute).
	// DeleteExpired still works but is not needed.
	ExpiryTTL
	// ExpiryFilter: the server answered that TTL indexes are not
	// implemented (FerretDB does), so expired documents stay until
	// DeleteExpired removes them; call it periodically. The expiry date
	// has an ordinary index instead.
	ExpiryFilter
)

// String returns "unknown", "ttl" or "filter".
func (m ExpiryMode) String() string {
	switch m {
	case ExpiryTTL:
		return "ttl"
	case ExpiryFilter:
		return "filter"
	}
	return "unknown"
}

// BSON field names shared by the stores.
const (
	fieldID        = "_id"
	fieldUserID    = "user_id"
	fieldCreatedAt = "created_at"
	fieldExpiresAt = "expires_at"
)

// Index names. Fixed names make Migrate idempotent.
const (
	indexExpiryTTL   = "expires_at_ttl"
	indexExpiryPlain = "expires_at_1"
)

// codeNotImplemented is the server error code for a feature the server
// does not have; FerretDB answers it for TTL indexes.
const codeNotImplemented = 238

// ensureExpiryIndex creates the TTL index on the expiry date, or an
// ordinary index on it where the server does not implement TTL indexes,
// and reports which.
func ensureExpiryIndex(ctx context.Context, c *mongo.Collection) (ExpiryMode, error) {
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: fieldExpiresAt, Value: 1}},
		Options: options.Index().SetName(indexExpiryTTL).SetExpireAfterSeconds(0),
	})
	if err == nil {
		return ExpiryTTL, nil
	}
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(codeNotImplemented) {
		return ExpiryUnknown, err
	}
	_, err = c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: fieldExpiresAt, Value: 1}},
		Options: options.Index().SetName(indexExpiryPlain),
	})
	if err != nil {
		return ExpiryUnknown, err
	}
	return ExpiryFilter, nil
}

// now returns the current time for expiry comparisons, to the
// millisecond the server keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// notExpired is the filter condition for documents that have not expired
// at t.
func notExpired(t time.Time) bson.D { return bson.D{{Key: "$gt", Value: t}} }

// wrap turns a driver error into a store error: mongo.ErrNoDocuments
// becomes loginkit.ErrNotFound, a duplicate key loginkit.ErrDuplicate, and
// anything else is wrapped with the operation's name.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return errs.NotFound(op)
	case isDuplicateKey(err):
		return errs.Wrap(op, fmt.Errorf("%w: %w", loginkit.ErrDuplicate, err))
	}
	return errs.Wrap(op, err)
}

// isDuplicateKey reports a write refused by a unique index. MongoDB, and
// FerretDB for inserts, answer with the duplicate key code (11000);
// FerretDB 1.x with its SQLite backend answers an update or replace that
// breaks a unique index with an InternalError carrying SQLite's message,
// which is recognised here too.
func isDuplicateKey(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ensureIndex creates the ascending index of c on the fields keys unless
// it exists. It is named as MongoDB names one by default ("user_id_1",
// "user_id_1_purpose_1"), the same name on every run.
func ensureIndex(ctx context.Context, c *mongo.Collection, keys ...string) error {
	name := strings.Join(keys, "_1_") + "_1"
	d := make(bson.D, len(keys))
	for i, k := range keys {
		d[i] = bson.E{Key: k, Value: 1}
	}
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: d, Options: options.Index().SetName(name)})
	return err
}

// matchedOne reports miss (loginkit.ErrNotFound or ErrReplayed) unless
// the update or replace whose result is res (and error err) matched
// exactly one document.
func matchedOne(op string, res *mongo.UpdateResult, err, miss error) error {
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount != 1 {
		return errs.Wrap(op, miss)
	}
	return nil
}

// deletedOne reports loginkit.ErrNotFound unless the delete whose result
// is res (and error err) removed exactly one document.
func deletedOne(op string, res *mongo.DeleteResult, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	if res.DeletedCount != 1 {
		return errs.NotFound(op)
	}
	return nil
}

// findAll returns the documents matching filter, in the order of sort,
// each turned into a record by conv.
func findAll[D, R any](ctx context.Context, c *mongo.Collection, filter, sort bson.D, conv func(*D) R) ([]R, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetSort(sort))
	if err != nil {
		return nil, err
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]R, len(docs))
	for i := range docs {
		out[i] = conv(&docs[i])
	}
	return out, nil
}

// findOne decodes into v the document matching filter, which names a
// unique _id, or returns mongo.ErrNoDocuments. It sends a find without a
// limit rather than the driver's FindOne (limit 1): at most one document
// can match anyway, and FerretDB answers a limited find on _id about
// twice as slowly.
func findOne(ctx context.Context, c *mongo.Collection, filter bson.D, v any) error {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	if !cur.Next(ctx) {
		if err := cur.Err(); err != nil {
			return err
		}
		return mongo.ErrNoDocuments
	}
	return cur.Decode(v)
}
