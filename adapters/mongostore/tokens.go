package mongostore

import (
	"context"
	"time"

	"github.com/loginkit/loginkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Tokens is a loginkit.TokenStore in a MongoDB collection (default
// "loginkit_tokens"), one document per token with the selector as _id.
// It is safe for concurrent use.
type Tokens struct {
	base
}

// NewTokens returns a token store in db. It sends no command: run Migrate
// with the same options once before use.
func NewTokens(db *mongo.Database, opts ...Option) *Tokens {
	return &Tokens{newBase(db, opts, "tokens")}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (t *Tokens) CheckConfig() error { return t.err }

// Collection returns the collection the store keeps its tokens in.
func (t *Tokens) Collection() *mongo.Collection { return t.c }

// ExpiryMode reports how expired tokens are removed, from the indexes the
// collection has: ExpiryTTL or ExpiryFilter once Migrate has run,
// ExpiryUnknown before.
func (t *Tokens) ExpiryMode(ctx context.Context) (ExpiryMode, error) {
	return t.expiryMode(ctx)
}

const (
	fieldPurpose       = "purpose"
	fieldValidatorHash = "validator_hash"
)

// tokenDoc is a token as stored.
type tokenDoc struct {
	Selector      string    `bson:"_id"`
	ValidatorHash string    `bson:"validator_hash"`
	UserID        string    `bson:"user_id"`
	Purpose       string    `bson:"purpose"`
	Version       int64     `bson:"version"`
	CreatedAt     time.Time `bson:"created_at"`
	ExpiresAt     time.Time `bson:"expires_at"`
}

func (d *tokenDoc) token() *loginkit.Token {
	return &loginkit.Token{
		Selector:      d.Selector,
		ValidatorHash: d.ValidatorHash,
		UserID:        d.UserID,
		Purpose:       d.Purpose,
		Version:       d.Version,
		CreatedAt:     d.CreatedAt.UTC(),
		ExpiresAt:     d.ExpiresAt.UTC(),
	}
}

// Create stores a new token: one insert. A token with the same selector
// that has not expired is loginkit.ErrDuplicate; an expired one is
// replaced. An empty selector is loginkit.ErrInvalid. Times are kept to
// the millisecond.
func (t *Tokens) Create(ctx context.Context, tok *loginkit.Token) error {
	const op = "create token"
	if err := errs.CheckToken(ctx, op, t.err, tok); err != nil {
		return err
	}
	d := &tokenDoc{
		Selector:      tok.Selector,
		ValidatorHash: tok.ValidatorHash,
		UserID:        tok.UserID,
		Purpose:       tok.Purpose,
		Version:       tok.Version,
		CreatedAt:     tok.CreatedAt,
		ExpiresAt:     tok.ExpiresAt,
	}
	_, err := t.c.InsertOne(ctx, d)
	if !isDuplicateKey(err) {
		return wrap(op, err)
	}
	// The selector is taken: take it over only if that token has expired.
	res, err := t.c.ReplaceOne(ctx, bson.D{
		{Key: fieldID, Value: tok.Selector},
		{Key: fieldExpiresAt, Value: bson.D{{Key: "$lte", Value: now()}}},
	}, d)
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		return errs.Duplicate(op, "selector")
	}
	return nil
}

// Get returns the token without consuming it: one find on _id and the
// expiry date. A missing or expired token is loginkit.ErrNotFound.
func (t *Tokens) Get(ctx context.Context, selector string) (*loginkit.Token, error) {
	var d tokenDoc
	if err := t.findLive(ctx, "get token", selector, &d); err != nil {
		return nil, err
	}
	return d.token(), nil
}

// Consume returns and deletes the token in two round trips: a find, then a
// delete that names the selector, the validator hash and an unexpired
// expiry date. Only the caller whose delete removed the document gets the
// token; every other concurrent caller gets loginkit.ErrNotFound, as does
// a missing or expired token.
//
// A single findAndModify (FindOneAndDelete) is not used because FerretDB
// 1.x implements it as a read followed by an unconditional delete, so two
// concurrent callers could both receive the token; a delete's count is
// exact on every server.
func (t *Tokens) Consume(ctx context.Context, selector string) (*loginkit.Token, error) {
	const op = "consume token"
	var d tokenDoc
	if err := t.findLive(ctx, op, selector, &d); err != nil {
		return nil, err
	}
	res, err := t.c.DeleteOne(ctx, bson.D{
		{Key: fieldID, Value: selector},
		{Key: fieldValidatorHash, Value: d.ValidatorHash},
		{Key: fieldExpiresAt, Value: notExpired(now())},
	})
	if err := deletedOne(op, res, err); err != nil {
		return nil, err
	}
	return d.token(), nil
}

// Delete removes one token. Deleting a missing token is not an error.
func (t *Tokens) Delete(ctx context.Context, selector string) error {
	return t.deleteID(ctx, "delete token", selector)
}

// ListByUser returns the user's unexpired tokens of the given purpose (all
// purposes when purpose is empty), newest CreatedAt first (ties in
// selector order).
func (t *Tokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	return listLive(ctx, t.base, "list tokens", byUserPurpose(userID, purpose), (*tokenDoc).token)
}

// DeleteByUser removes the user's tokens of the given purpose (all
// purposes when purpose is empty) and reports how many unexpired tokens
// it removed; expired ones are removed too but not counted.
func (t *Tokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	return t.deleteByUser(ctx, "delete user tokens", byUserPurpose(userID, purpose), "")
}

// byUserPurpose is the filter of the user's tokens of purpose (of every
// purpose when it is empty).
func byUserPurpose(userID, purpose string) bson.D {
	filter := bson.D{{Key: fieldUserID, Value: userID}}
	if purpose != "" {
		filter = append(filter, bson.E{Key: fieldPurpose, Value: purpose})
	}
	return filter
}

// DeleteExpired removes the tokens whose expiry date has passed and
// reports how many. In ExpiryFilter mode call it periodically; in
// ExpiryTTL mode the server does the same on its own.
func (t *Tokens) DeleteExpired(ctx context.Context) (int, error) {
	return t.deleteExpired(ctx, "delete expired tokens")
}
