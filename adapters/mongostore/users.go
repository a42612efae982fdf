package mongostore

import (
	"context"
	"fmt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Users is a loginkit.UserStore in a MongoDB collection (default
// "loginkit_users") for the application's user type T, a struct embedding
// loginkit.Account (PT is *T and is inferred):
//
//	type Member struct {
//		loginkit.Account `bson:",inline"`
//		Nickname string  `bson:"nickname"`
//	}
//	users := mongostore.NewUsers[Member](db) // a UserStore[*Member]
//
// Each user is one document: the bson encoding of the whole *T, the
// application's own fields included, with the user ID as _id. Embed
// Account with `bson:",inline"` so that its fields sit at the top level
// of the document, where indexes and queries can see them (without the
// tag the driver nests them under "account"; the store still works,
// because it writes the fields it queries at the top level itself).
//
// The store writes five top-level fields itself: _id, created_at,
// email_key, username_key and _rev. email_key and username_key have
// unique indexes; _rev is a random revision, replaced on every write, on
// which UpdateUser's replace is conditioned. A user
// with no email (or no username) gets a key that no login can produce,
// derived from its ID (" id:" followed by the ID; a normalised login
// never begins with a space), so that any number of such users coexist
// on every server, without partial or sparse indexes. Loaded users have
// EmailKey and UsernameKey recomputed from Email and Username, so the
// stand-in keys never reach the application.
//
// Writes to one user by Update and UpdateUser are serialised by a lock
// document in a second collection, named after the first with "_locks"
// appended (default "loginkit_users_locks"); see UpdateUser.
//
// A Users is safe for concurrent use.
type Users[T any, PT interface {
	*T
	loginkit.AccountUser
}] struct {
	base
	locks *mongo.Collection
}

// NewUsers returns a user store for users of type *T in db. It sends no
// command: run Migrate with the same options once before use, or emails
// and usernames are not unique.
func NewUsers[T any, PT interface {
	*T
	loginkit.AccountUser
}](db *mongo.Database, opts ...Option) *Users[T, PT] {
	b := newBase(db, opts, "users")
	return &Users[T, PT]{base: b, locks: b.sibling(lockSuffix)}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (us *Users[T, PT]) CheckConfig() error { return us.err }

// Collection returns the collection the store keeps its users in.
func (us *Users[T, PT]) Collection() *mongo.Collection { return us.c }

// LockCollection returns the collection of the store's per-user write
// locks: the users collection's name followed by "_locks". It holds a
// document only while a write is in progress (or, after a writer died,
// until the next write to that user takes over its expired lock).
func (us *Users[T, PT]) LockCollection() *mongo.Collection { return us.locks }

const (
	fieldEmailKey    = "email_key"
	fieldUsernameKey = "username_key"
	// fieldRev holds the user's revision: a random string replaced on
	// every write, which UpdateUser's conditional replace compares.
	fieldRev = "_rev"
	// absentKeyPrefix begins the stand-in email or username key of a user
	// without one. NormalizeLogin trims white space, so no login maps to
	// a key beginning with a space.
	absentKeyPrefix = " id:"
)

// ensureUserIndexes creates the indexes of a users collection if they
// are missing: unique indexes on email_key and username_key, one on
// created_at and _id for List, and a unique index on user_id in the lock
// collection, without which the locks do not exclude one another.
func ensureUserIndexes(ctx context.Context, users, locks *mongo.Collection) error {
	// One index per command: FerretDB 1.x fails a createIndexes that
	// names several indexes of which more than one already exists.
	for _, m := range []mongo.IndexModel{
		{
			Keys:    bson.D{{Key: fieldEmailKey, Value: 1}},
			Options: options.Index().SetName("email_key_unique").SetUnique(true),
		},
		{
			Keys:    bson.D{{Key: fieldUsernameKey, Value: 1}},
			Options: options.Index().SetName("username_key_unique").SetUnique(true),
		},
		{
			Keys:    bson.D{{Key: fieldCreatedAt, Value: 1}, {Key: fieldID, Value: 1}},
			Options: options.Index().SetName("created_at_1__id_1"),
		},
	} {
		if _, err := users.Indexes().CreateOne(ctx, m); err != nil {
			return err
		}
	}
	return ensureLockIndex(ctx, locks)
}

// LoadUser returns the user with the given ID: one find on _id. A missing
// user is loginkit.ErrNotFound.
func (us *Users[T, PT]) LoadUser(ctx context.Context, id string) (PT, error) {
	const op = "load user"
	if err := errs.ReadyKey(ctx, op, us.err, id); err != nil {
		return nil, err
	}
	u := PT(new(T))
	if err := findOne(ctx, us.c, bson.D{{Key: fieldID, Value: id}}, u); err != nil {
		return nil, wrap(op, err)
	}
	u.LoginAccount().NormalizeKeys()
	return u, nil
}

// load returns the user with the given ID and its revision ("" for a
// document written before revisions were kept).
func (us *Users[T, PT]) load(ctx context.Context, op, id string) (PT, string, error) {
	var raw bson.Raw
	if err := findOne(ctx, us.c, bson.D{{Key: fieldID, Value: id}}, &raw); err != nil {
		return nil, "", wrap(op, err)
	}
	u := PT(new(T))
	if err := bson.Unmarshal(raw, u); err != nil {
		return nil, "", fmt.Errorf("mongostore: %s: decode user: %w", op, err)
	}
	u.LoginAccount().NormalizeKeys()
	rev, _ := raw.Lookup(fieldRev).StringValueOK()
	return u, rev, nil
}

// FindByLogin returns the user whose normalised email, or failing that
// whose normalised username, equals loginkit.NormalizeLogin(login): one
// find. A login that matches nothing is loginkit.ErrNotFound.
func (us *Users[T, PT]) FindByLogin(ctx context.Context, login string) (PT, error) {
	const op = "find user"
	k, err := errs.ReadyLogin(ctx, op, us.err, login)
	if err != nil {
		return nil, err
	}
	cur, err := us.c.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: fieldEmailKey, Value: k}},
		bson.D{{Key: fieldUsernameKey, Value: k}},
	}}})
	if err != nil {
		return nil, wrap(op, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var found PT
	for cur.Next(ctx) {
		u := PT(new(T))
		if err := cur.Decode(u); err != nil {
			return nil, fmt.Errorf("mongostore: %s: decode user: %w", op, err)
		}
		a := u.LoginAccount()
		a.NormalizeKeys()
		if a.EmailKey == k {
			return u, nil // an email match wins
		}
		found = u
	}
	if err := cur.Err(); err != nil {
		return nil, wrap(op, err)
	}
	if found == nil {
		return nil, errs.NotFound(op)
	}
	return found, nil
}

// Create stores a new user: one insert. An empty ID is replaced by
// loginkit.NewID() and written back into u (and cleared again if Create
// fails); EmailKey and UsernameKey are set from Email and Username. A
// taken ID, email or username is loginkit.ErrDuplicate (enforced by the
// server's unique indexes, so concurrent creates cannot both win); a
// username containing '@' or a non-empty email without one
// (loginkit.ValidUsername, loginkit.ValidEmail) is loginkit.ErrInvalid.
func (us *Users[T, PT]) Create(ctx context.Context, u PT) error {
	const op = "create user"
	return storekit.CreateUser(ctx, errs, op, us.err, u, func(a *loginkit.Account) error {
		doc, err := us.encode(op, u, a, loginkit.NewID())
		if err != nil {
			return err
		}
		_, err = us.c.InsertOne(ctx, doc)
		return wrap(op, err)
	})
}

// Update replaces every field of the stored user with u's: one replace on
// _id, under the user's write lock (an insert and a delete in the lock
// collection), so that it never lands in the middle of an UpdateUser. A
// missing user (or an empty ID) is loginkit.ErrNotFound; an email or
// username taken by another user is loginkit.ErrDuplicate and changes
// nothing; a username containing '@' or a non-empty email without one is
// loginkit.ErrInvalid. EmailKey and UsernameKey are set from Email and
// Username.
func (us *Users[T, PT]) Update(ctx context.Context, u PT) error {
	const op = "update user"
	a, err := storekit.UserWrite(ctx, errs, op, us.err, u, false)
	if err != nil {
		return err
	}
	doc, err := us.encode(op, u, a, loginkit.NewID())
	if err != nil {
		return err
	}
	token, err := lock(ctx, op, us.locks, a.ID)
	if err != nil {
		return err
	}
	defer unlock(ctx, us.locks, token)
	res, err := us.c.ReplaceOne(ctx, bson.D{{Key: fieldID, Value: a.ID}}, doc)
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		return errs.NotFound(op)
	}
	return nil
}

