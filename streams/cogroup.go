package streams

import "strconv"

// CogroupedStream aggregates several grouped streams with the same key
// into one table, each stream with its own aggregator (Kafka's
// CogroupedKStream). Build it with Cogroup and CogroupWith, finish it with
// Aggregate.
type CogroupedStream[K, A any] struct {
	b     *Builder
	ks    Serde[K]
	parts []cogroupPart
}

type cogroupPart struct {
	name   string // Grouped name, for the repartition topic
	source func(prefix string) string
	add    func(k, v, agg any) any
}

// Cogroup starts a cogrouped aggregation with g and its aggregator.
func Cogroup[K, V, A any](g GroupedStream[K, V], aggregator func(k K, v V, agg A) A) *CogroupedStream[K, A] {
	c := &CogroupedStream[K, A]{b: g.b, ks: g.ks}
	return CogroupWith(c, g, aggregator)
}

// CogroupWith adds another grouped stream with its aggregator.
func CogroupWith[K, V, A any](c *CogroupedStream[K, A], g GroupedStream[K, V], aggregator func(k K, v V, agg A) A) *CogroupedStream[K, A] {
	if g.table || g.win != nil {
		c.b.fail("cogroup: only grouped, unwindowed streams can be cogrouped")
		return c
	}
	if c.ks == nil {
		c.ks = g.ks
	}
	c.parts = append(c.parts, cogroupPart{name: g.name, source: g.source, add: func(k, v, agg any) any {
		return aggregator(as[K](k), as[V](v), as[A](agg))
	}})
	return c
}

// Aggregate builds the cogrouped aggregation: every record of any of the
// streams updates its key's aggregate (starting from init()) with that
// stream's aggregator, all in one store. Options: Named, Materialized,
// WithKeySerde, WithValueSerde (the aggregate's serde, required).
func (c *CogroupedStream[K, A]) Aggregate(init func() A, opts ...Option) Table[K, A] {
	b := c.b
	o := applyOptions(opts)
	storeName := o.storeName
	if storeName == "" {
		storeName = b.newName(prefixCogroup + "STATE-STORE-")
	}
	ks := serdeOr[K](b, o.keySerde, c.ks, "cogroup aggregation")
	as := serdeOr[A](b, o.valueSerde, nil, "cogroup aggregation")
	parents := make([]string, len(c.parts))
	for i, p := range c.parts {
		prefix := storeName
		if p.name != "" {
			prefix = p.name
		}
		parents[i] = p.source(prefix)
	}
	if ks == nil || as == nil {
		return Table[K, A]{b: b}
	}
	b.addStore(&kvBuilder{name: storeName, ks: erase1(ks), vs: erase1(as), opts: dslStoreOptions(o.storeOpts)})
	var aggNames []string
	for i, p := range c.parts {
		gen := b.newName(prefixCogroup)
		name := gen
		if o.name != "" {
			name = o.name + "-cogroup-agg-" + strconv.Itoa(i)
		}
		spec := aggSpec{init: func() any { return init() }, add: p.add}
		b.addProcessor(name, func() anyProcessor { return &aggProc{spec: spec, store: storeName} }, parents[i])
		b.connect(name, storeName)
		aggNames = append(aggNames, name)
	}
	merge := b.newName(prefixCogroupMerge)
	if o.name != "" {
		merge = o.name + "-cogroup-merge"
	}
	b.addProcessor(merge, funcSupplier(func(ctx *nodeContext, r anyRecord) { ctx.forward(r) }), aggNames...)
	return Table[K, A]{b: b, node: merge, ks: ks, vs: as, store: storeName,
		getter: &getterSupplier{stores: []string{storeName}, make: storeGetter(storeName)}}
}
