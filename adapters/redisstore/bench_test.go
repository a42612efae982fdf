package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/conformance"
)

// benchSession is a typical session: see the package documentation.
func benchSession() *loginkit.Session {
	now := time.Now().UTC()
	return &loginkit.Session{
		Key:               "q3Hk0mYvZcS1o2uQe1F8x7Kp4Wn9Rj6Tt5Ld0Ab2Cd4",
		UserID:            loginkit.NewID(),
		CreatedAt:         now,
		AuthenticatedAt:   now,
		LastSeenAt:        now,
		ExpiresAt:         now.Add(2 * time.Hour),
		AbsoluteExpiresAt: now.Add(30 * 24 * time.Hour),
		Fresh:             true,
		Version:           3,
		Fingerprint:       "Jq8v2LmN4pR6sT0uW3yZ5a",
		IP:                "203.0.113.45",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
	}
}

// BenchmarkSessionGet measures the hot path: one GET and a decode. It
// also reports the server's MEMORY USAGE for the session's key.
func BenchmarkSessionGet(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	p := e.prefix(b)
	st := redisstore.NewSessions(e.raw, redisstore.WithPrefix(p))
	s := benchSession()
	if err := st.Save(ctx, s); err != nil {
		b.Fatal(err)
	}
	mem, err := e.raw.MemoryUsage(ctx, p+"s:"+s.Key).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Get(ctx, s.Key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(mem), "server-bytes/session")
}

// BenchmarkSessionSave measures a "last seen" refresh of an existing
// session: one pipeline of SET and the index script.
func BenchmarkSessionSave(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	st := redisstore.NewSessions(e.raw, redisstore.WithPrefix(e.prefix(b)))
	s := benchSession()
	if err := st.Save(ctx, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.LastSeenAt = time.Now()
		s.ExpiresAt = s.LastSeenAt.Add(2 * time.Hour)
		if err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserUpdate compares a plain Update of a user read earlier with
// UpdateUser, which reads the user itself and stores it by
// compare-and-swap (uncontended: one HGET, one script run), recording a
// login as the manager does.
func BenchmarkUserUpdate(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	us := redisstore.NewUsers[conformance.Member](e.raw, redisstore.WithPrefix(e.prefix(b)))
	u := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann"}}
	conformance.FillMember(u, 1)
	if err := us.Create(ctx, u); err != nil {
		b.Fatal(err)
	}
	b.Run("Update", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u.LastLoginAt = time.Now().UTC()
			if err := us.Update(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UpdateUser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now().UTC()
			if _, err := us.UpdateUser(ctx, u.ID, func(u *conformance.Member) error {
				u.LastLoginAt = now
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
