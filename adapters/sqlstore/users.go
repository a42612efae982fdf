package sqlstore

import (
	"context"
	"reflect"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/uptrace/bun"
)

// Limits on ListOptions.Limit.
const (
	defaultListLimit = 50
	maxListLimit     = 1000
)

// Users is a loginkit.UserStore for the application's user type T, a
// struct embedding loginkit.Account (PT is *T and is inferred):
//
//	users := sqlstore.NewUsers[MyUser](db) // a UserStore[*MyUser]
//
// Each user is one row of the <prefix>users table, with a column for
// every field of T that bun maps (Account's columns and the
// application's own), created by Migrate[T]. Emails and usernames are
// unique because the table has unique constraints on email_key and
// username_key, which hold loginkit.NormalizeLogin of Email and Username
// (NULL when empty, so any number of users may have no username): two
// concurrent registrations of one address cannot both succeed, whatever
// the isolation level. Returned users have every time field in UTC (the
// same instants as stored, to the microsecond). A Users is safe for
// concurrent use.
type Users[T any, PT interface {
	*T
	loginkit.AccountUser
}] struct {
	db    *bun.DB
	table string
	alias string
	// times are the index paths of T's time.Time and *time.Time fields
	// that bun maps to columns, which returned users get in UTC.
	times [][]int
}

// NewUsers returns a user store for users of type *T kept in the
// <prefix>users table of db (see WithPrefix), which Migrate[T] creates. It
// sends no query until first used.
func NewUsers[T any, PT interface {
	*T
	loginkit.AccountUser
}](db *bun.DB, opts ...Option) *Users[T, PT] {
	c := newConfig(opts)
	table := db.Table(reflect.TypeFor[T]())
	us := &Users[T, PT]{db: db, table: c.usersTable(), alias: table.Alias}
	for _, f := range table.Fields {
		if f.IndirectType == timeType {
			us.times = append(us.times, f.Index)
		}
	}
	return us
}

var timeType = reflect.TypeFor[time.Time]()

// inUTC sets every mapped time field of u to UTC, so that a user's times
// come back the same way from every database and driver (SQLite's would
// otherwise be in the Local zone or a fixed offset, PostgreSQL's in the
// driver's choice of zone). The instant is unchanged; a zero time stays
// zero.
func (us *Users[T, PT]) inUTC(u PT) {
	v := reflect.ValueOf(u).Elem()
	for _, index := range us.times {
		f, err := v.FieldByIndexErr(index)
		if err != nil { // behind a nil embedded pointer
			continue
		}
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		t := f.Addr().Interface().(*time.Time)
		*t = t.UTC()
	}
}

// tableExpr is the ModelTableExpr for T's queries: the users table under
// T's own alias, with which bun qualifies T's columns.
func (us *Users[T, PT]) tableExpr() (string, bun.Ident, bun.Ident) {
	return "? AS ?", bun.Ident(us.table), bun.Ident(us.alias)
}

// LoadUser returns the user with the given ID: one SELECT by primary key.
// A missing user (or an empty ID) is loginkit.ErrNotFound.
func (us *Users[T, PT]) LoadUser(ctx context.Context, id string) (PT, error) {
	const op = "load user"
	if id == "" {
		return nil, notFound(op)
	}
	u := PT(new(T))
	u.LoginAccount().ID = id
	q, a1, a2 := us.tableExpr()
	err := us.db.NewSelect().Model(u).ModelTableExpr(q, a1, a2).WherePK().Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	us.inUTC(u)
	return u, nil
}

// FindByLogin returns the user whose normalised email, or failing that
// whose normalised username, equals loginkit.NormalizeLogin(login): one
// SELECT using the unique indexes. A login that matches nothing is
// loginkit.ErrNotFound.
func (us *Users[T, PT]) FindByLogin(ctx context.Context, login string) (PT, error) {
	const op = "find user"
	k := loginkit.NormalizeLogin(login)
	if k == "" {
		return nil, notFound(op)
	}
	u := PT(new(T))
	q, a1, a2 := us.tableExpr()
	err := us.db.NewSelect().Model(u).ModelTableExpr(q, a1, a2).
		Where("?TableAlias.email_key = ? OR ?TableAlias.username_key = ?", k, k).
		OrderExpr("CASE WHEN ?TableAlias.email_key = ? THEN 0 ELSE 1 END", k).
		Limit(1).
		Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	us.inUTC(u)
	return u, nil
}

