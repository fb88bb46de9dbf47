package log

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// Origin says who wrote an append, which decides how it is validated.
type Origin int

const (
	// OriginClient is a producer: batches are fully validated (records
	// decoded, ValidateProduced), control batches are rejected, offsets and
	// the leader epoch are assigned by the log.
	OriginClient Origin = iota
	// OriginReplication is a follower copying the leader: offsets and
	// epochs are already assigned and kept; they must continue the log
	// (a gap is allowed: the leader's log may be compacted). A partial
	// batch at the end of the bytes (a fetch cut at its size limit) is
	// dropped.
	OriginReplication
	// OriginCoordinator is an internal writer (group and transaction
	// coordinators, transaction markers): validated like a client but
	// control batches are allowed.
	OriginCoordinator
)

// String names the origin in messages.
func (o Origin) String() string {
	switch o {
	case OriginClient:
		return "client"
	case OriginReplication:
		return "replication"
	case OriginCoordinator:
		return "coordinator"
	}
	return fmt.Sprintf("origin(%d)", int(o))
}

// AppendOptions qualify one Append.
type AppendOptions struct {
	Origin Origin
	// LeaderEpoch is stamped into every batch as its partitionLeaderEpoch
	// and recorded in the leader-epoch cache (not for replication, whose
	// batches keep the leader's). The leader passes its current epoch.
	LeaderEpoch int32
	// Now is the append time (LogAppendTime, segment.ms); zero means
	// time.Now().
	Now time.Time
}

// AppendInfo describes a successful append.
type AppendInfo struct {
	// FirstOffset and LastOffset are the first and last offsets written
	// (-1 when nothing was).
	FirstOffset, LastOffset int64
	// LogAppendTime is the timestamp stamped on the batches, -1 unless the
	// topic uses LogAppendTime.
	LogAppendTime int64
	// MaxTimestamp is the largest batch timestamp written (-1 for none).
	MaxTimestamp int64
	NumRecords   int
	// Bytes is the number of bytes written.
	Bytes int
	// LogStartOffset is the log start offset after the append.
	LogStartOffset int64
	// Duplicate says the append was the retry of an idempotent producer's
	// batch that the log already holds: nothing was written, and
	// FirstOffset and LastOffset are the offsets the batch got the first
	// time (MaxTimestamp is its timestamp then). Kafka answers such a
	// retry with success and the original offsets.
	Duplicate bool
}

// Append writes the record bytes of one produce partition (one or more
// whole batches) to the end of the log, all or nothing.
//
// Every batch is checked first: ValidateHeader, then for clients the full
// ValidateProduced (records decoded, no control batch) and for coordinators
// Validate; a batch larger than max.message.bytes is ErrRecordTooLarge (not
// for replication, as in Kafka: the leader checked it), a record with a null
// key on a compacted topic is ErrInvalidRecord. Then, under the append
// lock, offsets are assigned from the log end offset, the leader epoch is
// stamped and LogAppendTime applied (rewriting those header fields of
// records in place; replicated batches keep theirs), batches with a
// producer ID are checked against the producer state (see Producers: a
// duplicate returns the original offsets with Duplicate set and writes
// nothing, a sequence gap is ErrOutOfOrderSequence, an old producer epoch
// ErrInvalidProducerEpoch; a transaction marker from an old coordinator
// epoch ErrCoordinatorFenced; replicated batches only update it), the
// segment rolls if due, and the bytes are written in one call. A
// transactional batch starts its producer's transaction if none is
// ongoing; a marker ends it, and an ABORT marker adds an entry to the
// active segment's aborted transaction index. Epochs new to the leader-
// epoch cache are recorded. With flush.messages reached, Append returns
// only once the data is fsynced; concurrent appenders share that fsync.
//
// On a write error the segment is cut back and the error (ErrStorage)
// returned; nothing of the call remains. An error from an fsync or an
// index write fails the log (see ErrStorage).
func (l *Log) Append(records []byte, opts AppendOptions) (AppendInfo, error) {
	l.mu.RLock()
	cfg := l.cfg
	l.mu.RUnlock()
	batches, n, err := splitBatches(records, opts.Origin, &cfg)
	if err != nil {
		return AppendInfo{}, err
	}
	if len(batches) == 0 {
		return AppendInfo{FirstOffset: -1, LastOffset: -1, LogAppendTime: -1, MaxTimestamp: -1, LogStartOffset: l.LogStartOffset()}, nil
	}
	data := records[:n]
	if int64(n) > cfg.SegmentBytes {
		return AppendInfo{}, fmt.Errorf("%w: %d bytes cannot fit in a segment of segment.bytes=%d", ErrRecordTooLarge, n, cfg.SegmentBytes)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}

	l.appendMu.Lock()
	info, flushTo, err := l.appendLocked(data, batches, opts, now)
	l.appendMu.Unlock()
	if err != nil {
		return AppendInfo{}, err
	}
	if flushTo > 0 {
		if err := l.flushTo(flushTo); err != nil {
			return AppendInfo{}, err
		}
	}
	return info, nil
}

