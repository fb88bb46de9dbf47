package record

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	type tc struct {
		name string
		opts BuilderOptions
		recs []Record
	}
	var cases []tc
	for _, c := range allCodecs {
		cases = append(cases,
			tc{c.String() + "/one", noProducer(0, c), []Record{{Offset: 0, Timestamp: 42, Key: []byte("k"), Value: []byte("v")}}},
			tc{c.String() + "/mixed", noProducer(1000, c), sampleRecords(1000, 50, 0)},
			tc{c.String() + "/large-values", noProducer(7, c), sampleRecords(7, 20, 4)},
			tc{c.String() + "/idempotent-txn", BuilderOptions{
				BaseOffset: 1 << 40, PartitionLeaderEpoch: 9, Compression: c, Transactional: true,
				ProducerID: 4242, ProducerEpoch: 3, BaseSequence: 17,
			}, sampleRecords(1<<40, 30, 0)},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, tc.opts, tc.recs)

			// Two batches and a torn third in one buffer, as a fetch or a
			// segment holds them.
			buf := append(append(append([]byte{}, b...), b...), b[:len(b)/2]...)
			for i := range 2 {
				got, rest, err := Next(buf)
				if err != nil {
					t.Fatalf("Next %d: %v", i, err)
				}
				if !bytes.Equal(got, b) {
					t.Fatalf("Next %d returned %d bytes, want the %d-byte batch", i, len(got), len(b))
				}
				buf = rest
			}
			if _, _, err := Next(buf); !errors.Is(err, ErrTruncated) {
				t.Fatalf("Next on the torn tail: %v, want ErrTruncated", err)
			}

			for name, check := range map[string]func() error{
				"ValidateHeader": b.ValidateHeader, "Validate": b.Validate, "ValidateProduced": b.ValidateProduced,
			} {
				if err := check(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			got, err := b.DecodeRecords()
			if err != nil {
				t.Fatalf("DecodeRecords: %v", err)
			}
			equalRecords(t, got, tc.recs)

			maxTS := tc.recs[0].Timestamp
			for _, r := range tc.recs {
				maxTS = max(maxTS, r.Timestamp)
			}
			n := len(tc.recs)
			o := tc.opts
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"BaseOffset", b.BaseOffset(), o.BaseOffset},
				{"LastOffset", b.LastOffset(), o.BaseOffset + int64(n-1)},
				{"NextOffset", b.NextOffset(), o.BaseOffset + int64(n)},
				{"NumRecords", b.NumRecords(), int32(n)},
				{"PartitionLeaderEpoch", b.PartitionLeaderEpoch(), o.PartitionLeaderEpoch},
				{"Magic", b.Magic(), int8(2)},
				{"Compression", b.Attributes().Compression(), o.Compression},
				{"Transactional", b.Attributes().Transactional(), o.Transactional},
				{"Control", b.Attributes().Control(), false},
				{"LogAppendTime", b.Attributes().LogAppendTime(), false},
				{"FirstTimestamp", b.FirstTimestamp(), tc.recs[0].Timestamp},
				{"MaxTimestamp", b.MaxTimestamp(), maxTS},
				{"ProducerID", b.ProducerID(), o.ProducerID},
				{"ProducerEpoch", b.ProducerEpoch(), o.ProducerEpoch},
				{"BaseSequence", b.BaseSequence(), o.BaseSequence},
				{"Size", b.Size(), len(b)},
			} {
				if f.got != f.want {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestNullAndEmptyFields(t *testing.T) {
	recs := []Record{
		{Offset: 0, Timestamp: 5, Key: nil, Value: nil},
		{Offset: 1, Timestamp: 5, Key: []byte{}, Value: []byte{}},
		{Offset: 2, Timestamp: 5, Key: []byte("k"), Value: nil, Headers: []Header{{Key: "n", Value: nil}}},
		{Offset: 3, Timestamp: 5, Key: nil, Value: []byte("v"), Headers: []Header{{Key: "e", Value: []byte{}}, {Key: "", Value: []byte("x")}}},
		{Offset: 4, Timestamp: -1, Attributes: 0},
	}
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			got, err := build(t, noProducer(0, c), recs).DecodeRecords()
			if err != nil {
				t.Fatal(err)
			}
			equalRecords(t, got, recs)
			if got[0].Key != nil || got[0].Value != nil {
				t.Error("null key or value came back non-nil")
			}
			if got[1].Key == nil || got[1].Value == nil {
				t.Error("empty key or value came back as null")
			}
			if got[2].Headers[0].Value != nil {
				t.Error("null header value came back non-nil")
			}
			if got[3].Headers[0].Value == nil {
				t.Error("empty header value came back as null")
			}
		})
	}
}

