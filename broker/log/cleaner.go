package log

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// This file holds the log cleaner: compaction of logs whose cleanup.policy
// contains compact, as Kafka's LogCleaner does it. See the package
// documentation ("Compaction") for the rules and the on-disk protocol.

// Kafka's defaults for the broker-level cleaner settings, applied by
// NewCleaner and NewManager to zero fields.
const (
	DefaultCleanerThreads         = 1                // log.cleaner.threads
	DefaultCleanerBackoff         = 15 * time.Second // log.cleaner.backoff.ms
	DefaultDedupeBufferSize       = 128 << 20        // log.cleaner.dedupe.buffer.size
	DefaultDedupeBufferLoadFactor = 0.9              // log.cleaner.io.buffer.load.factor
	DefaultCleanerIOBufferSize    = 512 << 10        // log.cleaner.io.buffer.size
)

// ErrCleaningAborted means a clean stopped before it finished: its context
// ended, the log was closed, or the log changed under it (retention,
// DeleteRecords or a truncation removed or rewrote segments it was
// rewriting). Nothing is lost: the segments it had already swapped in stay
// compacted, the others are as they were, and the next clean starts over.
var ErrCleaningAborted = errors.New("log: cleaning aborted")

// CleanerConfig configures one Cleaner. Zero fields take Kafka's defaults.
// The broker-level values are shared by all cleaner threads; the Manager
// gives each of its cleaners its share.
type CleanerConfig struct {
	// DedupeBufferSize is the memory of the offset map, in bytes: each
	// distinct key of the dirty section takes 24 bytes divided by the load
	// factor, so 128 MiB map about 5 million keys per clean. When the map
	// fills, a clean compacts up to where it filled and the next one
	// continues. Share of log.cleaner.dedupe.buffer.size; 0 = 128 MiB.
	DedupeBufferSize int64
	// DedupeBufferLoadFactor is how full the offset map may get.
	// log.cleaner.io.buffer.load.factor; 0 = 0.9.
	DedupeBufferLoadFactor float64
	// IOBufferSize is the memory for reading and for writing segments,
	// half each; a read grows past its half for a larger batch. Share of
	// log.cleaner.io.buffer.size; 0 = 512 KiB.
	IOBufferSize int
	// MaxIOBytesPerSecond limits the bytes the cleaner reads and writes
	// per second. log.cleaner.io.max.bytes.per.second; 0 = unlimited
	// (Kafka's default is Double.MAX_VALUE).
	MaxIOBytesPerSecond float64
}

// withDefaults returns a copy of c with zero fields defaulted, or an error
// naming the first invalid property.
func (c CleanerConfig) withDefaults() (CleanerConfig, error) {
	bad := func(prop string, v any, rule string) (CleanerConfig, error) {
		return CleanerConfig{}, fmt.Errorf("%w: %s=%v: %s", ErrInvalidConfig, prop, v, rule)
	}
	switch {
	case c.DedupeBufferSize == 0:
		c.DedupeBufferSize = DefaultDedupeBufferSize
	case c.DedupeBufferSize < 2*mapSlotSize:
		return bad("log.cleaner.dedupe.buffer.size", c.DedupeBufferSize, fmt.Sprintf("must leave each cleaner at least %d bytes", 2*mapSlotSize))
	}
	switch {
	case c.DedupeBufferLoadFactor == 0:
		c.DedupeBufferLoadFactor = DefaultDedupeBufferLoadFactor
	case !(c.DedupeBufferLoadFactor > 0 && c.DedupeBufferLoadFactor <= 1):
		return bad("log.cleaner.io.buffer.load.factor", c.DedupeBufferLoadFactor, "must be above 0 and at most 1")
	}
	switch {
	case c.IOBufferSize == 0:
		c.IOBufferSize = DefaultCleanerIOBufferSize
	case c.IOBufferSize < 0:
		return bad("log.cleaner.io.buffer.size", c.IOBufferSize, "must not be negative")
	}
	if c.MaxIOBytesPerSecond < 0 || math.IsNaN(c.MaxIOBytesPerSecond) {
		return bad("log.cleaner.io.max.bytes.per.second", c.MaxIOBytesPerSecond, "must be positive")
	}
	return c, nil
}

// Cleaner compacts logs, one at a time: it owns the offset map (the dedupe
// buffer) and the I/O buffers a clean uses, and reuses them from one clean
// to the next. A Cleaner is not safe for concurrent use; the Manager runs
// log.cleaner.threads of them. It reports through each log's logger.
type Cleaner struct {
	cfg      CleanerConfig
	throttle *throttle

	offsets *offsetMap      // allocated by the first clean
	readBuf []byte          // the batch being read
	out     []byte          // batches waiting to be written
	kept    []record.Record // records of the batch being filtered
}

