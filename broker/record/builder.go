// This file holds the Builder, which encodes batches, and EmptyBatch.

package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// BuilderOptions are the header fields of a batch to build. ProducerID,
// ProducerEpoch and BaseSequence must be set to -1 explicitly for a batch
// without a producer; the zero value means producer 0.
type BuilderOptions struct {
	// BaseOffset is the offset of the batch's first offset delta (0).
	BaseOffset int64
	// PartitionLeaderEpoch is stored as is; producers send -1.
	PartitionLeaderEpoch int32
	// Compression is the codec for the records (compression.type).
	Compression Compression
	// LogAppendTime marks the timestamps as the broker's append time
	// (message.timestamp.type=LogAppendTime); give every record that time.
	LogAppendTime bool
	// Transactional marks the batch as part of a transaction.
	Transactional bool
	// Control marks the batch as holding a control record.
	Control bool
	// ProducerID is the idempotent producer's ID, -1 for none.
	ProducerID int64
	// ProducerEpoch is the producer's epoch, -1 for none.
	ProducerEpoch int16
	// BaseSequence is the first record's sequence number, -1 for none.
	BaseSequence int32
	// DeleteHorizon, when positive, is the time (ms) after which the log
	// cleaner may drop this batch's tombstones and abort markers
	// (KIP-534): it becomes the batch's base timestamp and sets the
	// delete-horizon attribute. Zero means none.
	DeleteHorizon int64
}

// Builder encodes one batch: for control markers, internal topics,
// compaction and tests. Records are encoded as they are added; Build
// compresses them and writes the header. A Builder is not safe for
// concurrent use.
type Builder struct {
	opts      BuilderOptions
	recs      []byte // encoded records, uncompressed
	n         int
	baseTS    int64
	maxTS     int64
	lastDelta int64
	err       error // the first misuse, reported by Build
}

// NewBuilder returns a Builder for a batch with the given header fields.
func NewBuilder(opts BuilderOptions) *Builder {
	return &Builder{opts: opts}
}

// Add appends r. r.Offset and r.Timestamp are absolute; offsets must be at
// least BaseOffset, strictly increasing and within 2³¹-1 of BaseOffset
// (gaps are allowed, as compaction leaves them). A record that breaks
// these rules is not added and makes Build fail.
func (bb *Builder) Add(r Record) {
	if bb.err != nil {
		return
	}
	delta := r.Offset - bb.opts.BaseOffset
	switch {
	case r.Offset < bb.opts.BaseOffset || delta > math.MaxInt32:
		bb.err = fmt.Errorf("%w: record offset %d outside [%d, %d]", ErrInvalid, r.Offset, bb.opts.BaseOffset, bb.opts.BaseOffset+math.MaxInt32)
		return
	case bb.n > 0 && delta <= bb.lastDelta:
		bb.err = fmt.Errorf("%w: record offset %d does not follow %d", ErrInvalid, r.Offset, bb.opts.BaseOffset+bb.lastDelta)
		return
	}
	if bb.n == 0 {
		bb.baseTS, bb.maxTS = r.Timestamp, r.Timestamp
		if bb.opts.DeleteHorizon > 0 {
			bb.baseTS = bb.opts.DeleteHorizon
		}
	}
	tsDelta := r.Timestamp - bb.baseTS

	size := 1 + varlongSize(tsDelta) + varintSize(int32(delta)) +
		bytesSize(r.Key) + bytesSize(r.Value) + varintSize(int32(len(r.Headers)))
	for _, h := range r.Headers {
		size += varintSize(int32(len(h.Key))) + len(h.Key) + bytesSize(h.Value)
	}
	if size > math.MaxInt32-HeaderSize-5 {
		bb.err = fmt.Errorf("%w: record at offset %d is %d bytes", ErrInvalid, r.Offset, size)
		return
	}

	b := bb.recs
	if need := varintSize(int32(size)) + size; cap(b)-len(b) < need {
		// Double rather than let append grow by a quarter: a large batch
		// then costs about twice its size in allocations, not five times.
		nb := make([]byte, len(b), max(2*cap(b), len(b)+need, 1024))
		copy(nb, b)
		b = nb
	}
	b = appendVarint(b, int32(size))
	b = append(b, byte(r.Attributes))
	b = appendVarlong(b, tsDelta)
	b = appendVarint(b, int32(delta))
	b = appendBytes(b, r.Key)
	b = appendBytes(b, r.Value)
	b = appendVarint(b, int32(len(r.Headers)))
	for _, h := range r.Headers {
		b = appendVarint(b, int32(len(h.Key)))
		b = append(b, h.Key...)
		b = appendBytes(b, h.Value)
	}
	bb.recs = b
	bb.n++
	bb.lastDelta = delta
	bb.maxTS = max(bb.maxTS, r.Timestamp)
}

// Len is the number of records added.
func (bb *Builder) Len() int { return bb.n }

