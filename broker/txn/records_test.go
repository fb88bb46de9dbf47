package txn

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// unhex decodes hex written with spaces and comments ("// ..." to the end
// of a line) between the fields.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenValues are values with the bytes Kafka's TransactionLog writes for
// them, laid out by hand from TransactionLogValue's schema.
var goldenValues = []struct {
	name  string
	value Value
	hex   string
}{
	{
		name: "v0 ongoing",
		value: Value{
			Version: 0, ProducerID: 1000, PreviousProducerID: -1, NextProducerID: -1, ProducerEpoch: 2,
			TimeoutMs: 60000, State: Ongoing,
			Partitions:          []TopicPartition{{"a", 0}, {"a", 1}, {"b", 2}},
			LastUpdateTimestamp: 1700000000123, StartTimestamp: 1700000000000,
		},
		hex: `
			0000              // version 0
			00000000000003e8  // producer_id 1000
			0002              // producer_epoch 2
			0000ea60          // transaction_timeout_ms 60000
			01                // transaction_status Ongoing
			00000002          // 2 topics
			0001 61           //   "a"
			00000002 00000000 00000001 // [0 1]
			0001 62           //   "b"
			00000001 00000002 // [2]
			0000018bcfe5687b  // last_update_timestamp_ms
			0000018bcfe56800  // start_timestamp_ms
		`,
	},
	{
		name: "v0 empty",
		value: Value{
			Version: 0, ProducerID: 1000, PreviousProducerID: -1, NextProducerID: -1, ProducerEpoch: 0,
			TimeoutMs: 60000, State: Empty, LastUpdateTimestamp: 1700000000123, StartTimestamp: -1,
		},
		hex: `
			0000 00000000000003e8 0000 0000ea60
			00                // Empty
			ffffffff          // null partitions
			0000018bcfe5687b
			ffffffffffffffff  // no start
		`,
	},
	{
		name: "v0 complete commit",
		value: Value{
			Version: 0, ProducerID: 1000, PreviousProducerID: -1, NextProducerID: -1, ProducerEpoch: 2,
			TimeoutMs: 60000, State: CompleteCommit, LastUpdateTimestamp: 1700000000123, StartTimestamp: 1700000000000,
		},
		hex: `
			0000 00000000000003e8 0002 0000ea60
			04                // CompleteCommit
			00000000          // no partitions, not null
			0000018bcfe5687b 0000018bcfe56800
		`,
	},
	{
		name: "v1 ongoing",
		value: Value{
			Version: 1, ProducerID: 1000, PreviousProducerID: -1, NextProducerID: -1, ProducerEpoch: 2,
			TimeoutMs: 60000, State: PrepareAbort, Partitions: []TopicPartition{{"a", 3}},
			LastUpdateTimestamp: 1700000000123, StartTimestamp: 1700000000000,
		},
		hex: `
			0001 00000000000003e8 0002 0000ea60
			03                // PrepareAbort
			02                // 1 topic
			02 61             //   "a"
			02 00000003       //   [3]
			00                //   no tagged fields
			0000018bcfe5687b 0000018bcfe56800
			00                // no tagged fields
		`,
	},
	{
		name: "v1 empty with tags",
		value: Value{
			Version: 1, ProducerID: 1000, PreviousProducerID: 999, NextProducerID: -1, ProducerEpoch: 0,
			TimeoutMs: 60000, State: Empty, LastUpdateTimestamp: 1700000000123, StartTimestamp: -1,
			ClientTransactionVersion: 2,
		},
		hex: `
			0001 00000000000003e8 0000 0000ea60
			00                // Empty
			00                // null partitions
			0000018bcfe5687b ffffffffffffffff
			02                // 2 tagged fields
			00 08 00000000000003e7 // previous_producer_id 999
			02 02 0002        // client_transaction_version 2
		`,
	},
}

