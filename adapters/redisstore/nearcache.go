package redisstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultNearCacheBound is the revocation bound a near-cache keeps unless
// NearCacheConfig.Bound says otherwise: one second. A session deleted or
// changed anywhere (a logout, a password change, an administrator's
// revocation on another instance) is refused by every instance within it.
//
// One second is shorter than a person takes to switch to another tab or
// device after logging out, yet long enough that a busy process rarely
// misses it: the heartbeat that keeps the cache trusted runs four times
// per bound, so a scheduling delay of up to three quarters of the bound
// costs nothing. A shorter bound costs more heartbeats and, on a loaded
// process, more reads sent to Redis while trust is lapsed; a longer one
// widens the window in which a stolen and revoked cookie still works.
const DefaultNearCacheBound = time.Second

// DefaultNearCacheEntries is the number of session reads a near-cache
// keeps unless NearCacheConfig.MaxEntries says otherwise. A typical
// session (TypicalSessionSize) takes about 1.1 KB of heap in the cache
// with go-redis's bookkeeping (BenchmarkNearCacheBytesPerEntry), so the
// default costs at most about 23 MB.
const DefaultNearCacheEntries = 20_000

// DefaultNearCacheConns is the number of tracked connections a near-cache
// opens unless NearCacheConfig.Conns says otherwise. Cache misses on one
// connection wait for each other, so the connections bound the misses a
// process can fetch at once (Conns divided by the round-trip time, per
// second). With four, the misses of bench's realistic load test queued on
// a loaded 2-core machine whose round trips took milliseconds.
const DefaultNearCacheConns = 8

// NearCacheConfig configures the in-process near-cache of session reads
// that WithNearCache turns on. The zero value is the defaults.
type NearCacheConfig struct {
	// Bound is the revocation bound (default DefaultNearCacheBound, at
	// least 10 ms): a session deleted or changed in Redis by anyone is
	// never served from the cache once Bound has passed since the write
	// completed, whatever the load on this process.
	Bound time.Duration
	// MaxEntries caps the number of cached session reads (default
	// DefaultNearCacheEntries); past it, go-redis evicts entries not read
	// recently (approximately least recently used first).
	MaxEntries int
	// Conns is the number of tracked connections (default
	// DefaultNearCacheConns). Each has its own cache shard, heartbeat and
	// go-redis drainer; cache misses on one shard share its connection.
	Conns int
	// Logger receives the line that says why the cache is off for a
	// deployment that cannot use it (a warning), lines about lost
	// tracking, and each flush at debug level (default slog.Default()).
	Logger *slog.Logger
}

// WithNearCache turns on an in-process near-cache of session reads for
// NewSessions, built on go-redis's server-assisted client-side caching
// (RESP3, CLIENT TRACKING): a warm, authenticated request then costs no
// round trip to Redis. The store adds the guarantees go-redis's cache does
// not give by itself; see the package documentation ("Near-cache"). Other
// stores ignore this option.
//
// The cache needs a single-node client (*redis.Client, not Sentinel) on
// database 0 speaking RESP3, which is go-redis's default. With any other
// client NewSessions logs why and works uncached, exactly as without the
// option. A store with a near-cache holds connections and goroutines of
// its own: call Sessions.Close when done with it.
func WithNearCache(cfg NearCacheConfig) Option {
	return func(c *config) { c.near = &cfg }
}

// NearCacheStats reports a near-cache's activity since it was made.
type NearCacheStats struct {
	// Enabled reports whether the cache is on; Reason says why not.
	Enabled bool
	Reason  string
	// Bound is the revocation bound in force.
	Bound time.Duration
	// Hits and Misses count the reads served from the cache and those
	// that went to Redis through it (go-redis's counters).
	Hits, Misses uint64
	// Bypassed counts the reads sent straight to Redis because the
	// cache was not trusted at that moment (no heartbeat confirmed
	// within the bound, or a reconnection not yet confirmed).
	Bypassed uint64
	// Flushes counts the times a shard was flushed after a connection
	// error, a reconnection or lost tracking.
	Flushes uint64
	// Entries and MemoryBytes are the cache's current residency, as
	// go-redis estimates it.
	Entries     int
	MemoryBytes int64
}

