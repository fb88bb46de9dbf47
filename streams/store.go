package streams

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/runnel/runnel/state"
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
	// open opens the task's instance of the store.
	open(env storeEnv) (storeImpl, error)
}

// storeImpl is a store instance the engine can restore.
type storeImpl interface {
	StateStore
	state.Restorer
}

// storeEnv is what a store needs from its task: where to live, where its
// changelog goes, and the current record's timestamp.
type storeEnv struct {
	// dir is state.dir/<application.id>/<task>/<store>, or "" to keep
	// persistent stores in memory.
	dir       string
	task      *Task
	changelog string // "" when logging is off
	// cache is the record cache of the task's thread; nil turns caching
	// off for every store. clock carries the current record's timestamp
	// (and, while a cache flushes, the flushed entry's).
	cache *state.Cache
	clock *state.Clock
}

// inMemory reports whether the store must live in memory.
func (e storeEnv) inMemory(o storeOptions) bool { return !o.persistent || e.dir == "" }

// now returns the timestamp of the record being processed.
func (e storeEnv) now() int64 {
	if e.clock == nil {
		return -1
	}
	return e.clock.Now()
}

// cached reports whether a store with options o sits behind the cache.
func (e storeEnv) cached(o storeOptions) bool { return o.caching && e.cache != nil }

// sink returns the changelog sink of the store, or nil when it is not
// logged. With timestamped values (ts‖value, Kafka's timestamped store
// format) the changelog carries the plain value stamped with ts, as Kafka's
// timestamped changelogging stores write it.
func (e storeEnv) sink(timestamped bool) state.ChangelogSink {
	if e.changelog == "" || e.task == nil {
		return nil
	}
	return state.SinkFunc(func(rec state.ChangelogRecord) error {
		v, ts := rec.Value, rec.Timestamp
		if timestamped && len(v) >= 8 {
			ts, v = int64(binary.BigEndian.Uint64(v)), v[8:]
		}
		e.task.send(OutputRecord{Topic: e.changelog, Key: rec.Key, Value: v, Timestamp: ts, Partition: e.task.id.Partition})
		return nil
	})
}

// StoreOption configures a store builder or a Materialized store.
type StoreOption func(*storeOptions)

type storeOptions struct {
	loggingOff bool
	logConfig  map[string]string
	caching    bool
	persistent bool
	retention  int64 // ms; window and session stores, 0 = default
}

// WithLogging turns changelogging on or off (on by default) and sets extra
// topic configs for the changelog topic.
func WithLogging(enabled bool, topicConfig map[string]string) StoreOption {
	return func(o *storeOptions) { o.loggingOff = !enabled; o.logConfig = topicConfig }
}

// WithCaching turns the record cache on or off. DSL stores are cached by
// default and user stores are not, as in Kafka. A cached aggregation
// forwards a key's result only when the cache is flushed (at every commit)
// or evicts it (statestore.cache.max.bytes), so several updates of a key
// between commits reach downstream, and the changelog, as one.
func WithCaching(enabled bool) StoreOption { return func(o *storeOptions) { o.caching = enabled } }

// Persistent keeps the store on disk (goleveldb under
// state.dir/<application.id>/<task>/<store>); this is the default, as in
// Kafka. Without a state directory the store lives in memory.
func Persistent() StoreOption { return func(o *storeOptions) { o.persistent = true } }

// InMemory keeps the store in memory.
func InMemory() StoreOption { return func(o *storeOptions) { o.persistent = false } }

// WithRetention sets how long a windowed aggregation's store keeps windows
// (Materialized.withRetention); Kafka uses max(retention, size+grace).
func WithRetention(d time.Duration) StoreOption {
	return func(o *storeOptions) { o.retention = d.Milliseconds() }
}

