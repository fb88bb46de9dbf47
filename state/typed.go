package state

import (
	"github.com/runnel/runnel/streams/serde"
)

// ReadOnlyKeyValueStore is the query side of a key-value store, handed out
// for interactive queries.
type ReadOnlyKeyValueStore[K, V any] interface {
	// Get returns the value of k and whether there is one.
	Get(k K) (V, bool, error)
	// Range iterates the keys whose bytes are in [from, to], ascending.
	Range(from, to K) Iterator[K, V]
	// ReverseRange iterates [from, to] descending.
	ReverseRange(from, to K) Iterator[K, V]
	// All iterates every entry by ascending key bytes.
	All() Iterator[K, V]
	// ReverseAll iterates every entry by descending key bytes.
	ReverseAll() Iterator[K, V]
	// PrefixScan iterates the keys whose serialized bytes start with prefix.
	PrefixScan(prefix []byte) Iterator[K, V]
	// ApproximateNumEntries estimates the number of entries.
	ApproximateNumEntries() (int64, error)
}

// KeyValueStore is a typed key-value store: serdes over a KeyValueBytes.
// Order is the order of the serialized keys' bytes (note that the built-in
// integer serdes do not order negative numbers below positive ones).
type KeyValueStore[K, V any] struct {
	b      KeyValueBytes
	topic  string
	keys   serde.Serde[K]
	values serde.Serde[V]
}

// NewKeyValueStore wraps b with serdes. topic is passed to the serdes (the
// store's changelog topic, as in Kafka Streams).
func NewKeyValueStore[K, V any](b KeyValueBytes, topic string, keys serde.Serde[K], values serde.Serde[V]) *KeyValueStore[K, V] {
	return &KeyValueStore[K, V]{b: b, topic: topic, keys: keys, values: values}
}

// Bytes returns the underlying byte store.
func (s *KeyValueStore[K, V]) Bytes() KeyValueBytes { return s.b }

// Name returns the store name.
func (s *KeyValueStore[K, V]) Name() string { return s.b.Name() }

// Get returns the value of k and whether there is one.
func (s *KeyValueStore[K, V]) Get(k K) (V, bool, error) {
	var zero V
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return zero, false, err
	}
	vb, err := s.b.Get(kb)
	if err != nil || vb == nil {
		return zero, false, err
	}
	v, err := s.values.Deserialize(s.topic, vb)
	return v, err == nil, err
}

// Put sets k to v.
func (s *KeyValueStore[K, V]) Put(k K, v V) error {
	kb, vb, err := s.encode(k, v)
	if err != nil {
		return err
	}
	return s.b.Put(kb, vb)
}

func (s *KeyValueStore[K, V]) encode(k K, v V) ([]byte, []byte, error) {
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return nil, nil, err
	}
	vb, err := s.values.Serialize(s.topic, v)
	if err != nil {
		return nil, nil, err
	}
	return kb, nonNil(vb), nil
}

// PutIfAbsent sets k to v unless k has a value; it returns the previous
// value and whether there was one.
func (s *KeyValueStore[K, V]) PutIfAbsent(k K, v V) (V, bool, error) {
	var zero V
	kb, vb, err := s.encode(k, v)
	if err != nil {
		return zero, false, err
	}
	old, err := s.b.PutIfAbsent(kb, vb)
	if err != nil || old == nil {
		return zero, false, err
	}
	ov, err := s.values.Deserialize(s.topic, old)
	return ov, err == nil, err
}

// PutAll sets every entry, in order.
func (s *KeyValueStore[K, V]) PutAll(entries []KeyValue[K, V]) error {
	bs := make([]KeyValue[[]byte, []byte], len(entries))
	for i, e := range entries {
		kb, vb, err := s.encode(e.Key, e.Value)
		if err != nil {
			return err
		}
		bs[i] = KeyValue[[]byte, []byte]{kb, vb}
	}
	return s.b.PutAll(bs)
}

