// This file holds the batch header view: field accessors, in-place
// rewrites of the fields the leader owns, CRC-32C, and splitting a buffer
// into batches.

package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Field offsets inside a batch header.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// HeaderSize is the size of a v2 batch header: the bytes before the
	// first record.
	HeaderSize = 61

	// LogOverhead is the part of the header not counted by batchLength
	// (baseOffset and batchLength themselves).
	LogOverhead = 12

	// Magic is the only batch format Runnel accepts.
	Magic = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned by parsing and validation. Each wrapped error says which
// rule failed; the server maps them to CORRUPT_MESSAGE or INVALID_RECORD.
var (
	// ErrTruncated means the buffer ends before the batch it starts does.
	ErrTruncated = errors.New("record: truncated batch")
	// ErrCorrupt means the bytes cannot be a valid batch (bad length, bad
	// CRC, undecodable records). Kafka answers CORRUPT_MESSAGE.
	ErrCorrupt = errors.New("record: corrupt batch")
	// ErrBadMagic means the batch is not magic 2.
	ErrBadMagic = errors.New("record: unsupported magic")
	// ErrInvalid means the batch is well-formed but breaks a rule about
	// its contents (count/lastOffsetDelta mismatch, offsets out of order).
	// Kafka answers INVALID_RECORD.
	ErrInvalid = errors.New("record: invalid batch")
)

// Compression codecs, as stored in the low three attribute bits.
type Compression int8

const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	CompressionLZ4    Compression = 3
	CompressionZstd   Compression = 4
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", int8(c))
}

// Attributes are the batch's attribute bits.
type Attributes int16

const (
	attrCompressionMask = 0x07
	attrTimestampType   = 0x08 // set: LogAppendTime
	attrTransactional   = 0x10
	attrControl         = 0x20
	attrDeleteHorizon   = 0x40 // KIP-534: baseTimestamp holds the delete horizon
)

// Compression returns the batch's codec.
func (a Attributes) Compression() Compression { return Compression(a & attrCompressionMask) }

