package streams

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The byte formats of foreign-key joins are Kafka Streams' own, so a
// Runnel application and a Kafka Streams application can share the
// subscription and response topics and the subscription store's changelog.
//
// Subscription (Kafka's SubscriptionWrapper, on
// …-subscription-registration-topic and as the subscription store's
// value):
//
//	byte 0     version (bits 0-6), 0x80 when the hash is null
//	byte 1     instruction
//	16 bytes   Murmur3 hash128 of the left value (two big-endian int64s), when not null
//	n bytes    primary key
//	4 bytes    primary partition, big-endian (version 1 only)
//
// Response (Kafka's SubscriptionResponseWrapper, on
// …-subscription-response-topic):
//
//	byte 0     version 0, 0x80 when the hash is null
//	16 bytes   the hash the subscription carried, when not null
//	n bytes    the right value; none means null
//
// Subscription store key (Kafka's CombinedKey): int32 big-endian length of
// the foreign key ‖ foreign key ‖ primary key.

const (
	// subscriptionVersion is the SubscriptionWrapper version written
	// (Kafka 3.9 writes 1); versions 0 and 1 are read.
	subscriptionVersion byte = 1
	// responseVersion is the only SubscriptionResponseWrapper version.
	responseVersion byte = 0
	hashNull        byte = 0x80
	hashLen              = 16
)

// subscriptionSerde is Kafka's SubscriptionWrapperSerde. pkTopic gives
// the topic the primary key is serialized with from the topic the wrapper
// is.
type subscriptionSerde[K any] struct {
	pk      Serde[K]
	pkTopic func(topic string) string
}

func (s subscriptionSerde[K]) Serialize(topic string, v subscription) ([]byte, error) {
	if v.version > subscriptionVersion {
		return nil, fmt.Errorf("%w: subscription version %d", errFKFormat, v.version)
	}
	if v.hash != nil && len(v.hash) != hashLen {
		return nil, fmt.Errorf("%w: hash of %d bytes", errFKFormat, len(v.hash))
	}
	pb, err := s.pk.Serialize(s.pkTopic(topic), as[K](v.pk))
	if err != nil {
		return nil, err
	}
	head := v.version
	if v.hash == nil {
		head |= hashNull
	}
	out := make([]byte, 0, 2+len(v.hash)+len(pb)+4)
	out = append(out, head, v.instruction)
	out = append(out, v.hash...)
	out = append(out, pb...)
	if v.version >= 1 {
		out = binary.BigEndian.AppendUint32(out, uint32(v.partition))
	}
	return out, nil
}

func (s subscriptionSerde[K]) Deserialize(topic string, b []byte) (subscription, error) {
	var v subscription
	if len(b) < 2 {
		return v, fmt.Errorf("%w: subscription of %d bytes", errFKFormat, len(b))
	}
	v.version, v.instruction = b[0]&^hashNull, b[1]
	if v.version > subscriptionVersion {
		return v, fmt.Errorf("%w: subscription version %d", errFKFormat, v.version)
	}
	if v.instruction > fkPropagateOnlyIfValue {
		return v, fmt.Errorf("%w: subscription instruction %d", errFKFormat, v.instruction)
	}
	rest := b[2:]
	if b[0]&hashNull == 0 {
		if len(rest) < hashLen {
			return v, fmt.Errorf("%w: subscription of %d bytes", errFKFormat, len(b))
		}
		v.hash, rest = bytes.Clone(rest[:hashLen]), rest[hashLen:]
	}
	v.partition = -1
	if v.version >= 1 {
		if len(rest) < 4 {
			return v, fmt.Errorf("%w: subscription of %d bytes", errFKFormat, len(b))
		}
		v.partition = int32(binary.BigEndian.Uint32(rest[len(rest)-4:]))
		rest = rest[:len(rest)-4]
	}
	pk, err := s.pk.Deserialize(s.pkTopic(topic), rest)
	if err != nil {
		return v, err
	}
	v.pk = pk
	return v, nil
}

// responseSerde is Kafka's SubscriptionResponseWrapperSerde. A right
// value that serializes to no bytes reads back as null, as in Kafka.
type responseSerde[VO any] struct{ vs Serde[VO] }

func (s responseSerde[VO]) Serialize(topic string, v fkResponse) ([]byte, error) {
	if v.hash != nil && len(v.hash) != hashLen {
		return nil, fmt.Errorf("%w: hash of %d bytes", errFKFormat, len(v.hash))
	}
	var vb []byte
	if v.value != nil {
		var err error
		if vb, err = s.vs.Serialize(topic, v.value.(VO)); err != nil {
			return nil, err
		}
	}
	head := responseVersion
	if v.hash == nil {
		head |= hashNull
	}
	out := make([]byte, 0, 1+len(v.hash)+len(vb))
	out = append(out, head)
	out = append(out, v.hash...)
	return append(out, vb...), nil
}

func (s responseSerde[VO]) Deserialize(topic string, b []byte) (fkResponse, error) {
	v := fkResponse{partition: -1}
	if len(b) < 1 {
		return v, fmt.Errorf("%w: empty response", errFKFormat)
	}
	if version := b[0] &^ hashNull; version != responseVersion {
		return v, fmt.Errorf("%w: response version %d", errFKFormat, version)
	}
	rest := b[1:]
	if b[0]&hashNull == 0 {
		if len(rest) < hashLen {
			return v, fmt.Errorf("%w: response of %d bytes", errFKFormat, len(b))
		}
		v.hash, rest = bytes.Clone(rest[:hashLen]), rest[hashLen:]
	}
	if len(rest) > 0 {
		x, err := s.vs.Deserialize(topic, rest)
		if err != nil {
			return v, err
		}
		v.value = x
	}
	return v, nil
}

// combinedKey is the subscription store key of a foreign key and a
// primary key; with pk nil it is the prefix of every key of fk.
func combinedKey(fk, pk []byte) []byte {
	out := make([]byte, 0, 4+len(fk)+len(pk))
	out = binary.BigEndian.AppendUint32(out, uint32(len(fk)))
	return append(append(out, fk...), pk...)
}

// splitCombinedKey returns the foreign and primary key bytes of a
// subscription store key.
func splitCombinedKey(key []byte) (fk, pk []byte, err error) {
	if len(key) < 4 {
		return nil, nil, fmt.Errorf("%w: subscription key of %d bytes", errFKFormat, len(key))
	}
	n := binary.BigEndian.Uint32(key)
	if uint64(n) > uint64(len(key)-4) {
		return nil, nil, fmt.Errorf("%w: subscription key of %d bytes names a foreign key of %d", errFKFormat, len(key), n)
	}
	return key[4 : 4+n], key[4+n:], nil
}
