package log

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// DeleteRecordsBefore moves the log start offset up to offset (the
// DeleteRecords API) and deletes the segments wholly below it; the active
// segment is never deleted, so the start offset may lie inside a segment.
// An offset above the high watermark is ErrOffsetOutOfRange, as in Kafka;
// one at or below the current start offset changes nothing.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.Lock()
	if offset > l.hw {
		hw := l.hw
		l.mu.Unlock()
		return fmt.Errorf("%w: cannot delete records before %d, above the high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	if offset <= l.logStart {
		l.mu.Unlock()
		return nil
	}
	l.logStart = offset
	l.recoveryPoint = max(l.recoveryPoint, offset) // as Kafka: nothing below the start needs recovery
	changed := l.epochs.truncateFromStart(offset)
	segs := l.segments
	l.mu.Unlock()
	if changed {
		if err := l.persistEpochs(); err != nil {
			return err
		}
	}
	k := 0
	for k < len(segs)-1 && segs[k+1].base <= offset {
		k++
	}
	return l.deleteSegmentsLocked(k, "log start offset", time.Now())
}

// ApplyRetention deletes the oldest segments that retention allows, never
// the active one and never one holding offsets at or above the high
// watermark: while a segment's successor starts at or below the log start
// offset, or (with cleanup.policy delete) its newest timestamp is more than
// retention.ms before now (the file's modification time when it has no
// timestamps) or the log without it is still at least retention.bytes. The
// log start offset moves to the first remaining segment. It also removes
// the files of earlier deleted segments whose file.delete.delay.ms has
// passed, forgets the idempotent producers whose latest batch is older than
// producer.id.expiration.ms, and returns how many segments it deleted.
func (l *Log) ApplyRetention(now time.Time) (deleted int, err error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	l.mu.RLock()
	cfg, segs, hw, lso := l.cfg, l.segments, l.hw, l.logStart
	l.mu.RUnlock()

	var total int64
	for _, s := range segs {
		total += s.size.Load()
	}
	excess := int64(-1) // bytes over retention.bytes
	if cfg.Delete && cfg.RetentionBytes >= 0 && total >= cfg.RetentionBytes {
		excess = total - cfg.RetentionBytes
	}
	nowMs := now.UnixMilli()
	k := 0
	reason := ""
	for ; k < len(segs)-1; k++ {
		s, next := segs[k], segs[k+1]
		if next.base > hw {
			break
		}
		size := s.size.Load()
		switch {
		case next.base <= lso:
			reason = "log start offset"
		case cfg.Delete && cfg.RetentionBytes >= 0 && excess-size >= 0:
			reason = "retention.bytes"
		case cfg.Delete && cfg.RetentionMs >= 0:
			ts, err := l.largestTimestamp(s)
			if err != nil {
				return 0, err
			}
			if nowMs-ts <= cfg.RetentionMs {
				goto done
			}
			reason = "retention.ms"
		default:
			goto done
		}
		excess -= size
	}
done:
	if err := l.deleteSegmentsLocked(k, reason, now); err != nil {
		return 0, err
	}
	if n := l.producers.expire(nowMs, cfg.ProducerIDExpirationMs); n > 0 {
		l.logger.Debug("expired producer ids", "count", n)
	}
	return k, l.removeDoomed(now)
}

// largestTimestamp is the timestamp retention.ms measures: the segment's
// largest record timestamp, or its file's modification time when it has
// none.
func (l *Log) largestTimestamp(s *segment) (int64, error) {
	ts, _, err := s.maxTimestamp()
	if err != nil {
		return 0, err
	}
	if ts >= 0 {
		return ts, nil
	}
	fi, err := s.log.Stat()
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrStorage, s.path(logExt), err)
	}
	return fi.ModTime().UnixMilli(), nil
}

// deleteSegmentsLocked removes the first k segments (never the active
// one) from the log, moves the log start offset up to the new first
// segment and schedules the files for deletion.
func (l *Log) deleteSegmentsLocked(k int, reason string, now time.Time) error {
	if k == 0 {
		return nil
	}
	l.mu.Lock()
	segs := l.segments
	k = min(k, len(segs)-1)
	gone := segs[:k]
	l.segments = slices.Clone(segs[k:])
	changed := false
	if b := l.segments[0].base; b > l.logStart {
		l.logStart = b
		changed = l.epochs.truncateFromStart(b)
	}
	l.hw = max(l.hw, l.logStart)
	l.recoveryPoint = max(l.recoveryPoint, l.logStart)
	lso := l.logStart
	l.mu.Unlock()
	for _, s := range gone {
		l.logger.Info("deleting segment", "segment", s.base, "reason", reason, "log_start_offset", lso)
	}
	if err := l.doom(gone, now); err != nil {
		return err
	}
	// Snapshots before the first segment can no longer be replayed from.
	first := l.segments[0].base
	if err := removeSnapshots(l.fs, l.dir, func(off int64) bool { return off < first }); err != nil {
		l.logger.Warn("removing old producer snapshots", "err", err)
	}
	if changed {
		return l.persistEpochs()
	}
	return nil
}

