// This file holds record decoding and the validation a broker runs on the
// records of a batch.

package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Record is one decoded record. Offset and Timestamp are absolute (base +
// delta); in a LogAppendTime batch Timestamp is the batch's maxTimestamp.
type Record struct {
	// Attributes are the record's attribute bits, unused by Kafka (0).
	Attributes int8
	Offset     int64
	Timestamp  int64
	// Key is nil for a null key; an empty non-nil Key is an empty key.
	Key []byte
	// Value is nil for a null value (a tombstone).
	Value   []byte
	Headers []Header
}

// Header is one record header. Kafka forbids a null key; Value nil is a
// null value.
type Header struct {
	Key   string
	Value []byte
}

// minRecordSize is the smallest encoded record: a one-byte length, then
// attributes and five one-byte varints (timestamp and offset deltas, key
// and value lengths, header count).
const minRecordSize = 7

// minHeaderSize is the smallest encoded header: two one-byte varints.
const minHeaderSize = 2

// DecodeRecords decompresses and decodes every record of b. It checks that
// there are exactly recordCount records, that offset deltas strictly
// increase and stay at most lastOffsetDelta, and that no bytes are left
// over; a violation wraps ErrCorrupt (the bytes do not decode) or ErrInvalid
// (they decode but break a rule) and says which rule failed, naming the
// record by its index.
//
// DecodeRecords does not check the CRC: call Validate on bytes that have
// not been validated yet. Keys, values and header values point into b when
// the batch is uncompressed and into one buffer per call otherwise; copy
// them to keep them past a reuse of b. Memory is bounded by the input: the
// decompressed records are at most MaxDecompressedSize bytes, and decoding
// them takes at most about twenty times their size (a minimal record or
// header is a few bytes on the wire and tens of bytes decoded).
func (b Batch) DecodeRecords() ([]Record, error) {
	if err := b.checkShape(); err != nil {
		return nil, err
	}
	if err := b.checkFields(); err != nil {
		return nil, err
	}
	data := b.Body()
	if c := b.Attributes().Compression(); c != CompressionNone {
		var err error
		if data, err = decompress(c, nil, data); err != nil {
			return nil, err
		}
		// The records will pin this buffer: do not let them pin much
		// more than they use (a zstd frame without a content size is
		// decoded into room for whole blocks).
		if cap(data) > 2*len(data)+4096 {
			data = slices.Clone(data)
		}
	}
	// recordCount is a claim: preallocate no more than the bytes can hold.
	recs := make([]Record, 0, min(int(b.NumRecords()), len(data)/minRecordSize))
	if err := b.walkRecords(data, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// Validate runs every check a broker runs on a batch it is about to store:
// ValidateHeader, then decompressing and walking every record with the
// checks DecodeRecords makes, without building the records. It accepts
// what the log legitimately holds, including batches the cleaner thinned
// out and EmptyBatch headers; a batch fresh from a producer should pass
// ValidateProduced, which adds the rules Kafka applies to client batches.
func (b Batch) Validate() error {
	if err := b.ValidateHeader(); err != nil {
		return err
	}
	return b.validateRecords()
}

// ValidateProduced is Validate plus the rules Kafka's broker applies to a
// batch a client produced: it holds at least one record, its record count
// is lastOffsetDelta+1 (so its offset deltas are exactly 0…count-1, which
// lets the leader assign offsets by rewriting baseOffset alone), it is not
// a control batch (only the transaction coordinator writes markers), and a
// batch with a producer ID carries a base sequence. Rule violations wrap
// ErrInvalid (INVALID_RECORD).
//
// Checks that depend on topic configuration (timestamps against
// message.timestamp.*, keys on compacted topics, message.max.bytes), the
// LogAppendTime attribute set by a client (which Kafka answers with
// INVALID_TIMESTAMP, not INVALID_RECORD) and checks that depend on producer
// state (sequence numbers, epochs) belong to the caller.
func (b Batch) ValidateProduced() error {
	if err := b.ValidateHeader(); err != nil {
		return err
	}
	n, d := b.NumRecords(), b.LastOffsetDelta()
	if n == 0 {
		return fmt.Errorf("%w: a produced batch must hold at least one record", ErrInvalid)
	}
	if int64(n) != int64(d)+1 {
		return fmt.Errorf("%w: record count %d does not match lastOffsetDelta %d + 1", ErrInvalid, n, d)
	}
	if b.Attributes().Control() {
		return fmt.Errorf("%w: clients may not write control batches", ErrInvalid)
	}
	if b.ProducerID() >= 0 && b.BaseSequence() < 0 {
		return fmt.Errorf("%w: producer ID %d with base sequence %d", ErrInvalid, b.ProducerID(), b.BaseSequence())
	}
	return b.validateRecords()
}

// validateRecords walks the records of a batch whose header is valid,
// decompressing into a reused buffer since nothing escapes.
func (b Batch) validateRecords() error {
	c := b.Attributes().Compression()
	if c == CompressionNone {
		return b.walkRecords(b.Body(), nil)
	}
	scratch := getScratch()
	data, err := decompress(c, (*scratch)[:0], b.Body())
	if err != nil {
		putScratch(scratch, *scratch)
		return err
	}
	err = b.walkRecords(data, nil)
	putScratch(scratch, data)
	return err
}

// walkRecords decodes the records in data (the batch's decompressed record
// bytes), checking every structural and ordering rule. With out nil it only
// checks; otherwise it appends each record to *out, aliasing data.
func (b Batch) walkRecords(data []byte, out *[]Record) error {
	var (
		count      = int(b.NumRecords())
		lastDelta  = int64(b.LastOffsetDelta())
		baseOffset = b.BaseOffset()
		baseTS     = b.FirstTimestamp()
		appendTime = b.Attributes().LogAppendTime()
		maxTS      = b.MaxTimestamp()
		prevDelta  = int64(-1)
		pos        int
		slab       []Header // headers of several records share one allocation
		keys       keyCache
	)
	for i := range count {
		if pos == len(data) {
			return fmt.Errorf("%w: batch declares %d records, its data ends after %d", ErrCorrupt, count, i)
		}
		length, n := varint(data[pos:])
		if n <= 0 {
			return fmt.Errorf("%w: record %d: malformed length varint", ErrCorrupt, i)
		}
		pos += n
		if length < 0 || int(length) > len(data)-pos {
			return fmt.Errorf("%w: record %d: length %d with %d bytes left", ErrCorrupt, i, length, len(data)-pos)
		}
		body := data[pos : pos+int(length) : pos+int(length)]
		pos += int(length)

		var r Record
		p, err := decodeRecord(body, &r, out != nil, &slab, &keys)
		if err != nil {
			return fmt.Errorf("%w: record %d: %s", ErrCorrupt, i, err)
		}
		if p != len(body) {
			return fmt.Errorf("%w: record %d: length says %d bytes, its fields use %d", ErrCorrupt, i, len(body), p)
		}
		delta := r.Offset // decodeRecord leaves the delta here
		if delta <= prevDelta {
			return fmt.Errorf("%w: record %d: offset delta %d does not follow %d", ErrInvalid, i, delta, prevDelta)
		}
		if delta > lastDelta {
			return fmt.Errorf("%w: record %d: offset delta %d exceeds lastOffsetDelta %d", ErrInvalid, i, delta, lastDelta)
		}
		prevDelta = delta
		if out != nil {
			r.Offset = baseOffset + delta
			if appendTime {
				r.Timestamp = maxTS
			} else {
				r.Timestamp = baseTS + r.Timestamp
			}
			*out = append(*out, r)
		}
	}
	if pos != len(data) {
		return fmt.Errorf("%w: %d bytes left over after the %d declared records", ErrCorrupt, len(data)-pos, count)
	}
	return nil
}

// decodeRecord decodes the fields of one record body (after its length)
// into r, leaving the offset and timestamp deltas in r.Offset and
// r.Timestamp. It fills keys, values and headers only when full is set.
// It returns how many bytes the fields used. Errors are descriptions for
// the caller to wrap.
func decodeRecord(body []byte, r *Record, full bool, slab *[]Header, keys *keyCache) (int, error) {
	if len(body) == 0 {
		return 0, fmt.Errorf("empty record")
	}
	r.Attributes = int8(body[0])
	p := 1
	ts, n := varlong(body[p:])
	if n <= 0 {
		return 0, fmt.Errorf("malformed timestamp delta")
	}
	p += n
	r.Timestamp = ts
	od, n := varint(body[p:])
	if n <= 0 {
		return 0, fmt.Errorf("malformed offset delta")
	}
	p += n
	r.Offset = int64(od)

	key, next, l := nullableBytes(body, p)
	if next < 0 {
		return 0, bytesError("key", l, len(body)-p)
	}
	p = next
	value, next, l := nullableBytes(body, p)
	if next < 0 {
		return 0, bytesError("value", l, len(body)-p)
	}
	p = next
	hc, n := varint(body[p:])
	if n <= 0 {
		return 0, fmt.Errorf("malformed header count")
	}
	p += n
	if hc < 0 || int(hc) > (len(body)-p)/minHeaderSize {
		return 0, fmt.Errorf("header count %d with %d bytes left", hc, len(body)-p)
	}
	var headers []Header
	if full && hc > 0 {
		if cap(*slab)-len(*slab) < int(hc) {
			*slab = make([]Header, 0, max(int(hc), 32))
		}
		s := *slab
		headers = s[len(s) : len(s)+int(hc) : len(s)+int(hc)]
		*slab = s[:len(s)+int(hc)]
	}
	for j := range int(hc) {
		kl, n := varint(body[p:])
		if n <= 0 {
			return 0, fmt.Errorf("header %d: malformed key length", j)
		}
		p += n
		if kl < 0 || int(kl) > len(body)-p {
			return 0, fmt.Errorf("header %d: key length %d with %d bytes left", j, kl, len(body)-p)
		}
		hk := body[p : p+int(kl)]
		p += int(kl)
		hv, next, l := nullableBytes(body, p)
		if next < 0 {
			return 0, bytesError(fmt.Sprintf("header %d value", j), l, len(body)-p)
		}
		p = next
		if full {
			headers[j] = Header{Key: keys.intern(hk), Value: hv}
		}
	}
	if full {
		r.Key, r.Value, r.Headers = key, value, headers
	}
	return p, nil
}

// keyCache hands out header keys as strings, reusing the string for a key
// already seen in the batch: the records of a batch tend to carry the same
// few header keys.
type keyCache struct {
	seen [8]string
	n    int
}

func (c *keyCache) intern(b []byte) string {
	for _, s := range c.seen[:min(c.n, len(c.seen))] {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	c.seen[c.n%len(c.seen)] = s
	c.n++
	return s
}

// nullableBytes reads a varint length and that many bytes of body at p; a
// negative length is null, as Kafka reads it. On failure it returns next
// == -1 and the length it read (0 when the varint itself is malformed).
func nullableBytes(body []byte, p int) (b []byte, next int, length int32) {
	l, n := varint(body[p:])
	if n <= 0 {
		return nil, -1, 0
	}
	p += n
	if l < 0 {
		return nil, p, l
	}
	if int(l) > len(body)-p {
		return nil, -1, l
	}
	return body[p : p+int(l) : p+int(l)], p + int(l), l
}

// bytesError describes a nullableBytes failure.
func bytesError(what string, length int32, left int) error {
	if length == 0 {
		return fmt.Errorf("malformed %s length", what)
	}
	return fmt.Errorf("%s length %d with %d bytes left", what, length, left)
}

// varint reads a zigzag-encoded int32 of at most five bytes. n is the
// number of bytes read, or 0 or less when p ends early or the value does
// not fit in 32 bits.
func varint(p []byte) (v int32, n int) {
	if len(p) > 0 && p[0] < 0x80 {
		return int32(p[0]>>1) ^ -int32(p[0]&1), 1
	}
	u, n := binary.Uvarint(p)
	if n <= 0 || n > 5 || u > math.MaxUint32 {
		return 0, -1
	}
	return int32(uint32(u)>>1) ^ -int32(uint32(u)&1), n
}

// varlong reads a zigzag-encoded int64 of at most ten bytes.
func varlong(p []byte) (v int64, n int) {
	if len(p) > 0 && p[0] < 0x80 {
		return int64(p[0]>>1) ^ -int64(p[0]&1), 1
	}
	u, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, -1
	}
	return int64(u>>1) ^ -int64(u&1), n
}

// appendVarint appends v zigzag-encoded.
func appendVarint(dst []byte, v int32) []byte {
	return binary.AppendUvarint(dst, uint64(uint32(v<<1)^uint32(v>>31)))
}

// appendVarlong appends v zigzag-encoded.
func appendVarlong(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v<<1)^uint64(v>>63))
}

// uvarintSize is the encoded size of u.
func uvarintSize(u uint64) int {
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func varintSize(v int32) int  { return uvarintSize(uint64(uint32(v<<1) ^ uint32(v>>31))) }
func varlongSize(v int64) int { return uvarintSize(uint64(v<<1) ^ uint64(v>>63)) }
