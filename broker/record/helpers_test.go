package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"
)

var allCodecs = []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd}

// sampleRecords returns n records starting at offset base with every shape a
// client sends: null and empty keys, tombstones, headers with null values,
// and compressible values, some larger than a snappy or lz4 block.
func sampleRecords(base int64, n int, bigEvery int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := Record{
			Offset:    base + int64(i),
			Timestamp: 1_700_000_000_000 + int64(i*3) - int64(i%4), // not monotonic
		}
		switch i % 5 {
		case 0:
			r.Key = nil
		case 1:
			r.Key = []byte{}
		default:
			r.Key = fmt.Appendf(nil, "key-%d", i)
		}
		switch {
		case i%7 == 3:
			r.Value = nil
		case i%11 == 4:
			r.Value = []byte{}
		default:
			r.Value = bytes.Repeat(fmt.Appendf(nil, "value %d of the sample; ", i), 1+i%9)
		}
		if bigEvery > 0 && i%bigEvery == bigEvery-1 {
			r.Value = bytes.Repeat([]byte("a larger value that spans codec blocks. "), 2000) // 80 KB
		}
		switch i % 3 {
		case 1:
			r.Headers = []Header{{Key: "trace", Value: fmt.Appendf(nil, "t-%d", i)}}
		case 2:
			r.Headers = []Header{{Key: "", Value: nil}, {Key: "h", Value: []byte{}}, {Key: "ü", Value: []byte{0, 1, 2}}}
		}
		recs[i] = r
	}
	return recs
}

// build builds recs with opts or fails the test.
func build(t testing.TB, opts BuilderOptions, recs []Record) Batch {
	t.Helper()
	bb := NewBuilder(opts)
	for _, r := range recs {
		bb.Add(r)
	}
	b, err := bb.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

// noProducer is BuilderOptions for a plain batch.
func noProducer(base int64, c Compression) BuilderOptions {
	return BuilderOptions{BaseOffset: base, PartitionLeaderEpoch: -1, Compression: c, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
}

// equalRecords reports the first difference between got and want,
// distinguishing nil from empty keys, values and header values.
func equalRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if len(w.Headers) == 0 {
			w.Headers = nil
		}
		if len(g.Headers) == 0 {
			g.Headers = nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, describe(g), describe(w))
		}
	}
}

func describe(r Record) string {
	q := func(b []byte) string {
		if b == nil {
			return "null"
		}
		if len(b) > 40 {
			return fmt.Sprintf("%q…(%d bytes)", b[:40], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	s := fmt.Sprintf("{attrs %d offset %d ts %d key %s value %s headers [", r.Attributes, r.Offset, r.Timestamp, q(r.Key), q(r.Value))
	for _, h := range r.Headers {
		s += fmt.Sprintf("%q=%s ", h.Key, q(h.Value))
	}
	return s + "]}"
}

// rawBatch writes a batch around an already encoded (uncompressed) record
// section, compressing it with c, with the given count and lastOffsetDelta.
func rawBatch(t testing.TB, c Compression, count, lastDelta int32, records []byte) Batch {
	t.Helper()
	out, err := compress(c, make([]byte, HeaderSize), records)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch(out)
	writeHeader(b, header{
		leaderEpoch: -1, attrs: Attributes(c), lastOffsetDelta: lastDelta,
		firstTimestamp: 1000, maxTimestamp: 1000, producerID: -1, producerEpoch: -1, baseSequence: -1,
		count: count,
	})
	return b
}

// rawRecord encodes one record body with the given deltas, without any of
// the Builder's checks.
func rawRecord(offsetDelta int32, tsDelta int64, key, value []byte, headers ...Header) []byte {
	var body []byte
	body = append(body, 0)
	body = appendVarlong(body, tsDelta)
	body = appendVarint(body, offsetDelta)
	body = appendBytes(body, key)
	body = appendBytes(body, value)
	body = appendVarint(body, int32(len(headers)))
	for _, h := range headers {
		body = appendVarint(body, int32(len(h.Key)))
		body = append(body, h.Key...)
		body = appendBytes(body, h.Value)
	}
	return append(appendVarint(nil, int32(len(body))), body...)
}

// setField overwrites a header field and fixes the CRC.
func setField32(b Batch, off int, v int32) {
	binary.BigEndian.PutUint32(b[off:], uint32(v))
	b.UpdateCRC()
}
