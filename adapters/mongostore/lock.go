package mongostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/loginkit/loginkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Per-user write locks.
//
// A conditional replace (filter on _id and the revision read) is a
// compare-and-swap on MongoDB, but not on FerretDB 1.x, which runs an
// update as a query followed by a write keyed on _id alone, so that two
// replaces conditioned on the same revision can both succeed. What
// FerretDB does perform atomically is an insert checked by a unique index
// and a delete by _id whose count is exact. Users therefore serialises
// its writes to one user with a lock document in a second collection:
//
//	{_id: random token, user_id: user ID, expires_at: date}
//
// with a unique index on user_id, so that at most one lock per user
// exists. A writer inserts its lock (a duplicate key means another writer
// holds it), does its work and deletes the lock by its token. A lock
// whose holder died is taken over once its lease has run out, by deleting
// that lock by its token, which cannot remove a newer lock. The revision
// condition stays on every replace, so that a holder that outlives its
// lease still cannot overwrite a newer write on MongoDB.

const (
	// lockSuffix follows the users collection's name in the name of the
	// lock collection.
	lockSuffix = "_locks"
	// lockLease is how long a lock is honoured. It bounds how long a
	// writer that died holding a lock delays the user's next write; a
	// live holder needs a few round trips.
	lockLease = 5 * time.Second
	// lockPollMin and lockPollMax bound the wait between attempts to take
	// a lock that is held.
	lockPollMin = time.Millisecond
	lockPollMax = 20 * time.Millisecond
)

// lockDoc is a lock document.
type lockDoc struct {
	Token     string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// ensureLockedIndexes creates, if they are missing, the index of c on the
// fields keys (the user's recovery codes, the user's passkeys by creation
// time) and the unique index of locks, the write locks of c's store.
func ensureLockedIndexes(ctx context.Context, c, locks *mongo.Collection, keys ...string) error {
	if err := ensureIndex(ctx, c, keys...); err != nil {
		return err
	}
	return ensureLockIndex(ctx, locks)
}

// ensureLockIndex creates the unique index on the lock collection's
// user_id.
func ensureLockIndex(ctx context.Context, locks *mongo.Collection) error {
	_, err := locks.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: fieldUserID, Value: 1}},
		Options: options.Index().SetName("user_id_unique").SetUnique(true),
	})
	return err
}

// lock takes the write lock on the user with the given ID, waiting while
// another writer holds it, and returns the lock's token for unlock. It
// gives up with ctx's error.
func lock(ctx context.Context, op string, locks *mongo.Collection, userID string) (string, error) {
	token := loginkit.NewID()
	wait := lockPollMin
	for {
		_, err := locks.InsertOne(ctx, lockDoc{Token: token, UserID: userID, ExpiresAt: now().Add(lockLease)})
		if err == nil {
			return token, nil
		}
		if !isDuplicateKey(err) {
			return "", wrap(op+": lock user", err)
		}
		var held lockDoc
		switch err := findOne(ctx, locks, bson.D{{Key: fieldUserID, Value: userID}}, &held); {
		case errors.Is(err, mongo.ErrNoDocuments):
			continue // released meanwhile
		case err != nil:
			return "", wrap(op+": lock user", err)
		case held.ExpiresAt.Before(now()):
			// The holder died (or stalled past its lease): remove that
			// lock, and only that one, then compete for the lock again.
			if _, err := locks.DeleteOne(ctx, bson.D{{Key: fieldID, Value: held.Token}}); err != nil {
				return "", wrap(op+": lock user", err)
			}
			continue
		}
		// Wait a little, with jitter so that waiters do not move in step.
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", errs.Ready(ctx, op, nil)
		case <-t.C:
		}
		wait = min(2*wait, lockPollMax)
	}
}

// locked runs f under the write lock on key in locks (a user's ID, or a
// credential's _id).
func locked(ctx context.Context, op string, locks *mongo.Collection, key string, f func() error) error {
	token, err := lock(ctx, op, locks, key)
	if err != nil {
		return err
	}
	defer unlock(ctx, locks, token)
	return f()
}

// unlock releases the lock with the given token. It runs even when ctx
// is done, so that an abandoned write does not hold the lock for its
// whole lease; should it fail, the lease runs out instead.
func unlock(ctx context.Context, locks *mongo.Collection, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockLease)
	defer cancel()
	_, _ = locks.DeleteOne(ctx, bson.D{{Key: fieldID, Value: token}})
}
