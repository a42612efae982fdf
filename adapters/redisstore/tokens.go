package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// Tokens is a loginkit.TokenStore in Redis. Each token is one string key
// that Redis expires at the token's ExpiresAt; a sorted set per user
// indexes the user's tokens of every purpose. A Tokens is safe for
// concurrent use.
type Tokens struct {
	base
}

var _ loginkit.TokenStore = (*Tokens)(nil)

// NewTokens returns a token store that keeps its keys in rdb. It sends no
// command until first used.
func NewTokens(rdb redis.UniversalClient, opts ...Option) *Tokens {
	return &Tokens{newBase(rdb, newConfig(opts))}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (ts *Tokens) CheckConfig() error { return ts.err }

// Create stores a new token with SET NX and a Redis expiry at t.ExpiresAt,
// then adds it to its user's index; if that fails, the token is removed
// again and the error returned, so that every stored token is indexed. A
// selector already stored is loginkit.ErrDuplicate; a nil token or an
// empty selector is loginkit.ErrInvalid. A token that has already expired
// is not stored (but its selector is still checked for duplicates).
func (ts *Tokens) Create(ctx context.Context, t *loginkit.Token) error {
	const op = "create token"
	if err := errs.CheckToken(ctx, op, ts.err, t); err != nil {
		return err
	}
	now := time.Now()
	rk := tokenKey(ts.prefix, t.Selector)
	if !t.ExpiresAt.After(now) {
		n, err := ts.rdb.Exists(ctx, rk).Result()
		if err != nil {
			return wrap(op, err)
		}
		if n > 0 {
			return errs.Duplicate(op, "selector")
		}
		return nil
	}
	err := ts.rdb.Do(ctx, "set", rk, appendToken(make([]byte, 0, 128), t), "pxat", t.ExpiresAt.UnixMilli(), "nx").Err()
	if errors.Is(err, redis.Nil) {
		return errs.Duplicate(op, "selector")
	}
	if err != nil {
		return wrap(op, err)
	}
	ik := tokenIndexKey(ts.prefix, t.UserID)
	if err := indexAddScript.Run(ctx, ts.rdb, []string{ik}, t.Selector, unixMilli(t.ExpiresAt), unixMilli(now)).Err(); err != nil {
		_ = ts.rdb.Del(context.WithoutCancel(ctx), rk).Err() // best effort: the error below is what matters
		return wrap(op, err)
	}
	return nil
}

// Get returns the token without consuming it: one GET. A missing, expired
// or undecodable token is loginkit.ErrNotFound.
func (ts *Tokens) Get(ctx context.Context, selector string) (*loginkit.Token, error) {
	const op = "get token"
	v, err := ts.read(ctx, op, selector, ts.rdb.Get)
	if err != nil {
		return nil, err
	}
	return tokenKind.live(op, selector, v, time.Now())
}

// Consume returns and deletes the token with one GETDEL (Redis 6.2 or
// later), which is atomic: among concurrent callers exactly one gets the
// value. The token's index entry is then removed; should that fail, the
// token is still returned and the entry is dropped later. A missing,
// expired or undecodable token is loginkit.ErrNotFound.
func (ts *Tokens) Consume(ctx context.Context, selector string) (*loginkit.Token, error) {
	const op = "consume token"
	v, err := ts.read(ctx, op, selector, ts.rdb.GetDel)
	if err != nil {
		return nil, err
	}
	t, err := decodeToken(selector, v)
	if err != nil {
		return nil, corrupt(op)
	}
	dropFromIndex(ctx, ts.rdb, tokenIndexKey(ts.prefix, t.UserID), []string{selector})
	if !t.ExpiresAt.After(time.Now()) {
		return nil, errs.NotFound(op)
	}
	return t, nil
}

// read is the start of Get and Consume: the value stored for the selector,
// read by cmd (GET or GETDEL). An empty selector is loginkit.ErrNotFound.
func (ts *Tokens) read(ctx context.Context, op, selector string, cmd func(context.Context, string) *redis.StringCmd) (string, error) {
	if err := errs.ReadyKey(ctx, op, ts.err, selector); err != nil {
		return "", err
	}
	v, err := cmd(ctx, tokenKey(ts.prefix, selector)).Result()
	return v, wrap(op, err)
}

// Delete removes one token and its index entry. Deleting a missing token
// is not an error.
func (ts *Tokens) Delete(ctx context.Context, selector string) error {
	return tokenKind.remove(ctx, ts.base, "delete token", selector)
}

// ListByUser returns the user's unexpired tokens of the given purpose (all
// purposes when purpose is empty), newest CreatedAt first (ties by
// selector): two round trips, reading the user's index and then every
// token it names.
func (ts *Tokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	list, err := tokenKind.list(ctx, ts.base, "list tokens", userID, ofPurpose(purpose))
	storekit.SortTokens(list)
	return list, err
}

// DeleteByUser removes the user's tokens of the given purpose (all
// purposes when purpose is empty) and reports how many: three round trips
// (read the index, read the tokens to check owner and purpose, delete).
// A token created while it runs may survive; revocation rests on the
// manager's per-user session version.
func (ts *Tokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	n, _, err := tokenKind.removeByUser(ctx, ts.base, "delete user's tokens", userID, ofPurpose(purpose))
	return n, err
}

// DeleteExpired does nothing and returns 0: Redis expires tokens itself,
// and per-user indexes are trimmed whenever they are written or read.
func (ts *Tokens) DeleteExpired(ctx context.Context) (int, error) {
	return 0, errs.Ready(ctx, "delete expired tokens", ts.err)
}

// ofPurpose selects the tokens of purpose, or every token when it is
// empty.
func ofPurpose(purpose string) func(*loginkit.Token) bool {
	return func(t *loginkit.Token) bool { return purpose == "" || t.Purpose == purpose }
}
