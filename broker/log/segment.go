package log

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// File name parts of a segment. A segment with base offset 42 is
// 00000000000000000042.log with .index and .timeindex beside it; a suffix
// (.cleaned, .swap, .deleted) marks files that are not (or no longer) part
// of the log.
const (
	logExt       = ".log"
	indexExt     = ".index"
	timeIndexExt = ".timeindex"
	txnIndexExt  = ".txnindex"

	deletedSuffix = ".deleted"
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

// segmentExts are the per-segment files, in the order they are renamed:
// the log file last, so that a crash mid-rename leaves the log file under
// its old name (indexes can be rebuilt, log data cannot).
var segmentExts = [...]string{indexExt, timeIndexExt, txnIndexExt, logExt}

// segmentFileName is the name of a segment file: the base offset in 20
// digits, the extension and an optional suffix.
func segmentFileName(base int64, ext, suffix string) string {
	return fmt.Sprintf("%020d%s%s", base, ext, suffix)
}

// parseSegmentFileName splits "00000000000000000042.log.swap" into 42,
// ".log" and ".swap". ok is false for files that are not segment files.
func parseSegmentFileName(name string) (base int64, ext, suffix string, ok bool) {
	for _, s := range []string{deletedSuffix, cleanedSuffix, swapSuffix} {
		if strings.HasSuffix(name, s) {
			suffix, name = s, strings.TrimSuffix(name, s)
			break
		}
	}
	dot := strings.IndexByte(name, '.')
	if dot != 20 {
		return 0, "", "", false
	}
	ext = name[dot:]
	switch ext {
	case logExt, indexExt, timeIndexExt, txnIndexExt:
	default:
		return 0, "", "", false
	}
	base, err := parseNonNegative(name[:dot], 64)
	if err != nil {
		return 0, "", "", false
	}
	return base, ext, suffix, true
}

// segment is one log segment: a file of whole batches starting at base
// offset base, with its offset and time indexes.
//
// Readers use size (an atomic: the bytes of whole, fully written batches),
// the indexes and the timestamp fields under mu. Everything else is owned by
// whoever holds the Log's append lock.
type segment struct {
	fs     FS
	dir    string
	base   int64
	suffix atomic.Value // string: "", .cleaned, .swap or .deleted; changed by renameSuffix

	log     File
	size    atomic.Int64
	offIdx  *index
	timeIdx *index

	// Lazy opening of a closed segment's indexes.
	initMu  sync.Mutex
	indexed atomic.Bool

	mu          sync.Mutex
	tsKnown     bool
	maxTs       int64 // largest batch maxTimestamp, -1 when none
	maxTsOffset int64 // last offset of the first batch that reached maxTs

	// The aborted transaction index: every entry in memory (aborts are
	// rare), the file open once written to. Guarded by txnMu; changed by
	// the holder of the Log's append lock (or the cleaner building a new
	// segment).
	txnMu    sync.Mutex
	aborted  []AbortedTxn
	txnFile  File
	txnDirty bool // written since the last fsync

	// Appender state (Log append lock).
	next            int64 // offset after the last batch; exact for the active segment
	bytesSinceIndex int64
	hasFirstTs      bool
	firstTs         int64 // first batch's max timestamp (Kafka's rollingBasedTimestamp)
	created         time.Time
	jitterMs        int64
	interval        int64
	maxOffEntries   int
	maxTimeEntries  int
}

func newSegment(fs FS, dir string, base int64, suffix string, cfg *Config) *segment {
	s := &segment{fs: fs, dir: dir, base: base, next: base, maxTs: -1, maxTsOffset: base}
	s.suffix.Store(suffix)
	s.offIdx = newIndex(fs, s.path(indexExt), base, offsetEntrySize)
	s.timeIdx = newIndex(fs, s.path(timeIndexExt), base, timeEntrySize)
	s.interval = int64(cfg.IndexIntervalBytes)
	s.maxOffEntries = cfg.offsetIndexEntries()
	s.maxTimeEntries = cfg.timeIndexEntries()
	if j := min(cfg.SegmentJitterMs, cfg.SegmentMs); j > 0 {
		s.jitterMs = rand.Int64N(j)
	}
	return s
}

func (s *segment) path(ext string) string {
	return filepath.Join(s.dir, segmentFileName(s.base, ext, s.suffix.Load().(string)))
}

// createSegment creates an empty segment (replacing stale files of the same
// name) whose indexes are resident.
func createSegment(fs FS, dir string, base int64, suffix string, cfg *Config, now time.Time) (*segment, error) {
	s := newSegment(fs, dir, base, suffix, cfg)
	f, err := fs.OpenFile(s.path(logExt), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: creating segment %d: %w", ErrStorage, base, err)
	}
	s.log = f
	if cfg.Preallocate {
		if err := f.Truncate(cfg.SegmentBytes); err != nil {
			s.close()
			return nil, fmt.Errorf("%w: preallocating segment %d: %w", ErrStorage, base, err)
		}
	}
	if err := s.offIdx.create(); err != nil {
		s.close()
		return nil, fmt.Errorf("%w: creating segment %d: %w", ErrStorage, base, err)
	}
	if err := s.timeIdx.create(); err != nil {
		s.close()
		return nil, fmt.Errorf("%w: creating segment %d: %w", ErrStorage, base, err)
	}
	s.indexed.Store(true)
	s.tsKnown = true
	s.created = now
	return s, nil
}

// openSegment opens an existing segment's log file. Its indexes open
// lazily (ensureIndexes) or through recover / loadActive.
func openSegment(fs FS, dir string, base int64, suffix string, cfg *Config) (*segment, error) {
	s := newSegment(fs, dir, base, suffix, cfg)
	f, err := fs.OpenFile(s.path(logExt), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: opening segment %d: %w", ErrStorage, base, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: opening segment %d: %w", ErrStorage, base, err)
	}
	s.log = f
	s.size.Store(fi.Size())
	s.created = time.Now()
	return s, nil
}

