package state

import (
	"bytes"
	"slices"
	"sync"
)

// memEngine is the in-memory engine: a B+tree with copy-on-write
// snapshots. Creating an iterator freezes the current tree (it starts a new
// generation); a later write copies the nodes on its path that belong to an
// older generation (a handful of nodes of up to maxEntries entries) and
// changes nodes of the current generation in place, which no iterator can
// see. So an iterator holds an immutable snapshot for free, as leveldb
// iterators do, and a run of writes without iterators allocates little.
// Point reads run under the mutex; iteration needs no lock.
//
// Leaves hold the entries in key order. An internal node's keys[i] is a lower
// bound of every key in kids[i] and above every key in kids[i-1]; keys[0] is
// unused. Deletes do not rebalance: a node that empties is removed from its
// parent, and a root with one child is replaced by that child. Every node on
// the path from the root to a node of the current generation is of the
// current generation too, since copying a node copies its ancestors.
type memEngine struct {
	mu   sync.Mutex
	root *bnode
	gen  uint64 // nodes of this generation may change in place
	n    int64  // number of keys
}

const maxEntries = 32

type bnode struct {
	keys [][]byte
	vals [][]byte // leaves only
	kids []*bnode // internal nodes only
	leaf bool
	gen  uint64
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

// own returns n if it belongs to generation gen, else a copy that does.
// The slices of a node of the current generation are never shared.
func (n *bnode) own(gen uint64) *bnode {
	if n.gen == gen {
		return n
	}
	c := &bnode{leaf: n.leaf, gen: gen, keys: slices.Clone(n.keys)}
	if n.leaf {
		c.vals = slices.Clone(n.vals)
	} else {
		c.kids = slices.Clone(n.kids)
	}
	return c
}

// put sets k to v in the tree under n and returns its new root, split in
// two when it overflows, and whether k is new.
func (n *bnode) put(k, v []byte, gen uint64) (left, right *bnode, added bool) {
	if n.leaf {
		i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare)
		c := n.own(gen)
		if found {
			c.vals[i] = v
			return c, nil, false
		}
		c.keys = slices.Insert(c.keys, i, k)
		c.vals = slices.Insert(c.vals, i, v)
		l, r := c.split(gen)
		return l, r, true
	}
	i := n.child(k)
	cl, cr, added := n.kids[i].put(k, v, gen)
	c := n.own(gen)
	c.kids[i] = cl
	if cr != nil {
		c.kids = slices.Insert(c.kids, i+1, cr)
		c.keys = slices.Insert(c.keys, i+1, cr.keys[0])
	}
	l, r := c.split(gen)
	return l, r, added
}

// split halves a node of generation gen that has more than maxEntries
// entries. The right half's keys[0] is its lower bound, which the parent
// uses as separator.
func (n *bnode) split(gen uint64) (*bnode, *bnode) {
	if len(n.keys) <= maxEntries {
		return n, nil
	}
	m := len(n.keys) / 2
	// n is of generation gen, so its arrays are its own: keep the left
	// half in place, clearing the moved entries so they are not retained.
	r := &bnode{leaf: n.leaf, gen: gen, keys: slices.Clone(n.keys[m:])}
	clear(n.keys[m:])
	n.keys = n.keys[:m]
	if n.leaf {
		r.vals = slices.Clone(n.vals[m:])
		clear(n.vals[m:])
		n.vals = n.vals[:m]
	} else {
		r.kids = slices.Clone(n.kids[m:])
		clear(n.kids[m:])
		n.kids = n.kids[:m]
	}
	return n, r
}

// del removes k from the tree under n and returns its new root (nil if it
// becomes empty) and whether k was there; n itself is returned when k is
// absent.
func (n *bnode) del(k []byte, gen uint64) (*bnode, bool) {
	if n.leaf {
		i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare)
		if !found {
			return n, false
		}
		if len(n.keys) == 1 {
			return nil, true
		}
		c := n.own(gen)
		c.keys = slices.Delete(c.keys, i, i+1)
		c.vals = slices.Delete(c.vals, i, i+1)
		return c, true
	}
	i := n.child(k)
	ch, removed := n.kids[i].del(k, gen)
	if !removed {
		return n, false
	}
	if ch == nil && len(n.kids) == 1 {
		return nil, true
	}
	c := n.own(gen)
	if ch != nil {
		c.kids[i] = ch
		return c, true
	}
	c.kids = slices.Delete(c.kids, i, i+1)
	c.keys = slices.Delete(c.keys, i, i+1)
	return c, true
}

func (e *memEngine) get(k []byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.root
	for !n.leaf {
		n = n.kids[n.child(k)]
	}
	if i, found := slices.BinarySearchFunc(n.keys, k, bytes.Compare); found {
		return bytes.Clone(n.vals[i]), nil
	}
	return nil, nil
}

func (e *memEngine) putLocked(k, v []byte) {
	l, r, added := e.root.put(bytes.Clone(k), bytes.Clone(nonNil(v)), e.gen)
	if r != nil {
		l = &bnode{gen: e.gen, keys: [][]byte{l.keys[0], r.keys[0]}, kids: []*bnode{l, r}}
	}
	e.root = l
	if added {
		e.n++
	}
}

func (e *memEngine) deleteLocked(k []byte) {
	root, removed := e.root.del(k, e.gen)
	if !removed {
		return
	}
	e.n--
	switch {
	case root == nil:
		root = &bnode{leaf: true, gen: e.gen}
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

// iter freezes the current tree for the iterator: later writes start a new
// generation and copy what they change.
func (e *memEngine) iter(lo, hi []byte, reverse bool) rawIter {
	e.mu.Lock()
	root := e.root
	e.gen++
	e.mu.Unlock()
	return &memIter{root: root, lo: lo, hi: hi, reverse: reverse}
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
	e.root, e.n = &bnode{leaf: true, gen: e.gen}, 0
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
