package log

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// This file holds what the log keeps of transactions (KIP-98): the
// ongoing transactions that bound the last stable offset, and the aborted
// transaction index (.txnindex) that read_committed fetches consult.

// AbortedTxn is one entry of the aborted transaction index: a transaction
// of ProducerID that spans FirstOffset to LastOffset (the offset of its
// ABORT marker). LastStableOffset is the first offset of the earliest
// transaction still ongoing once the marker was written, or LastOffset+1
// when there was none (Kafka's definition): an
// entry whose LastStableOffset is at or past an offset shows that every
// aborted transaction starting below that offset has its entry at or
// before this one.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// Aborted transaction index files: Kafka's layout, entries of 34 bytes,
// big-endian, in the order of their markers.
const (
	txnEntrySize    = 2 + 8 + 8 + 8 + 8
	txnIndexVersion = 0
)

// encodeTxnIndex serializes entries in the .txnindex format.
func encodeTxnIndex(entries []AbortedTxn) []byte {
	buf := make([]byte, 0, len(entries)*txnEntrySize)
	for _, e := range entries {
		buf = appendTxnEntry(buf, e)
	}
	return buf
}

func appendTxnEntry(buf []byte, e AbortedTxn) []byte {
	buf = binary.BigEndian.AppendUint16(buf, txnIndexVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.ProducerID))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.FirstOffset))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.LastOffset))
	return binary.BigEndian.AppendUint64(buf, uint64(e.LastStableOffset))
}

// decodeTxnIndex parses a .txnindex file's bytes. A size that is not a
// whole number of entries, an unknown version, or an entry that cannot be
// right (negative producer ID or offsets, first offset after last
// offset, markers not in increasing order) is errCorruptIndex.
func decodeTxnIndex(data []byte) ([]AbortedTxn, error) {
	if len(data)%txnEntrySize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte entries", errCorruptIndex, len(data), txnEntrySize)
	}
	entries := make([]AbortedTxn, 0, len(data)/txnEntrySize)
	for i := 0; i < len(data); i += txnEntrySize {
		d := data[i:]
		if v := int16(binary.BigEndian.Uint16(d)); v != txnIndexVersion {
			return nil, fmt.Errorf("%w: entry %d has version %d", errCorruptIndex, i/txnEntrySize, v)
		}
		e := AbortedTxn{
			ProducerID:       int64(binary.BigEndian.Uint64(d[2:])),
			FirstOffset:      int64(binary.BigEndian.Uint64(d[10:])),
			LastOffset:       int64(binary.BigEndian.Uint64(d[18:])),
			LastStableOffset: int64(binary.BigEndian.Uint64(d[26:])),
		}
		if e.ProducerID < 0 || e.FirstOffset < 0 || e.LastOffset < e.FirstOffset || e.LastStableOffset < 0 ||
			(len(entries) > 0 && e.LastOffset <= entries[len(entries)-1].LastOffset) {
			return nil, fmt.Errorf("%w: entry %d (producer %d, offsets %d-%d, last stable offset %d) cannot be right",
				errCorruptIndex, i/txnEntrySize, e.ProducerID, e.FirstOffset, e.LastOffset, e.LastStableOffset)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// openTxn is an unstable transaction: ongoing, or ended by a marker the
// high watermark has not passed yet.
type openTxn struct {
	first int64
	pid   int64
	// marker is -1 while the transaction is ongoing, then the offset of
	// the marker that ended it.
	marker int64
}

// txnList holds the unstable transactions ordered by first offset, so
// that the first unstable offset is its first element's. As in Kafka, a
// transaction a marker ended stays unstable until the high watermark
// passes the marker (removeReplicated): until then a read_committed
// consumer could otherwise read its records while the outcome is not yet
// replicated. A list that does not keep ended transactions drops them at
// once (replays, which only need the aborted entries' last stable
// offsets). Appends start transactions at increasing offsets, so a start
// is an append at the end; an end is a binary search.
type txnList struct {
	txns []openTxn
	// keepEnded says ended transactions stay until removeReplicated.
	keepEnded bool
	ended     int // how many of txns have ended
}

// txnListOf returns the ongoing transactions of ps.
func txnListOf(ps producers, keepEnded bool) txnList {
	t := txnList{keepEnded: keepEnded}
	for pid, p := range ps {
		if p.CurrentTxnFirstOffset >= 0 {
			t.txns = append(t.txns, openTxn{first: p.CurrentTxnFirstOffset, pid: pid, marker: -1})
		}
	}
	slices.SortFunc(t.txns, func(a, b openTxn) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.pid, b.pid))
	})
	return t
}