// ensureIndexes opens a closed segment's indexes on first use. An index that
// fails its sanity check is rebuilt from the log file.
func (s *segment) ensureIndexes() error {
	if s.indexed.Load() {
		return nil
	}
	s.initMu.Lock()
	defer s.initMu.Unlock()
	if s.indexed.Load() {
		return nil
	}
	err := s.openIndexes(false)
	if errors.Is(err, errCorruptIndex) {
		s.offIdx.close()
		s.timeIdx.close()
		_, _, err = s.rebuild(nil)
		if err == nil {
			err = s.finishRebuild(false)
		}
	}
	if err != nil {
		return err
	}
	s.indexed.Store(true)
	return nil
}

// openIndexes opens both index files and checks them against the log file:
// whole entries, the last offset entry inside the log, timestamps known.
func (s *segment) openIndexes(resident bool) error {
	if err := s.offIdx.open(resident); err != nil {
		return err
	}
	if err := s.timeIdx.open(resident); err != nil {
		return err
	}
	if _, pos, ok, err := s.offIdx.lastOffsetEntry(); err != nil {
		return err
	} else if ok && pos >= s.size.Load() {
		return fmt.Errorf("%w: %s points at position %d past the %d-byte log", errCorruptIndex, s.offIdx.path(), pos, s.size.Load())
	}
	ts, off, err := s.timeIdx.lastTimeEntry()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if !s.tsKnown {
		s.maxTs, s.maxTsOffset, s.tsKnown = ts, off, true
	}
	s.mu.Unlock()
	return nil
}

