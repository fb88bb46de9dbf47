package record

import (
	"errors"
	"strings"
	"testing"
)

func TestControlBatchRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		pid      int64
		epoch    int16
		coord    int32
		typ      ControlType
		ts       int64
		wantText string
	}{
		{"commit", 1000, 3, 17, ControlCommit, 1_700_000_000_000, "commit"},
		{"abort", 1 << 50, 32767, 0, ControlAbort, 1, "abort"},
		{"negative coordinator epoch", 7, 0, -1, ControlAbort, 0, "abort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ControlBatch(tc.pid, tc.epoch, tc.coord, tc.typ, tc.ts)
			b.SetBaseOffset(5000)
			b.SetPartitionLeaderEpoch(8)
			if err := b.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			a := b.Attributes()
			if !a.Control() || !a.Transactional() || a.Compression() != CompressionNone || a.LogAppendTime() {
				t.Fatalf("attributes %#x", int16(a))
			}
			if b.ProducerID() != tc.pid || b.ProducerEpoch() != tc.epoch || b.BaseSequence() != -1 ||
				b.NumRecords() != 1 || b.LastOffsetDelta() != 0 || b.NextOffset() != 5001 || b.MaxTimestamp() != tc.ts {
				t.Fatalf("header: pid %d epoch %d seq %d count %d lastDelta %d", b.ProducerID(), b.ProducerEpoch(), b.BaseSequence(), b.NumRecords(), b.LastOffsetDelta())
			}
			recs, err := b.DecodeRecords()
			if err != nil || len(recs) != 1 {
				t.Fatalf("DecodeRecords: %d records, %v", len(recs), err)
			}
			if recs[0].Offset != 5000 || recs[0].Timestamp != tc.ts || len(recs[0].Headers) != 0 {
				t.Fatalf("record %s", describe(recs[0]))
			}
			typ, coord, err := ParseControlRecord(recs[0])
			if err != nil || typ != tc.typ || coord != tc.coord {
				t.Fatalf("ParseControlRecord = %v, %d, %v; want %v, %d", typ, coord, err, tc.typ, tc.coord)
			}
			if typ.String() != tc.wantText {
				t.Fatalf("String = %q", typ)
			}
			if err := b.ValidateProduced(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateProduced on a marker = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestParseControlRecord(t *testing.T) {
	cases := []struct {
		name      string
		key       []byte
		value     []byte
		wantType  ControlType
		wantEpoch int32
		wantErr   error
		wantText  string
	}{
		{"commit", []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 1, 2}, ControlCommit, 258, nil, ""},
		{"newer versions read as version 0", []byte{0, 1, 0, 0, 9, 9}, []byte{0, 3, 0, 0, 0, 5, 7, 7}, ControlAbort, 5, nil, ""},
		{"short key", []byte{0, 0, 0}, []byte{0, 0, 0, 0, 0, 0}, 0, 0, ErrCorrupt, "key is 3 bytes"},
		{"null key", nil, nil, 0, 0, ErrCorrupt, "key is 0 bytes"},
		{"negative key version", []byte{0xff, 0xff, 0, 1}, []byte{0, 0, 0, 0, 0, 0}, 0, 0, ErrCorrupt, "key version -1"},
		{"not a transaction marker", []byte{0, 0, 0, 2}, []byte{0, 0}, 2, 0, ErrInvalid, "type 2"},
		{"short value", []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0}, ControlCommit, 0, ErrCorrupt, "value is 5 bytes"},
		{"negative value version", []byte{0, 0, 0, 0}, []byte{0x80, 0, 0, 0, 0, 0}, ControlAbort, 0, ErrCorrupt, "value version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typ, epoch, err := ParseControlRecord(Record{Key: tc.key, Value: tc.value})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.wantErr, tc.wantText)
			}
			if typ != tc.wantType || epoch != tc.wantEpoch {
				t.Fatalf("got %v/%d, want %v/%d", typ, epoch, tc.wantType, tc.wantEpoch)
			}
		})
	}
}
