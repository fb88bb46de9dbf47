package log

import (
	"fmt"

	"github.com/runnel/runnel/broker/record"
)

// OffsetForTimestamp answers ListOffsets for a timestamp: the first offset
// at or after the log start offset whose record timestamp is >= ts, and
// that record's timestamp. found is false when no record has such a
// timestamp (the caller answers with the log end offset).
//
// The search skips segments whose largest timestamp is below ts, then uses
// the time index to skip batches known to be older, reads batch headers
// until one's maxTimestamp reaches ts and decodes only that batch.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, found bool, err error) {
	l.mu.RLock()
	closed, lso, segs := l.closed, l.logStart, l.segments
	l.mu.RUnlock()
	if closed {
		return -1, -1, false, ErrClosed
	}
	for _, s := range segs[floorSegment(segs, lso):] {
		maxTs, _, err := s.maxTimestamp()
		if err != nil {
			return -1, -1, false, err
		}
		if maxTs < ts {
			continue
		}
		offset, timestamp, found, err := s.searchTimestamp(ts, lso)
		if err != nil || found {
			return offset, timestamp, found, err
		}
	}
	return -1, -1, false, nil
}

// searchTimestamp finds the first record at or after minOffset with a
// timestamp >= ts in the segment.
func (s *segment) searchTimestamp(ts, minOffset int64) (offset, timestamp int64, found bool, err error) {
	if err := s.ensureIndexes(); err != nil {
		return -1, -1, false, err
	}
	// Every batch up to the one holding the last time index entry below ts
	// is older than ts.
	start, _, err := s.timeIdx.lookupTimeBefore(ts)
	if err != nil {
		return -1, -1, false, err
	}
	_, pos, err := s.offIdx.lookupOffset(max(start, minOffset))
	if err != nil {
		return -1, -1, false, err
	}
	limit := s.size.Load()
	var hdr [record.HeaderSize]byte
	for pos < limit {
		h, err := s.header(pos, limit, &hdr)
		if err != nil {
			return -1, -1, false, err
		}
		size := h.Size()
		if h.LastOffset() >= minOffset && h.MaxTimestamp() >= ts {
			b, err := s.readBatch(pos, size)
			if err != nil {
				return -1, -1, false, err
			}
			offset, timestamp, found, err := firstRecordAtOrAfter(b, ts, minOffset)
			if err != nil || found {
				return offset, timestamp, found, err
			}
		}
		pos += int64(size)
	}
	return -1, -1, false, nil
}

// readBatch reads the whole batch of size bytes at pos.
func (s *segment) readBatch(pos int64, size int) (record.Batch, error) {
	buf := make([]byte, size)
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, fmt.Errorf("%w: reading %s at %d: %w", ErrStorage, s.path(logExt), pos, err)
	}
	return record.Batch(buf), nil
}

// MaxTimestamp answers ListOffsets with timestamp -3 (KIP-734): the offset
// and timestamp of the first record holding the largest timestamp in the
// log, or (-1, -1) when the log has no timestamped record.
func (l *Log) MaxTimestamp() (offset, timestamp int64, err error) {
	l.mu.RLock()
	closed, segs := l.closed, l.segments
	l.mu.RUnlock()
	if closed {
		return -1, -1, ErrClosed
	}
	var best *segment
	bestTs, bestOff := int64(-1), int64(-1)
	for _, s := range segs {
		ts, off, err := s.maxTimestamp()
		if err != nil {
			return -1, -1, err
		}
		if ts > bestTs {
			best, bestTs, bestOff = s, ts, off
		}
	}
	if best == nil {
		return -1, -1, nil
	}
	_, pos, err := best.offIdx.lookupOffset(bestOff)
	if err != nil {
		return -1, -1, err
	}
	limit := best.size.Load()
	var hdr [record.HeaderSize]byte
	for pos < limit {
		h, err := best.header(pos, limit, &hdr)
		if err != nil {
			return -1, -1, err
		}
		if h.MaxTimestamp() == bestTs {
			b, err := best.readBatch(pos, h.Size())
			if err != nil {
				return -1, -1, err
			}
			off, err := offsetOfMaxTimestamp(b)
			return off, bestTs, err
		}
		pos += int64(h.Size())
	}
	// The batch is gone (truncated meanwhile); report its last offset.
	return bestOff, bestTs, nil
}