// search returns where a transaction of pid starting at first is, or
// would be inserted.
func (t *txnList) search(first, pid int64) int {
	return sort.Search(len(t.txns), func(i int) bool {
		x := t.txns[i]
		return x.first > first || (x.first == first && x.pid >= pid)
	})
}

// firstOffset is the first offset of the earliest unstable transaction,
// -1 when there is none.
func (t *txnList) firstOffset() int64 {
	if len(t.txns) == 0 {
		return -1
	}
	return t.txns[0].first
}

// firstOngoing is the first offset of the earliest transaction no marker
// has ended, -1 when there is none.
func (t *txnList) firstOngoing() int64 {
	for _, x := range t.txns {
		if x.marker < 0 {
			return x.first
		}
	}
	return -1
}

// apply applies ev and returns the aborted transaction index entry an
// abort makes. Its last stable offset is, as in Kafka, the first offset of
// the earliest transaction still ongoing, or the marker's offset + 1.
func (t *txnList) apply(ev txnEvent) (AbortedTxn, bool) {
	i := t.search(ev.first, ev.pid)
	if ev.marker < 0 {
		t.txns = slices.Insert(t.txns, i, openTxn{first: ev.first, pid: ev.pid, marker: -1})
		return AbortedTxn{}, false
	}
	if i < len(t.txns) && t.txns[i].first == ev.first && t.txns[i].pid == ev.pid && t.txns[i].marker < 0 {
		if t.keepEnded {
			t.txns[i].marker = ev.marker
			t.ended++
		} else {
			t.txns = slices.Delete(t.txns, i, i+1)
		}
	}
	if !ev.abort {
		return AbortedTxn{}, false
	}
	lso := t.firstOngoing()
	if lso < 0 {
		lso = ev.marker + 1
	}
	return AbortedTxn{ProducerID: ev.pid, FirstOffset: ev.first, LastOffset: ev.marker, LastStableOffset: lso}, true
}

// removeReplicated drops the ended transactions whose marker lies below
// hw, and reports whether any went.
func (t *txnList) removeReplicated(hw int64) bool {
	if t.ended == 0 {
		return false
	}
	n := len(t.txns)
	t.txns = slices.DeleteFunc(t.txns, func(x openTxn) bool { return x.marker >= 0 && x.marker < hw })
	t.ended -= n - len(t.txns)
	return len(t.txns) != n
}

// FirstUnstableOffset returns the first offset of the earliest unstable
// transaction (never below the log start offset), and false when there is
// none. A transaction is unstable while it is ongoing and, once its marker
// is written, until the high watermark (SetHighWatermark) passes the
// marker, as in Kafka. The last stable offset is the smaller of it and
// the high watermark. It is cheap: one atomic load and a read lock.
func (l *Log) FirstUnstableOffset() (int64, bool) {
	f := l.firstUnstable.Load()
	if f < 0 {
		return -1, false
	}
	return max(f, l.LogStartOffset()), true
}

// applyTxnEvents moves the unstable transactions past an append's events
// and returns the aborted transaction index entries they make; the caller
// holds appendMu.
func (l *Log) applyTxnEvents(events []txnEvent) []AbortedTxn {
	if len(events) == 0 {
		return nil
	}
	var aborted []AbortedTxn
	l.txnMu.Lock()
	defer l.txnMu.Unlock()
	for _, ev := range events {
		if a, ok := l.txns.apply(ev); ok {
			aborted = append(aborted, a)
		}
	}
	l.firstUnstable.Store(l.txns.firstOffset())
	return aborted
}

// resetTxns rebuilds the unstable transactions from the producer state
// (which knows only the ongoing ones); the caller holds appendMu (or owns
// the log).
func (l *Log) resetTxns() {
	l.txnMu.Lock()
	defer l.txnMu.Unlock()
	l.txns = txnListOf(l.producers, true)
	l.firstUnstable.Store(l.txns.firstOffset())
}

// txnsReplicated drops the ended transactions whose marker is below hw.
func (l *Log) txnsReplicated(hw int64) {
	l.txnMu.Lock()
	defer l.txnMu.Unlock()
	if l.txns.removeReplicated(hw) {
		l.firstUnstable.Store(l.txns.firstOffset())
	}
}

