package streams

import (
	"reflect"

	"github.com/runnel/runnel/streams/serde"
)

// Kafka Streams' aggregation name prefixes.
const (
	prefixAggregate      = "KSTREAM-AGGREGATE-"
	prefixReduce         = "KSTREAM-REDUCE-"
	prefixTableAggregate = "KTABLE-AGGREGATE-"
	prefixTableReduce    = "KTABLE-REDUCE-"
	prefixCogroup        = "COGROUPKSTREAM-AGGREGATE-"
	prefixCogroupMerge   = "COGROUPKSTREAM-MERGE-"
)

// GroupedStream is a stream (or a table's changes) grouped by key, ready
// to aggregate (Kafka's KGroupedStream, KGroupedTable and, when windowed,
// TimeWindowedKStream/SessionWindowedKStream: K is then Windowed[…]).
type GroupedStream[K, V any] struct {
	b    *Builder
	ks   Serde[K]
	vs   Serde[V]
	name string
	// source returns the node aggregations read from, adding a
	// repartition topic named prefix+"-repartition" first if the key may
	// have changed.
	source func(prefix string) string
	table  bool
	win    *windowing
	// tableSource is source for grouped tables, whose repartition sink and
	// source names the aggregation chooses.
	tableSource func(prefix, sinkName, sourceName string) string
}

// GroupByKey groups the stream by its current key. If the key may have
// changed upstream (Map, SelectKey, …), aggregating writes the stream
// through a repartition topic first, named after Named or the store.
// Options: Named, WithKeySerde, WithValueSerde.
func GroupByKey[K, V any](s Stream[K, V], opts ...Option) GroupedStream[K, V] {
	o := applyOptions(opts)
	g := GroupedStream[K, V]{b: s.b, ks: s.ks, vs: s.vs, name: o.name}
	if o.keySerde != nil {
		g.ks = serdeOr[K](s.b, o.keySerde, nil, "grouping")
	}
	if o.valueSerde != nil {
		g.vs = serdeOr[V](s.b, o.valueSerde, nil, "grouping")
	}
	parent, repartition := s.node, s.repartition
	// Like Kafka, every aggregation of a grouping named by the user reads
	// one shared repartition topic, <name>-repartition; unnamed groupings
	// repartition once per aggregation, named after its store.
	shared := ""
	g.source = func(prefix string) string {
		if !repartition {
			return parent
		}
		if g.ks == nil || g.vs == nil {
			s.b.fail("repartition %q: key and value serdes are required; pass WithKeySerde and WithValueSerde to the grouping", prefix)
		}
		if shared != "" {
			s.b.newName(prefixSink)
			s.b.newName(prefixFilter)
			s.b.newName(prefixSource)
			return shared
		}
		src := repartitionThrough[K, V](s.b, parent, prefix, g.ks, g.vs, nil)
		if g.name != "" {
			shared = src
		}
		return src
	}
	return g
}

// GroupBy groups the stream by a new key computed from each record, which
// always repartitions. Options as for GroupByKey; Named also names the
// key-selecting processor.
func GroupBy[K, V, K2 any](s Stream[K, V], fn func(K, V) K2, opts ...Option) GroupedStream[K2, V] {
	o := applyOptions(opts)
	sel := SelectKey(s, fn, Named(o.name))
	return GroupByKey(sel, opts...)
}