func TestDecodedRecordsDoNotOverlap(t *testing.T) {
	// Keys and values alias the batch; appending to one must not write
	// over the next field.
	b := build(t, noProducer(0, CompressionNone), []Record{{Key: []byte("k"), Value: []byte("v")}, {Offset: 1, Key: []byte("k2")}})
	got, err := b.DecodeRecords()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(got[0].Key, "XXXX"...)
	if err := b.ValidateHeader(); err != nil {
		t.Fatalf("appending to a decoded key changed the batch: %v", err)
	}
}

func TestCRCMismatchDetected(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			b := build(t, noProducer(0, c), sampleRecords(0, 10, 0))
			for i := offAttributes; i < len(b); i++ {
				b[i] ^= 0x10
				err := b.ValidateHeader()
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "crc") {
					t.Fatalf("flipped byte %d: ValidateHeader = %v, want a crc ErrCorrupt", i, err)
				}
				if err := b.Validate(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("flipped byte %d: Validate = %v, want ErrCorrupt", i, err)
				}
				b[i] ^= 0x10
			}
			// The fields before the CRC'd range are the leader's to rewrite.
			b.SetBaseOffset(99)
			b.SetPartitionLeaderEpoch(7)
			if err := b.Validate(); err != nil {
				t.Fatalf("after rewriting baseOffset and leader epoch: %v", err)
			}
			got, err := b.DecodeRecords()
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Offset != 99 || got[9].Offset != 108 || b.PartitionLeaderEpoch() != 7 {
				t.Fatalf("offsets %d..%d epoch %d after rewrite", got[0].Offset, got[9].Offset, b.PartitionLeaderEpoch())
			}
		})
	}
}

func TestBadMagic(t *testing.T) {
	b := build(t, noProducer(0, CompressionNone), sampleRecords(0, 3, 0))
	for _, m := range []byte{0, 1, 3, 0xff} {
		c := append(Batch{}, b...)
		c[offMagic] = m
		for name, f := range map[string]func() error{"ValidateHeader": c.ValidateHeader, "Validate": c.Validate} {
			if err := f(); !errors.Is(err, ErrBadMagic) {
				t.Errorf("magic %d: %s = %v, want ErrBadMagic", m, name, err)
			}
		}
		if _, err := c.DecodeRecords(); !errors.Is(err, ErrBadMagic) {
			t.Errorf("magic %d: DecodeRecords = %v, want ErrBadMagic", m, err)
		}
	}
	// A magic 1 message shorter than a v2 header: offset, length 22, crc,
	// magic 1, attributes, timestamp, null key, 0-byte value.
	legacy := []byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 22, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	if _, _, err := Next(legacy); !errors.Is(err, ErrBadMagic) {
		t.Errorf("Next on a magic 1 message: %v, want ErrBadMagic", err)
	}
}

