package state

import (
	"bytes"
	"container/list"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultCacheMaxBytes is Kafka Streams' default cache size,
// statestore.cache.max.bytes (formerly cache.max.bytes.buffering): 10 MiB.
const DefaultCacheMaxBytes = 10 * 1024 * 1024

// cacheEntryOverhead approximates the memory of one cache entry beyond its
// key and value bytes (map slot, list element, tree node, bookkeeping).
const cacheEntryOverhead = 96

// Clock holds the timestamp of the record being processed. The streams
// runtime sets it before each record; logged stores read it through
// Clock.Now as their Timestamper; a cached store sets it to each entry's
// original timestamp while flushing that entry downstream, so changelog
// records and forwarded results carry the timestamp of the write that
// produced them (Kafka restores the record context the same way).
type Clock struct{ ts atomic.Int64 }

// NewClock returns a clock at -1 (no timestamp).
func NewClock() *Clock {
	c := &Clock{}
	c.ts.Store(-1)
	return c
}

// Set sets the current record timestamp.
func (c *Clock) Set(ts int64) { c.ts.Store(ts) }

// Now returns the current record timestamp.
func (c *Clock) Now() int64 { return c.ts.Load() }

// CacheConfig configures a Cache.
type CacheConfig struct {
	// MaxBytes bounds the bytes of all entries of all stores sharing the
	// cache, normally one stream thread's share of
	// statestore.cache.max.bytes (cache.max.bytes.buffering). Zero means
	// DefaultCacheMaxBytes.
	MaxBytes int64
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// Cache is a write-back record cache shared by the cached stores of one
// stream thread (Kafka's ThreadCache). Each store has its own namespace,
// ordered by key for range reads and by recency for eviction. When a write
// takes the cache over MaxBytes, the least recently used entries of the
// store being written are evicted; evicting a dirty entry first flushes all
// of that store's dirty entries downstream, the evicted one first, the others
// in the order they were last written.
type Cache struct {
	maxBytes int64
	log      *slog.Logger

	mu     sync.Mutex
	size   int64
	spaces map[*namespace]struct{}
}

// NewCache returns an empty cache.
func NewCache(cfg CacheConfig) (*Cache, error) {
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("%w: cache MaxBytes (statestore.cache.max.bytes) is negative: %d", ErrConfig, cfg.MaxBytes)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultCacheMaxBytes
	}
	return &Cache{maxBytes: cfg.MaxBytes, log: orDiscard(cfg.Logger), spaces: map[*namespace]struct{}{}}, nil
}

// Size returns the bytes the cache currently accounts for.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// namespace is one store's part of the cache. Guarded by Cache.mu.
type namespace struct {
	name    string
	entries map[string]*list.Element // of *cacheEntry
	lru     *list.List               // front: most recently used
	tree    *memEngine               // key → flag‖value, for ordered snapshots
	size    int64
	seq     uint64
}

type cacheEntry struct {
	key   []byte
	value []byte // nil: tombstone
	dirty bool
	seq   uint64 // order of the last dirty write
	ts    int64
	size  int64
}

// Tree values carry a flag byte so that a cached tombstone can shadow the
// store in range reads.
const (
	flagTombstone = 0
	flagValue     = 1
)

func treeValue(v []byte) []byte {
	if v == nil {
		return []byte{flagTombstone}
	}
	return append([]byte{flagValue}, v...)
}

func (c *Cache) register(name string) *namespace {
	ns := &namespace{name: name, entries: map[string]*list.Element{}, lru: list.New(), tree: newMem()}
	c.mu.Lock()
	c.spaces[ns] = struct{}{}
	c.mu.Unlock()
	return ns
}

func (c *Cache) unregister(ns *namespace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size -= ns.size
	delete(c.spaces, ns)
	*ns = namespace{name: ns.name, entries: map[string]*list.Element{}, lru: list.New(), tree: newMem()}
}

// get returns the cached value of key and whether the key is cached (a
// cached tombstone is found with a nil value).
func (c *Cache) get(ns *namespace, key []byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := ns.entries[string(key)]
	if !ok {
		return nil, false
	}
	ns.lru.MoveToFront(el)
	return bytes.Clone(el.Value.(*cacheEntry).value), true
}

// set inserts or replaces an entry. Caller holds c.mu.
func (c *Cache) set(ns *namespace, e *cacheEntry) {
	e.size = int64(len(e.key)+len(e.value)) + cacheEntryOverhead
	if el, ok := ns.entries[string(e.key)]; ok {
		old := el.Value.(*cacheEntry)
		c.size -= old.size
		ns.size -= old.size
		el.Value = e
		ns.lru.MoveToFront(el)
	} else {
		ns.entries[string(e.key)] = ns.lru.PushFront(e)
	}
	c.size += e.size
	ns.size += e.size
	ns.tree.put(e.key, treeValue(e.value))
}

// remove drops an entry. Caller holds c.mu.
func (c *Cache) remove(ns *namespace, el *list.Element) {
	e := el.Value.(*cacheEntry)
	ns.lru.Remove(el)
	delete(ns.entries, string(e.key))
	ns.tree.delete(e.key)
	c.size -= e.size
	ns.size -= e.size
}

// flushPlan is what the writer must do after a cache operation: write
// entries downstream, in order, and then drop keys from the cache. Entries
// leave the cache only after they reached the store, so a reader that
// takes the cache snapshot before the store snapshot never misses one.
type flushPlan struct {
	write []*cacheEntry
	drop  [][]byte
}

// putDirty caches a write and returns what eviction requires.
func (c *Cache) putDirty(ns *namespace, key, value []byte, ts int64) flushPlan {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns.seq++
	c.set(ns, &cacheEntry{key: bytes.Clone(key), value: bytes.Clone(value), dirty: true, seq: ns.seq, ts: ts})
	return c.evictLocked(ns)
}

// evictLocked picks least recently used entries of ns until the cache fits.
// If a victim is dirty, every dirty entry of ns is flushed, the victims
// first.
func (c *Cache) evictLocked(ns *namespace) flushPlan {
	var plan flushPlan
	over := c.size - c.maxBytes
	var victims []*cacheEntry
	for el := ns.lru.Back(); el != nil && over > 0; el = el.Prev() {
		e := el.Value.(*cacheEntry)
		victims = append(victims, e)
		plan.drop = append(plan.drop, e.key)
		over -= e.size
	}
	dirtyVictim := false
	for _, e := range victims {
		if e.dirty {
			dirtyVictim = true
			cp := *e
			plan.write = append(plan.write, &cp)
			e.dirty = false
		}
	}
	if dirtyVictim {
		rest := c.takeDirtyLocked(ns)
		plan.write = append(plan.write, rest.write...)
		plan.drop = append(plan.drop, rest.drop...)
	}
	return plan
}

// takeDirty marks every dirty entry of ns clean and returns them in the
// order of their last write; flushed tombstones are to be dropped.
func (c *Cache) takeDirty(ns *namespace) flushPlan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeDirtyLocked(ns)
}

