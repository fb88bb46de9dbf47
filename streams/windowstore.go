package streams

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// WindowStore is a typed store of values per key and window start, as
// Kafka's WindowStore. Entries older than the retention period (measured
// from the largest window start written) disappear.
type WindowStore[K, V any] interface {
	StateStore
	// Put stores v for k in the window starting at windowStart; a null v
	// deletes it. With duplicates retained every Put adds an entry.
	Put(k K, v V, windowStart int64) error
	// Fetch returns the value of k in the window starting at windowStart.
	Fetch(k K, windowStart int64) (V, bool, error)
	// FetchRange returns k's values with from <= window start <= to, in
	// window-start order, keyed by window start.
	FetchRange(k K, from, to int64) ([]KeyValue[int64, V], error)
	// FetchAll returns every entry with from <= window start <= to, by
	// window start then key bytes.
	FetchAll(from, to int64) ([]KeyValue[Windowed[K], V], error)
	// All returns every live entry.
	All() ([]KeyValue[Windowed[K], V], error)
}

// GetWindowStore returns the named window store as a typed view.
func GetWindowStore[K, V any](g StoreGetter, name string) (WindowStore[K, V], error) {
	s, ok := g.StateStore(name).(*rawWin)
	if !ok {
		return nil, fmt.Errorf("%w %q is not a window store connected here", ErrStore, name)
	}
	if err := checkSerde[K](s.ks, name, "key"); err != nil {
		return nil, err
	}
	if err := checkSerde[V](s.vs, name, "value"); err != nil {
		return nil, err
	}
	return winView[K, V]{s}, nil
}

type winBuilder struct {
	name      string
	retention int64
	size      int64
	dupes     bool
	ks, vs    erasedSerde
	opts      storeOptions
}

