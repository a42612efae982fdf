package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// Users is a loginkit.UserStore in Redis for the application's user type
// T, a struct embedding loginkit.Account (PT is *T and is inferred):
//
//	users := redisstore.NewUsers[MyUser](rdb) // a UserStore[*MyUser]
//
// Each user is a hash holding the JSON encoding (encoding/json) of the
// whole *T, the application's own fields included, beside the normalised
// email and username. Every key of the store shares the hash tag {users},
// so the Lua scripts that create, update and delete users, and enforce
// unique emails and usernames atomically, run on one Cluster slot (see the
// package documentation for the trade-off). A Users is safe for concurrent
// use.
type Users[T any, PT interface {
	*T
	loginkit.AccountUser
}] struct {
	base
	logins string // hash: "e:"+email key and "u:"+username key → ID
	order  string // sorted set, all scores 0: orderMember(CreatedAt, ID)
}

// NewUsers returns a user store for users of type *T that keeps its keys
// in rdb. It sends no command until first used.
func NewUsers[T any, PT interface {
	*T
	loginkit.AccountUser
}](rdb redis.UniversalClient, opts ...Option) *Users[T, PT] {
	c := newConfig(opts)
	return &Users[T, PT]{base: newBase(rdb, c), logins: loginsKey(c.Prefix), order: orderKey(c.Prefix)}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (us *Users[T, PT]) CheckConfig() error { return us.err }

// LoadUser returns the user with the given ID: one HGET. A missing user is
// loginkit.ErrNotFound.
func (us *Users[T, PT]) LoadUser(ctx context.Context, id string) (PT, error) {
	const op = "load user"
	if id == "" {
		return nil, errs.NotFound(op)
	}
	if err := errs.Ready(ctx, op, us.err); err != nil {
		return nil, err
	}
	v, err := us.rdb.HGet(ctx, userKey(us.prefix, id), userRecordValue).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	return us.decode(op, v)
}

// FindByLogin returns the user whose normalised email, or failing that
// whose normalised username, equals loginkit.NormalizeLogin(login): two
// round trips (the logins hash, then the user). A login that matches
// nothing is loginkit.ErrNotFound.
func (us *Users[T, PT]) FindByLogin(ctx context.Context, login string) (PT, error) {
	const op = "find user"
	k, err := errs.ReadyLogin(ctx, op, us.err, login)
	if err != nil {
		return nil, err
	}
	// The user found may have changed its email or username between the
	// two reads; then look again.
	for range 3 {
		ids, err := us.rdb.HMGet(ctx, us.logins, loginEmailPrefix+k, loginNamePrefix+k).Result()
		if err != nil {
			return nil, wrap(op, err)
		}
		id, field := ids[0], userRecordEmail
		if id == nil {
			id, field = ids[1], userRecordName
		}
		sid, ok := id.(string)
		if !ok {
			return nil, errs.NotFound(op)
		}
		rec, err := us.rdb.HMGet(ctx, userKey(us.prefix, sid), userRecordValue, field).Result()
		if err != nil {
			return nil, wrap(op, err)
		}
		if v, ok := rec[0].(string); ok && rec[1] == k {
			return us.decode(op, v)
		}
	}
	return nil, errs.NotFound(op)
}

// Create stores a new user, atomically checking in one script that its ID,
// normalised email and normalised username are free. An empty ID is
// replaced by loginkit.NewID() and written back into u (and cleared again
// if Create fails); EmailKey and UsernameKey are set from Email and
// Username. A taken ID, email or username is loginkit.ErrDuplicate; a
// username that is not loginkit.ValidUsername or an email that is not
// loginkit.ValidEmail is loginkit.ErrInvalid.
func (us *Users[T, PT]) Create(ctx context.Context, u PT) error {
	const op = "create user"
	return storekit.CreateUser(ctx, errs, op, us.err, u, func(a *loginkit.Account) error {
		return us.write(ctx, op, createUserScript, u, a)
	})
}

// Update replaces every field of the stored user with u's, atomically
// checking that its normalised email and username are free or its own. A
// missing user (or an empty ID) is loginkit.ErrNotFound; a taken email or
// username is loginkit.ErrDuplicate; a username that is not
// loginkit.ValidUsername or an email that is not loginkit.ValidEmail is
// loginkit.ErrInvalid. EmailKey and UsernameKey are set from Email and
// Username. Update writes u whatever the stored user holds; to change a
// user read earlier without undoing a concurrent write, use UpdateUser.
func (us *Users[T, PT]) Update(ctx context.Context, u PT) error {
	const op = "update user"
	a, err := storekit.UserWrite(ctx, errs, op, us.err, u, false)
	if err != nil {
		return err
	}
	return us.write(ctx, op, updateUserScript, u, a)
}

// errConflict is what run returns when the user changed between the read
// and the compare-and-swap of UpdateUser.
var errConflict = errors.New("redisstore: user changed concurrently")

// Attempts and back-off of UpdateUser's compare-and-swap loop. Each lost
// compare-and-swap means another write to the user succeeded, so the loop
// cannot go on for ever without the store making progress; the cap bounds
// the time one caller can be kept waiting by a storm of writes to one
// user.
const (
	updateAttempts   = 50
	updateBackoffMax = 8 * time.Millisecond
)

// UpdateUser implements loginkit.UserUpdater by compare-and-swap: it reads
// the user's stored JSON (one HGET), decodes it into a fresh *T, calls
// change on it, and stores the result with the update script, which
// replaces the user only if its stored JSON is still byte for byte the
// one read, checking uniqueness in the same step (one more round trip).
// If another write came in between, it starts again from a new read, so
// change may run more than once and must depend only on its argument;
// from the second lost race on, it waits a short random time first, and
// after 50 attempts it gives up with an error. No write of another
// client is ever undone.
//
// When change returns an error, nothing is stored and that error is
// returned as is. A missing user (or an empty id) is loginkit.ErrNotFound,
// also when the user is deleted while UpdateUser runs. The changed user is
// checked as by Update: a taken email or username is loginkit.ErrDuplicate,
// and an invalid one is loginkit.ErrInvalid, as is a change that alters
// the ID. It returns a copy of the user as stored, shared with no one.
func (us *Users[T, PT]) UpdateUser(ctx context.Context, id string, change func(u PT) error) (PT, error) {
	const op = "update user"
	if id == "" {
		return nil, errs.NotFound(op)
	}
	key := userKey(us.prefix, id)
	for attempt := range updateAttempts {
		if attempt > 1 {
			if err := backoff(ctx, op, attempt); err != nil {
				return nil, err
			}
		}
		if err := errs.Ready(ctx, op, us.err); err != nil {
			return nil, err
		}
		old, err := us.rdb.HGet(ctx, key, userRecordValue).Result()
		if err != nil {
			return nil, wrap(op, err)
		}
		u, err := us.decode(op, old)
		if err != nil {
			return nil, err
		}
		a, err := storekit.ApplyChange(errs, op, id, u, change)
		if err != nil {
			return nil, err
		}
		data, err := encode(op, u, a)
		if err != nil {
			return nil, err
		}
		err = us.run(ctx, op, updateUserScript, a, data, old)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return us.decode(op, string(data))
	}
	return nil, fmt.Errorf("redisstore: %s %q: still changing after %d attempts", op, id, updateAttempts)
}

// backoff waits a random time, growing with the attempt number up to
// updateBackoffMax, or until ctx is done.
func backoff(ctx context.Context, op string, attempt int) error {
	d := min(time.Duration(1<<min(attempt, 16))*50*time.Microsecond, updateBackoffMax)
	t := time.NewTimer(rand.N(d) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errs.Ready(ctx, op, nil)
	}
}

// Delete removes the user and frees its email and username. Deleting a
// missing user is not an error. The user's sessions and tokens are not
// touched: they stop working when the user cannot be loaded.
func (us *Users[T, PT]) Delete(ctx context.Context, id string) error {
	const op = "delete user"
	if err := errs.Ready(ctx, op, us.err); err != nil || id == "" {
		return err // an empty id names nothing to delete
	}
	err := deleteUserScript.Run(ctx, us.rdb, us.keys(id), id).Err()
	return wrap(op, err)
}

// List returns one page of users, ordered by CreatedAt then ID, and the
// total number of users: two round trips (the order set, then the users).
// A Limit of 0 or less means 50, and Limit is capped at 1000; a negative
// Offset counts as 0. A user deleted between the two reads is left out of
// the page.
func (us *Users[T, PT]) List(ctx context.Context, opts loginkit.ListOptions) ([]PT, int, error) {
	const op = "list users"
	offset, limit, err := errs.ReadyPage(ctx, op, us.err, opts)
	if err != nil {
		return nil, 0, err
	}
	pipe := us.rdb.Pipeline()
	card := pipe.ZCard(ctx, us.order)
	rng := pipe.ZRange(ctx, us.order, int64(offset), int64(offset+limit-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, wrap(op, err)
	}
	total := int(card.Val())
	members := rng.Val()
	if len(members) == 0 {
		return []PT{}, total, nil
	}
	pipe = us.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(members))
	for i, m := range members {
		gets[i] = pipe.HGet(ctx, userKey(us.prefix, orderID(m)), userRecordValue)
	}
	_, _ = pipe.Exec(ctx) // errors are checked per command: redis.Nil is expected
	users := make([]PT, 0, len(members))
	for _, g := range gets {
		v, err := g.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, 0, wrap(op, err)
		}
		u, err := us.decode(op, v)
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	return users, total, nil
}

// keys returns the KEYS of the user scripts for the user id: all three
// share the hash tag {users}.
func (us *Users[T, PT]) keys(id string) []string {
	return []string{userKey(us.prefix, id), us.logins, us.order}
}

// write runs createUserScript or updateUserScript for u.
func (us *Users[T, PT]) write(ctx context.Context, op string, script *redis.Script, u PT, a *loginkit.Account) error {
	data, err := encode(op, u, a)
	if err != nil {
		return err
	}
	return us.run(ctx, op, script, a, data)
}

// encode sets a's normalised keys and returns the JSON encoding of u, whose
// account a is.
func encode[PT any](op string, u PT, a *loginkit.Account) ([]byte, error) {
	a.NormalizeKeys()
	data, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: encode user: %w", op, err)
	}
	return data, nil
}