// Delete removes k and returns its previous value and whether it had one.
func (s *KeyValueStore[K, V]) Delete(k K) (V, bool, error) {
	var zero V
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return zero, false, err
	}
	old, err := s.b.Delete(kb)
	if err != nil || old == nil {
		return zero, false, err
	}
	ov, err := s.values.Deserialize(s.topic, old)
	return ov, err == nil, err
}

func (s *KeyValueStore[K, V]) decode(it Iterator[[]byte, []byte]) Iterator[K, V] {
	return mapIter(it, func(kb, vb []byte) (K, V, bool, error) {
		var v V
		k, err := s.keys.Deserialize(s.topic, kb)
		if err == nil {
			v, err = s.values.Deserialize(s.topic, vb)
		}
		return k, v, err == nil, err
	})
}

func (s *KeyValueStore[K, V]) rangeOf(from, to K, f func(a, b []byte) Iterator[[]byte, []byte]) Iterator[K, V] {
	fb, err := s.keys.Serialize(s.topic, from)
	if err != nil {
		return errIter[K, V](err)
	}
	tb, err := s.keys.Serialize(s.topic, to)
	if err != nil {
		return errIter[K, V](err)
	}
	return s.decode(f(nonNil(fb), nonNil(tb)))
}

// Range iterates [from, to] by ascending key bytes.
func (s *KeyValueStore[K, V]) Range(from, to K) Iterator[K, V] {
	return s.rangeOf(from, to, s.b.Range)
}

// ReverseRange iterates [from, to] by descending key bytes.
func (s *KeyValueStore[K, V]) ReverseRange(from, to K) Iterator[K, V] {
	return s.rangeOf(from, to, s.b.ReverseRange)
}

// All iterates every entry.
func (s *KeyValueStore[K, V]) All() Iterator[K, V] { return s.decode(s.b.All()) }

// ReverseAll iterates every entry in reverse.
func (s *KeyValueStore[K, V]) ReverseAll() Iterator[K, V] { return s.decode(s.b.ReverseAll()) }

// PrefixScan iterates the keys whose bytes start with prefix (serialize a
// typed prefix with its own serde first, as Kafka's prefixScan does).
func (s *KeyValueStore[K, V]) PrefixScan(prefix []byte) Iterator[K, V] {
	return s.decode(s.b.PrefixScan(prefix))
}

// ApproximateNumEntries estimates the number of entries.
func (s *KeyValueStore[K, V]) ApproximateNumEntries() (int64, error) {
	return s.b.ApproximateNumEntries()
}

// Flush flushes the underlying store.
func (s *KeyValueStore[K, V]) Flush() error { return s.b.Flush() }

// Close closes the underlying store.
func (s *KeyValueStore[K, V]) Close() error { return s.b.Close() }

// ReadOnly returns a view of s without its write methods.
func (s *KeyValueStore[K, V]) ReadOnly() ReadOnlyKeyValueStore[K, V] { return roKV[K, V]{s} }

type roKV[K, V any] struct{ s *KeyValueStore[K, V] }

func (r roKV[K, V]) Get(k K) (V, bool, error)               { return r.s.Get(k) }
func (r roKV[K, V]) Range(from, to K) Iterator[K, V]        { return r.s.Range(from, to) }
func (r roKV[K, V]) ReverseRange(from, to K) Iterator[K, V] { return r.s.ReverseRange(from, to) }
func (r roKV[K, V]) All() Iterator[K, V]                    { return r.s.All() }
func (r roKV[K, V]) ReverseAll() Iterator[K, V]             { return r.s.ReverseAll() }
func (r roKV[K, V]) PrefixScan(p []byte) Iterator[K, V]     { return r.s.PrefixScan(p) }
func (r roKV[K, V]) ApproximateNumEntries() (int64, error)  { return r.s.ApproximateNumEntries() }