// splitBatches splits records into batches and runs the checks that need
// no log state. n is the number of bytes of whole batches.
func splitBatches(records []byte, origin Origin, cfg *Config) (batches []record.Batch, n int, err error) {
	rest := records
	for i := 0; len(rest) > 0; i++ {
		b, r, err := record.Next(rest)
		if err != nil {
			if origin == OriginReplication && errors.Is(err, record.ErrTruncated) {
				break
			}
			return nil, 0, fmt.Errorf("%w: batch %d: %w", ErrInvalidRecord, i, err)
		}
		if origin != OriginReplication && b.Size() > int(cfg.MaxMessageBytes) {
			return nil, 0, fmt.Errorf("%w: batch %d is %d bytes, max.message.bytes is %d", ErrRecordTooLarge, i, b.Size(), cfg.MaxMessageBytes)
		}
		switch origin {
		case OriginClient:
			err = b.ValidateProduced()
		case OriginCoordinator:
			err = b.Validate()
		default:
			err = b.ValidateHeader()
		}
		if err == nil && origin != OriginReplication && cfg.Compact {
			err = checkKeys(b)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: batch %d: %w", ErrInvalidRecord, i, err)
		}
		batches = append(batches, b)
		n += b.Size()
		rest = r
	}
	if len(batches) == 0 && origin != OriginReplication {
		return nil, 0, fmt.Errorf("%w: no record batch", ErrInvalidRecord)
	}
	return batches, n, nil
}

// appendLocked does the part of Append under the append lock. flushTo is
// the offset to fsync up to before returning, 0 for none.
func (l *Log) appendLocked(data []byte, batches []record.Batch, opts AppendOptions, now time.Time) (info AppendInfo, flushTo int64, err error) {
	if err := l.writable(); err != nil {
		return info, 0, err
	}
	cfg := &l.cfg // stable: SetConfig takes appendMu
	l.mu.RLock()
	next := l.leo
	seg := l.activeLocked()
	l.mu.RUnlock()

	appendTime := int64(-1)
	if cfg.LogAppendTime && opts.Origin != OriginReplication {
		appendTime = now.UnixMilli()
	}
	maxTs := int64(-1)
	numRecords := 0
	for i, b := range batches {
		if opts.Origin == OriginReplication {
			if b.BaseOffset() < next {
				return info, 0, fmt.Errorf("%w: batch %d starts at offset %d, below the log end offset %d", ErrInvalidRecord, i, b.BaseOffset(), next)
			}
		} else {
			b.SetBaseOffset(next)
			b.SetPartitionLeaderEpoch(opts.LeaderEpoch)
			if appendTime >= 0 {
				b.SetLogAppendTime(appendTime)
			}
		}
		next = b.NextOffset()
		maxTs = max(maxTs, b.MaxTimestamp())
		numRecords += int(b.NumRecords())
	}
	first, last := batches[0].BaseOffset(), next-1
	if last-first > math.MaxInt32 {
		return info, 0, fmt.Errorf("%w: the batches span offsets %d to %d, too many for one segment", ErrInvalidRecord, first, last)
	}
	pc, err := l.producers.check(batches, opts.Origin)
	if err != nil {
		return info, 0, err
	}
	if d := pc.duplicate; d != nil {
		l.mu.RLock()
		lso := l.logStart
		l.mu.RUnlock()
		if appendTime >= 0 {
			appendTime = d.Timestamp // the time stamped on the original
		}
		return AppendInfo{
			FirstOffset:    d.FirstOffset,
			LastOffset:     d.LastOffset,
			LogAppendTime:  appendTime,
			MaxTimestamp:   d.Timestamp,
			LogStartOffset: lso,
			Duplicate:      true,
		}, 0, nil
	}

	if seg.rollDue(cfg, int64(len(data)), maxTs, last, now) || (seg.size.Load() == 0 && last-seg.base > math.MaxInt32) {
		if seg, err = l.rollLocked(first, now); err != nil {
			return info, 0, err
		}
	}

	pos := seg.size.Load()
	if _, err := seg.log.WriteAt(data, pos); err != nil {
		werr := fmt.Errorf("%w: writing %d bytes to %s at %d: %w", ErrStorage, len(data), seg.path(logExt), pos, err)
		if terr := seg.log.Truncate(pos); terr != nil {
			return info, 0, l.fail(fmt.Errorf("%w (and cutting it back failed: %v)", werr, terr))
		}
		return info, 0, werr
	}
	seg.size.Store(pos + int64(len(data)))
	p := pos
	for _, b := range batches {
		seg.account(b, int64(b.Size()), p)
		p += int64(b.Size())
	}
	if err := seg.persistIndexes(false); err != nil {
		return info, 0, l.fail(err)
	}
	l.producers.apply(pc)
	// Transactions start and end before the log end offset moves, so the
	// last stable offset never covers an open transaction's batches.
	if aborted := l.applyTxnEvents(pc.events); len(aborted) > 0 {
		if err := seg.appendAborted(aborted); err != nil {
			return info, 0, l.fail(err)
		}
	}

	l.mu.Lock()
	l.leo = next
	epochsChanged := false
	for _, b := range batches {
		if e := b.PartitionLeaderEpoch(); e >= 0 && l.epochs.assign(e, b.BaseOffset()) {
			epochsChanged = true
		}
	}
	unflushed := l.leo - l.recoveryPoint
	info = AppendInfo{
		FirstOffset:    first,
		LastOffset:     last,
		LogAppendTime:  appendTime,
		MaxTimestamp:   maxTs,
		NumRecords:     numRecords,
		Bytes:          len(data),
		LogStartOffset: l.logStart,
	}
	l.mu.Unlock()
	if epochsChanged {
		if err := l.persistEpochs(); err != nil {
			return AppendInfo{}, 0, err
		}
	}
	if unflushed >= cfg.FlushMessages {
		flushTo = next
	}
	return info, flushTo, nil
}

