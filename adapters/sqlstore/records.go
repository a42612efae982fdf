package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/uptrace/bun"
)

// base is what every store of the package holds: the database, the table
// of its records with the alias its queries give it, and a bad option,
// answered by every method.
type base struct {
	db           *bun.DB
	table, alias string
	err          error
}

// newBase returns the base of a store in db, made with opts, whose table
// is named by the config's method table (config.sessionsTable).
func newBase(db *bun.DB, opts []Option, table func(config) string, alias string) base {
	c := newConfig(opts)
	return base{db: db, table: table(c), alias: alias, err: c.Err}
}

// tableExpr is the ModelTableExpr of the store's queries: its table under
// its alias, with which bun qualifies the model's columns.
func (b base) tableExpr() (string, bun.Ident, bun.Ident) {
	return "? AS ?", bun.Ident(b.table), bun.Ident(b.alias)
}

// deleteKey deletes the row whose column holds key; see
// storekit.Errs.Delete.
func (b base) deleteKey(ctx context.Context, op, column, key string) error {
	return errs.Delete(ctx, op, b.err, key, func() error {
		_, err := b.db.NewDelete().TableExpr("?", bun.Ident(b.table)).
			Where("? = ?", bun.Ident(column), key).Exec(ctx)
		return wrap(ctx, op, err)
	})
}

// expiring is the base of Sessions and Tokens, whose rows belong to the
// user in user_id, expire at expires_at (Unix milliseconds) and are
// listed newest created_at first.
type expiring struct {
	base
	now func() time.Time
}

func newExpiring(db *bun.DB, opts []Option, table func(config) string, alias string) expiring {
	return expiring{newBase(db, opts, table, alias), time.Now}
}

func (e expiring) nowMillis() int64 { return toMillis(e.now()) }

// getLive scans into model the unexpired row whose column holds key: one
// SELECT by primary key that also checks expires_at. A missing or expired
// row, or an empty key, is loginkit.ErrNotFound.
func (e expiring) getLive(ctx context.Context, op string, model any, column, key string) error {
	if err := errs.ReadyKey(ctx, op, e.err, key); err != nil {
		return err
	}
	err := e.db.NewSelect().Model(model).ModelTableExpr(e.tableExpr()).
		Where("?TableAlias.? = ? AND ?TableAlias.expires_at > ?", bun.Ident(column), key, e.nowMillis()).
		Scan(ctx)
	return wrap(ctx, op, err)
}

// listLive scans into rows the user's unexpired rows (of purpose, unless
// it is empty), newest created_at first, then by the key column,
// descending: one SELECT using the user_id index.
func (e expiring) listLive(ctx context.Context, op string, rows any, userID, key, purpose string) error {
	if err := errs.Ready(ctx, op, e.err); err != nil {
		return err
	}
	q := e.db.NewSelect().Model(rows).ModelTableExpr(e.tableExpr()).
		Where("?TableAlias.user_id = ? AND ?TableAlias.expires_at > ?", userID, e.nowMillis())
	if purpose != "" {
		q = q.Where("?TableAlias.purpose = ?", purpose)
	}
	err := q.OrderExpr("?TableAlias.created_at DESC, ?TableAlias.? DESC", bun.Ident(key)).Scan(ctx)
	return wrap(ctx, op, err)
}

// deleteByUser removes the user's rows that also meet cond with args
// (when cond is not empty), expired ones included, in one DELETE ...
// RETURNING, and reports how many unexpired rows it removed.
func (e expiring) deleteByUser(ctx context.Context, op, userID, cond string, args ...any) (int, error) {
	if err := errs.Ready(ctx, op, e.err); err != nil {
		return 0, err
	}
	q := e.db.NewDelete().TableExpr("?", bun.Ident(e.table)).
		Where("? = ?", bun.Ident("user_id"), userID)
	if cond != "" {
		q = q.Where(cond, args...)
	}
	var expires []int64
	if err := q.Returning("?", bun.Ident("expires_at")).Scan(ctx, &expires); err != nil {
		return 0, wrap(ctx, op, err)
	}
	now, n := e.nowMillis(), 0
	for _, ms := range expires {
		if ms > now {
			n++
		}
	}
	return n, nil
}

// deleteExpired removes every expired row, in one DELETE using the
// expires_at index, and reports how many.
func (e expiring) deleteExpired(ctx context.Context, op string) (int, error) {
	if err := errs.Ready(ctx, op, e.err); err != nil {
		return 0, err
	}
	res, err := e.db.NewDelete().TableExpr("?", bun.Ident(e.table)).
		Where("? <= ?", bun.Ident("expires_at"), e.nowMillis()).Exec(ctx)
	return affected(ctx, op, res, err)
}

// affected returns the number of rows the statement whose result is res
// (and error err) changed.
func affected(ctx context.Context, op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	return int(n), nil
}

// one reports ErrNotFound unless the statement whose result is res (and
// error err) changed exactly one row.
func one(ctx context.Context, op string, res sql.Result, err error) error {
	n, err := affected(ctx, op, res, err)
	if err != nil {
		return err
	}
	if n != 1 {
		return errs.NotFound(op)
	}
	return nil
}

// replayedUnlessOne is one for a compare-and-set UPDATE: when it changed
// no row, the record selected by exists either is missing
// (loginkit.ErrNotFound) or failed the comparison (loginkit.ErrReplayed).
func replayedUnlessOne(ctx context.Context, op string, res sql.Result, err error, exists *bun.SelectQuery) error {
	if err = one(ctx, op, res, err); err == nil || !errors.Is(err, loginkit.ErrNotFound) {
		return err
	}
	found, err := exists.Exists(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if !found {
		return errs.NotFound(op)
	}
	return wrap(ctx, op, loginkit.ErrReplayed)
}