// maxTimestamp returns the largest timestamp in the segment and the last
// offset of the batch holding it (-1, base when none).
func (s *segment) maxTimestamp() (ts, offset int64, err error) {
	if err := s.ensureIndexes(); err != nil {
		return -1, s.base, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxTs, s.maxTsOffset, nil
}

// resetAppendState forgets what the appender knows about the contents.
func (s *segment) resetAppendState() {
	s.mu.Lock()
	s.maxTs, s.maxTsOffset, s.tsKnown = -1, s.base, true
	s.mu.Unlock()
	s.next = s.base
	s.bytesSinceIndex = 0
	s.hasFirstTs = false
}

// account updates the indexes and timestamp state for batch b (of size
// bytes, header at least) written at pos: an offset index entry (the
// batch's last offset and its position) once more than index.interval.bytes
// passed since the previous one, and a time index entry when the largest
// timestamp grew, as Kafka does.
func (s *segment) account(b record.Batch, size, pos int64) {
	s.mu.Lock()
	if ts := b.MaxTimestamp(); ts > s.maxTs {
		s.maxTs, s.maxTsOffset = ts, b.LastOffset()
	}
	maxTs, maxTsOffset := s.maxTs, s.maxTsOffset
	s.mu.Unlock()
	if !s.hasFirstTs {
		s.hasFirstTs, s.firstTs = true, b.MaxTimestamp()
	}
	if s.bytesSinceIndex > s.interval {
		if s.offIdx.entries() < s.maxOffEntries {
			s.offIdx.add(offsetEntry(s.base, b.LastOffset(), pos))
		}
		s.maybeAddTime(maxTs, maxTsOffset, false)
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += size
	s.next = b.NextOffset()
}

// maybeAddTime appends a time index entry when ts is larger than the last
// one (and the index has room, unless force).
func (s *segment) maybeAddTime(ts, offset int64, force bool) {
	last, lastOff, _ := s.timeIdx.lastTimeEntry() // resident: cannot fail
	if ts <= last || offset < lastOff || (!force && s.timeIdx.entries() >= s.maxTimeEntries) {
		return
	}
	s.timeIdx.add(timeEntry(s.base, ts, offset))
}

// indexFull reports whether either index reached segment.index.bytes.
func (s *segment) indexFull() bool {
	return s.offIdx.entries() >= s.maxOffEntries || s.timeIdx.entries() >= s.maxTimeEntries
}

// persistIndexes writes pending index entries, all of them when force, or
// once enough accumulated.
func (s *segment) persistIndexes(force bool) error {
	for _, x := range []*index{s.offIdx, s.timeIdx} {
		if force || x.pending() >= persistEvery {
			if err := x.persist(); err != nil {
				return err
			}
		}
	}
	return nil
}

// rebuild re-reads every batch of the log file from the start, checking
// each (whole, ValidateHeader, offsets increasing and representable
// relative to base), and rebuilds both indexes and the timestamp state in
// memory. It stops at the first bad batch and returns that position
// (valid) and the file's size. onBatch, when set, sees each good batch.
// Memory use is bounded by the largest batch, itself bounded by the file.
func (s *segment) rebuild(onBatch func(record.Batch)) (valid, size int64, err error) {
	fi, err := s.log.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %w", ErrStorage, s.path(logExt), err)
	}
	size = fi.Size()
	if err := s.offIdx.create(); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	if err := s.timeIdx.create(); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	s.resetAppendState()
	br := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, size), 64<<10)
	var buf []byte
	for valid < size {
		prefix, err := br.Peek(record.LogOverhead)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break // torn: not even a length field
			}
			return 0, 0, fmt.Errorf("%w: reading %s: %w", ErrStorage, s.path(logExt), err)
		}
		length := int64(int32(binary.BigEndian.Uint32(prefix[8:])))
		n := length + record.LogOverhead
		if length < record.HeaderSize-record.LogOverhead || n > size-valid {
			break // impossible length, or the batch runs past the end (torn)
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return 0, 0, fmt.Errorf("%w: reading %s: %w", ErrStorage, s.path(logExt), err)
		}
		b := record.Batch(buf[:n])
		if b.ValidateHeader() != nil || b.BaseOffset() < s.next || b.LastOffset()-s.base > math.MaxInt32 {
			break
		}
		s.account(b, n, valid)
		if onBatch != nil {
			onBatch(b)
		}
		valid += n
	}
	return valid, size, nil
}

// finishRebuild makes the rebuilt state durable: the final time index entry
// (Kafka appends the segment's largest timestamp when a segment is closed
// or recovered), the index files, and for an inactive segment the
// in-memory entries dropped again.
func (s *segment) finishRebuild(active bool) error {
	s.mu.Lock()
	ts, off := s.maxTs, s.maxTsOffset
	s.mu.Unlock()
	s.maybeAddTime(ts, off, true)
	if !active {
		if err := s.offIdx.deactivate(); err != nil {
			return err
		}
		return s.timeIdx.deactivate()
	}
	return s.persistIndexes(true)
}

// recover rebuilds the segment from its log file and cuts the file after
// the last valid batch. It returns how many bytes were cut.
func (s *segment) recover(active bool, onBatch func(record.Batch)) (truncated int64, err error) {
	valid, size, err := s.rebuild(onBatch)
	if err != nil {
		return 0, err
	}
	if valid < size {
		if err := s.log.Truncate(valid); err != nil {
			return 0, fmt.Errorf("%w: truncating %s: %w", ErrStorage, s.path(logExt), err)
		}
	}
	s.size.Store(valid)
	if err := s.finishRebuild(active); err != nil {
		return 0, err
	}
	s.indexed.Store(true)
	return size - valid, nil
}