// NewCleaner returns a Cleaner for cfg, defaulted and validated. Its offset
// map is allocated by the first clean.
func NewCleaner(cfg CleanerConfig) (*Cleaner, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Cleaner{cfg: c, throttle: newThrottle(c.MaxIOBytesPerSecond)}, nil
}

// CleanResult reports one clean.
type CleanResult struct {
	// FirstDirtyOffset is where the next clean's dirty section starts:
	// the log's entry in cleaner-offset-checkpoint. Everything before it
	// has been compacted against every key below it.
	FirstDirtyOffset int64
	// FirstUncleanableOffset bounded the clean: nothing at or after it
	// was read or rewritten.
	FirstUncleanableOffset int64
	// Segments is how many segments were rewritten, Groups how many new
	// segments replaced them.
	Segments, Groups int
	// BytesRead and BytesWritten count segment bytes, including the pass
	// that builds the offset map.
	BytesRead, BytesWritten int64
	// RecordsRead counts the records of the rewritten segments;
	// RecordsRemoved how many of them are gone.
	RecordsRead, RecordsRemoved int64
	// DeleteHorizon is the latest delete horizon (KIP-534, epoch
	// milliseconds) of the tombstones and transaction markers the clean
	// kept, -1 when it kept none: a clean after that time removes them
	// all.
	DeleteHorizon int64
}

// Cleanable says how much of a log the cleaner may compact, and whether
// it is due.
type Cleanable struct {
	// FirstDirtyOffset is the start of the dirty section: the offset
	// given, or the log start offset when that was outside the log.
	FirstDirtyOffset int64
	// FirstUncleanableOffset is the base offset of the first segment the
	// cleaner must not touch: the active segment, the first segment not
	// wholly below the last stable offset (the high watermark, or the
	// first offset of an ongoing transaction if lower), or the first dirty
	// segment whose largest timestamp is younger than
	// min.compaction.lag.ms.
	FirstUncleanableOffset int64
	// CleanBytes and DirtyBytes are the sizes of the segments before the
	// first dirty offset and between it and the first uncleanable offset
	// (a segment holding the first dirty offset counts in both).
	CleanBytes, DirtyBytes int64
	// DirtyRatio is DirtyBytes / (CleanBytes + DirtyBytes), 0 for none.
	DirtyRatio float64
	// MaxLagExceeded says a dirty segment's first batch is older than
	// max.compaction.lag.ms.
	MaxLagExceeded bool
	// Due says the cleaner should compact the log now: it has dirty bytes
	// and its dirty ratio is at least min.cleanable.dirty.ratio, or
	// max.compaction.lag.ms has passed.
	Due bool
}

// cleanView is what a clean knows of the log when it starts.
type cleanView struct {
	segs          []*segment
	cfg           Config
	gen           uint64 // truncation count
	logStart, leo int64
	hw            int64
	// fuo is the first unstable offset, -1 when no transaction is open:
	// the cleaner never reaches it, as it never reaches the high
	// watermark.
	fuo int64
}

// viewForCleaning snapshots the log for a clean.
func (l *Log) viewForCleaning() (cleanView, error) {
	if err := l.writable(); err != nil {
		return cleanView{}, err
	}
	fuo, ok := l.FirstUnstableOffset()
	if !ok {
		fuo = -1
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return cleanView{segs: l.segments, cfg: l.cfg, gen: l.truncations, logStart: l.logStart, leo: l.leo, hw: l.hw, fuo: fuo}, nil
}

// truncationCount tells whether the log was truncated since an earlier
// look: truncation may rewrite offsets the cleaner thinks are clean.
func (l *Log) truncationCount() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.truncations
}

// Cleanable computes the log's cleanable range for a clean at now whose
// dirty section starts at firstDirty (the log's cleaner-offset-checkpoint
// entry; any offset outside the log means the log start offset).
func (l *Log) Cleanable(firstDirty int64, now time.Time) (Cleanable, error) {
	v, err := l.viewForCleaning()
	if err != nil {
		return Cleanable{}, err
	}
	c, _, err := l.cleanableIn(&v, firstDirty, now)
	return c, err
}

