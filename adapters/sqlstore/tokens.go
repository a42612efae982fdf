package sqlstore

import (
	"context"

	"github.com/loginkit/loginkit"
	"github.com/uptrace/bun"
)

// tokenRow is a row of the <prefix>tokens table; times are Unix
// milliseconds.
type tokenRow struct {
	bun.BaseModel `bun:"table:tokens,alias:t"`

	Selector      string `bun:"selector,pk"`
	ValidatorHash string `bun:"validator_hash,notnull"`
	UserID        string `bun:"user_id,notnull"`
	Purpose       string `bun:"purpose,notnull"`
	Version       int64  `bun:"version,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"`
	ExpiresAt     int64  `bun:"expires_at,notnull"`
}

func (r *tokenRow) token() *loginkit.Token {
	return &loginkit.Token{
		Selector:      r.Selector,
		ValidatorHash: r.ValidatorHash,
		UserID:        r.UserID,
		Purpose:       r.Purpose,
		Version:       r.Version,
		CreatedAt:     fromMillis(r.CreatedAt),
		ExpiresAt:     fromMillis(r.ExpiresAt),
	}
}

// Tokens is a loginkit.TokenStore in the <prefix>tokens table, which
// Migrate creates. The table is keyed by selector, with indexes on
// (user_id, purpose) and expires_at. Times are stored as Unix
// milliseconds. A Tokens is safe for concurrent use.
//
// Expired tokens are never returned, but stay in the table until
// DeleteExpired, DeleteByUser, Consume or a Create reusing the selector
// removes them; run DeleteExpired from time to time, as for Sessions.
type Tokens struct {
	expiring
}

// NewTokens returns a token store keeping its tokens in the
// <prefix>tokens table of db (see WithPrefix). It sends no query until
// first used.
func NewTokens(db *bun.DB, opts ...Option) *Tokens {
	return &Tokens{newExpiring(db, opts, config.tokensTable, "t")}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (ts *Tokens) CheckConfig() error { return ts.err }

// Create inserts a new token: one INSERT ... ON CONFLICT (selector) DO
// UPDATE ... WHERE the stored row has expired, so that an expired token's
// selector may be reused while a live one is loginkit.ErrDuplicate, with
// no window between checking and writing. A nil token or an empty
// selector is loginkit.ErrInvalid. Times are truncated to milliseconds.
func (ts *Tokens) Create(ctx context.Context, t *loginkit.Token) error {
	const op = "create token"
	if err := errs.CheckToken(ctx, op, ts.err, t); err != nil {
		return err
	}
	r := tokenRow{
		Selector:      t.Selector,
		ValidatorHash: t.ValidatorHash,
		UserID:        t.UserID,
		Purpose:       t.Purpose,
		Version:       t.Version,
		CreatedAt:     toMillis(t.CreatedAt),
		ExpiresAt:     toMillis(t.ExpiresAt),
	}
	res, err := ts.db.NewInsert().Model(&r).ModelTableExpr(ts.tableExpr()).
		On("CONFLICT (selector) DO UPDATE").
		Where("t.expires_at <= ?", ts.nowMillis()).
		Exec(ctx)
	if n, err := affected(ctx, op, res, err); err != nil || n > 0 {
		return err
	}
	return errs.Duplicate(op, "selector")
}

// Get returns the token without consuming it: one SELECT by primary key
// that also checks expires_at. A missing or expired token is
// loginkit.ErrNotFound.
func (ts *Tokens) Get(ctx context.Context, selector string) (*loginkit.Token, error) {
	var r tokenRow
	if err := ts.getLive(ctx, "get token", &r, "selector", selector); err != nil {
		return nil, err
	}
	return r.token(), nil
}

// Consume returns and deletes the token in one statement, DELETE ...
// RETURNING, so that among concurrent callers exactly one gets it (the
// database's row lock decides) and the others get loginkit.ErrNotFound.
// An expired token is loginkit.ErrNotFound and is left for DeleteExpired.
func (ts *Tokens) Consume(ctx context.Context, selector string) (*loginkit.Token, error) {
	const op = "consume token"
	if err := errs.ReadyKey(ctx, op, ts.err, selector); err != nil {
		return nil, err
	}
	var rows []tokenRow
	err := ts.db.NewDelete().Model(&rows).ModelTableExpr("?", bun.Ident(ts.table)).
		Where("? = ? AND ? > ?", bun.Ident("selector"), selector, bun.Ident("expires_at"), ts.nowMillis()).
		Returning("*").
		Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	if len(rows) == 0 {
		return nil, errs.NotFound(op)
	}
	return rows[0].token(), nil
}

// Delete removes one token. Deleting a missing token is not an error.
func (ts *Tokens) Delete(ctx context.Context, selector string) error {
	return ts.deleteKey(ctx, "delete token", "selector", selector)
}

// ListByUser returns the user's unexpired tokens of the given purpose
// (all purposes when purpose is empty), newest CreatedAt first (then by
// selector, descending): one SELECT using the (user_id, purpose) index.
func (ts *Tokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	var rows []tokenRow
	if err := ts.listLive(ctx, "list tokens", &rows, userID, "selector", purpose); err != nil {
		return nil, err
	}
	out := make([]*loginkit.Token, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// DeleteByUser removes the user's tokens of the given purpose (all
// purposes when purpose is empty), expired ones included, in one DELETE
// ... RETURNING, and reports how many unexpired tokens it removed.
func (ts *Tokens) DeleteByUser(ctx context.Context, userID, purpose string) (int, error) {
	cond := ""
	if purpose != "" {
		cond = "purpose = ?"
	}
	return ts.deleteByUser(ctx, "delete user's tokens", userID, cond, purpose)
}

// DeleteExpired removes every expired token, in one DELETE using the
// expires_at index, and reports how many. Run it periodically.
func (ts *Tokens) DeleteExpired(ctx context.Context) (int, error) {
	return ts.deleteExpired(ctx, "delete expired tokens")
}
