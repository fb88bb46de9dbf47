package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Errors of this package. Errors returned by stores wrap one of them.
var (
	// ErrStore wraps failures of the underlying storage (leveldb, files).
	ErrStore = errors.New("state: store")
	// ErrClosed is returned by operations on a closed store.
	ErrClosed = errors.New("state: store closed")
	// ErrConfig is returned by constructors given an invalid config; the
	// message names the field.
	ErrConfig = errors.New("state: invalid config")
	// ErrFormat is returned when bytes (a store key, a windowed key, a
	// checkpoint file) do not have the expected format.
	ErrFormat = errors.New("state: malformed")
)

// KeyValueBytes is a key-value store over bytes, ordered by key bytes.
// A nil value never appears in a store: putting nil deletes the key.
// Get and the iterators return a non-nil (possibly empty) slice for a
// present key. Ranges whose from is above to are empty; a nil bound is open.
type KeyValueBytes interface {
	// Name returns the store name.
	Name() string
	// Get returns the value of key, or nil if there is none.
	Get(key []byte) ([]byte, error)
	// Put sets key to value; a nil value deletes key.
	Put(key, value []byte) error
	// PutIfAbsent sets key to value only if key has no value, and returns
	// the value key had (nil if it was absent and value was written).
	PutIfAbsent(key, value []byte) ([]byte, error)
	// PutAll applies the entries in order, as Put would.
	PutAll(entries []KeyValue[[]byte, []byte]) error
	// Delete removes key and returns the value it had, or nil.
	Delete(key []byte) ([]byte, error)
	// Range iterates keys in [from, to] in ascending order.
	Range(from, to []byte) Iterator[[]byte, []byte]
	// ReverseRange iterates keys in [from, to] in descending order.
	ReverseRange(from, to []byte) Iterator[[]byte, []byte]
	// All iterates every key in ascending order.
	All() Iterator[[]byte, []byte]
	// ReverseAll iterates every key in descending order.
	ReverseAll() Iterator[[]byte, []byte]
	// PrefixScan iterates the keys starting with prefix in ascending order.
	PrefixScan(prefix []byte) Iterator[[]byte, []byte]
	// ApproximateNumEntries estimates the number of keys.
	ApproximateNumEntries() (int64, error)
	// Flush makes every write so far durable (a no-op in memory).
	Flush() error
	// Close flushes and releases the store. Iterators must be closed first.
	Close() error
}

// KeyValueConfig configures a KeyValueDB.
type KeyValueConfig struct {
	// Name is the store name; its changelog topic is
	// <application.id>-<Name>-changelog.
	Name string
	// Dir is the store's directory, state.dir/<application.id>/<task>/<Name>
	// (state.dir). Required unless InMemory.
	Dir string
	// InMemory keeps the store in memory instead of leveldb under Dir
	// (Stores.inMemoryKeyValueStore in Kafka Streams).
	InMemory bool
	// Logger receives warnings, such as a range whose bounds are inverted.
	// Nil discards them.
	Logger *slog.Logger
}

// KeyValueDB is the key-value store: leveldb under a directory, or memory.
// It is safe for concurrent use: one writer (the stream thread) and any
// number of readers (interactive queries).
type KeyValueDB struct {
	name   string
	log    *slog.Logger
	eng    engine
	wmu    sync.Mutex // serialises read-modify-write operations
	closed atomic.Bool
}

var _ KeyValueBytes = (*KeyValueDB)(nil)

// OpenKeyValue opens (or creates) the key-value store cfg describes.
// A persistent store keeps its contents across OpenKeyValue calls.
func OpenKeyValue(cfg KeyValueConfig) (*KeyValueDB, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: Name is empty", ErrConfig)
	}
	if !cfg.InMemory && cfg.Dir == "" {
		return nil, fmt.Errorf("%w: store %q: Dir (state.dir) is empty and InMemory is false", ErrConfig, cfg.Name)
	}
	s := &KeyValueDB{name: cfg.Name, log: orDiscard(cfg.Logger)}
	if cfg.InMemory {
		s.eng = newMem()
		return s, nil
	}
	e, err := openLevel(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("store %q: %w", cfg.Name, err)
	}
	s.eng = e
	return s, nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

// Name returns the store name.
func (s *KeyValueDB) Name() string { return s.name }

