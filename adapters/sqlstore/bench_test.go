package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
)

// benchMember stores a member with its fields filled in a fresh store
// of backend be.
func benchMember(b *testing.B, be backend) (*sqlstore.Users[conformance.Member, *conformance.Member], *conformance.Member) {
	users := freshUsers(b, be)
	u := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann", CreatedAt: time.Now()}}
	conformance.FillMember(u, 3)
	if err := users.Create(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	return users, u
}

// BenchmarkLoadUser measures Users.LoadUser, the user read of every
// authenticated request, on each database.
func BenchmarkLoadUser(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			users, u := benchMember(b, be)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := users.LoadUser(ctx, u.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSessionGet measures Sessions.Get, the session read of every
// authenticated request, on each database.
func BenchmarkSessionGet(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db, opt, _ := fresh(b, be)
			sessions := sqlstore.NewSessions(db, opt)
			ctx := context.Background()
			now := time.Now()
			s := &loginkit.Session{
				Key: "k7Hq2mR9xVb4NcT1pLw8ZsYd3FgJ6aUe0iOkQ5rBnMv", UserID: loginkit.NewID(),
				CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now,
				ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour),
				Fresh: true, Version: 1, Fingerprint: "Jd8sK2mQ9xVb4NcT1pLw8Z", IP: "203.0.113.7",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
			}
			if err := sessions.Save(ctx, s); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := sessions.Get(ctx, s.Key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdateUser measures Users.UpdateUser (a transaction locking
// the row, then loading and writing it), the manager's write after every
// login, on each database, against Update, the single UPDATE it replaces.
func BenchmarkUpdateUser(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			users, u := benchMember(b, be)
			ctx := context.Background()
			b.Run("UpdateUser", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := users.UpdateUser(ctx, u.ID, func(u *conformance.Member) error {
						u.FailedLogins++
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Update", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					u.FailedLogins++
					if err := users.Update(ctx, u); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
