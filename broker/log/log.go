package log

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Log is one partition's log: a directory of segments with an append
// position (the log end offset, LEO), a start (the log start offset), the
// high watermark the replica layer maintains, a recovery point (everything
// below it is fsynced) and the leader-epoch cache.
//
// A Log is safe for concurrent use. Appends and other changes (roll,
// truncation, retention, epoch assignment) are serialized by one append
// lock, held while bytes are copied into the page cache but never across
// an fsync that other appenders could share. Reads take a short read lock
// to find their segment and then read without any lock.
type Log struct {
	dir    string
	fs     FS
	logger *slog.Logger

	// appendMu serializes every change to the log's contents. Lock order:
	// flushMu (briefly) is independent; appendMu before mu.
	appendMu sync.Mutex
	// doomed are segments renamed to .deleted, removed once their delay
	// passed (guarded by appendMu).
	doomed []doomedSegment
	// producers is the idempotent producers' state (guarded by appendMu).
	producers producers
	// txns are the unstable transactions, changed under appendMu and
	// txnMu (SetHighWatermark takes only txnMu); firstUnstable publishes
	// the first offset of the earliest, -1 for none, for readers.
	txnMu         sync.Mutex
	txns          txnList
	firstUnstable atomic.Int64

	// mu guards the fields below; it is never held across I/O.
	mu            sync.RWMutex
	cfg           Config
	segments      []*segment // sorted by base offset, the last is active; replaced, never modified in place
	logStart      int64
	leo           int64
	hw            int64
	recoveryPoint int64
	lastFlush     time.Time
	truncations   uint64 // counts truncations, so a flush knows its snapshot still holds
	epochs        epochCache
	closing       bool
	closed        bool
	failed        error

	// Group commit: at most one flush runs; callers that need one wait for
	// it to finish and then check whether it covered them.
	flushMu  sync.Mutex
	flushing chan struct{}
	dirDirty atomic.Bool // segment files created or renamed since the last directory fsync

	bg sync.WaitGroup // background flushes started by rolls
}

// doomedSegment is a segment removed from the log whose files stay open
// and readable until deadline.
type doomedSegment struct {
	seg      *segment
	deadline time.Time
}

// OpenOptions carries what the data directory remembers about the
// partition.
type OpenOptions struct {
	// RecoveryPoint is the first offset not known to be flushed; after an
	// unclean shutdown the segments from the one holding it on are
	// re-read.
	RecoveryPoint int64
	// LogStartOffset is the checkpointed log start offset; DeleteRecords
	// may have moved it inside a segment.
	LogStartOffset int64
	// CleanShutdown says the directory's clean-shutdown marker was present:
	// the files are trusted, only index sizes are sanity-checked.
	CleanShutdown bool
}

// Dir returns the partition directory.
func (l *Log) Dir() string { return l.dir }

// Config returns the partition's settings with defaults applied.
func (l *Log) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// SetConfig applies changed topic settings (AlterConfigs). Like Kafka, the
// index settings and segment.jitter.ms apply to segments created from now
// on; retention, flush and validation settings apply at once. cfg.FS and
// cfg.Logger are ignored.
func (l *Log) SetConfig(cfg Config) error {
	l.mu.RLock()
	cfg.FS, cfg.Logger = l.cfg.FS, l.cfg.Logger
	l.mu.RUnlock()
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.closing {
		return ErrClosed
	}
	l.cfg = c
	return nil
}

// LogStartOffset is the first offset a consumer may read.
func (l *Log) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.logStart
}

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.leo
}

// RecoveryPoint is the first offset not known to be on disk: everything
// below it has been fsynced.
func (l *Log) RecoveryPoint() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.recoveryPoint
}

// HighWatermark is the value last set with SetHighWatermark (initially the
// log start offset), kept here so the data directory can checkpoint it.
func (l *Log) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.hw
}

// SetHighWatermark records the high watermark, clamped to [log start
// offset, log end offset] as Kafka does. Retention and DeleteRecordsBefore
// never remove data at or above it. Transactions whose marker it passes
// become stable (see FirstUnstableOffset).
func (l *Log) SetHighWatermark(hw int64) {
	l.mu.Lock()
	l.hw = min(max(hw, l.logStart), l.leo)
	hw = l.hw
	l.mu.Unlock()
	l.txnsReplicated(hw)
}

// Size is the number of bytes in the log's segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segments {
		n += s.size.Load()
	}
	return n
}

// NumSegments is the number of segments, the active one included.
func (l *Log) NumSegments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segments)
}

// AssignEpoch records in the leader-epoch cache that epoch starts at
// startOffset (a new leader calls it with its log end offset). Entries that
// would no longer increase in both epoch and offset are dropped, as Kafka
// does. The cache is persisted when it changes.
func (l *Log) AssignEpoch(epoch int32, startOffset int64) error {
	if epoch < 0 || startOffset < 0 {
		return fmt.Errorf("log: cannot assign epoch %d at offset %d", epoch, startOffset)
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.Lock()
	changed := l.epochs.assign(epoch, startOffset)
	l.mu.Unlock()
	if changed {
		return l.persistEpochs()
	}
	return nil
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch: for the largest epoch <=
// epoch it returns that epoch and the offset where the next epoch starts,
// or the log end offset for the latest epoch. An epoch newer than the
// latest, a negative epoch or an empty cache give (-1, -1); an epoch older
// than every entry gives (epoch, start offset of the first entry).
func (l *Log) EndOffsetForEpoch(epoch int32) (foundEpoch int32, endOffset int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endOffsetFor(epoch, l.leo)
}

// LatestEpoch returns the newest epoch in the cache.
func (l *Log) LatestEpoch() (int32, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.latest()
}

// Epochs returns a copy of the leader-epoch cache, oldest first.
func (l *Log) Epochs() []EpochEntry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.epochs.entries)
}

