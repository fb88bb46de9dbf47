package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"
)

// segCache is the cache side of a cached window or session store. Cache keys
// are segmentID‖storeKey (the segment id big-endian with its sign bit
// flipped), so the cache orders entries exactly as the segmented store
// iterates them: by segment, then by store-key bytes. That lets reads merge
// the two in one pass, as Kafka's caching window and session stores do.
type segCache struct {
	cache    *Cache
	ns       *namespace
	interval int64
}

func (c segCache) segmentID(ts int64) int64 {
	id := ts / c.interval
	if ts < 0 && ts%c.interval != 0 {
		id--
	}
	return id
}

func segPrefix(id int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(id)^(1<<63))
}

func (c segCache) key(ts int64, storeKey []byte) []byte {
	return append(segPrefix(c.segmentID(ts)), storeKey...)
}

// iter iterates the cached entries of segments fromTs..toTs whose store key
// keep accepts; the keys it yields are cache keys.
func (c segCache) iter(fromTs, toTs int64, reverse bool, keep func(storeKey []byte) bool) rawIter {
	lo := segPrefix(c.segmentID(fromTs))
	var hi []byte
	if id := c.segmentID(toTs); id < math.MaxInt64 {
		hi = segPrefix(id + 1)
	}
	return filterRaw(c.cache.iter(c.ns, lo, hi, reverse), func(ck []byte) bool { return keep(ck[8:]) })
}

// mergeSeg merges a store iterator with the cache. toCK gives the cache
// key of a store entry; fromCK turns a merged cache key back into the
// iterator key.
func mergeSeg[K any](cached rawIter, store Iterator[K, []byte], reverse bool, toCK func(K) []byte, fromCK func([]byte) (K, bool)) Iterator[K, []byte] {
	storeCK := mapIter(store, func(k K, v []byte) ([]byte, []byte, bool, error) { return toCK(k), v, true, nil })
	return mapIter(mergeIters(cached, storeCK, reverse), func(ck, v []byte) (K, []byte, bool, error) {
		k, ok := fromCK(ck)
		if !ok {
			return k, nil, false, fmt.Errorf("%w: cache key % x", ErrFormat, ck)
		}
		return k, v, true, nil
	})
}

// WindowLayout is what a cache in front of a window store must know of it.
type WindowLayout struct {
	SegmentInterval time.Duration
	WindowSize      time.Duration
}

// Layout returns the store's segment interval and window size.
func (w *WindowDB) Layout() WindowLayout {
	return WindowLayout{SegmentInterval: time.Duration(w.segs.interval) * time.Millisecond, WindowSize: time.Duration(w.windowSize) * time.Millisecond}
}

// CachedWindow is a write-back cache in front of a window store (Kafka's
// CachingWindowStore). Do not put it in front of a store that retains
// duplicates: the cache keeps one value per key and window. As with
// CachedKeyValue, writes come from one goroutine, reads from any.
type CachedWindow struct {
	inner WindowBytes
	cfg   CachingConfig[Windowed[[]byte]]
	c     segCache
	size  int64
	fmu   sync.Mutex
}

var _ WindowBytes = (*CachedWindow)(nil)

// NewCachedWindow puts a namespace of cfg.Cache in front of inner, whose
// layout (from WindowDB.Layout) it must be given.
func NewCachedWindow(inner WindowBytes, layout WindowLayout, cfg CachingConfig[Windowed[[]byte]]) (*CachedWindow, error) {
	if cfg.Cache == nil {
		return nil, fmt.Errorf("%w: store %q: CachingConfig.Cache is nil", ErrConfig, inner.Name())
	}
	if layout.SegmentInterval < time.Millisecond || layout.WindowSize <= 0 {
		return nil, fmt.Errorf("%w: store %q: layout %+v needs a segment interval and a window size", ErrConfig, inner.Name(), layout)
	}
	return &CachedWindow{
		inner: inner, cfg: cfg, size: layout.WindowSize.Milliseconds(),
		c: segCache{cache: cfg.Cache, ns: cfg.Cache.register(inner.Name()), interval: layout.SegmentInterval.Milliseconds()},
	}, nil
}

// Name returns the store name.
func (s *CachedWindow) Name() string { return s.inner.Name() }

func (s *CachedWindow) ck(key []byte, ts int64) []byte {
	return s.c.key(ts, WindowStoreKey(key, ts, 0))
}

func (s *CachedWindow) decode(ck []byte) ([]byte, int64, bool) {
	if len(ck) < 8 {
		return nil, 0, false
	}
	k, ts, _, err := ParseWindowStoreKey(ck[8:])
	return k, ts, err == nil
}

