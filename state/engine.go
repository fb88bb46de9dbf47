package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/iterator"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// engine is an ordered map of byte keys to byte values: one leveldb
// database or one in-memory tree. Every store in this package is built on
// engines, so the persistent and in-memory stores share all logic above this
// line and differ only in where the bytes live.
//
// Keys are ordered by bytes.Compare, like Kafka's Bytes comparison. Values are
// never nil; a delete removes the key.
type engine interface {
	get(k []byte) ([]byte, error) // nil, nil when absent
	put(k, v []byte) error
	delete(k []byte) error
	// write applies puts (value non-nil) and deletes (value nil) atomically.
	write(ops []op) error
	// iter returns keys in [lo, hi) (nil bounds are open), ascending or
	// descending, over a snapshot taken now.
	iter(lo, hi []byte, reverse bool) rawIter
	count() (int64, error)
	// flush makes every write so far durable.
	flush() error
	close() error
	// destroy closes the engine and removes its files.
	destroy() error
}

// op is one write of a batch; a nil value deletes.
type op struct {
	key, value []byte
}

// rawIter walks an engine. Key and value slices are owned by the caller
// after next returns (engines copy).
type rawIter interface {
	next() bool
	key() []byte
	value() []byte
	err() error
	close()
}

// --- leveldb ---

// levelEngine is an engine on one goleveldb database.
type levelEngine struct {
	db  *leveldb.DB
	dir string

	// wmu orders writes and flush: flush re-applies the most recent
	// write, which is only harmless if no other write can slip in between.
	// It is held across the leveldb write, which serialises writers as
	// leveldb itself would; readers never take it.
	wmu   sync.Mutex
	dirty bool
	last  op // the most recent write, re-applied with sync to flush the journal
}

func openLevel(dir string) (*levelEngine, error) {
	// Default options: writes are not synced one by one (the changelog
	// topic is the durable copy and flush syncs the journal at commit), and
	// a database that fails to open is reported, not repaired, so that the
	// runtime can wipe it and restore from the changelog as Kafka Streams
	// does.
	db, err := leveldb.OpenFile(dir, &opt.Options{
		// Window and session stores open one database per segment; keep
		// each one's table-file handles modest.
		OpenFilesCacheCapacity: 64,
		// Aggregations look up every new key before writing it; a bloom
		// filter (as Kafka configures for RocksDB) answers most misses
		// without reading a block.
		Filter: filter.NewBloomFilter(10),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: open leveldb %s: %w", ErrStore, dir, err)
	}
	return &levelEngine{db: db, dir: dir}, nil
}

// noteWrite records o as the latest write. Caller holds wmu.
func (e *levelEngine) noteWrite(o op) {
	e.dirty = true
	e.last = o
}

func (e *levelEngine) get(k []byte) ([]byte, error) {
	v, err := e.db.Get(k, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: get: %w", ErrStore, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (e *levelEngine) put(k, v []byte) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if err := e.db.Put(k, v, nil); err != nil {
		return fmt.Errorf("%w: put: %w", ErrStore, err)
	}
	e.noteWrite(op{key: bytes.Clone(k), value: bytes.Clone(nonNil(v))})
	return nil
}

func (e *levelEngine) delete(k []byte) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if err := e.db.Delete(k, nil); err != nil {
		return fmt.Errorf("%w: delete: %w", ErrStore, err)
	}
	e.noteWrite(op{key: bytes.Clone(k)})
	return nil
}

func (e *levelEngine) write(ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	var b leveldb.Batch
	for _, o := range ops {
		if o.value == nil {
			b.Delete(o.key)
		} else {
			b.Put(o.key, o.value)
		}
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if err := e.db.Write(&b, nil); err != nil {
		return fmt.Errorf("%w: write batch: %w", ErrStore, err)
	}
	l := ops[len(ops)-1]
	e.noteWrite(op{key: bytes.Clone(l.key), value: bytes.Clone(l.value)})
	return nil
}

func (e *levelEngine) iter(lo, hi []byte, reverse bool) rawIter {
	var r *util.Range
	if lo != nil || hi != nil {
		r = &util.Range{Start: lo, Limit: hi}
	}
	return &levelIter{it: e.db.NewIterator(r, nil), reverse: reverse}
}

func (e *levelEngine) count() (int64, error) {
	it := e.db.NewIterator(nil, nil)
	defer it.Release()
	var n int64
	for it.Next() {
		n++
	}
	if err := it.Error(); err != nil {
		return n, fmt.Errorf("%w: count: %w", ErrStore, err)
	}
	return n, nil
}

// flush re-applies the most recent write with sync, which fsyncs the
// journal holding every earlier write. Re-applying the newest write leaves
// the contents unchanged.
func (e *levelEngine) flush() error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if !e.dirty {
		return nil
	}
	last := e.last
	wo := &opt.WriteOptions{Sync: true}
	var err error
	if last.value == nil {
		err = e.db.Delete(last.key, wo)
	} else {
		err = e.db.Put(last.key, last.value, wo)
	}
	if err != nil {
		return fmt.Errorf("%w: flush: %w", ErrStore, err)
	}
	e.dirty = false
	return nil
}

func (e *levelEngine) close() error {
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("%w: close %s: %w", ErrStore, e.dir, err)
	}
	return nil
}

func (e *levelEngine) destroy() error {
	err := e.close()
	if rerr := os.RemoveAll(e.dir); rerr != nil && err == nil {
		err = fmt.Errorf("%w: remove %s: %w", ErrStore, e.dir, rerr)
	}
	return err
}

type levelIter struct {
	it      iterator.Iterator
	reverse bool
	started bool
	k, v    []byte
}

func (i *levelIter) next() bool {
	var ok bool
	switch {
	case !i.started && i.reverse:
		ok = i.it.Last()
	case !i.started:
		ok = i.it.First()
	case i.reverse:
		ok = i.it.Prev()
	default:
		ok = i.it.Next()
	}
	i.started = true
	if !ok {
		i.k, i.v = nil, nil
		return false
	}
	i.k = bytes.Clone(i.it.Key())
	i.v = bytes.Clone(nonNil(i.it.Value()))
	return true
}

func (i *levelIter) key() []byte   { return i.k }
func (i *levelIter) value() []byte { return i.v }
func (i *levelIter) err() error {
	if err := i.it.Error(); err != nil {
		return fmt.Errorf("%w: iterate: %w", ErrStore, err)
	}
	return nil
}
func (i *levelIter) close() { i.it.Release() }

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
