package mongostore_test

import (
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/conformance"
)

// benchMember stores a member with every field filled in a fresh store.
func benchMember(b *testing.B) (*mongostoreMembers, *conformance.Member) {
	us := newMembers(b)
	u := &conformance.Member{Account: loginkit.Account{Email: "bench@example.com", Username: "bench", CreatedAt: time.Now()}}
	conformance.FillMember(u, 7)
	if err := us.Create(ctx(b), u); err != nil {
		b.Fatal(err)
	}
	return us, u
}

// BenchmarkLoadUser measures the user half of an authenticated request:
// one find on _id and the decoding of the whole embedding struct.
func BenchmarkLoadUser(b *testing.B) {
	us, u := benchMember(b)
	c := ctx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := us.LoadUser(c, u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateUser measures the write the manager makes after a login:
// lock insert, find, conditional replace and lock delete.
func BenchmarkUpdateUser(b *testing.B) {
	us, u := benchMember(b)
	c := ctx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := us.UpdateUser(c, u.ID, func(m *conformance.Member) error {
			m.LastLoginAt = time.Now()
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindByLogin measures the lookup a password login starts with.
func BenchmarkFindByLogin(b *testing.B) {
	us := newMembers(b)
	u := &conformance.Member{Account: loginkit.Account{Email: "bench@example.com", Username: "bench"}}
	if err := us.Create(ctx(b), u); err != nil {
		b.Fatal(err)
	}
	c := ctx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := us.FindByLogin(c, "Bench@Example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSession is a typical session.
func benchSession() *loginkit.Session {
	now := time.Now().UTC()
	return &loginkit.Session{
		Key:               "k3QxZ9wGq1pL0sV8nR2yT5uH7jB4mC6eA1dF0gI2hKo",
		UserID:            "4f9c2a1e8b7d6c5a4f3e2d1c0b9a8f7e",
		CreatedAt:         now,
		AuthenticatedAt:   now,
		LastSeenAt:        now,
		ExpiresAt:         now.Add(time.Hour),
		AbsoluteExpiresAt: now.Add(24 * time.Hour),
		Fresh:             true,
		Version:           3,
		Fingerprint:       "Vb8nQ2xK5mP9rT1wY4zA7c",
		IP:                "203.0.113.7",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	}
}

// BenchmarkSessionGet measures the session half of an authenticated
// request: one find on _id and the expiry date.
func BenchmarkSessionGet(b *testing.B) {
	db := migratedDB(b)
	s := mongostore.NewSessions(db)
	sess := benchSession()
	if err := s.Save(ctx(b), sess); err != nil {
		b.Fatal(err)
	}
	c := ctx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(c, sess.Key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionSave measures the throttled "last seen" write: one
// replace of an existing session.
func BenchmarkSessionSave(b *testing.B) {
	db := migratedDB(b)
	s := mongostore.NewSessions(db)
	sess := benchSession()
	c := ctx(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(c, sess); err != nil {
			b.Fatal(err)
		}
	}
}
