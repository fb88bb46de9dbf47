package log

import (
	"bytes"
	"testing"
)

// FuzzDecodeSnapshot checks that any bytes either decode into a state that
// encodes back to the same bytes, or are refused: never a panic, never a
// state the file does not hold. Seeds are in testdata/fuzz.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(producers{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodeSnapshot(data)
		if err != nil {
			return
		}
		if again := encodeSnapshot(ps); !bytes.Equal(again, data) {
			t.Fatalf("decoded %x, re-encoded as %x", data, again)
		}
	})
}
