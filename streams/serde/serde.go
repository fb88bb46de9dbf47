// Package serde turns typed keys and values into record bytes and back.
//
// The built-in serdes write the same bytes as Apache Kafka's serializers, so
// a Runnel Streams application can read topics written by Java applications
// and the other way round:
//
//   - String: UTF-8 (StringSerializer)
//   - Bytes: the bytes unchanged (ByteArraySerializer)
//   - Int32: 4 bytes big-endian (IntegerSerializer)
//   - Int64: 8 bytes big-endian (LongSerializer)
//   - Float64: IEEE 754 binary64, 8 bytes big-endian (DoubleSerializer)
//   - JSON: encoding/json
//
// A nil record value is a tombstone. Callers (the streams runtime and the
// state stores) recognise tombstones before calling a serde, so a serde never
// has to represent "no value". For robustness every built-in Deserialize
// returns the zero value and no error when given nil data, the way Kafka's
// deserializers return null for null.
package serde

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrSize is returned (wrapped) when data has the wrong length for a
// fixed-width type such as Int32 or Int64.
var ErrSize = errors.New("serde: wrong data size")

// ErrJSON is returned (wrapped) when JSON encoding or decoding fails.
var ErrJSON = errors.New("serde: json")

// Serde serializes and deserializes values of type T. The topic names the
// topic (or changelog/repartition topic) the bytes belong to; most serdes
// ignore it. Implementations must be safe for concurrent use.
type Serde[T any] interface {
	// Serialize returns the bytes of v.
	Serialize(topic string, v T) ([]byte, error)
	// Deserialize returns the value encoded in data.
	Deserialize(topic string, data []byte) (T, error)
}

// funcSerde adapts a pair of functions to Serde.
type funcSerde[T any] struct {
	ser   func(topic string, v T) ([]byte, error)
	deser func(topic string, data []byte) (T, error)
}

func (f funcSerde[T]) Serialize(topic string, v T) ([]byte, error) { return f.ser(topic, v) }
func (f funcSerde[T]) Deserialize(topic string, data []byte) (T, error) {
	return f.deser(topic, data)
}

// New returns a Serde made of the two functions, for user types that need no
// state of their own.
func New[T any](serialize func(topic string, v T) ([]byte, error), deserialize func(topic string, data []byte) (T, error)) Serde[T] {
	return funcSerde[T]{ser: serialize, deser: deserialize}
}

type stringSerde struct{}

// String returns the UTF-8 serde for strings, byte-compatible with Kafka's
// StringSerializer/StringDeserializer (default encoding UTF-8).
func String() Serde[string] { return stringSerde{} }

func (stringSerde) Serialize(_ string, v string) ([]byte, error) { return []byte(v), nil }
func (stringSerde) Deserialize(_ string, data []byte) (string, error) {
	return string(data), nil
}

type bytesSerde struct{}

// Bytes returns the identity serde for byte slices (Kafka's
// ByteArraySerializer). Serialize and Deserialize return the slice they are
// given without copying.
func Bytes() Serde[[]byte] { return bytesSerde{} }

func (bytesSerde) Serialize(_ string, v []byte) ([]byte, error)      { return v, nil }
func (bytesSerde) Deserialize(_ string, data []byte) ([]byte, error) { return data, nil }

type int32Serde struct{}

// Int32 returns the serde for int32 as 4 bytes big-endian, like Kafka's
// IntegerSerializer.
func Int32() Serde[int32] { return int32Serde{} }

func (int32Serde) Serialize(_ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)), nil
}

func (int32Serde) Deserialize(topic string, data []byte) (int32, error) {
	if data == nil {
		return 0, nil
	}
	if len(data) != 4 {
		return 0, fmt.Errorf("%w: int32 needs 4 bytes, got %d (topic %q)", ErrSize, len(data), topic)
	}
	return int32(binary.BigEndian.Uint32(data)), nil
}

type int64Serde struct{}

// Int64 returns the serde for int64 as 8 bytes big-endian, like Kafka's
// LongSerializer.
func Int64() Serde[int64] { return int64Serde{} }

func (int64Serde) Serialize(_ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v)), nil
}

func (int64Serde) Deserialize(topic string, data []byte) (int64, error) {
	if data == nil {
		return 0, nil
	}
	if len(data) != 8 {
		return 0, fmt.Errorf("%w: int64 needs 8 bytes, got %d (topic %q)", ErrSize, len(data), topic)
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

type float64Serde struct{}

// Float64 returns the serde for float64 as IEEE 754 binary64 bits, 8 bytes
// big-endian, like Kafka's DoubleSerializer. Every NaN is written as the
// canonical 0x7ff8000000000000, as Java's Double.doubleToLongBits does.
func Float64() Serde[float64] { return float64Serde{} }

const canonicalNaN = 0x7ff8000000000000

func (float64Serde) Serialize(_ string, v float64) ([]byte, error) {
	bits := math.Float64bits(v)
	if v != v {
		bits = canonicalNaN
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), bits), nil
}

func (float64Serde) Deserialize(topic string, data []byte) (float64, error) {
	if data == nil {
		return 0, nil
	}
	if len(data) != 8 {
		return 0, fmt.Errorf("%w: float64 needs 8 bytes, got %d (topic %q)", ErrSize, len(data), topic)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(data)), nil
}

type jsonSerde[T any] struct{}

// JSON returns a serde that encodes T with encoding/json.
func JSON[T any]() Serde[T] { return jsonSerde[T]{} }

func (jsonSerde[T]) Serialize(topic string, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode for topic %q: %w", ErrJSON, topic, err)
	}
	return b, nil
}

func (jsonSerde[T]) Deserialize(topic string, data []byte) (T, error) {
	var v T
	if data == nil {
		return v, nil
	}
	if err := json.Unmarshal(data, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: decode from topic %q: %w", ErrJSON, topic, err)
	}
	return v, nil
}
