package coord

import (
	"container/heap"
	"time"
)

// Timers is a set of deadlines by key, ordered by a heap: a shard sets a
// deadline per session, rebalance phase or periodic check and pops those
// that are due each time it runs. Setting a key again replaces its
// deadline. The zero value is an empty set ready to use. Timers is not
// safe for concurrent use; its shard's loop owns it.
//
// Replaced and cancelled entries stay in the heap and are dropped when
// they reach the top, or all at once when they outnumber the live ones.
type Timers[K comparable] struct {
	live map[K]uint64 // key → seq of its current entry
	h    timerHeap[K]
	seq  uint64
}

type timerEntry[K comparable] struct {
	at  time.Time
	key K
	seq uint64
}

// timerHeap orders entries by deadline, then by the order they were set
// in, so that deadlines due at the same time fire in that order.
type timerHeap[K comparable] []timerEntry[K]

func (h timerHeap[K]) Len() int { return len(h) }
func (h timerHeap[K]) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap[K]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap[K]) Push(x any)   { *h = append(*h, x.(timerEntry[K])) }
func (h *timerHeap[K]) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Set schedules key at at, replacing any earlier deadline for it.
func (t *Timers[K]) Set(key K, at time.Time) {
	if t.live == nil {
		t.live = map[K]uint64{}
	}
	t.seq++
	t.live[key] = t.seq
	heap.Push(&t.h, timerEntry[K]{at: at, key: key, seq: t.seq})
	// Compact when replaced entries outnumber the live ones, so that a
	// busy shard's heap stays small.
	if len(t.h) > 64 && len(t.h) > 4*len(t.live) {
		t.compact()
	}
}

// Cancel drops key's deadline.
func (t *Timers[K]) Cancel(key K) { delete(t.live, key) }

// Has reports whether key has a deadline.
func (t *Timers[K]) Has(key K) bool {
	_, ok := t.live[key]
	return ok
}

// Next returns the earliest deadline, if there is one.
func (t *Timers[K]) Next() (time.Time, bool) {
	t.dropStale()
	if len(t.h) == 0 {
		return time.Time{}, false
	}
	return t.h[0].at, true
}

// Pop removes and returns the key with the earliest deadline if that is
// at or before now. Keys due at the same time come in the order they were
// set.
func (t *Timers[K]) Pop(now time.Time) (K, bool) {
	t.dropStale()
	if len(t.h) == 0 || t.h[0].at.After(now) {
		var zero K
		return zero, false
	}
	e := heap.Pop(&t.h).(timerEntry[K])
	delete(t.live, e.key)
	return e.key, true
}

func (t *Timers[K]) current(e timerEntry[K]) bool {
	seq, ok := t.live[e.key]
	return ok && seq == e.seq
}

func (t *Timers[K]) dropStale() {
	for len(t.h) > 0 && !t.current(t.h[0]) {
		heap.Pop(&t.h)
	}
}

func (t *Timers[K]) compact() {
	kept := t.h[:0]
	for _, e := range t.h {
		if t.current(e) {
			kept = append(kept, e)
		}
	}
	clear(t.h[len(kept):]) // release the dropped keys
	t.h = kept
	heap.Init(&t.h)
}