// Roll closes the active segment and starts a new one at the log end
// offset. An empty active segment is kept as it is.
func (l *Log) Roll() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	l.mu.RLock()
	leo := l.leo
	l.mu.RUnlock()
	_, err := l.rollLocked(leo, time.Now())
	return err
}

// rollLocked makes a new active segment at base (the first offset of the
// append that caused the roll, or the log end offset). The old one is
// finished (final time index entry, indexes written and dropped from
// memory, preallocation trimmed) and, as in Kafka, fsynced in the
// background so that the recovery point keeps up without making this
// append wait.
func (l *Log) rollLocked(base int64, now time.Time) (*segment, error) {
	l.mu.RLock()
	old := l.activeLocked()
	cfg := l.cfg
	l.mu.RUnlock()
	if old.size.Load() == 0 {
		if old.base == base {
			return old, nil
		}
		// An empty segment whose base is too far from the next offset
		// (a replicated gap): replace it.
		seg, err := createSegment(l.fs, l.dir, base, "", &cfg, now)
		if err != nil {
			return nil, l.fail(err)
		}
		l.dirDirty.Store(true)
		l.mu.Lock()
		segs := slices.Clone(l.segments)
		segs[len(segs)-1] = seg
		l.segments = segs
		l.mu.Unlock()
		if err := old.removeFiles(); err != nil {
			return nil, l.fail(err)
		}
		return seg, nil
	}
	if err := l.finishActive(old, &cfg); err != nil {
		return nil, l.fail(err)
	}
	// As Kafka does on every roll, snapshot the producer state: a reopen
	// then replays only the batches after it.
	// A snapshot that cannot be written costs only time at the next open.
	if err := writeSnapshot(l.fs, l.dir, base, l.producers); err != nil {
		l.logger.Warn("writing producer snapshot", "offset", base, "err", err)
	}
	if err := old.offIdx.deactivate(); err != nil {
		return nil, l.fail(err)
	}
	if err := old.timeIdx.deactivate(); err != nil {
		return nil, l.fail(err)
	}
	seg, err := createSegment(l.fs, l.dir, base, "", &cfg, now)
	if err != nil {
		return nil, l.fail(err)
	}
	l.dirDirty.Store(true)
	l.mu.Lock()
	l.segments = append(slices.Clip(l.segments), seg)
	l.mu.Unlock()
	l.logger.Debug("rolled segment", "offset", base, "previous_segment", old.base, "previous_bytes", old.size.Load())
	l.bg.Go(func() {
		if err := l.flushTo(base); err != nil && !errors.Is(err, ErrClosed) {
			l.logger.Error("flushing rolled segment", "offset", base, "err", err)
		}
	})
	return seg, nil
}
