package redisstore

import (
	"context"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// Sessions is a loginkit.SessionStore in Redis. Each session is one string
// key that Redis expires at the session's ExpiresAt; a sorted set per user
// indexes the user's sessions. A Sessions is safe for concurrent use.
type Sessions struct {
	base
	near *nearCache // nil without WithNearCache, or when rdb cannot carry it
	why  string     // why a requested near-cache is off
}

var _ loginkit.SessionStore = (*Sessions)(nil)

// NewSessions returns a session store that keeps its keys in rdb (a
// *redis.Client, *redis.ClusterClient, Sentinel failover client or any
// other redis.UniversalClient). It sends no command until first used,
// except with WithNearCache, whose tracked connections start at once.
func NewSessions(rdb redis.UniversalClient, opts ...Option) *Sessions {
	c := newConfig(opts)
	st := &Sessions{base: newBase(rdb, c)}
	if c.near != nil && c.Err == nil {
		st.near, st.why = newNearCache(rdb, *c.near)
	}
	return st
}

// Close stops the near-cache's heartbeats and closes its connections
// (see WithNearCache). It does not close the client given to NewSessions,
// and it does nothing for a store without a near-cache. The store keeps
// working after Close, uncached.
func (st *Sessions) Close() error {
	if st.near == nil {
		return nil
	}
	return st.near.close()
}

// NearCacheStats reports the near-cache's activity. Without WithNearCache,
// or when the client cannot carry the cache, Enabled is false and Reason
// says why.
func (st *Sessions) NearCacheStats() NearCacheStats {
	if st.near == nil {
		why := st.why
		if why == "" {
			why = "WithNearCache not given"
		}
		return NearCacheStats{Reason: why}
	}
	return st.near.stats()
}

// forget drops the near-cache's copies of the given session records after
// a write of this store's own (see nearCache.invalidate).
func (st *Sessions) forget(rks ...string) {
	if st.near != nil {
		st.near.invalidate(rks...)
	}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (st *Sessions) CheckConfig() error { return st.err }

// Save creates or replaces the session stored under s.Key, with a Redis
// expiry at s.ExpiresAt, and records it in its user's index: one round
// trip, a pipeline of SET and a script on the index. A session whose
// ExpiresAt is not after now is deleted instead. A nil session or an empty
// Key is loginkit.ErrInvalid.
//
// A session key is expected to keep its UserID for its lifetime. Should a
// Save move it to another user, the first user's index keeps a stale
// member, which ListByUser and DeleteByUser ignore and drop.
func (st *Sessions) Save(ctx context.Context, s *loginkit.Session) error {
	const op = "save session"
	if err := errs.CheckSession(ctx, op, st.err, s); err != nil {
		return err
	}
	now := time.Now()
	rk, ik := sessionKey(st.prefix, s.Key), sessionIndexKey(st.prefix, s.UserID)
	defer st.forget(rk)
	pipe := st.rdb.Pipeline()
	if !s.ExpiresAt.After(now) {
		del := pipe.Del(ctx, rk)
		pipe.ZRem(ctx, ik, s.Key)
		_, _ = pipe.Exec(ctx)
		return wrap(op, del.Err())
	}
	set := pipe.Do(ctx, "set", rk, appendSession(make([]byte, 0, 256), s), "pxat", s.ExpiresAt.UnixMilli())
	idx := queueIndexAdd(ctx, pipe, ik, s.Key, s.ExpiresAt, now)
	_, _ = pipe.Exec(ctx)
	if err := set.Err(); err != nil {
		return wrap(op, err)
	}
	return wrap(op, idx.finish(ctx, st.rdb))
}

// Touch implements loginkit.SessionToucher: it replaces the session only
// while its key still exists (SET ... XX), in the same single pipeline as
// Save, so a request in flight cannot write back a session that a
// concurrent Logout deleted. A missing or expired session is
// loginkit.ErrNotFound and nothing is stored. (Should the key vanish
// between the two commands, the index may keep a stale member, which
// ListByUser and DeleteByUser drop.)
func (st *Sessions) Touch(ctx context.Context, s *loginkit.Session) error {
	const op = "touch session"
	if err := errs.CheckSession(ctx, op, st.err, s); err != nil {
		return err
	}
	now := time.Now()
	if !s.ExpiresAt.After(now) {
		return errs.NotFound(op)
	}
	rk, ik := sessionKey(st.prefix, s.Key), sessionIndexKey(st.prefix, s.UserID)
	defer st.forget(rk)
	pipe := st.rdb.Pipeline()
	set := pipe.Do(ctx, "set", rk, appendSession(make([]byte, 0, 256), s), "pxat", s.ExpiresAt.UnixMilli(), "xx")
	idx := queueIndexAdd(ctx, pipe, ik, s.Key, s.ExpiresAt, now)
	_, _ = pipe.Exec(ctx)
	if err := set.Err(); err != nil {
		return wrap(op, err) // redis.Nil, the key is gone: ErrNotFound
	}
	return wrap(op, idx.finish(ctx, st.rdb))
}

// Get returns the session stored under key: one GET. A missing or expired
// session is loginkit.ErrNotFound, and so is a stored value that cannot be
// decoded.
func (st *Sessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	const op = "get session"
	if err := errs.ReadyKey(ctx, op, st.err, key); err != nil {
		return nil, err
	}
	var v string
	var err error
	if st.near != nil {
		v, err = st.near.get(ctx, sessionKey(st.prefix, key), st.rdb)
	} else {
		v, err = st.rdb.Get(ctx, sessionKey(st.prefix, key)).Result()
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return sessionKind.live(op, key, v, time.Now())
}

// Delete removes the session stored under key and its entry in its user's
// index. Deleting a missing session is not an error.
func (st *Sessions) Delete(ctx context.Context, key string) error {
	defer st.forget(sessionKey(st.prefix, key))
	return sessionKind.remove(ctx, st.base, "delete session", key)
}

// ListByUser returns the user's unexpired sessions, newest CreatedAt first
// (ties by key): two round trips, reading the user's index and then every
// session it names. Expired and stale index members are dropped on the
// way.
func (st *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	list, err := sessionKind.list(ctx, st.base, "list sessions", userID, all)
	storekit.SortSessions(list)
	return list, err
}

// DeleteByUser removes the user's sessions except exceptKey (none when it
// is empty) and reports how many it removed: three round trips (read the
// index, read the sessions to check they are the user's, delete). A
// session saved while DeleteByUser runs may survive it; the manager's
// per-user session version, not this call, is what makes a revocation
// final.
func (st *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	n, gone, err := sessionKind.removeByUser(ctx, st.base, "delete user's sessions", userID,
		func(s *loginkit.Session) bool { return s.Key != exceptKey })
	if st.near != nil {
		for _, k := range gone {
			st.forget(sessionKey(st.prefix, k))
		}
	}
	return n, err
}

// DeleteExpired does nothing and returns 0: Redis expires sessions itself,
// and per-user indexes are trimmed whenever they are written or read.
func (st *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	return 0, errs.Ready(ctx, "delete expired sessions", st.err)
}