// loadActive prepares a segment trusted after a clean shutdown to take
// appends: resident indexes that pass their sanity check and the next
// offset, found by walking the batch headers after the last offset index
// entry. ok is false when something does not add up; the caller then
// recovers the segment.
func (s *segment) loadActive() (ok bool, err error) {
	if err := s.openIndexes(true); err != nil {
		if errors.Is(err, errCorruptIndex) {
			return false, nil
		}
		return false, err
	}
	s.indexed.Store(true)
	_, pos, _, err := s.offIdx.lastOffsetEntry()
	if err != nil {
		return false, err
	}
	s.next = s.base
	limit := s.size.Load()
	var hdr [record.HeaderSize]byte
	first := true
	for pos < limit {
		b, err := s.header(pos, limit, &hdr)
		if err != nil {
			if errors.Is(err, ErrCorruptLog) {
				return false, nil
			}
			return false, err
		}
		if b.BaseOffset() < s.next && !first {
			return false, nil
		}
		first = false
		s.next = b.NextOffset()
		s.bytesSinceIndex += int64(b.Size())
		pos += int64(b.Size())
	}
	if limit > 0 {
		b, err := s.header(0, limit, &hdr)
		if err != nil {
			return false, nil
		}
		s.hasFirstTs, s.firstTs = true, b.MaxTimestamp()
	}
	return true, nil
}

// header reads the header of the batch at pos, which must lie wholly below
// limit. A header that cannot be right is ErrCorruptLog.
func (s *segment) header(pos, limit int64, hdr *[record.HeaderSize]byte) (record.Batch, error) {
	if limit-pos < record.HeaderSize {
		return nil, fmt.Errorf("%w: %s: %d bytes at position %d cannot hold a batch", ErrCorruptLog, s.path(logExt), limit-pos, pos)
	}
	if _, err := s.log.ReadAt(hdr[:], pos); err != nil {
		return nil, fmt.Errorf("%w: reading %s at %d: %w", ErrStorage, s.path(logExt), pos, err)
	}
	b := record.Batch(hdr[:])
	if n := int64(b.Length()) + record.LogOverhead; n < record.HeaderSize || n > limit-pos {
		return nil, fmt.Errorf("%w: %s: batch at position %d claims %d bytes, %d remain", ErrCorruptLog, s.path(logExt), pos, n, limit-pos)
	}
	return b, nil
}

// find returns the position and header of the first batch whose last
// offset is >= offset, searching below limit from the offset index's
// position for it; pos is -1 when there is none.
func (s *segment) find(offset, limit int64, hdr *[record.HeaderSize]byte) (pos int64, b record.Batch, err error) {
	if err := s.ensureIndexes(); err != nil {
		return -1, nil, err
	}
	_, pos, err = s.offIdx.lookupOffset(offset)
	if err != nil {
		return -1, nil, err
	}
	for pos < limit {
		b, err := s.header(pos, limit, hdr)
		if err != nil {
			return -1, nil, err
		}
		if b.LastOffset() >= offset {
			return pos, b, nil
		}
		pos += int64(b.Size())
	}
	return -1, nil, nil
}

// read returns whole batches from the one holding offset: at most maxBytes
// (at least the first batch when minOne), none with a base offset >=
// maxOffset. found is false when the segment has no batch at or after
// offset, so the caller continues in the next segment.
func (s *segment) read(offset int64, maxBytes int, maxOffset int64, minOne bool) (res ReadResult, found bool, err error) {
	limit := s.size.Load()
	var hdr [record.HeaderSize]byte
	empty := ReadResult{FirstOffset: -1, NextOffset: -1}
	pos, b, err := s.find(offset, limit, &hdr)
	if err != nil || pos < 0 {
		return empty, false, err
	}
	first, next := b.BaseOffset(), b.NextOffset()
	if first >= maxOffset {
		return empty, true, nil
	}
	total := int64(b.Size())
	if total > int64(maxBytes) && !minOne {
		return empty, true, nil
	}
	for p := pos + total; p < limit; {
		b, err := s.header(p, limit, &hdr)
		if err != nil {
			return empty, true, err
		}
		n := int64(b.Size())
		if b.BaseOffset() >= maxOffset || total+n > int64(maxBytes) {
			break
		}
		total += n
		p += n
		next = b.NextOffset()
	}
	return ReadResult{File: s.log, Position: pos, Size: int(total), FirstOffset: first, NextOffset: next}, true, nil
}