func (c *Cache) takeDirtyLocked(ns *namespace) flushPlan {
	var plan flushPlan
	for el := ns.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*cacheEntry)
		if !e.dirty {
			continue
		}
		cp := *e
		plan.write = append(plan.write, &cp)
		e.dirty = false
		if e.value == nil {
			plan.drop = append(plan.drop, e.key)
		}
	}
	slices.SortFunc(plan.write, func(a, b *cacheEntry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return plan
}

// dropClean removes the given keys from ns unless they were written again
// (became dirty) since the plan was made.
func (c *Cache) dropClean(ns *namespace, keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if el, ok := ns.entries[string(k)]; ok && !el.Value.(*cacheEntry).dirty {
			c.remove(ns, el)
		}
	}
}

// iter returns an iterator over a snapshot of ns's entries in [lo, hi).
func (c *Cache) iter(ns *namespace, lo, hi []byte, reverse bool) rawIter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ns.tree.iter(lo, hi, reverse)
}

// Flushed is one cache entry written downstream at a flush or an eviction.
// K is []byte for key-value stores and Windowed[[]byte] for window and
// session stores.
type Flushed[K any] struct {
	Key K
	// NewValue is the value written; nil for a delete.
	NewValue []byte
	// OldValue is the store's value before the write; nil if absent.
	OldValue []byte
	// Timestamp is the timestamp of the record that last wrote the entry.
	Timestamp int64
}

// FlushListener receives every entry a cached store writes downstream,
// after the write: the DSL forwards it as the aggregation's result, which
// is how caching turns many updates of a key into one ("emit on flush").
// Entries that delete an absent key are not passed on.
type FlushListener[K any] func(Flushed[K]) error

// CachingConfig configures a cached store.
type CachingConfig[K any] struct {
	// Cache is the stream thread's cache. Required.
	Cache *Cache
	// Clock supplies write timestamps and is set to each entry's
	// timestamp while it is written downstream. Nil: timestamps are -1.
	Clock *Clock
	// Forward receives the entries written downstream. Nil: none.
	Forward FlushListener[K]
}

func (c CachingConfig[K]) now() int64 {
	if c.Clock == nil {
		return -1
	}
	return c.Clock.Now()
}