// cleanableIn computes Cleanable for v and returns the index of the first
// uncleanable segment.
func (l *Log) cleanableIn(v *cleanView, firstDirty int64, now time.Time) (Cleanable, int, error) {
	segs, cfg := v.segs, &v.cfg
	if firstDirty < v.logStart || firstDirty > v.leo {
		firstDirty = v.logStart
	}
	nowMs := now.UnixMilli()
	u := len(segs) - 1 // the active segment
	for k := range len(segs) - 1 {
		if segs[k+1].base > v.hw || (v.fuo >= 0 && segs[k+1].base > v.fuo) {
			u = k
			break
		}
		if cfg.MinCompactionLagMs > 0 && segs[k+1].base > firstDirty {
			ts, err := l.largestTimestamp(segs[k])
			if err != nil {
				return Cleanable{}, 0, err
			}
			if ts > nowMs-cfg.MinCompactionLagMs {
				u = k
				break
			}
		}
	}
	c := Cleanable{FirstDirtyOffset: firstDirty, FirstUncleanableOffset: segs[u].base}
	for k := range u {
		size := segs[k].size.Load()
		if segs[k].base < firstDirty {
			c.CleanBytes += size
		}
		if segs[k+1].base > firstDirty {
			c.DirtyBytes += size
		}
	}
	if total := c.CleanBytes + c.DirtyBytes; total > 0 {
		c.DirtyRatio = float64(c.DirtyBytes) / float64(total)
	}
	if cfg.MaxCompactionLagMs < math.MaxInt64 && nowMs-cfg.MaxCompactionLagMs > 0 {
		var hdr [record.HeaderSize]byte
		for k := range len(segs) - 1 {
			s := segs[k]
			if segs[k+1].base <= firstDirty || s.size.Load() == 0 {
				continue
			}
			b, err := s.header(0, s.size.Load(), &hdr)
			if err != nil {
				return Cleanable{}, 0, err
			}
			if ts := b.MaxTimestamp(); ts > 0 && ts < nowMs-cfg.MaxCompactionLagMs {
				c.MaxLagExceeded = true
				break
			}
		}
	}
	c.Due = c.DirtyBytes > 0 && (c.DirtyRatio >= cfg.MinCleanableDirtyRatio || c.MaxLagExceeded)
	return c, u, nil
}

// Clean compacts l once, as of now, whatever its dirty ratio: it maps the
// latest offset of every key in the dirty section (from firstDirty, the
// log's cleaner-offset-checkpoint entry, to the first uncleanable offset)
// and rewrites the segments from the start of the log to the end of what
// it mapped, keeping for each key only its latest record. See the package
// documentation for the rules on tombstones, empty batches and control
// batches, and for how the rewritten segments replace the old ones.
//
// Appends, reads and flushes go on meanwhile; the append lock is taken
// only for the swap of each group of segments. A truncation, retention or
// DeleteRecords that removes or rewrites a segment being compacted aborts
// the clean with ErrCleaningAborted, as does the end of ctx or the log
// closing. The caller must not Delete the log meanwhile (the Manager
// aborts a clean first). Store the result's FirstDirtyOffset for the next
// clean.
func (c *Cleaner) Clean(ctx context.Context, l *Log, firstDirty int64, now time.Time) (CleanResult, error) {
	v, err := l.viewForCleaning()
	if err != nil {
		return CleanResult{}, err
	}
	if !v.cfg.Compact {
		return CleanResult{}, fmt.Errorf("%w: %s: cleanup.policy does not contain compact", ErrInvalidConfig, l.dir)
	}
	cb, u, err := l.cleanableIn(&v, firstDirty, now)
	if err != nil {
		return CleanResult{}, c.abortErr(l, v.gen, err)
	}
	res := CleanResult{FirstDirtyOffset: cb.FirstDirtyOffset, FirstUncleanableOffset: cb.FirstUncleanableOffset, DeleteHorizon: -1}
	if u == 0 {
		return res, nil
	}
	if c.offsets == nil {
		c.offsets = newOffsetMap(c.cfg.DedupeBufferSize, c.cfg.DedupeBufferLoadFactor)
	}
	// The aborted transactions with data in the cleanable part: their
	// records supersede nothing and are removed.
	aborted := newAbortedSet(l.AbortedTransactions(v.segs[0].base, cb.FirstUncleanableOffset))
	endOffset := cb.FirstUncleanableOffset
	if cb.FirstDirtyOffset < endOffset {
		endOffset, err = c.buildOffsetMap(ctx, &v, u, cb.FirstDirtyOffset, cb.FirstUncleanableOffset, aborted, &res)
		if err != nil {
			return res, c.abortErr(l, v.gen, err)
		}
	} else {
		// Nothing is dirty (a clean to drop expired tombstones), or the
		// high watermark fell below the first dirty offset: the map is
		// empty and accounts for everything below the uncleanable part.
		c.offsets.reset(endOffset)
	}
	n := sort.Search(u, func(i int) bool { return v.segs[i].base >= endOffset })
	if n == 0 {
		return res, nil
	}

	st := &filterState{
		now:          now.UnixMilli(),
		horizonAfter: addSaturating(now.UnixMilli(), v.cfg.DeleteRetentionMs),
		offsets:      c.offsets,
		horizon:      -1,
		aborted:      aborted,
		txnData:      map[int64]bool{},
	}
	st.producers = func() (map[int64]int64, error) {
		if st.lastOfProducer == nil {
			// The log's segments now, not v.segs: the swap of an earlier
			// group may have deleted some of those. The clean never drops
			// a producer's last batch, so the answer is the same.
			l.mu.RLock()
			segs := l.segments
			l.mu.RUnlock()
			m, err := c.lastBatchOfProducers(ctx, segs, &res)
			if err != nil {
				return nil, err
			}
			st.lastOfProducer = m
		}
		return st.lastOfProducer, nil
	}
	for _, g := range groupSegments(v.segs[:n+1], v.cfg.SegmentBytes, int64(v.cfg.SegmentIndexBytes)) {
		group := v.segs[g[0]:g[1]]
		repl, err := c.cleanGroup(ctx, l, group, st, &res)
		if err != nil {
			return res, c.abortErr(l, v.gen, err)
		}
		err = l.replaceSegmentsIf(repl, group, func() error {
			// Under the append lock, which every truncation holds.
			if l.truncations != v.gen {
				return fmt.Errorf("%w: the log was truncated", ErrCleaningAborted)
			}
			return nil
		})
		if err != nil {
			if l.gone(repl) {
				if repl.suffix.Load().(string) == cleanedSuffix {
					repl.removeFiles()
				} else {
					repl.close() // a .swap: Open finishes or drops it
				}
			}
			return res, c.abortErr(l, v.gen, err)
		}
		res.Segments += len(group)
		res.Groups++
	}
	res.FirstDirtyOffset = max(endOffset, cb.FirstDirtyOffset)
	res.DeleteHorizon = st.horizon
	l.logger.Info("cleaned log", "first_dirty_offset", cb.FirstDirtyOffset, "offset", endOffset,
		"segments", res.Segments, "bytes_read", res.BytesRead, "bytes_written", res.BytesWritten,
		"records_removed", res.RecordsRemoved)
	return res, nil
}

