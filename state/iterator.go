package state

// Iterator walks the entries of a store range in the store's order. It holds
// a consistent snapshot taken when it was created: writes made afterwards are
// not seen. The caller must Close every iterator, also after an error; an
// open iterator pins files of a persistent store.
//
//	it, err := store.Range(from, to)
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator[K, V any] interface {
	// Next moves to the next entry and reports whether there is one.
	Next() bool
	// Key returns the current entry's key.
	Key() K
	// Value returns the current entry's value.
	Value() V
	// Err returns the error that stopped the iteration, if any.
	Err() error
	// Close releases the iterator. It is safe to call more than once.
	Close() error
}

// KeyValue is one entry of a store.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// Collect reads it to the end, closes it and returns its entries.
func Collect[K, V any](it Iterator[K, V]) ([]KeyValue[K, V], error) {
	defer it.Close()
	var out []KeyValue[K, V]
	for it.Next() {
		out = append(out, KeyValue[K, V]{it.Key(), it.Value()})
	}
	if err := it.Err(); err != nil {
		return out, err
	}
	return out, it.Close()
}

// funcIter is an Iterator driven by a step function. step returns the next
// entry, ok=false at the end, or an error that ends the iteration.
type funcIter[K, V any] struct {
	step   func() (K, V, bool, error)
	closer func()
	k      K
	v      V
	err    error
	done   bool
}

func newFuncIter[K, V any](step func() (K, V, bool, error), closer func()) *funcIter[K, V] {
	return &funcIter[K, V]{step: step, closer: closer}
}

func (i *funcIter[K, V]) Next() bool {
	if i.done {
		return false
	}
	k, v, ok, err := i.step()
	if err != nil || !ok {
		i.err = err
		var zk K
		var zv V
		i.k, i.v = zk, zv
		i.finish()
		return false
	}
	i.k, i.v = k, v
	return true
}

func (i *funcIter[K, V]) finish() {
	if !i.done {
		i.done = true
		if i.closer != nil {
			i.closer()
		}
	}
}

func (i *funcIter[K, V]) Key() K       { return i.k }
func (i *funcIter[K, V]) Value() V     { return i.v }
func (i *funcIter[K, V]) Err() error   { return i.err }
func (i *funcIter[K, V]) Close() error { i.finish(); return nil }

// emptyIter returns an iterator with no entries.
func emptyIter[K, V any]() Iterator[K, V] {
	return newFuncIter(func() (K, V, bool, error) {
		var k K
		var v V
		return k, v, false, nil
	}, nil)
}

// rawBytesIter adapts an engine iterator.
func rawBytesIter(r rawIter) Iterator[[]byte, []byte] {
	return newFuncIter(func() ([]byte, []byte, bool, error) {
		if r.next() {
			return r.key(), r.value(), true, nil
		}
		return nil, nil, false, r.err()
	}, r.close)
}

// mapIter converts the entries of it with f; f may skip an entry (ok=false)
// or stop the iteration with an error.
func mapIter[K1, V1, K2, V2 any](it Iterator[K1, V1], f func(K1, V1) (K2, V2, bool, error)) Iterator[K2, V2] {
	return newFuncIter(func() (K2, V2, bool, error) {
		for it.Next() {
			k, v, ok, err := f(it.Key(), it.Value())
			if err != nil {
				var zk K2
				var zv V2
				return zk, zv, false, err
			}
			if ok {
				return k, v, true, nil
			}
		}
		var zk K2
		var zv V2
		return zk, zv, false, it.Err()
	}, func() { it.Close() })
}