// withEntryClock sets the clock to ts for the duration of f.
func (c CachingConfig[K]) withEntryClock(ts int64, f func() error) error {
	if c.Clock == nil {
		return f()
	}
	prev := c.Clock.Now()
	c.Clock.Set(ts)
	defer c.Clock.Set(prev)
	return f()
}

// CachedKeyValue is a write-back cache in front of a key-value store
// (Kafka's CachingKeyValueStore). Writes stay in the cache, several writes
// of a key collapse into one, and reach the wrapped store (and the flush
// listener) at Flush, normally at commit, or when eviction pushes them out.
// Reads see the cache's writes. Writes, Flush and Close must come from one
// goroutine (the stream thread); reads may come from any.
type CachedKeyValue struct {
	inner KeyValueBytes
	cfg   CachingConfig[[]byte]
	cache *Cache
	ns    *namespace
	fmu   sync.Mutex // one downstream write at a time
}

var _ KeyValueBytes = (*CachedKeyValue)(nil)

// NewCachedKeyValue puts a namespace of cfg.Cache in front of inner.
func NewCachedKeyValue(inner KeyValueBytes, cfg CachingConfig[[]byte]) (*CachedKeyValue, error) {
	if cfg.Cache == nil {
		return nil, fmt.Errorf("%w: store %q: CachingConfig.Cache is nil", ErrConfig, inner.Name())
	}
	return &CachedKeyValue{inner: inner, cfg: cfg, cache: cfg.Cache, ns: cfg.Cache.register(inner.Name())}, nil
}

// Name returns the store name.
func (s *CachedKeyValue) Name() string { return s.inner.Name() }

// apply carries out a flush plan: the entries go to the wrapped store and
// the listener, then the dropped keys leave the cache.
func (s *CachedKeyValue) apply(p flushPlan) error {
	if err := s.downstream(p.write); err != nil {
		return err
	}
	s.cache.dropClean(s.ns, p.drop)
	return nil
}