// apply carries out a flush plan: entries downstream, then drops.
func (s *CachedWindow) apply(p flushPlan) error {
	if err := s.downstream(p.write); err != nil {
		return err
	}
	s.c.cache.dropClean(s.c.ns, p.drop)
	return nil
}

func (s *CachedWindow) downstream(entries []*cacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for _, e := range entries {
		key, ts, ok := s.decode(e.key)
		if !ok {
			return fmt.Errorf("%w: store %q: cache key % x", ErrFormat, s.Name(), e.key)
		}
		err := s.cfg.withEntryClock(e.ts, func() error {
			var old []byte
			if s.cfg.Forward != nil {
				var err error
				if old, err = s.inner.FetchOne(key, ts); err != nil {
					return err
				}
			}
			if err := s.inner.Put(key, e.value, ts); err != nil {
				return fmt.Errorf("store %q: flush cache: %w", s.Name(), err)
			}
			if s.cfg.Forward != nil && (e.value != nil || old != nil) {
				return s.cfg.Forward(Flushed[Windowed[[]byte]]{
					Key:      Windowed[[]byte]{Key: key, Window: TimeWindowFor(ts, s.size)},
					NewValue: e.value, OldValue: old, Timestamp: e.ts,
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Put caches the write of key's window starting at windowStart.
func (s *CachedWindow) Put(key, value []byte, windowStart int64) error {
	return s.apply(s.c.cache.putDirty(s.c.ns, s.ck(key, windowStart), value, s.cfg.now()))
}

// FetchOne returns the value of key's window, from the cache if there.
func (s *CachedWindow) FetchOne(key []byte, windowStart int64) ([]byte, error) {
	if v, ok := s.c.cache.get(s.c.ns, s.ck(key, windowStart)); ok {
		return v, nil
	}
	return s.inner.FetchOne(key, windowStart)
}

func (s *CachedWindow) fetch(key []byte, timeFrom, timeTo int64, reverse bool) Iterator[int64, []byte] {
	store := func() Iterator[int64, []byte] {
		if reverse {
			return s.inner.BackwardFetch(key, timeFrom, timeTo)
		}
		return s.inner.Fetch(key, timeFrom, timeTo)
	}
	if timeTo < timeFrom {
		return store()
	}
	// The cache snapshot goes first (see flushPlan).
	cached := s.c.iter(timeFrom, timeTo, reverse, func(sk []byte) bool {
		k, ts, _, err := ParseWindowStoreKey(sk)
		return err == nil && bytes.Equal(k, key) && ts >= timeFrom && ts <= timeTo
	})
	return mergeSeg(cached, store(), reverse,
		func(ts int64) []byte { return s.ck(key, ts) },
		func(ck []byte) (int64, bool) { _, ts, ok := s.decode(ck); return ts, ok })
}

// Fetch iterates key's windows starting in [timeFrom, timeTo].
func (s *CachedWindow) Fetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte] {
	return s.fetch(key, timeFrom, timeTo, false)
}

// BackwardFetch is Fetch in reverse.
func (s *CachedWindow) BackwardFetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte] {
	return s.fetch(key, timeFrom, timeTo, true)
}

func (s *CachedWindow) fetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64, reverse bool) Iterator[Windowed[[]byte], []byte] {
	store := func() Iterator[Windowed[[]byte], []byte] {
		if reverse {
			return s.inner.BackwardFetchRange(keyFrom, keyTo, timeFrom, timeTo)
		}
		return s.inner.FetchRange(keyFrom, keyTo, timeFrom, timeTo)
	}
	if timeTo < timeFrom || (keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) > 0) {
		return store()
	}
	cached := s.c.iter(timeFrom, timeTo, reverse, func(sk []byte) bool {
		k, ts, _, err := ParseWindowStoreKey(sk)
		return err == nil && ts >= timeFrom && ts <= timeTo &&
			(keyFrom == nil || bytes.Compare(k, keyFrom) >= 0) && (keyTo == nil || bytes.Compare(k, keyTo) <= 0)
	})
	return mergeSeg(cached, store(), reverse,
		func(w Windowed[[]byte]) []byte { return s.ck(w.Key, w.Window.Start) },
		func(ck []byte) (Windowed[[]byte], bool) {
			k, ts, ok := s.decode(ck)
			return Windowed[[]byte]{Key: k, Window: TimeWindowFor(ts, s.size)}, ok
		})
}

// FetchRange iterates the windows of keys in [keyFrom, keyTo].
func (s *CachedWindow) FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(keyFrom, keyTo, timeFrom, timeTo, false)
}

// BackwardFetchRange is FetchRange in reverse.
func (s *CachedWindow) BackwardFetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(keyFrom, keyTo, timeFrom, timeTo, true)
}

// FetchAll iterates every window starting in [timeFrom, timeTo].
func (s *CachedWindow) FetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(nil, nil, timeFrom, timeTo, false)
}