// WindowStoreBuilder describes a window store keeping windows of
// windowSize for retention; retainDuplicates keeps every value put for the
// same key and window (stream-stream joins need that).
func WindowStoreBuilder[K, V any](name string, retention, windowSize time.Duration, retainDuplicates bool, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &winBuilder{name: name, retention: retention.Milliseconds(), size: windowSize.Milliseconds(), dupes: retainDuplicates, ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *winBuilder) Name() string { return b.name }
func (b *winBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *winBuilder) newStore() storeImpl {
	return &rawWin{winBuilder: b, data: map[winKey]valueAndTS{}, observed: minTime}
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

type winKey struct {
	key   string
	start int64
	seq   int32
}

// winEntry is one window store entry, type-erased.
type winEntry struct {
	key   any
	start int64
	value any
	ts    int64
}

// rawWin is the in-memory window store.
type rawWin struct {
	*winBuilder
	data     map[winKey]valueAndTS
	observed int64
	seq      int32
	sc       *storeContext
}

func (s *rawWin) init(sc *storeContext) { s.sc = sc }
func (s *rawWin) Name() string          { return s.name }
func (s *rawWin) Flush() error          { return nil }
func (s *rawWin) Close() error          { return nil }

func (s *rawWin) topic() string {
	if s.sc != nil && s.sc.changelog != "" {
		return s.sc.changelog
	}
	return s.name
}

// minLive is the earliest window start still retained, as Kafka's
// in-memory window store computes it.
func (s *rawWin) minLive() int64 {
	if s.observed == minTime {
		return minTime
	}
	return s.observed - s.retention + 1
}

func (s *rawWin) put(k, v any, windowStart int64) error {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	s.observed = max(s.observed, windowStart)
	min := s.minLive()
	for k := range s.data {
		if k.start < min {
			delete(s.data, k)
		}
	}
	if windowStart < min {
		return nil // expired: Kafka skips the write
	}
	wk := winKey{key: string(kb), start: windowStart}
	if s.dupes {
		if isNull(v) {
			return nil // Kafka ignores null puts with duplicates retained
		}
		s.seq++
		wk.seq = s.seq
	}
	ts := windowStart
	if s.sc != nil && s.sc.task != nil {
		ts = s.sc.task.rc.timestamp
	}
	logKey := binary.BigEndian.AppendUint32(be64(slices.Clone(kb), windowStart), uint32(wk.seq))
	if isNull(v) {
		delete(s.data, wk)
		s.sc.log(logKey, nil, ts)
		return nil
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	s.data[wk] = valueAndTS{value: vb, ts: ts}
	s.sc.log(logKey, vb, ts)
	return nil
}

// fetch returns entries matching key (all keys when kb is nil) with
// from <= start <= to, by start, key bytes, insertion.
func (s *rawWin) fetch(k any, all bool, from, to int64) ([]winEntry, error) {
	var kb []byte
	if !all {
		var err error
		if kb, err = s.ks.ser(s.topic(), k); err != nil {
			return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
		}
	}
	from = max(from, s.minLive())
	var keys []winKey
	for wk := range s.data {
		if (all || wk.key == string(kb)) && wk.start >= from && wk.start <= to {
			keys = append(keys, wk)
		}
	}
	slices.SortFunc(keys, func(a, b winKey) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := bytes.Compare([]byte(a.key), []byte(b.key)); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]winEntry, 0, len(keys))
	for _, wk := range keys {
		key, err := s.ks.deser(s.topic(), []byte(wk.key))
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		e := s.data[wk]
		v, err := s.vs.deser(s.topic(), e.value)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
		}
		out = append(out, winEntry{key: key, start: wk.start, value: v, ts: e.ts})
	}
	return out, nil
}

func (s *rawWin) end(start int64) int64 {
	if e := start + s.size; e >= start {
		return e
	}
	return maxTime
}

// winView is the typed face of a rawWin.
type winView[K, V any] struct{ s *rawWin }

func (v winView[K, V]) Name() string                      { return v.s.name }
func (v winView[K, V]) Flush() error                      { return v.s.Flush() }
func (v winView[K, V]) Close() error                      { return v.s.Close() }
func (v winView[K, V]) Put(k K, val V, start int64) error { return v.s.put(k, val, start) }

func (v winView[K, V]) Fetch(k K, start int64) (V, bool, error) {
	es, err := v.s.fetch(k, false, start, start)
	if err != nil || len(es) == 0 {
		var zero V
		return zero, false, err
	}
	return as[V](es[len(es)-1].value), true, nil
}

func (v winView[K, V]) FetchRange(k K, from, to int64) ([]KeyValue[int64, V], error) {
	es, err := v.s.fetch(k, false, from, to)
	out := make([]KeyValue[int64, V], 0, len(es))
	for _, e := range es {
		out = append(out, KeyValue[int64, V]{Key: e.start, Value: as[V](e.value)})
	}
	return out, err
}

func (v winView[K, V]) FetchAll(from, to int64) ([]KeyValue[Windowed[K], V], error) {
	es, err := v.s.fetch(nil, true, from, to)
	out := make([]KeyValue[Windowed[K], V], 0, len(es))
	for _, e := range es {
		w := Windowed[K]{Key: as[K](e.key), Window: Window{Start: e.start, End: v.s.end(e.start)}}
		out = append(out, KeyValue[Windowed[K], V]{Key: w, Value: as[V](e.value)})
	}
	return out, err
}

func (v winView[K, V]) All() ([]KeyValue[Windowed[K], V], error) { return v.FetchAll(minTime, maxTime) }

// SessionStore is a typed store of session aggregates keyed by key and
// session window, as Kafka's SessionStore.
type SessionStore[K, V any] interface {
	StateStore
	// Put stores the aggregate of a session; a null v removes it.
	Put(w Windowed[K], v V) error
	// Remove deletes a session.
	Remove(w Windowed[K]) error
	// FetchSession returns the aggregate of k's session [start, end].
	FetchSession(k K, start, end int64) (V, bool, error)
	// FindSessions returns k's sessions that end at or after
	// earliestSessionEnd and start at or before latestSessionStart, by end
	// time then start time.
	FindSessions(k K, earliestSessionEnd, latestSessionStart int64) ([]KeyValue[Windowed[K], V], error)
	// Fetch returns all of k's sessions.
	Fetch(k K) ([]KeyValue[Windowed[K], V], error)
	// All returns every live session, by end time, key bytes, start time.
	All() ([]KeyValue[Windowed[K], V], error)
}

// GetSessionStore returns the named session store as a typed view.
func GetSessionStore[K, V any](g StoreGetter, name string) (SessionStore[K, V], error) {
	s, ok := g.StateStore(name).(*rawSess)
	if !ok {
		return nil, fmt.Errorf("%w %q is not a session store connected here", ErrStore, name)
	}
	if err := checkSerde[K](s.ks, name, "key"); err != nil {
		return nil, err
	}
	if err := checkSerde[V](s.vs, name, "value"); err != nil {
		return nil, err
	}
	return sessView[K, V]{s}, nil
}

type sessBuilder struct {
	name      string
	retention int64
	ks, vs    erasedSerde
	opts      storeOptions
}

// SessionStoreBuilder describes a session store keeping sessions for
// retention after they end.
func SessionStoreBuilder[K, V any](name string, retention time.Duration, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &sessBuilder{name: name, retention: retention.Milliseconds(), ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *sessBuilder) Name() string { return b.name }
func (b *sessBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *sessBuilder) newStore() storeImpl {
	return &rawSess{sessBuilder: b, data: map[sessKey]valueAndTS{}, observed: minTime}
}

type sessKey struct {
	key   string
	start int64
	end   int64
}

// sessEntry is one session, type-erased.
type sessEntry struct {
	key        any
	start, end int64
	value      any
}

// rawSess is the in-memory session store.
type rawSess struct {
	*sessBuilder
	data     map[sessKey]valueAndTS
	observed int64
	sc       *storeContext
}

func (s *rawSess) init(sc *storeContext) { s.sc = sc }
func (s *rawSess) Name() string          { return s.name }
func (s *rawSess) Flush() error          { return nil }
func (s *rawSess) Close() error          { return nil }

func (s *rawSess) topic() string {
	if s.sc != nil && s.sc.changelog != "" {
		return s.sc.changelog
	}
	return s.name
}

func (s *rawSess) minLive() int64 {
	if s.observed == minTime {
		return minTime
	}
	return s.observed - s.retention + 1
}

func (s *rawSess) keyBytes(k any) ([]byte, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	return kb, nil
}

func (s *rawSess) nowTS(def int64) int64 {
	if s.sc != nil && s.sc.task != nil {
		return s.sc.task.rc.timestamp
	}
	return def
}

// put stores a session's aggregate, or removes the session when v is
// null.
func (s *rawSess) put(k any, w Window, v any) error {
	kb, err := s.keyBytes(k)
	if err != nil {
		return err
	}
	logKey := be64(be64(slices.Clone(kb), w.End), w.Start)
	sk := sessKey{key: string(kb), start: w.Start, end: w.End}
	if isNull(v) {
		delete(s.data, sk)
		s.sc.log(logKey, nil, s.nowTS(w.End))
		return nil
	}
	s.observed = max(s.observed, w.End)
	min := s.minLive()
	for k := range s.data {
		if k.end < min {
			delete(s.data, k)
		}
	}
	if w.End < min {
		return nil
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	ts := s.nowTS(w.End)
	s.data[sk] = valueAndTS{value: vb, ts: ts}
	s.sc.log(logKey, vb, ts)
	return nil
}

// find returns the live sessions match accepts, by end, key bytes, start.
func (s *rawSess) find(match func(sessKey) bool) ([]sessEntry, error) {
	min := s.minLive()
	var keys []sessKey
	for sk := range s.data {
		if sk.end >= min && match(sk) {
			keys = append(keys, sk)
		}
	}
	slices.SortFunc(keys, func(a, b sessKey) int {
		if c := cmp.Compare(a.end, b.end); c != 0 {
			return c
		}
		if c := bytes.Compare([]byte(a.key), []byte(b.key)); c != 0 {
			return c
		}
		return cmp.Compare(a.start, b.start)
	})
	out := make([]sessEntry, 0, len(keys))
	for _, sk := range keys {
		k, err := s.ks.deser(s.topic(), []byte(sk.key))
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		v, err := s.vs.deser(s.topic(), s.data[sk].value)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
		}
		out = append(out, sessEntry{key: k, start: sk.start, end: sk.end, value: v})
	}
	return out, nil
}

// findSessions returns k's sessions overlapping [earliestEnd, latestStart].
func (s *rawSess) findSessions(k any, earliestEnd, latestStart int64) ([]sessEntry, error) {
	kb, err := s.keyBytes(k)
	if err != nil {
		return nil, err
	}
	return s.find(func(sk sessKey) bool {
		return sk.key == string(kb) && sk.end >= earliestEnd && sk.start <= latestStart
	})
}

// sessView is the typed face of a rawSess.
type sessView[K, V any] struct{ s *rawSess }

func (v sessView[K, V]) Name() string                   { return v.s.name }
func (v sessView[K, V]) Flush() error                   { return v.s.Flush() }
func (v sessView[K, V]) Close() error                   { return v.s.Close() }
func (v sessView[K, V]) Put(w Windowed[K], val V) error { return v.s.put(w.Key, w.Window, val) }
func (v sessView[K, V]) Remove(w Windowed[K]) error     { return v.s.put(w.Key, w.Window, nil) }

func (v sessView[K, V]) FetchSession(k K, start, end int64) (V, bool, error) {
	es, err := v.s.findSessions(k, end, start)
	for _, e := range es {
		if e.start == start && e.end == end {
			return as[V](e.value), true, nil
		}
	}
	var zero V
	return zero, false, err
}

func (v sessView[K, V]) FindSessions(k K, earliestEnd, latestStart int64) ([]KeyValue[Windowed[K], V], error) {
	es, err := v.s.findSessions(k, earliestEnd, latestStart)
	return sessKVs[K, V](es), err
}

func (v sessView[K, V]) Fetch(k K) ([]KeyValue[Windowed[K], V], error) {
	return v.FindSessions(k, minTime, maxTime)
}

func (v sessView[K, V]) All() ([]KeyValue[Windowed[K], V], error) {
	es, err := v.s.find(func(sessKey) bool { return true })
	return sessKVs[K, V](es), err
}

func sessKVs[K, V any](es []sessEntry) []KeyValue[Windowed[K], V] {
	out := make([]KeyValue[Windowed[K], V], 0, len(es))
	for _, e := range es {
		w := Windowed[K]{Key: as[K](e.key), Window: Window{Start: e.start, End: e.end}}
		out = append(out, KeyValue[Windowed[K], V]{Key: w, Value: as[V](e.value)})
	}
	return out
}
