package sqlstore

import (
	"context"
	"time"

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
	db    *bun.DB
	table string
	now   func() time.Time
	err   error // a bad option, answered by every method
}

// NewTokens returns a token store keeping its tokens in the
// <prefix>tokens table of db (see WithPrefix). It sends no query until
// first used.
func NewTokens(db *bun.DB, opts ...Option) *Tokens {
	c := newConfig(opts)
	return &Tokens{db: db, table: c.tokensTable(), now: time.Now, err: c.Err}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (ts *Tokens) CheckConfig() error { return ts.err }

func (ts *Tokens) tableExpr() (string, bun.Ident) { return "? AS t", bun.Ident(ts.table) }

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
	q, a := ts.tableExpr()
	res, err := ts.db.NewInsert().Model(&r).ModelTableExpr(q, a).
		On("CONFLICT (selector) DO UPDATE").
		Where("t.expires_at <= ?", toMillis(ts.now())).
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
	const op = "get token"
	if err := errs.ReadyKey(ctx, op, ts.err, selector); err != nil {
		return nil, err
	}
	var r tokenRow
	q, a := ts.tableExpr()
	err := ts.db.NewSelect().Model(&r).ModelTableExpr(q, a).
		Where("t.selector = ? AND t.expires_at > ?", selector, toMillis(ts.now())).
		Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
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
		Where("? = ? AND ? > ?", bun.Ident("selector"), selector, bun.Ident("expires_at"), toMillis(ts.now())).
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
	const op = "delete token"
	if err := errs.Ready(ctx, op, ts.err); err != nil || selector == "" {
		return err // an empty selector names nothing to delete
	}
	_, err := ts.db.NewDelete().TableExpr("?", bun.Ident(ts.table)).
		Where("? = ?", bun.Ident("selector"), selector).Exec(ctx)
	return wrap(ctx, op, err)
}

// ListByUser returns the user's unexpired tokens of the given purpose
// (all purposes when purpose is empty), newest CreatedAt first (then by
// selector, descending): one SELECT using the (user_id, purpose) index.
func (ts *Tokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	const op = "list tokens"
	if err := errs.Ready(ctx, op, ts.err); err != nil {
		return nil, err
	}
	var rows []tokenRow
	q, a := ts.tableExpr()
	sel := ts.db.NewSelect().Model(&rows).ModelTableExpr(q, a).
		Where("t.user_id = ? AND t.expires_at > ?", userID, toMillis(ts.now()))
	if purpose != "" {
		sel = sel.Where("t.purpose = ?", purpose)
	}
	if err := sel.OrderExpr("t.created_at DESC, t.selector DESC").Scan(ctx); err != nil {
		return nil, wrap(ctx, op, err)
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
	const op = "delete user's tokens"
	if err := errs.Ready(ctx, op, ts.err); err != nil {
		return 0, err
	}
	q := ts.db.NewDelete().TableExpr("?", bun.Ident(ts.table)).
		Where("? = ?", bun.Ident("user_id"), userID)
	if purpose != "" {
		q = q.Where("? = ?", bun.Ident("purpose"), purpose)
	}
	var expires []int64
	if err := q.Returning("?", bun.Ident("expires_at")).Scan(ctx, &expires); err != nil {
		return 0, wrap(ctx, op, err)
	}
	return countLive(expires, toMillis(ts.now())), nil
}

// DeleteExpired removes every expired token, in one DELETE using the
// expires_at index, and reports how many. Run it periodically.
func (ts *Tokens) DeleteExpired(ctx context.Context) (int, error) {
	return deleteExpired(ctx, ts.db, "delete expired tokens", ts.table, toMillis(ts.now()))
}