// ReadOnlyWindowStore is the query side of a window store.
type ReadOnlyWindowStore[K, V any] interface {
	// FetchOne returns the value of k in the window starting at start.
	FetchOne(k K, start int64) (V, bool, error)
	// Fetch iterates k's windows starting in [timeFrom, timeTo]; the
	// iterator key is the window start.
	Fetch(k K, timeFrom, timeTo int64) Iterator[int64, V]
	// BackwardFetch is Fetch in reverse.
	BackwardFetch(k K, timeFrom, timeTo int64) Iterator[int64, V]
	// FetchRange iterates the windows of keys in [keyFrom, keyTo].
	FetchRange(keyFrom, keyTo K, timeFrom, timeTo int64) Iterator[Windowed[K], V]
	// BackwardFetchRange is FetchRange in reverse.
	BackwardFetchRange(keyFrom, keyTo K, timeFrom, timeTo int64) Iterator[Windowed[K], V]
	// FetchAll iterates every window starting in [timeFrom, timeTo].
	FetchAll(timeFrom, timeTo int64) Iterator[Windowed[K], V]
	// BackwardFetchAll is FetchAll in reverse.
	BackwardFetchAll(timeFrom, timeTo int64) Iterator[Windowed[K], V]
	// All iterates every live window.
	All() Iterator[Windowed[K], V]
	// BackwardAll is All in reverse.
	BackwardAll() Iterator[Windowed[K], V]
}

// WindowStore is a typed window store over a WindowBytes.
type WindowStore[K, V any] struct {
	b      WindowBytes
	topic  string
	keys   serde.Serde[K]
	values serde.Serde[V]
}

// NewWindowStore wraps b with serdes; topic is passed to the serdes.
func NewWindowStore[K, V any](b WindowBytes, topic string, keys serde.Serde[K], values serde.Serde[V]) *WindowStore[K, V] {
	return &WindowStore[K, V]{b: b, topic: topic, keys: keys, values: values}
}

// Bytes returns the underlying byte store.
func (s *WindowStore[K, V]) Bytes() WindowBytes { return s.b }

// Name returns the store name.
func (s *WindowStore[K, V]) Name() string { return s.b.Name() }

// Put stores v for k in the window starting at windowStart.
func (s *WindowStore[K, V]) Put(k K, v V, windowStart int64) error {
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return err
	}
	vb, err := s.values.Serialize(s.topic, v)
	if err != nil {
		return err
	}
	return s.b.Put(kb, nonNil(vb), windowStart)
}

// Delete removes k's window starting at windowStart.
func (s *WindowStore[K, V]) Delete(k K, windowStart int64) error {
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return err
	}
	return s.b.Put(kb, nil, windowStart)
}

// FetchOne returns the value of k in the window starting at start.
func (s *WindowStore[K, V]) FetchOne(k K, start int64) (V, bool, error) {
	var zero V
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return zero, false, err
	}
	vb, err := s.b.FetchOne(kb, start)
	if err != nil || vb == nil {
		return zero, false, err
	}
	v, err := s.values.Deserialize(s.topic, vb)
	return v, err == nil, err
}

func (s *WindowStore[K, V]) fetch(k K, f func([]byte) Iterator[int64, []byte]) Iterator[int64, V] {
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return errIter[int64, V](err)
	}
	return mapIter(f(nonNil(kb)), func(ts int64, vb []byte) (int64, V, bool, error) {
		v, err := s.values.Deserialize(s.topic, vb)
		return ts, v, err == nil, err
	})
}

// Fetch iterates k's windows starting in [timeFrom, timeTo].
func (s *WindowStore[K, V]) Fetch(k K, timeFrom, timeTo int64) Iterator[int64, V] {
	return s.fetch(k, func(kb []byte) Iterator[int64, []byte] { return s.b.Fetch(kb, timeFrom, timeTo) })
}

// BackwardFetch is Fetch in reverse.
func (s *WindowStore[K, V]) BackwardFetch(k K, timeFrom, timeTo int64) Iterator[int64, V] {
	return s.fetch(k, func(kb []byte) Iterator[int64, []byte] { return s.b.BackwardFetch(kb, timeFrom, timeTo) })
}

func (s *WindowStore[K, V]) decode(it Iterator[Windowed[[]byte], []byte]) Iterator[Windowed[K], V] {
	return mapIter(it, func(wk Windowed[[]byte], vb []byte) (Windowed[K], V, bool, error) {
		return decodeWindowed(s.topic, s.keys, s.values, wk, vb)
	})
}