func TestCountAndOffsetRules(t *testing.T) {
	three := func() []byte {
		return append(append(rawRecord(0, 0, []byte("a"), []byte("1")), rawRecord(1, 1, []byte("b"), nil)...), rawRecord(2, 2, nil, []byte("3"))...)
	}
	cases := []struct {
		name          string
		count, last   int32
		records       []byte
		validate      error // want from Validate (nil: passes)
		produced      error // want from ValidateProduced
		wantInMessage string
	}{
		{"exact", 3, 2, three(), nil, nil, ""},
		{"count above records", 4, 3, three(), ErrCorrupt, ErrCorrupt, "declares 4 records"},
		{"count below records", 2, 2, three(), ErrCorrupt, ErrInvalid, "left over"},
		{"count above lastOffsetDelta+1", 3, 1, three(), ErrInvalid, ErrInvalid, "exceeds lastOffsetDelta"},
		{"lastOffsetDelta beyond last record", 3, 5, three(), nil, ErrInvalid, "lastOffsetDelta 5 + 1"},
		{"negative count", -1, 2, three(), ErrInvalid, ErrInvalid, "negative record count"},
		{"negative lastOffsetDelta", 0, -1, nil, ErrInvalid, ErrInvalid, "negative lastOffsetDelta"},
		{"zero records", 0, 0, nil, nil, ErrInvalid, "at least one record"},
		{"gap after compaction", 2, 9, append(rawRecord(3, 0, []byte("a"), nil), rawRecord(9, 0, []byte("b"), nil)...), nil, ErrInvalid, "lastOffsetDelta 9 + 1"},
		{"repeated offset delta", 2, 1, append(rawRecord(0, 0, nil, nil), rawRecord(0, 0, nil, nil)...), ErrInvalid, ErrInvalid, "offset delta 0 does not follow 0"},
		{"decreasing offset delta", 2, 5, append(rawRecord(4, 0, nil, nil), rawRecord(2, 0, nil, nil)...), ErrInvalid, ErrInvalid, "offset delta 2 does not follow 4"},
		{"negative offset delta", 1, 0, rawRecord(-1, 0, nil, nil), ErrInvalid, ErrInvalid, "offset delta -1"},
		{"offset delta past lastOffsetDelta", 2, 2, append(rawRecord(0, 0, nil, nil), rawRecord(3, 0, nil, nil)...), ErrInvalid, ErrInvalid, "exceeds lastOffsetDelta 2"},
		{"trailing garbage", 3, 2, append(three(), 0), ErrCorrupt, ErrCorrupt, "1 bytes left over"},
		{"record length past data", 1, 0, append(appendVarint(nil, 50), 0, 0, 0), ErrCorrupt, ErrCorrupt, "length 50"},
		{"record longer than its fields", 1, 0, append(appendVarint(nil, 8), 0, 0, 0, 1, 1, 0, 0, 0), ErrCorrupt, ErrCorrupt, "its fields use 6"},
		{"key past record", 1, 0, append(appendVarint(nil, 6), 0, 0, 0, 20, 1, 0), ErrCorrupt, ErrCorrupt, "key length 10"},
		{"negative header count", 1, 0, append(appendVarint(nil, 6), 0, 0, 0, 1, 1, 1), ErrCorrupt, ErrCorrupt, "header count -1"},
		{"negative header key length", 1, 0, append(appendVarint(nil, 8), 0, 0, 0, 1, 1, 2, 1, 1), ErrCorrupt, ErrCorrupt, "key length -1"},
		{"oversized varint", 1, 0, append(appendVarint(nil, 11), 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 1, 0), ErrCorrupt, ErrCorrupt, "malformed offset delta"},
		{"empty record", 1, 0, []byte{0}, ErrCorrupt, ErrCorrupt, "empty record"},
	}
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		for _, tc := range cases {
			t.Run(c.String()+"/"+tc.name, func(t *testing.T) {
				b := rawBatch(t, c, tc.count, tc.last, tc.records)
				check := func(name string, err, want error) {
					t.Helper()
					if want == nil {
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						return
					}
					if !errors.Is(err, want) {
						t.Fatalf("%s = %v, want %v", name, err, want)
					}
					other := ErrCorrupt
					if want == ErrCorrupt {
						other = ErrInvalid
					}
					if errors.Is(err, other) {
						t.Fatalf("%s = %v wraps both ErrCorrupt and ErrInvalid", name, err)
					}
					if name != "ValidateProduced" && !strings.Contains(err.Error(), tc.wantInMessage) {
						t.Fatalf("%s = %q, want it to mention %q", name, err, tc.wantInMessage)
					}
				}
				check("Validate", b.Validate(), tc.validate)
				_, err := b.DecodeRecords()
				check("DecodeRecords", err, tc.validate)
				check("ValidateProduced", b.ValidateProduced(), tc.produced)
				if tc.produced != nil && tc.validate == nil && !strings.Contains(b.ValidateProduced().Error(), tc.wantInMessage) {
					t.Fatalf("ValidateProduced = %q, want it to mention %q", b.ValidateProduced(), tc.wantInMessage)
				}
			})
		}
	}
}