func (s *KeyValueDB) check() error {
	if s.closed.Load() {
		return fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	return nil
}

// Get returns the value of key, or nil.
func (s *KeyValueDB) Get(key []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.eng.get(key)
}

// Put sets key to value; nil deletes.
func (s *KeyValueDB) Put(key, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if value == nil {
		return s.eng.delete(key)
	}
	return s.eng.put(key, value)
}

// PutIfAbsent writes value only when key is absent and returns the previous
// value.
func (s *KeyValueDB) PutIfAbsent(key, value []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old, err := s.eng.get(key)
	if err != nil || old != nil {
		return old, err
	}
	if value == nil {
		return nil, nil
	}
	return nil, s.eng.put(key, value)
}

// PutAll applies the entries in order, atomically on leveldb.
func (s *KeyValueDB) PutAll(entries []KeyValue[[]byte, []byte]) error {
	if err := s.check(); err != nil {
		return err
	}
	ops := make([]op, len(entries))
	for i, e := range entries {
		ops[i] = op{key: e.Key, value: e.Value}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.eng.write(ops)
}

// Delete removes key and returns its previous value.
func (s *KeyValueDB) Delete(key []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old, err := s.eng.get(key)
	if err != nil || old == nil {
		return nil, err
	}
	return old, s.eng.delete(key)
}

// Range iterates [from, to] ascending.
func (s *KeyValueDB) Range(from, to []byte) Iterator[[]byte, []byte] {
	return s.rangeIter(from, to, false)
}

// ReverseRange iterates [from, to] descending.
func (s *KeyValueDB) ReverseRange(from, to []byte) Iterator[[]byte, []byte] {
	return s.rangeIter(from, to, true)
}

// All iterates every entry ascending.
func (s *KeyValueDB) All() Iterator[[]byte, []byte] { return s.rangeIter(nil, nil, false) }

// ReverseAll iterates every entry descending.
func (s *KeyValueDB) ReverseAll() Iterator[[]byte, []byte] { return s.rangeIter(nil, nil, true) }

func (s *KeyValueDB) rangeIter(from, to []byte, reverse bool) Iterator[[]byte, []byte] {
	if err := s.check(); err != nil {
		return errIter[[]byte, []byte](err)
	}
	if from != nil && to != nil && bytes.Compare(from, to) > 0 {
		s.log.Warn("range with from above to returns no entries; serdes that do not keep order in bytes (negative numbers) cause this", "store", s.name)
		return emptyIter[[]byte, []byte]()
	}
	return rawBytesIter(s.eng.iter(from, inclusiveLimit(to), reverse))
}

// PrefixScan iterates the keys that start with prefix.
func (s *KeyValueDB) PrefixScan(prefix []byte) Iterator[[]byte, []byte] {
	if err := s.check(); err != nil {
		return errIter[[]byte, []byte](err)
	}
	return rawBytesIter(s.eng.iter(prefix, prefixLimit(prefix), false))
}

// ApproximateNumEntries returns the number of keys. In memory it is exact
// and O(1); on leveldb it counts the keys, which reads the whole store.
func (s *KeyValueDB) ApproximateNumEntries() (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.eng.count()
}

// Flush makes every write durable: on leveldb it fsyncs the journal.
func (s *KeyValueDB) Flush() error {
	if err := s.check(); err != nil {
		return err
	}
	return s.eng.flush()
}

// Close closes the store; later calls return ErrClosed.
func (s *KeyValueDB) Close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("%w: %s", ErrClosed, s.name)
	}
	return s.eng.close()
}

// Restore applies changelog records in order: each record's key is the
// store key, a nil value deletes. Restored writes are not logged again.
func (s *KeyValueDB) Restore(records []ChangelogRecord) error {
	if err := s.check(); err != nil {
		return err
	}
	ops := make([]op, len(records))
	for i, r := range records {
		ops[i] = op{key: r.Key, value: r.Value}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.eng.write(ops)
}

// inclusiveLimit turns an inclusive upper bound into the exclusive one
// engines take: the smallest key above to is to‖0x00.
func inclusiveLimit(to []byte) []byte {
	if to == nil {
		return nil
	}
	return append(bytes.Clone(to), 0)
}

// prefixLimit returns the smallest key above every key starting with
// prefix, or nil when there is none (prefix empty or all 0xff).
func prefixLimit(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			l := bytes.Clone(prefix[:i+1])
			l[i]++
			return l
		}
	}
	return nil
}

// errIter returns an iterator that yields nothing and reports err.
func errIter[K, V any](err error) Iterator[K, V] {
	return newFuncIter(func() (K, V, bool, error) {
		var k K
		var v V
		return k, v, false, err
	}, nil)
}