// run runs createUserScript or updateUserScript to store data, the JSON
// encoding of the user whose account is a, with expected as the
// compare-and-swap argument of updateUserScript if given. A lost
// compare-and-swap is errConflict.
func (us *Users[T, PT]) run(ctx context.Context, op string, script *redis.Script, a *loginkit.Account, data []byte, expected ...any) error {
	args := append([]any{data, a.EmailKey, a.UsernameKey, orderMember(a.CreatedAt, a.ID), a.ID}, expected...)
	res, err := script.Run(ctx, us.rdb, us.keys(a.ID), args...).Text()
	if err != nil {
		return wrap(op, err)
	}
	switch res {
	case resOK:
		return nil
	case resDupID:
		return errs.Duplicate(op, "user ID")
	case resDupEmail:
		return errs.Duplicate(op, "email")
	case resDupUsername:
		return errs.Duplicate(op, "username")
	case resUserNotFound:
		return errs.NotFound(op)
	case resConflict:
		return errConflict
	}
	return fmt.Errorf("redisstore: %s: unexpected script result %q", op, res)
}

func (us *Users[T, PT]) decode(op, v string) (PT, error) {
	u := PT(new(T))
	if err := json.Unmarshal([]byte(v), u); err != nil {
		return nil, fmt.Errorf("redisstore: %s: decode user: %w", op, err)
	}
	return u, nil
}

// orderMemberTimeLen is the length of the time part of an order member.
const orderMemberTimeLen = 24

// orderMember returns the member of the order set for a user: CreatedAt as
// 16 hex digits of its Unix seconds (sign bit flipped, so that the
// encoding sorts like the number) and 8 of its nanoseconds, then the ID.
// All members have score 0, so Redis orders them byte-wise, which is by
// CreatedAt to the nanosecond, then by ID.
func orderMember(created time.Time, id string) string {
	b := make([]byte, 0, orderMemberTimeLen+len(id))
	b = appendHex(b, uint64(created.Unix())^(1<<63), 16)
	b = appendHex(b, uint64(created.Nanosecond()), 8)
	return string(append(b, id...))
}

func appendHex(b []byte, v uint64, width int) []byte {
	s := strconv.FormatUint(v, 16)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// orderID returns the user ID in an order member.
func orderID(member string) string {
	if len(member) < orderMemberTimeLen {
		return ""
	}
	return member[orderMemberTimeLen:]
}