// abortErr turns the error of a clean whose log closed or changed
// meanwhile into ErrCleaningAborted: reads of segments removed by retention
// fail with "file already closed", reads of segments a truncation cut
// (the log's truncation count is no longer gen) end early.
func (c *Cleaner) abortErr(l *Log, gen uint64, err error) error {
	switch {
	case err == nil || errors.Is(err, ErrCleaningAborted):
		return err
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed):
		return fmt.Errorf("%w: %w", ErrCleaningAborted, err)
	}
	l.mu.RLock()
	closed, truncated := l.closed || l.closing, l.truncations != gen
	l.mu.RUnlock()
	switch {
	case closed:
		return fmt.Errorf("%w: the log closed: %w", ErrCleaningAborted, err)
	case truncated:
		return fmt.Errorf("%w: the log was truncated: %w", ErrCleaningAborted, err)
	case errors.Is(err, os.ErrClosed):
		return fmt.Errorf("%w: a segment was removed meanwhile: %w", ErrCleaningAborted, err)
	}
	return err
}

// buildOffsetMap fills the offset map from the dirty section: the
// segments v.segs[floor(firstDirty):u], records at or after firstDirty
// (which is below firstUncleanable), except those of aborted
// transactions. It returns the end of what it mapped:
// firstUncleanable when everything fit; otherwise the offset after the last
// batch mapped, or the base offset of the segment whose first batch did not
// fit. The map's latest offset is one below it.
func (c *Cleaner) buildOffsetMap(ctx context.Context, v *cleanView, u int, firstDirty, firstUncleanable int64, aborted abortedSet, res *CleanResult) (int64, error) {
	m := c.offsets
	m.reset(firstDirty)
	mapped := false
	for _, s := range v.segs[floorSegment(v.segs, firstDirty):u] {
		started, full := false, false
		err := c.readSegment(ctx, s, res, func(b record.Batch) (bool, error) {
			if b.LastOffset() < firstDirty {
				return true, nil
			}
			// Control batches (transaction markers) hold no data keys, and
			// the records of aborted transactions supersede nothing.
			if !b.Attributes().Control() && b.NumRecords() > 0 && !aborted.holds(b) {
				if !m.room(int(b.NumRecords())) {
					full = true
					return false, nil
				}
				recs, err := b.DecodeRecords()
				if err != nil {
					return false, fmt.Errorf("%w: %s: batch at offset %d: %w", ErrCorruptLog, s.path(logExt), b.BaseOffset(), err)
				}
				for _, r := range recs {
					if r.Offset >= firstDirty && r.Key != nil {
						m.put(r.Key, r.Offset)
					}
				}
			}
			m.latest = b.LastOffset()
			started, mapped = true, true
			return true, nil
		})
		switch {
		case err != nil:
			return 0, err
		case full && !mapped:
			return 0, fmt.Errorf("%w: log.cleaner.dedupe.buffer.size: an offset map of %d keys cannot hold the keys of the first dirty batch (offset %d); raise it",
				ErrInvalidConfig, m.limit, max(firstDirty, s.base))
		case full && !started:
			// Every segment before this one is mapped whole.
			m.latest = s.base - 1
			return s.base, nil
		case full:
			return m.latest + 1, nil
		}
	}
	return firstUncleanable, nil
}

