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
// entry, indexes written and dropped from memory, a preallocated file cut
// to its data, everything fsynced.
func (s *segment) seal() error {
	if err := s.finishRebuild(false); err != nil {
		return err
	}
	fi, err := s.log.Stat()
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStorage, s.path(logExt), err)
	}
	if size := s.size.Load(); fi.Size() > size {
		if err := s.log.Truncate(size); err != nil {
			return fmt.Errorf("%w: trimming %s: %w", ErrStorage, s.path(logExt), err)
		}
	}
	return s.sync()
}

// replaceSegments swaps repl, a sealed segment with the .cleaned suffix,
// in for olds, a run of consecutive closed segments of the log; see
// replaceSegmentsIf.
func (l *Log) replaceSegments(repl *segment, olds []*segment) error {
	return l.replaceSegmentsIf(repl, olds, nil)
}

// replaceSegmentsIf swaps repl, a sealed segment with the .cleaned suffix,
// in for olds, a run of consecutive closed segments of the log, in the
// order that keeps a crash at any point recoverable:
//
//  1. repl's files are renamed .cleaned -> .swap and the directory
//     fsynced. From here on repl is the truth: Open finishes the job.
//  2. repl replaces olds in the segment list; olds are renamed to .deleted
//     and deleted after file.delete.delay.ms.
//  3. repl's files lose the .swap suffix, and the directory is fsynced.
//
// Before step 1 a crash leaves .cleaned files, which Open deletes, and
// olds intact. Between 1 and 3, Open sees the .swap segment, deletes the
// segments whose base offsets fall inside its offset range, and renames
// it. (A trailing old segment none of whose records made it into repl lies
// past that range and survives such a recovery whole; it holds no record
// repl holds, so nothing is lost or doubled.)
//
// Everything is checked before step 1, under the append lock, which is
// held until step 3's renames are done: so no truncation, retention or
// DeleteRecords can remove or rewrite olds between the check and the
// swap, which would let a .swap left by a crash bring back data that was
// meant to be gone. The lock covers renames and one directory fsync (the
// directory is fsynced once before taking it, so that one has little to
// do), never the reading and writing of segment data; reads take no part
// in it. valid, when set, runs first under the lock: an error from it
// leaves the log and repl untouched.
//
// When the result is an error, repl is part of the log exactly when
// l.gone(repl) is false.
func (l *Log) replaceSegmentsIf(repl *segment, olds []*segment, valid func() error) error {
	if len(olds) == 0 {
		return fmt.Errorf("log: replacing no segments")
	}
	// Make repl's creation durable outside the lock.
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrStorage, l.dir, err)
	}

	l.appendMu.Lock()
	if err := l.swapLocked(repl, olds, valid); err != nil {
		l.appendMu.Unlock()
		return err
	}
	l.appendMu.Unlock()
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("fsync %s: %w", l.dir, err))
	}
	return nil
}

// swapLocked does steps 1 to 3 of replaceSegmentsIf but the last fsync;
// the caller holds appendMu.
func (l *Log) swapLocked(repl *segment, olds []*segment, valid func() error) error {
	if err := l.writable(); err != nil {
		return err
	}
	if valid != nil {
		if err := valid(); err != nil {
			return err
		}
	}
	l.mu.RLock()
	segs := l.segments
	i := slices.Index(segs, olds[0])
	run := i >= 0 && i+len(olds) <= len(segs)-1 && slices.Equal(segs[i:i+len(olds)], olds)
	fits := run && repl.base >= olds[0].base && repl.next <= segs[i+len(olds)].base
	l.mu.RUnlock()
	if !run {
		return fmt.Errorf("%w: segments to replace are not a run of closed segments of the log", ErrCleaningAborted)
	}
	if !fits {
		return fmt.Errorf("log: replacement segment %d does not fit where segments %d.. were", repl.base, olds[0].base)
	}

	if err := repl.renameSuffix(swapSuffix); err != nil {
		return fmt.Errorf("%w: renaming segment %d to .swap: %w", ErrStorage, repl.base, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("fsync %s: %w", l.dir, err))
	}

	l.mu.Lock()
	l.segments = slices.Concat(segs[:i], []*segment{repl}, segs[i+len(olds):])
	l.mu.Unlock()

	if err := l.doom(olds, time.Now()); err != nil {
		return err
	}
	if err := repl.renameSuffix(""); err != nil {
		return l.fail(fmt.Errorf("renaming segment %d from .swap: %w", repl.base, err))
	}
	l.dirDirty.Store(true)
	return nil
}
