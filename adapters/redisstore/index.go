package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/redis/go-redis/v9"
)

// indexed is a member of a per-user index with the record it names.
type indexed struct {
	member string // session key or token selector
	value  string // the stored record
	found  bool   // whether the record exists
}

// readIndex drops the expired members of a per-user index, then reads the
// remaining members and their records: two round trips, each a pipeline.
// The index and the records live in different slots; in a Cluster, go-redis
// sends each command of a pipeline to the node that serves its key.
func readIndex(ctx context.Context, rdb redis.UniversalClient, index string, record func(member string) string, now time.Time) ([]indexed, error) {
	pipe := rdb.Pipeline()
	pipe.ZRemRangeByScore(ctx, index, "-inf", unixMilli(now))
	rng := pipe.ZRange(ctx, index, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	members := rng.Val()
	if len(members) == 0 {
		return nil, nil
	}
	pipe = rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(members))
	for i, m := range members {
		gets[i] = pipe.Get(ctx, record(m))
	}
	_, _ = pipe.Exec(ctx) // errors are checked per command: redis.Nil is expected
	out := make([]indexed, len(members))
	for i, m := range members {
		v, err := gets[i].Result()
		switch {
		case err == nil:
			out[i] = indexed{member: m, value: v, found: true}
		case errors.Is(err, redis.Nil):
			out[i] = indexed{member: m}
		default:
			return nil, err
		}
	}
	return out, nil
}

// dropFromIndex removes members whose records are gone or belong to
// someone else. It is housekeeping only: the callers' results are correct
// without it, so its error is ignored and the members are dropped by a
// later call or expire with the index.
func dropFromIndex(ctx context.Context, rdb redis.UniversalClient, index string, members []string) {
	if len(members) == 0 {
		return
	}
	_ = rdb.ZRem(ctx, index, toAny(members)...).Err()
}

// deleteRecords deletes records one command each (a multi-key DEL would
// span slots) and the given members from the index, in one pipeline, and
// reports how many records existed.
func deleteRecords(ctx context.Context, rdb redis.UniversalClient, index string, record func(string) string, del, drop []string) (int, error) {
	if len(del) == 0 && len(drop) == 0 {
		return 0, nil
	}
	pipe := rdb.Pipeline()
	dels := make([]*redis.IntCmd, len(del))
	for i, m := range del {
		dels[i] = pipe.Del(ctx, record(m))
	}
	pipe.ZRem(ctx, index, toAny(slices.Concat(del, drop))...)
	_, _ = pipe.Exec(ctx)
	n := 0
	for _, c := range dels {
		d, err := c.Result()
		if err != nil {
			return n, err
		}
		n += int(d)
	}
	return n, nil
}

func toAny(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// corrupt is the error for a record that cannot be decoded: it is reported
// as not found, so that an unreadable session or token fails closed (the
// user logs in again) instead of failing every request that presents it.
func corrupt(op string) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, errCorrupt, loginkit.ErrNotFound)
}

// kind is what the code Sessions and Tokens share needs to know of their
// records: from the store's prefix, the key of a record and the key of
// its user's index, and of the record type R, its codec and fields. A
// record's member in the index is its session key or token selector.
type kind[R any] struct {
	key     func(prefix, member string) string
	index   func(prefix, userID string) string
	decode  func(member, v string) (R, error)
	member  func(R) string
	owner   func(R) string
	expires func(R) time.Time
}

var sessionKind = kind[*loginkit.Session]{
	key: sessionKey, index: sessionIndexKey, decode: decodeSession,
	member:  func(s *loginkit.Session) string { return s.Key },
	owner:   func(s *loginkit.Session) string { return s.UserID },
	expires: func(s *loginkit.Session) time.Time { return s.ExpiresAt },
}

var tokenKind = kind[*loginkit.Token]{
	key: tokenKey, index: tokenIndexKey, decode: decodeToken,
	member:  func(t *loginkit.Token) string { return t.Selector },
	owner:   func(t *loginkit.Token) string { return t.UserID },
	expires: func(t *loginkit.Token) time.Time { return t.ExpiresAt },
}

// live decodes v, the stored value of member: a value that does not
// decode is corrupt, and an expired record is loginkit.ErrNotFound.
func (k kind[R]) live(op, member, v string, now time.Time) (R, error) {
	var none R
	r, err := k.decode(member, v)
	if err != nil {
		return none, corrupt(op)
	}
	if !k.expires(r).After(now) {
		return none, errs.NotFound(op)
	}
	return r, nil
}

// byUser returns the user's unexpired records that keep accepts, in index
// order, and the index members that name no record of the user's.
func (k kind[R]) byUser(ctx context.Context, rdb redis.UniversalClient, prefix, userID string, now time.Time, keep func(R) bool) (list []R, stale []string, err error) {
	key := func(m string) string { return k.key(prefix, m) }
	recs, err := readIndex(ctx, rdb, k.index(prefix, userID), key, now)
	if err != nil {
		return nil, nil, err
	}
	list = make([]R, 0, len(recs))
	for _, rec := range recs {
		if !rec.found {
			stale = append(stale, rec.member)
			continue
		}
		r, err := k.decode(rec.member, rec.value)
		if err != nil || k.owner(r) != userID {
			stale = append(stale, rec.member)
			continue
		}
		if k.expires(r).After(now) && keep(r) {
			list = append(list, r)
		}
	}
	return list, stale, nil
}

// list is ListByUser, unsorted: the user's unexpired records that keep
// accepts. It drops the stale members from the index on the way.
func (k kind[R]) list(ctx context.Context, b base, op, userID string, keep func(R) bool) ([]R, error) {
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return nil, err
	}
	list, stale, err := k.byUser(ctx, b.rdb, b.prefix, userID, time.Now(), keep)
	if err != nil {
		return nil, wrap(op, err)
	}
	dropFromIndex(ctx, b.rdb, k.index(b.prefix, userID), stale)
	return list, nil
}

// removeByUser is DeleteByUser: it deletes the user's unexpired records
// that match, and the index members that name none of the user's records,
// and reports how many records it deleted. gone lists the members it
// removed either way.
func (k kind[R]) removeByUser(ctx context.Context, b base, op, userID string, match func(R) bool) (n int, gone []string, err error) {
	if err := errs.Ready(ctx, op, b.err); err != nil {
		return 0, nil, err
	}
	list, stale, err := k.byUser(ctx, b.rdb, b.prefix, userID, time.Now(), match)
	if err != nil {
		return 0, nil, wrap(op, err)
	}
	del := make([]string, len(list))
	for i, r := range list {
		del[i] = k.member(r)
	}
	key := func(m string) string { return k.key(b.prefix, m) }
	n, err = deleteRecords(ctx, b.rdb, k.index(b.prefix, userID), key, del, stale)
	return n, slices.Concat(del, stale), wrap(op, err)
}

// remove is Delete: it deletes member's record with GETDEL, then its
// entry in its user's index. A missing record is not an error, nor is one
// that does not decode, whose index entry, if any, is dropped later.
func (k kind[R]) remove(ctx context.Context, b base, op, member string) error {
	return errs.Delete(ctx, op, b.err, member, func() error {
		v, err := b.rdb.GetDel(ctx, k.key(b.prefix, member)).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return wrap(op, err)
		}
		r, err := k.decode(member, v)
		if err != nil {
			return nil
		}
		return wrap(op, b.rdb.ZRem(ctx, k.index(b.prefix, k.owner(r)), member).Err())
	})
}

func all[R any](R) bool { return true }
