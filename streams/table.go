package streams

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kafka Streams' table operator name prefixes.
const (
	prefixTableSource    = "KTABLE-SOURCE-"
	prefixTableToStream  = "KTABLE-TOSTREAM-"
	prefixTableFilter    = "KTABLE-FILTER-"
	prefixTableMapValues = "KTABLE-MAPVALUES-"
	prefixTableSelect    = "KTABLE-SELECT-"
)

// change is what table nodes send each other: the key's new value and its
// previous one, nil meaning none (Kafka's Change).
type change struct {
	newV, oldV any
}

// valueGetter reads a table's current value for a key.
type valueGetter func(k any) (v any, ts int64, ok bool, err error)

// getterSupplier makes a table's value getter inside a task; stores are the
// state stores the reading processor must be connected to.
type getterSupplier struct {
	stores []string
	make   func(ctx *nodeContext) valueGetter
}

// Table is a changelog stream seen as the latest value per key (Kafka's
// KTable). A null value (tombstone) deletes the key.
type Table[K, V any] struct {
	b    *Builder
	node string
	ks   Serde[K]
	vs   Serde[V]
	// store is the name of the store holding the table's values, or "";
	// materialize connects it lazily for tables that are not yet stored.
	store       string
	materialize func()
	getter      *getterSupplier
	// win is set for windowed aggregation results (Suppress needs the
	// window ends and grace period).
	win *windowing
}

// NodeName returns the name of the node producing the table.
func (t Table[K, V]) NodeName() string { return t.node }

// StoreName returns the name of the store materializing the table, or ""
// when it is not materialized.
func (t Table[K, V]) StoreName() string { return t.store }

// TableOf reads topic as a table (Kafka's StreamsBuilder.table). The table
// is kept in a key-value store when it is named with Materialized or when
// a later operation (a join, a table aggregation) needs its values.
// Options: Named (names the table's processor, and its source
// <name>-source), Materialized, WithTimestampExtractor.
func TableOf[K, V any](b *Builder, topic string, keySerde Serde[K], valueSerde Serde[V], opts ...Option) Table[K, V] {
	o := applyOptions(opts)
	storeName := o.storeName
	if storeName == "" {
		storeName = b.newName(topic + "-STATE-STORE-")
	}
	srcName, procName := tableSourceNames(b, o.name)
	if keySerde == nil || valueSerde == nil {
		b.fail("table source %q: key and value serdes are required", srcName)
		return Table[K, V]{b: b}
	}
	b.addSource(&node{name: srcName, topics: []string{topic}, deser: deserializer(keySerde, valueSerde), tsx: o.tsx})
	return newStoredTable(b, srcName, procName, storeName, o.storeName != "", keySerde, valueSerde, o.storeOpts)
}

// tableSourceNames names a table's source and table-source processor as
// Kafka does: generated names, or <name>-source and <name> (using up the
// same indexes either way).
func tableSourceNames(b *Builder, name string) (source, processor string) {
	source, processor = b.newName(prefixSource), b.newName(prefixTableSource)
	if name == "" {
		return source, processor
	}
	return name + "-source", name
}

// newStoredTable adds a processor turning a stream of upserts into table
// changes, kept in storeName when materialized (now or later).
func newStoredTable[K, V any](b *Builder, parent, procName, storeName string, now bool, ks Serde[K], vs Serde[V], storeOpts []StoreOption) Table[K, V] {
	b.addProcessor(procName, func() anyProcessor { return &tableSourceProc{store: storeName} }, parent)
	t := Table[K, V]{b: b, node: procName, ks: ks, vs: vs}
	materialized := false
	t.materialize = func() {
		if materialized {
			return
		}
		materialized = true
		if ks == nil || vs == nil {
			b.fail("table %q: serdes are required to materialize %q", procName, storeName)
			return
		}
		b.addStore(&kvBuilder{name: storeName, ks: erase1(ks), vs: erase1(vs), opts: dslStoreOptions(storeOpts)})
		b.connect(procName, storeName)
	}
	t.getter = &getterSupplier{stores: []string{storeName}, make: storeGetter(storeName)}
	if now {
		t.materialize()
		t.store = storeName
	}
	return t
}

// storeGetter reads values from a key-value store.
func storeGetter(name string) func(ctx *nodeContext) valueGetter {
	return func(ctx *nodeContext) valueGetter {
		st, _ := ctx.stateStore(name).(*rawKV)
		return func(k any) (any, int64, bool, error) {
			if st == nil {
				return nil, 0, false, fmt.Errorf("%w %q is not connected to %q", ErrStore, name, ctx.pn.n.name)
			}
			return st.get(k)
		}
	}
}

// tableSourceProc keeps the latest value per key and forwards changes.
type tableSourceProc struct {
	ctx    *nodeContext
	store  string
	st     *rawKV
	cached bool
}

