package txn

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/runnel/runnel/broker/internal/coord"
)

// Value versions of __transaction_state records. Version 0 is what Kafka
// writes at transaction.version 0 (and what Kafka 3.x writes); version 1
// is flexible, with the tagged fields of KIP-890.
const (
	ValueVersion0 = 0
	ValueVersion1 = 1
)

// keyVersion is the only __transaction_state key version (Kafka's
// coordinator record type 0, TransactionLogKey).
const keyVersion = 0

// AppendKey appends the __transaction_state key of transactionalID to
// dst: int16 version 0 and the ID as an int16-length string.
func AppendKey(dst []byte, transactionalID string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, keyVersion)
	return appendString(dst, transactionalID)
}

// ParseKey decodes a __transaction_state key. Bytes after the ID are
// ignored, as Kafka's reader ignores them.
func ParseKey(b []byte) (string, error) {
	r := newReader(b)
	v := r.Int16()
	if r.Err == nil && v != keyVersion {
		return "", fmt.Errorf("%w: key version %d", ErrUnsupportedRecordVersion, v)
	}
	id := r.string()
	if r.Err != nil {
		return "", fmt.Errorf("%w: key: %w", ErrInvalidRecord, r.Err)
	}
	return id, nil
}

// Value is a transactional ID's state as __transaction_state stores it
// (Kafka's TransactionLogValue).
type Value struct {
	// Version is the encoding, ValueVersion0 or ValueVersion1.
	Version    int16
	ProducerID int64
	// PreviousProducerID and NextProducerID (tagged fields of version 1;
	// -1 when absent) are the producer IDs of KIP-890's epoch bump on
	// commit, which Runnel does not do: it keeps them as read.
	PreviousProducerID int64
	NextProducerID     int64
	ProducerEpoch      int16
	TimeoutMs          int32
	State              State
	// Partitions are the transaction's partitions, sorted. An Empty
	// value has none and stores null, as Kafka does.
	Partitions []TopicPartition
	// LastUpdateTimestamp and StartTimestamp are in ms since the epoch;
	// StartTimestamp is -1 when no transaction has started.
	LastUpdateTimestamp int64
	StartTimestamp      int64
	// ClientTransactionVersion (tagged field of version 1; 0 when absent)
	// is the transaction.version the client used.
	ClientTransactionVersion int16
}

// Tags of version 1's tagged fields.
const (
	tagPreviousProducerID       = 0
	tagNextProducerID           = 1
	tagClientTransactionVersion = 2
)