// GroupTableBy re-keys a table for aggregation with adders and
// subtractors (Kafka's KTable.groupBy): each change removes the old
// key-value pair from its group and adds the new one. It always
// repartitions. Options: Named, WithKeySerde, WithValueSerde (for the new
// key and value).
func GroupTableBy[K, V, K2, V2 any](t Table[K, V], fn func(K, V) (K2, V2), opts ...Option) GroupedStream[K2, V2] {
	o := applyOptions(opts)
	b := t.b
	// The subtractor needs each row's old value: like Kafka's
	// enableSendingOldValues, materialize the table if it is not.
	if t.materialize != nil {
		t.materialize()
	}
	name := b.nameOr(o.name, prefixTableSelect)
	b.addProcessor(name, funcSupplier(func(ctx *nodeContext, r anyRecord) {
		c := r.Value.(change)
		var nk, nv, ok, ov any
		if c.newV != nil {
			k2, v2 := fn(as[K](r.Key), as[V](c.newV))
			nk, nv = k2, v2
		}
		if c.oldV != nil {
			k2, v2 := fn(as[K](r.Key), as[V](c.oldV))
			ok, ov = k2, v2
		}
		// As Kafka's KTableRepartitionMap: a pair with a null key or value
		// is skipped; an unchanged key sends one change, otherwise the old
		// pair is subtracted first, then the new one added.
		oldOK := !isNull(ok) && !isNull(ov)
		newOK := !isNull(nk) && !isNull(nv)
		if oldOK && newOK && reflect.DeepEqual(nk, ok) {
			ctx.forward(anyRecord{Key: nk, Value: change{newV: nv, oldV: ov}, Timestamp: r.Timestamp, Headers: r.Headers})
			return
		}
		if oldOK {
			ctx.forward(anyRecord{Key: ok, Value: change{oldV: ov}, Timestamp: r.Timestamp, Headers: r.Headers})
		}
		if newOK {
			ctx.forward(anyRecord{Key: nk, Value: change{newV: nv}, Timestamp: r.Timestamp, Headers: r.Headers})
		}
	}), t.node)
	g := GroupedStream[K2, V2]{b: b, name: o.name, table: true,
		ks: serdeOr[K2](b, o.keySerde, nil, "table grouping "+name),
		vs: serdeOr[V2](b, o.valueSerde, nil, "table grouping "+name)}
	shared := ""
	g.tableSource = func(prefix, sinkName, srcName string) string {
		topic := prefix + "-repartition"
		if g.ks == nil || g.vs == nil {
			return srcName
		}
		if shared != "" {
			return shared
		}
		if g.name != "" {
			shared = srcName
		}
		cs := changeSerde{inner: erase1(g.vs)}
		b.addNode(&node{name: sinkName, kind: sinkNode, topic: topic, internal: true, parents: []string{name},
			ser: func(topic string, k, v any) ([]byte, []byte, error) {
				kb, err := g.ks.Serialize(topic, as[K2](k))
				if err != nil {
					return nil, nil, err
				}
				vb, err := cs.Serialize(topic, v.(change))
				return kb, vb, err
			}})
		b.addSource(&node{name: srcName, topics: []string{topic}, internal: true,
			deser: func(topic string, kb, vb []byte) (any, any, error) {
				k, err := g.ks.Deserialize(topic, kb)
				if err != nil {
					return nil, nil, err
				}
				c, err := cs.Deserialize(topic, vb)
				return k, c, err
			}})
		return srcName
	}
	return g
}

// aggSpec is an aggregation, type-erased.
type aggSpec struct {
	init   func() any              // nil: the first value is the aggregate (reduce)
	add    func(k, v, agg any) any // adds v to agg
	sub    func(k, v, agg any) any // removes v from agg (table aggregations)
	merge  func(k, a, b any) any   // merges two session aggregates
	prefix string                  // processor name prefix
}

// Count counts the records (or, for a grouped table, the current rows)
// per key. Options: Named, Materialized, WithStoreOptions.
func Count[K, V any](g GroupedStream[K, V], opts ...Option) Table[K, int64] {
	if o := applyOptions(opts); o.materialized && o.storeName == "" && !g.table {
		// Kafka's count(Materialized) uses up an extra index when the
		// store is not named; keep the names it generates after it.
		g.b.newName(prefixAggregate + "STATE-STORE-")
	}
	spec := aggSpec{
		init:   func() any { return int64(0) },
		add:    func(_, _, agg any) any { return agg.(int64) + 1 },
		sub:    func(_, _, agg any) any { return agg.(int64) - 1 },
		merge:  func(_, a, b any) any { return a.(int64) + b.(int64) },
		prefix: prefixAggregate,
	}
	if g.table {
		spec.prefix = prefixTableAggregate
	}
	return aggregateGrouped[K, V, int64](g, spec, serde.Int64(), opts)
}