// BackwardFetchAll is FetchAll in reverse.
func (s *CachedWindow) BackwardFetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(nil, nil, timeFrom, timeTo, true)
}

// All iterates every window.
func (s *CachedWindow) All() Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(nil, nil, 0, math.MaxInt64, false)
}

// BackwardAll is All in reverse.
func (s *CachedWindow) BackwardAll() Iterator[Windowed[[]byte], []byte] {
	return s.fetchRange(nil, nil, 0, math.MaxInt64, true)
}

// Flush writes every dirty entry downstream and flushes the wrapped store.
func (s *CachedWindow) Flush() error {
	if err := s.apply(s.c.cache.takeDirty(s.c.ns)); err != nil {
		return err
	}
	return s.inner.Flush()
}

// Close flushes, releases the namespace and closes the wrapped store.
func (s *CachedWindow) Close() error {
	err := s.apply(s.c.cache.takeDirty(s.c.ns))
	s.c.cache.unregister(s.c.ns)
	if cerr := s.inner.Close(); err == nil {
		err = cerr
	}
	return err
}

// Restore drops the cached entries and applies records to the wrapped store.
func (s *CachedWindow) Restore(records []ChangelogRecord) error {
	s.c.cache.clear(s.c.ns)
	return restoreInto(s.inner, s.Name(), records)
}

// SegmentInterval returns the store's segment interval, which a cache in
// front of it must be given.
func (s *SessionDB) SegmentInterval() time.Duration {
	return time.Duration(s.segs.interval) * time.Millisecond
}

// CachedSession is a write-back cache in front of a session store (Kafka's
// CachingSessionStore). Writes come from one goroutine, reads from any.
type CachedSession struct {
	inner SessionBytes
	cfg   CachingConfig[Windowed[[]byte]]
	c     segCache
	fmu   sync.Mutex
}

var _ SessionBytes = (*CachedSession)(nil)

// NewCachedSession puts a namespace of cfg.Cache in front of inner, whose
// segment interval (from SessionDB.SegmentInterval) it must be given.
func NewCachedSession(inner SessionBytes, segmentInterval time.Duration, cfg CachingConfig[Windowed[[]byte]]) (*CachedSession, error) {
	if cfg.Cache == nil {
		return nil, fmt.Errorf("%w: store %q: CachingConfig.Cache is nil", ErrConfig, inner.Name())
	}
	if segmentInterval < time.Millisecond {
		return nil, fmt.Errorf("%w: store %q: segment interval %v below 1ms", ErrConfig, inner.Name(), segmentInterval)
	}
	return &CachedSession{inner: inner, cfg: cfg,
		c: segCache{cache: cfg.Cache, ns: cfg.Cache.register(inner.Name()), interval: segmentInterval.Milliseconds()}}, nil
}

// Name returns the store name.
func (s *CachedSession) Name() string { return s.inner.Name() }

func (s *CachedSession) ck(key []byte, w Window) []byte {
	return s.c.key(w.End, SessionStoreKey(key, w))
}

func (s *CachedSession) decode(ck []byte) (Windowed[[]byte], bool) {
	if len(ck) < 8 {
		return Windowed[[]byte]{}, false
	}
	k, w, err := ParseSessionStoreKey(ck[8:])
	return Windowed[[]byte]{Key: k, Window: w}, err == nil
}

// apply carries out a flush plan: entries downstream, then drops.
func (s *CachedSession) apply(p flushPlan) error {
	if err := s.downstream(p.write); err != nil {
		return err
	}
	s.c.cache.dropClean(s.c.ns, p.drop)
	return nil
}

