package mongostore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SecondFactors is a loginkit.SecondFactorStore in three collections:
// "<prefix>second_factors" (one document per user with a TOTP secret,
// keyed by user ID), "<prefix>second_factors_codes" (one document per
// unused recovery code, with an index on user_id) and
// "<prefix>second_factors_locks" (write locks, as for Users).
//
// The single-use rules rely only on what FerretDB 1.x also does
// atomically: UseRecoveryCode is a delete by _id whose count tells the
// one caller that removed the code; the TOTP compare-and-set in
// AcceptTOTPStep, and every other write to one user's data, runs under
// the user's write lock (an insert checked by a unique index, see Users),
// with the condition also in the update's filter for MongoDB. A
// SecondFactors is safe for concurrent use; run Migrate once before use.
type SecondFactors struct {
	base
	codes, locks *mongo.Collection
}

var _ loginkit.SecondFactorStore = (*SecondFactors)(nil)

// NewSecondFactors returns a second-factor store in db (see WithPrefix).
// It sends no command: run Migrate with the same options once before use.
func NewSecondFactors(db *mongo.Database, opts ...Option) *SecondFactors {
	b := newBase(db, opts, secondFactorsName)
	return &SecondFactors{base: b, codes: b.sibling(codesSuffix), locks: b.sibling(lockSuffix)}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *SecondFactors) CheckConfig() error { return s.err }

// Collection names of the second-factor store.
const (
	secondFactorsName = "second_factors"
	codesSuffix       = "_codes"
)

// totpDoc is a user's TOTP secret as stored.
type totpDoc struct {
	UserID    string    `bson:"_id"`
	Secret    []byte    `bson:"secret"`
	LastStep  int64     `bson:"last_step"`
	EnabledAt time.Time `bson:"enabled_at"`
}

// codeDoc is one unused recovery code.
type codeDoc struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
	Hash   string `bson:"hash"`
}

// codeID is a code document's _id: unambiguous for any user ID and hash.
func codeID(userID, hash string) string {
	return strconv.Itoa(len(userID)) + ":" + userID + ":" + hash
}

// GetSecondFactor implements loginkit.SecondFactorStore: a find by _id and
// a find of the codes by user_id.
func (s *SecondFactors) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	const op = "get second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	f := &loginkit.SecondFactor{UserID: userID}
	var d totpDoc
	switch err := findOne(ctx, s.c, bson.D{{Key: fieldID, Value: userID}}, &d); {
	case err == nil:
		f.TOTPSecret, f.TOTPLastStep = d.Secret, d.LastStep
		if !d.EnabledAt.IsZero() {
			f.TOTPEnabledAt = d.EnabledAt.UTC()
		}
	case !errors.Is(err, mongo.ErrNoDocuments):
		return nil, wrap(op, err)
	}
	cur, err := s.codes.Find(ctx, bson.D{{Key: fieldUserID, Value: userID}})
	if err != nil {
		return nil, wrap(op, err)
	}
	var docs []codeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(op, err)
	}
	for _, c := range docs {
		f.RecoveryCodes = append(f.RecoveryCodes, c.Hash)
	}
	if storekit.NoSecondFactor(f) {
		return nil, errs.NotFound(op)
	}
	return f, nil
}

// locked runs f under the user's write lock.
func (s *SecondFactors) locked(ctx context.Context, op, userID string, f func() error) error {
	return locked(ctx, op, s.locks, userID, f)
}

// SetTOTP implements loginkit.SecondFactorStore: a replace (upsert) under
// the user's lock.
func (s *SecondFactors) SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error {
	const op = "set TOTP"
	if err := errs.CheckTOTP(ctx, op, s.err, userID, secret); err != nil {
		return err
	}
	d := totpDoc{UserID: userID, Secret: slices.Clone(secret), LastStep: lastStep, EnabledAt: enabledAt.UTC()}
	return s.locked(ctx, op, userID, func() error {
		_, err := s.c.ReplaceOne(ctx, bson.D{{Key: fieldID, Value: userID}}, d, options.Replace().SetUpsert(true))
		return wrap(op, err)
	})
}

// AcceptTOTPStep implements loginkit.SecondFactorStore: under the user's
// lock, it reads the last step and, when step is greater, updates it
// with that condition in the filter.
func (s *SecondFactors) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "accept TOTP step"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	return s.locked(ctx, op, userID, func() error {
		var d totpDoc
		if err := findOne(ctx, s.c, bson.D{{Key: fieldID, Value: userID}}, &d); err != nil {
			return wrap(op, err)
		}
		if step <= d.LastStep {
			return wrap(op, loginkit.ErrReplayed)
		}
		res, err := s.c.UpdateOne(ctx,
			bson.D{{Key: fieldID, Value: userID}, {Key: "last_step", Value: bson.D{{Key: "$lt", Value: step}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "last_step", Value: step}}}})
		// No match despite the lock: a writer that bypassed it.
		return matchedOne(op, res, err, loginkit.ErrReplayed)
	})
}

// SetRecoveryCodes implements loginkit.SecondFactorStore: under the
// user's lock, a delete of the user's codes and an insert of the new ones.
func (s *SecondFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	const op = "set recovery codes"
	if err := errs.CheckRecoveryCodes(ctx, op, s.err, userID, hashes); err != nil {
		return err
	}
	docs := make([]codeDoc, 0, len(hashes))
	for _, h := range hashes {
		docs = append(docs, codeDoc{ID: codeID(userID, h), UserID: userID, Hash: h})
	}
	return s.locked(ctx, op, userID, func() error {
		if _, err := s.codes.DeleteMany(ctx, bson.D{{Key: fieldUserID, Value: userID}}); err != nil {
			return wrap(op, err)
		}
		if len(docs) == 0 {
			return nil
		}
		_, err := s.codes.InsertMany(ctx, docs)
		return wrap(op, err)
	})
}

// UseRecoveryCode implements loginkit.SecondFactorStore with one delete by
// _id: only the caller whose delete removed the document succeeds.
func (s *SecondFactors) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	res, err := s.codes.DeleteOne(ctx, bson.D{{Key: fieldID, Value: codeID(userID, hash)}})
	return deletedOne(op, res, err)
}

// DeleteSecondFactor implements loginkit.SecondFactorStore: under the
// user's lock, it deletes the TOTP document and every code.
func (s *SecondFactors) DeleteSecondFactor(ctx context.Context, userID string) error {
	const op = "delete second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	return s.locked(ctx, op, userID, func() error {
		if _, err := s.c.DeleteOne(ctx, bson.D{{Key: fieldID, Value: userID}}); err != nil {
			return wrap(op, err)
		}
		_, err := s.codes.DeleteMany(ctx, bson.D{{Key: fieldUserID, Value: userID}})
		return wrap(op, err)
	})
}
