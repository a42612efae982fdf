package memstore

import "time"

// expiring is a record kept in an expiryHeap: it knows its expiry and its
// position in the heap.
type expiring interface {
	expiry() time.Time
	heapIndex() *int
}

// expiryHeap is a binary min-heap of records ordered by expiry, so that
// DeleteExpired finds the expired records without a scan. Each record
// keeps its own index, so that a record can be removed or moved when it
// is deleted or replaced.
type expiryHeap[E expiring] []E

func (h expiryHeap[E]) less(i, j int) bool { return h[i].expiry().Before(h[j].expiry()) }

func (h expiryHeap[E]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	*h[i].heapIndex() = i
	*h[j].heapIndex() = j
}

func (h expiryHeap[E]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h expiryHeap[E]) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}

// push adds e.
func (h *expiryHeap[E]) push(e E) {
	*e.heapIndex() = len(*h)
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

// fix restores the order after e's expiry changed.
func (h expiryHeap[E]) fix(e E) {
	i := *e.heapIndex()
	if !h.down(i) {
		h.up(i)
	}
}

// remove takes e out of the heap.
func (h *expiryHeap[E]) remove(e E) {
	i := *e.heapIndex()
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	var zero E
	(*h)[last] = zero
	*h = (*h)[:last]
	if i != last {
		h.fix((*h)[i])
	}
	*e.heapIndex() = -1
}

// min returns the record that expires first.
func (h expiryHeap[E]) min() (E, bool) {
	if len(h) == 0 {
		var zero E
		return zero, false
	}
	return h[0], true
}