func (s *CachedSession) downstream(entries []*cacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for _, e := range entries {
		wk, ok := s.decode(e.key)
		if !ok {
			return fmt.Errorf("%w: store %q: cache key % x", ErrFormat, s.Name(), e.key)
		}
		err := s.cfg.withEntryClock(e.ts, func() error {
			var old []byte
			if s.cfg.Forward != nil {
				var err error
				if old, err = s.inner.FetchSession(wk.Key, wk.Window.Start, wk.Window.End); err != nil {
					return err
				}
			}
			if err := s.inner.Put(wk.Key, wk.Window, e.value); err != nil {
				return fmt.Errorf("store %q: flush cache: %w", s.Name(), err)
			}
			if s.cfg.Forward != nil && (e.value != nil || old != nil) {
				return s.cfg.Forward(Flushed[Windowed[[]byte]]{Key: wk, NewValue: e.value, OldValue: old, Timestamp: e.ts})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Put caches the write of key's session w; nil removes it.
func (s *CachedSession) Put(key []byte, w Window, value []byte) error {
	return s.apply(s.c.cache.putDirty(s.c.ns, s.ck(key, w), value, s.cfg.now()))
}

// Remove caches the removal of key's session w.
func (s *CachedSession) Remove(key []byte, w Window) error { return s.Put(key, w, nil) }

// FetchSession returns the value of key's session, from the cache if there.
func (s *CachedSession) FetchSession(key []byte, start, end int64) ([]byte, error) {
	w := Window{Start: start, End: end}
	if v, ok := s.c.cache.get(s.c.ns, s.ck(key, w)); ok {
		return v, nil
	}
	return s.inner.FetchSession(key, start, end)
}

func (s *CachedSession) find(store func() Iterator[Windowed[[]byte], []byte], keyFrom, keyTo []byte, exact bool, earliestEnd, latestStart int64, reverse bool) Iterator[Windowed[[]byte], []byte] {
	if !exact && keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) > 0 {
		return store()
	}
	// The cache snapshot goes first (see flushPlan).
	cached := s.c.iter(max(earliestEnd, 0), math.MaxInt64, reverse, func(sk []byte) bool {
		k, w, err := ParseSessionStoreKey(sk)
		if err != nil || w.End < earliestEnd || w.Start > latestStart {
			return false
		}
		if exact {
			return bytes.Equal(k, keyFrom)
		}
		return (keyFrom == nil || bytes.Compare(k, keyFrom) >= 0) && (keyTo == nil || bytes.Compare(k, keyTo) <= 0)
	})
	return mergeSeg(cached, store(), reverse,
		func(w Windowed[[]byte]) []byte { return s.ck(w.Key, w.Window) },
		s.decode)
}

// FindSessions iterates key's sessions overlapping the bounds.
func (s *CachedSession) FindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] {
		return s.inner.FindSessions(key, earliestSessionEndTime, latestSessionStartTime)
	}, key, key, true, earliestSessionEndTime, latestSessionStartTime, false)
}

// BackwardFindSessions is FindSessions in reverse.
func (s *CachedSession) BackwardFindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] {
		return s.inner.BackwardFindSessions(key, earliestSessionEndTime, latestSessionStartTime)
	}, key, key, true, earliestSessionEndTime, latestSessionStartTime, true)
}

// FindSessionsRange is FindSessions over a key range.
func (s *CachedSession) FindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] {
		return s.inner.FindSessionsRange(keyFrom, keyTo, earliestSessionEndTime, latestSessionStartTime)
	}, keyFrom, keyTo, false, earliestSessionEndTime, latestSessionStartTime, false)
}

// BackwardFindSessionsRange is FindSessionsRange in reverse.
func (s *CachedSession) BackwardFindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] {
		return s.inner.BackwardFindSessionsRange(keyFrom, keyTo, earliestSessionEndTime, latestSessionStartTime)
	}, keyFrom, keyTo, false, earliestSessionEndTime, latestSessionStartTime, true)
}

// Fetch iterates every session of key.
func (s *CachedSession) Fetch(key []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] { return s.inner.Fetch(key) },
		key, key, true, 0, math.MaxInt64, false)
}

// BackwardFetch is Fetch in reverse.
func (s *CachedSession) BackwardFetch(key []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] { return s.inner.BackwardFetch(key) },
		key, key, true, 0, math.MaxInt64, true)
}

// FetchRange iterates every session of the keys in [keyFrom, keyTo].
func (s *CachedSession) FetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] { return s.inner.FetchRange(keyFrom, keyTo) },
		keyFrom, keyTo, false, 0, math.MaxInt64, false)
}

// BackwardFetchRange is FetchRange in reverse.
func (s *CachedSession) BackwardFetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(func() Iterator[Windowed[[]byte], []byte] { return s.inner.BackwardFetchRange(keyFrom, keyTo) },
		keyFrom, keyTo, false, 0, math.MaxInt64, true)
}

// Flush writes every dirty entry downstream and flushes the wrapped store.
func (s *CachedSession) Flush() error {
	if err := s.apply(s.c.cache.takeDirty(s.c.ns)); err != nil {
		return err
	}
	return s.inner.Flush()
}

// Close flushes, releases the namespace and closes the wrapped store.
func (s *CachedSession) Close() error {
	err := s.apply(s.c.cache.takeDirty(s.c.ns))
	s.c.cache.unregister(s.c.ns)
	if cerr := s.inner.Close(); err == nil {
		err = cerr
	}
	return err
}

// Restore drops the cached entries and applies records to the wrapped store.
func (s *CachedSession) Restore(records []ChangelogRecord) error {
	s.c.cache.clear(s.c.ns)
	return restoreInto(s.inner, s.Name(), records)
}
