package log

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// Open opens (creating if needed) the partition log in dir, defaulting and
// validating cfg, and recovers it:
//
//   - Leftovers of interrupted operations go: *.deleted files, *.cleaned
//     files (an unfinished compaction), index files without a log file and
//     leader-epoch-checkpoint.tmp. A *.swap segment (a finished compaction
//     whose rename was cut short) replaces the segments it covers, unless a
//     *.cleaned file at or below its base shows the compaction was not
//     finished, in which case it goes too.
//   - Without a clean shutdown, every segment from the one holding
//     opts.RecoveryPoint on is re-read batch by batch (ValidateHeader,
//     offsets increasing), its indexes rebuilt; at the first invalid or
//     torn batch the segment is cut and any later segment deleted. The
//     leader-epoch cache learns the epochs of the batches re-read.
//   - With a clean shutdown the files are trusted; the active segment's
//     indexes are sanity-checked (and the segment recovered if they fail),
//     older segments' indexes are checked when first used and rebuilt if
//     they fail.
//
// The log start offset is the larger of opts.LogStartOffset and the first
// segment's base offset; the leader-epoch cache is cut to the log's range.
// The producer state comes from the latest producer snapshot at or below
// the recovery point and the batch headers after it.
func Open(dir string, cfg Config, opts OpenOptions) (*Log, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := c.FS.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: creating %s: %w", ErrStorage, dir, err)
	}
	logger := c.Logger
	if topic, partition, err := ParseDir(filepath.Base(dir)); err == nil {
		logger = logger.With("topic", topic, "partition", partition)
	} else {
		logger = logger.With("dir", dir)
	}
	l := &Log{dir: dir, fs: c.FS, logger: logger, cfg: c}
	if err := l.load(opts); err != nil {
		for _, s := range l.segments {
			s.close()
		}
		return nil, err
	}
	return l, nil
}

// load reads the directory and recovers the log (see Open).
func (l *Log) load(opts OpenOptions) error {
	cfg := &l.cfg
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("%w: reading %s: %w", ErrStorage, l.dir, err)
	}
	logs := map[int64]bool{}
	indexes := map[int64][]string{}
	var swaps []int64
	minCleaned := int64(math.MaxInt64)
	var remove []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if name == epochCheckpointFile+".tmp" || strings.HasSuffix(name, snapshotExt+".tmp") {
			remove = append(remove, name)
			continue
		}
		base, ext, suffix, ok := parseSegmentFileName(name)
		if !ok {
			continue // not ours (producer snapshots, partition.metadata, …)
		}
		switch suffix {
		case deletedSuffix:
			remove = append(remove, name)
		case cleanedSuffix:
			minCleaned = min(minCleaned, base)
			remove = append(remove, name)
		case swapSuffix:
			if ext == logExt {
				swaps = append(swaps, base)
			} else {
				remove = append(remove, name) // rebuilt with the swap segment
			}
		default:
			if ext == logExt {
				logs[base] = true
			} else {
				indexes[base] = append(indexes[base], name)
			}
		}
	}
	for base, names := range indexes {
		if !logs[base] {
			remove = append(remove, names...)
		}
	}
	for _, name := range remove {
		l.logger.Info("removing leftover file", "file", name)
		if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: removing %s: %w", ErrStorage, name, err)
		}
	}

	bases := make([]int64, 0, len(logs))
	for b := range logs {
		bases = append(bases, b)
	}
	slices.Sort(bases)
	for _, b := range bases {
		s, err := openSegment(l.fs, l.dir, b, "", cfg)
		if err != nil {
			return err
		}
		l.segments = append(l.segments, s)
	}
	// rebuildFrom is the first segment whose aborted transaction index is
	// rebuilt from the log rather than read: segments recovery re-reads,
	// segments swapped in after a crash, and index files that fail their
	// check.
	rebuildFrom := int64(math.MaxInt64)
	slices.Sort(swaps)
	for _, b := range swaps {
		swapped, err := l.completeSwap(b, minCleaned)
		if err != nil {
			return err
		}
		if swapped {
			rebuildFrom = min(rebuildFrom, b)
		}
	}
	if len(l.segments) == 0 {
		s, err := createSegment(l.fs, l.dir, max(opts.LogStartOffset, 0), "", cfg, time.Now())
		if err != nil {
			return err
		}
		l.segments = []*segment{s}
		l.dirDirty.Store(true)
	}

	epochs, err := readEpochs(l.fs, l.dir)
	if err != nil {
		return err
	}
	l.epochs.entries = epochs
	epochsChanged := false

	reread, err := l.recoverSegments(opts, &epochsChanged)
	if err != nil {
		return err
	}
	rebuildFrom = min(rebuildFrom, reread)
	for _, s := range l.segments {
		if s.base >= rebuildFrom {
			break
		}
		if !slices.Contains(indexes[s.base], segmentFileName(s.base, txnIndexExt, "")) {
			continue
		}
		if err := s.loadTxnIndex(); err != nil {
			if !errors.Is(err, errCorruptIndex) {
				return err
			}
			l.logger.Warn("rebuilding aborted transaction indexes", "segment", s.base, "err", err)
			rebuildFrom = s.base
			break
		}
	}

	active := l.activeLocked()
	l.leo = active.next
	l.logStart = max(opts.LogStartOffset, l.segments[0].base)
	if l.logStart > l.leo {
		l.logger.Warn("log start offset is past the log end offset; lowering it", "log_start_offset", l.logStart, "log_end_offset", l.leo)
		l.logStart = l.leo
	}
	if opts.CleanShutdown {
		l.recoveryPoint = l.leo
	} else {
		l.recoveryPoint = min(max(opts.RecoveryPoint, 0), l.leo)
	}
	l.hw = l.logStart
	l.lastFlush = time.Now()
	if l.epochs.truncateFromEnd(l.leo) {
		epochsChanged = true
	}
	if l.epochs.truncateFromStart(l.logStart) {
		epochsChanged = true
	}
	if epochsChanged {
		if err := writeEpochs(l.fs, l.dir, l.epochs.entries); err != nil {
			return err
		}
	}
	if err := l.loadProducers(min(l.recoveryPoint, rebuildFrom), l.leo, rebuildFrom); err != nil {
		return err
	}
	l.logger.Debug("opened log", "log_start_offset", l.logStart, "log_end_offset", l.leo,
		"recovery_point", l.recoveryPoint, "segments", len(l.segments))
	return nil
}

