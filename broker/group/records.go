package group

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/runnel/runnel/broker/internal/coord"
)

// Record key versions: 0 and 1 key an offset commit, 2 a group's metadata.
const (
	KeyVersionOffset = 1
	KeyVersionGroup  = 2
)

// RecordKey is the key of a __consumer_offsets record: an offset commit
// (Version 0 or 1: Group, Topic, Partition) or a group's metadata (Version
// 2: Group).
type RecordKey struct {
	Version   int16
	Group     string
	Topic     string
	Partition int32
}

// IsOffset reports whether the key is an offset commit's.
func (k RecordKey) IsOffset() bool { return k.Version == 0 || k.Version == 1 }

// OffsetKey returns the key of a committed offset.
func OffsetKey(group, topic string, partition int32) RecordKey {
	return RecordKey{Version: KeyVersionOffset, Group: group, Topic: topic, Partition: partition}
}

// GroupKey returns the key of a group's metadata.
func GroupKey(group string) RecordKey {
	return RecordKey{Version: KeyVersionGroup, Group: group}
}

// AppendTo appends the encoded key to dst.
func (k RecordKey) AppendTo(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(k.Version))
	dst = appendString(dst, k.Group)
	if k.IsOffset() {
		dst = appendString(dst, k.Topic)
		dst = binary.BigEndian.AppendUint32(dst, uint32(k.Partition))
	}
	return dst
}

// ParseKey decodes a record key. Bytes after the key are ignored, as
// Kafka's readers ignore them.
func ParseKey(b []byte) (RecordKey, error) {
	r := newReader(b)
	k := RecordKey{Version: r.Int16()}
	switch k.Version {
	case 0, 1:
		k.Group = r.string()
		k.Topic = r.string()
		k.Partition = r.Int32()
	case 2:
		k.Group = r.string()
	default:
		if r.Err == nil {
			return k, fmt.Errorf("%w: key version %d", ErrUnsupportedRecordVersion, k.Version)
		}
	}
	if r.Err != nil {
		return RecordKey{}, fmt.Errorf("%w: key: %w", ErrInvalidRecord, r.Err)
	}
	return k, nil
}

// OffsetValue is a committed offset as stored (offset commit value v0–v4).
type OffsetValue struct {
	// Version is the encoding: 3 for commits without a retention time, 1
	// for those with one (ExpireTimestamp), as Kafka writes them.
	Version     int16
	Offset      int64
	LeaderEpoch int32 // v3+; -1 when unknown
	Metadata    string
	// CommitTimestamp is when the commit was made (ms since the epoch).
	CommitTimestamp int64
	// ExpireTimestamp (v1 only) is when the offset expires, -1 for none.
	ExpireTimestamp int64
}

// AppendTo appends the encoded value to dst in v.Version's layout.
func (v OffsetValue) AppendTo(dst []byte) []byte {
	be := binary.BigEndian
	dst = be.AppendUint16(dst, uint16(v.Version))
	dst = be.AppendUint64(dst, uint64(v.Offset))
	flexible := v.Version >= 4
	if v.Version >= 3 {
		dst = be.AppendUint32(dst, uint32(v.LeaderEpoch))
	}
	if flexible {
		dst = appendCompactString(dst, v.Metadata)
	} else {
		dst = appendString(dst, v.Metadata)
	}
	dst = be.AppendUint64(dst, uint64(v.CommitTimestamp))
	if v.Version == 1 {
		dst = be.AppendUint64(dst, uint64(v.ExpireTimestamp))
	}
	if flexible {
		dst = append(dst, 0) // no tagged fields
	}
	return dst
}