// nearCache is the guarded near-cache of one Sessions store.
type nearCache struct {
	bound  time.Duration
	shards []*nearShard
	seed   maphash.Seed
	base   time.Time // monotonic origin of the stamps
	ns     string    // go-redis's cache namespace for database 0 and the client's user
	log    *slog.Logger

	bypassed atomic.Uint64
	flushes  atomic.Uint64

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// nearShard is one tracked connection and its cache. confirmed is the
// stamp (nanoseconds since base) at which the last successful heartbeat
// was sent on the connection, or 0 while the shard is not trusted: every
// invalidation Redis sent on the connection before that moment had been
// applied to the cache by the time the reply was read, because the
// connection delivers pushes and replies in order and go-redis applies
// the pushes ahead of the reply.
type nearShard struct {
	nc        *nearCache
	rdb       *redis.Client
	cache     *redis.LocalCache
	confirmed atomic.Int64
	epoch     atomic.Uint64 // bumped by every fail
}

// disabledReason returns why rdb cannot carry a near-cache, or "".
func disabledReason(rdb redis.UniversalClient) string {
	c, ok := rdb.(*redis.Client)
	if !ok {
		return fmt.Sprintf("client-side caching needs a single-node *redis.Client; a %T (Cluster, Ring or other) is used uncached", rdb)
	}
	opt := c.Options()
	switch {
	case opt.Addr == "FailoverClient":
		return "client-side caching is not available through Sentinel (redis.NewFailoverClient); used uncached"
	case opt.DB != 0:
		return fmt.Sprintf("client-side caching works on database 0 only; database %d is used uncached", opt.DB)
	case opt.Protocol == 2:
		return "client-side caching needs RESP3 (Protocol 3); a RESP2 client is used uncached"
	case opt.CredentialsProvider != nil || opt.CredentialsProviderContext != nil || opt.StreamingCredentialsProvider != nil:
		return "go-redis disables client-side caching with a credentials provider; used uncached"
	}
	return ""
}

// newNearCache builds the near-cache on rdb's server, or returns nil and
// the reason when rdb cannot carry one.
func newNearCache(rdb redis.UniversalClient, cfg NearCacheConfig) (*nearCache, string) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if why := disabledReason(rdb); why != "" {
		log.Warn("redisstore: near-cache off: " + why)
		return nil, why
	}
	if cfg.Bound <= 0 {
		cfg.Bound = DefaultNearCacheBound
	}
	cfg.Bound = max(cfg.Bound, 10*time.Millisecond)
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultNearCacheEntries
	}
	if cfg.Conns <= 0 {
		cfg.Conns = DefaultNearCacheConns
	}
	base := rdb.(*redis.Client).Options()
	nc := &nearCache{
		bound: cfg.Bound,
		seed:  maphash.MakeSeed(),
		base:  time.Now(),
		ns:    "0\x00" + strconv.Itoa(len(base.Username)) + ":" + base.Username + "\x00",
		log:   log,
		stop:  make(chan struct{}),
	}
	for range cfg.Conns {
		sh := &nearShard{nc: nc}
		sh.cache = redis.NewLocalCache(redis.CacheConfig{
			MaxEntries: max(1, cfg.MaxEntries/cfg.Conns),
			// go-redis's drainer picks up invalidations on an idle
			// connection within a millisecond or two; the bound does not
			// rest on it (see nearShard.confirmed).
			DrainInterval: time.Millisecond,
		})
		o := *base
		opt := &o
		if base.MaintNotificationsConfig != nil {
			mc := *base.MaintNotificationsConfig
			opt.MaintNotificationsConfig = &mc
		}
		// The client's initialised options carry its push processor; each
		// shard needs its own, for its own invalidation handler.
		opt.PushNotificationProcessor = nil
		opt.Protocol = 3
		opt.PoolSize = 1
		opt.MaxActiveConns = 1
		opt.MinIdleConns = 0
		opt.MaxIdleConns = 1
		opt.PipelinePoolSize = -1
		opt.ClientSideCache = sh.cache
		opt.ClientSideCacheConfig = nil
		userOnConnect := opt.OnConnect
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			// A new connection carries none of the old one's pending
			// invalidations: flush, and wait for a heartbeat on it.
			sh.fail("new connection")
			if userOnConnect != nil {
				return userOnConnect(ctx, cn)
			}
			return nil
		}
		sh.rdb = redis.NewClient(opt)
		sh.rdb.AddHook(failHook{sh})
		nc.shards = append(nc.shards, sh)
	}
	for _, sh := range nc.shards {
		nc.done.Add(1)
		go sh.heartbeat()
	}
	return nc, ""
}

// now returns the monotonic stamp of this moment, never 0.
func (nc *nearCache) now() int64 { return int64(time.Since(nc.base)) + 1 }

func (nc *nearCache) shard(rk string) *nearShard {
	return nc.shards[maphash.String(nc.seed, rk)%uint64(len(nc.shards))]
}

