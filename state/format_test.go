package state

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/runnel/runnel/streams/serde"
)

// TestKafkaKeyFormats pins the byte layouts Kafka Streams uses, so
// changelogs and windowed topics stay readable by Java applications.
func TestKafkaKeyFormats(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"window store key", WindowStoreKey([]byte("k"), 0x0102030405060708, 9),
			[]byte{'k', 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9}},
		{"window store key max seq", WindowStoreKey(nil, 1, math.MaxInt32),
			[]byte{0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff}},
		{"session key end then start", SessionStoreKey([]byte("ab"), Window{Start: 1, End: 2}),
			[]byte{'a', 'b', 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"time-windowed key", TimeWindowedKey([]byte("k"), 256),
			[]byte{'k', 0, 0, 0, 0, 0, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Fatalf("% x, want % x", tt.got, tt.want)
			}
		})
	}
}

func TestParseKeysErrors(t *testing.T) {
	if _, _, _, err := ParseWindowStoreKey(make([]byte, 11)); !errors.Is(err, ErrFormat) {
		t.Errorf("short window key: %v", err)
	}
	if _, _, err := ParseSessionStoreKey(make([]byte, 15)); !errors.Is(err, ErrFormat) {
		t.Errorf("short session key: %v", err)
	}
	if _, _, err := ParseTimeWindowedKey(make([]byte, 7)); !errors.Is(err, ErrFormat) {
		t.Errorf("short windowed key: %v", err)
	}
	k, start, seq, err := ParseWindowStoreKey(WindowStoreKey(nil, 5, 6))
	if err != nil || len(k) != 0 || start != 5 || seq != 6 {
		t.Errorf("empty key: %q %d %d %v", k, start, seq, err)
	}
}

func TestWindowedSerdes(t *testing.T) {
	tw := TimeWindowedSerde(serde.String(), 5*time.Minute)
	in := Windowed[string]{Key: "user-1", Window: Window{Start: 600_000, End: 900_000}}
	data, err := tw.Serialize("t", in)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("user-1"), 0, 0, 0, 0, 0, 0x09, 0x27, 0xc0); !bytes.Equal(data, want) {
		t.Fatalf("time-windowed bytes % x, want % x", data, want)
	}
	out, err := tw.Deserialize("t", data)
	if err != nil || out != in {
		t.Fatalf("time-windowed round trip %v, %v", out, err)
	}
	// End overflows: clamped like Kafka.
	big, _ := tw.Deserialize("t", TimeWindowedKey([]byte("k"), math.MaxInt64-1))
	if big.Window.End != math.MaxInt64 {
		t.Fatalf("overflowing end = %d", big.Window.End)
	}
	if _, err := tw.Deserialize("t", []byte{1, 2}); !errors.Is(err, ErrFormat) {
		t.Fatalf("short time-windowed key: %v", err)
	}

	sw := SessionWindowedSerde(serde.Int32())
	sin := Windowed[int32]{Key: 7, Window: Window{Start: 10, End: 20}}
	data, err = sw.Serialize("t", sin)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 10}; !bytes.Equal(data, want) {
		t.Fatalf("session-windowed bytes % x, want % x", data, want)
	}
	sout, err := sw.Deserialize("t", data)
	if err != nil || sout != sin {
		t.Fatalf("session-windowed round trip %v, %v", sout, err)
	}
	// The inner serde's error comes through.
	if _, err := sw.Deserialize("t", SessionStoreKey([]byte{1}, Window{})); !errors.Is(err, serde.ErrSize) {
		t.Fatalf("bad inner key: %v", err)
	}
}

// FuzzParseStoreKeys checks the key decoders on any input: no panic, and
// whatever decodes encodes back to the same bytes.
func FuzzParseStoreKeys(f *testing.F) {
	f.Add(WindowStoreKey([]byte("k"), 1000, 1))
	f.Add(SessionStoreKey([]byte("user"), Window{Start: 5, End: 10}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, ts, seq, err := ParseWindowStoreKey(data); err == nil {
			if got := WindowStoreKey(k, ts, seq); !bytes.Equal(got, data) {
				t.Fatalf("window key % x re-encoded as % x", data, got)
			}
		} else if len(data) >= windowSuffixLen {
			t.Fatalf("window key of %d bytes rejected: %v", len(data), err)
		}
		if k, w, err := ParseSessionStoreKey(data); err == nil {
			if got := SessionStoreKey(k, w); !bytes.Equal(got, data) {
				t.Fatalf("session key % x re-encoded as % x", data, got)
			}
		}
		if k, ts, err := ParseTimeWindowedKey(data); err == nil {
			if got := TimeWindowedKey(k, ts); !bytes.Equal(got, data) {
				t.Fatalf("windowed key % x re-encoded as % x", data, got)
			}
		}
		_, _ = TimeWindowedSerde(serde.String(), time.Minute).Deserialize("t", data)
		_, _ = SessionWindowedSerde(serde.Int64()).Deserialize("t", data)
	})
}
