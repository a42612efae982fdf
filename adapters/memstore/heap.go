package memstore

import (
	"context"
	"sync"
	"time"
)

// expiring is what Sessions and Tokens share: the clock that decides
// expiry, the lock over the store, and the expiry heap of its records (R,
// see expiryHeap).
type expiring[R any] struct {
	now  func() time.Time
	mu   sync.RWMutex
	heap expiryHeap[R]
}

// setClock is SetClock: it ignores a nil now.
func (s *expiring[R]) setClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// deleteExpired is DeleteExpired: it removes, with drop, every record
// whose expiry is not after now and reports how many, taking them from
// the expiry heap without looking at live records.
func (s *expiring[R]) deleteExpired(ctx context.Context, op string, drop func(R)) (int, error) {
	if err := errs.Ready(ctx, op, nil); err != nil {
		return 0, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for r, ok := s.heap.expired(now); ok; r, ok = s.heap.expired(now) {
		drop(r)
		n++
	}
	return n, nil
}

// expiryHeap is a binary min-heap of references to records (R: a record's
// position, or a pointer to it) ordered by the records' expiry, so that
// DeleteExpired finds the expired records without a scan. Sessions and
// Tokens each keep one.
//
// Each slot holds a copy of its record's expiry, so that ordering the heap
// reads only the heap; for a position, the slots hold no pointer for the
// garbage collector to follow. Every record keeps its own position in the
// heap, which place updates whenever the record moves (to -1 when it
// leaves the heap), so that a record can be moved or removed.
type expiryHeap[R any] struct {
	slots []heapSlot[R]
	place func(ref R, i int)
}

// heapSlot is one entry of an expiryHeap: a record and its expiry, as
// Unix seconds and nanoseconds.
type heapSlot[R any] struct {
	sec  int64
	nsec uint32
	ref  R
}

// split returns the Unix seconds and nanoseconds of t.
func split(t time.Time) (int64, uint32) { return t.Unix(), uint32(t.Nanosecond()) }

func (a heapSlot[R]) before(b heapSlot[R]) bool {
	return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec)
}

func (h *expiryHeap[R]) swap(i, j int) {
	s := h.slots
	s[i], s[j] = s[j], s[i]
	h.place(s[i].ref, i)
	h.place(s[j].ref, j)
}

func (h *expiryHeap[R]) up(i int) bool {
	start := i
	for i > 0 {
		p := (i - 1) / 2
		if !h.slots[i].before(h.slots[p]) {
			break
		}
		h.swap(i, p)
		i = p
	}
	return i < start
}

func (h *expiryHeap[R]) down(i int) {
	s := h.slots
	for {
		l := 2*i + 1
		if l >= len(s) {
			return
		}
		m := l
		if r := l + 1; r < len(s) && s[r].before(s[l]) {
			m = r
		}
		if !s[m].before(s[i]) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// push adds ref, which expires at expiry.
func (h *expiryHeap[R]) push(ref R, expiry time.Time) {
	sec, nsec := split(expiry)
	h.slots = append(h.slots, heapSlot[R]{sec: sec, nsec: nsec, ref: ref})
	i := len(h.slots) - 1
	h.place(ref, i)
	h.up(i)
}

// fix gives the record at position i its new expiry.
func (h *expiryHeap[R]) fix(i int, expiry time.Time) {
	h.slots[i].sec, h.slots[i].nsec = split(expiry)
	if !h.up(i) {
		h.down(i)
	}
}

// remove takes the record at position i out of the heap.
func (h *expiryHeap[R]) remove(i int) {
	ref := h.slots[i].ref
	last := len(h.slots) - 1
	if i != last {
		h.swap(i, last)
	}
	var zero heapSlot[R]
	h.slots[last] = zero
	h.slots = h.slots[:last]
	if i != last && !h.up(i) {
		h.down(i)
	}
	h.place(ref, -1)
}

// expired returns the record that expires first, if its expiry is not
// after now.
func (h *expiryHeap[R]) expired(now time.Time) (R, bool) {
	sec, nsec := split(now)
	if len(h.slots) == 0 || (heapSlot[R]{sec: sec, nsec: nsec}).before(h.slots[0]) {
		var none R
		return none, false
	}
	return h.slots[0].ref, true
}