func TestValueGolden(t *testing.T) {
	for _, tc := range goldenValues {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			if got := tc.value.AppendTo(nil); !bytes.Equal(got, want) {
				t.Fatalf("encoded\n got %x\nwant %x", got, want)
			}
			v, err := ParseValue(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, tc.value) {
				t.Fatalf("decoded\n got %+v\nwant %+v", v, tc.value)
			}
		})
	}
}

func TestKeyGolden(t *testing.T) {
	want := unhex(t, "0000 0005 74786e2d31") // version 0, "txn-1"
	if got := AppendKey(nil, "txn-1"); !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	id, err := ParseKey(want)
	if err != nil || id != "txn-1" {
		t.Fatalf("ParseKey = %q, %v", id, err)
	}
}

func TestParseErrors(t *testing.T) {
	valid := goldenValues[0].value.AppendTo(nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"key version", unhex(t, "0001 0001 61"), ErrUnsupportedRecordVersion},
		{"key truncated", unhex(t, "0000 0005 6162"), ErrInvalidRecord},
		{"value version", unhex(t, "0002 00000000000003e8"), ErrUnsupportedRecordVersion},
		{"value truncated", valid[:len(valid)-1], ErrInvalidRecord},
		{"unknown status", unhex(t, "0000 00000000000003e8 0000 0000ea60 09 ffffffff 0000018bcfe5687b ffffffffffffffff"), ErrInvalidRecord},
		{"huge array", unhex(t, "0000 00000000000003e8 0000 0000ea60 01 7fffffff"), ErrInvalidRecord},
		{"huge compact array", unhex(t, "0001 00000000000003e8 0000 0000ea60 01 ffffffff0f"), ErrInvalidRecord},
		{"bad tag size", unhex(t, "0001 00000000000003e8 0000 0000ea60 00 00 0000018bcfe5687b ffffffffffffffff 01 00 02 0000"), ErrInvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.name, "key") {
				_, err = ParseKey(tc.b)
			} else {
				_, err = ParseValue(tc.b)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestValueUnknownTag checks that tagged fields Runnel does not know are
// skipped, as a newer Kafka may add them.
func TestValueUnknownTag(t *testing.T) {
	b := unhex(t, "0001 00000000000003e8 0000 0000ea60 00 00 0000018bcfe5687b ffffffffffffffff 01 07 03 010203")
	v, err := ParseValue(b)
	if err != nil || v.ProducerID != 1000 || v.PreviousProducerID != -1 {
		t.Fatalf("got %+v, %v", v, err)
	}
}

// FuzzParseValue checks that the decoder never panics and that whatever it
// accepts encodes back to a value that decodes the same.
func FuzzParseValue(f *testing.F) {
	for _, tc := range goldenValues {
		f.Add(tc.value.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseValue(b)
		if err != nil {
			return
		}
		again, err := ParseValue(v.AppendTo(nil))
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, v) {
			t.Fatalf("round trip\n got %+v\nwant %+v", again, v)
		}
	})
}

// FuzzParseKey checks that the key decoder never panics and round-trips
// what it accepts.
func FuzzParseKey(f *testing.F) {
	f.Add(AppendKey(nil, "txn-1"))
	f.Add(AppendKey(nil, ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseKey(b)
		if err != nil {
			return
		}
		if got, err := ParseKey(AppendKey(nil, id)); err != nil || got != id {
			t.Fatalf("round trip: %q, %v; want %q", got, err, id)
		}
	})
}

func TestPartitionFor(t *testing.T) {
	// Java's String.hashCode of each ID, then Kafka's Utils.abs modulo 50.
	for _, tc := range []struct {
		id   string
		want int32
	}{
		{"txn-1", 10},               // 110810510
		{"my-transactional-id", 46}, // -959806496
		{"", 0},                     // 0
		{"polygenelubricants", 0},   // Integer.MIN_VALUE: Kafka's abs makes it 0
	} {
		if got := PartitionFor(tc.id, 50); got != tc.want {
			t.Errorf("PartitionFor(%q, 50) = %d, want %d", tc.id, got, tc.want)
		}
	}
}
