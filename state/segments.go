package state

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// noTimestamp is the stream time before any record was seen (Kafka's
// RecordBatch.NO_TIMESTAMP).
const noTimestamp = -1

// segmented spreads a time-keyed store over segments of interval
// milliseconds, each its own engine, so that expiry drops whole segments.
// It knows nothing of the key format: callers pass the timestamp that picks
// the segment (window start, session end) with every key.
//
// Segment lifetime: the segment map is guarded by mu. An iterator holds a
// reference on every segment it may still read; an expired segment leaves
// the map at once but is closed and its files removed only when the last
// reference is released, so iterators never read a closed database.
type segmented struct {
	name      string
	dir       string // "" for memory
	retention int64
	interval  int64
	log       *slog.Logger

	mu       sync.Mutex
	segs     map[int64]*segment
	observed int64 // stream time: the largest segment timestamp written
	expired  int64 // writes skipped because their segment had expired
	closed   bool
}

type segment struct {
	id      int64
	eng     engine
	refs    int
	dropped bool
}

func openSegmented(name, dir string, inMemory bool, retention, interval int64, log *slog.Logger) (*segmented, error) {
	s := &segmented{name: name, retention: retention, interval: interval, log: log, segs: map[int64]*segment{}, observed: noTimestamp}
	if inMemory {
		return s, nil
	}
	s.dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: store %q: %w", ErrStore, name, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: store %q: %w", ErrStore, name, err)
	}
	for _, de := range ents {
		start, ok := strings.CutPrefix(de.Name(), name+".")
		if !de.IsDir() || !ok {
			continue
		}
		ms, err := strconv.ParseInt(start, 10, 64)
		if err != nil || ms < 0 {
			continue
		}
		id := ms / interval
		if _, err := s.segment(id); err != nil {
			s.close()
			return nil, err
		}
		// Stream time is not stored; the newest segment's start is a lower
		// bound on it, so no live segment is dropped on reopen.
		s.observed = max(s.observed, id*interval)
	}
	s.cleanupLocked()
	return s, nil
}

// segmentID returns the segment of timestamp ts (floor division, so that
// negative timestamps, which Kafka rejects earlier, still map consistently).
func (s *segmented) segmentID(ts int64) int64 {
	id := ts / s.interval
	if ts < 0 && ts%s.interval != 0 {
		id--
	}
	return id
}

func (s *segmented) segmentDir(id int64) string {
	return filepath.Join(s.dir, s.name+"."+strconv.FormatInt(id*s.interval, 10))
}

// segment returns segment id, creating it. Caller holds mu or owns s.
func (s *segmented) segment(id int64) (*segment, error) {
	if seg, ok := s.segs[id]; ok {
		return seg, nil
	}
	var e engine
	if s.dir == "" {
		e = newMem()
	} else {
		le, err := openLevel(s.segmentDir(id))
		if err != nil {
			return nil, fmt.Errorf("store %q: %w", s.name, err)
		}
		e = le
	}
	seg := &segment{id: id, eng: e}
	s.segs[id] = seg
	return seg, nil
}

// minLive returns the oldest segment still live at the current stream time.
func (s *segmented) minLive() int64 {
	if s.observed == noTimestamp {
		return math.MinInt64
	}
	return s.segmentID(s.observed - s.retention)
}

// cleanupLocked drops segments older than minLive.
func (s *segmented) cleanupLocked() {
	min := s.minLive()
	for id, seg := range s.segs {
		if id < min {
			delete(s.segs, id)
			seg.dropped = true
			if seg.refs == 0 {
				s.destroy(seg)
			}
		}
	}
}

func (s *segmented) destroy(seg *segment) {
	if err := seg.eng.destroy(); err != nil {
		s.log.Warn("dropping expired segment", "store", s.name, "segment", seg.id, "err", err)
	}
}

// liveTime returns the oldest timestamp a read may return: Kafka's
// observedStreamTime - retention + 1.
func (s *segmented) liveFrom(from int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.observed == noTimestamp {
		return from
	}
	return max(from, s.observed-s.retention+1)
}

// write puts (value non-nil) or deletes key in the segment of ts, advancing
// stream time first. A write to an expired segment is skipped and counted.
func (s *segmented) write(key []byte, ts int64, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	s.observed = max(s.observed, ts)
	id := s.segmentID(ts)
	if id < s.minLive() {
		s.expired++
		return nil
	}
	if value == nil {
		// A delete never creates a segment.
		if seg, ok := s.segs[id]; ok {
			if err := seg.eng.delete(key); err != nil {
				return err
			}
		}
		s.cleanupLocked()
		return nil
	}
	seg, err := s.segment(id)
	if err != nil {
		return err
	}
	s.cleanupLocked()
	return seg.eng.put(key, value)
}