func (p *tableSourceProc) init(ctx *nodeContext) {
	p.ctx = ctx
	p.st, _ = ctx.stateStore(p.store).(*rawKV)
	p.cached = forwardOnFlush(ctx, p.st)
}
func (p *tableSourceProc) close() {}
func (p *tableSourceProc) process(r anyRecord) {
	if isNull(r.Key) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key")
		return
	}
	var old any
	if p.st != nil {
		v, _, ok, err := p.st.get(r.Key)
		if err != nil {
			p.ctx.task.fail(err)
			return
		}
		if ok {
			old = v
		}
		if err := p.st.put(r.Key, r.Value, r.Timestamp); err != nil {
			p.ctx.task.fail(err)
			return
		}
	}
	newV := r.Value
	if isNull(newV) {
		newV = nil
	}
	if !p.cached {
		p.ctx.forward(anyRecord{Key: r.Key, Value: change{newV: newV, oldV: old}, Timestamp: r.Timestamp, Headers: r.Headers})
	}
}

// ToTable turns the stream into a table: each record an upsert, a null
// value a delete. Options: Named, Materialized.
func (s Stream[K, V]) ToTable(opts ...Option) Table[K, V] {
	o := applyOptions(opts)
	name := s.b.nameOr(o.name, prefixToTable)
	storeName := o.storeName
	if storeName == "" {
		storeName = s.b.newName(prefixToTable + "STATE-STORE-")
	}
	parent := s.node
	if o.storeName != "" && (s.ks == nil || s.vs == nil) {
		s.b.fail("ToTable %q: serdes are required to materialize %q", name, storeName)
	}
	return newStoredTable(s.b, parent, name, storeName, o.storeName != "", s.ks, s.vs, o.storeOpts)
}

// needGetter materializes the table if needed and returns its getter.
func (t Table[K, V]) needGetter() *getterSupplier {
	if t.materialize != nil {
		t.materialize()
	}
	return t.getter
}

// ToStream turns the table's changes into a stream of the new values
// (null for deletes). Options: Named.
func (t Table[K, V]) ToStream(opts ...Option) Stream[K, V] {
	o := applyOptions(opts)
	name := t.b.nameOr(o.name, prefixTableToStream)
	t.b.addProcessor(name, funcSupplier(func(ctx *nodeContext, r anyRecord) {
		ctx.forward(anyRecord{Key: r.Key, Value: r.Value.(change).newV, Timestamp: r.Timestamp, Headers: r.Headers})
	}), t.node)
	return Stream[K, V]{b: t.b, node: name, ks: t.ks, vs: t.vs}
}

// Filter keeps the keys whose value matches pred; a key whose new value
// fails it is deleted downstream. Options: Named, Materialized.
func (t Table[K, V]) Filter(pred func(K, V) bool, opts ...Option) Table[K, V] {
	return t.filter(pred, false, opts)
}

// FilterNot deletes the keys whose value matches pred.
func (t Table[K, V]) FilterNot(pred func(K, V) bool, opts ...Option) Table[K, V] {
	return t.filter(pred, true, opts)
}

func (t Table[K, V]) filter(pred func(K, V) bool, not bool, opts []Option) Table[K, V] {
	keep := func(k, v any) any {
		if v == nil || pred(as[K](k), as[V](v)) == not {
			return nil
		}
		return v
	}
	return deriveTable[K, V, V](t, prefixTableFilter, keep, t.vs, opts)
}

// MapTableValues maps every value of the table (Kafka's
// KTable.mapValues); deletes stay deletes. Options: Named, Materialized,
// WithValueSerde.
func MapTableValues[K, V, V2 any](t Table[K, V], fn func(K, V) V2, opts ...Option) Table[K, V2] {
	mapper := func(k, v any) any {
		if v == nil {
			return nil
		}
		return fn(as[K](k), as[V](v))
	}
	return deriveTable[K, V, V2](t, prefixTableMapValues, mapper, nil, opts)
}

// deriveTable adds a stateless table processor applying f to new and old
// values, optionally materialized in its own store.
func deriveTable[K, V, V2 any](t Table[K, V], prefix string, f func(k, v any) any, vs Serde[V2], opts []Option) Table[K, V2] {
	o := applyOptions(opts)
	name := t.b.nameOr(o.name, prefix)
	out := Table[K, V2]{b: t.b, node: name, ks: t.ks, vs: vs}
	if o.valueSerde != nil {
		out.vs = serdeOr[V2](t.b, o.valueSerde, nil, "table "+name)
	}
	storeName := o.storeName
	t.b.addProcessor(name, func() anyProcessor { return &deriveProc{f: f, store: storeName} }, t.node)
	if storeName != "" {
		if out.vs == nil || t.ks == nil {
			t.b.fail("table %q: serdes are required to materialize %q", name, storeName)
			return out
		}
		t.b.addStore(&kvBuilder{name: storeName, ks: erase1(t.ks), vs: erase1(out.vs), opts: dslStoreOptions(o.storeOpts)})
		t.b.connect(name, storeName)
		out.store = storeName
		out.getter = &getterSupplier{stores: []string{storeName}, make: storeGetter(storeName)}
		return out
	}
	out.materialize = t.materialize
	if pg := t.getter; pg != nil {
		out.getter = &getterSupplier{stores: pg.stores, make: func(ctx *nodeContext) valueGetter {
			parent := pg.make(ctx)
			return func(k any) (any, int64, bool, error) {
				v, ts, ok, err := parent(k)
				if err != nil || !ok {
					return nil, 0, false, err
				}
				nv := f(k, v)
				return nv, ts, nv != nil, nil
			}
		}}
	}
	return out
}

// deriveProc applies a value function to table changes.
type deriveProc struct {
	ctx    *nodeContext
	f      func(k, v any) any
	store  string
	st     *rawKV
	cached bool
}

func (p *deriveProc) init(ctx *nodeContext) {
	p.ctx = ctx
	if p.store != "" {
		p.st, _ = ctx.stateStore(p.store).(*rawKV)
		p.cached = forwardOnFlush(ctx, p.st)
	}
}
func (p *deriveProc) close() {}
func (p *deriveProc) process(r anyRecord) {
	c := r.Value.(change)
	nc := change{newV: p.f(r.Key, c.newV), oldV: p.f(r.Key, c.oldV)}
	if p.st != nil {
		if err := p.st.put(r.Key, nc.newV, r.Timestamp); err != nil {
			p.ctx.task.fail(err)
			return
		}
	}
	if !p.cached {
		p.ctx.forward(anyRecord{Key: r.Key, Value: nc, Timestamp: r.Timestamp, Headers: r.Headers})
	}
}

// changeSerde is Kafka's ChangedSerializer/ChangedDeserializer: how a
// table change crosses a repartition topic (table GroupBy). The last byte
// is an encoding flag:
//
//	0: old ‖ 0                          (only the old value)
//	1: new ‖ 1                          (only the new value)
//	2: varint(len(new)) ‖ new ‖ old ‖ 2 (both; zig-zag varint, KIP-904)
//	3, 4, 5: as 0, 1, 2 with an isLatest byte (0 or 1) before the flag
//
// It writes 0, 1 and 2, as Kafka 3.9 does, and reads all six. isLatest
// only matters to versioned tables, which Runnel does not have, so it is
// checked and dropped.
type changeSerde struct{ inner erasedSerde }

var errChange = errors.New("streams: malformed change record")

func (s changeSerde) Serialize(topic string, c change) ([]byte, error) {
	ser := func(v any) ([]byte, error) {
		if v == nil {
			return nil, nil
		}
		return s.inner.ser(topic, v)
	}
	nb, err := ser(c.newV)
	if err != nil {
		return nil, err
	}
	ob, err := ser(c.oldV)
	if err != nil {
		return nil, err
	}
	switch {
	case c.newV != nil && c.oldV != nil:
		out := binary.AppendVarint(make([]byte, 0, binary.MaxVarintLen32+len(nb)+len(ob)+1), int64(len(nb)))
		out = append(append(out, nb...), ob...)
		return append(out, 2), nil
	case c.newV != nil:
		return append(append(make([]byte, 0, len(nb)+1), nb...), 1), nil
	case c.oldV != nil:
		return append(append(make([]byte, 0, len(ob)+1), ob...), 0), nil
	}
	return nil, fmt.Errorf("%w: both the new and the old value are null", errChange)
}

func (s changeSerde) Deserialize(topic string, data []byte) (change, error) {
	var c change
	if len(data) < 1 {
		return c, fmt.Errorf("%w: empty", errChange)
	}
	flag, body := data[len(data)-1], data[:len(data)-1]
	if flag >= 3 && flag <= 5 {
		if len(body) < 1 || body[len(body)-1] > 1 {
			return c, fmt.Errorf("%w: bad isLatest byte", errChange)
		}
		flag, body = flag-3, body[:len(body)-1]
	}
	var nb, ob []byte
	switch flag {
	case 0:
		ob = body
	case 1:
		nb = body
	case 2:
		n, w := binary.Varint(body)
		if w <= 0 || n < 0 || n > int64(len(body)-w) || n > 1<<31-1 {
			return c, fmt.Errorf("%w: bad new-value length", errChange)
		}
		nb, ob = body[w:w+int(n)], body[w+int(n):]
	default:
		return c, fmt.Errorf("%w: unknown encoding flag %d", errChange, flag)
	}
	var err error
	if nb != nil {
		if c.newV, err = s.inner.deser(topic, nb); err != nil {
			return c, err
		}
	}
	if ob != nil {
		if c.oldV, err = s.inner.deser(topic, ob); err != nil {
			return c, err
		}
	}
	return c, nil
}