// doom renames segments that left the log to *.deleted and schedules their
// removal after file.delete.delay.ms (at once when the delay is 0). Their
// files stay open meanwhile so that reads in progress complete.
func (l *Log) doom(segs []*segment, now time.Time) error {
	l.mu.RLock()
	delay := time.Duration(l.cfg.fileDeleteDelayMs()) * time.Millisecond
	l.mu.RUnlock()
	for _, s := range segs {
		if err := s.renameSuffix(deletedSuffix); err != nil {
			return l.fail(fmt.Errorf("renaming segment %d for deletion: %w", s.base, err))
		}
		l.dirDirty.Store(true)
		if delay == 0 {
			if err := s.removeFiles(); err != nil {
				return l.fail(fmt.Errorf("deleting segment %d: %w", s.base, err))
			}
			continue
		}
		l.doomed = append(l.doomed, doomedSegment{seg: s, deadline: now.Add(delay)})
	}
	return nil
}

// removeDoomed closes and removes deleted segments whose delay has passed.
func (l *Log) removeDoomed(now time.Time) error {
	kept := l.doomed[:0]
	var err error
	for _, d := range l.doomed {
		if now.Before(d.deadline) {
			kept = append(kept, d)
			continue
		}
		if e := d.seg.removeFiles(); e != nil && err == nil {
			err = l.fail(fmt.Errorf("deleting segment %d: %w", d.seg.base, e))
		}
	}
	clear(l.doomed[len(kept):])
	l.doomed = kept
	return err
}

// Truncate removes every offset >= offset (a follower truncating to the
// leader's log after an epoch change). Segments wholly above it are
// deleted; the one holding it is cut in place, a batch straddling offset
// going whole. The log end offset becomes offset; the high watermark,
// recovery point and log start offset are lowered to it if above, and the
// leader-epoch cache loses the entries starting at or after it. An offset
// at or above the log end offset changes nothing; one below the first
// segment empties the log (TruncateFullyAndStartAt).
func (l *Log) Truncate(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: cannot truncate to negative offset %d", ErrOffsetOutOfRange, offset)
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.RLock()
	segs, leo := l.segments, l.leo
	l.mu.RUnlock()
	if offset >= leo {
		return nil
	}
	now := time.Now()
	if offset < segs[0].base {
		return l.truncateFullyLocked(offset, now)
	}
	k := floorSegment(segs, offset)
	seg, gone := segs[k], segs[k+1:]

	l.mu.Lock()
	l.segments = slices.Clone(segs[:k+1])
	l.leo = offset
	l.hw = min(l.hw, offset)
	l.recoveryPoint = min(l.recoveryPoint, offset)
	l.logStart = min(l.logStart, offset)
	l.truncations++
	l.epochs.truncateFromEnd(offset)
	l.mu.Unlock()
	l.logger.Info("truncating", "offset", offset, "log_end_offset", leo)

	if err := l.doom(gone, now); err != nil {
		return err
	}
	if err := seg.truncateTo(offset, now); err != nil {
		return l.fail(err)
	}
	seg.next = offset
	// The aborted transaction index loses the transactions whose marker
	// went.
	if err := seg.truncateAborted(offset); err != nil {
		return l.fail(err)
	}
	// The producer state forgets the removed batches: it is rebuilt from
	// the latest snapshot at or below offset, as Kafka rebuilds it, and
	// with it the ongoing transactions.
	if err := l.loadProducers(offset, offset, math.MaxInt64); err != nil {
		return l.fail(err)
	}
	return l.persistEpochs()
}

// TruncateFullyAndStartAt deletes every segment and starts an empty log at
// offset: log start, log end, high watermark and recovery point all become
// offset and the leader-epoch cache is cleared, as Kafka does when a
// follower's log lies entirely outside the leader's.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: cannot start the log at negative offset %d", ErrOffsetOutOfRange, offset)
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	return l.truncateFullyLocked(offset, time.Now())
}

func (l *Log) truncateFullyLocked(offset int64, now time.Time) error {
	l.mu.RLock()
	segs, cfg := l.segments, l.cfg
	l.mu.RUnlock()
	// The old files move out of the way first: the new segment may have the
	// same base offset.
	if err := l.doom(segs, now); err != nil {
		return err
	}
	seg, err := createSegment(l.fs, l.dir, offset, "", &cfg, now)
	if err != nil {
		return l.fail(err)
	}
	l.dirDirty.Store(true)
	l.mu.Lock()
	l.segments = []*segment{seg}
	l.leo, l.logStart, l.hw, l.recoveryPoint = offset, offset, offset, offset
	l.truncations++
	l.epochs.entries = nil
	l.mu.Unlock()
	l.producers = producers{}
	l.resetTxns()
	if err := removeSnapshots(l.fs, l.dir, func(int64) bool { return true }); err != nil {
		return l.fail(err)
	}
	l.logger.Info("truncated fully", "offset", offset)
	return l.persistEpochs()
}