func decodeWindowed[K, V any](topic string, keys serde.Serde[K], values serde.Serde[V], wk Windowed[[]byte], vb []byte) (Windowed[K], V, bool, error) {
	var v V
	k, err := keys.Deserialize(topic, wk.Key)
	if err == nil {
		v, err = values.Deserialize(topic, vb)
	}
	return Windowed[K]{Key: k, Window: wk.Window}, v, err == nil, err
}

func (s *WindowStore[K, V]) fetchRange(keyFrom, keyTo K, f func(a, b []byte) Iterator[Windowed[[]byte], []byte]) Iterator[Windowed[K], V] {
	fb, err := s.keys.Serialize(s.topic, keyFrom)
	if err != nil {
		return errIter[Windowed[K], V](err)
	}
	tb, err := s.keys.Serialize(s.topic, keyTo)
	if err != nil {
		return errIter[Windowed[K], V](err)
	}
	return s.decode(f(nonNil(fb), nonNil(tb)))
}

// FetchRange iterates the windows of keys in [keyFrom, keyTo] starting in
// [timeFrom, timeTo].
func (s *WindowStore[K, V]) FetchRange(keyFrom, keyTo K, timeFrom, timeTo int64) Iterator[Windowed[K], V] {
	return s.fetchRange(keyFrom, keyTo, func(a, b []byte) Iterator[Windowed[[]byte], []byte] {
		return s.b.FetchRange(a, b, timeFrom, timeTo)
	})
}

// BackwardFetchRange is FetchRange in reverse.
func (s *WindowStore[K, V]) BackwardFetchRange(keyFrom, keyTo K, timeFrom, timeTo int64) Iterator[Windowed[K], V] {
	return s.fetchRange(keyFrom, keyTo, func(a, b []byte) Iterator[Windowed[[]byte], []byte] {
		return s.b.BackwardFetchRange(a, b, timeFrom, timeTo)
	})
}

// FetchAll iterates every window starting in [timeFrom, timeTo].
func (s *WindowStore[K, V]) FetchAll(timeFrom, timeTo int64) Iterator[Windowed[K], V] {
	return s.decode(s.b.FetchAll(timeFrom, timeTo))
}

// BackwardFetchAll is FetchAll in reverse.
func (s *WindowStore[K, V]) BackwardFetchAll(timeFrom, timeTo int64) Iterator[Windowed[K], V] {
	return s.decode(s.b.BackwardFetchAll(timeFrom, timeTo))
}

// All iterates every live window.
func (s *WindowStore[K, V]) All() Iterator[Windowed[K], V] { return s.decode(s.b.All()) }

// BackwardAll is All in reverse.
func (s *WindowStore[K, V]) BackwardAll() Iterator[Windowed[K], V] {
	return s.decode(s.b.BackwardAll())
}

// Flush flushes the underlying store.
func (s *WindowStore[K, V]) Flush() error { return s.b.Flush() }

// Close closes the underlying store.
func (s *WindowStore[K, V]) Close() error { return s.b.Close() }

// ReadOnly returns a view of s without its write methods.
func (s *WindowStore[K, V]) ReadOnly() ReadOnlyWindowStore[K, V] { return roWindow[K, V]{s} }

type roWindow[K, V any] struct{ s *WindowStore[K, V] }

