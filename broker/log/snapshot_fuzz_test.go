package log

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"reflect"
	"slices"
	"testing"
)

// FuzzDecodeSnapshot checks that any bytes either decode into a state that
// encodes back to the same bytes (version 2; a version 1 file re-encodes
// as version 2 holding the same state), or are refused: never a panic,
// never a state the file does not hold. Each input is also tried with its
// CRC made right, since otherwise nearly no mutation gets past the CRC
// check to the entries. Seeds are in testdata/fuzz.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(producers{}))
	f.Add(encodeSnapshot(producers{7: {ProducerID: 7, Epoch: 2, LastTimestamp: 9, CurrentTxnFirstOffset: 40, CoordinatorEpoch: 3,
		Batches: []ProducerBatch{{FirstSequence: 0, LastSequence: 1, FirstOffset: 40, LastOffset: 41, Timestamp: 9}}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSnapshotRoundTrip(t, data)
		if len(data) >= snapshotHeader {
			fixed := slices.Clone(data)
			binary.BigEndian.PutUint32(fixed[6:], crc32.Checksum(fixed[10:], snapshotCRC))
			checkSnapshotRoundTrip(t, fixed)
		}
	})
}

// checkSnapshotRoundTrip decodes data and, if it is accepted, checks that
// it encodes back to the same bytes or, for version 1, the same state.
func checkSnapshotRoundTrip(t *testing.T, data []byte) {
	t.Helper()
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
}
