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