// Create inserts a new user: one INSERT. An empty ID is replaced by
// loginkit.NewID() and written back into u (and cleared again if Create
// fails); EmailKey and UsernameKey are set from Email and Username. A
// taken ID, email or username is loginkit.ErrDuplicate, reported by the
// database's unique constraints; a nil user or a username containing '@'
// is loginkit.ErrInvalid.
func (us *Users[T, PT]) Create(ctx context.Context, u PT) error {
	const op = "create user"
	if u == nil {
		return invalid(op, "nil user")
	}
	a := u.LoginAccount()
	if !loginkit.ValidUsername(a.Username) {
		return invalid(op, "username contains '@'")
	}
	a.NormalizeKeys()
	generated := a.ID == ""
	if generated {
		a.ID = loginkit.NewID()
	}
	q, a1, a2 := us.tableExpr()
	// Returning("NULL"): nothing to read back, as no column has a default.
	_, err := us.db.NewInsert().Model(u).ModelTableExpr(q, a1, a2).Returning("NULL").Exec(ctx)
	if err != nil {
		if generated {
			a.ID = ""
		}
		return wrap(ctx, op, err)
	}
	return nil
}

// Update replaces every column of the stored user with u's fields: one
// UPDATE by primary key. A missing user (or an empty ID) is
// loginkit.ErrNotFound; an email or username taken by another user is
// loginkit.ErrDuplicate, and then nothing changes; a nil user or a
// username containing '@' is loginkit.ErrInvalid. EmailKey and
// UsernameKey are set from Email and Username.
func (us *Users[T, PT]) Update(ctx context.Context, u PT) error {
	const op = "update user"
	if u == nil {
		return invalid(op, "nil user")
	}
	a := u.LoginAccount()
	if a.ID == "" {
		return notFound(op)
	}
	if !loginkit.ValidUsername(a.Username) {
		return invalid(op, "username contains '@'")
	}
	a.NormalizeKeys()
	q, a1, a2 := us.tableExpr()
	res, err := us.db.NewUpdate().Model(u).ModelTableExpr(q, a1, a2).WherePK().Exec(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(ctx, op, err)
	} else if n == 0 {
		return notFound(op)
	}
	return nil
}

// Delete removes the user: one DELETE by primary key. Deleting a missing
// user is not an error. The user's sessions and tokens are left alone;
// the manager's helpers remove them.
func (us *Users[T, PT]) Delete(ctx context.Context, id string) error {
	const op = "delete user"
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	_, err := us.db.NewDelete().TableExpr("?", bun.Ident(us.table)).Where("? = ?", bun.Ident("id"), id).Exec(ctx)
	return wrap(ctx, op, err)
}

// List returns one page of users ordered by CreatedAt, then ID, and the
// total number of users: a COUNT and a SELECT using the (created_at, id)
// index. A zero Limit means 50; Limit is capped at 1000 and a negative
// Offset counts as 0.
func (us *Users[T, PT]) List(ctx context.Context, opts loginkit.ListOptions) ([]PT, int, error) {
	const op = "list users"
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	offset := max(opts.Offset, 0)

	n, err := us.db.NewSelect().TableExpr("?", bun.Ident(us.table)).Count(ctx)
	if err != nil {
		return nil, 0, wrap(ctx, op, err)
	}
	total := int(n)
	users := make([]PT, 0, min(limit, max(total-offset, 0)))
	if offset >= total {
		return users, total, nil
	}
	q, a1, a2 := us.tableExpr()
	err = us.db.NewSelect().Model(&users).ModelTableExpr(q, a1, a2).
		OrderExpr("?TableAlias.created_at ASC, ?TableAlias.id ASC").
		Limit(int64(limit)).Offset(int64(offset)).
		Scan(ctx)
	if err != nil {
		return nil, 0, wrap(ctx, op, err)
	}
	for _, u := range users {
		us.inUTC(u)
	}
	return users, total, nil
}