// AppendTo appends the encoded value to dst in v.Version's layout:
//
//	int16 version | int64 producer_id | int16 producer_epoch |
//	int32 transaction_timeout_ms | int8 transaction_status |
//	partitions: nullable array of (string topic, array of int32) |
//	int64 last_update_timestamp_ms | int64 start_timestamp_ms
//
// Version 1 uses compact (unsigned varint length + 1) strings and arrays,
// a tagged-field section after each partition entry, and ends with the
// tagged fields previous_producer_id (0), next_producer_id (1) and
// client_transaction_version (2), each written only when not its default.
func (v Value) AppendTo(dst []byte) []byte {
	be := binary.BigEndian
	flexible := v.Version >= ValueVersion1
	dst = be.AppendUint16(dst, uint16(v.Version))
	dst = be.AppendUint64(dst, uint64(v.ProducerID))
	dst = be.AppendUint16(dst, uint16(v.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(v.TimeoutMs))
	dst = append(dst, byte(v.State))
	if v.State == Empty {
		if flexible {
			dst = binary.AppendUvarint(dst, 0)
		} else {
			dst = be.AppendUint32(dst, math.MaxUint32) // -1: null
		}
	} else {
		tps := v.Partitions
		if !slices.IsSortedFunc(tps, compareTP) {
			tps = slices.Clone(tps)
			slices.SortFunc(tps, compareTP)
		}
		topics := 0
		for i := range tps {
			if i == 0 || tps[i].Topic != tps[i-1].Topic {
				topics++
			}
		}
		if flexible {
			dst = binary.AppendUvarint(dst, uint64(topics)+1)
		} else {
			dst = be.AppendUint32(dst, uint32(topics))
		}
		for i := 0; i < len(tps); {
			j := i + 1
			for j < len(tps) && tps[j].Topic == tps[i].Topic {
				j++
			}
			if flexible {
				dst = appendCompactString(dst, tps[i].Topic)
				dst = binary.AppendUvarint(dst, uint64(j-i)+1)
			} else {
				dst = appendString(dst, tps[i].Topic)
				dst = be.AppendUint32(dst, uint32(j-i))
			}
			for _, tp := range tps[i:j] {
				dst = be.AppendUint32(dst, uint32(tp.Partition))
			}
			if flexible {
				dst = append(dst, 0) // no tagged fields
			}
			i = j
		}
	}
	dst = be.AppendUint64(dst, uint64(v.LastUpdateTimestamp))
	dst = be.AppendUint64(dst, uint64(v.StartTimestamp))
	if flexible {
		n := 0
		if v.PreviousProducerID != -1 {
			n++
		}
		if v.NextProducerID != -1 {
			n++
		}
		if v.ClientTransactionVersion != 0 {
			n++
		}
		dst = binary.AppendUvarint(dst, uint64(n))
		if v.PreviousProducerID != -1 {
			dst = append(dst, tagPreviousProducerID, 8)
			dst = be.AppendUint64(dst, uint64(v.PreviousProducerID))
		}
		if v.NextProducerID != -1 {
			dst = append(dst, tagNextProducerID, 8)
			dst = be.AppendUint64(dst, uint64(v.NextProducerID))
		}
		if v.ClientTransactionVersion != 0 {
			dst = append(dst, tagClientTransactionVersion, 2)
			dst = be.AppendUint16(dst, uint16(v.ClientTransactionVersion))
		}
	}
	return dst
}

func compareTP(a, b TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// ParseValue decodes a __transaction_state value of version 0 or 1. The
// partitions of an Empty value are ignored, as Kafka's reader ignores
// them; unknown tagged fields are skipped; bytes after the value are
// ignored.
func ParseValue(b []byte) (Value, error) {
	r := newReader(b)
	v := Value{Version: r.Int16(), PreviousProducerID: -1, NextProducerID: -1}
	if r.Err == nil && (v.Version < ValueVersion0 || v.Version > ValueVersion1) {
		return Value{}, fmt.Errorf("%w: value version %d", ErrUnsupportedRecordVersion, v.Version)
	}
	flexible := v.Version >= ValueVersion1
	v.ProducerID = r.Int64()
	v.ProducerEpoch = r.Int16()
	v.TimeoutMs = r.Int32()
	v.State = State(r.Int8())
	if r.Err == nil && (v.State < Empty || v.State > PrepareEpochFence) {
		return Value{}, fmt.Errorf("%w: transaction status %d", ErrInvalidRecord, int8(v.State))
	}
	var n int
	if flexible {
		n = r.compactLen()
	} else {
		n = r.arrayLen(6) // a topic takes at least 6 bytes
	}
	var parts []TopicPartition
	for range max(n, 0) {
		var topic string
		var m int
		if flexible {
			topic = r.compactString()
			m = r.compactLen()
		} else {
			topic = r.string()
			m = r.arrayLen(4)
		}
		if m < 0 && r.Err == nil {
			r.Fail(errors.New("null partition array"))
		}
		for range max(m, 0) {
			parts = append(parts, TopicPartition{Topic: topic, Partition: r.Int32()})
		}
		if flexible {
			r.SkipTags()
		}
		if r.Err != nil {
			break
		}
	}
	v.LastUpdateTimestamp = r.Int64()
	v.StartTimestamp = r.Int64()
	if flexible {
		r.Tags(func(tag uint64, data []byte) {
			be := binary.BigEndian
			switch {
			case tag == tagPreviousProducerID && len(data) == 8:
				v.PreviousProducerID = int64(be.Uint64(data))
			case tag == tagNextProducerID && len(data) == 8:
				v.NextProducerID = int64(be.Uint64(data))
			case tag == tagClientTransactionVersion && len(data) == 2:
				v.ClientTransactionVersion = int16(be.Uint16(data))
			case tag <= tagClientTransactionVersion:
				r.Fail(fmt.Errorf("tagged field %d has %d bytes", tag, len(data)))
			}
		})
	}
	if r.Err != nil {
		return Value{}, fmt.Errorf("%w: value v%d: %w", ErrInvalidRecord, v.Version, r.Err)
	}
	if v.State != Empty && len(parts) > 0 {
		slices.SortFunc(parts, compareTP)
		v.Partitions = slices.Compact(parts)
	}
	return v, nil
}

func appendString(dst []byte, s string) []byte {
	if len(s) > math.MaxInt16 {
		s = s[:math.MaxInt16]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

func appendCompactString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s))+1)
	return append(dst, s...)
}

// reader decodes the fields of __transaction_state records; it remembers
// the first error, and once it has one every read returns zero values.
type reader struct{ coord.Reader }

func newReader(b []byte) *reader { return &reader{coord.Reader{B: b}} }

// string reads an int16-length string; null (-1) reads as "".
func (r *reader) string() string {
	n := r.Int16()
	if n < -1 {
		r.Fail(fmt.Errorf("string length %d", n))
		return ""
	}
	if n <= 0 {
		return ""
	}
	return string(r.Take(int(n)))
}

func (r *reader) compactString() string {
	n := r.compactLen()
	if n <= 0 {
		return ""
	}
	return string(r.Take(n))
}

// compactLen reads an unsigned-varint length + 1: -1 for null.
func (r *reader) compactLen() int {
	v := r.Uvarint()
	if r.Err != nil {
		return 0
	}
	if v > uint64(len(r.B))+1 {
		r.Fail(fmt.Errorf("length %d beyond the %d bytes left", v-1, len(r.B)))
		return 0
	}
	return int(v) - 1
}

// arrayLen reads an int32 array length (-1 for null), each element taking
// at least minSize bytes.
func (r *reader) arrayLen(minSize int) int {
	n := r.Int32()
	if r.Err != nil {
		return 0
	}
	if n < -1 || int64(n)*int64(minSize) > int64(len(r.B)) {
		r.Fail(fmt.Errorf("array length %d with %d bytes left", n, len(r.B)))
		return 0
	}
	return int(n)
}