// Reduce combines the values per key with reducer, the first value being
// the initial aggregate. Options: Named, Materialized, WithValueSerde.
func Reduce[K, V any](g GroupedStream[K, V], reducer func(agg, v V) V, opts ...Option) Table[K, V] {
	if g.table {
		g.b.fail("Reduce on a grouped table needs a subtractor: use ReduceTable")
	}
	spec := aggSpec{
		add:    func(_, v, agg any) any { return reducer(as[V](agg), as[V](v)) },
		merge:  func(_, a, b any) any { return reducer(as[V](a), as[V](b)) },
		prefix: prefixReduce,
	}
	return aggregateGrouped[K, V, V](g, spec, g.vs, opts)
}

// Aggregate folds the values per key into an aggregate of type A, starting
// from init(). The aggregate's serde is required (WithValueSerde).
// Options: Named, Materialized, WithValueSerde.
func Aggregate[K, V, A any](g GroupedStream[K, V], init func() A, aggregator func(k K, v V, agg A) A, opts ...Option) Table[K, A] {
	if g.table {
		g.b.fail("Aggregate on a grouped table needs a subtractor: use AggregateTable")
	}
	if g.win != nil {
		g.b.fail("Aggregate on a windowed stream: use AggregateWindows or AggregateSessions")
	}
	spec := aggSpec{
		init:   func() any { return init() },
		add:    func(k, v, agg any) any { return aggregator(as[K](k), as[V](v), as[A](agg)) },
		prefix: prefixAggregate,
	}
	return aggregateGrouped[K, V, A](g, spec, nil, opts)
}

// ReduceTable aggregates a grouped table: adder folds in a row's new
// value, subtractor removes its old one.
func ReduceTable[K, V any](g GroupedStream[K, V], adder, subtractor func(agg, v V) V, opts ...Option) Table[K, V] {
	spec := aggSpec{
		add:    func(_, v, agg any) any { return adder(as[V](agg), as[V](v)) },
		sub:    func(_, v, agg any) any { return subtractor(as[V](agg), as[V](v)) },
		prefix: prefixTableReduce,
	}
	return aggregateGrouped[K, V, V](g, spec, g.vs, opts)
}

// AggregateTable aggregates a grouped table with an adder for new values
// and a subtractor for old ones, starting from init().
func AggregateTable[K, V, A any](g GroupedStream[K, V], init func() A, adder, subtractor func(k K, v V, agg A) A, opts ...Option) Table[K, A] {
	spec := aggSpec{
		init:   func() any { return init() },
		add:    func(k, v, agg any) any { return adder(as[K](k), as[V](v), as[A](agg)) },
		sub:    func(k, v, agg any) any { return subtractor(as[K](k), as[V](v), as[A](agg)) },
		prefix: prefixTableAggregate,
	}
	return aggregateGrouped[K, V, A](g, spec, nil, opts)
}

