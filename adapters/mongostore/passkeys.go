package mongostore

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Passkeys is a loginkit.PasskeyStore in two collections:
// "<prefix>passkeys", one document per credential whose _id is the
// credential ID in hex (so the _id index makes lookup unique and an
// insert of a known ID fails), with an index on (user_id, created_at)
// for listing; and "<prefix>passkeys_locks", write locks per credential
// (as for Users). UpdateSignCount's compare-and-set and RenamePasskey's
// owner check run under the credential's lock, because FerretDB 1.x does
// not make a conditional update atomic; the condition stays in the
// update's filter for MongoDB. Deletes are by _id and owner, whose count
// is exact on both servers. A Passkeys is safe for concurrent use; run
// Migrate once before use.
type Passkeys struct {
	base
	locks *mongo.Collection
}

var _ loginkit.PasskeyStore = (*Passkeys)(nil)

const passkeysName = "passkeys"

// NewPasskeys returns a passkey store in db (see WithPrefix). It sends no
// command: run Migrate with the same options once before use.
func NewPasskeys(db *mongo.Database, opts ...Option) *Passkeys {
	b := newBase(db, opts, passkeysName)
	return &Passkeys{base: b, locks: b.sibling(lockSuffix)}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *Passkeys) CheckConfig() error { return s.err }

// passkeyDoc is a passkey as stored.
type passkeyDoc struct {
	ID             string    `bson:"_id"`
	CredentialID   []byte    `bson:"credential_id"`
	UserID         string    `bson:"user_id"`
	PublicKey      []byte    `bson:"public_key"`
	SignCount      int64     `bson:"sign_count"`
	Transports     []string  `bson:"transports"`
	BackupEligible bool      `bson:"backup_eligible"`
	BackedUp       bool      `bson:"backed_up"`
	Name           string    `bson:"name"`
	CreatedAt      time.Time `bson:"created_at"`
	LastUsedAt     time.Time `bson:"last_used_at"`
}

func (d *passkeyDoc) passkey() *loginkit.Passkey {
	return &loginkit.Passkey{
		CredentialID: d.CredentialID, UserID: d.UserID, PublicKey: d.PublicKey, SignCount: uint32(d.SignCount),
		Transports: d.Transports, BackupEligible: d.BackupEligible, BackedUp: d.BackedUp, Name: d.Name,
		CreatedAt: storekit.UTCOrZero(d.CreatedAt), LastUsedAt: storekit.UTCOrZero(d.LastUsedAt),
	}
}

func pkID(id []byte) string { return hex.EncodeToString(id) }

// locked runs f under the credential's write lock.
func (s *Passkeys) locked(ctx context.Context, op string, id []byte, f func() error) error {
	return locked(ctx, op, s.locks, pkID(id), f)
}

// CreatePasskey implements loginkit.PasskeyStore with one insert; a
// known credential ID fails on the _id index (loginkit.ErrDuplicate).
func (s *Passkeys) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	const op = "create passkey"
	if err := errs.CheckPasskey(ctx, op, s.err, p); err != nil {
		return err
	}
	d := passkeyDoc{
		ID: pkID(p.CredentialID), CredentialID: slices.Clone(p.CredentialID), UserID: p.UserID, PublicKey: slices.Clone(p.PublicKey),
		SignCount: int64(p.SignCount), Transports: slices.Clone(p.Transports), BackupEligible: p.BackupEligible, BackedUp: p.BackedUp,
		Name: p.Name, CreatedAt: storekit.UTCOrZero(p.CreatedAt), LastUsedAt: storekit.UTCOrZero(p.LastUsedAt),
	}
	_, err := s.c.InsertOne(ctx, d)
	return wrap(op, err)
}

// GetPasskey implements loginkit.PasskeyStore with a find by _id.
func (s *Passkeys) GetPasskey(ctx context.Context, credentialID []byte) (*loginkit.Passkey, error) {
	const op = "get passkey"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return nil, err
	}
	var d passkeyDoc
	if err := findOne(ctx, s.c, bson.D{{Key: fieldID, Value: pkID(credentialID)}}, &d); err != nil {
		return nil, wrap(op, err)
	}
	return d.passkey(), nil
}

// ListPasskeys implements loginkit.PasskeyStore with a find on the
// (user_id, created_at) index.
func (s *Passkeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	const op = "list passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	out, err := findAll(ctx, s.c, bson.D{{Key: fieldUserID, Value: userID}},
		bson.D{{Key: fieldCreatedAt, Value: 1}, {Key: fieldID, Value: 1}}, (*passkeyDoc).passkey)
	return out, wrap(op, err)
}

// RenamePasskey implements loginkit.PasskeyStore: under the credential's
// lock, an update filtered on _id and owner.
func (s *Passkeys) RenamePasskey(ctx context.Context, userID string, credentialID []byte, name string) error {
	const op = "rename passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	return s.locked(ctx, op, credentialID, func() error {
		res, err := s.c.UpdateOne(ctx, bson.D{{Key: fieldID, Value: pkID(credentialID)}, {Key: fieldUserID, Value: userID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}})
		return matchedOne(op, res, err, loginkit.ErrNotFound)
	})
}

// UpdateSignCount implements loginkit.PasskeyStore: under the
// credential's lock, a read of the count and an update filtered on it.
func (s *Passkeys) UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error {
	const op = "update sign count"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return err
	}
	id := pkID(credentialID)
	return s.locked(ctx, op, credentialID, func() error {
		var d passkeyDoc
		if err := findOne(ctx, s.c, bson.D{{Key: fieldID, Value: id}}, &d); err != nil {
			return wrap(op, err)
		}
		if d.SignCount != int64(old) {
			return wrap(op, loginkit.ErrReplayed)
		}
		res, err := s.c.UpdateOne(ctx, bson.D{{Key: fieldID, Value: id}, {Key: "sign_count", Value: int64(old)}},
			bson.D{{Key: "$set", Value: bson.D{
				{Key: "sign_count", Value: int64(count)}, {Key: "backed_up", Value: backedUp}, {Key: "last_used_at", Value: storekit.UTCOrZero(usedAt)},
			}}})
		if err == nil && res.MatchedCount == 0 {
			// No match despite the lock: DeletePasskey (which does not
			// take it) removed the document meanwhile, or a writer that
			// bypassed the lock changed the count.
			var gone passkeyDoc
			if errors.Is(findOne(ctx, s.c, bson.D{{Key: fieldID, Value: id}}, &gone), mongo.ErrNoDocuments) {
				return errs.NotFound(op)
			}
		}
		return matchedOne(op, res, err, loginkit.ErrReplayed)
	})
}

// DeletePasskey implements loginkit.PasskeyStore with a delete by _id
// and owner.
func (s *Passkeys) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	const op = "delete passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: fieldID, Value: pkID(credentialID)}, {Key: fieldUserID, Value: userID}})
	return deletedOne(op, res, err)
}

// DeleteUserPasskeys implements loginkit.PasskeyStore with one delete of
// the user's documents.
func (s *Passkeys) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	const op = "delete user passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return 0, err
	}
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: fieldUserID, Value: userID}})
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(res.DeletedCount), nil
}