func (r roWindow[K, V]) FetchOne(k K, start int64) (V, bool, error) { return r.s.FetchOne(k, start) }
func (r roWindow[K, V]) Fetch(k K, from, to int64) Iterator[int64, V] {
	return r.s.Fetch(k, from, to)
}
func (r roWindow[K, V]) BackwardFetch(k K, from, to int64) Iterator[int64, V] {
	return r.s.BackwardFetch(k, from, to)
}
func (r roWindow[K, V]) FetchRange(kf, kt K, from, to int64) Iterator[Windowed[K], V] {
	return r.s.FetchRange(kf, kt, from, to)
}
func (r roWindow[K, V]) BackwardFetchRange(kf, kt K, from, to int64) Iterator[Windowed[K], V] {
	return r.s.BackwardFetchRange(kf, kt, from, to)
}
func (r roWindow[K, V]) FetchAll(from, to int64) Iterator[Windowed[K], V] {
	return r.s.FetchAll(from, to)
}
func (r roWindow[K, V]) BackwardFetchAll(from, to int64) Iterator[Windowed[K], V] {
	return r.s.BackwardFetchAll(from, to)
}
func (r roWindow[K, V]) All() Iterator[Windowed[K], V]         { return r.s.All() }
func (r roWindow[K, V]) BackwardAll() Iterator[Windowed[K], V] { return r.s.BackwardAll() }

// ReadOnlySessionStore is the query side of a session store.
type ReadOnlySessionStore[K, V any] interface {
	// FetchSession returns the value of k's session [start, end].
	FetchSession(k K, start, end int64) (V, bool, error)
	// FindSessions iterates k's sessions ending at or after
	// earliestSessionEndTime and starting at or before
	// latestSessionStartTime.
	FindSessions(k K, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[K], V]
	// BackwardFindSessions is FindSessions in reverse.
	BackwardFindSessions(k K, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[K], V]
	// Fetch iterates every live session of k.
	Fetch(k K) Iterator[Windowed[K], V]
	// BackwardFetch is Fetch in reverse.
	BackwardFetch(k K) Iterator[Windowed[K], V]
	// FetchRange iterates every live session of the keys in [keyFrom, keyTo].
	FetchRange(keyFrom, keyTo K) Iterator[Windowed[K], V]
	// BackwardFetchRange is FetchRange in reverse.
	BackwardFetchRange(keyFrom, keyTo K) Iterator[Windowed[K], V]
}

// SessionStore is a typed session store over a SessionBytes.
type SessionStore[K, V any] struct {
	b      SessionBytes
	topic  string
	keys   serde.Serde[K]
	values serde.Serde[V]
}

// NewSessionStore wraps b with serdes; topic is passed to the serdes.
func NewSessionStore[K, V any](b SessionBytes, topic string, keys serde.Serde[K], values serde.Serde[V]) *SessionStore[K, V] {
	return &SessionStore[K, V]{b: b, topic: topic, keys: keys, values: values}
}

// Bytes returns the underlying byte store.
func (s *SessionStore[K, V]) Bytes() SessionBytes { return s.b }

// Name returns the store name.
func (s *SessionStore[K, V]) Name() string { return s.b.Name() }

// Put stores v for the session k.
func (s *SessionStore[K, V]) Put(k Windowed[K], v V) error {
	kb, err := s.keys.Serialize(s.topic, k.Key)
	if err != nil {
		return err
	}
	vb, err := s.values.Serialize(s.topic, v)
	if err != nil {
		return err
	}
	return s.b.Put(kb, k.Window, nonNil(vb))
}

// Remove deletes the session k.
func (s *SessionStore[K, V]) Remove(k Windowed[K]) error {
	kb, err := s.keys.Serialize(s.topic, k.Key)
	if err != nil {
		return err
	}
	return s.b.Remove(kb, k.Window)
}

// FetchSession returns the value of k's session [start, end].
func (s *SessionStore[K, V]) FetchSession(k K, start, end int64) (V, bool, error) {
	var zero V
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return zero, false, err
	}
	vb, err := s.b.FetchSession(kb, start, end)
	if err != nil || vb == nil {
		return zero, false, err
	}
	v, err := s.values.Deserialize(s.topic, vb)
	return v, err == nil, err
}

func (s *SessionStore[K, V]) decode(it Iterator[Windowed[[]byte], []byte]) Iterator[Windowed[K], V] {
	return mapIter(it, func(wk Windowed[[]byte], vb []byte) (Windowed[K], V, bool, error) {
		return decodeWindowed(s.topic, s.keys, s.values, wk, vb)
	})
}

