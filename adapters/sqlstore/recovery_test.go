package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/ratelimit"
	"github.com/loginkit/loginkit/recovery"
)

// slowBox keeps messages, taking 20 ms per message like a remote server.
type slowBox struct {
	mu   sync.Mutex
	msgs []*mail.Message
}

func (b *slowBox) Send(_ context.Context, m *mail.Message) error {
	time.Sleep(20 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
	return nil
}

func (b *slowBox) last() *mail.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.msgs[len(b.msgs)-1]
}

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_.-]+)`)

// TestRecoveryOnSQL runs password reset and email confirmation on the SQL
// stores: the reset request's answer time for an existing and an unknown
// account (ratio of medians within 0.7-1.43), a completed reset ending
// the user's sessions, and the confirmation stored in the users table.
func TestRecoveryOnSQL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db, opt, _ := fresh(t, b)
		users := sqlstore.NewUsers[conformance.Member](db, opt)
		sessions := sqlstore.NewSessions(db, opt)
		tokens := sqlstore.NewTokens(db, opt)
		m, err := loginkit.New[*conformance.Member]().Users(users).Sessions(sessions).Tokens(tokens).
			Hasher(hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000)))).Build()
		if err != nil {
			t.Fatal(err)
		}
		box := &slowBox{}
		rc, err := recovery.New(m, recovery.Options[*conformance.Member]{
			Mailer: box, From: "no-reply@example.test", BaseURL: "https://app.example.test",
			ResetPerAccount: ratelimit.Rate{Count: -1}, ResetPerClient: ratelimit.Rate{Count: -1}, MaxDeliveries: 1000,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Wait()
		ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}, DisplayName: "Ann"}
		if err := m.Register(ctx, ann, "old password"); err != nil {
			t.Fatal(err)
		}
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := rc.RequestReset(r, r.FormValue("login")); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte("sent if it exists"))
		}))
		forgot := func(login string) (time.Duration, string) {
			r := httptest.NewRequest("POST", "/forgot", strings.NewReader("login="+url.QueryEscape(login)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, r)
			d := time.Since(start)
			if rec.Code != http.StatusOK {
				t.Fatalf("forgot %s: %d %s", login, rec.Code, rec.Body)
			}
			return d, rec.Body.String()
		}
		// Warm up, and check the answers are alike.
		if _, a := forgot("ann@example.com"); a != func() string { _, u := forgot("nobody@example.com"); return u }() {
			t.Fatal("answers differ")
		}
		const rounds = 150
		var ratio float64
		for attempt := 1; attempt <= 3; attempt++ {
			var k, u []time.Duration
			for i := range rounds {
				// Alternate which goes first, so that whatever one request
				// leaves behind falls on both kinds alike.
				if i%2 == 0 {
					dk, _ := forgot("ann@example.com")
					du, _ := forgot(fmt.Sprintf("nobody%d@example.com", i))
					k, u = append(k, dk), append(u, du)
				} else {
					du, _ := forgot(fmt.Sprintf("nobody%d@example.com", i))
					dk, _ := forgot("ann@example.com")
					k, u = append(k, dk), append(u, du)
				}
			}
			rc.Wait()
			slices.Sort(k)
			slices.Sort(u)
			ratio = float64(k[rounds/2]) / float64(u[rounds/2])
			t.Logf("attempt %d: median existing %v, unknown %v, ratio %.3f", attempt, k[rounds/2], u[rounds/2], ratio)
			if ratio >= 0.7 && ratio <= 1.43 {
				break
			}
		}
		if ratio < 0.7 || ratio > 1.43 {
			t.Fatalf("timing ratio existing/unknown = %.3f, want within [0.7, 1.43]", ratio)
		}

		// Complete a reset from the newest link: the stored hash changes
		// and a session started before is gone.
		s := &loginkit.Session{Key: "k-" + ann.ID, UserID: ann.ID, CreatedAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Hour).UTC(), Version: ann.SessionVersion}
		if err := sessions.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := forgot("ann@example.com"); err != "sent if it exists" {
			t.Fatal(err)
		}
		rc.Wait()
		tok := tokenRE.FindStringSubmatch(box.last().Text)[1]
		r := httptest.NewRequest("POST", "/reset", nil)
		if _, err := rc.CompleteReset(nil, r, tok, "new password"); err != nil {
			t.Fatalf("CompleteReset: %v", err)
		}
		if _, err := sessions.Get(ctx, s.Key); !errors.Is(err, loginkit.ErrNotFound) {
			t.Fatalf("session after the reset: %v", err)
		}
		if _, err := m.Authenticate(ctx, "ann@example.com", "new password"); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}

		// Confirmation is stored in the users table.
		stored, _ := users.LoadUser(ctx, ann.ID)
		if err := rc.SendConfirmation(ctx, stored); err != nil {
			t.Fatal(err)
		}
		if _, err := rc.ConfirmEmail(ctx, tokenRE.FindStringSubmatch(box.last().Text)[1]); err != nil {
			t.Fatal(err)
		}
		reloaded, _ := users.LoadUser(ctx, ann.ID)
		if !reloaded.EmailConfirmed() || reloaded.EmailConfirmedAt.IsZero() {
			t.Fatalf("confirmation not stored: %+v", reloaded.Account)
		}
	})
}
