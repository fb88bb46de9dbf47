package streams

import (
	"reflect"
	"strconv"
)

// Header is one record header. Kafka allows repeated keys, so Headers is a
// list, not a map.
type Header struct {
	Key   string
	Value []byte
}

// Headers are a record's headers in order.
type Headers []Header

// Get returns the value of the last header named key.
func (h Headers) Get(key string) ([]byte, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return h[i].Value, true
		}
	}
	return nil, false
}

// Clone returns a copy that does not share the slice with h.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(nil), h...)
}

// Record is one record flowing through a topology: key, value, event time in
// milliseconds since the epoch, and headers.
type Record[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
	Headers   Headers
}

// WithKey returns a copy of r with the key replaced.
func WithKey[K, V, K2 any](r Record[K, V], k K2) Record[K2, V] {
	return Record[K2, V]{Key: k, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers}
}

// WithValue returns a copy of r with the value replaced.
func WithValue[K, V, V2 any](r Record[K, V], v V2) Record[K, V2] {
	return Record[K, V2]{Key: r.Key, Value: v, Timestamp: r.Timestamp, Headers: r.Headers}
}

// KeyValue is a key and a value, as returned by store reads and FlatMap.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// KV builds a KeyValue.
func KV[K, V any](k K, v V) KeyValue[K, V] { return KeyValue[K, V]{Key: k, Value: v} }

// anyRecord is the type-erased record the engine passes between nodes.
type anyRecord = Record[any, any]

// erase turns a typed record into the engine's form.
func erase[K, V any](r Record[K, V]) anyRecord {
	return anyRecord{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers}
}

// typed turns an engine record into a typed one; a nil key or value becomes
// the zero value.
func typed[K, V any](r anyRecord) Record[K, V] {
	return Record[K, V]{Key: as[K](r.Key), Value: as[V](r.Value), Timestamp: r.Timestamp, Headers: r.Headers}
}

// as converts an engine value to T; nil becomes the zero value.
func as[T any](v any) T {
	if v == nil {
		var zero T
		return zero
	}
	return v.(T)
}

// isNull reports whether v is Kafka's null: a nil interface or a nil
// pointer, map, slice, channel, function or interface.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// TaskID names a task: the sub-topology it runs and the partition it owns.
type TaskID struct {
	Subtopology int
	Partition   int32
}

// String formats the ID as Kafka does: "<subtopology>_<partition>".
func (id TaskID) String() string {
	return strconv.Itoa(id.Subtopology) + "_" + strconv.Itoa(int(id.Partition))
}
