package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// Index entry sizes, as in Kafka's .index and .timeindex files.
const (
	offsetEntrySize = 8  // relative offset (4), position (4)
	timeEntrySize   = 12 // timestamp (8), relative offset (4)

	// persistEvery is how many pending entries an active index buffers
	// before writing them to its file. Flush, Roll and Close write the
	// rest.
	persistEvery = 256
)

// errCorruptIndex marks an index file that fails its sanity check; the
// segment rebuilds the index from its log file.
var errCorruptIndex = errors.New("log: corrupt index")

// index is one sparse index file of a segment (offset or time index) in
// Kafka's format. While its segment is active the index is resident: every
// entry is in buf and new entries reach the file in batches (persist). A
// closed segment's index is not resident: lookups read entries from the
// file with ReadAt, a binary search of O(log n) small reads.
//
// Writers (append, persist, truncate, activate, deactivate) are serialized
// by the Log's append lock; mu protects what lookups read and is never held
// across I/O. buf is never modified below its published length: truncation
// replaces it, so a lookup can keep using a slice it captured.
type index struct {
	fs        FS
	name      atomic.Value // string: the file's path, changed by rename
	base      int64
	entrySize int

	mu        sync.RWMutex
	file      File
	buf       []byte // resident entries, len == n*entrySize; nil when not resident
	resident  bool
	n         int // entries
	persisted int // entries in the file
}

func newIndex(fs FS, path string, base int64, entrySize int) *index {
	x := &index{fs: fs, base: base, entrySize: entrySize}
	x.name.Store(path)
	return x
}

// path is the index file's current path.
func (x *index) path() string { return x.name.Load().(string) }

// create starts an empty resident index, replacing any file at path.
func (x *index) create() error {
	f, err := x.fs.OpenFile(x.path(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.file, x.buf, x.resident, x.n, x.persisted = f, []byte{}, true, 0, 0
	x.mu.Unlock()
	return nil
}

// open opens the existing file and checks its size, loading the entries
// when resident. A missing file or a size that is not a whole number of
// entries is errCorruptIndex.
func (x *index) open(resident bool) error {
	f, err := x.fs.OpenFile(x.path(), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s is missing", errCorruptIndex, x.path())
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	size := fi.Size()
	if size%int64(x.entrySize) != 0 {
		f.Close()
		return fmt.Errorf("%w: %s is %d bytes, not a multiple of %d", errCorruptIndex, x.path(), size, x.entrySize)
	}
	var buf []byte
	if resident {
		buf = make([]byte, size)
		if _, err := f.ReadAt(buf, 0); err != nil && !(err == io.EOF && size == 0) {
			f.Close()
			return err
		}
	}
	n := int(size / int64(x.entrySize))
	x.mu.Lock()
	x.file, x.buf, x.resident, x.n, x.persisted = f, buf, resident, n, n
	x.mu.Unlock()
	return nil
}

// isOpen reports whether the file has been opened.
func (x *index) isOpen() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.file != nil
}

// entries returns the number of entries.
func (x *index) entries() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// view is a consistent snapshot for lookups.
type indexView struct {
	x    *index
	file File
	buf  []byte
	n    int
}

func (x *index) view() indexView {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v := indexView{x: x, file: x.file, n: x.n}
	if x.resident {
		v.buf = x.buf[:x.n*x.entrySize]
	}
	return v
}

// entry returns entry i, reading it from the file when not resident.
func (v indexView) entry(i int, scratch []byte) ([]byte, error) {
	es := v.x.entrySize
	if v.buf != nil {
		return v.buf[i*es : (i+1)*es], nil
	}
	if v.file == nil {
		return nil, fmt.Errorf("%w: %s is not open", ErrCorruptLog, v.x.path())
	}
	if _, err := v.file.ReadAt(scratch[:es], int64(i*es)); err != nil {
		return nil, fmt.Errorf("%w: reading %s entry %d: %w", ErrStorage, v.x.path(), i, err)
	}
	return scratch[:es], nil
}

// search returns the largest i < n for which below(entry i) holds, or -1;
// below must hold for a prefix of the entries.
func (v indexView) search(below func(e []byte) bool) (int, []byte, error) {
	var scratch [timeEntrySize]byte
	lo, hi := 0, v.n // invariant: entries < lo satisfy below, entries >= hi do not
	var err error
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		e, eerr := v.entry(mid, scratch[:])
		if eerr != nil {
			err = eerr
			break
		}
		if below(e) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if err != nil {
		return -1, nil, err
	}
	if lo == 0 {
		return -1, nil, nil
	}
	e, err := v.entry(lo-1, scratch[:])
	if err != nil {
		return -1, nil, err
	}
	return lo - 1, slices.Clone(e), nil
}

// last returns the last entry, or nil when the index is empty.
func (v indexView) last() ([]byte, error) {
	if v.n == 0 {
		return nil, nil
	}
	var scratch [timeEntrySize]byte
	e, err := v.entry(v.n-1, scratch[:])
	if err != nil {
		return nil, err
	}
	return slices.Clone(e), nil
}

// add appends one raw entry to a resident index.
func (x *index) add(e []byte) {
	x.mu.Lock()
	x.buf = append(x.buf, e...)
	x.n++
	x.mu.Unlock()
}

// pending reports how many entries have not reached the file.
func (x *index) pending() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n - x.persisted
}

// persist writes the pending entries of a resident index to its file.
func (x *index) persist() error {
	x.mu.RLock()
	from, to, f := x.persisted, x.n, x.file
	var data []byte
	if x.resident {
		data = x.buf[from*x.entrySize : to*x.entrySize]
	}
	x.mu.RUnlock()
	if from == to || data == nil {
		return nil
	}
	if _, err := f.WriteAt(data, int64(from*x.entrySize)); err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrStorage, x.path(), err)
	}
	x.mu.Lock()
	x.persisted = to
	x.mu.Unlock()
	return nil
}

// truncate keeps the first k entries, in memory and in the file.
func (x *index) truncate(k int) error {
	x.mu.Lock()
	if k >= x.n {
		x.mu.Unlock()
		return nil
	}
	x.n = k
	if x.resident {
		x.buf = slices.Clone(x.buf[:k*x.entrySize])
	}
	cut := x.persisted > k
	if cut {
		x.persisted = k
	}
	f := x.file
	x.mu.Unlock()
	if cut && f != nil {
		if err := f.Truncate(int64(k * x.entrySize)); err != nil {
			return fmt.Errorf("%w: truncating %s: %w", ErrStorage, x.path(), err)
		}
	}
	return nil
}

// activate loads a non-resident index into memory so it can take appends
// (a closed segment became active again after truncation).
func (x *index) activate() error {
	x.mu.RLock()
	resident, f, n := x.resident, x.file, x.n
	x.mu.RUnlock()
	if resident {
		return nil
	}
	if f == nil {
		return x.open(true)
	}
	buf := make([]byte, n*x.entrySize)
	if _, err := f.ReadAt(buf, 0); err != nil && !(err == io.EOF && n == 0) {
		return fmt.Errorf("%w: reading %s: %w", ErrStorage, x.path(), err)
	}
	x.mu.Lock()
	x.buf, x.resident = buf, true
	x.mu.Unlock()
	return nil
}

// deactivate writes pending entries and drops the in-memory copy.
func (x *index) deactivate() error {
	if err := x.persist(); err != nil {
		return err
	}
	x.mu.Lock()
	x.buf, x.resident = nil, false
	x.mu.Unlock()
	return nil
}

func (x *index) sync() error {
	x.mu.RLock()
	f := x.file
	x.mu.RUnlock()
	if f == nil {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrStorage, x.path(), err)
	}
	return nil
}

// close closes the file (entries stay countable but not readable).
func (x *index) close() error {
	x.mu.Lock()
	f := x.file
	x.file, x.buf, x.resident = nil, nil, false
	x.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Close()
}

// rename moves the file to path; an open file stays usable.
func (x *index) rename(path string) error {
	if err := x.fs.Rename(x.path(), path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	x.name.Store(path)
	return nil
}

// Offset index entries: the offset relative to the segment's base offset
// and the byte position of the batch in the log file.

func offsetEntry(base, offset, pos int64) []byte {
	var e [offsetEntrySize]byte
	binary.BigEndian.PutUint32(e[0:], uint32(offset-base))
	binary.BigEndian.PutUint32(e[4:], uint32(pos))
	return e[:]
}

func (x *index) entryOffset(e []byte) int64 { return x.base + int64(binary.BigEndian.Uint32(e[0:])) }
func entryPosition(e []byte) int64          { return int64(binary.BigEndian.Uint32(e[4:])) }

// Time index entries: a timestamp and the relative offset of the batch
// holding it.

func timeEntry(base, ts, offset int64) []byte {
	var e [timeEntrySize]byte
	binary.BigEndian.PutUint64(e[0:], uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(offset-base))
	return e[:]
}

func entryTimestamp(e []byte) int64 { return int64(binary.BigEndian.Uint64(e[0:])) }
func (x *index) timeEntryOffset(e []byte) int64 {
	return x.base + int64(binary.BigEndian.Uint32(e[8:]))
}

// lookupOffset returns the offset and position of the last entry whose
// offset is <= target, or (base, 0) when there is none.
func (x *index) lookupOffset(target int64) (offset, pos int64, err error) {
	v := x.view()
	_, e, err := v.search(func(e []byte) bool { return x.entryOffset(e) <= target })
	if err != nil || e == nil {
		return x.base, 0, err
	}
	return x.entryOffset(e), entryPosition(e), nil
}

// lookupTimeBefore returns the offset of the last entry whose timestamp is
// < ts; found is false when there is none.
func (x *index) lookupTimeBefore(ts int64) (offset int64, found bool, err error) {
	v := x.view()
	_, e, err := v.search(func(e []byte) bool { return entryTimestamp(e) < ts })
	if err != nil || e == nil {
		return x.base, false, err
	}
	return x.timeEntryOffset(e), true, nil
}

// lastOffsetEntry returns the last offset index entry.
func (x *index) lastOffsetEntry() (offset, pos int64, ok bool, err error) {
	e, err := x.view().last()
	if err != nil || e == nil {
		return x.base, 0, false, err
	}
	return x.entryOffset(e), entryPosition(e), true, nil
}

// lastTimeEntry returns the last time index entry, or (-1, base) when the
// index is empty (Kafka's "no timestamp").
func (x *index) lastTimeEntry() (ts, offset int64, err error) {
	e, err := x.view().last()
	if err != nil || e == nil {
		return -1, x.base, err
	}
	return entryTimestamp(e), x.timeEntryOffset(e), nil
}
