package log

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Flush fsyncs the log up to the log end offset (segments, indexes and the
// directory) and advances the recovery point to it.
func (l *Log) Flush() error {
	if err := l.writable(); err != nil {
		return err
	}
	return l.flushTo(l.LogEndOffset())
}

// FlushIfDue flushes when Kafka's flush policy asks for it: flush.messages
// or more offsets are unflushed, or there is unflushed data and the last
// flush is flush.ms old. The data directory's flush loop calls it.
func (l *Log) FlushIfDue(now time.Time) error {
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.RLock()
	unflushed := l.leo - l.recoveryPoint
	due := unflushed > 0 && (unflushed >= l.cfg.FlushMessages || now.Sub(l.lastFlush).Milliseconds() >= l.cfg.FlushMs)
	leo := l.leo
	l.mu.RUnlock()
	if !due {
		return nil
	}
	return l.flushTo(leo)
}

// flushTo returns once everything below target is fsynced. This is the
// group commit: one flush runs at a time and covers everything written
// before it started; callers arriving meanwhile wait for it and, if it did
// not cover them, one of them runs the next, which covers them all.
func (l *Log) flushTo(target int64) error {
	for {
		l.flushMu.Lock()
		l.mu.RLock()
		rp, failed, closed := l.recoveryPoint, l.failed, l.closed
		// A truncation may have lowered the log end offset below target.
		target = min(target, l.leo)
		l.mu.RUnlock()
		switch {
		case rp >= target:
			l.flushMu.Unlock()
			return nil
		case closed:
			l.flushMu.Unlock()
			return ErrClosed
		case failed != nil:
			l.flushMu.Unlock()
			return fmt.Errorf("%w: the log failed earlier and must be reopened: %w", ErrStorage, failed)
		}
		if ch := l.flushing; ch != nil {
			l.flushMu.Unlock()
			<-ch
			continue
		}
		ch := make(chan struct{})
		l.flushing = ch
		l.flushMu.Unlock()

		err := l.flushOnce()

		l.flushMu.Lock()
		l.flushing = nil
		close(ch)
		l.flushMu.Unlock()
		if err != nil {
			return err
		}
	}
}

// flushOnce fsyncs every segment from the one holding the recovery point to
// the active one, after writing the active segment's pending index entries,
// and moves the recovery point to the log end offset seen at the start.
// Only the index write happens under the append lock; the fsyncs do not
// block appenders.
func (l *Log) flushOnce() error {
	l.appendMu.Lock()
	l.mu.RLock()
	leo, rp, segs, closed, gen := l.leo, l.recoveryPoint, l.segments, l.closed, l.truncations
	l.mu.RUnlock()
	if closed {
		l.appendMu.Unlock()
		return ErrClosed
	}
	segs = segs[floorSegment(segs, rp):]
	err := segs[len(segs)-1].persistIndexes(true)
	l.appendMu.Unlock()
	if err != nil {
		return l.fail(err)
	}

	for _, s := range segs {
		if err := s.sync(); err != nil {
			if l.gone(s) && errors.Is(err, os.ErrClosed) {
				continue // deleted meanwhile: nothing left to make durable
			}
			return l.fail(err)
		}
	}
	if l.dirDirty.Swap(false) {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return l.fail(fmt.Errorf("fsync %s: %w", l.dir, err))
		}
	}
	l.mu.Lock()
	// A truncation meanwhile may have replaced offsets below leo with
	// bytes this flush did not see.
	if leo > l.recoveryPoint && gen == l.truncations {
		l.recoveryPoint = leo
	}
	l.lastFlush = time.Now()
	l.mu.Unlock()
	return nil
}

// gone reports whether s is no longer one of the log's segments.
func (l *Log) gone(s *segment) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, t := range l.segments {
		if t == s {
			return false
		}
	}
	return true
}
