package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Every script touches only the keys passed in KEYS, and every call passes
// keys that share one hash tag, so each script runs on one Cluster slot.

// indexAddScript adds a member to a per-user index (a sorted set scored by
// expiry in Unix milliseconds), first dropping members that have expired,
// and sets the index to expire with its longest-lived member. Members are
// removed elsewhere with plain ZREM, which leaves the expiry alone: an index
// may outlive its members, never the other way round.
//
// KEYS[1] index; ARGV[1] member; ARGV[2] member's expiry; ARGV[3] now.
var indexAddScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return 1
`)

// Results of the user scripts.
const (
	resOK            = "ok"
	resDupID         = "dup-id"
	resDupEmail      = "dup-email"
	resDupUsername   = "dup-username"
	resUserNotFound  = "not-found"
	resConflict      = "conflict"
	userRecordValue  = "v" // the JSON encoding of the user
	userRecordEmail  = "e" // the normalised email, "" for none
	userRecordName   = "u" // the normalised username, "" for none
	userRecordOrder  = "o" // the member in the order set
	loginEmailPrefix = "e:"
	loginNamePrefix  = "u:"
)

// createUserScript stores a new user if its ID, email key and username key
// are all free.
//
// KEYS[1] user record; KEYS[2] logins hash; KEYS[3] order set.
// ARGV[1] JSON; ARGV[2] email key; ARGV[3] username key; ARGV[4] order
// member; ARGV[5] ID.
var createUserScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'dup-id' end
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[2], 'e:' .. ARGV[2]) == 1 then return 'dup-email' end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[2], 'u:' .. ARGV[3]) == 1 then return 'dup-username' end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2], 'u', ARGV[3], 'o', ARGV[4])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'e:' .. ARGV[2], ARGV[5]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'u:' .. ARGV[3], ARGV[5]) end
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return 'ok'
`)

// updateUserScript replaces a stored user if its new email key and
// username key are free or already its own, and moves its entries in the
// logins hash and the order set. Given a sixth argument, it is a
// compare-and-swap: it replaces the user only if the stored JSON is still
// exactly that value, and otherwise returns 'conflict' and writes nothing.
//
// KEYS and ARGV[1] to ARGV[5] as for createUserScript; ARGV[6], optional,
// the JSON the caller read.
var updateUserScript = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 'e', 'u', 'o', 'v')
if not old[3] then return 'not-found' end
if #ARGV >= 6 and old[4] ~= ARGV[6] then return 'conflict' end
local id = ARGV[5]
if ARGV[2] ~= '' and ARGV[2] ~= old[1] then
  local owner = redis.call('HGET', KEYS[2], 'e:' .. ARGV[2])
  if owner and owner ~= id then return 'dup-email' end
end
if ARGV[3] ~= '' and ARGV[3] ~= old[2] then
  local owner = redis.call('HGET', KEYS[2], 'u:' .. ARGV[3])
  if owner and owner ~= id then return 'dup-username' end
end
if old[1] ~= ARGV[2] and old[1] ~= '' and redis.call('HGET', KEYS[2], 'e:' .. old[1]) == id then
  redis.call('HDEL', KEYS[2], 'e:' .. old[1])
end
if old[2] ~= ARGV[3] and old[2] ~= '' and redis.call('HGET', KEYS[2], 'u:' .. old[2]) == id then
  redis.call('HDEL', KEYS[2], 'u:' .. old[2])
end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'e:' .. ARGV[2], id) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'u:' .. ARGV[3], id) end
if old[3] ~= ARGV[4] then
  redis.call('ZREM', KEYS[3], old[3])
  redis.call('ZADD', KEYS[3], 0, ARGV[4])
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2], 'u', ARGV[3], 'o', ARGV[4])
return 'ok'
`)

// deleteUserScript removes a user and its entries in the logins hash and
// the order set.
//
// KEYS as for createUserScript; ARGV[1] ID.
var deleteUserScript = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 'e', 'u', 'o')
if not old[3] then return 'not-found' end
if old[1] ~= '' and redis.call('HGET', KEYS[2], 'e:' .. old[1]) == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'e:' .. old[1])
end
if old[2] ~= '' and redis.call('HGET', KEYS[2], 'u:' .. old[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'u:' .. old[2])
end
redis.call('ZREM', KEYS[3], old[3])
redis.call('DEL', KEYS[1])
return 'ok'
`)

// isNoScript reports the error EVALSHA gives when the server does not have
// the script cached (after a restart, a failover or SCRIPT FLUSH).
func isNoScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }

func unixMilli(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// indexAdd is one queued run of indexAddScript on a pipeline. It is sent
// by SHA1 to keep requests small; finish retries it with the script's
// source when the server did not have the script cached.
type indexAdd struct {
	cmd  *redis.Cmd
	keys []string
	args []any
}

func queueIndexAdd(ctx context.Context, pipe redis.Pipeliner, index, member string, expires, now time.Time) indexAdd {
	a := indexAdd{keys: []string{index}, args: []any{member, unixMilli(expires), unixMilli(now)}}
	a.cmd = indexAddScript.EvalSha(ctx, pipe, a.keys, a.args...)
	return a
}

func (a indexAdd) finish(ctx context.Context, rdb redis.UniversalClient) error {
	err := a.cmd.Err()
	if isNoScript(err) {
		err = indexAddScript.Eval(ctx, rdb, a.keys, a.args...).Err()
	}
	return err
}
