package memstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// sessionKey returns a key shaped like the manager's: the base64 of a
// SHA-256 hash.
func sessionKey(i int) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(h[:])
}

const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// newSession returns a session as the manager saves one, with strings of
// its own (not shared with other sessions), as if decoded from a request.
func newSession(i int, now time.Time) *loginkit.Session {
	return &loginkit.Session{
		Key:               sessionKey(i),
		UserID:            fmt.Sprintf("%032x", i/3), // three sessions per user
		CreatedAt:         now,
		AuthenticatedAt:   now,
		LastSeenAt:        now,
		ExpiresAt:         now.Add(time.Hour),
		AbsoluteExpiresAt: now.Add(30 * 24 * time.Hour),
		Fresh:             true,
		Version:           1,
		Fingerprint:       sessionKey(-i),
		IP:                strings.Clone("203.0.113.7"),
		UserAgent:         strings.Clone(userAgent),
	}
}

func fillSessions(b *testing.B, n int) (*memstore.Sessions, []string) {
	b.Helper()
	ctx := context.Background()
	st := memstore.NewSessions()
	now := time.Now()
	keys := make([]string, n)
	for i := range n {
		s := newSession(i, now)
		keys[i] = s.Key
		if err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	return st, keys
}

// BenchmarkSessionsGet measures the request path's session read with
// 1k, 100k and 1M live sessions: its cost must not grow with the count.
func BenchmarkSessionsGet(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("live=%d", n), func(b *testing.B) {
			st, keys := fillSessions(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := st.Get(ctx, keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
				i += 7919
			}
		})
	}
}

// BenchmarkSessionsGetParallel measures reads from all CPUs at once.
func BenchmarkSessionsGetParallel(b *testing.B) {
	st, keys := fillSessions(b, 100_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := st.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			i += 7919
		}
	})
}

// BenchmarkSessionsSave measures replacing an existing session (the
// manager's throttled "last seen" refresh) among 100k.
func BenchmarkSessionsSave(b *testing.B) {
	st, keys := fillSessions(b, 100_000)
	ctx := context.Background()
	now := time.Now()
	s := newSession(0, now)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Key = keys[i%len(keys)]
		s.ExpiresAt = now.Add(time.Hour + time.Duration(i))
		if err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

// BenchmarkSessionsMemory reports the heap bytes each live session costs
// with 100k sessions stored (B/session), strings and indexes included.
func BenchmarkSessionsMemory(b *testing.B) {
	const n = 100_000
	var perSession float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st, keys := fillSessions(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSession = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(st)
		runtime.KeepAlive(keys)
	}
	// The key slice is the benchmark's, not the store's: 16 bytes a key
	// header plus the key's 43 bytes (rounded to 48 by the allocator).
	b.ReportMetric(perSession-16-48, "B/session")
}

// BenchmarkUsersLoadUser measures the middleware's user read among 10k
// users.
func BenchmarkUsersLoadUser(b *testing.B) {
	ctx := context.Background()
	users := memstore.NewUsers[Staff]()
	ids := make([]string, 10_000)
	for i := range ids {
		u := &Staff{Team: "support"}
		u.Email = fmt.Sprintf("user%d@example.com", i)
		u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
		if err := users.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
	}
	b.Run("LoadUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := users.LoadUser(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindByLogin", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := users.FindByLogin(ctx, "user42@example.com"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkTokensCreateConsume measures issuing and redeeming a token.
func BenchmarkTokensCreateConsume(b *testing.B) {
	ctx := context.Background()
	st := memstore.NewTokens()
	exp := time.Now().Add(time.Hour)
	sels := make([]string, 1024)
	for i := range sels {
		sels[i] = sessionKey(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sel := sels[i%len(sels)]
		if err := st.Create(ctx, &loginkit.Token{Selector: sel, UserID: "u", Purpose: "reset", ExpiresAt: exp}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Consume(ctx, sel); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