// ParseOffsetValue decodes an offset commit value of any version Kafka has
// written (0–4).
func ParseOffsetValue(b []byte) (OffsetValue, error) {
	r := newReader(b)
	v := OffsetValue{Version: r.Int16(), LeaderEpoch: -1, ExpireTimestamp: -1}
	if r.Err == nil && (v.Version < 0 || v.Version > 4) {
		return v, fmt.Errorf("%w: offset commit value version %d", ErrUnsupportedRecordVersion, v.Version)
	}
	flexible := v.Version >= 4
	v.Offset = r.Int64()
	if v.Version >= 3 {
		v.LeaderEpoch = r.Int32()
	}
	if flexible {
		v.Metadata = r.compactString()
	} else {
		v.Metadata = r.string()
	}
	v.CommitTimestamp = r.Int64()
	if v.Version == 1 {
		v.ExpireTimestamp = r.Int64()
	}
	if flexible {
		r.SkipTags()
	}
	if r.Err != nil {
		return OffsetValue{}, fmt.Errorf("%w: offset commit value v%d: %w", ErrInvalidRecord, v.Version, r.Err)
	}
	return v, nil
}

// GroupValue is a group's metadata as stored (group metadata value v0–v4).
// Protocol, Leader and members' InstanceID are null on the wire when
// empty.
type GroupValue struct {
	Version      int16
	ProtocolType string
	Generation   int32
	Protocol     string
	Leader       string
	// CurrentStateTimestamp (v2+) is when the group entered its state
	// (ms since the epoch), -1 when unknown.
	CurrentStateTimestamp int64
	Members               []MemberValue
}

// MemberValue is one member in a GroupValue.
type MemberValue struct {
	MemberID   string
	InstanceID string // v3+
	ClientID   string
	ClientHost string
	// RebalanceTimeout (v1+) and SessionTimeout are in milliseconds.
	RebalanceTimeout int32
	SessionTimeout   int32
	// Subscription is the member's metadata for the group's protocol.
	Subscription []byte
	// Assignment is what the leader assigned the member.
	Assignment []byte
}

// AppendTo appends the encoded value to dst in v.Version's layout.
func (v GroupValue) AppendTo(dst []byte) []byte {
	be := binary.BigEndian
	flexible := v.Version >= 4
	str := appendString
	nstr := appendNullableString
	bytes := appendBytes
	if flexible {
		str, nstr, bytes = appendCompactString, appendCompactNullableString, appendCompactBytes
	}
	dst = be.AppendUint16(dst, uint16(v.Version))
	dst = str(dst, v.ProtocolType)
	dst = be.AppendUint32(dst, uint32(v.Generation))
	dst = nstr(dst, v.Protocol)
	dst = nstr(dst, v.Leader)
	if v.Version >= 2 {
		dst = be.AppendUint64(dst, uint64(v.CurrentStateTimestamp))
	}
	if flexible {
		dst = binary.AppendUvarint(dst, uint64(len(v.Members))+1)
	} else {
		dst = be.AppendUint32(dst, uint32(len(v.Members)))
	}
	for _, m := range v.Members {
		dst = str(dst, m.MemberID)
		if v.Version >= 3 {
			dst = nstr(dst, m.InstanceID)
		}
		dst = str(dst, m.ClientID)
		dst = str(dst, m.ClientHost)
		if v.Version >= 1 {
			dst = be.AppendUint32(dst, uint32(m.RebalanceTimeout))
		}
		dst = be.AppendUint32(dst, uint32(m.SessionTimeout))
		dst = bytes(dst, m.Subscription)
		dst = bytes(dst, m.Assignment)
		if flexible {
			dst = append(dst, 0)
		}
	}
	if flexible {
		dst = append(dst, 0)
	}
	return dst
}

