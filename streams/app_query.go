package streams

import (
	"fmt"
	"slices"
	"strconv"
)

// Interactive queries: read-only access to the stores of the tasks this
// instance runs and to the global stores, and the instance that hosts a
// key elsewhere (Kafka's KafkaStreams#store and #queryMetadataForKey).
// Reads of task stores take each thread's lock, so they wait while a
// thread processes a poll or restores; a global store is read while the
// global thread keeps it current (the stores allow concurrent readers).

// HostInfo is an instance's application.server.
type HostInfo struct {
	Host string
	Port int
}

// String returns host:port.
func (h HostInfo) String() string { return h.Host + ":" + strconv.Itoa(h.Port) }

// KeyQueryMetadata tells where a key of a store lives (Kafka's
// KeyQueryMetadata): the instance running its task and the partition.
type KeyQueryMetadata struct {
	ActiveHost HostInfo
	Partition  int32
}

// QueryableStore is a store of the App across the tasks of this instance,
// or one of its global stores.
type QueryableStore struct {
	app    *App
	name   string
	global bool
}

// Store returns the named store for queries. It fails when the topology
// has no such store.
func (a *App) Store(name string) (*QueryableStore, error) {
	if _, ok := a.stores[name]; !ok {
		if _, global := a.topo.stores[name]; global {
			return &QueryableStore{app: a, name: name, global: true}, nil
		}
		return nil, fmt.Errorf("%w %q is not in the topology", ErrStore, name)
	}
	return &QueryableStore{app: a, name: name}, nil
}

// Name returns the store's name.
func (q *QueryableStore) Name() string { return q.name }