// aggregateGrouped names the store and processor as Kafka does (store
// first, then processor, then repartition nodes), then builds a key-value
// or windowed aggregation.
func aggregateGrouped[K, V, A any](g GroupedStream[K, V], spec aggSpec, defSerde Serde[A], opts []Option) Table[K, A] {
	b := g.b
	o := applyOptions(opts)
	storeName := o.storeName
	if storeName == "" {
		storeName = b.newName(spec.prefix + "STATE-STORE-")
	}
	if g.table {
		// Kafka names a table aggregation's repartition sink and source
		// (<name>-sink and <name>-source when named) before its processor.
		prefix := storeName
		if g.name != "" {
			prefix = g.name
		}
		sinkName, srcName := b.newName(prefixSink), b.newName(prefixSource)
		if o.name != "" {
			sinkName, srcName = o.name+"-sink", o.name+"-source"
		}
		parent := g.tableSource(prefix, sinkName, srcName)
		procName := b.nameOr(o.name, spec.prefix)
		return finishKVAggregate[K, V, A](g, spec, defSerde, o, storeName, procName, parent, true)
	}
	procName := b.nameOr(o.name, spec.prefix)
	prefix := storeName
	if g.name != "" {
		prefix = g.name
	}
	if g.win != nil {
		aggSerde := serdeOr[A](b, o.valueSerde, defSerde, "aggregation "+procName)
		parent := g.source(prefix)
		ks := g.win.build(b, spec, procName, storeName, erase1(aggSerde), parent, o.storeOpts)
		t := Table[K, A]{b: b, node: procName, vs: aggSerde, store: storeName, win: g.win}
		if k, ok := ks.(Serde[K]); ok {
			t.ks = k
		}
		return t
	}
	parent := g.source(prefix)
	return finishKVAggregate[K, V, A](g, spec, defSerde, o, storeName, procName, parent, false)
}

func finishKVAggregate[K, V, A any](g GroupedStream[K, V], spec aggSpec, defSerde Serde[A], o options, storeName, procName, parent string, table bool) Table[K, A] {
	b := g.b
	aggSerde := serdeOr[A](b, o.valueSerde, defSerde, "aggregation "+procName)
	if g.ks == nil {
		b.fail("aggregation %q: no key serde; pass WithKeySerde to the grouping", procName)
	}
	b.addProcessor(procName, func() anyProcessor { return &aggProc{spec: spec, store: storeName, table: table} }, parent)
	b.addStore(&kvBuilder{name: storeName, ks: erase1(g.ks), vs: erase1(aggSerde), opts: dslStoreOptions(o.storeOpts)})
	b.connect(procName, storeName)
	return Table[K, A]{b: b, node: procName, ks: g.ks, vs: aggSerde, store: storeName,
		getter: &getterSupplier{stores: []string{storeName}, make: storeGetter(storeName)}}
}

// aggProc is the key-value aggregation of streams (Kafka's
// KStreamAggregate/KStreamReduce) and tables (KTableAggregate/KTableReduce).
// The result's timestamp is the largest timestamp that contributed.
type aggProc struct {
	ctx    *nodeContext
	spec   aggSpec
	store  string
	table  bool
	st     *rawKV
	cached bool
}

func (p *aggProc) init(ctx *nodeContext) {
	p.ctx = ctx
	p.st = ctx.stateStore(p.store).(*rawKV)
	p.cached = forwardOnFlush(ctx, p.st)
}
func (p *aggProc) close() {}

func (p *aggProc) process(r anyRecord) {
	if isNull(r.Key) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key")
		return
	}
	oldAgg, oldTS, found, err := p.st.get(r.Key)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	newTS := r.Timestamp
	if found {
		newTS = max(newTS, oldTS)
	}
	var newAgg any
	if p.table {
		c := r.Value.(change)
		agg := oldAgg
		if !found && p.spec.init != nil {
			agg = p.spec.init()
		}
		if c.oldV != nil && agg != nil {
			agg = p.spec.sub(r.Key, c.oldV, agg)
		}
		if c.newV != nil {
			if agg == nil {
				agg = c.newV
			} else {
				agg = p.spec.add(r.Key, c.newV, agg)
			}
		}
		newAgg = agg
	} else {
		if isNull(r.Value) {
			p.ctx.task.drop(p.ctx.pn.n.name, "null value")
			return
		}
		switch {
		case found:
			newAgg = p.spec.add(r.Key, r.Value, oldAgg)
		case p.spec.init != nil:
			newAgg = p.spec.add(r.Key, r.Value, p.spec.init())
		default:
			newAgg = r.Value
		}
	}
	if err := p.st.put(r.Key, newAgg, newTS); err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !found {
		oldAgg = nil
	}
	if !p.cached {
		p.ctx.forward(anyRecord{Key: r.Key, Value: change{newV: newAgg, oldV: oldAgg}, Timestamp: newTS, Headers: r.Headers})
	}
}