// lastBatchOfProducers returns, for every producer ID in the log, the last
// offset of its last data batch (not a transaction marker), reading batch
// headers only. The cleaner keeps
// that batch, emptied if need be, so that the producer's last sequence
// number and epoch stay in the log (Kafka keeps it for producers whose
// state has not expired; Runnel keeps it for every producer ID until
// producer state is tracked by the log).
func (c *Cleaner) lastBatchOfProducers(ctx context.Context, segs []*segment, res *CleanResult) (map[int64]int64, error) {
	last := map[int64]int64{}
	for _, s := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := walkHeaders(s, s.size.Load(), max(c.cfg.IOBufferSize/2, 4096), func(b record.Batch) {
			// Markers carry no sequence numbers: the last data batch is the
			// one that keeps them.
			if pid := b.ProducerID(); pid >= 0 && !b.Attributes().Control() {
				last[pid] = b.LastOffset()
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return last, nil
}

// cleanGroup writes the compacted batches of group into a new .cleaned
// segment and seals it.
func (c *Cleaner) cleanGroup(ctx context.Context, l *Log, group []*segment, st *filterState, res *CleanResult) (*segment, error) {
	repl, err := l.newCleanedSegment(group[0].base)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			repl.removeFiles()
		}
	}()
	writeSize := max(c.cfg.IOBufferSize/2, 4096)
	out := c.out[:0]
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		if repl.size.Load()+int64(len(out)) > math.MaxInt32 {
			return fmt.Errorf("log: compacting segments %d.. into one passes %d bytes; lower segment.bytes", group[0].base, math.MaxInt32)
		}
		if err := repl.appendBatches(out); err != nil {
			return err
		}
		res.BytesWritten += int64(len(out))
		if err := c.throttle.wait(ctx, len(out)); err != nil {
			return err
		}
		out = out[:0]
		return nil
	}
	for _, s := range group {
		err := c.readSegment(ctx, s, res, func(b record.Batch) (bool, error) {
			var err error
			if out, err = c.filterBatch(b, out, st, res); err != nil {
				return false, fmt.Errorf("%s: batch at offset %d: %w", s.path(logExt), b.BaseOffset(), err)
			}
			if len(out) >= writeSize {
				return true, flush()
			}
			return true, nil
		})
		if err != nil {
			c.out = out[:0]
			return nil, err
		}
	}
	err = flush()
	c.out = out[:0]
	if err != nil {
		return nil, err
	}
	// The new segment carries the aborted transaction index entries of
	// the segments it replaces, but those whose marker the clean removed
	// (their transaction has no data left).
	var entries []AbortedTxn
	for _, s := range group {
		for _, e := range s.abortedTxns() {
			if !st.droppedMarkers[e.LastOffset] {
				entries = append(entries, e)
			}
		}
	}
	if err := repl.setAborted(entries); err != nil {
		return nil, err
	}
	if err := inheritModTime(l.fs, repl, group[len(group)-1]); err != nil {
		return nil, err
	}
	if err := repl.seal(); err != nil {
		return nil, err
	}
	ok = true
	return repl, nil
}

// modTimeSetter is a file system that can set a file's modification time.
type modTimeSetter interface {
	Chtimes(name string, atime, mtime time.Time) error
}

