package log

import (
	"fmt"
	"slices"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// This file holds what the log cleaner (compaction) needs to swap rewritten
// segments in: a segment under construction, and the crash-safe
// replacement protocol that Open completes or undoes.

// newCleanedSegment creates an empty segment at base whose files carry the
// .cleaned suffix: not part of the log, removed by Open if a crash
// interrupts the compaction.
func (l *Log) newCleanedSegment(base int64) (*segment, error) {
	l.mu.RLock()
	cfg := l.cfg
	l.mu.RUnlock()
	return createSegment(l.fs, l.dir, base, cleanedSuffix, &cfg, time.Now())
}

// appendBatches writes whole batches (offsets already assigned, headers
// valid, offsets increasing past what the segment holds) at the end of a
// segment that is not the log's active segment, indexing them.
func (s *segment) appendBatches(data []byte) error {
	var batches []record.Batch
	next := s.next
	for rest := data; len(rest) > 0; {
		b, r, err := record.Next(rest)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
		}
		if b.BaseOffset() < next || b.LastOffset()-s.base > 1<<31-1 {
			return fmt.Errorf("%w: batch at offset %d does not fit segment %d after offset %d", ErrInvalidRecord, b.BaseOffset(), s.base, next)
		}
		next = b.NextOffset()
		batches = append(batches, b)
		rest = r
	}
	pos := s.size.Load()
	if _, err := s.log.WriteAt(data, pos); err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrStorage, s.path(logExt), err)
	}
	s.size.Store(pos + int64(len(data)))
	for _, b := range batches {
		s.account(b, int64(b.Size()), pos)
		pos += int64(b.Size())
	}
	return s.persistIndexes(false)
}

// seal finishes a segment built with appendBatches: final time index
// entry, indexes written and dropped from memory, everything fsynced.
func (s *segment) seal() error {
	if err := s.finishRebuild(false); err != nil {
		return err
	}
	return s.sync()
}

// replaceSegments swaps repl, a sealed segment with the .cleaned suffix,
// in for olds, a run of consecutive closed segments of the log, in the
// order that keeps a crash at any point recoverable:
//
//  1. repl's files are renamed .cleaned -> .swap and the directory
//     fsynced. From here on repl is the truth: Open finishes the job.
//  2. Under the append lock repl replaces olds in the segment list; olds
//     are renamed to .deleted and deleted after file.delete.delay.ms.
//  3. repl's files lose the .swap suffix and the directory is fsynced.
//
// Before step 1 a crash leaves .cleaned files, which Open deletes, and
// olds intact. Between 1 and 3, Open sees the .swap segment, deletes the
// segments whose base offsets fall inside its range, and renames it.
func (l *Log) replaceSegments(repl *segment, olds []*segment) error {
	if len(olds) == 0 {
		return fmt.Errorf("log: replacing no segments")
	}
	if err := repl.renameSuffix(swapSuffix); err != nil {
		return fmt.Errorf("%w: renaming segment %d to .swap: %w", ErrStorage, repl.base, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("fsync %s: %w", l.dir, err))
	}

	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.Lock()
	segs := l.segments
	i := slices.Index(segs, olds[0])
	if i < 0 || i+len(olds) > len(segs)-1 || !slices.Equal(segs[i:i+len(olds)], olds) {
		l.mu.Unlock()
		return fmt.Errorf("log: segments to replace are not a run of closed segments of the log")
	}
	if repl.base < olds[0].base || (i+len(olds) < len(segs) && repl.next > segs[i+len(olds)].base) {
		l.mu.Unlock()
		return fmt.Errorf("log: replacement segment %d does not fit where segments %d.. were", repl.base, olds[0].base)
	}
	l.segments = slices.Concat(segs[:i], []*segment{repl}, segs[i+len(olds):])
	l.mu.Unlock()

	if err := l.doom(olds, time.Now()); err != nil {
		return err
	}
	if err := repl.renameSuffix(""); err != nil {
		return l.fail(fmt.Errorf("renaming segment %d from .swap: %w", repl.base, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("fsync %s: %w", l.dir, err))
	}
	return nil
}