// LogAppendTime reports whether timestamps are the broker's append time.
func (a Attributes) LogAppendTime() bool { return a&attrTimestampType != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (a Attributes) Transactional() bool { return a&attrTransactional != 0 }

// Control reports whether the batch holds a control record (a transaction marker).
func (a Attributes) Control() bool { return a&attrControl != 0 }

// HasDeleteHorizon reports whether the first timestamp is the delete horizon
// set by the log cleaner (KIP-534).
func (a Attributes) HasDeleteHorizon() bool { return a&attrDeleteHorizon != 0 }

// Batch is a view over exactly one encoded batch. Accessors read the
// header without checking its bounds: obtain a Batch through Next (which
// guarantees at least the header and the whole length) or call
// ValidateHeader before trusting a Batch made from arbitrary bytes.
type Batch []byte

func (b Batch) i16(off int) int16 { return int16(binary.BigEndian.Uint16(b[off:])) }
func (b Batch) i32(off int) int32 { return int32(binary.BigEndian.Uint32(b[off:])) }
func (b Batch) i64(off int) int64 { return int64(binary.BigEndian.Uint64(b[off:])) }

// BaseOffset is the offset of the first record.
func (b Batch) BaseOffset() int64 { return b.i64(offBaseOffset) }

// Length is the batchLength field: the batch size minus LogOverhead.
func (b Batch) Length() int32 { return b.i32(offLength) }

// Size is the whole batch's size in bytes.
func (b Batch) Size() int { return int(b.Length()) + LogOverhead }

// PartitionLeaderEpoch is the leader epoch the batch was appended under.
func (b Batch) PartitionLeaderEpoch() int32 { return b.i32(offLeaderEpoch) }

// Magic is the format version byte.
func (b Batch) Magic() int8 { return int8(b[offMagic]) }

// CRC is the stored CRC-32C.
func (b Batch) CRC() uint32 { return binary.BigEndian.Uint32(b[offCRC:]) }

// Attributes are the batch attribute bits.
func (b Batch) Attributes() Attributes { return Attributes(b.i16(offAttributes)) }

// LastOffsetDelta is lastOffset - baseOffset.
func (b Batch) LastOffsetDelta() int32 { return b.i32(offLastOffsetDelta) }

// LastOffset is the offset of the last record (or of the last offset the
// batch once held, after compaction removed records).
func (b Batch) LastOffset() int64 { return b.BaseOffset() + int64(b.LastOffsetDelta()) }

// NextOffset is LastOffset+1.
func (b Batch) NextOffset() int64 { return b.LastOffset() + 1 }

// FirstTimestamp is the baseTimestamp field (the delete horizon when
// Attributes().HasDeleteHorizon()).
func (b Batch) FirstTimestamp() int64 { return b.i64(offFirstTimestamp) }

// MaxTimestamp is the largest record timestamp, or the append time for
// LogAppendTime batches.
func (b Batch) MaxTimestamp() int64 { return b.i64(offMaxTimestamp) }

// ProducerID is the idempotent producer's ID, -1 for none.
func (b Batch) ProducerID() int64 { return b.i64(offProducerID) }

// ProducerEpoch is the producer's epoch, -1 for none.
func (b Batch) ProducerEpoch() int16 { return b.i16(offProducerEpoch) }

// BaseSequence is the first record's sequence number, -1 for none.
func (b Batch) BaseSequence() int32 { return b.i32(offBaseSequence) }

// LastSequence is the last record's sequence number, wrapping at int32 max.
func (b Batch) LastSequence() int32 {
	if b.BaseSequence() < 0 {
		return -1
	}
	return int32((int64(b.BaseSequence()) + int64(b.LastOffsetDelta())) % (1 << 31))
}

// NumRecords is the recordCount field.
func (b Batch) NumRecords() int32 { return b.i32(offRecordCount) }

// Body returns the (possibly compressed) record bytes after the header.
func (b Batch) Body() []byte { return b[HeaderSize:] }

// SetBaseOffset rewrites baseOffset in place. The CRC does not cover it.
func (b Batch) SetBaseOffset(off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch rewrites partitionLeaderEpoch in place. The CRC
// does not cover it.
func (b Batch) SetPartitionLeaderEpoch(epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch as LogAppendTime, sets maxTimestamp to
// ts and recomputes the CRC, as the broker does for topics with
// message.timestamp.type=LogAppendTime.
func (b Batch) SetLogAppendTime(ts int64) {
	attrs := b.Attributes() | attrTimestampType
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	b.UpdateCRC()
}

// ComputeCRC computes the CRC-32C over attributes..end.
func (b Batch) ComputeCRC() uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// UpdateCRC stores ComputeCRC in the crc field.
func (b Batch) UpdateCRC() { binary.BigEndian.PutUint32(b[offCRC:], b.ComputeCRC()) }

// Next splits the first batch off buf. It checks only what it must to find
// the batch's end: that the header is present, the length is sane and the
// whole batch is in buf. It returns ErrTruncated when buf ends early (a
// partial batch at a fetch's or a torn segment's tail) and ErrCorrupt when
// the length field cannot be right.
func Next(buf []byte) (b Batch, rest []byte, err error) {
	if len(buf) < LogOverhead {
		return nil, buf, fmt.Errorf("%w: %d bytes, need %d for the length", ErrTruncated, len(buf), LogOverhead)
	}
	length := int32(binary.BigEndian.Uint32(buf[offLength:]))
	if length < HeaderSize-LogOverhead {
		// Message sets of magic 0 and 1 keep the magic byte at the same
		// place but can be shorter than a v2 header; name them for what
		// they are rather than calling them corrupt.
		if length > offMagic-LogOverhead && len(buf) > offMagic && buf[offMagic] < Magic {
			return nil, buf, fmt.Errorf("%w: magic %d, only magic 2 is supported", ErrBadMagic, buf[offMagic])
		}
		return nil, buf, fmt.Errorf("%w: batchLength %d is below the %d-byte header", ErrCorrupt, length, HeaderSize-LogOverhead)
	}
	size := int(length) + LogOverhead
	if len(buf) < size {
		return nil, buf, fmt.Errorf("%w: batchLength %d needs %d bytes, have %d", ErrTruncated, length, size, len(buf))
	}
	return Batch(buf[:size:size]), buf[size:], nil
}

// ValidateHeader checks the header-level rules every stored batch obeys:
// magic 2, a matching CRC, a known compression codec, a non-negative
// lastOffsetDelta and a record count that fits in it (at most
// lastOffsetDelta+1 records; fewer once the cleaner removed some). It does
// not decode records; see Validate.
func (b Batch) ValidateHeader() error {
	if err := b.checkShape(); err != nil {
		return err
	}
	if got, want := b.ComputeCRC(), b.CRC(); got != want {
		return fmt.Errorf("%w: crc mismatch: stored %#08x, computed %#08x", ErrCorrupt, want, got)
	}
	return b.checkFields()
}

// checkShape checks what every accessor and decoder relies on: the whole
// header is there, batchLength matches the view, and the magic is 2.
func (b Batch) checkShape() error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrCorrupt, len(b), HeaderSize)
	}
	if b.Size() != len(b) {
		return fmt.Errorf("%w: batchLength says %d bytes, view has %d", ErrCorrupt, b.Size(), len(b))
	}
	if m := b.Magic(); m != Magic {
		return fmt.Errorf("%w: magic %d, only magic 2 is supported", ErrBadMagic, m)
	}
	return nil
}

// checkFields checks the header fields against each other.
func (b Batch) checkFields() error {
	if c := b.Attributes().Compression(); c > CompressionZstd {
		return fmt.Errorf("%w: unknown compression codec %d", ErrCorrupt, c)
	}
	d := b.LastOffsetDelta()
	if d < 0 {
		return fmt.Errorf("%w: negative lastOffsetDelta %d", ErrInvalid, d)
	}
	n := b.NumRecords()
	if n < 0 {
		return fmt.Errorf("%w: negative record count %d", ErrInvalid, n)
	}
	if int64(n) > int64(d)+1 {
		return fmt.Errorf("%w: record count %d exceeds lastOffsetDelta %d + 1", ErrInvalid, n, d)
	}
	return nil
}
