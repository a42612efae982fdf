package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// What the conformance suites cannot check: exact expiry at the clock's
// instant, exact DeleteExpired counts (a store with native expiry may
// report 0), memstore's own refusals and its Clone hook.

// clock is a settable time source for WithClock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)} }

func TestSessionExpiryIsExact(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memstore.NewSessions(memstore.WithClock(c.now))
	if err := st.Save(ctx, &loginkit.Session{Key: "k", UserID: "u", ExpiresAt: c.t.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Minute - time.Nanosecond)
	if _, err := st.Get(ctx, "k"); err != nil {
		t.Fatalf("Get a nanosecond before ExpiresAt: %v", err)
	}
	c.t = c.t.Add(time.Nanosecond)
	if _, err := st.Get(ctx, "k"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("Get at ExpiresAt: want ErrNotFound (ExpiresAt is not after now), got %v", err)
	}
}

func TestSessionsDeleteExpiredCountsAndSlides(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memstore.NewSessions(memstore.WithClock(c.now))
	start := c.t
	for i := range 5 {
		s := &loginkit.Session{Key: fmt.Sprint("k", i), UserID: "u", CreatedAt: start.Add(time.Duration(i) * time.Second), ExpiresAt: start.Add(time.Duration(i+1) * time.Minute)}
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// Slide k0 past everyone else, as the manager does on activity.
	if err := st.Save(ctx, &loginkit.Session{Key: "k0", UserID: "u", CreatedAt: start, ExpiresAt: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c.t = start.Add(3*time.Minute + 30*time.Second) // k1 (2m) and k2 (3m) expired
	n, err := st.DeleteExpired(ctx)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired: want 2, got %d, %v", n, err)
	}
	list, err := st.ListByUser(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range list {
		keys = append(keys, s.Key)
	}
	if want := []string{"k4", "k3", "k0"}; !slices.Equal(keys, want) {
		t.Fatalf("ListByUser: want %v, got %v", want, keys)
	}
	c.t = start.Add(59 * time.Minute)
	if n, _ := st.DeleteExpired(ctx); n != 2 {
		t.Fatalf("DeleteExpired after k3 and k4 expired: want 2, got %d", n)
	}
	if _, err := st.Get(ctx, "k0"); err != nil {
		t.Fatalf("the slid session: %v", err)
	}
}

func TestDeleteByUserCountsLiveOnly(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memstore.NewSessions(memstore.WithClock(c.now))
	_ = st.Save(ctx, &loginkit.Session{Key: "live", UserID: "u", ExpiresAt: c.t.Add(time.Hour)})
	_ = st.Save(ctx, &loginkit.Session{Key: "dead", UserID: "u", ExpiresAt: c.t.Add(-time.Hour)})
	if n, err := st.DeleteByUser(ctx, "u", ""); n != 1 || err != nil {
		t.Fatalf("DeleteByUser: want 1 (expired sessions are already gone for readers), got %d, %v", n, err)
	}
	if n, _ := st.DeleteExpired(ctx); n != 0 {
		t.Fatalf("DeleteExpired after DeleteByUser removed the expired session too: want 0, got %d", n)
	}
}

func TestTokensExpiryAndReuse(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memstore.NewTokens(memstore.WithClock(c.now))
	tok := &loginkit.Token{Selector: "s", UserID: "u", Purpose: "p", ExpiresAt: c.t.Add(time.Minute)}
	if err := st.Create(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, tok); !errors.Is(err, loginkit.ErrDuplicate) {
		t.Fatalf("Create of a live selector: want ErrDuplicate, got %v", err)
	}
	c.t = c.t.Add(time.Minute)
	if _, err := st.Consume(ctx, "s"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("Consume at ExpiresAt: want ErrNotFound, got %v", err)
	}
	tok.ExpiresAt = c.t.Add(time.Minute)
	tok.UserID = "v"
	if err := st.Create(ctx, tok); err != nil {
		t.Fatalf("Create over an expired selector: %v", err)
	}
	if list, _ := st.ListByUser(ctx, "u", ""); len(list) != 0 {
		t.Fatalf("the expired token's user still lists %d tokens", len(list))
	}
	if n, _ := st.DeleteExpired(ctx); n != 0 {
		t.Fatalf("DeleteExpired: want 0, got %d", n)
	}
	got, err := st.Consume(ctx, "s")
	if err != nil || got.UserID != "v" {
		t.Fatalf("Consume of the new token: %+v, %v", got, err)
	}
}

func TestUsernameWithAtIsInvalid(t *testing.T) {
	ctx := context.Background()
	users := memstore.NewUsers[Staff]()
	u := &Staff{}
	u.Username = "ann@example.com"
	if err := users.Create(ctx, u); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("Create with '@' in the username: want ErrInvalid, got %v", err)
	}
	u.Username = "ann"
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Username = "a@b"
	if err := users.Update(ctx, u); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("Update with '@' in the username: want ErrInvalid, got %v", err)
	}
	if err := users.Create(ctx, nil); !errors.Is(err, loginkit.ErrInvalid) {
		t.Fatalf("Create(nil): want ErrInvalid, got %v", err)
	}
}

// tagged has a slice field, so it needs Clone for full isolation.
type tagged struct {
	loginkit.Account
	Tags []string
}

func (u *tagged) Clone() *tagged {
	c := *u
	c.Tags = slices.Clone(u.Tags)
	return &c
}

func TestUsersUseCloneMethod(t *testing.T) {
	ctx := context.Background()
	users := memstore.NewUsers[tagged]()
	in := &tagged{Tags: []string{"a", "b"}}
	in.Email = "ann@example.com"
	if err := users.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Tags[0] = "changed-in"
	got, err := users.LoadUser(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Tags[1] = "changed-out"
	again, _ := users.LoadUser(ctx, in.ID)
	if !slices.Equal(again.Tags, []string{"a", "b"}) {
		t.Fatalf("Tags: want [a b] (Users copies through Clone), got %v", again.Tags)
	}
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	users := memstore.NewUsers[Staff]()
	for i := range 1005 {
		u := &Staff{}
		u.Email = fmt.Sprintf("u%d@example.com", i)
		if err := users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := users.List(ctx, loginkit.ListOptions{Limit: 5000})
	if err != nil || len(page) != 1000 || total != 1005 {
		t.Fatalf("List{Limit:5000}: want 1000 of 1005, got %d of %d, %v", len(page), total, err)
	}
	page, _, _ = users.List(ctx, loginkit.ListOptions{Offset: -3, Limit: 2})
	if len(page) != 2 {
		t.Fatalf("List{Offset:-3}: want the first page, got %d users", len(page))
	}
}

// TestSessionsAgainstModel drives the store and a plain map through the
// same random operations and clock moves, comparing every answer. It
// exercises the expiry heap's moves and removals.
func TestSessionsAgainstModel(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memstore.NewSessions(memstore.WithClock(c.now))
	model := map[string]loginkit.Session{}
	live := func(s loginkit.Session) bool { return s.ExpiresAt.After(c.t) }
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		key := fmt.Sprint("k", r.IntN(200))
		user := fmt.Sprint("u", r.IntN(10))
		switch op := r.IntN(10); {
		case op < 4:
			s := loginkit.Session{Key: key, UserID: user, CreatedAt: c.t.Add(time.Duration(r.IntN(1000)) * time.Second),
				ExpiresAt: c.t.Add(time.Duration(r.IntN(600)-60) * time.Second)}
			if err := st.Save(ctx, &s); err != nil {
				t.Fatal(err)
			}
			model[key] = s
		case op < 6:
			got, err := st.Get(ctx, key)
			want, ok := model[key]
			if ok && live(want) {
				if err != nil || got.UserID != want.UserID || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Fatalf("step %d: Get(%s) = %+v, %v; want %+v", step, key, got, err, want)
				}
			} else if !errors.Is(err, loginkit.ErrNotFound) {
				t.Fatalf("step %d: Get(%s): want ErrNotFound, got %+v, %v", step, key, got, err)
			}
			if ok && !live(want) {
				delete(model, key) // Get removes what it finds expired
			}
		case op == 6:
			_ = st.Delete(ctx, key)
			delete(model, key)
		case op == 7:
			n, _ := st.DeleteByUser(ctx, user, key)
			want := 0
			for k, s := range model {
				if s.UserID == user && k != key {
					if live(s) {
						want++
					}
					delete(model, k)
				}
			}
			if n != want {
				t.Fatalf("step %d: DeleteByUser(%s, %s) = %d, want %d", step, user, key, n, want)
			}
		case op == 8:
			n, _ := st.DeleteExpired(ctx)
			want := 0
			for k, s := range model {
				if !live(s) {
					want++
					delete(model, k)
				}
			}
			if n != want {
				t.Fatalf("step %d: DeleteExpired = %d, want %d", step, n, want)
			}
		default:
			c.t = c.t.Add(time.Duration(r.IntN(30)) * time.Second)
			list, _ := st.ListByUser(ctx, user)
			var want []loginkit.Session
			for _, s := range model {
				if s.UserID == user && live(s) {
					want = append(want, s)
				}
			}
			if len(list) != len(want) {
				t.Fatalf("step %d: ListByUser(%s) has %d sessions, want %d", step, user, len(list), len(want))
			}
			for i := 1; i < len(list); i++ {
				if list[i].CreatedAt.After(list[i-1].CreatedAt) {
					t.Fatalf("step %d: ListByUser not newest first", step)
				}
			}
		}
	}
}

// TestGetAtDecidesExpiryAtTheGivenTime checks that GetAt answers as Get
// would at the time it is given, whatever the store's clock says, and
// removes a session expired at that time.
func TestGetAtDecidesExpiryAtTheGivenTime(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st := memstore.NewSessions(memstore.WithClock(func() time.Time { return start }))
	s := &loginkit.Session{
		Key: "k1", UserID: "u1", CreatedAt: start, AuthenticatedAt: start, LastSeenAt: start,
		ExpiresAt: start.Add(time.Hour), AbsoluteExpiresAt: start.Add(2 * time.Hour),
	}
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetAt(ctx, "k1", start.Add(59*time.Minute))
	if err != nil || got.UserID != "u1" {
		t.Fatalf("GetAt before expiry = %v, %v; want the session", got, err)
	}
	if _, err := st.GetAt(ctx, "k1", start.Add(time.Hour)); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("GetAt at ExpiresAt: %v, want ErrNotFound", err)
	}
	// The store's own clock still says the session is live, but GetAt at
	// its expiry removed it.
	if _, err := st.Get(ctx, "k1"); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("Get after GetAt found it expired: %v, want ErrNotFound (removed)", err)
	}
	if _, err := st.GetAt(ctx, "missing", start); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("GetAt of a missing key: %v, want ErrNotFound", err)
	}
}