// AbortedTransactions returns the aborted transactions that overlap
// [fetchOffset, upperBound): those whose LastOffset >= fetchOffset and
// FirstOffset < upperBound, in the order of their markers (empty, not
// nil, for none). A read_committed fetch returns them with its data, so that the consumer
// drops the aborted batches (Kafka's FetchResponse abortedTransactions).
//
// As Kafka does, it scans the .txnindex entries from the segment holding
// fetchOffset forward (a transaction aborted in an earlier segment ended
// before fetchOffset) and stops at the first entry whose LastStableOffset
// reaches upperBound: every aborted transaction starting below
// upperBound has its entry by then.
func (l *Log) AbortedTransactions(fetchOffset, upperBound int64) []AbortedTxn {
	l.mu.RLock()
	segs := l.segments
	l.mu.RUnlock()
	out := []AbortedTxn{}
	if upperBound <= fetchOffset {
		return out
	}
	for _, s := range segs[floorSegment(segs, fetchOffset):] {
		if done := s.collectAborted(fetchOffset, upperBound, &out); done {
			break
		}
	}
	return out
}

// collectAborted appends the segment's entries that overlap [from,
// upper) to out, and reports whether an entry showed no later one can.
func (s *segment) collectAborted(from, upper int64, out *[]AbortedTxn) bool {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	for _, e := range s.aborted {
		if e.LastOffset >= from && e.FirstOffset < upper {
			*out = append(*out, e)
		}
		if e.LastStableOffset >= upper {
			return true
		}
	}
	return false
}

// abortedTxns returns a copy of the segment's entries.
func (s *segment) abortedTxns() []AbortedTxn {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	return slices.Clone(s.aborted)
}

// loadTxnIndex reads the segment's .txnindex file; a missing file means
// no entries. A malformed one is errCorruptIndex naming the file.
func (s *segment) loadTxnIndex() error {
	name := s.path(txnIndexExt)
	f, err := s.fs.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		s.setAbortedMem(nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: opening %s: %w", ErrStorage, name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStorage, name, err)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: reading %s: %w", ErrStorage, name, err)
	}
	entries, err := decodeTxnIndex(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.setAbortedMem(entries)
	return nil
}

func (s *segment) setAbortedMem(entries []AbortedTxn) {
	s.txnMu.Lock()
	s.aborted = entries
	s.txnMu.Unlock()
}

// txnFileLocked returns the open .txnindex file, creating it if need be;
// the caller holds txnMu.
func (s *segment) txnFileLocked() (File, error) {
	if s.txnFile != nil {
		return s.txnFile, nil
	}
	name := s.path(txnIndexExt)
	f, err := s.fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %w", ErrStorage, name, err)
	}
	s.txnFile = f
	return f, nil
}

// appendAborted adds entries (markers after every entry the segment has)
// to the segment's index, in memory and at the end of its file.
func (s *segment) appendAborted(entries []AbortedTxn) error {
	if len(entries) == 0 {
		return nil
	}
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	f, err := s.txnFileLocked()
	if err != nil {
		return err
	}
	pos := int64(len(s.aborted)) * txnEntrySize
	if _, err := f.WriteAt(encodeTxnIndex(entries), pos); err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrStorage, s.path(txnIndexExt), err)
	}
	s.aborted = append(slices.Clip(s.aborted), entries...)
	s.txnDirty = true
	return nil
}

// setAborted replaces the segment's entries and rewrites its file (removed
// when there are none).
func (s *segment) setAborted(entries []AbortedTxn) error {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	name := s.path(txnIndexExt)
	if len(entries) == 0 {
		if s.txnFile != nil {
			s.txnFile.Close()
			s.txnFile = nil
		}
		s.aborted = nil
		s.txnDirty = false
		if err := s.fs.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: removing %s: %w", ErrStorage, name, err)
		}
		return nil
	}
	f, err := s.txnFileLocked()
	if err != nil {
		return err
	}
	data := encodeTxnIndex(entries)
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrStorage, name, err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("%w: truncating %s: %w", ErrStorage, name, err)
	}
	s.aborted = slices.Clone(entries)
	s.txnDirty = true
	return nil
}

// truncateAborted drops the entries whose marker is at or after offset.
func (s *segment) truncateAborted(offset int64) error {
	entries := s.abortedTxns()
	k := sort.Search(len(entries), func(i int) bool { return entries[i].LastOffset >= offset })
	if k == len(entries) {
		return nil
	}
	return s.setAborted(entries[:k])
}

// syncTxnIndex fsyncs the .txnindex file if it changed since the last one.
func (s *segment) syncTxnIndex() error {
	s.txnMu.Lock()
	f, dirty := s.txnFile, s.txnDirty
	s.txnDirty = false
	s.txnMu.Unlock()
	if f == nil || !dirty {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrStorage, s.path(txnIndexExt), err)
	}
	return nil
}

// closeTxnIndex closes the .txnindex file if open.
func (s *segment) closeTxnIndex() error {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	if s.txnFile == nil {
		return nil
	}
	err := s.txnFile.Close()
	s.txnFile = nil
	return err
}
