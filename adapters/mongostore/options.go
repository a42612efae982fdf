package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultPrefix begins the default collection names: "loginkit_users",
// "loginkit_sessions" and "loginkit_tokens".
const DefaultPrefix = "loginkit_"

// Option configures a store made by NewUsers, NewSessions or NewTokens.
type Option func(*config)

type config struct {
	prefix     string
	collection string // overrides prefix + the store's suffix when set
}

// WithPrefix sets the prefix of the store's collection name (default
// DefaultPrefix); the store appends "users", "sessions" or "tokens" to it.
// Give the stores of one application the same prefix so that several
// applications can share a database.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithCollection sets the store's whole collection name, overriding
// WithPrefix. Pass it to one store only: two stores must never share a
// collection.
func WithCollection(name string) Option {
	return func(c *config) { c.collection = name }
}

func collectionName(opts []Option, suffix string) string {
	c := config{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.collection != "" {
		return c.collection
	}
	return c.prefix + suffix
}

// ExpiryMode says how a session or token store gets rid of expired
// documents. In every mode, reads filter on the expiry date, so an expired
// session or token is never returned whether or not it is still stored.
type ExpiryMode int

const (
	// ExpiryUnknown is the mode before EnsureIndexes has succeeded.
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

// IndexEnsurer is a store whose indexes can be created: *Users, *Sessions,
// *Tokens and *SecondFactors.
type IndexEnsurer interface {
	EnsureIndexes(ctx context.Context) error
}

// EnsureIndexes calls EnsureIndexes on each store in turn and returns the
// first error. Call it once at start-up, before the stores are used.
func EnsureIndexes(ctx context.Context, stores ...IndexEnsurer) error {
	for _, s := range stores {
		if err := s.EnsureIndexes(ctx); err != nil {
			return err
		}
	}
	return nil
}

// BSON field names shared by the stores.
const (
	fieldID        = "_id"
	fieldUserID    = "user_id"
	fieldCreatedAt = "created_at"
	fieldExpiresAt = "expires_at"
)

// Index names. Fixed names make EnsureIndexes idempotent.
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
		return fmt.Errorf("mongostore: %s: %w", op, loginkit.ErrNotFound)
	case isDuplicateKey(err):
		return fmt.Errorf("mongostore: %s: %w: %w", op, loginkit.ErrDuplicate, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
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

func notFound(op string) error {
	return fmt.Errorf("mongostore: %s: %w", op, loginkit.ErrNotFound)
}

func invalid(op, why string) error {
	return fmt.Errorf("mongostore: %s: %s: %w", op, why, loginkit.ErrInvalid)
}

func duplicate(op, what string) error {
	return fmt.Errorf("mongostore: %s: %s already taken: %w", op, what, loginkit.ErrDuplicate)
}

// ctxErr reports a context that is already done, so that no command is
// sent, and nothing changed, for a request that has been abandoned.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
	return nil
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