// get reads the session record rk: from the cache when the shard is
// trusted now and still was when the read returned, else from fallback.
//
// The check brackets the read: the stamp is loaded before it, so every
// invalidation for a write completed before that stamp had been applied
// before the read began, and the bound is checked after it, so the value
// is handed over no later than bound after that stamp. A write completed
// more than bound ago is therefore never served stale, however long the
// read or the wait for a heartbeat took.
func (nc *nearCache) get(ctx context.Context, rk string, fallback redis.UniversalClient) (string, error) {
	sh := nc.shard(rk)
	if c := sh.confirmed.Load(); c != 0 && nc.now()-c <= int64(nc.bound) {
		v, err := sh.rdb.Get(ctx, rk).Result()
		if errors.Is(err, redis.Nil) {
			// go-redis caches "no such key" too. Keys that are gone for
			// good (logged out, expired, forged) would then fill the cache
			// until evicted: keep only sessions that exist.
			nc.invalidate(rk)
		}
		if (err == nil || errors.Is(err, redis.Nil)) && nc.now()-c <= int64(nc.bound) {
			return v, err
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
	}
	nc.bypassed.Add(1)
	return fallback.Get(ctx, rk).Result()
}

// invalidate drops this process's cached reads of the records rks, so that
// the store's own writes take effect on its very next read, before Redis's
// invalidation arrives on the tracked connection.
// It returns the number of entries dropped.
func (nc *nearCache) invalidate(rks ...string) int {
	n := 0
	for _, rk := range rks {
		n += nc.shard(rk).cache.DeleteByRedisKey(nc.ns + rk)
	}
	return n
}

// fail distrusts the shard and flushes its cache: after a connection
// error, a new connection or lost tracking. Trust returns with the next
// heartbeat sent after this call that completes without another fail.
func (sh *nearShard) fail(why string) {
	sh.epoch.Add(1)
	sh.confirmed.Store(0)
	sh.cache.Flush()
	sh.nc.flushes.Add(1)
	sh.nc.log.Debug("redisstore: near-cache shard flushed", "why", why)
}

// heartbeat confirms the shard's connection every quarter bound: CLIENT
// INFO on the shard's only connection, whose reply shows that tracking is
// on. Each heartbeat that completes with no fail in between moves
// confirmed to the moment it was sent.
func (sh *nearShard) heartbeat() {
	nc := sh.nc
	defer nc.done.Done()
	tick := time.NewTicker(nc.bound / 4)
	defer tick.Stop()
	warned := false
	for {
		// A heartbeat on a first or new connection is confirmed by the
		// next one, sent at once; the ticker paces any further retries.
		if sh.beat(&warned) {
			select {
			case <-nc.stop:
				return
			default:
			}
			sh.beat(&warned)
		}
		select {
		case <-nc.stop:
			return
		case <-tick.C:
		}
	}
}

// beat sends one heartbeat and reports whether it left the shard
// unconfirmed because of a fail during it (a retry is due at once).
func (sh *nearShard) beat(warned *bool) bool {
	nc := sh.nc
	e := sh.epoch.Load()
	sent := nc.now()
	// No deadline of the bound's length: a late reply is harmless (it
	// confirms only the moment it was sent), while a timeout would drop
	// the connection and the cache whenever this process is slow. The
	// client's read timeout catches a dead server.
	info, err := sh.rdb.Do(context.Background(), "client", "info").Text()
	if err != nil {
		sh.fail("heartbeat: " + err.Error())
		return false
	}
	if !trackingOn(info) {
		sh.fail("tracking off")
		if !*warned {
			*warned = true
			nc.log.Warn("redisstore: near-cache: the tracked connection reports CLIENT TRACKING off; reads go to Redis until it is back")
		}
		return false
	}
	if sh.epoch.Load() != e {
		return true
	}
	for {
		c := sh.confirmed.Load()
		if c >= sent || sh.confirmed.CompareAndSwap(c, sent) {
			break
		}
	}
	// A fail racing with the store above could leave a stale stamp: undo
	// it, the next heartbeat confirms again.
	if sh.epoch.Load() != e {
		sh.confirmed.Store(0)
		return true
	}
	return false
}

// trackingOn reports whether a CLIENT INFO line shows tracking on (flag t).
func trackingOn(info string) bool {
	for _, f := range strings.Fields(info) {
		if v, ok := strings.CutPrefix(f, "flags="); ok {
			return strings.IndexByte(v, 't') >= 0
		}
	}
	return false
}

// failHook distrusts and flushes a shard when a command on its connection
// fails for any reason other than the server's reply (a nil or an error
// reply leaves the connection in step).
type failHook struct{ sh *nearShard }

func (failHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && !errors.Is(err, redis.Nil) {
			var reply redis.Error
			if !errors.As(err, &reply) || strings.HasPrefix(err.Error(), "LOADING") {
				h.sh.fail(cmd.Name() + ": " + err.Error())
			}
		}
		return err
	}
}

func (failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (nc *nearCache) stats() NearCacheStats {
	s := NearCacheStats{Enabled: true, Bound: nc.bound, Bypassed: nc.bypassed.Load(), Flushes: nc.flushes.Load()}
	for _, sh := range nc.shards {
		cs := sh.cache.Stats()
		s.Hits += cs.Hits
		s.Misses += cs.Misses
		s.Entries += cs.Entries
		s.MemoryBytes += cs.MemoryUsageBytes
	}
	return s
}

func (nc *nearCache) close() error {
	var err error
	nc.once.Do(func() {
		close(nc.stop)
		nc.done.Wait()
		for _, sh := range nc.shards {
			err = errors.Join(err, sh.rdb.Close())
		}
	})
	return err
}
