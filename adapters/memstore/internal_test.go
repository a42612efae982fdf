package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// TestIndexesEmptyAfterRemoval checks that nothing is left behind in the
// per-user indexes and the expiry heap once every record has gone, by
// whichever path it went.
func TestIndexesEmptyAfterRemoval(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewSessions(WithClock(func() time.Time { return now }))
	save := func(key, user string, exp time.Duration) {
		if err := s.Save(ctx, &loginkit.Session{Key: key, UserID: user, ExpiresAt: now.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	save("a", "u1", time.Hour)
	save("b", "u1", -time.Hour)
	save("c", "u2", time.Hour)
	save("c", "u3", time.Hour) // moves c to u3
	save("d", "u4", -time.Minute)
	_, _ = s.Get(ctx, "b") // lazily removed
	_ = s.Delete(ctx, "a")
	_, _ = s.DeleteByUser(ctx, "u3", "")
	_, _ = s.DeleteExpired(ctx)
	if len(s.byKey) != 0 || len(s.byUser) != 0 || len(s.heap.slots) != 0 {
		t.Fatalf("sessions left: byKey %d, byUser %v, heap %d", len(s.byKey), s.byUser, len(s.heap.slots))
	}

	tk := NewTokens(WithClock(func() time.Time { return now }))
	_ = tk.Create(ctx, &loginkit.Token{Selector: "x", UserID: "u1", ExpiresAt: now.Add(time.Hour)})
	_ = tk.Create(ctx, &loginkit.Token{Selector: "y", UserID: "u1", ExpiresAt: now.Add(-time.Hour)})
	_ = tk.Create(ctx, &loginkit.Token{Selector: "y", UserID: "u2", ExpiresAt: now.Add(time.Hour)}) // replaces the expired y
	_, _ = tk.Consume(ctx, "x")
	_, _ = tk.DeleteByUser(ctx, "u2", "")
	if len(tk.bySel) != 0 || len(tk.byUser) != 0 || len(tk.heap.slots) != 0 {
		t.Fatalf("tokens left: bySel %d, byUser %v, heap %d", len(tk.bySel), tk.byUser, len(tk.heap.slots))
	}

	type plain struct{ loginkit.Account }
	us := NewUsers[plain]()
	u := &plain{}
	u.Email, u.Username = "a@example.com", "a"
	_ = us.Create(ctx, u)
	u.Email, u.Username = "b@example.com", ""
	_ = us.Update(ctx, u)
	_ = us.Delete(ctx, u.ID)
	if len(us.byID) != 0 || len(us.byEmail) != 0 || len(us.byName) != 0 {
		t.Fatalf("users left: %d, emails %v, names %v", len(us.byID), us.byEmail, us.byName)
	}
}

// TestHeapOrder checks the heap invariant and the stored indexes after
// pushes, moves and removals.
func TestHeapOrder(t *testing.T) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := expiryHeap[*tokenEntry]{place: func(e *tokenEntry, i int) { e.idx = i }}
	var entries []*tokenEntry
	for i := range 50 {
		e := &tokenEntry{t: loginkit.Token{ExpiresAt: base.Add(time.Duration((i*37)%50) * time.Minute)}}
		entries = append(entries, e)
		h.push(e, e.t.ExpiresAt)
	}
	for i, e := range entries {
		if i%3 == 0 {
			e.t.ExpiresAt = base.Add(time.Duration(100-i) * time.Minute)
			h.fix(e.idx, e.t.ExpiresAt)
		}
		if i%7 == 0 {
			h.remove(e.idx)
			if e.idx != -1 {
				t.Fatalf("removed entry records index %d", e.idx)
			}
		}
	}
	check := func() {
		for i, s := range h.slots {
			if s.ref.idx != i {
				t.Fatalf("entry at %d records index %d", i, s.ref.idx)
			}
			if sec, nsec := split(s.ref.t.ExpiresAt); sec != s.sec || nsec != s.nsec {
				t.Fatalf("slot %d holds another expiry than its entry's", i)
			}
			if i > 0 && s.before(h.slots[(i-1)/2]) {
				t.Fatalf("heap order broken at %d", i)
			}
		}
	}
	check()
	var last time.Time
	for len(h.slots) > 0 {
		e, ok := h.expired(base.Add(1000 * time.Minute))
		if !ok || e != h.slots[0].ref {
			t.Fatalf("expired = %v, %v; want the first slot", e, ok)
		}
		if e.t.ExpiresAt.Before(last) {
			t.Fatalf("first out of order: %v after %v", e.t.ExpiresAt, last)
		}
		if _, ok := h.expired(e.t.ExpiresAt.Add(-time.Nanosecond)); ok {
			t.Fatalf("an entry expiring at %v is expired a nanosecond earlier", e.t.ExpiresAt)
		}
		last = e.t.ExpiresAt
		h.remove(e.idx)
		check()
	}
}
