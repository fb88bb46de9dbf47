// This file holds control records: the transaction markers the transaction
// coordinator writes into data partitions.

package record

import (
	"encoding/binary"
	"fmt"
)

// ControlType is the type of a control record, from its key.
type ControlType int16

// Transaction marker types, as Kafka numbers them. Kafka's metadata log
// uses further types (2 and up) that never appear in data partitions.
const (
	ControlAbort  ControlType = 0
	ControlCommit ControlType = 1
)

func (t ControlType) String() string {
	switch t {
	case ControlAbort:
		return "abort"
	case ControlCommit:
		return "commit"
	}
	return fmt.Sprintf("control(%d)", int16(t))
}

// Control record layout (Kafka's ControlRecordType and EndTransactionMarker):
//
//	key:   version int16 (0), type int16
//	value: version int16 (0), coordinatorEpoch int32
const (
	controlKeySize   = 4
	controlValueSize = 6
)

// ControlBatch builds the batch holding one transaction marker, as the
// partition leader writes it for WriteTxnMarkers: transactional, control,
// uncompressed, base sequence -1, one record at offset delta 0. Its base
// offset is 0 and its partition leader epoch -1 until the log assigns them
// (SetBaseOffset, SetPartitionLeaderEpoch).
func ControlBatch(producerID int64, producerEpoch int16, coordinatorEpoch int32, t ControlType, timestamp int64) Batch {
	key := make([]byte, controlKeySize)
	binary.BigEndian.PutUint16(key[2:], uint16(t))
	value := make([]byte, controlValueSize)
	binary.BigEndian.PutUint32(value[2:], uint32(coordinatorEpoch))

	bb := NewBuilder(BuilderOptions{
		PartitionLeaderEpoch: -1,
		Transactional:        true,
		Control:              true,
		ProducerID:           producerID,
		ProducerEpoch:        producerEpoch,
		BaseSequence:         -1,
	})
	bb.Add(Record{Offset: 0, Timestamp: timestamp, Key: key, Value: value})
	b, err := bb.Build()
	if err != nil {
		// One small uncompressed record at offset 0 cannot fail.
		panic("record: building a control batch: " + err.Error())
	}
	return b
}

// ParseControlRecord reads a transaction marker from a record of a control
// batch. As Kafka does, it reads a key or value version newer than 0 as
// version 0 (later versions only append fields) and rejects a negative one.
// A malformed record wraps ErrCorrupt; a well-formed control record that is
// not a transaction marker (type 2 and up) returns its type and an error
// wrapping ErrInvalid.
func ParseControlRecord(r Record) (t ControlType, coordinatorEpoch int32, err error) {
	if len(r.Key) < controlKeySize {
		return 0, 0, fmt.Errorf("%w: control record key is %d bytes, need %d", ErrCorrupt, len(r.Key), controlKeySize)
	}
	if v := int16(binary.BigEndian.Uint16(r.Key)); v < 0 {
		return 0, 0, fmt.Errorf("%w: control record key version %d", ErrCorrupt, v)
	}
	t = ControlType(binary.BigEndian.Uint16(r.Key[2:]))
	if t != ControlAbort && t != ControlCommit {
		return t, 0, fmt.Errorf("%w: control record type %d is not a transaction marker", ErrInvalid, int16(t))
	}
	if len(r.Value) < controlValueSize {
		return t, 0, fmt.Errorf("%w: transaction marker value is %d bytes, need %d", ErrCorrupt, len(r.Value), controlValueSize)
	}
	if v := int16(binary.BigEndian.Uint16(r.Value)); v < 0 {
		return t, 0, fmt.Errorf("%w: transaction marker value version %d", ErrCorrupt, v)
	}
	return t, int32(binary.BigEndian.Uint32(r.Value[2:])), nil
}