// downstream writes flushed entries to the wrapped store and the listener.
func (s *CachedKeyValue) downstream(entries []*cacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	for _, e := range entries {
		err := s.cfg.withEntryClock(e.ts, func() error {
			var old []byte
			if s.cfg.Forward != nil {
				var err error
				if old, err = s.inner.Get(e.key); err != nil {
					return err
				}
			}
			if err := s.inner.Put(e.key, e.value); err != nil {
				return fmt.Errorf("store %q: flush cache: %w", s.Name(), err)
			}
			if s.cfg.Forward != nil && (e.value != nil || old != nil) {
				return s.cfg.Forward(Flushed[[]byte]{Key: e.key, NewValue: e.value, OldValue: old, Timestamp: e.ts})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Get returns the value of key, from the cache when it is there.
func (s *CachedKeyValue) Get(key []byte) ([]byte, error) {
	if v, ok := s.cache.get(s.ns, key); ok {
		return v, nil
	}
	// A miss is not cached: reads may come from interactive queries on
	// other goroutines, and only the writer may cause evictions (Kafka
	// also caches reads of the stream thread only).
	return s.inner.Get(key)
}

// Put caches the write.
func (s *CachedKeyValue) Put(key, value []byte) error {
	return s.apply(s.cache.putDirty(s.ns, key, value, s.cfg.now()))
}

// PutIfAbsent caches the write if key has no value.
func (s *CachedKeyValue) PutIfAbsent(key, value []byte) ([]byte, error) {
	old, err := s.Get(key)
	if err != nil || old != nil {
		return old, err
	}
	return nil, s.Put(key, value)
}

// PutAll caches every write in order.
func (s *CachedKeyValue) PutAll(entries []KeyValue[[]byte, []byte]) error {
	for _, e := range entries {
		if err := s.Put(e.Key, e.Value); err != nil {
			return err
		}
	}
	return nil
}

// Delete caches a tombstone and returns the previous value.
func (s *CachedKeyValue) Delete(key []byte) ([]byte, error) {
	old, err := s.Get(key)
	if err != nil {
		return nil, err
	}
	return old, s.Put(key, nil)
}

// Range iterates [from, to] over the cache merged with the store.
func (s *CachedKeyValue) Range(from, to []byte) Iterator[[]byte, []byte] {
	if from != nil && to != nil && bytes.Compare(from, to) > 0 {
		return emptyIter[[]byte, []byte]()
	}
	return s.merged(func() Iterator[[]byte, []byte] { return s.inner.Range(from, to) }, from, inclusiveLimit(to), false)
}

// ReverseRange iterates [from, to] in reverse.
func (s *CachedKeyValue) ReverseRange(from, to []byte) Iterator[[]byte, []byte] {
	if from != nil && to != nil && bytes.Compare(from, to) > 0 {
		return emptyIter[[]byte, []byte]()
	}
	return s.merged(func() Iterator[[]byte, []byte] { return s.inner.ReverseRange(from, to) }, from, inclusiveLimit(to), true)
}

// All iterates every entry.
func (s *CachedKeyValue) All() Iterator[[]byte, []byte] {
	return s.merged(func() Iterator[[]byte, []byte] { return s.inner.All() }, nil, nil, false)
}

// ReverseAll iterates every entry in reverse.
func (s *CachedKeyValue) ReverseAll() Iterator[[]byte, []byte] {
	return s.merged(func() Iterator[[]byte, []byte] { return s.inner.ReverseAll() }, nil, nil, true)
}

// PrefixScan iterates the keys starting with prefix.
func (s *CachedKeyValue) PrefixScan(prefix []byte) Iterator[[]byte, []byte] {
	return s.merged(func() Iterator[[]byte, []byte] { return s.inner.PrefixScan(prefix) }, prefix, prefixLimit(prefix), false)
}

// merged combines a cache snapshot of [lo, hi) with the store iterator; the
// cache wins on equal keys and its tombstones hide the store's entries. The
// cache snapshot is taken first (see flushPlan).
func (s *CachedKeyValue) merged(store func() Iterator[[]byte, []byte], lo, hi []byte, reverse bool) Iterator[[]byte, []byte] {
	cached := s.cache.iter(s.ns, lo, hi, reverse)
	return mergeIters(cached, store(), reverse)
}

// filterRaw passes on the entries of r whose key keep accepts.
func filterRaw(r rawIter, keep func(k []byte) bool) rawIter {
	return &filteredRaw{rawIter: r, keep: keep}
}

type filteredRaw struct {
	rawIter
	keep func([]byte) bool
}

func (f *filteredRaw) next() bool {
	for f.rawIter.next() {
		if f.keep(f.rawIter.key()) {
			return true
		}
	}
	return false
}

func mergeIters(cached rawIter, store Iterator[[]byte, []byte], reverse bool) Iterator[[]byte, []byte] {
	var ck, cv, sk, sv []byte
	cOK, sOK := cached.next(), store.Next()
	if cOK {
		ck, cv = cached.key(), cached.value()
	}
	if sOK {
		sk, sv = store.Key(), store.Value()
	}
	advC := func() {
		if cOK = cached.next(); cOK {
			ck, cv = cached.key(), cached.value()
		}
	}
	advS := func() {
		if sOK = store.Next(); sOK {
			sk, sv = store.Key(), store.Value()
		}
	}
	step := func() ([]byte, []byte, bool, error) {
		for cOK || sOK {
			c := 0
			switch {
			case !sOK:
				c = -1
			case !cOK:
				c = 1
			default:
				c = bytes.Compare(ck, sk)
				if reverse {
					c = -c
				}
			}
			if c > 0 {
				k, v := sk, sv
				advS()
				return k, v, true, nil
			}
			if c == 0 {
				advS()
			}
			k, v := ck, cv
			advC()
			if v[0] == flagValue {
				return k, v[1:], true, nil
			}
		}
		return nil, nil, false, store.Err()
	}
	return newFuncIter(step, func() { cached.close(); store.Close() })
}

// ApproximateNumEntries returns the wrapped store's estimate (it does not
// count unflushed writes, as in Kafka).
func (s *CachedKeyValue) ApproximateNumEntries() (int64, error) {
	return s.inner.ApproximateNumEntries()
}

// Flush writes every dirty entry downstream, then flushes the wrapped store.
func (s *CachedKeyValue) Flush() error {
	if err := s.apply(s.cache.takeDirty(s.ns)); err != nil {
		return err
	}
	return s.inner.Flush()
}

// Close flushes, releases the namespace and closes the wrapped store.
func (s *CachedKeyValue) Close() error {
	err := s.apply(s.cache.takeDirty(s.ns))
	s.cache.unregister(s.ns)
	if cerr := s.inner.Close(); err == nil {
		err = cerr
	}
	return err
}

// Restore drops the cached entries and applies records to the wrapped store.
func (s *CachedKeyValue) Restore(records []ChangelogRecord) error {
	s.cache.clear(s.ns)
	return restoreInto(s.inner, s.Name(), records)
}

// clear drops every entry of ns without writing it anywhere.
func (c *Cache) clear(ns *namespace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := ns.lru.Front(); el != nil; {
		next := el.Next()
		c.remove(ns, el)
		el = next
	}
}