func (s *SessionStore[K, V]) withKey(k K, f func([]byte) Iterator[Windowed[[]byte], []byte]) Iterator[Windowed[K], V] {
	kb, err := s.keys.Serialize(s.topic, k)
	if err != nil {
		return errIter[Windowed[K], V](err)
	}
	return s.decode(f(nonNil(kb)))
}

// FindSessions iterates k's sessions overlapping the bounds.
func (s *SessionStore[K, V]) FindSessions(k K, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[K], V] {
	return s.withKey(k, func(kb []byte) Iterator[Windowed[[]byte], []byte] {
		return s.b.FindSessions(kb, earliestSessionEndTime, latestSessionStartTime)
	})
}

// BackwardFindSessions is FindSessions in reverse.
func (s *SessionStore[K, V]) BackwardFindSessions(k K, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[K], V] {
	return s.withKey(k, func(kb []byte) Iterator[Windowed[[]byte], []byte] {
		return s.b.BackwardFindSessions(kb, earliestSessionEndTime, latestSessionStartTime)
	})
}

// Fetch iterates every live session of k.
func (s *SessionStore[K, V]) Fetch(k K) Iterator[Windowed[K], V] {
	return s.withKey(k, s.b.Fetch)
}

// BackwardFetch is Fetch in reverse.
func (s *SessionStore[K, V]) BackwardFetch(k K) Iterator[Windowed[K], V] {
	return s.withKey(k, s.b.BackwardFetch)
}

// FetchRange iterates every live session of the keys in [keyFrom, keyTo].
func (s *SessionStore[K, V]) FetchRange(keyFrom, keyTo K) Iterator[Windowed[K], V] {
	return s.keyRange(keyFrom, keyTo, s.b.FetchRange)
}

// BackwardFetchRange is FetchRange in reverse.
func (s *SessionStore[K, V]) BackwardFetchRange(keyFrom, keyTo K) Iterator[Windowed[K], V] {
	return s.keyRange(keyFrom, keyTo, s.b.BackwardFetchRange)
}

func (s *SessionStore[K, V]) keyRange(keyFrom, keyTo K, f func(a, b []byte) Iterator[Windowed[[]byte], []byte]) Iterator[Windowed[K], V] {
	fb, err := s.keys.Serialize(s.topic, keyFrom)
	if err != nil {
		return errIter[Windowed[K], V](err)
	}
	tb, err := s.keys.Serialize(s.topic, keyTo)
	if err != nil {
		return errIter[Windowed[K], V](err)
	}
	return s.decode(f(nonNil(fb), nonNil(tb)))
}

// Flush flushes the underlying store.
func (s *SessionStore[K, V]) Flush() error { return s.b.Flush() }

// Close closes the underlying store.
func (s *SessionStore[K, V]) Close() error { return s.b.Close() }

// ReadOnly returns a view of s without its write methods.
func (s *SessionStore[K, V]) ReadOnly() ReadOnlySessionStore[K, V] { return roSession[K, V]{s} }

type roSession[K, V any] struct{ s *SessionStore[K, V] }

func (r roSession[K, V]) FetchSession(k K, start, end int64) (V, bool, error) {
	return r.s.FetchSession(k, start, end)
}
func (r roSession[K, V]) FindSessions(k K, e, l int64) Iterator[Windowed[K], V] {
	return r.s.FindSessions(k, e, l)
}
func (r roSession[K, V]) BackwardFindSessions(k K, e, l int64) Iterator[Windowed[K], V] {
	return r.s.BackwardFindSessions(k, e, l)
}
func (r roSession[K, V]) Fetch(k K) Iterator[Windowed[K], V]         { return r.s.Fetch(k) }
func (r roSession[K, V]) BackwardFetch(k K) Iterator[Windowed[K], V] { return r.s.BackwardFetch(k) }
func (r roSession[K, V]) FetchRange(kf, kt K) Iterator[Windowed[K], V] {
	return r.s.FetchRange(kf, kt)
}
func (r roSession[K, V]) BackwardFetchRange(kf, kt K) Iterator[Windowed[K], V] {
	return r.s.BackwardFetchRange(kf, kt)
}
