package state

import (
	"bytes"
	"slices"
	"sync"
)

// memEngine is the in-memory engine: a copy-on-write B+tree. A write copies
// the nodes on the path to the changed leaf (a handful of nodes of up to
// maxEntries entries) and swaps the root under the mutex, so an iterator
// holds an immutable snapshot for free, as leveldb iterators do, and
// concurrent readers never block on writers.
//
// Leaves hold the entries in key order. An internal node's keys[i] is a lower
// bound of every key in kids[i] and above every key in kids[i-1]; keys[0] is
// unused. Deletes do not rebalance: a node that empties is removed from its
// parent, and a root with one child is replaced by that child.
type memEngine struct {
	mu   sync.Mutex
	root *bnode
	n    int64 // number of keys
}

const maxEntries = 32

type bnode struct {
	keys [][]byte
	vals [][]byte // leaves only
	kids []*bnode // internal nodes only
	leaf bool
}

func newMem() *memEngine { return &memEngine{root: &bnode{leaf: true}} }

// child returns the index of the child of internal node n that may hold k.
func (n *bnode) child(k []byte) int {
	// The largest i >= 1 with keys[i] <= k, else 0.
	i, found := slices.BinarySearchFunc(n.keys[1:], k, bytes.Compare)
	if found {
		return i + 1
	}
	return i
}

// put returns n with k set to v, split in two when it overflows, and
// whether k is new.
func (n *bnode) put(k, v []byte) (left, right *bnode, added bool) {
	if n.leaf {
		i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare)
		c := &bnode{leaf: true}
		if found {
			c.keys = n.keys // unchanged, shared
			c.vals = slices.Clone(n.vals)
			c.vals[i] = v
			return c, nil, false
		}
		c.keys = slices.Insert(slices.Clip(n.keys), i, k)
		c.vals = slices.Insert(slices.Clip(n.vals), i, v)
		l, r := c.split()
		return l, r, true
	}
	i := n.child(k)
	cl, cr, added := n.kids[i].put(k, v)
	c := &bnode{keys: slices.Clone(n.keys), kids: slices.Clone(n.kids)}
	c.kids[i] = cl
	if cr != nil {
		c.kids = slices.Insert(c.kids, i+1, cr)
		c.keys = slices.Insert(c.keys, i+1, cr.keys[0])
	}
	l, r := c.split()
	return l, r, added
}

// split halves a node that has more than maxEntries entries. The right
// half's keys[0] is its lower bound, which the parent uses as separator.
func (n *bnode) split() (*bnode, *bnode) {
	if len(n.keys) <= maxEntries {
		return n, nil
	}
	m := len(n.keys) / 2
	l := &bnode{leaf: n.leaf, keys: slices.Clone(n.keys[:m])}
	r := &bnode{leaf: n.leaf, keys: slices.Clone(n.keys[m:])}
	if n.leaf {
		l.vals, r.vals = slices.Clone(n.vals[:m]), slices.Clone(n.vals[m:])
	} else {
		l.kids, r.kids = slices.Clone(n.kids[:m]), slices.Clone(n.kids[m:])
	}
	return l, r
}

// del returns n without k (nil if n becomes empty) and whether k was there;
// n itself is returned when k is absent.
func (n *bnode) del(k []byte) (*bnode, bool) {
	if n.leaf {
		i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare)
		if !found {
			return n, false
		}
		if len(n.keys) == 1 {
			return nil, true
		}
		return &bnode{leaf: true, keys: slices.Delete(slices.Clone(n.keys), i, i+1), vals: slices.Delete(slices.Clone(n.vals), i, i+1)}, true
	}
	i := n.child(k)
	ch, removed := n.kids[i].del(k)
	if !removed {
		return n, false
	}
	c := &bnode{keys: slices.Clone(n.keys), kids: slices.Clone(n.kids)}
	if ch != nil {
		c.kids[i] = ch
		return c, true
	}
	if len(c.kids) == 1 {
		return nil, true
	}
	c.kids = slices.Delete(c.kids, i, i+1)
	c.keys = slices.Delete(c.keys, i, i+1)
	return c, true
}

func (e *memEngine) snapshot() *bnode {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.root
}

func (e *memEngine) get(k []byte) ([]byte, error) {
	n := e.snapshot()
	for !n.leaf {
		n = n.kids[n.child(k)]
	}
	if i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare); found {
		return bytes.Clone(n.vals[i]), nil
	}
	return nil, nil
}

func (e *memEngine) putLocked(k, v []byte) {
	l, r, added := e.root.put(bytes.Clone(k), bytes.Clone(nonNil(v)))
	if r != nil {
		l = &bnode{keys: [][]byte{l.keys[0], r.keys[0]}, kids: []*bnode{l, r}}
	}
	e.root = l
	if added {
		e.n++
	}
}

