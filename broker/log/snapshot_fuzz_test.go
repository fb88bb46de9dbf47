package log

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// FuzzDecodeSnapshot checks that any bytes either decode into a state that
// encodes back to the same bytes (version 2; a version 1 file re-encodes
// as version 2 holding the same state), or are refused: never a panic,
// never a state the file does not hold. Seeds are in testdata/fuzz.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(producers{}))
	f.Add(encodeSnapshot(producers{7: {ProducerID: 7, Epoch: 2, LastTimestamp: 9, CurrentTxnFirstOffset: 40, CoordinatorEpoch: 3,
		Batches: []ProducerBatch{{FirstSequence: 0, LastSequence: 1, FirstOffset: 40, LastOffset: 41, Timestamp: 9}}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodeSnapshot(data)
		if err != nil {
			return
		}
		again := encodeSnapshot(ps)
		if binary.BigEndian.Uint16(data[4:]) == snapshotVersion {
			if !bytes.Equal(again, data) {
				t.Fatalf("decoded %x, re-encoded as %x", data, again)
			}
			return
		}
		back, err := decodeSnapshot(again)
		if err != nil {
			t.Fatalf("re-encoded version 1 snapshot does not decode: %v", err)
		}
		if !reflect.DeepEqual(back.list(), ps.list()) {
			t.Fatalf("version 1 state %+v came back as %+v", ps.list(), back.list())
		}
	})
}
