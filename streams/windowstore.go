package streams

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/runnel/runnel/state"
)

// WindowStore is a typed store of values per key and window start, as
// Kafka's WindowStore. Windows older than the retention period (measured
// from the largest window start written) disappear, a segment at a time.
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
	// FetchAll returns every entry with from <= window start <= to.
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
	if err := checkSerdes[K, V](s.ks, s.vs, name); err != nil {
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
// same key and window (stream-stream joins need that). Options:
// Persistent (default), InMemory, WithLogging.
func WindowStoreBuilder[K, V any](name string, retention, windowSize time.Duration, retainDuplicates bool, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &winBuilder{name: name, retention: retention.Milliseconds(), size: windowSize.Milliseconds(), dupes: retainDuplicates, ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *winBuilder) Name() string { return b.name }
func (b *winBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *winBuilder) open(env storeEnv) (storeImpl, error) {
	size := max(b.size, 1)
	db, err := state.OpenWindow(state.WindowConfig{
		Name: b.name, Dir: env.dir, InMemory: env.inMemory(b.opts), Logger: loggerOf(env),
		Retention:  time.Duration(max(b.retention, size)) * time.Millisecond,
		WindowSize: time.Duration(size) * time.Millisecond, RetainDuplicates: b.dupes,
	})
	if err != nil {
		return nil, err
	}
	s := &rawWin{winBuilder: b, env: env, db: db, b: db}
	if sink := env.sink(true); sink != nil {
		s.b = state.NewLoggedWindow(db, sink, env.now)
	}
	if env.cached(b.opts) && !b.dupes {
		c, err := state.NewCachedWindow(s.b, db.Layout(), state.CachingConfig[Windowed[[]byte]]{Cache: env.cache, Clock: env.clock,
			Forward: func(f state.Flushed[Windowed[[]byte]]) error {
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

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

// winEntry is one window store entry, type-erased.
type winEntry struct {
	key   any
	start int64
	value any
	ts    int64
}

// rawWin is a window store behind type-erased serdes, with timestamped
// values (ts‖value).
type rawWin struct {
	*winBuilder
	env storeEnv
	db  *state.WindowDB
	b   state.WindowBytes
	// isCached stores forward results when the cache flushes them.
	isCached bool
	onFlush  func(state.Flushed[Windowed[[]byte]]) error
}

// flushed decodes a flushed cache entry: the key, the window start, the
// new and old values and the timestamp.
func (s *rawWin) flushed(f state.Flushed[Windowed[[]byte]]) (key any, start int64, c change, ts int64, err error) {
	if key, err = s.ks.deser(s.topic(), f.Key.Key); err != nil {
		return nil, 0, c, 0, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
	}
	ts = f.Timestamp
	if f.NewValue != nil {
		if c.newV, ts, err = s.decode(f.NewValue); err != nil {
			return nil, 0, c, 0, err
		}
	}
	if f.OldValue != nil {
		if c.oldV, _, err = s.decode(f.OldValue); err != nil {
			return nil, 0, c, 0, err
		}
	}
	return key, f.Key.Window.Start, c, ts, nil
}

func (s *rawWin) Name() string { return s.name }
func (s *rawWin) Flush() error { return s.b.Flush() }
func (s *rawWin) Close() error { return s.b.Close() }

// Restore applies changelog records (plain values) to the store.
func (s *rawWin) Restore(records []state.ChangelogRecord) error {
	recs := make([]state.ChangelogRecord, len(records))
	for i, r := range records {
		recs[i] = r
		if r.Value != nil {
			recs[i].Value = append(be64(nil, r.Timestamp), r.Value...)
		}
	}
	return s.db.Restore(recs)
}

func (s *rawWin) topic() string {
	if s.env.changelog != "" {
		return s.env.changelog
	}
	return s.name
}

// put stores v for k in the window at windowStart with timestamp ts.
func (s *rawWin) put(k, v any, windowStart, ts int64) error {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	if isNull(v) {
		return s.b.Put(kb, nil, windowStart)
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	return s.b.Put(kb, append(be64(make([]byte, 0, 8+len(vb)), ts), vb...), windowStart)
}

func (s *rawWin) decode(b []byte) (any, int64, error) {
	if len(b) < 8 {
		return nil, 0, fmt.Errorf("%w %q: stored value of %d bytes has no timestamp", ErrStore, s.name, len(b))
	}
	v, err := s.vs.deser(s.topic(), b[8:])
	if err != nil {
		return nil, 0, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
	}
	return v, int64(binary.BigEndian.Uint64(b)), nil
}

// fetch returns k's entries with from <= start <= to, by start.
func (s *rawWin) fetch(k any, from, to int64) ([]winEntry, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	raw, err := state.Collect(s.b.Fetch(kb, from, to))
	if err != nil {
		return nil, err
	}
	out := make([]winEntry, 0, len(raw))
	for _, e := range raw {
		v, ts, err := s.decode(e.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, winEntry{key: k, start: e.Key, value: v, ts: ts})
	}
	return out, nil
}

// fetchAll returns every entry with from <= start <= to.
func (s *rawWin) fetchAll(from, to int64) ([]winEntry, error) {
	raw, err := state.Collect(s.b.FetchAll(from, to))
	if err != nil {
		return nil, err
	}
	out := make([]winEntry, 0, len(raw))
	for _, e := range raw {
		k, err := s.ks.deser(s.topic(), e.Key.Key)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		v, ts, err := s.decode(e.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, winEntry{key: k, start: e.Key.Window.Start, value: v, ts: ts})
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

func (v winView[K, V]) Name() string { return v.s.name }
func (v winView[K, V]) Flush() error { return v.s.Flush() }
func (v winView[K, V]) Close() error { return nil } // the task owns the store
func (v winView[K, V]) Put(k K, val V, start int64) error {
	return v.s.put(k, val, start, v.s.env.now())
}

func (v winView[K, V]) Fetch(k K, start int64) (V, bool, error) {
	es, err := v.s.fetch(k, start, start)
	if err != nil || len(es) == 0 {
		var zero V
		return zero, false, err
	}
	return as[V](es[len(es)-1].value), true, nil
}

func (v winView[K, V]) FetchRange(k K, from, to int64) ([]KeyValue[int64, V], error) {
	es, err := v.s.fetch(k, from, to)
	out := make([]KeyValue[int64, V], 0, len(es))
	for _, e := range es {
		out = append(out, KeyValue[int64, V]{Key: e.start, Value: as[V](e.value)})
	}
	return out, err
}

func (v winView[K, V]) FetchAll(from, to int64) ([]KeyValue[Windowed[K], V], error) {
	es, err := v.s.fetchAll(from, to)
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
}

// GetSessionStore returns the named session store as a typed view.
func GetSessionStore[K, V any](g StoreGetter, name string) (SessionStore[K, V], error) {
	s, ok := g.StateStore(name).(*rawSess)
	if !ok {
		return nil, fmt.Errorf("%w %q is not a session store connected here", ErrStore, name)
	}
	if err := checkSerdes[K, V](s.ks, s.vs, name); err != nil {
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
// retention after they end. Options: Persistent (default), InMemory,
// WithLogging.
func SessionStoreBuilder[K, V any](name string, retention time.Duration, keySerde Serde[K], valueSerde Serde[V], opts ...StoreOption) StoreBuilder {
	return &sessBuilder{name: name, retention: retention.Milliseconds(), ks: erase1(keySerde), vs: erase1(valueSerde), opts: applyStoreOptions(opts)}
}

func (b *sessBuilder) Name() string { return b.name }
func (b *sessBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *sessBuilder) open(env storeEnv) (storeImpl, error) {
	db, err := state.OpenSession(state.SessionConfig{
		Name: b.name, Dir: env.dir, InMemory: env.inMemory(b.opts), Logger: loggerOf(env),
		Retention: time.Duration(max(b.retention, 1)) * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	s := &rawSess{sessBuilder: b, env: env, db: db, b: db}
	if sink := env.sink(false); sink != nil {
		s.b = state.NewLoggedSession(db, sink, env.now)
	}
	if env.cached(b.opts) {
		c, err := state.NewCachedSession(s.b, db.SegmentInterval(), state.CachingConfig[Windowed[[]byte]]{Cache: env.cache, Clock: env.clock,
			Forward: func(f state.Flushed[Windowed[[]byte]]) error {
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

// sessEntry is one session, type-erased.
type sessEntry struct {
	key        any
	start, end int64
	value      any
}

// rawSess is a session store behind type-erased serdes. Session values
// carry no timestamp: a session aggregate's timestamp is its end.
type rawSess struct {
	*sessBuilder
	env storeEnv
	db  *state.SessionDB
	b   state.SessionBytes
	// isCached stores forward results when the cache flushes them.
	isCached bool
	onFlush  func(state.Flushed[Windowed[[]byte]]) error
}

// flushed decodes a flushed cache entry: key, window, new and old values.
func (s *rawSess) flushed(f state.Flushed[Windowed[[]byte]]) (key any, w Window, c change, err error) {
	if key, err = s.ks.deser(s.topic(), f.Key.Key); err != nil {
		return nil, w, c, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
	}
	for _, x := range []struct {
		b   []byte
		dst *any
	}{{f.NewValue, &c.newV}, {f.OldValue, &c.oldV}} {
		if x.b == nil {
			continue
		}
		v, err := s.vs.deser(s.topic(), x.b)
		if err != nil {
			return nil, w, c, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
		}
		*x.dst = v
	}
	return key, f.Key.Window, c, nil
}

func (s *rawSess) Name() string { return s.name }
func (s *rawSess) Flush() error { return s.b.Flush() }
func (s *rawSess) Close() error { return s.b.Close() }

// Restore applies changelog records to the store.
func (s *rawSess) Restore(records []state.ChangelogRecord) error { return s.db.Restore(records) }

func (s *rawSess) topic() string {
	if s.env.changelog != "" {
		return s.env.changelog
	}
	return s.name
}

func (s *rawSess) keyBytes(k any) ([]byte, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	return kb, nil
}

// put stores a session's aggregate, or removes the session when v is
// null.
func (s *rawSess) put(k any, w Window, v any) error {
	kb, err := s.keyBytes(k)
	if err != nil {
		return err
	}
	if isNull(v) {
		return s.b.Put(kb, w, nil)
	}
	vb, err := s.vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	return s.b.Put(kb, w, vb)
}

func (s *rawSess) decodeAll(it state.Iterator[Windowed[[]byte], []byte]) ([]sessEntry, error) {
	raw, err := state.Collect(it)
	if err != nil {
		return nil, err
	}
	out := make([]sessEntry, 0, len(raw))
	for _, e := range raw {
		k, err := s.ks.deser(s.topic(), e.Key.Key)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, s.name, err)
		}
		v, err := s.vs.deser(s.topic(), e.Value)
		if err != nil {
			return nil, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, s.name, err)
		}
		out = append(out, sessEntry{key: k, start: e.Key.Window.Start, end: e.Key.Window.End, value: v})
	}
	return out, nil
}

// findSessions returns k's sessions overlapping [earliestEnd, latestStart].
func (s *rawSess) findSessions(k any, earliestEnd, latestStart int64) ([]sessEntry, error) {
	kb, err := s.keyBytes(k)
	if err != nil {
		return nil, err
	}
	return s.decodeAll(s.b.FindSessions(kb, earliestEnd, latestStart))
}

// sessView is the typed face of a rawSess.
type sessView[K, V any] struct{ s *rawSess }

func (v sessView[K, V]) Name() string                   { return v.s.name }
func (v sessView[K, V]) Flush() error                   { return v.s.Flush() }
func (v sessView[K, V]) Close() error                   { return nil } // the task owns the store
func (v sessView[K, V]) Put(w Windowed[K], val V) error { return v.s.put(w.Key, w.Window, val) }
func (v sessView[K, V]) Remove(w Windowed[K]) error     { return v.s.put(w.Key, w.Window, nil) }

func (v sessView[K, V]) FetchSession(k K, start, end int64) (V, bool, error) {
	kb, err := v.s.keyBytes(k)
	var zero V
	if err != nil {
		return zero, false, err
	}
	b, err := v.s.b.FetchSession(kb, start, end)
	if err != nil || b == nil {
		return zero, false, err
	}
	x, err := v.s.vs.deser(v.s.topic(), b)
	return as[V](x), err == nil, err
}

func (v sessView[K, V]) FindSessions(k K, earliestEnd, latestStart int64) ([]KeyValue[Windowed[K], V], error) {
	es, err := v.s.findSessions(k, earliestEnd, latestStart)
	return sessKVs[K, V](es), err
}

func (v sessView[K, V]) Fetch(k K) ([]KeyValue[Windowed[K], V], error) {
	kb, err := v.s.keyBytes(k)
	if err != nil {
		return nil, err
	}
	es, err := v.s.decodeAll(v.s.b.Fetch(kb))
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

// forwardWindowsOnFlush makes a cached window store's flushes the owning
// processor's output, keyed by key(inner key, window start).
func forwardWindowsOnFlush(ctx *nodeContext, st *rawWin, key func(k any, start int64) any) bool {
	if st == nil || !st.isCached {
		return false
	}
	st.onFlush = func(f state.Flushed[Windowed[[]byte]]) error {
		k, start, c, ts, err := st.flushed(f)
		if err != nil {
			return err
		}
		ctx.forward(anyRecord{Key: key(k, start), Value: c, Timestamp: ts})
		return ctx.task.err
	}
	return true
}

// forwardSessionsOnFlush makes a cached session store's flushes the owning
// processor's output, stamped with the session end.
func forwardSessionsOnFlush(ctx *nodeContext, st *rawSess, key func(k any, w Window) any) bool {
	if st == nil || !st.isCached {
		return false
	}
	st.onFlush = func(f state.Flushed[Windowed[[]byte]]) error {
		k, w, c, err := st.flushed(f)
		if err != nil {
			return err
		}
		ctx.forward(anyRecord{Key: key(k, w), Value: c, Timestamp: w.End})
		return ctx.task.err
	}
	return true
}
