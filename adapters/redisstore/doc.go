// Package redisstore keeps loginkit users, sessions and tokens in Redis
// through go-redis v9. It takes any redis.UniversalClient: a single node
// (*redis.Client), Sentinel (redis.NewFailoverClient) or Cluster
// (*redis.ClusterClient).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	sessions := redisstore.NewSessions(rdb)
//	tokens := redisstore.NewTokens(rdb)
//	users := redisstore.NewUsers[MyUser](rdb) // a UserStore[*MyUser]
//	passkeys := redisstore.NewPasskeys(rdb)   // a PasskeyStore
//
// It needs Redis 6.2 or later (GETDEL, SET with PXAT) and Lua scripting.
// Constructors send no command; errors surface on first use. redis.Nil
// becomes loginkit.ErrNotFound, and every other error is wrapped with %w.
//
// # Keys
//
// Every key begins with the prefix (WithPrefix, default "loginkit:"), so
// that several applications can share one Redis and an ACL key pattern
// such as ~loginkit:* covers them:
//
//	<prefix>s:<session key>         string: an encoded session
//	<prefix>t:<selector>            string: an encoded token
//	<prefix>{u:<user ID>}:sessions  sorted set: session key, scored by its ExpiresAt (Unix ms)
//	<prefix>{u:<user ID>}:tokens    sorted set: selector, scored by its ExpiresAt (Unix ms)
//	<prefix>{users}:id:<user ID>    hash: v = JSON of the user, e = email key, u = username key, o = order member
//	<prefix>{users}:logins          hash: "e:"+email key and "u:"+username key → user ID
//	<prefix>{users}:order           sorted set, scores 0: CreatedAt (sortable hex) + user ID
//
// # Expiry
//
// Sessions and tokens carry a native Redis expiry at their ExpiresAt
// (SET ... PXAT), so nothing needs sweeping: DeleteExpired does nothing and
// returns 0. Saving a session, or creating a token, whose ExpiresAt has
// already passed stores nothing. The per-user indexes are sorted sets
// scored by expiry: every write to an index first removes expired members
// (ZREMRANGEBYSCORE), and the index itself expires with its longest-lived
// member, all in one script on the index key. Readers also drop members
// whose record has gone. Times are kept to the millisecond, in UTC.
//
// # Hot path
//
// Reading a session is one command: a GET of the encoded value. Saving an
// existing session (the manager's throttled "last seen" refresh) is one
// more round trip: a pipeline of SET and the index script.
//
// So an authenticated request through the manager's middleware costs one
// round trip to Redis when the users are kept elsewhere (in process, or in
// a SQL store with a cache), and two when they are in this package's Users
// store too: the session GET, then an HGET of the user it names. The two
// reads cannot be folded into one: the user's ID is inside the session, so
// the second depends on the first, and in a Cluster the session and the
// user live in different slots, where no script may read both. The
// package's tests count the commands per request with a go-redis hook;
// BenchmarkSessionGet measures a session read, and bench/ the full
// middleware path (timings in the README's performance section).
//
// WithNearCache removes the session GET from that count; see Near-cache.
//
// # Near-cache
//
// WithNearCache keeps session reads in process, on go-redis's
// server-assisted client-side caching (RESP3, CLIENT TRACKING): Redis
// remembers which connection read which key and pushes an "invalidate"
// message on that connection when the key changes; go-redis applies it
// when it next reads the connection, ahead of the next reply or in a
// background drain. A steady-state authenticated request on a warm cache
// then sends nothing to Redis (the package's tests count the commands on
// the wire: none, against one without the cache). BenchmarkNearCacheGet
// compares a cached Get with the round trip; the README's performance
// section has the measurements.
//
// go-redis's cache alone bounds nothing: when the process is CPU-saturated
// its drainer starves and a deleted session stays readable for as long as
// that lasts (hundreds of milliseconds to seconds), a stalled connection
// serves stale entries for the length of the stall, and an instance's own
// DEL is not seen by its own next GET until the drain runs. The store adds
// a revocation bound (NearCacheConfig.Bound, default one second), enforced
// on every read:
//
//   - Each cache shard has exactly one connection, so that one proof covers
//     all its entries. A heartbeat, CLIENT INFO, is sent on it four times
//     per bound. When its reply has been read, every invalidation Redis sent
//     before handling it has been applied, since pushes and replies travel
//     in order on the connection and go-redis applies the pushes ahead of
//     the reply; the reply also shows that tracking is on.
//   - A read is served from the cache only if the shard's last confirmed
//     heartbeat was sent no longer than the bound ago, checked before and
//     after the lookup; otherwise the read goes to Redis, uncached, through
//     the client given to NewSessions. A session deleted or changed
//     anywhere more than the bound ago is therefore never served, whatever
//     the load: a starved process sends its heartbeats late and stops
//     trusting its cache, it does not extend the trust.
//   - The store's own writes (Save, Touch, Delete, DeleteByUser) drop the
//     local copy before they return, so a logout, a password change or a
//     throttled touch takes effect on this instance's very next read.
//   - A failed command on the connection, a new connection (after a Redis
//     restart, say) or tracking reported off flushes the shard, which is
//     trusted again only once a heartbeat sent after the flush confirms the
//     new connection.
//
// Enable it when several instances share Redis and the session read is
// the round trip that dominates an authenticated request. What it costs:
// the entries (at most NearCacheConfig.MaxEntries, default 20,000, at
// about 1.1 KB of heap each for a typical session: 23 MB when full),
// NearCacheConfig.Conns more connections to Redis (default
// 8), each with a drain every millisecond and a heartbeat four times per
// bound, Redis's tracking table (a key and its readers per cached
// session), and misses that queue for their shard's one connection. It
// covers sessions only: with users in this package's Users store, each
// request still reads its user (one HGET), so keep users in process or
// cache them to reach zero round trips.
//
// It needs a single-node *redis.Client on database 0 speaking RESP3 (the
// default) without a credentials provider. With a Cluster, Sentinel
// (redis.NewFailoverClient), another database or RESP2, NewSessions logs
// why (NearCacheConfig.Logger) and the store works uncached, exactly as
// without the option; NearCacheStats reports it too. A store with a
// near-cache holds goroutines and connections: Close it.
//
// # Cluster
//
// The hot path must find a session from its key alone, while the per-user
// index is found from the user ID, so a session and its user's index
// cannot be made to share a slot, and no atomic multi-key operation can
// span them. The store therefore never sends a multi-key command or script
// across slots:
//
//   - Every script and every multi-key command names keys that share one
//     hash tag: a user's index ({u:<user ID>}) or the users' keys
//     ({users}). The package's tests check this for every command sent.
//   - A session or token record and its index entry are written by
//     separate commands, in a pipeline (not MULTI) where one round trip
//     matters; in a Cluster, go-redis sends each command of a pipeline to
//     the node serving its key.
//   - Deleting several sessions or tokens sends one DEL per key.
//
// So writing a record and its index entry is not atomic. That is safe
// because revocation does not rest on it: the manager checks each
// session and remember token against the user's session version, which a
// password change or "log out everywhere" increments. DeleteByUser is the
// tidy-up that frees the storage, and a session saved while it runs may
// survive it without being usable. Token consumption is atomic (one
// GETDEL), so a token is consumed once however many requests race for it.
//
// Users need atomic uniqueness of emails and usernames, which Lua scripts
// provide by reading and writing the user's record, the logins hash and
// the order set together. The same update script is the compare-and-swap
// behind Users.UpdateUser (loginkit.UserUpdater), which the manager uses
// for its own writes: an HGET of the user's JSON, the caller's change,
// then the script, which stores the result only if the stored JSON is
// still the one read, and otherwise makes UpdateUser read and change the
// user again. So a login in flight never undoes a concurrent password
// change, disable or "log out everywhere", and parallel failed logins are
// all counted, at two round trips per update when uncontended. For that all users' keys share the hash tag
// {users} and so live in one Cluster slot, on one primary: user lookups
// are not spread over the cluster, and all users must fit in one node's
// memory (a million users of 1 KB each is about 1 GB). Sessions and
// tokens, the bulk of the data and of the traffic, spread over all slots.
// An application with more users than one node holds should keep its
// users elsewhere (package sqlstore, say) and its sessions here.
//
// The package's tests run the conformance suites and the manager against
// a real three-primary Cluster, whose servers refuse any command or script
// whose keys span slots.
//
// With Sentinel or replicas, read from the primary (go-redis does unless
// ReadOnly, RouteByLatency or RouteRandomly is set): a replica may not yet
// have a session that was just created.
//
// # Encoding
//
// Users are stored as the JSON encoding (encoding/json) of the
// application's whole struct, so every exported field it adds to
// loginkit.Account is kept, with json tags honoured. Sessions and tokens
// use a compact, versioned binary encoding (varint lengths, millisecond
// times), decoded without reflection: a typical session (43-character key
// not stored, 32-character user ID, 22-character fingerprint, IPv4
// address, a 101-character Chrome User-Agent, no values) is 205 bytes,
// against 520 as JSON, and takes 344 bytes of server memory with its key
// and expiry (MEMORY USAGE, Redis 7.0). The encoding is documented in
// codec.go; its first byte is a format version, so that a later format
// can be told apart. A stored value that cannot be decoded is
// reported as loginkit.ErrNotFound, so an unreadable session fails closed:
// the user logs in again.
package redisstore