// UpdateUser changes one user atomically (loginkit.UserUpdater): it takes
// the user's write lock, loads the user, calls change on that copy,
// checks the result as Update does and replaces the stored document on
// the condition that its revision is still the one loaded, then releases
// the lock. Should the condition fail (a writer that bypassed the lock,
// or one whose lock lease of a few seconds ran out), it loads the user
// again and calls change again, so change may run more than once and must
// depend only on its argument. The round trips are an insert, a find, a
// replace and a delete.
//
// When change returns an error nothing is stored and UpdateUser returns
// that error as is. A missing user (or an empty id) is
// loginkit.ErrNotFound; an email or username taken by another user is
// loginkit.ErrDuplicate; a username containing '@' or a non-empty email
// without one is loginkit.ErrInvalid, and so is a change that alters the
// user's ID (nothing is stored). UpdateUser waits
// while another write to the user holds the lock, and a lock whose holder
// died is taken over once its lease has expired; waiting ends with ctx.
// It returns the user as stored, EmailKey and UsernameKey set.
func (us *Users[T, PT]) UpdateUser(ctx context.Context, id string, change func(u PT) error) (PT, error) {
	const op = "update user"
	if err := errs.ReadyKey(ctx, op, us.err, id); err != nil {
		return nil, err
	}
	token, err := lock(ctx, op, us.locks, id)
	if err != nil {
		return nil, err
	}
	defer unlock(ctx, us.locks, token)
	for {
		u, rev, err := us.load(ctx, op, id)
		if err != nil {
			return nil, err
		}
		a, err := storekit.ApplyChange(errs, op, id, u, change)
		if err != nil {
			return nil, err
		}
		doc, err := us.encode(op, u, a, loginkit.NewID())
		if err != nil {
			return nil, err
		}
		filter := bson.D{{Key: fieldID, Value: id}, {Key: fieldRev, Value: rev}}
		if rev == "" {
			filter[1].Value = bson.D{{Key: "$exists", Value: false}}
		}
		res, err := us.c.ReplaceOne(ctx, filter, doc)
		if err != nil {
			return nil, wrap(op, err)
		}
		if res.MatchedCount == 1 {
			return u, nil
		}
		// Written meanwhile (or deleted, which the next load reports).
		if err := errs.Ready(ctx, op, nil); err != nil {
			return nil, err
		}
	}
}

