package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// testRoot begins every key prefix the tests use.
const testRoot = "loginkit-test:"

// env is a connection to the test server named by LOGINKIT_REDIS_URL.
type env struct {
	// rdb is the client handed to stores. A hook checks every command it
	// sends (see checker) and counts round trips.
	rdb *redis.Client
	// raw is a plain client for the tests' own inspection and clean-up.
	raw *redis.Client
	// check is the hook on rdb.
	check *checker
}

// newEnv connects to the test server, skipping the test when
// LOGINKIT_REDIS_URL is unset (failing under CI=true). The checker's
// findings are reported when the test ends.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	url := testenv.Require(tb, testenv.RedisURL)
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("%s: %v", testenv.RedisURL, err)
	}
	e := &env{rdb: redis.NewClient(opt), raw: redis.NewClient(opt), check: &checker{}}
	e.rdb.AddHook(e.check)
	tb.Cleanup(func() {
		for _, v := range e.check.violations() {
			tb.Error(v)
		}
		_ = e.rdb.Close()
		_ = e.raw.Close()
	})
	if err := e.raw.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("redis at %s: %v", url, err)
	}
	// Open rdb's connection now: go-redis (since v9.22) runs the hooks
	// for the connection's handshake too (HELLO, CLIENT SETINFO), which
	// the round-trip counts must not include.
	if err := e.rdb.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("redis at %s: %v", url, err)
	}
	e.check.counts()
	e.check.names()
	return e
}

// prefix returns a new key prefix, so that the caller gets an empty store
// of its own, and deletes every key under it when the test ends.
func (e *env) prefix(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := testRoot + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		keys, err := e.keys(p)
		if err != nil {
			tb.Errorf("clean-up of %s*: %v", p, err)
		}
		pipe := e.raw.Pipeline()
		for _, k := range keys {
			pipe.Unlink(context.Background(), k)
		}
		if _, err := pipe.Exec(context.Background()); err != nil && len(keys) > 0 {
			tb.Errorf("clean-up of %s*: %v", p, err)
		}
	})
	return p
}

// keys returns every key beginning with prefix (SCAN: fine in tests).
func (e *env) keys(prefix string) ([]string, error) {
	var keys []string
	iter := e.raw.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// checker is a go-redis hook that checks every command the stores send:
// each key begins with testRoot (so nothing escapes the store's prefix),
// the keys of a command all hash to one Cluster slot (so the command would
// run unchanged on a Cluster), and the command is one the checker knows.
// It also counts round trips: one per command outside a pipeline, one per
// pipeline.
type checker struct {
	mu         sync.Mutex
	problems   []string
	commands   int // commands sent on their own
	pipelines  int // pipelines sent
	pipelined  int // commands sent in pipelines
	lastPipe   []string
	sent       []string   // names of the commands sent on their own
	scriptKeys [][]string // the KEYS of every script run
}

func (c *checker) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *checker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.commands++
		c.sent = append(c.sent, cmd.Name())
		c.inspect(cmd)
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *checker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		c.pipelines++
		c.pipelined += len(cmds)
		c.lastPipe = c.lastPipe[:0]
		for _, cmd := range cmds {
			c.lastPipe = append(c.lastPipe, cmd.Name())
			c.inspect(cmd)
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// counts returns the round-trip counters and resets them.
func (c *checker) counts() (commands, pipelines, pipelined int, lastPipe []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	commands, pipelines, pipelined = c.commands, c.pipelines, c.pipelined
	lastPipe = append([]string(nil), c.lastPipe...)
	c.commands, c.pipelines, c.pipelined = 0, 0, 0
	return
}

// names returns the names of the commands sent on their own since the
// last call, in order.
func (c *checker) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.sent
	c.sent = nil
	return n
}

func (c *checker) violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

func (c *checker) scripts() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]string(nil), c.scriptKeys...)
}

// inspect checks one command; c.mu is held.
func (c *checker) inspect(cmd redis.Cmder) {
	args := cmd.Args()
	keys, known := commandKeys(args)
	if !known {
		c.problems = append(c.problems, fmt.Sprintf("command %v is not one the checker knows: teach commandKeys its keys", args))
		return
	}
	if n := strings.ToLower(fmt.Sprint(args[0])); strings.HasPrefix(n, "eval") {
		c.scriptKeys = append(c.scriptKeys, keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, testRoot) {
			c.problems = append(c.problems, fmt.Sprintf("command %v uses key %q outside the store's prefix", args, k))
		}
		if slot(k) != slot(keys[0]) {
			c.problems = append(c.problems, fmt.Sprintf("command %v uses keys in different Cluster slots: %q (%d), %q (%d)",
				args, keys[0], slot(keys[0]), k, slot(k)))
		}
	}
}

// commandKeys returns the keys a command names, and whether it knows the
// command.
func commandKeys(args []any) ([]string, bool) {
	str := func(i int) string { return fmt.Sprint(args[i]) }
	switch strings.ToLower(str(0)) {
	case "hello", "client", "ping", "select", "auth", "scan", "info", "multi", "exec":
		return nil, true
	case "get", "set", "getdel", "hget", "hmget", "hset", "hexists", "hdel",
		"zadd", "zrem", "zrange", "zcard", "zscore", "zremrangebyscore",
		"pexpireat", "pttl", "type", "hgetall", "smembers", "sadd", "srem":
		return []string{str(1)}, true
	case "del", "unlink", "exists":
		keys := make([]string, len(args)-1)
		for i := range keys {
			keys[i] = str(i + 1)
		}
		return keys, true
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		n, err := strconv.Atoi(str(2))
		if err != nil || 3+n > len(args) {
			return nil, false
		}
		keys := make([]string, n)
		for i := range keys {
			keys[i] = str(3 + i)
		}
		return keys, true
	}
	return nil, false
}

// slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of its
// hash tag, or of the whole key when it has none, modulo 16384.
func slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestSlotFunction(t *testing.T) {
	// Values from CLUSTER KEYSLOT on Redis 7.0.
	for key, want := range map[string]int{
		"foo":                      12182,
		"somekey":                  11058,
		"hello":                    866,
		"{user1000}.following":     3443,
		"foo{}{bar}":               8363,
		"foo{{bar}}zap":            4015,
		"foo{bar}{zap}":            5061,
		"loginkit:{users}:id:1":    14124,
		"loginkit:{u:42}:sessions": 8980,
	} {
		if got := slot(key); got != want {
			t.Errorf("slot(%q) = %d, want %d", key, got, want)
		}
	}
	if crc16("123456789") != 0x31C3 {
		t.Errorf("crc16(123456789) = %#x, want 0x31c3", crc16("123456789"))
	}
}

// redisZ returns a sorted-set member scored by t in Unix milliseconds, as
// the per-user indexes are.
func redisZ(t time.Time, member string) redis.Z {
	return redis.Z{Score: float64(t.UnixMilli()), Member: member}
}

// race runs f(0) to f(n-1) in goroutines released all at once, and
// reports how many returned nil and the errors other than lost (the
// answer of a call that lost the race) they returned.
func race(n int, lost error, f func(i int) error) (wins int, others []error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := f(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, lost):
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return wins, others
}

// wantCanceled checks that every call (by name) answered a canceled
// context with context.Canceled, and that none sent a command.
func wantCanceled(t *testing.T, e *env, calls map[string]error) {
	t.Helper()
	for name, err := range calls {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", name, err)
		}
	}
	if cmds, pipes, _, _ := e.check.counts(); cmds+pipes != 0 {
		t.Errorf("%d commands and %d pipelines sent with a canceled context", cmds, pipes)
	}
}
