package streams

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/runnel/runnel/streams/serde"
)

// Serde is serde.Serde, repeated here so signatures in this package read
// short.
type Serde[T any] = serde.Serde[T]

// ErrStore is returned (wrapped) when a state store is missing, of the
// wrong type, or closed.
var ErrStore = errors.New("streams: state store")

// StateStore is what every store offers the engine.
type StateStore interface {
	// Name is the store's name, unique in a topology.
	Name() string
	// Flush makes buffered writes durable (and forwards cached results);
	// the engine calls it before every commit.
	Flush() error
	// Close releases the store.
	Close() error
}

// StoreBuilder describes a store; each task builds its own instance.
type StoreBuilder interface {
	// Name is the store's name.
	Name() string
	// Logged reports whether writes go to the store's changelog topic.
	Logged() bool
	newStore() storeImpl
}

// storeImpl is a store the engine can initialize.
type storeImpl interface {
	StateStore
	init(sc *storeContext)
}

// storeContext connects a store instance to its task, for changelogging.
type storeContext struct {
	task      *Task
	changelog string // "" when logging is off
}

// log writes one change to the changelog topic, on the task's partition,
// stamped with the current record's timestamp.
func (sc *storeContext) log(key, value []byte, ts int64) {
	if sc == nil || sc.changelog == "" || sc.task == nil {
		return
	}
	sc.task.send(OutputRecord{Topic: sc.changelog, Key: key, Value: value, Timestamp: ts, Partition: sc.task.id.Partition})
}

// StoreOption configures a store builder or a Materialized store.
type StoreOption func(*storeOptions)

type storeOptions struct {
	loggingOff bool
	logConfig  map[string]string
	caching    bool
	persistent bool
	retention  int64 // ms; window and session stores
	dupes      bool
}

// WithLogging turns changelogging on or off (on by default) and sets extra
// topic configs for the changelog topic.
func WithLogging(enabled bool, topicConfig map[string]string) StoreOption {
	return func(o *storeOptions) { o.loggingOff = !enabled; o.logConfig = topicConfig }
}

// WithCaching turns the record cache on or off (off by default).
func WithCaching(enabled bool) StoreOption { return func(o *storeOptions) { o.caching = enabled } }

// Persistent asks for a store on disk (under state.dir) rather than in
// memory.
func Persistent() StoreOption { return func(o *storeOptions) { o.persistent = true } }

// InMemory asks for a store in memory (the default here).
func InMemory() StoreOption { return func(o *storeOptions) { o.persistent = false } }