func TestProducedRules(t *testing.T) {
	recs := sampleRecords(0, 3, 0)
	cases := []struct {
		name string
		opts BuilderOptions
		want string
	}{
		{"control", BuilderOptions{Control: true, Transactional: true, ProducerID: 1, ProducerEpoch: 0, BaseSequence: -1}, "control"},
		{"producer without sequence", BuilderOptions{ProducerID: 1, ProducerEpoch: 0, BaseSequence: -1}, "base sequence -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, tc.opts, recs)
			if err := b.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			err := b.ValidateProduced()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ValidateProduced = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnknownCodec(t *testing.T) {
	for _, c := range []Compression{5, 6, 7} {
		b := rawBatch(t, CompressionNone, 1, 0, rawRecord(0, 0, nil, nil))
		setField16(b, offAttributes, int16(c))
		for name, f := range map[string]func() error{
			"ValidateHeader": b.ValidateHeader,
			"DecodeRecords":  func() error { _, err := b.DecodeRecords(); return err },
		} {
			if err := f(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprint("codec ", int(c))) {
				t.Errorf("codec %d: %s = %v, want ErrCorrupt naming the codec", c, name, err)
			}
		}
	}
}

// setField16 overwrites a 16-bit header field and fixes the CRC.
func setField16(b Batch, off int, v int16) {
	b[off], b[off+1] = byte(uint16(v)>>8), byte(v)
	b.UpdateCRC()
}

func TestTruncatedAtEveryLength(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			recs := sampleRecords(0, 12, 0)
			if c != CompressionNone {
				// Spans two snappy blocks; still compresses to a few KB.
				recs[7].Value = bytes.Repeat([]byte("spans blocks "), 3000)
			}
			b := build(t, noProducer(0, c), recs)
			for l := range len(b) {
				prefix := append([]byte{}, b[:l]...)
				if _, _, err := Next(prefix); !errors.Is(err, ErrTruncated) {
					t.Fatalf("Next on %d of %d bytes: %v, want ErrTruncated", l, len(b), err)
				}
				// The same bytes taken as a batch must fail cleanly.
				if err := Batch(prefix).Validate(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Validate on %d of %d bytes: %v, want ErrCorrupt", l, len(b), err)
				}
				if _, err := Batch(prefix).DecodeRecords(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("DecodeRecords on %d of %d bytes: %v, want ErrCorrupt", l, len(b), err)
				}
				// A batch whose length and CRC were fixed up to match its
				// cut records section must fail in the records.
				if l < HeaderSize {
					continue
				}
				fixed := Batch(prefix)
				setField32(fixed, offLength, int32(l-LogOverhead))
				if err := fixed.ValidateHeader(); err != nil {
					t.Fatalf("header of %d-byte fixed-up batch: %v", l, err)
				}
				if err := fixed.Validate(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Validate on %d-byte fixed-up batch: %v, want ErrCorrupt", l, err)
				}
				if _, err := fixed.DecodeRecords(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("DecodeRecords on %d-byte fixed-up batch: %v, want ErrCorrupt", l, err)
				}
			}
		})
	}
}

func TestSetLogAppendTime(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			recs := sampleRecords(0, 8, 0)
			b := build(t, noProducer(0, c), recs)
			const appendTime = 1_800_000_000_123
			b.SetLogAppendTime(appendTime)
			if err := b.Validate(); err != nil {
				t.Fatalf("Validate after SetLogAppendTime: %v", err)
			}
			if !b.Attributes().LogAppendTime() || b.MaxTimestamp() != appendTime {
				t.Fatalf("LogAppendTime %v maxTimestamp %d", b.Attributes().LogAppendTime(), b.MaxTimestamp())
			}
			if b.Attributes().Compression() != c {
				t.Fatalf("compression became %v", b.Attributes().Compression())
			}
			got, err := b.DecodeRecords()
			if err != nil {
				t.Fatal(err)
			}
			for i := range recs {
				recs[i].Timestamp = appendTime
			}
			equalRecords(t, got, recs)
		})
	}
}

func TestDeleteHorizon(t *testing.T) {
	recs := sampleRecords(0, 5, 0)
	opts := noProducer(0, CompressionLZ4)
	opts.DeleteHorizon = 1_600_000_000_000 // before the records' timestamps
	b := build(t, opts, recs)
	if !b.Attributes().HasDeleteHorizon() || b.FirstTimestamp() != opts.DeleteHorizon {
		t.Fatalf("delete horizon attribute %v first timestamp %d", b.Attributes().HasDeleteHorizon(), b.FirstTimestamp())
	}
	got, err := b.DecodeRecords()
	if err != nil {
		t.Fatal(err)
	}
	equalRecords(t, got, recs)
}