// ParseGroupValue decodes a group metadata value of any version Kafka has
// written (0–4).
func ParseGroupValue(b []byte) (GroupValue, error) {
	r := newReader(b)
	v := GroupValue{Version: r.Int16(), CurrentStateTimestamp: -1}
	if r.Err == nil && (v.Version < 0 || v.Version > 4) {
		return v, fmt.Errorf("%w: group metadata value version %d", ErrUnsupportedRecordVersion, v.Version)
	}
	flexible := v.Version >= 4
	str, nstr, bytes := r.string, r.nullableString, r.bytes
	if flexible {
		str, nstr, bytes = r.compactString, r.compactNullableString, r.compactBytes
	}
	v.ProtocolType = str()
	v.Generation = r.Int32()
	v.Protocol = nstr()
	v.Leader = nstr()
	if v.Version >= 2 {
		v.CurrentStateTimestamp = r.Int64()
	}
	n := r.arrayLen(flexible)
	for i := 0; i < n && r.Err == nil; i++ {
		var m MemberValue
		m.MemberID = str()
		if v.Version >= 3 {
			m.InstanceID = nstr()
		}
		m.ClientID = str()
		m.ClientHost = str()
		m.RebalanceTimeout = -1
		if v.Version >= 1 {
			m.RebalanceTimeout = r.Int32()
		}
		m.SessionTimeout = r.Int32()
		m.Subscription = bytes()
		m.Assignment = bytes()
		if flexible {
			r.SkipTags()
		}
		v.Members = append(v.Members, m)
	}
	if flexible {
		r.SkipTags()
	}
	if r.Err != nil {
		return GroupValue{}, fmt.Errorf("%w: group metadata value v%d: %w", ErrInvalidRecord, v.Version, r.Err)
	}
	return v, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

func appendNullableString(dst []byte, s string) []byte {
	if s == "" {
		return binary.BigEndian.AppendUint16(dst, 0xffff)
	}
	return appendString(dst, s)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendCompactString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s))+1)
	return append(dst, s...)
}

func appendCompactNullableString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, 0)
	}
	return appendCompactString(dst, s)
}

func appendCompactBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b))+1)
	return append(dst, b...)
}

// reader decodes the fields of the group coordinator's records and of
// the consumer protocol; it remembers the first error, and once it has one
// every read returns zero values.
type reader struct{ coord.Reader }

func newReader(b []byte) *reader { return &reader{coord.Reader{B: b}} }

func (r *reader) string() string {
	n := r.Int16()
	if r.Err == nil && n < 0 {
		r.Fail(fmt.Errorf("null string where one is required"))
		return ""
	}
	return string(r.Take(int(n)))
}

func (r *reader) nullableString() string {
	n := r.Int16()
	if n == -1 {
		return ""
	}
	if r.Err == nil && n < 0 {
		r.Fail(fmt.Errorf("string length %d", n))
		return ""
	}
	return string(r.Take(int(n)))
}

func (r *reader) bytes() []byte {
	n := r.Int32()
	if r.Err == nil && n < 0 {
		r.Fail(fmt.Errorf("null bytes where they are required"))
		return nil
	}
	p := r.Take(int(n))
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

// compactLen reads a compact length (length+1; 0 is null) and reports
// whether the value is null.
func (r *reader) compactLen() (int, bool) {
	u := r.Uvarint()
	if r.Err != nil {
		return 0, false
	}
	if u == 0 {
		return 0, true
	}
	if u-1 > uint64(len(r.B)) {
		r.Fail(fmt.Errorf("length %d exceeds the %d bytes left", u-1, len(r.B)))
		return 0, false
	}
	return int(u - 1), false
}

func (r *reader) compactString() string {
	n, null := r.compactLen()
	if null {
		r.Fail(fmt.Errorf("null string where one is required"))
		return ""
	}
	return string(r.Take(n))
}

func (r *reader) compactNullableString() string {
	n, _ := r.compactLen()
	return string(r.Take(n))
}

func (r *reader) compactBytes() []byte {
	n, null := r.compactLen()
	if null {
		r.Fail(fmt.Errorf("null bytes where they are required"))
		return nil
	}
	p := r.Take(n)
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

// arrayLen reads an array's element count, bounded by the bytes left
// (every element takes at least one byte), so a corrupt count cannot make
// the decoder allocate or loop beyond the input.
func (r *reader) arrayLen(flexible bool) int {
	var n int64
	if flexible {
		u := r.Uvarint()
		if u == 0 {
			if r.Err == nil {
				r.Fail(fmt.Errorf("null array where one is required"))
			}
			return 0
		}
		n = int64(min(u-1, math.MaxInt32))
	} else {
		n = int64(r.Int32())
	}
	if r.Err != nil {
		return 0
	}
	if n < 0 || n > int64(len(r.B)) {
		r.Fail(fmt.Errorf("array length %d with %d bytes left", n, len(r.B)))
		return 0
	}
	return int(n)
}