// Build encodes the batch: header, records compressed with the chosen
// codec, CRC. Each call returns new bytes, so more records may be added and
// Build called again. It fails when no record was added, when Add was
// misused, when the batch would exceed 2³¹-1 bytes, or when the codec
// fails.
func (bb *Builder) Build() (Batch, error) {
	if bb.err != nil {
		return nil, bb.err
	}
	if bb.n == 0 {
		return nil, fmt.Errorf("%w: a batch needs at least one record", ErrInvalid)
	}
	c := bb.opts.Compression
	if c < CompressionNone || c > CompressionZstd {
		return nil, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, c)
	}
	out := make([]byte, HeaderSize, HeaderSize+compressBound(c, len(bb.recs)))
	out, err := compress(c, out, bb.recs)
	if err != nil {
		return nil, err
	}
	if len(out)-LogOverhead > math.MaxInt32 {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrInvalid, len(out))
	}

	attrs := Attributes(c)
	if bb.opts.LogAppendTime {
		attrs |= attrTimestampType
	}
	if bb.opts.Transactional {
		attrs |= attrTransactional
	}
	if bb.opts.Control {
		attrs |= attrControl
	}
	if bb.opts.DeleteHorizon > 0 {
		attrs |= attrDeleteHorizon
	}
	b := Batch(out)
	writeHeader(b, header{
		baseOffset:      bb.opts.BaseOffset,
		leaderEpoch:     bb.opts.PartitionLeaderEpoch,
		attrs:           attrs,
		lastOffsetDelta: int32(bb.lastDelta),
		firstTimestamp:  bb.baseTS,
		maxTimestamp:    bb.maxTS,
		producerID:      bb.opts.ProducerID,
		producerEpoch:   bb.opts.ProducerEpoch,
		baseSequence:    bb.opts.BaseSequence,
		count:           int32(bb.n),
	})
	return b, nil
}

// EmptyBatch returns a batch header with no records that keeps orig's
// baseOffset, lastOffsetDelta, partitionLeaderEpoch, maxTimestamp, producer
// ID, epoch and base sequence, and its timestamp-type, transactional and
// control attributes. It is what the log cleaner leaves when it removes
// every record of a batch whose producer state must survive, as Kafka does:
// the next offset and the producer's last sequence stay readable from the
// log. The copy is uncompressed, has no delete horizon and has a first
// timestamp of -1. orig must hold at least a whole header (it passed Next
// or ValidateHeader).
func EmptyBatch(orig Batch) Batch {
	b := make(Batch, HeaderSize)
	writeHeader(b, header{
		baseOffset:      orig.BaseOffset(),
		leaderEpoch:     orig.PartitionLeaderEpoch(),
		attrs:           orig.Attributes() & (attrTimestampType | attrTransactional | attrControl),
		lastOffsetDelta: orig.LastOffsetDelta(),
		firstTimestamp:  -1,
		maxTimestamp:    orig.MaxTimestamp(),
		producerID:      orig.ProducerID(),
		producerEpoch:   orig.ProducerEpoch(),
		baseSequence:    orig.BaseSequence(),
		count:           0,
	})
	return b
}

// header is the content of a batch header apart from length, magic and CRC.
type header struct {
	baseOffset      int64
	leaderEpoch     int32
	attrs           Attributes
	lastOffsetDelta int32
	firstTimestamp  int64
	maxTimestamp    int64
	producerID      int64
	producerEpoch   int16
	baseSequence    int32
	count           int32
}

// writeHeader fills the first HeaderSize bytes of b, whose records are
// already in place, and sets the length and CRC.
func writeHeader(b Batch, h header) {
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.baseOffset))
	be.PutUint32(b[offLength:], uint32(len(b)-LogOverhead))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.leaderEpoch))
	b[offMagic] = Magic
	be.PutUint16(b[offAttributes:], uint16(h.attrs))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.lastOffsetDelta))
	be.PutUint64(b[offFirstTimestamp:], uint64(h.firstTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(h.maxTimestamp))
	be.PutUint64(b[offProducerID:], uint64(h.producerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.producerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.baseSequence))
	be.PutUint32(b[offRecordCount:], uint32(h.count))
	b.UpdateCRC()
}

// compressBound guesses the compressed size of n bytes, generously enough
// that the output rarely needs to grow.
func compressBound(c Compression, n int) int {
	switch c {
	case CompressionNone:
		return n
	case CompressionSnappy:
		return len(xerialHeader) + n + n/6 + 36*(n/xerialBlockSize+1)
	}
	return n + n>>8 + 64
}

// bytesSize is the encoded size of a nullable byte string.
func bytesSize(b []byte) int {
	if b == nil {
		return 1
	}
	return varintSize(int32(len(b))) + len(b)
}

// appendBytes appends a nullable byte string: its length (-1 for nil),
// then its bytes.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return appendVarint(dst, -1)
	}
	dst = appendVarint(dst, int32(len(b)))
	return append(dst, b...)
}