// inheritModTime gives repl's log file the modification time of from's,
// as Kafka does for the segment a clean writes: retention.ms dates a
// segment without timestamps (one the clean emptied, say) by that time,
// which must not restart at the clean. File systems other than OS() and
// those implementing Chtimes keep the time of writing.
func inheritModTime(fs FS, repl, from *segment) error {
	fi, err := from.log.Stat()
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStorage, from.path(logExt), err)
	}
	name, t := repl.path(logExt), fi.ModTime()
	switch f := fs.(type) {
	case modTimeSetter:
		err = f.Chtimes(name, t, t)
	case osFS:
		err = os.Chtimes(name, t, t)
	}
	if err != nil {
		return fmt.Errorf("%w: setting the modification time of %s: %w", ErrStorage, name, err)
	}
	return nil
}

// filterState is what filterBatch decides with.
type filterState struct {
	now          int64 // the clean's time, epoch ms
	horizonAfter int64 // now + delete.retention.ms: the horizon of new tombstones
	offsets      *offsetMap
	// producers returns lastBatchOfProducers, computed on first use.
	producers      func() (map[int64]int64, error)
	lastOfProducer map[int64]int64
	horizon        int64 // latest delete horizon of kept tombstones and markers
	// aborted are the aborted transactions whose records go.
	aborted abortedSet
	// txnData says, per producer, whether the clean kept a record of its
	// transaction that the next marker ends.
	txnData map[int64]bool
	// droppedMarkers are the offsets of the markers the clean removed.
	droppedMarkers map[int64]bool
}

// retain reports whether record r of batch b stays (Kafka's
// shouldRetainRecord): records past the offset map's latest offset were
// not compared and stay; a record without a key is dropped, as Kafka
// drops it from a compacted topic; a record superseded by a later record
// of its key goes; a tombstone goes once its batch's delete horizon has
// passed.
func (st *filterState) retain(b record.Batch, r *record.Record) bool {
	if r.Offset > st.offsets.latest {
		return true
	}
	if r.Key == nil {
		return false
	}
	if off := st.offsets.get(r.Key); off >= 0 && r.Offset < off {
		return false
	}
	if r.Value == nil && b.Attributes().HasDeleteHorizon() && st.now >= b.FirstTimestamp() {
		return false
	}
	return true
}

// filterBatch appends what remains of b to out: b itself when every
// record stays (and no delete horizon must be set), a rebuilt batch when
// some do, an empty batch header or nothing when none does. The records of
// an aborted transaction's batches all go.
func (c *Cleaner) filterBatch(b record.Batch, out []byte, st *filterState, res *CleanResult) ([]byte, error) {
	attrs := b.Attributes()
	res.RecordsRead += int64(b.NumRecords())
	if attrs.Control() {
		return c.filterMarker(b, out, st, res)
	}
	recs, err := b.DecodeRecords()
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrCorruptLog, err)
	}
	kept := c.kept[:0]
	defer func() {
		clear(kept) // do not pin the batch's buffers
		c.kept = kept[:0]
	}()
	tombstones := false
	if !st.aborted.holds(b) {
		for i := range recs {
			if st.retain(b, &recs[i]) {
				kept = append(kept, recs[i])
				tombstones = tombstones || recs[i].Value == nil
			}
		}
	}
	res.RecordsRemoved += int64(len(recs) - len(kept))
	if attrs.Transactional() && len(kept) > 0 {
		st.txnData[b.ProducerID()] = true
	}
	setHorizon := tombstones && !attrs.HasDeleteHorizon()

	switch {
	case len(kept) == 0:
		// Kafka keeps an emptied batch when it is its producer's last: it
		// carries the producer's epoch and last sequence number.
		if pid := b.ProducerID(); pid >= 0 {
			last, err := st.producers()
			if err != nil {
				return out, err
			}
			if off, ok := last[pid]; ok && off == b.LastOffset() {
				// A kept transactional header still starts its transaction
				// when the log is replayed: its marker must stay too.
				if attrs.Transactional() {
					st.txnData[pid] = true
				}
				return append(out, record.EmptyBatch(b)...), nil
			}
		}
		return out, nil
	case len(kept) == len(recs) && !setHorizon:
		if tombstones {
			st.horizon = max(st.horizon, b.FirstTimestamp())
		}
		return append(out, b...), nil
	}
	horizon := int64(0)
	switch {
	case attrs.HasDeleteHorizon():
		horizon = b.FirstTimestamp()
	case setHorizon:
		horizon = st.horizonAfter
	}
	nb, err := rebuildBatch(b, kept, horizon)
	if err != nil {
		return out, err
	}
	if tombstones {
		st.horizon = max(st.horizon, horizon)
	}
	return append(out, nb...), nil
}