// recoverSegments runs recovery (or the clean-shutdown checks) and leaves
// the last segment active with resident indexes. It returns the base
// offset of the first segment it re-read, math.MaxInt64 for none.
func (l *Log) recoverSegments(opts OpenOptions, epochsChanged *bool) (int64, error) {
	onBatch := func(b record.Batch) {
		// As Kafka does, recovery only adds epochs newer than the cache's.
		e := b.PartitionLeaderEpoch()
		if latest, ok := l.epochs.latest(); e >= 0 && (!ok || e > latest) {
			l.epochs.assign(e, b.BaseOffset())
			*epochsChanged = true
		}
	}
	segs := l.segments
	last := segs[len(segs)-1]
	if opts.CleanShutdown {
		ok, err := last.loadActive()
		if err != nil {
			return 0, err
		}
		if ok {
			return math.MaxInt64, nil
		}
		l.logger.Warn("active segment failed its sanity check after a clean shutdown; recovering it", "segment", last.base)
		last.offIdx.close()
		last.timeIdx.close()
		if _, err := l.recoverOne(last, nil); err != nil {
			return 0, err
		}
		return last.base, l.activateLast()
	}
	first := floorSegment(segs, opts.RecoveryPoint)
	for i := first; i < len(segs); i++ {
		s := segs[i]
		cut, err := l.recoverOne(s, onBatch)
		if err != nil {
			return 0, err
		}
		if cut > 0 && i < len(segs)-1 {
			for _, t := range segs[i+1:] {
				l.logger.Warn("deleting segment after a torn one", "segment", t.base)
				if err := t.removeFiles(); err != nil {
					return 0, fmt.Errorf("%w: deleting segment %d: %w", ErrStorage, t.base, err)
				}
			}
			l.segments = segs[:i+1]
			break
		}
	}
	return segs[first].base, l.activateLast()
}

// recoverOne recovers one segment as an inactive one.
func (l *Log) recoverOne(s *segment, onBatch func(record.Batch)) (int64, error) {
	cut, err := s.recover(false, onBatch)
	if err != nil {
		return 0, err
	}
	if cut > 0 {
		l.logger.Warn("cut invalid bytes from the end of a segment", "segment", s.base, "bytes", cut, "offset", s.next)
	}
	return cut, nil
}

// activateLast loads the last segment's indexes into memory for appends.
func (l *Log) activateLast() error {
	s := l.activeLocked()
	if err := s.offIdx.activate(); err != nil {
		return err
	}
	return s.timeIdx.activate()
}

// completeSwap finishes an interrupted segment replacement (see
// replaceSegments): the .swap segment at base replaces the segments whose
// base offsets fall in its offset range. A .cleaned file at or below base
// means the replacement never got as far as renaming every new file to
// .swap, so the old segments stand and the swap file goes. swapped says
// the swap segment was installed; its aborted transaction index is then
// rebuilt by the caller.
func (l *Log) completeSwap(base, minCleaned int64) (swapped bool, err error) {
	name := segmentFileName(base, logExt, swapSuffix)
	if base >= minCleaned {
		l.logger.Info("removing swap file of an unfinished compaction", "file", name)
		return false, l.fs.Remove(filepath.Join(l.dir, name))
	}
	sw, err := openSegment(l.fs, l.dir, base, swapSuffix, &l.cfg)
	if err != nil {
		return false, err
	}
	if _, err := sw.recover(false, nil); err != nil {
		sw.close()
		return false, err
	}
	end := sw.next
	kept := l.segments[:0:0]
	for _, s := range l.segments {
		if s.base >= base && s.base < max(end, base+1) {
			l.logger.Info("removing segment replaced by a swap file", "segment", s.base, "swap", base)
			if err := s.removeFiles(); err != nil {
				sw.close()
				return false, fmt.Errorf("%w: removing segment %d: %w", ErrStorage, s.base, err)
			}
			continue
		}
		kept = append(kept, s)
	}
	if err := sw.renameSuffix(""); err != nil {
		sw.close()
		return false, fmt.Errorf("%w: renaming swap segment %d: %w", ErrStorage, base, err)
	}
	i, _ := slices.BinarySearchFunc(kept, base, func(s *segment, b int64) int {
		return cmp.Compare(s.base, b)
	})
	l.segments = slices.Insert(kept, i, sw)
	l.dirDirty.Store(true)
	return true, nil
}