// persistEpochs writes the epoch cache; the caller holds appendMu. A
// failure fails the log: the cache on disk no longer matches the log.
func (l *Log) persistEpochs() error {
	l.mu.RLock()
	entries := slices.Clone(l.epochs.entries)
	l.mu.RUnlock()
	if err := writeEpochs(l.fs, l.dir, entries); err != nil {
		return l.fail(err)
	}
	return nil
}

// writable returns the error that stops changes: closed, or failed.
func (l *Log) writable() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	switch {
	case l.closed || l.closing:
		return ErrClosed
	case l.failed != nil:
		return fmt.Errorf("%w: the log failed earlier and must be reopened: %w", ErrStorage, l.failed)
	}
	return nil
}

// fail puts the log in the failed state after an I/O error that may have
// left memory and disk apart, and returns err (wrapped in ErrStorage when
// it is not already).
func (l *Log) fail(err error) error {
	if !errors.Is(err, ErrStorage) {
		err = fmt.Errorf("%w: %w", ErrStorage, err)
	}
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
	return err
}

// active returns the active segment; the caller holds appendMu or mu.
func (l *Log) activeLocked() *segment { return l.segments[len(l.segments)-1] }

// floorSegment returns the index of the segment holding offset: the last
// one whose base offset is <= offset (0 when offset is below them all).
func floorSegment(segs []*segment, offset int64) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset })
	return max(i-1, 0)
}

// Close flushes the log (fsync up to the log end offset), writes the active
// segment's final time index entry, trims preallocated files and closes
// every file. Reads in progress must have finished: their ReadResults stop
// working. Closing a closed log returns ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing || l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closing = true
	l.mu.Unlock()

	// An append that got past its closing check finishes first; only then
	// can no new background flush start.
	l.appendMu.Lock()
	l.appendMu.Unlock()
	l.bg.Wait()
	// Wait for a flush in progress, so no fsync races the closing files.
	for {
		l.flushMu.Lock()
		ch := l.flushing
		l.flushMu.Unlock()
		if ch == nil {
			break
		}
		<-ch
	}

	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.mu.RLock()
	segs, failed, rp, leo, cfg := l.segments, l.failed, l.recoveryPoint, l.leo, l.cfg
	l.mu.RUnlock()

	var err error
	if failed == nil {
		err = l.finishActive(segs[len(segs)-1], &cfg)
		if err == nil {
			// The snapshot at the log end lets the next open skip replaying;
			// without it the next open replays more, nothing worse.
			if serr := writeSnapshot(l.fs, l.dir, leo, l.producers); serr != nil {
				l.logger.Warn("writing producer snapshot", "offset", leo, "err", serr)
			} else {
				l.dirDirty.Store(true)
			}
		}
		if err == nil {
			err = syncSegments(segs[floorSegment(segs, rp):])
		}
		if err == nil && l.dirDirty.Swap(false) {
			err = l.fs.SyncDir(l.dir)
		}
		if err == nil {
			l.mu.Lock()
			l.recoveryPoint = leo
			l.mu.Unlock()
		} else if !errors.Is(err, ErrStorage) {
			err = fmt.Errorf("%w: closing: %w", ErrStorage, err)
		}
	}
	for _, s := range segs {
		if e := s.close(); e != nil && err == nil {
			err = fmt.Errorf("%w: closing segment %d: %w", ErrStorage, s.base, e)
		}
	}
	for _, d := range l.doomed {
		if e := d.seg.removeFiles(); e != nil && err == nil {
			err = fmt.Errorf("%w: removing deleted segment %d: %w", ErrStorage, d.seg.base, e)
		}
	}
	l.doomed = nil
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return err
}

// finishActive writes what Kafka writes when the active segment closes:
// the final time index entry (the segment's largest timestamp, so a reopen
// knows it without reading the log), pending index entries, and a
// preallocated file cut to its data.
func (l *Log) finishActive(s *segment, cfg *Config) error {
	s.mu.Lock()
	ts, off := s.maxTs, s.maxTsOffset
	s.mu.Unlock()
	s.maybeAddTime(ts, off, true)
	if err := s.persistIndexes(true); err != nil {
		return err
	}
	if cfg.Preallocate {
		if err := s.log.Truncate(s.size.Load()); err != nil {
			return fmt.Errorf("%w: trimming %s: %w", ErrStorage, s.path(logExt), err)
		}
	}
	return nil
}

// syncSegments fsyncs segs.
func syncSegments(segs []*segment) error {
	for _, s := range segs {
		if err := s.sync(); err != nil {
			return err
		}
	}
	return nil
}

// Delete closes the log and removes its directory with everything in it.
func (l *Log) Delete() error {
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrStorage) {
		return err
	}
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: deleting %s: %w", ErrStorage, l.dir, err)
	}
	for _, e := range entries {
		if err := l.fs.Remove(filepath.Join(l.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: deleting %s: %w", ErrStorage, l.dir, err)
		}
	}
	if err := l.fs.Remove(l.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: deleting %s: %w", ErrStorage, l.dir, err)
	}
	return l.fs.SyncDir(filepath.Dir(l.dir))
}