// dslStoreOptions applies opts over the defaults of stores the DSL
// creates: persistent, logged and cached.
func dslStoreOptions(opts []StoreOption) storeOptions {
	o := storeOptions{persistent: true, caching: true}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func applyStoreOptions(opts []StoreOption) storeOptions {
	o := storeOptions{persistent: true}
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

// checkSerdes checks a store's key and value serdes against the types a
// typed view asks for.
func checkSerdes[K, V any](ks, vs erasedSerde, store string) error {
	if err := checkSerde[K](ks, store, "key"); err != nil {
		return err
	}
	return checkSerde[V](vs, store, "value")
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
// was built for other types. The task owns the store: closing the view
// does nothing.
func GetKeyValueStore[K, V any](g StoreGetter, name string) (KeyValueStore[K, V], error) {
	s, ok := g.StateStore(name).(*rawKV)
	if !ok {
		return nil, fmt.Errorf("%w %q is not a key-value store connected here", ErrStore, name)
	}
	if err := checkSerdes[K, V](s.ks, s.vs, name); err != nil {
		return nil, err
	}
	return kvView[K, V]{s}, nil
}

// kvBuilder builds key-value stores.
type kvBuilder struct {
	name   string
	ks, vs erasedSerde
	opts   storeOptions
}

// KeyValueStoreBuilder describes a key-value store with the given serdes.
// Options: Persistent (default), InMemory, WithLogging, WithCaching.
func KeyValueStoreBuilder[K, V any](name string, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &kvBuilder{name: name, ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *kvBuilder) Name() string { return b.name }
func (b *kvBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *kvBuilder) open(env storeEnv) (storeImpl, error) {
	db, err := state.OpenKeyValue(state.KeyValueConfig{Name: b.name, Dir: env.dir, InMemory: env.inMemory(b.opts), Logger: loggerOf(env)})
	if err != nil {
		return nil, err
	}
	s := &rawKV{name: b.name, ks: b.ks, vs: b.vs, env: env, db: db, b: db}
	if sink := env.sink(true); sink != nil {
		s.b = state.NewLoggedKeyValue(db, sink, env.now)
	}
	if env.cached(b.opts) {
		c, err := state.NewCachedKeyValue(s.b, state.CachingConfig[[]byte]{Cache: env.cache, Clock: env.clock,
			Forward: func(f state.Flushed[[]byte]) error {
				if s.onFlush == nil {
					return nil
				}
				return s.onFlush(f)
			}})
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		s.b, s.isCached = c, true
	}
	return s, nil
}

func loggerOf(env storeEnv) *slog.Logger {
	if env.task != nil {
		return env.task.log
	}
	return nil
}

// rawKV is a key-value store behind type-erased serdes. Values are stored
// in Kafka's timestamped format: the timestamp of the record that wrote
// them (int64 big-endian) followed by the value bytes.
type rawKV struct {
	name   string
	ks, vs erasedSerde
	env    storeEnv
	db     *state.KeyValueDB
	b      state.KeyValueBytes // db, wrapped with changelogging and caching
	// isCached stores forward results when the cache flushes them, to
	// onFlush, set by the processor owning the store.
	isCached bool
	onFlush  func(state.Flushed[[]byte]) error
}

// flushed decodes a flushed cache entry into a table change for the
// owning processor to forward: the key, the new and old values, and the
// timestamp (the new value's, or the deleting record's).
func (s *rawKV) flushed(f state.Flushed[[]byte]) (key any, c change, ts int64, err error) {
	if key, err = s.ks.deser(s.topic(), f.Key); err != nil {
		return nil, c, 0, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
	}
	ts = f.Timestamp
	if f.NewValue != nil {
		if c.newV, ts, err = s.decode(f.NewValue); err != nil {
			return nil, c, 0, err
		}
	}
	if f.OldValue != nil {
		if c.oldV, _, err = s.decode(f.OldValue); err != nil {
			return nil, c, 0, err
		}
	}
	return key, c, ts, nil
}

func (s *rawKV) Name() string { return s.name }
func (s *rawKV) Flush() error { return s.b.Flush() }
func (s *rawKV) Close() error { return s.b.Close() }

// Restore applies changelog records (plain values) to the store.
func (s *rawKV) Restore(records []state.ChangelogRecord) error {
	recs := make([]state.ChangelogRecord, len(records))
	for i, r := range records {
		recs[i] = r
		if r.Value != nil {
			recs[i].Value = be64(nil, r.Timestamp)
			recs[i].Value = append(recs[i].Value, r.Value...)
		}
	}
	return s.db.Restore(recs)
}

func (s *rawKV) topic() string {
	if s.env.changelog != "" {
		return s.env.changelog
	}
	return s.name
}

func (s *rawKV) nowTS() int64 { return s.env.now() }

func (s *rawKV) keyBytes(k any) ([]byte, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	return kb, nil
}

// decode splits a stored value into value and timestamp.
func (s *rawKV) decode(b []byte) (any, int64, error) {
	if len(b) < 8 {
		return nil, 0, fmt.Errorf("%w %q: stored value of %d bytes has no timestamp", ErrStore, s.name, len(b))
	}
	v, err := s.vs.deser(s.topic(), b[8:])
	if err != nil {
		return nil, 0, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
	}
	return v, int64(binary.BigEndian.Uint64(b)), nil
}

// get returns the value of k (nil when absent) and its timestamp.
func (s *rawKV) get(k any) (any, int64, bool, error) {
	kb, err := s.keyBytes(k)
	if err != nil {
		return nil, 0, false, err
	}
	b, err := s.b.Get(kb)
	if err != nil || b == nil {
		return nil, 0, false, err
	}
	v, ts, err := s.decode(b)
	return v, ts, err == nil, err
}

// put stores v with timestamp ts, or deletes k when v is null; the
// changelog wrapper logs the change.
func (s *rawKV) put(k, v any, ts int64) error {
	kb, err := s.keyBytes(k)
	if err != nil {
		return err
	}
	if isNull(v) {
		_, err := s.b.Delete(kb)
		return err
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	return s.b.Put(kb, append(be64(make([]byte, 0, 8+len(vb)), ts), vb...))
}

func (s *rawKV) scan(from, to []byte) ([]KeyValue[any, any], error) {
	var it state.Iterator[[]byte, []byte]
	if from == nil && to == nil {
		it = s.b.All()
	} else {
		it = s.b.Range(from, to)
	}
	raw, err := state.Collect(it)
	if err != nil {
		return nil, err
	}
	out := make([]KeyValue[any, any], 0, len(raw))
	for _, kv := range raw {
		key, err := s.ks.deser(s.topic(), kv.Key)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		v, _, err := s.decode(kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyValue[any, any]{Key: key, Value: v})
	}
	return out, nil
}

// kvView is the typed face of a rawKV.
type kvView[K, V any] struct{ s *rawKV }

func (v kvView[K, V]) Name() string { return v.s.name }
func (v kvView[K, V]) Flush() error { return v.s.Flush() }
func (v kvView[K, V]) Close() error { return nil } // the task owns the store

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

func (v kvView[K, V]) ApproximateNumEntries() int64 {
	n, _ := v.s.b.ApproximateNumEntries()
	return n
}

// be64 appends v big-endian.
func be64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// forwardOnFlush makes a cached key-value store's flushes the owning
// processor's output; it reports whether the store is cached (then the
// processor must not forward its updates itself).
func forwardOnFlush(ctx *nodeContext, st *rawKV) bool {
	if st == nil || !st.isCached {
		return false
	}
	st.onFlush = func(f state.Flushed[[]byte]) error {
		k, c, ts, err := st.flushed(f)
		if err != nil {
			return err
		}
		ctx.forward(anyRecord{Key: k, Value: c, Timestamp: ts})
		return ctx.task.err
	}
	return true
}
