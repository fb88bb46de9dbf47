package log

import (
	"fmt"
	"io"
	"slices"
)

// ReadResult is a byte range of one segment file holding whole batches,
// ready to be sent with sendfile (File is an *os.File on the OS file
// system) or copied with ReadInto.
//
// The range stays readable while the segment is part of the log and for
// file.delete.delay.ms after retention, DeleteRecordsBefore or truncation
// removes it: removed segments are renamed to *.deleted with their files
// left open, and closed and deleted only once the delay has passed (by
// ApplyRetention) or the log closes. A caller must finish with a
// ReadResult well within that delay. Truncation cuts the active segment in
// place, so bytes above the truncation point may change under a read in
// progress; reads below the high watermark are never affected.
type ReadResult struct {
	// File is the segment file, nil when Size is 0.
	File     File
	Position int64
	Size     int
	// FirstOffset is the base offset of the first batch, -1 when Size is 0.
	FirstOffset int64
	// NextOffset is the offset after the last batch, -1 when Size is 0: a
	// read_committed fetch asks AbortedTransactions up to it.
	NextOffset int64
}

// ReadInto appends the result's bytes to dst.
func (r ReadResult) ReadInto(dst []byte) ([]byte, error) {
	if r.Size == 0 {
		return dst, nil
	}
	n := len(dst)
	dst = slices.Grow(dst, r.Size)[:n+r.Size]
	if _, err := r.File.ReadAt(dst[n:], r.Position); err != nil && err != io.EOF {
		return dst[:n], fmt.Errorf("%w: reading %d bytes at %d: %w", ErrStorage, r.Size, r.Position, err)
	}
	return dst, nil
}

// Read returns whole batches starting with the one that holds offset: as
// many as fit in maxBytes, but at least that first one when minOneBatch
// even if it is larger; none whose base offset is >= maxOffset (the high
// watermark or last stable offset for consumers, the log end offset for
// followers). Reading at the log end offset, at or above maxOffset, or
// with a first batch over maxBytes without minOneBatch gives an empty
// result. An offset below the log start offset or above the log end offset
// is ErrOffsetOutOfRange.
//
// A result comes from one segment, as in Kafka; an offset past the end of
// a segment's data (a gap left by compaction or truncation) continues in
// the next segment.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (ReadResult, error) {
	empty := ReadResult{FirstOffset: -1, NextOffset: -1}
	l.mu.RLock()
	closed, lso, leo, segs := l.closed, l.logStart, l.leo, l.segments
	l.mu.RUnlock()
	if closed {
		return empty, ErrClosed
	}
	if offset < lso || offset > leo {
		return empty, fmt.Errorf("%w: offset %d is outside [%d, %d]", ErrOffsetOutOfRange, offset, lso, leo)
	}
	if offset == leo || offset >= maxOffset {
		return empty, nil
	}
	for _, s := range segs[floorSegment(segs, offset):] {
		res, found, err := s.read(offset, maxBytes, maxOffset, minOneBatch)
		if err != nil {
			return empty, fmt.Errorf("log: reading offset %d from segment %d: %w", offset, s.base, err)
		}
		if found {
			return res, nil
		}
	}
	return empty, nil
}
