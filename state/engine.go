package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/syndtr/goleveldb/leveldb"
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

// --- memory ---

// memEngine is an engine on a persistent (copy-on-write) treap. Writers copy
// the path to the changed node and swap the root under the mutex, so an
// iterator holds an immutable snapshot for free, as leveldb iterators do.
type memEngine struct {
	mu   sync.Mutex
	root *node
	rnd  *rand.PCG
}

type node struct {
	key, value  []byte
	prio        uint64
	left, right *node
	size        int64
}

func newMem() *memEngine {
	return &memEngine{rnd: rand.NewPCG(0x52756e6e656c, 0x73746174)}
}

func sizeOf(n *node) int64 {
	if n == nil {
		return 0
	}
	return n.size
}

func (n *node) withChildren(l, r *node) *node {
	c := *n
	c.left, c.right = l, r
	c.size = 1 + sizeOf(l) + sizeOf(r)
	return &c
}

// split returns the trees of keys below and above k; a node with key k is
// left out.
func split(n *node, k []byte) (*node, *node) {
	if n == nil {
		return nil, nil
	}
	switch c := bytes.Compare(n.key, k); {
	case c < 0:
		l, r := split(n.right, k)
		return n.withChildren(n.left, l), r
	case c > 0:
		l, r := split(n.left, k)
		return l, n.withChildren(r, n.right)
	default:
		return n.left, n.right
	}
}

// merge joins two trees where every key of a is below every key of b.
func merge(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		return a.withChildren(a.left, merge(a.right, b))
	default:
		return b.withChildren(merge(a, b.left), b.right)
	}
}

// insert adds nn to n, replacing the value of an equal key.
func insert(n *node, nn *node) *node {
	if n == nil {
		return nn
	}
	c := bytes.Compare(nn.key, n.key)
	if c == 0 {
		r := *n
		r.value = nn.value
		return &r
	}
	if nn.prio > n.prio {
		l, r := split(n, nn.key)
		return nn.withChildren(l, r)
	}
	if c < 0 {
		return n.withChildren(insert(n.left, nn), n.right)
	}
	return n.withChildren(n.left, insert(n.right, nn))
}

func remove(n *node, k []byte) *node {
	if n == nil {
		return nil
	}
	c := bytes.Compare(k, n.key)
	switch {
	case c == 0:
		return merge(n.left, n.right)
	case c < 0:
		l := remove(n.left, k)
		if l == n.left {
			return n
		}
		return n.withChildren(l, n.right)
	default:
		r := remove(n.right, k)
		if r == n.right {
			return n
		}
		return n.withChildren(n.left, r)
	}
}

func lookup(n *node, k []byte) *node {
	for n != nil {
		c := bytes.Compare(k, n.key)
		switch {
		case c == 0:
			return n
		case c < 0:
			n = n.left
		default:
			n = n.right
		}
	}
	return nil
}

func (e *memEngine) snapshot() *node {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.root
}

func (e *memEngine) get(k []byte) ([]byte, error) {
	if n := lookup(e.snapshot(), k); n != nil {
		return bytes.Clone(n.value), nil
	}
	return nil, nil
}

func (e *memEngine) putLocked(k, v []byte) {
	e.root = insert(e.root, &node{key: bytes.Clone(k), value: bytes.Clone(nonNil(v)), prio: e.rnd.Uint64(), size: 1})
}

func (e *memEngine) put(k, v []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.putLocked(k, v)
	return nil
}

func (e *memEngine) delete(k []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.root = remove(e.root, k)
	return nil
}

func (e *memEngine) write(ops []op) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range ops {
		if o.value == nil {
			e.root = remove(e.root, o.key)
		} else {
			e.putLocked(o.key, o.value)
		}
	}
	return nil
}

func (e *memEngine) iter(lo, hi []byte, reverse bool) rawIter {
	return &memIter{root: e.snapshot(), lo: lo, hi: hi, reverse: reverse}
}

func (e *memEngine) count() (int64, error) { return sizeOf(e.snapshot()), nil }
func (e *memEngine) flush() error          { return nil }
func (e *memEngine) close() error          { return nil }
func (e *memEngine) destroy() error {
	e.mu.Lock()
	e.root = nil
	e.mu.Unlock()
	return nil
}

// memIter walks a treap snapshot in order with an explicit stack.
type memIter struct {
	root    *node
	lo, hi  []byte
	reverse bool
	started bool
	done    bool
	stack   []*node
	cur     *node
}

func (i *memIter) inRange(k []byte) bool {
	return (i.lo == nil || bytes.Compare(k, i.lo) >= 0) && (i.hi == nil || bytes.Compare(k, i.hi) < 0)
}

// seek fills the stack with the path to the first node in range.
func (i *memIter) seek() {
	n := i.root
	for n != nil {
		if !i.reverse {
			if i.lo == nil || bytes.Compare(n.key, i.lo) >= 0 {
				i.stack = append(i.stack, n)
				n = n.left
			} else {
				n = n.right
			}
		} else {
			if i.hi == nil || bytes.Compare(n.key, i.hi) < 0 {
				i.stack = append(i.stack, n)
				n = n.right
			} else {
				n = n.left
			}
		}
	}
}

func (i *memIter) next() bool {
	if i.done {
		return false
	}
	if !i.started {
		i.started = true
		i.seek()
	}
	if len(i.stack) == 0 {
		i.done, i.cur = true, nil
		return false
	}
	n := i.stack[len(i.stack)-1]
	i.stack = i.stack[:len(i.stack)-1]
	if !i.inRange(n.key) {
		i.done, i.cur, i.stack = true, nil, nil
		return false
	}
	// Push the next subtree's spine.
	if !i.reverse {
		for c := n.right; c != nil; c = c.left {
			i.stack = append(i.stack, c)
		}
	} else {
		for c := n.left; c != nil; c = c.right {
			i.stack = append(i.stack, c)
		}
	}
	i.cur = n
	return true
}

func (i *memIter) key() []byte   { return bytes.Clone(i.cur.key) }
func (i *memIter) value() []byte { return bytes.Clone(i.cur.value) }
func (i *memIter) err() error    { return nil }
func (i *memIter) close()        { i.done, i.stack, i.cur = true, nil, nil }

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
