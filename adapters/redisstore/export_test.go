package redisstore

// TypicalSessionSize exports typicalSessionSize to the package's external
// tests.
const TypicalSessionSize = typicalSessionSize

// NearForget drops the near-cache's copy of the session stored under key,
// as the store does after its own writes, and returns the number of cache
// entries dropped.
func NearForget(st *Sessions, key string) int {
	return st.near.invalidate(sessionKey(st.prefix, key))
}