func applyStoreOptions(opts []StoreOption) storeOptions {
	var o storeOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// erasedSerde is a serde with its type erased, kept with the original so
// typed views can check they read a store with the types it was built for.
type erasedSerde struct {
	orig  any
	ser   func(topic string, v any) ([]byte, error)
	deser func(topic string, b []byte) (any, error)
}

func erase1[T any](s Serde[T]) erasedSerde {
	if s == nil {
		return erasedSerde{}
	}
	return erasedSerde{
		orig: s,
		ser:  func(topic string, v any) ([]byte, error) { return s.Serialize(topic, as[T](v)) },
		deser: func(topic string, b []byte) (any, error) {
			v, err := s.Deserialize(topic, b)
			return v, err
		},
	}
}

// checkSerde reports an error unless e serializes T.
func checkSerde[T any](e erasedSerde, store, what string) error {
	if _, ok := e.orig.(Serde[T]); !ok {
		var zero T
		return fmt.Errorf("%w %q: its %s serde %T does not serialize %T", ErrStore, store, what, e.orig, zero)
	}
	return nil
}

// KeyValueStore is a typed key-value store ordered by serialized key.
type KeyValueStore[K, V any] interface {
	StateStore
	// Get returns the value of k and whether it exists.
	Get(k K) (V, bool, error)
	// Put sets k to v; a null v (nil pointer, map or slice) deletes k.
	Put(k K, v V) error
	// PutIfAbsent sets k only when it has no value and returns the old one.
	PutIfAbsent(k K, v V) (V, bool, error)
	// Delete removes k and returns its old value.
	Delete(k K) (V, bool, error)
	// All returns every entry in key-byte order.
	All() ([]KeyValue[K, V], error)
	// Range returns entries with from <= key <= to in key-byte order.
	Range(from, to K) ([]KeyValue[K, V], error)
	// ApproximateNumEntries is the number of keys.
	ApproximateNumEntries() int64
}

// GetKeyValueStore returns the named key-value store as a typed view, with
// an error naming the store when it is not connected to the processor or
// was built for other types.
func GetKeyValueStore[K, V any](g StoreGetter, name string) (KeyValueStore[K, V], error) {
	s, ok := g.StateStore(name).(*rawKV)
	if !ok {
		return nil, fmt.Errorf("%w %q is not a key-value store connected here", ErrStore, name)
	}
	if err := checkSerde[K](s.ks, name, "key"); err != nil {
		return nil, err
	}
	if err := checkSerde[V](s.vs, name, "value"); err != nil {
		return nil, err
	}
	return kvView[K, V]{s}, nil
}

// valueAndTS is a stored value with the timestamp of the record that wrote
// it, as Kafka's timestamped stores keep.
type valueAndTS struct {
	value []byte
	ts    int64
}

// kvBuilder builds in-memory key-value stores.
type kvBuilder struct {
	name   string
	ks, vs erasedSerde
	opts   storeOptions
}

// KeyValueStoreBuilder describes a key-value store with the given serdes.
func KeyValueStoreBuilder[K, V any](name string, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &kvBuilder{name: name, ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *kvBuilder) Name() string { return b.name }
func (b *kvBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *kvBuilder) newStore() storeImpl {
	return &rawKV{name: b.name, ks: b.ks, vs: b.vs, data: map[string]valueAndTS{}}
}

// rawKV is the in-memory key-value store: serialized keys, serialized
// values with their timestamps, behind type-erased serdes.
type rawKV struct {
	name   string
	ks, vs erasedSerde
	data   map[string]valueAndTS
	sc     *storeContext
}

func (s *rawKV) init(sc *storeContext) { s.sc = sc }
func (s *rawKV) Name() string          { return s.name }
func (s *rawKV) Flush() error          { return nil }
func (s *rawKV) Close() error          { return nil }

func (s *rawKV) topic() string {
	if s.sc != nil && s.sc.changelog != "" {
		return s.sc.changelog
	}
	return s.name
}

func (s *rawKV) nowTS() int64 {
	if s.sc != nil && s.sc.task != nil {
		return s.sc.task.rc.timestamp
	}
	return 0
}

func (s *rawKV) keyBytes(k any) ([]byte, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	return kb, nil
}

// get returns the value of k (nil when absent) and its timestamp.
func (s *rawKV) get(k any) (any, int64, bool, error) {
	kb, err := s.keyBytes(k)
	if err != nil {
		return nil, 0, false, err
	}
	e, ok := s.data[string(kb)]
	if !ok {
		return nil, 0, false, nil
	}
	v, err := s.vs.deser(s.topic(), e.value)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
	}
	return v, e.ts, true, nil
}

// put stores v with timestamp ts, or deletes k when v is null, and logs
// the change.
func (s *rawKV) put(k, v any, ts int64) error {
	kb, err := s.keyBytes(k)
	if err != nil {
		return err
	}
	if isNull(v) {
		delete(s.data, string(kb))
		s.sc.log(kb, nil, ts)
		return nil
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	s.data[string(kb)] = valueAndTS{value: vb, ts: ts}
	s.sc.log(kb, vb, ts)
	return nil
}

func (s *rawKV) scan(from, to []byte) ([]KeyValue[any, any], error) {
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		if from != nil && bytes.Compare([]byte(k), from) < 0 {
			continue
		}
		if to != nil && bytes.Compare([]byte(k), to) > 0 {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]KeyValue[any, any], 0, len(keys))
	for _, k := range keys {
		key, err := s.ks.deser(s.topic(), []byte(k))
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		v, err := s.vs.deser(s.topic(), s.data[k].value)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
		}
		out = append(out, KeyValue[any, any]{Key: key, Value: v})
	}
	return out, nil
}

// kvView is the typed face of a rawKV.
type kvView[K, V any] struct{ s *rawKV }

func (v kvView[K, V]) Name() string { return v.s.name }
func (v kvView[K, V]) Flush() error { return v.s.Flush() }
func (v kvView[K, V]) Close() error { return v.s.Close() }

func (v kvView[K, V]) Get(k K) (V, bool, error) {
	x, _, ok, err := v.s.get(k)
	return as[V](x), ok, err
}

func (v kvView[K, V]) Put(k K, val V) error { return v.s.put(k, val, v.s.nowTS()) }

func (v kvView[K, V]) PutIfAbsent(k K, val V) (V, bool, error) {
	old, ok, err := v.Get(k)
	if err != nil || ok {
		return old, ok, err
	}
	return old, false, v.Put(k, val)
}

func (v kvView[K, V]) Delete(k K) (V, bool, error) {
	old, ok, err := v.Get(k)
	if err != nil || !ok {
		return old, ok, err
	}
	return old, true, v.s.put(k, nil, v.s.nowTS())
}

func (v kvView[K, V]) All() ([]KeyValue[K, V], error) { return v.scan(nil, nil) }

func (v kvView[K, V]) Range(from, to K) ([]KeyValue[K, V], error) {
	fb, err := v.s.keyBytes(from)
	if err != nil {
		return nil, err
	}
	tb, err := v.s.keyBytes(to)
	if err != nil {
		return nil, err
	}
	return v.scan(fb, tb)
}

func (v kvView[K, V]) scan(from, to []byte) ([]KeyValue[K, V], error) {
	raw, err := v.s.scan(from, to)
	out := make([]KeyValue[K, V], 0, len(raw))
	for _, kv := range raw {
		out = append(out, KeyValue[K, V]{Key: as[K](kv.Key), Value: as[V](kv.Value)})
	}
	return out, err
}

func (v kvView[K, V]) ApproximateNumEntries() int64 { return int64(len(v.s.data)) }

// be64 appends v big-endian.
func be64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }
