package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/loginkit/loginkit/ratelimit"
	"github.com/redis/go-redis/v9"
)

// Limiter is a ratelimit.Limiter in Redis, so that the rate limits of
// package recovery hold across every instance of an application sharing
// the server. Each key is a sorted set of event times (a sliding-window
// log), checked and updated by one Lua script, atomic in Redis, and
// expiring on its own once its window has passed. Keys are stored under
// the prefix as a hash of the limiter key, so any key is safe, Cluster
// included. Create it with NewLimiter.
type Limiter struct {
	base
}

// NewLimiter returns a Limiter on rdb. Options are those of the stores;
// WithPrefix sets the key prefix.
func NewLimiter(rdb redis.UniversalClient, opts ...Option) *Limiter {
	return &Limiter{newBase(rdb, newConfig(opts))}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig.
func (l *Limiter) CheckConfig() error { return l.err }

// limitScript drops the events at or before now-per, refuses when count
// remain, and otherwise records this one.
var limitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
	return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], per)
return 1
`)

func limiterKey(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + "rl:" + hex.EncodeToString(sum[:16])
}

// Allow implements ratelimit.Limiter, counting in milliseconds of the now
// it is given.
func (l *Limiter) Allow(ctx context.Context, key string, rate ratelimit.Rate, now time.Time) (bool, error) {
	const op = "rate limit"
	if err := errs.Ready(ctx, op, l.err); err != nil {
		return false, err
	}
	if rate.Count < 0 {
		return true, nil
	}
	if rate.Count == 0 || rate.Per < time.Millisecond {
		return false, nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	ms := now.UnixMilli()
	member := strconv.FormatInt(ms, 10) + ":" + hex.EncodeToString(b[:])
	n, err := limitScript.Run(ctx, l.rdb, []string{limiterKey(l.prefix, key)},
		ms, rate.Per.Milliseconds(), rate.Count, member).Int()
	if err != nil {
		return false, wrap(op, err)
	}
	return n == 1, nil
}
