package log

import "errors"

// Errors returned by the log. They are matched with errors.Is; the wrapped
// message says which offset, file or rule was involved. The broker's server
// layer maps them to Kafka error codes (OFFSET_OUT_OF_RANGE,
// RECORD_TOO_LARGE, INVALID_RECORD, CORRUPT_MESSAGE, KAFKA_STORAGE_ERROR,
// TRANSACTION_COORDINATOR_FENCED, …).
var (
	// ErrOffsetOutOfRange means an offset lies below the log start offset
	// or above the log end offset (or, for DeleteRecordsBefore, above the
	// high watermark).
	ErrOffsetOutOfRange = errors.New("log: offset out of range")

	// ErrRecordTooLarge means a batch exceeds max.message.bytes or an
	// append cannot fit in one segment (segment.bytes).
	ErrRecordTooLarge = errors.New("log: record batch too large")

	// ErrInvalidRecord means an appended batch breaks a rule: a bad header
	// or CRC (the record package's error is wrapped as well, so
	// errors.Is(err, record.ErrCorrupt) tells CORRUPT_MESSAGE apart), a
	// control batch from a client, a null key on a compacted topic, or
	// offsets that do not continue the log.
	ErrInvalidRecord = errors.New("log: invalid record")

	// ErrOutOfOrderSequence means an idempotent producer's batch does not
	// continue its sequence numbers (a gap, or a new epoch not starting at
	// 0): OUT_OF_ORDER_SEQUENCE_NUMBER.
	ErrOutOfOrderSequence = errors.New("log: out of order sequence number")

	// ErrInvalidProducerEpoch means an idempotent producer wrote with an
	// epoch older than the partition knows: it has been fenced by a newer
	// instance. INVALID_PRODUCER_EPOCH.
	ErrInvalidProducerEpoch = errors.New("log: invalid producer epoch")

	// ErrCoordinatorFenced means a transaction marker carries a
	// coordinator epoch older than one the partition has seen for its
	// producer: a transaction coordinator that has since been replaced
	// wrote it. TRANSACTION_COORDINATOR_FENCED.
	ErrCoordinatorFenced = errors.New("log: transaction coordinator fenced")

	// ErrInvalidTxnState means a producer with a transaction ongoing in
	// the partition wrote a batch that is not transactional, which Kafka
	// refuses: INVALID_TXN_STATE.
	ErrInvalidTxnState = errors.New("log: invalid transaction state")

	// ErrCorruptLog means the files on disk cannot be a valid log and
	// recovery could not repair them.
	ErrCorruptLog = errors.New("log: corrupt log")

	// ErrCorruptCheckpoint means a checkpoint file is malformed; the
	// message names the file and line.
	ErrCorruptCheckpoint = errors.New("log: corrupt checkpoint file")

	// ErrClosed means the log was closed.
	ErrClosed = errors.New("log: closed")

	// ErrStorage means a write, truncate or fsync failed. After a failed
	// fsync nothing is known about what reached the disk, so the log
	// refuses further writes until it is reopened (and recovered), as
	// Kafka takes a failed log directory offline.
	ErrStorage = errors.New("log: storage error")

	// ErrInvalidConfig means a Config field is out of range; the message
	// names the Kafka property.
	ErrInvalidConfig = errors.New("log: invalid config")

	// ErrInvalidDirName means a directory name is not <topic>-<partition>.
	ErrInvalidDirName = errors.New("log: invalid partition directory name")
)