func (e *memEngine) deleteLocked(k []byte) {
	root, removed := e.root.del(k)
	if !removed {
		return
	}
	e.n--
	switch {
	case root == nil:
		root = &bnode{leaf: true}
	default:
		for !root.leaf && len(root.kids) == 1 {
			root = root.kids[0]
		}
	}
	e.root = root
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
	e.deleteLocked(k)
	return nil
}

func (e *memEngine) write(ops []op) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range ops {
		if o.value == nil {
			e.deleteLocked(o.key)
		} else {
			e.putLocked(o.key, o.value)
		}
	}
	return nil
}

func (e *memEngine) iter(lo, hi []byte, reverse bool) rawIter {
	return &memIter{root: e.snapshot(), lo: lo, hi: hi, reverse: reverse}
}

func (e *memEngine) count() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n, nil
}

func (e *memEngine) flush() error { return nil }
func (e *memEngine) close() error { return nil }
func (e *memEngine) destroy() error {
	e.mu.Lock()
	e.root, e.n = &bnode{leaf: true}, 0
	e.mu.Unlock()
	return nil
}

// memIter walks a snapshot. stack holds the path from the root to the
// current leaf, with the index taken at each level.
type memIter struct {
	root    *bnode
	lo, hi  []byte
	reverse bool
	started bool
	done    bool
	stack   []frame
	k, v    []byte
}

type frame struct {
	n *bnode
	i int
}

// seek positions the stack at the first entry in order: the first key >=
// lo going forward, the last key < hi going backward. The leaf index may be
// out of range, which advance then fixes.
func (it *memIter) seek() {
	n := it.root
	for {
		var i int
		switch {
		case !it.reverse && it.lo == nil:
			i = 0
		case !it.reverse && n.leaf:
			i, _ = slices.BinarySearchFunc(n.keys, it.lo, bytes.Compare)
		case !it.reverse:
			i = n.child(it.lo)
		case it.hi == nil && n.leaf:
			i = len(n.keys) - 1
		case it.hi == nil:
			i = len(n.kids) - 1
		case n.leaf:
			j, _ := slices.BinarySearchFunc(n.keys, it.hi, bytes.Compare)
			i = j - 1
		default:
			// The last child whose lower bound is below hi: one more
			// than the number of separators below hi, minus one.
			i, _ = slices.BinarySearchFunc(n.keys[1:], it.hi, bytes.Compare)
		}
		it.stack = append(it.stack, frame{n, i})
		if n.leaf {
			return
		}
		n = n.kids[i]
	}
}

// settle moves the stack to the nearest valid leaf position in the
// iteration direction, starting at the current one.
func (it *memIter) settle() bool {
	for len(it.stack) > 0 {
		top := &it.stack[len(it.stack)-1]
		limit := len(top.n.keys)
		if !top.n.leaf {
			limit = len(top.n.kids)
		}
		if top.i < 0 || top.i >= limit {
			it.stack = it.stack[:len(it.stack)-1]
			if len(it.stack) > 0 {
				p := &it.stack[len(it.stack)-1]
				if it.reverse {
					p.i--
				} else {
					p.i++
				}
			}
			continue
		}
		if top.n.leaf {
			return true
		}
		// Descend to the edge of the child.
		c := top.n.kids[top.i]
		i := 0
		if it.reverse {
			if c.leaf {
				i = len(c.keys) - 1
			} else {
				i = len(c.kids) - 1
			}
		}
		it.stack = append(it.stack, frame{c, i})
	}
	return false
}

func (it *memIter) next() bool {
	if it.done {
		return false
	}
	if !it.started {
		it.started = true
		it.seek()
	} else {
		top := &it.stack[len(it.stack)-1]
		if it.reverse {
			top.i--
		} else {
			top.i++
		}
	}
	if !it.settle() {
		it.finish()
		return false
	}
	top := it.stack[len(it.stack)-1]
	k := top.n.keys[top.i]
	if (it.reverse && it.lo != nil && bytes.Compare(k, it.lo) < 0) || (!it.reverse && it.hi != nil && bytes.Compare(k, it.hi) >= 0) {
		it.finish()
		return false
	}
	it.k, it.v = k, top.n.vals[top.i]
	return true
}

func (it *memIter) finish() { it.done, it.stack, it.k, it.v = true, nil, nil, nil }

func (it *memIter) key() []byte   { return bytes.Clone(it.k) }
func (it *memIter) value() []byte { return bytes.Clone(it.v) }
func (it *memIter) err() error    { return nil }
func (it *memIter) close()        { it.finish() }
