package log

import (
	"fmt"

	"github.com/runnel/runnel/broker/record"
)

// This file holds the few places where the log looks inside batches at
// individual records; everything else works on batch headers.

// checkKeys rejects a record with a null key in a non-control batch, as
// Kafka does for topics whose cleanup.policy contains compact: the cleaner
// could not tell which later record supersedes it.
func checkKeys(b record.Batch) error {
	if b.Attributes().Control() {
		return nil
	}
	recs, err := b.DecodeRecords()
	if err != nil {
		return err
	}
	for i, r := range recs {
		if r.Key == nil {
			return fmt.Errorf("record %d (offset delta %d) has a null key, which a compacted topic does not accept", i, r.Offset-b.BaseOffset())
		}
	}
	return nil
}

// firstRecordAtOrAfter returns the first record of b at or after offset
// minOffset whose timestamp is >= ts. In a LogAppendTime batch every record
// carries the batch's maxTimestamp.
func firstRecordAtOrAfter(b record.Batch, ts, minOffset int64) (offset, timestamp int64, found bool, err error) {
	if b.Attributes().LogAppendTime() {
		if b.MaxTimestamp() >= ts && b.LastOffset() >= minOffset {
			return max(b.BaseOffset(), minOffset), b.MaxTimestamp(), true, nil
		}
		return 0, 0, false, nil
	}
	recs, err := b.DecodeRecords()
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: batch at offset %d: %w", ErrCorruptLog, b.BaseOffset(), err)
	}
	for _, r := range recs {
		if r.Offset >= minOffset && r.Timestamp >= ts {
			return r.Offset, r.Timestamp, true, nil
		}
	}
	return 0, 0, false, nil
}

// offsetOfMaxTimestamp returns the offset of the first record of b whose
// timestamp is b's maxTimestamp (KIP-734): the base offset for a
// LogAppendTime batch.
func offsetOfMaxTimestamp(b record.Batch) (int64, error) {
	if b.Attributes().LogAppendTime() {
		return b.BaseOffset(), nil
	}
	recs, err := b.DecodeRecords()
	if err != nil {
		return 0, fmt.Errorf("%w: batch at offset %d: %w", ErrCorruptLog, b.BaseOffset(), err)
	}
	for _, r := range recs {
		if r.Timestamp == b.MaxTimestamp() {
			return r.Offset, nil
		}
	}
	// The header's maxTimestamp matches no record (a producer that set it
	// loosely): the batch is still the one holding the maximum.
	return b.BaseOffset(), nil
}