// restore applies records (key, segment timestamp, value) in order. Stream
// time first advances to the batch's maximum, as Kafka does, so records that
// expired within the batch are skipped.
func (s *segmented) restore(keys [][]byte, tss []int64, values [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	for _, ts := range tss {
		s.observed = max(s.observed, ts)
	}
	min := s.minLive()
	batches := map[int64][]op{}
	var order []int64
	for i, k := range keys {
		id := s.segmentID(tss[i])
		if id < min {
			s.expired++
			continue
		}
		if _, ok := batches[id]; !ok {
			order = append(order, id)
		}
		batches[id] = append(batches[id], op{key: k, value: values[i]})
	}
	for _, id := range order {
		seg, err := s.segment(id)
		if err != nil {
			return err
		}
		if err := seg.eng.write(batches[id]); err != nil {
			return err
		}
	}
	s.cleanupLocked()
	return nil
}

// get reads key from the segment of ts; expired timestamps read as absent.
func (s *segmented) get(key []byte, ts int64) ([]byte, error) {
	seg, err := s.acquireOne(ts)
	if seg == nil || err != nil {
		return nil, err
	}
	defer s.release(seg)
	return seg.eng.get(key)
}

func (s *segmented) acquireOne(ts int64) (*segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	if s.observed != noTimestamp && ts < s.observed-s.retention+1 {
		return nil, nil
	}
	seg, ok := s.segs[s.segmentID(ts)]
	if !ok {
		return nil, nil
	}
	seg.refs++
	return seg, nil
}

// acquire returns the segments in [fromID, toID], ordered, each with a
// reference taken.
func (s *segmented) acquire(fromID, toID int64, reverse bool) ([]*segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	var out []*segment
	for id, seg := range s.segs {
		if id >= fromID && id <= toID {
			seg.refs++
			out = append(out, seg)
		}
	}
	slices.SortFunc(out, func(a, b *segment) int {
		if reverse {
			return int(sign(b.id - a.id))
		}
		return int(sign(a.id - b.id))
	})
	return out, nil
}

func sign(x int64) int64 {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func (s *segmented) release(seg *segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg.refs--
	if seg.refs == 0 && seg.dropped {
		s.destroy(seg)
	}
}

// scan iterates segments fromID..toID and, within each, the engine keys in
// [lo, hiIncl] (nil bounds open), handing each entry to decode, which
// converts it or skips it.
func scan[K any](s *segmented, fromID, toID int64, lo, hiIncl []byte, reverse bool, decode func(k []byte) (K, bool)) Iterator[K, []byte] {
	segs, err := s.acquire(fromID, toID, reverse)
	if err != nil {
		return errIter[K, []byte](err)
	}
	hi := inclusiveLimit(hiIncl)
	var cur rawIter
	step := func() (K, []byte, bool, error) {
		var zero K
		for {
			if cur == nil {
				if len(segs) == 0 {
					return zero, nil, false, nil
				}
				cur = segs[0].eng.iter(lo, hi, reverse)
			}
			for cur.next() {
				if k, ok := decode(cur.key()); ok {
					return k, cur.value(), true, nil
				}
			}
			err := cur.err()
			cur.close()
			cur = nil
			s.release(segs[0])
			segs = segs[1:]
			if err != nil {
				return zero, nil, false, err
			}
		}
	}
	closer := func() {
		if cur != nil {
			cur.close()
			cur = nil
		}
		for _, seg := range segs {
			s.release(seg)
		}
		segs = nil
	}
	return newFuncIter(step, closer)
}

// segmentIDs returns the ids of the live segments, ascending.
func (s *segmented) segmentIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for id := range s.segs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *segmented) expiredCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}

func (s *segmented) flush() error {
	s.mu.Lock()
	segs := make([]*segment, 0, len(s.segs))
	for _, seg := range s.segs {
		seg.refs++
		segs = append(segs, seg)
	}
	closed := s.closed
	s.mu.Unlock()
	var err error
	for _, seg := range segs {
		if ferr := seg.eng.flush(); ferr != nil && err == nil {
			err = ferr
		}
		s.release(seg)
	}
	if closed {
		return fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	return err
}

func (s *segmented) close() error {
	if err := s.flush(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	for id, seg := range s.segs {
		if cerr := seg.eng.close(); cerr != nil && err == nil {
			err = cerr
		}
		delete(s.segs, id)
	}
	return err
}

// upperBound returns an inclusive upper bound on the store keys of every
// key k <= keyTo with a suffix of suffixLen bytes no larger than maxSuffix.
// keyTo‖0xff… is not enough: a shorter key that is a prefix of keyTo is
// followed by timestamp bytes, which may sort above keyTo's next byte.
func upperBound(keyTo []byte, maxSuffix []byte) []byte {
	best := append(bytes.Clone(keyTo), bytes.Repeat([]byte{0xff}, len(maxSuffix))...)
	for m := 0; m < len(keyTo); m++ {
		cand := append(bytes.Clone(keyTo[:m]), maxSuffix...)
		if bytes.Compare(cand, best) > 0 {
			best = cand
		}
	}
	return best
}
