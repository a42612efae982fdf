package mongostore

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// base is what every store of the package holds: the collection of its
// records, and a bad option, answered by every method.
type base struct {
	c   *mongo.Collection
	err error
}

// newBase returns the base of a store whose collection in db is named by
// the prefix of opts followed by name.
func newBase(db *mongo.Database, opts []Option, name string) base {
	c := newConfig(opts)
	return base{c: db.Collection(c.Prefix + name), err: c.Err}
}

// sibling returns the collection named after the store's own with suffix
// appended (its write locks, its recovery codes).
func (b base) sibling(suffix string) *mongo.Collection {
	return b.c.Database().Collection(b.c.Name() + suffix)
}

// deleteID deletes the document whose _id is id; see storekit.Errs.Delete.
func (b base) deleteID(ctx context.Context, op, id string) error {
	return errs.Delete(ctx, op, b.err, id, func() error {
		_, err := b.c.DeleteOne(ctx, bson.D{{Key: fieldID, Value: id}})
		return wrap(op, err)
	})
}

// The methods below serve Sessions and Tokens, whose documents expire at
// their expires_at date and belong to the user named by user_id.

// ensureExpiringIndexes creates, if they are missing, the indexes of a
// session or token collection: one on the fields keys, by which its
// records are listed and deleted per user, and the expiry index (see
// ensureExpiryIndex).
func ensureExpiringIndexes(ctx context.Context, c *mongo.Collection, keys ...string) error {
	if err := ensureIndex(ctx, c, keys...); err != nil {
		return err
	}
	_, err := ensureExpiryIndex(ctx, c)
	return err
}

// expiryMode reports which expiry index the collection has.
func (b base) expiryMode(ctx context.Context) (ExpiryMode, error) {
	const op = "expiry mode"
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return ExpiryUnknown, err
	}
	specs, err := b.c.Indexes().ListSpecifications(ctx)
	if err != nil {
		return ExpiryUnknown, wrap(op, err)
	}
	mode := ExpiryUnknown
	for _, s := range specs {
		switch s.Name {
		case indexExpiryTTL:
			return ExpiryTTL, nil
		case indexExpiryPlain:
			mode = ExpiryFilter
		}
	}
	return mode, nil
}

// liveID is the filter of the unexpired document with this _id.
func liveID(id string) bson.D {
	return bson.D{{Key: fieldID, Value: id}, {Key: fieldExpiresAt, Value: notExpired(now())}}
}

// findLive decodes into v the unexpired document whose _id is id: a
// missing or expired one, or an empty id, is loginkit.ErrNotFound.
func (b base) findLive(ctx context.Context, op, id string, v any) error {
	if err := errs.ReadyKey(ctx, op, b.err, id); err != nil {
		return err
	}
	return wrap(op, findOne(ctx, b.c, liveID(id), v))
}

// newestFirst is the order of ListByUser: newest created first, ties in
// _id order.
var newestFirst = bson.D{{Key: fieldCreatedAt, Value: -1}, {Key: fieldID, Value: 1}}

// listLive returns the unexpired documents of b matching filter, newest
// first, each turned into a record by conv.
func listLive[D, R any](ctx context.Context, b base, op string, filter bson.D, conv func(*D) R) ([]R, error) {
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return nil, err
	}
	filter = append(filter, bson.E{Key: fieldExpiresAt, Value: notExpired(now())})
	out, err := findAll(ctx, b.c, filter, newestFirst, conv)
	return out, wrap(op, err)
}

// deleteByUser removes the documents matching filter (and not exceptID,
// when it is set): first the unexpired ones, which it counts, then the
// expired ones.
func (b base) deleteByUser(ctx context.Context, op string, filter bson.D, exceptID string) (int, error) {
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return 0, err
	}
	if exceptID != "" {
		filter = append(filter, bson.E{Key: fieldID, Value: bson.D{{Key: "$ne", Value: exceptID}}})
	}
	t := now()
	live := append(slices.Clip(filter), bson.E{Key: fieldExpiresAt, Value: notExpired(t)})
	res, err := b.c.DeleteMany(ctx, live)
	if err != nil {
		return 0, wrap(op, err)
	}
	dead := append(slices.Clip(filter), bson.E{Key: fieldExpiresAt, Value: bson.D{{Key: "$lte", Value: t}}})
	if _, err := b.c.DeleteMany(ctx, dead); err != nil {
		return int(res.DeletedCount), wrap(op, err)
	}
	return int(res.DeletedCount), nil
}

// deleteExpired removes the documents whose expiry date has passed and
// reports how many.
func (b base) deleteExpired(ctx context.Context, op string) (int, error) {
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return 0, err
	}
	res, err := b.c.DeleteMany(ctx, bson.D{{Key: fieldExpiresAt, Value: bson.D{{Key: "$lte", Value: now()}}}})
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(res.DeletedCount), nil
}