// filterMarker decides on a control batch, as Kafka's cleaner does for
// transaction markers (KIP-98, KIP-534): a marker whose transaction still
// has records in the log stays as it is; one whose transaction has none
// left (aborted, or committed and superseded) gets a delete horizon of
// now plus delete.retention.ms on the first clean that finds it so, and
// goes with the first clean at or after that horizon. Until then a
// read_committed consumer that read the transaction's records sees it.
// Control batches that are not transaction markers stay.
func (c *Cleaner) filterMarker(b record.Batch, out []byte, st *filterState, res *CleanResult) ([]byte, error) {
	pid := b.ProducerID()
	if _, ok, _ := parseMarker(b); !ok || pid < 0 {
		return append(out, b...), nil
	}
	hasData := st.txnData[pid]
	delete(st.txnData, pid)
	switch {
	case hasData:
		return append(out, b...), nil
	case b.Attributes().HasDeleteHorizon() && st.now >= b.FirstTimestamp():
		if st.droppedMarkers == nil {
			st.droppedMarkers = map[int64]bool{}
		}
		st.droppedMarkers[b.BaseOffset()] = true
		res.RecordsRemoved += int64(b.NumRecords())
		return out, nil
	case b.Attributes().HasDeleteHorizon():
		st.horizon = max(st.horizon, b.FirstTimestamp())
		return append(out, b...), nil
	}
	recs, err := b.DecodeRecords()
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrCorruptLog, err)
	}
	nb, err := rebuildBatch(b, recs, st.horizonAfter)
	if err != nil {
		return out, err
	}
	st.horizon = max(st.horizon, st.horizonAfter)
	return append(out, nb...), nil
}

// abortedSet holds aborted transactions by producer, each producer's in
// offset order (a producer's transactions do not overlap).
type abortedSet map[int64][]AbortedTxn

func newAbortedSet(entries []AbortedTxn) abortedSet {
	s := abortedSet{}
	for _, e := range entries {
		s[e.ProducerID] = append(s[e.ProducerID], e)
	}
	for _, list := range s {
		sort.Slice(list, func(i, j int) bool { return list[i].FirstOffset < list[j].FirstOffset })
	}
	return s
}

// holds reports whether b is a data batch of an aborted transaction.
func (s abortedSet) holds(b record.Batch) bool {
	if len(s) == 0 || !b.Attributes().Transactional() || b.Attributes().Control() {
		return false
	}
	list := s[b.ProducerID()]
	off := b.BaseOffset()
	i := sort.Search(len(list), func(i int) bool { return list[i].LastOffset >= off })
	return i < len(list) && list[i].FirstOffset <= off
}

// lastOffsetDeltaPos is where lastOffsetDelta sits in a batch header (see
// package record).
const lastOffsetDeltaPos = 23

// rebuildBatch encodes recs, some of orig's records, as a batch with
// orig's base offset, codec, leader epoch, producer ID, epoch and base
// sequence and attributes, and a delete horizon when horizon > 0. As in
// Kafka it keeps orig's lastOffsetDelta, so that the batch's next offset
// and its producer's last sequence number do not change.
func rebuildBatch(orig record.Batch, recs []record.Record, horizon int64) (record.Batch, error) {
	a := orig.Attributes()
	bb := record.NewBuilder(record.BuilderOptions{
		BaseOffset:           orig.BaseOffset(),
		PartitionLeaderEpoch: orig.PartitionLeaderEpoch(),
		Compression:          a.Compression(),
		LogAppendTime:        a.LogAppendTime(),
		Transactional:        a.Transactional(),
		Control:              a.Control(),
		ProducerID:           orig.ProducerID(),
		ProducerEpoch:        orig.ProducerEpoch(),
		BaseSequence:         orig.BaseSequence(),
		DeleteHorizon:        horizon,
	})
	for _, r := range recs {
		bb.Add(r)
	}
	nb, err := bb.Build()
	if err != nil {
		return nil, fmt.Errorf("log: rebuilding the batch at offset %d: %w", orig.BaseOffset(), err)
	}
	binary.BigEndian.PutUint32(nb[lastOffsetDeltaPos:], uint32(orig.LastOffsetDelta()))
	nb.UpdateCRC()
	return nb, nil
}