func TestEmptyBatch(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			opts := BuilderOptions{
				BaseOffset: 500, PartitionLeaderEpoch: 4, Compression: c, Transactional: true,
				ProducerID: 77, ProducerEpoch: 2, BaseSequence: 1000, DeleteHorizon: 1,
			}
			orig := build(t, opts, sampleRecords(500, 6, 0))
			orig.SetLogAppendTime(1_750_000_000_000)
			e := EmptyBatch(orig)
			if err := e.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if err := e.ValidateProduced(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateProduced = %v, want ErrInvalid (no records)", err)
			}
			recs, err := e.DecodeRecords()
			if err != nil || len(recs) != 0 {
				t.Fatalf("DecodeRecords = %d records, %v; want none", len(recs), err)
			}
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"BaseOffset", e.BaseOffset(), orig.BaseOffset()},
				{"LastOffset", e.LastOffset(), orig.LastOffset()},
				{"NextOffset", e.NextOffset(), int64(506)},
				{"PartitionLeaderEpoch", e.PartitionLeaderEpoch(), orig.PartitionLeaderEpoch()},
				{"ProducerID", e.ProducerID(), orig.ProducerID()},
				{"ProducerEpoch", e.ProducerEpoch(), orig.ProducerEpoch()},
				{"BaseSequence", e.BaseSequence(), orig.BaseSequence()},
				{"LastSequence", e.LastSequence(), int32(1005)},
				{"MaxTimestamp", e.MaxTimestamp(), orig.MaxTimestamp()},
				{"FirstTimestamp", e.FirstTimestamp(), int64(-1)},
				{"Transactional", e.Attributes().Transactional(), true},
				{"LogAppendTime", e.Attributes().LogAppendTime(), true},
				{"Control", e.Attributes().Control(), false},
				{"Compression", e.Attributes().Compression(), CompressionNone},
				{"HasDeleteHorizon", e.Attributes().HasDeleteHorizon(), false},
				{"NumRecords", e.NumRecords(), int32(0)},
				{"Size", e.Size(), HeaderSize},
			} {
				if f.got != f.want {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
			// It must split off a buffer like any batch.
			got, rest, err := Next(append(append([]byte{}, e...), orig...))
			if err != nil || !bytes.Equal(got, e) || !bytes.Equal(rest, orig) {
				t.Fatalf("Next over an empty batch: %v", err)
			}
		})
	}
}

func TestLastSequenceWraps(t *testing.T) {
	b := build(t, BuilderOptions{ProducerID: 1, BaseSequence: 1<<31 - 2}, sampleRecords(0, 4, 0))
	if got := b.LastSequence(); got != 1 {
		t.Fatalf("LastSequence = %d, want 1 (wrapped past int32 max)", got)
	}
}

func TestBuilderMisuse(t *testing.T) {
	cases := []struct {
		name string
		opts BuilderOptions
		recs []Record
		want string
	}{
		{"no records", noProducer(0, CompressionNone), nil, "at least one record"},
		{"offset below base", noProducer(10, CompressionNone), []Record{{Offset: 9}}, "outside"},
		{"offset too far", noProducer(0, CompressionNone), []Record{{Offset: 1 << 31}}, "outside"},
		{"repeated offset", noProducer(0, CompressionNone), []Record{{Offset: 1}, {Offset: 1}}, "does not follow 1"},
		{"decreasing offset", noProducer(0, CompressionNone), []Record{{Offset: 3}, {Offset: 2}}, "does not follow 3"},
		{"unknown codec", noProducer(0, 6), []Record{{Offset: 0}}, "codec 6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bb := NewBuilder(tc.opts)
			for _, r := range tc.recs {
				bb.Add(r)
			}
			_, err := bb.Build()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestBuilderBuildsAgain(t *testing.T) {
	bb := NewBuilder(noProducer(0, CompressionNone))
	recs := sampleRecords(0, 4, 0)
	bb.Add(recs[0])
	first, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		bb.Add(r)
	}
	second, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	if bb.Len() != 4 {
		t.Fatalf("Len = %d", bb.Len())
	}
	for _, c := range []struct {
		b    Batch
		want []Record
	}{{first, recs[:1]}, {second, recs}} {
		got, err := c.b.DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		equalRecords(t, got, c.want)
	}
}
