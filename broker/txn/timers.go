package txn

import (
	"container/heap"
	"time"
)

// timerKind names what a deadline is for.
type timerKind uint8

const (
	// timerAbort runs the periodic check for timed-out transactions
	// (transaction.abort.timed.out.transaction.cleanup.interval.ms).
	timerAbort timerKind = iota
	// timerExpire runs the periodic removal of expired transactional IDs
	// (transaction.remove.expired.transaction.cleanup.interval.ms).
	timerExpire
	// timerRetry retries a transaction's markers or its completion record
	// after a failure.
	timerRetry
)

// timerKey identifies one deadline; setting a key again replaces it.
type timerKey struct {
	kind timerKind
	id   string // transactional ID, for timerRetry
}

// timers is a set of deadlines by key, ordered by a heap. Entries the map
// no longer holds (replaced or cancelled) are dropped lazily when they
// reach the top of the heap.
type timers struct {
	live map[timerKey]uint64 // key → seq of its current entry
	h    timerHeap
	seq  uint64
}

type timerEntry struct {
	at  time.Time
	key timerKey
	seq uint64
}

type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newTimers() timers { return timers{live: map[timerKey]uint64{}} }

// set schedules key at at, replacing any earlier deadline for it.
func (t *timers) set(key timerKey, at time.Time) {
	t.seq++
	t.live[key] = t.seq
	heap.Push(&t.h, timerEntry{at: at, key: key, seq: t.seq})
	// Replaced entries stay in the heap until they surface; compact when
	// they outnumber the live ones so that a busy shard's heap stays small.
	if len(t.h) > 64 && len(t.h) > 4*len(t.live) {
		t.compact()
	}
}

// cancel drops key's deadline.
func (t *timers) cancel(key timerKey) { delete(t.live, key) }

// has reports whether key has a deadline.
func (t *timers) has(key timerKey) bool {
	_, ok := t.live[key]
	return ok
}

// next returns the earliest live deadline.
func (t *timers) next() (time.Time, bool) {
	t.dropStale()
	if len(t.h) == 0 {
		return time.Time{}, false
	}
	return t.h[0].at, true
}

// pop removes and returns the earliest live key due at or before now.
func (t *timers) pop(now time.Time) (timerKey, bool) {
	t.dropStale()
	if len(t.h) == 0 || t.h[0].at.After(now) {
		return timerKey{}, false
	}
	e := heap.Pop(&t.h).(timerEntry)
	delete(t.live, e.key)
	return e.key, true
}

func (t *timers) dropStale() {
	for len(t.h) > 0 {
		e := t.h[0]
		if seq, ok := t.live[e.key]; ok && seq == e.seq {
			return
		}
		heap.Pop(&t.h)
	}
}

func (t *timers) compact() {
	kept := t.h[:0]
	for _, e := range t.h {
		if seq, ok := t.live[e.key]; ok && seq == e.seq {
			kept = append(kept, e)
		}
	}
	t.h = kept
	heap.Init(&t.h)
}