// readSegment reads the batches of closed segment s in order, checking
// each header (ValidateHeader), and passes each to fn until fn returns
// false or an error. The batch is valid until fn returns.
func (c *Cleaner) readSegment(ctx context.Context, s *segment, res *CleanResult, fn func(record.Batch) (bool, error)) error {
	limit := s.size.Load()
	bufSize := max(c.cfg.IOBufferSize/2, 4096)
	br := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, limit), bufSize)
	var pos, unthrottled int64
	for pos < limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		prefix, err := br.Peek(record.LogOverhead)
		if err != nil {
			return readErr(s, pos, limit, err)
		}
		n := int64(int32(binary.BigEndian.Uint32(prefix[8:]))) + record.LogOverhead
		if n < record.HeaderSize || n > limit-pos {
			return fmt.Errorf("%w: %s: batch at position %d claims %d bytes, %d remain", ErrCorruptLog, s.path(logExt), pos, n, limit-pos)
		}
		if int64(cap(c.readBuf)) < n {
			c.readBuf = make([]byte, n)
		}
		buf := c.readBuf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return readErr(s, pos, limit, err)
		}
		b := record.Batch(buf)
		if err := b.ValidateHeader(); err != nil {
			return fmt.Errorf("%w: %s: batch at position %d: %w", ErrCorruptLog, s.path(logExt), pos, err)
		}
		pos += n
		res.BytesRead += n
		if unthrottled += n; unthrottled >= int64(bufSize) {
			if err := c.throttle.wait(ctx, int(unthrottled)); err != nil {
				return err
			}
			unthrottled = 0
		}
		more, err := fn(b)
		if err != nil || !more {
			return err
		}
	}
	return c.throttle.wait(ctx, int(unthrottled))
}

// readErr describes a failed segment read.
func readErr(s *segment, pos, limit int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: the file ends before position %d", ErrCorruptLog, s.path(logExt), limit)
	}
	return fmt.Errorf("%w: reading %s at %d: %w", ErrStorage, s.path(logExt), pos, err)
}

// walkHeaders passes the header of every batch of s below limit to fn,
// reading small batches through a buffer and skipping the bodies of large
// ones. The header is valid until fn returns.
func walkHeaders(s *segment, limit int64, bufSize int, fn func(record.Batch)) error {
	sr := io.NewSectionReader(s.log, 0, limit)
	br := bufio.NewReaderSize(sr, bufSize)
	var pos int64
	for pos < limit {
		h, err := br.Peek(record.HeaderSize)
		if err != nil {
			return readErr(s, pos, limit, err)
		}
		b := record.Batch(h)
		n := int64(b.Size())
		if n < record.HeaderSize || n > limit-pos {
			return fmt.Errorf("%w: %s: batch at position %d claims %d bytes, %d remain", ErrCorruptLog, s.path(logExt), pos, n, limit-pos)
		}
		fn(b)
		pos += n
		if n <= int64(br.Buffered()) {
			br.Discard(int(n))
			continue
		}
		if _, err := sr.Seek(pos, io.SeekStart); err != nil {
			return readErr(s, pos, limit, err)
		}
		br.Reset(sr)
	}
	return nil
}

// groupSegments splits segs[:len(segs)-1] (segs' last element only bounds
// the offsets of the one before it) into runs that each fit one segment,
// as Kafka groups them: at most maxBytes of log and maxIndexBytes of each
// index, and offsets within 2³¹-1 of the run's base offset. A segment too
// large on its own forms a run by itself. It returns [from, to) index
// pairs.
func groupSegments(segs []*segment, maxBytes, maxIndexBytes int64) [][2]int {
	var groups [][2]int
	n := len(segs) - 1
	for i := 0; i < n; {
		size := segs[i].size.Load()
		offBytes, timeBytes := segs[i].indexBytes()
		j := i + 1
		for ; j < n; j++ {
			s := segs[j]
			o, t := s.indexBytes()
			if size+s.size.Load() > maxBytes || offBytes+o > maxIndexBytes || timeBytes+t > maxIndexBytes ||
				(s.size.Load() > 0 && segs[j+1].base-1-segs[i].base > math.MaxInt32) {
				break
			}
			size += s.size.Load()
			offBytes += o
			timeBytes += t
		}
		groups = append(groups, [2]int{i, j})
		i = j
	}
	return groups
}

// indexBytes returns the sizes of the segment's offset and time indexes,
// from the number of entries they hold (0 when they cannot be opened: a
// new segment's entries are what its data needs anyway).
func (s *segment) indexBytes() (offsetBytes, timeBytes int64) {
	if s.ensureIndexes() != nil {
		return 0, 0
	}
	return int64(s.offIdx.entries()) * offsetEntrySize, int64(s.timeIdx.entries()) * timeEntrySize
}

// addSaturating returns a+b for b >= 0, capped at math.MaxInt64.
func addSaturating(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