// Delete removes the user. Deleting a missing user is not an error. The
// user's sessions and tokens are not touched: they stop working when the
// user cannot be loaded.
func (us *Users[T, PT]) Delete(ctx context.Context, id string) error {
	return us.deleteID(ctx, "delete user", id)
}

// List returns one page of users, ordered by CreatedAt then ID, and the
// total number of users: a count and a find. A Limit of 0 or less means
// 50, and Limit is capped at 1000; a negative Offset counts as 0. The two
// reads are not a snapshot: users created or deleted between them may make
// total disagree with the page.
func (us *Users[T, PT]) List(ctx context.Context, opts loginkit.ListOptions) ([]PT, int, error) {
	const op = "list users"
	offset, limit, err := errs.ReadyPage(ctx, op, us.err, opts)
	if err != nil {
		return nil, 0, err
	}
	total, err := us.c.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	cur, err := us.c.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: fieldCreatedAt, Value: 1}, {Key: fieldID, Value: 1}}).
		SetSkip(int64(offset)).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	users := make([]PT, 0, min(limit, max(int(total)-offset, 0)))
	for cur.Next(ctx) {
		u := PT(new(T))
		if err := cur.Decode(u); err != nil {
			return nil, 0, fmt.Errorf("mongostore: %s: decode user: %w", op, err)
		}
		u.LoginAccount().NormalizeKeys()
		users = append(users, u)
	}
	if err := cur.Err(); err != nil {
		return nil, 0, wrap(op, err)
	}
	return users, int(total), nil
}

// encode returns the document stored for u: the bson encoding of u with
// _id, created_at, email_key, username_key and _rev (set to rev) set by
// the store and placed first. It sets a's EmailKey and UsernameKey.
func (us *Users[T, PT]) encode(op string, u PT, a *loginkit.Account, rev string) (bson.D, error) {
	a.NormalizeKeys()
	raw, err := bson.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("mongostore: %s: encode user: %w", op, err)
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil {
		return nil, fmt.Errorf("mongostore: %s: encode user: %w", op, err)
	}
	emailKey, usernameKey := a.EmailKey, a.UsernameKey
	if emailKey == "" {
		emailKey = absentKeyPrefix + a.ID
	}
	if usernameKey == "" {
		usernameKey = absentKeyPrefix + a.ID
	}
	doc := make(bson.D, 0, len(elems)+5)
	doc = append(doc,
		bson.E{Key: fieldID, Value: a.ID},
		bson.E{Key: fieldCreatedAt, Value: a.CreatedAt},
		bson.E{Key: fieldEmailKey, Value: emailKey},
		bson.E{Key: fieldUsernameKey, Value: usernameKey},
		bson.E{Key: fieldRev, Value: rev},
	)
	for _, e := range elems {
		switch k := e.Key(); k {
		case fieldID, fieldCreatedAt, fieldEmailKey, fieldUsernameKey, fieldRev:
		default:
			doc = append(doc, bson.E{Key: k, Value: e.Value()})
		}
	}
	return doc, nil
}
