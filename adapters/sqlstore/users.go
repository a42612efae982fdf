package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
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
// the isolation level. UpdateUser changes one user atomically
// (loginkit.UserUpdater). Returned users have every time field in UTC
// (the same instants as stored, to the microsecond). A Users is safe for
// concurrent use.
type Users[T any, PT interface {
	*T
	loginkit.AccountUser
}] struct {
	base
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
	table := db.Table(reflect.TypeFor[T]())
	us := &Users[T, PT]{base: newBase(db, opts, config.usersTable, table.Alias)}
	for _, f := range table.Fields {
		if f.IndirectType == timeType {
			us.times = append(us.times, f.Index)
		}
	}
	return us
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (us *Users[T, PT]) CheckConfig() error { return us.err }

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

// LoadUser returns the user with the given ID: one SELECT by primary key.
// A missing user (or an empty ID) is loginkit.ErrNotFound.
func (us *Users[T, PT]) LoadUser(ctx context.Context, id string) (PT, error) {
	const op = "load user"
	if err := errs.ReadyKey(ctx, op, us.err, id); err != nil {
		return nil, err
	}
	u := PT(new(T))
	u.LoginAccount().ID = id
	err := us.db.NewSelect().Model(u).ModelTableExpr(us.tableExpr()).WherePK().Scan(ctx)
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
	k, err := errs.ReadyLogin(ctx, op, us.err, login)
	if err != nil {
		return nil, err
	}
	u := PT(new(T))
	err = us.db.NewSelect().Model(u).ModelTableExpr(us.tableExpr()).
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
// database's unique constraints; a nil user, a username that is not
// loginkit.ValidUsername or an email that is not loginkit.ValidEmail is
// loginkit.ErrInvalid.
func (us *Users[T, PT]) Create(ctx context.Context, u PT) error {
	const op = "create user"
	return storekit.CreateUser(ctx, errs, op, us.err, u, func(*loginkit.Account) error {
		// Returning("NULL"): nothing to read back, as no column has a default.
		_, err := us.db.NewInsert().Model(u).ModelTableExpr(us.tableExpr()).Returning("NULL").Exec(ctx)
		return wrap(ctx, op, err)
	})
}

// Update replaces every column of the stored user with u's fields: one
// UPDATE by primary key. A missing user (or an empty ID) is
// loginkit.ErrNotFound; an email or username taken by another user is
// loginkit.ErrDuplicate, and then nothing changes; a nil user, a
// username that is not loginkit.ValidUsername or an email that is not
// loginkit.ValidEmail is loginkit.ErrInvalid. EmailKey and UsernameKey
// are set from Email and Username.
//
// Update writes u whole, whatever happened to the stored user since u was
// loaded; UpdateUser changes a user without losing concurrent writes.
func (us *Users[T, PT]) Update(ctx context.Context, u PT) error {
	const op = "update user"
	if _, err := storekit.UserWrite(ctx, errs, op, us.err, u, false); err != nil {
		return err
	}
	res, err := us.db.NewUpdate().Model(u).ModelTableExpr(us.tableExpr()).WherePK().Exec(ctx)
	return one(ctx, op, res, err)
}

// UpdateUser implements loginkit.UserUpdater: it changes the user with
// the given ID atomically, so that concurrent UpdateUser calls on one
// user take turns and none loses another's write. In one transaction it
// locks the user's row, loads it, calls change on the loaded copy and, if
// change returns nil, writes the result back as Update does, then commits;
// it returns the user as stored, which the caller may modify freely.
// change runs exactly once, inside the transaction, holding the row lock:
// it must be quick and must not use the store (a nested write to the same
// user would wait for this one forever, or on an in-memory SQLite database
// for the only connection).
//
// The lock, by database:
//
//   - PostgreSQL: the transaction is READ COMMITTED, whatever the server's
//     default, and loads the row with SELECT ... FOR UPDATE, which waits
//     for any other transaction holding the row and then reads its latest
//     version: 3 statements (BEGIN, SELECT, UPDATE) and COMMIT. A plain
//     Update of the same user waits for the lock too.
//   - SQLite: the transaction first writes the row with a no-op UPDATE,
//     which takes the database's single write lock (waiting up to the busy
//     timeout for another writer) before anything is read, then loads it:
//     every write to the database waits for this transaction. With
//     OpenSQLite's connections, whose transactions begin IMMEDIATE, BEGIN
//     already takes the lock; the first write makes it hold on a database
//     opened otherwise too.
//
// When change returns an error, the transaction is rolled back, nothing is
// stored, and UpdateUser returns that error as is. A missing user (or an
// empty ID) is loginkit.ErrNotFound and change is not called. A result
// whose email or username another user has is loginkit.ErrDuplicate; an
// altered ID, a username that is not
// loginkit.ValidUsername or an email that is not loginkit.ValidEmail is
// loginkit.ErrInvalid; in each case nothing is stored. A context that ends
// rolls the transaction back (see the package documentation).
func (us *Users[T, PT]) UpdateUser(ctx context.Context, id string, change func(u PT) error) (PT, error) {
	const op = "update user"
	if err := errs.ReadyKey(ctx, op, us.err, id); err != nil {
		return nil, err
	}
	pg := us.db.Dialect().Name() == dialect.PG
	var opts *sql.TxOptions
	if pg {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	var (
		stored    PT
		changeErr error // change's own error, returned as is
	)
	err := us.db.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		if !pg {
			// Take SQLite's write lock before reading.
			res, err := tx.NewUpdate().TableExpr("?", bun.Ident(us.table)).
				Set("? = ?", bun.Ident("id"), bun.Ident("id")).
				Where("? = ?", bun.Ident("id"), id).
				Exec(ctx)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return sql.ErrNoRows
			}
		}
		u := PT(new(T))
		u.LoginAccount().ID = id
		sel := tx.NewSelect().Model(u).ModelTableExpr(us.tableExpr()).WherePK()
		if pg {
			sel = sel.For("UPDATE")
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		us.inUTC(u)
		_, err := storekit.ApplyChange(errs, op, id, u, func(u PT) error {
			changeErr = change(u)
			return changeErr
		})
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(u).ModelTableExpr(us.tableExpr()).WherePK().Exec(ctx); err != nil {
			return err
		}
		stored = u
		return nil
	})
	switch {
	case changeErr != nil:
		return nil, changeErr
	case err != nil:
		if errors.Is(err, loginkit.ErrInvalid) {
			return nil, err
		}
		return nil, wrap(ctx, op, err)
	}
	return stored, nil
}

// Delete removes the user: one DELETE by primary key. Deleting a missing
// user is not an error. The user's sessions and tokens are left alone;
// the manager's helpers remove them.
func (us *Users[T, PT]) Delete(ctx context.Context, id string) error {
	return us.deleteKey(ctx, "delete user", "id", id)
}

// List returns one page of users ordered by CreatedAt, then ID, and the
// total number of users: a COUNT and a SELECT using the (created_at, id)
// index. A zero Limit means 50; Limit is capped at 1000 and a negative
// Offset counts as 0.
func (us *Users[T, PT]) List(ctx context.Context, opts loginkit.ListOptions) ([]PT, int, error) {
	const op = "list users"
	offset, limit, err := errs.ReadyPage(ctx, op, us.err, opts)
	if err != nil {
		return nil, 0, err
	}

	n, err := us.db.NewSelect().TableExpr("?", bun.Ident(us.table)).Count(ctx)
	if err != nil {
		return nil, 0, wrap(ctx, op, err)
	}
	total := int(n)
	users := make([]PT, 0, min(limit, max(total-offset, 0)))
	if offset >= total {
		return users, total, nil
	}
	err = us.db.NewSelect().Model(&users).ModelTableExpr(us.tableExpr()).
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
