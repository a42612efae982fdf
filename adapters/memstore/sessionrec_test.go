package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/loginkit/loginkit"
)

// checkSessions verifies the store's internal links: every key maps to a
// used record holding that key, every used record is in exactly one user
// chain with consistent prev/next links, the maps' keys are views of the
// current buffers (so no replaced buffer stays reachable), the heap is
// ordered and agrees with the records' heap positions and expiries, and
// the free list holds exactly the unused records.
func checkSessions(t *testing.T, m *Sessions) {
	t.Helper()
	used := 0
	for k, i := range m.byKey {
		r := m.recs.at(i)
		if r.buf == "" || r.key() != k {
			t.Fatalf("byKey[%q] = %d holds %q", k, i, r.key())
		}
		if unsafe.StringData(k) != unsafe.StringData(r.buf) {
			t.Fatalf("byKey[%q]: the map's key is not the record's buffer, which keeps an old one alive", k)
		}
		for _, tm := range r.times {
			if tm != tm.UTC() {
				t.Fatalf("record %d keeps a time with a location or a monotonic reading: %#v", i, tm)
			}
		}
		used++
	}
	inChain := 0
	for u, h := range m.byUser {
		if m.recs.at(h).prev != noRec {
			t.Fatalf("user %q: first record %d has prev %d", u, h, m.recs.at(h).prev)
		}
		if first := m.recs.at(h); unsafe.StringData(u) != unsafe.StringData(first.buf[first.keyEnd:]) {
			t.Fatalf("byUser[%q]: the map's key is not the first record's buffer, which keeps an old one alive", u)
		}
		prev := noRec
		for i := h; i != noRec; i = m.recs.at(i).next {
			r := m.recs.at(i)
			if r.buf == "" || r.userID() != u || r.prev != prev {
				t.Fatalf("user %q: record %d (user %q, prev %d, want prev %d)", u, i, r.userID(), r.prev, prev)
			}
			if j, ok := m.byKey[r.key()]; !ok || j != i {
				t.Fatalf("user %q: record %d not indexed by key", u, i)
			}
			prev = i
			inChain++
		}
	}
	if inChain != used {
		t.Fatalf("%d records in user chains, %d keys", inChain, used)
	}
	if len(m.heap.slots) != used {
		t.Fatalf("heap has %d records, %d keys", len(m.heap.slots), used)
	}
	for p, hs := range m.heap.slots {
		r := m.recs.at(hs.ref)
		if sec, nsec := split(r.times[tExpires]); int(r.heapIdx) != p || sec != hs.sec || nsec != hs.nsec {
			t.Fatalf("heap slot %d: record %d at %d, expiry mismatch", p, hs.ref, r.heapIdx)
		}
		if p > 0 && hs.before(m.heap.slots[(p-1)/2]) {
			t.Fatalf("heap order broken at %d", p)
		}
	}
	free := 0
	for i := m.free; i != noRec; i = m.recs.at(i).next {
		if m.recs.at(i).buf != "" {
			t.Fatalf("free record %d is in use", i)
		}
		free++
	}
	if free+used != int(m.nrecs) {
		t.Fatalf("%d free + %d used != %d records", free, used, int(m.nrecs))
	}
}

// sameSession reports the first difference between two sessions, with
// times compared as instants.
func sameSession(got, want *loginkit.Session) error {
	g, w := *got, *want
	for _, p := range []struct{ a, b *time.Time }{
		{&g.CreatedAt, &w.CreatedAt}, {&g.AuthenticatedAt, &w.AuthenticatedAt}, {&g.LastSeenAt, &w.LastSeenAt},
		{&g.ExpiresAt, &w.ExpiresAt}, {&g.AbsoluteExpiresAt, &w.AbsoluteExpiresAt},
	} {
		if !p.a.Equal(*p.b) || p.a.IsZero() != p.b.IsZero() || p.a.Location() != time.UTC {
			return fmt.Errorf("time %v (%v), want %v", *p.a, p.a.Location(), *p.b)
		}
		*p.a, *p.b = time.Time{}, time.Time{}
	}
	if !maps.Equal(g.Values, w.Values) || (len(w.Values) == 0) != (g.Values == nil) {
		return fmt.Errorf("values %v, want %v", g.Values, w.Values)
	}
	g.Values, w.Values = nil, nil
	if !reflect.DeepEqual(g, w) {
		return fmt.Errorf("got %+v, want %+v", g, w)
	}
	return nil
}

