package redisstore

import "context"

// TypicalSessionSize exports typicalSessionSize to the package's external
// tests.
const TypicalSessionSize = typicalSessionSize

// NearForget drops the near-cache's copy of the session stored under key,
// as the store does after its own writes, and returns the number of cache
// entries dropped.
func NearForget(st *Sessions, key string) int {
	return st.near.invalidate(sessionKey(st.prefix, key))
}

// NearRawGet reads the session stored under key through go-redis's
// client-side cache alone, without the store's bound check, to measure
// what the cache would serve on its own.
func NearRawGet(st *Sessions, key string) error {
	rk := sessionKey(st.prefix, key)
	return st.near.shard(rk).rdb.Get(context.Background(), rk).Err()
}