// truncateTo removes the batches holding offsets >= offset from the active
// segment (a batch straddling offset goes whole), then recomputes the
// timestamp state from what remains.
func (s *segment) truncateTo(offset int64, now time.Time) error {
	if err := s.ensureIndexes(); err != nil {
		return err
	}
	if err := s.offIdx.activate(); err != nil {
		return err
	}
	if err := s.timeIdx.activate(); err != nil {
		return err
	}
	limit := s.size.Load()
	var hdr [record.HeaderSize]byte
	pos, _, err := s.find(offset, limit, &hdr)
	if err != nil {
		return err
	}
	if pos < 0 {
		pos = limit
	}
	// Drop index entries for offsets >= offset: they index the removed batches.
	v := s.offIdx.view()
	k, _, err := v.search(func(e []byte) bool { return s.offIdx.entryOffset(e) < offset })
	if err != nil {
		return err
	}
	if err := s.offIdx.truncate(k + 1); err != nil {
		return err
	}
	tv := s.timeIdx.view()
	k, _, err = tv.search(func(e []byte) bool { return s.timeIdx.timeEntryOffset(e) < offset })
	if err != nil {
		return err
	}
	if err := s.timeIdx.truncate(k + 1); err != nil {
		return err
	}
	if pos < limit {
		if err := s.log.Truncate(pos); err != nil {
			return fmt.Errorf("%w: truncating %s: %w", ErrStorage, s.path(logExt), err)
		}
		s.size.Store(pos)
	}
	// Recompute the largest timestamp: the last time index entry, then the
	// batches from its offset on.
	ts, tsOff, _ := s.timeIdx.lastTimeEntry()
	_, from, _ := s.offIdx.lookupOffset(tsOff)
	s.mu.Lock()
	s.maxTs, s.maxTsOffset = ts, tsOff
	s.mu.Unlock()
	s.bytesSinceIndex = 0
	s.next = s.base
	for p := from; p < pos; {
		b, err := s.header(p, pos, &hdr)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if b.MaxTimestamp() > s.maxTs {
			s.maxTs, s.maxTsOffset = b.MaxTimestamp(), b.LastOffset()
		}
		s.mu.Unlock()
		s.next = b.NextOffset()
		p += int64(b.Size())
	}
	if pos == 0 {
		s.hasFirstTs = false
		s.created = now
	} else if !s.hasFirstTs {
		b, err := s.header(0, pos, &hdr)
		if err != nil {
			return err
		}
		s.hasFirstTs, s.firstTs = true, b.MaxTimestamp()
	}
	return s.persistIndexes(true)
}

// rollDue reports whether an append of size bytes, with largest timestamp
// maxTs and last offset lastOffset, must go to a new segment: the segment
// would pass segment.bytes, is older than segment.ms (minus its jitter), an
// index is full, or lastOffset is too far from base for the indexes'
// 32-bit relative offsets.
func (s *segment) rollDue(cfg *Config, size int64, maxTs, lastOffset int64, now time.Time) bool {
	cur := s.size.Load()
	if cur == 0 {
		return false
	}
	var waited int64
	if s.hasFirstTs && s.firstTs >= 0 {
		waited = maxTs - s.firstTs
	} else {
		waited = now.Sub(s.created).Milliseconds()
	}
	return cur > cfg.SegmentBytes-size ||
		waited > cfg.SegmentMs-s.jitterMs ||
		s.indexFull() ||
		lastOffset-s.base > math.MaxInt32
}

// sync makes the log file and indexes durable.
func (s *segment) sync() error {
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrStorage, s.path(logExt), err)
	}
	if err := s.offIdx.sync(); err != nil {
		return err
	}
	if err := s.timeIdx.sync(); err != nil {
		return err
	}
	return s.syncTxnIndex()
}

// close closes the segment's files.
func (s *segment) close() error {
	var err error
	if s.log != nil {
		err = s.log.Close()
	}
	if e := s.offIdx.close(); err == nil {
		err = e
	}
	if e := s.timeIdx.close(); err == nil {
		err = e
	}
	if e := s.closeTxnIndex(); err == nil {
		err = e
	}
	return err
}

// renameSuffix renames every file of the segment to carry suffix instead of
// its current one. Open files stay usable, so reads in progress continue.
func (s *segment) renameSuffix(suffix string) error {
	for _, ext := range segmentExts {
		from := s.path(ext)
		to := filepath.Join(s.dir, segmentFileName(s.base, ext, suffix))
		switch ext {
		case indexExt:
			if err := s.offIdx.rename(to); err != nil {
				return err
			}
		case timeIndexExt:
			if err := s.timeIdx.rename(to); err != nil {
				return err
			}
		default:
			if err := s.fs.Rename(from, to); err != nil && !(ext == txnIndexExt && errors.Is(err, os.ErrNotExist)) {
				return err
			}
		}
	}
	s.suffix.Store(suffix)
	return nil
}

// removeFiles closes and removes the segment's files.
func (s *segment) removeFiles() error {
	err := s.close()
	for _, ext := range segmentExts {
		if e := s.fs.Remove(s.path(ext)); e != nil && !errors.Is(e, os.ErrNotExist) && err == nil {
			err = e
		}
	}
	return err
}

// String names the segment in messages.
func (s *segment) String() string { return strconv.FormatInt(s.base, 10) }