// TestSessionRecordsAgainstModel drives the store through random saves,
// touches, moves between users, reads, deletions and clock moves,
// comparing every whole session with a model and checking the internal
// links after every step.
func TestSessionRecordsAgainstModel(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewSessions(WithClock(func() time.Time { return now }))
	model := map[string]*loginkit.Session{}
	live := func(s *loginkit.Session) bool { return s.ExpiresAt.After(now) }
	r := rand.New(rand.NewPCG(3, 4))
	long := string(make([]byte, 300)) // lengths beyond one uvarint byte
	for step := range 5000 {
		key := fmt.Sprint("k", r.IntN(60))
		user := fmt.Sprint("u", r.IntN(6))
		switch op := r.IntN(12); {
		case op < 4:
			s := &loginkit.Session{
				Key: key, UserID: user,
				CreatedAt:       now.Add(time.Duration(r.IntN(1000)) * time.Millisecond).In(time.Local),
				AuthenticatedAt: now.Add(-time.Hour),
				ExpiresAt:       now.Add(time.Duration(r.IntN(600)-60)*time.Second + time.Duration(r.IntN(3))),
				Fresh:           r.IntN(2) == 0, Remembered: r.IntN(2) == 0, Version: r.Int64(),
				Fingerprint: fmt.Sprint("fp", step), IP: "192.0.2.1", UserAgent: long[:r.IntN(300)],
			}
			if r.IntN(3) == 0 {
				s.AbsoluteExpiresAt = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) // before UnixNano's range
			}
			if nv := r.IntN(4); nv > 0 {
				s.Values = map[string]string{}
				for j := range nv {
					s.Values[fmt.Sprint("v", j)] = long[:r.IntN(200)]
				}
			}
			if r.IntN(10) == 0 {
				s.Values = map[string]string{} // empty comes back nil
			}
			if op == 3 {
				err := m.Touch(ctx, s)
				if old, ok := model[key]; !ok || !live(old) {
					if !errors.Is(err, loginkit.ErrNotFound) {
						t.Fatalf("step %d: Touch(%s) = %v, want ErrNotFound", step, key, err)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			} else if err := m.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			model[key] = s.Clone()
			if s.Values != nil {
				s.Values["changed"] = "after save" // the store keeps its own copy
			}
		case op < 7:
			got, err := m.Get(ctx, key)
			want, ok := model[key]
			if ok && live(want) {
				if err != nil {
					t.Fatalf("step %d: Get(%s): %v", step, key, err)
				}
				if d := sameSession(got, want); d != nil {
					t.Fatalf("step %d: Get(%s): %v", step, key, d)
				}
				if got.Values != nil {
					got.Values["mine"] = "x" // must not reach the store
				}
			} else if !errors.Is(err, loginkit.ErrNotFound) {
				t.Fatalf("step %d: Get(%s): want ErrNotFound, got %v", step, key, err)
			} else if ok {
				delete(model, key)
			}
		case op == 7:
			_ = m.Delete(ctx, key)
			delete(model, key)
		case op == 8:
			n, _ := m.DeleteByUser(ctx, user, key)
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
				t.Fatalf("step %d: DeleteByUser = %d, want %d", step, n, want)
			}
		case op == 9:
			n, _ := m.DeleteExpired(ctx)
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
			now = now.Add(time.Duration(r.IntN(20)) * time.Second)
			list, _ := m.ListByUser(ctx, user)
			n := 0
			for _, s := range model {
				if s.UserID == user && live(s) {
					n++
				}
			}
			if len(list) != n {
				t.Fatalf("step %d: ListByUser has %d, want %d", step, len(list), n)
			}
			for _, got := range list {
				if d := sameSession(got, model[got.Key]); d != nil {
					t.Fatalf("step %d: ListByUser: %v", step, d)
				}
			}
		}
		checkSessions(t, m)
	}
}

// TestSessionTimesRoundTrip checks that times outside the range of Unix
// nanoseconds and the zero time come back as the same instants, in UTC.
func TestSessionTimesRoundTrip(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewSessions(WithClock(func() time.Time { return now }))
	want := &loginkit.Session{
		Key: "k", UserID: "u",
		CreatedAt:         time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		AuthenticatedAt:   time.Date(1500, 6, 1, 1, 2, 3, 999999999, time.FixedZone("x", 3600)),
		ExpiresAt:         time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		AbsoluteExpiresAt: time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC),
	}
	if err := m.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := sameSession(got, want); err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.IsZero() || got.LastSeenAt != (time.Time{}) {
		t.Fatalf("zero LastSeenAt came back as %v", got.LastSeenAt)
	}
}