// each calls fn with the store of every local task holding it, under the
// task's thread lock, until fn returns false or an error.
func (q *QueryableStore) each(fn func(id TaskID, g StoreGetter) (bool, error)) error {
	switch s := q.app.State(); s {
	case Running, Rebalancing:
	default:
		return fmt.Errorf("%w: query of store %q in state %s", ErrAppState, q.name, s)
	}
	if q.global {
		q.app.mu.Lock()
		g := q.app.global
		q.app.mu.Unlock()
		if g == nil {
			return fmt.Errorf("%w: global store %q is still loading", ErrAppState, q.name)
		}
		_, err := fn(g.id, g)
		return err
	}
	for _, t := range q.app.threadList() {
		more, err := func() (bool, error) {
			t.mu.Lock()
			defer t.mu.Unlock()
			ids := make([]TaskID, 0, len(t.tasks))
			for id := range t.tasks {
				ids = append(ids, id)
			}
			slices.SortFunc(ids, compareTaskIDs)
			for _, id := range ids {
				task := t.tasks[id].task
				if task.StateStore(q.name) == nil {
					continue
				}
				more, err := fn(id, task)
				if err != nil || !more {
					return false, err
				}
			}
			return true, nil
		}()
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ReadOnlyKeyValueStore is the query face of a key-value store over every
// local task (Kafka's ReadOnlyKeyValueStore).
type ReadOnlyKeyValueStore[K, V any] interface {
	// Get returns the value of k from the local task that has it.
	Get(k K) (V, bool, error)
	// All returns every local entry, ordered by task then key bytes.
	All() ([]KeyValue[K, V], error)
	// Range returns local entries with from <= key <= to.
	Range(from, to K) ([]KeyValue[K, V], error)
	// ApproximateNumEntries sums the local tasks' counts.
	ApproximateNumEntries() (int64, error)
}

// QueryKeyValue returns a typed read-only view of a key-value store of
// the App (a table's or an aggregation's store). The types must be the
// ones the store was built with.
func QueryKeyValue[K, V any](a *App, store string) (ReadOnlyKeyValueStore[K, V], error) {
	q, err := a.Store(store)
	if err != nil {
		return nil, err
	}
	return kvQuery[K, V]{q}, nil
}

type kvQuery[K, V any] struct{ q *QueryableStore }

func (v kvQuery[K, V]) Get(k K) (V, bool, error) {
	var (
		out   V
		found bool
	)
	err := v.q.each(func(_ TaskID, g StoreGetter) (bool, error) {
		s, err := GetKeyValueStore[K, V](g, v.q.name)
		if err != nil {
			return false, err
		}
		val, ok, err := s.Get(k)
		if err != nil || ok {
			out, found = val, ok
			return false, err
		}
		return true, nil
	})
	return out, found, err
}

func (v kvQuery[K, V]) scan(fn func(KeyValueStore[K, V]) ([]KeyValue[K, V], error)) ([]KeyValue[K, V], error) {
	var out []KeyValue[K, V]
	err := v.q.each(func(_ TaskID, g StoreGetter) (bool, error) {
		s, err := GetKeyValueStore[K, V](g, v.q.name)
		if err != nil {
			return false, err
		}
		kvs, err := fn(s)
		out = append(out, kvs...)
		return err == nil, err
	})
	return out, err
}

func (v kvQuery[K, V]) All() ([]KeyValue[K, V], error) {
	return v.scan(func(s KeyValueStore[K, V]) ([]KeyValue[K, V], error) { return s.All() })
}

func (v kvQuery[K, V]) Range(from, to K) ([]KeyValue[K, V], error) {
	return v.scan(func(s KeyValueStore[K, V]) ([]KeyValue[K, V], error) { return s.Range(from, to) })
}

func (v kvQuery[K, V]) ApproximateNumEntries() (int64, error) {
	var n int64
	err := v.q.each(func(_ TaskID, g StoreGetter) (bool, error) {
		s, err := GetKeyValueStore[K, V](g, v.q.name)
		if err != nil {
			return false, err
		}
		n += s.ApproximateNumEntries()
		return true, nil
	})
	return n, err
}

// ReadOnlyWindowStore is the query face of a window store over every
// local task (Kafka's ReadOnlyWindowStore).
type ReadOnlyWindowStore[K, V any] interface {
	// Fetch returns k's windows starting in [from, to] (ms), by start.
	Fetch(k K, from, to int64) ([]KeyValue[int64, V], error)
	// All returns every local window.
	All() ([]KeyValue[Windowed[K], V], error)
}

// QueryWindow returns a typed read-only view of a window store of the App
// (a windowed aggregation's store).
func QueryWindow[K, V any](a *App, store string) (ReadOnlyWindowStore[K, V], error) {
	q, err := a.Store(store)
	if err != nil {
		return nil, err
	}
	return winQuery[K, V]{q}, nil
}

type winQuery[K, V any] struct{ q *QueryableStore }

func (v winQuery[K, V]) Fetch(k K, from, to int64) ([]KeyValue[int64, V], error) {
	var out []KeyValue[int64, V]
	err := v.q.each(func(_ TaskID, g StoreGetter) (bool, error) {
		s, err := GetWindowStore[K, V](g, v.q.name)
		if err != nil {
			return false, err
		}
		kvs, err := s.FetchRange(k, from, to)
		out = append(out, kvs...)
		return err == nil, err
	})
	return out, err
}

func (v winQuery[K, V]) All() ([]KeyValue[Windowed[K], V], error) {
	var out []KeyValue[Windowed[K], V]
	err := v.q.each(func(_ TaskID, g StoreGetter) (bool, error) {
		s, err := GetWindowStore[K, V](g, v.q.name)
		if err != nil {
			return false, err
		}
		kvs, err := s.All()
		out = append(out, kvs...)
		return err == nil, err
	})
	return out, err
}

// MetadataForKey returns the instance (by application.server) whose task
// holds key, given as the bytes the store's key serde writes, and its
// partition: murmur2 of the key over the partitions of the store's
// sub-topology, as Kafka's default partitioner placed it.
func (a *App) MetadataForKey(store string, key []byte) (KeyQueryMetadata, error) {
	si, ok := a.stores[store]
	if !ok {
		return KeyQueryMetadata{}, fmt.Errorf("%w %q is not in the topology", ErrStore, store)
	}
	srcs := a.topo.SourceTopics(si.sub, a.cfg.ApplicationID)
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int32
	for _, tp := range srcs {
		n = max(n, a.partitions[tp])
	}
	if n == 0 || a.hosts == nil {
		return KeyQueryMetadata{}, fmt.Errorf("%w: no assignment yet", ErrAppState)
	}
	part := KeyPartition(key, n)
	task := TaskID{Subtopology: si.sub, Partition: part}.String()
	for _, ep := range sortedKeys(a.hosts) {
		if slices.Contains(a.hosts[ep], task) {
			host, port, err := splitHostPort(ep)
			if err != nil {
				return KeyQueryMetadata{}, err
			}
			return KeyQueryMetadata{ActiveHost: HostInfo{Host: host, Port: port}, Partition: part}, nil
		}
	}
	return KeyQueryMetadata{}, fmt.Errorf("%w: no instance with an application.server hosts task %s", ErrStore, task)
}

// IsLocal reports whether md's host is this instance.
func (a *App) IsLocal(md KeyQueryMetadata) bool {
	return a.cfg.ApplicationServer != "" && md.ActiveHost.String() == a.cfg.ApplicationServer
}
