package streams

import "strings"

// Kafka Streams' operator name prefixes.
const (
	prefixSource        = "KSTREAM-SOURCE-"
	prefixSink          = "KSTREAM-SINK-"
	prefixFilter        = "KSTREAM-FILTER-"
	prefixMap           = "KSTREAM-MAP-"
	prefixMapValues     = "KSTREAM-MAPVALUES-"
	prefixFlatMap       = "KSTREAM-FLATMAP-"
	prefixFlatMapValues = "KSTREAM-FLATMAPVALUES-"
	prefixKeySelect     = "KSTREAM-KEY-SELECT-"
	prefixPeek          = "KSTREAM-PEEK-"
	prefixForeach       = "KSTREAM-FOREACH-"
	prefixMerge         = "KSTREAM-MERGE-"
	prefixBranch        = "KSTREAM-BRANCH-"
	prefixProcessor     = "KSTREAM-PROCESSOR-"
	prefixRepartition   = "KSTREAM-REPARTITION-"
	prefixToTable       = "KSTREAM-TOTABLE-"
)

// Stream is an unbounded sequence of records with keys of type K and
// values of type V (Kafka's KStream). It is a handle on a node of the
// Builder's graph; operations add nodes below it.
type Stream[K, V any] struct {
	b    *Builder
	node string
	ks   Serde[K]
	vs   Serde[V]
	// repartition marks a stream whose key may have changed: grouping or
	// joining it first writes it through a repartition topic.
	repartition bool
}

// Builder returns the Builder the stream belongs to.
func (s Stream[K, V]) Builder() *Builder { return s.b }

// NodeName returns the name of the node producing the stream.
func (s Stream[K, V]) NodeName() string { return s.node }

// StreamOf reads topic as a stream (Kafka's StreamsBuilder.stream). Options:
// Named, WithTimestampExtractor.
func StreamOf[K, V any](b *Builder, topic string, keySerde Serde[K], valueSerde Serde[V], opts ...Option) Stream[K, V] {
	return StreamOfTopics(b, []string{topic}, keySerde, valueSerde, opts...)
}

// StreamOfTopics reads several topics as one stream.
func StreamOfTopics[K, V any](b *Builder, topics []string, keySerde Serde[K], valueSerde Serde[V], opts ...Option) Stream[K, V] {
	o := applyOptions(opts)
	name := b.nameOr(o.name, prefixSource)
	if keySerde == nil || valueSerde == nil {
		b.fail("source %q: key and value serdes are required", name)
	}
	b.addSource(&node{name: name, topics: topics, deser: deserializer(keySerde, valueSerde), tsx: o.tsx})
	return Stream[K, V]{b: b, node: name, ks: keySerde, vs: valueSerde}
}

// stateless adds a processor running f under s.
func (s Stream[K, V]) stateless(name string, f func(ctx *nodeContext, r anyRecord)) string {
	s.b.addProcessor(name, funcSupplier(f), s.node)
	return name
}

// Filter keeps the records for which pred is true.
func (s Stream[K, V]) Filter(pred func(K, V) bool, opts ...Option) Stream[K, V] {
	return s.filter(pred, false, opts)
}

// FilterNot drops the records for which pred is true.
func (s Stream[K, V]) FilterNot(pred func(K, V) bool, opts ...Option) Stream[K, V] {
	return s.filter(pred, true, opts)
}

func (s Stream[K, V]) filter(pred func(K, V) bool, not bool, opts []Option) Stream[K, V] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixFilter), func(ctx *nodeContext, r anyRecord) {
		if pred(as[K](r.Key), as[V](r.Value)) != not {
			ctx.forward(r)
		}
	})
	return Stream[K, V]{b: s.b, node: name, ks: s.ks, vs: s.vs, repartition: s.repartition}
}

// Peek calls fn for every record and passes it on unchanged.
func (s Stream[K, V]) Peek(fn func(K, V), opts ...Option) Stream[K, V] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixPeek), func(ctx *nodeContext, r anyRecord) {
		fn(as[K](r.Key), as[V](r.Value))
		ctx.forward(r)
	})
	return Stream[K, V]{b: s.b, node: name, ks: s.ks, vs: s.vs, repartition: s.repartition}
}

// Foreach calls fn for every record; it ends the stream.
func (s Stream[K, V]) Foreach(fn func(K, V), opts ...Option) {
	o := applyOptions(opts)
	s.stateless(s.b.nameOr(o.name, prefixForeach), func(ctx *nodeContext, r anyRecord) {
		fn(as[K](r.Key), as[V](r.Value))
	})
}

// Merge returns a stream of the records of s and other, interleaved in
// processing order.
func (s Stream[K, V]) Merge(other Stream[K, V], opts ...Option) Stream[K, V] {
	o := applyOptions(opts)
	name := s.b.nameOr(o.name, prefixMerge)
	s.b.addProcessor(name, funcSupplier(func(ctx *nodeContext, r anyRecord) { ctx.forward(r) }), s.node, other.node)
	ks, vs := s.ks, s.vs
	if ks == nil {
		ks = other.ks
	}
	if vs == nil {
		vs = other.vs
	}
	return Stream[K, V]{b: s.b, node: name, ks: ks, vs: vs, repartition: s.repartition || other.repartition}
}

// To writes the stream to topic with the given serdes. Options: Named,
// WithPartitioner.
func (s Stream[K, V]) To(topic string, keySerde Serde[K], valueSerde Serde[V], opts ...Option) {
	s.to(topic, nil, keySerde, valueSerde, opts)
}

// ToExtractor writes each record to the topic extractor chooses.
func (s Stream[K, V]) ToExtractor(extractor TopicNameExtractor[K, V], keySerde Serde[K], valueSerde Serde[V], opts ...Option) {
	s.to("", extractor, keySerde, valueSerde, opts)
}

func (s Stream[K, V]) to(topic string, extractor TopicNameExtractor[K, V], ks Serde[K], vs Serde[V], opts []Option) {
	o := applyOptions(opts)
	name := s.b.nameOr(o.name, prefixSink)
	if ks == nil {
		ks = s.ks
	}
	if vs == nil {
		vs = s.vs
	}
	if ks == nil || vs == nil {
		s.b.fail("sink %q: key and value serdes are required", name)
		return
	}
	n := &node{name: name, kind: sinkNode, topic: topic, ser: serializer(ks, vs), parents: []string{s.node}}
	if extractor != nil {
		n.extractor = func(r anyRecord, rc RecordContext) string { return extractor(as[K](r.Key), as[V](r.Value), rc) }
	}
	if p := partitionerOf[K, V](s.b, o.partitioner, "sink "+name); p != nil {
		n.partitioner = func(topic string, r anyRecord, num int32) (int32, bool) {
			return p(topic, as[K](r.Key), as[V](r.Value), num)
		}
	}
	s.b.addNode(n)
}

// Map turns every record into a new key and value; later grouping or
// joining repartitions.
func Map[K, V, K2, V2 any](s Stream[K, V], fn func(K, V) (K2, V2), opts ...Option) Stream[K2, V2] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixMap), func(ctx *nodeContext, r anyRecord) {
		k, v := fn(as[K](r.Key), as[V](r.Value))
		ctx.forward(anyRecord{Key: k, Value: v, Timestamp: r.Timestamp, Headers: r.Headers})
	})
	return Stream[K2, V2]{b: s.b, node: name, repartition: true}
}

// MapValues turns every value into a new one, keeping the key (so no
// repartition follows).
func MapValues[K, V, V2 any](s Stream[K, V], fn func(K, V) V2, opts ...Option) Stream[K, V2] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixMapValues), func(ctx *nodeContext, r anyRecord) {
		ctx.forward(anyRecord{Key: r.Key, Value: fn(as[K](r.Key), as[V](r.Value)), Timestamp: r.Timestamp, Headers: r.Headers})
	})
	return Stream[K, V2]{b: s.b, node: name, ks: s.ks, repartition: s.repartition}
}

// FlatMap turns every record into zero or more records.
func FlatMap[K, V, K2, V2 any](s Stream[K, V], fn func(K, V) []KeyValue[K2, V2], opts ...Option) Stream[K2, V2] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixFlatMap), func(ctx *nodeContext, r anyRecord) {
		for _, kv := range fn(as[K](r.Key), as[V](r.Value)) {
			ctx.forward(anyRecord{Key: kv.Key, Value: kv.Value, Timestamp: r.Timestamp, Headers: r.Headers})
		}
	})
	return Stream[K2, V2]{b: s.b, node: name, repartition: true}
}

// FlatMapValues turns every value into zero or more values with the same
// key.
func FlatMapValues[K, V, V2 any](s Stream[K, V], fn func(K, V) []V2, opts ...Option) Stream[K, V2] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixFlatMapValues), func(ctx *nodeContext, r anyRecord) {
		for _, v := range fn(as[K](r.Key), as[V](r.Value)) {
			ctx.forward(anyRecord{Key: r.Key, Value: v, Timestamp: r.Timestamp, Headers: r.Headers})
		}
	})
	return Stream[K, V2]{b: s.b, node: name, ks: s.ks, repartition: s.repartition}
}

// SelectKey gives every record a new key computed from it.
func SelectKey[K, V, K2 any](s Stream[K, V], fn func(K, V) K2, opts ...Option) Stream[K2, V] {
	o := applyOptions(opts)
	name := s.stateless(s.b.nameOr(o.name, prefixKeySelect), func(ctx *nodeContext, r anyRecord) {
		ctx.forward(anyRecord{Key: fn(as[K](r.Key), as[V](r.Value)), Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers})
	})
	return Stream[K2, V]{b: s.b, node: name, vs: s.vs, repartition: true}
}

// Process attaches a Processor API processor (Kafka's KStream.process).
// Options: Named, WithStores.
func Process[KIn, VIn, KOut, VOut any](s Stream[KIn, VIn], supplier ProcessorSupplier[KIn, VIn, KOut, VOut], opts ...Option) Stream[KOut, VOut] {
	o := applyOptions(opts)
	name := s.b.givenOr(o.name, prefixProcessor)
	s.b.addProcessor(name, adaptSupplier(supplier), s.node)
	s.b.connect(name, o.stores...)
	return Stream[KOut, VOut]{b: s.b, node: name, repartition: true}
}

// Repartition writes the stream through a repartition topic and reads it
// back, so records with equal keys meet in one task. The topic is
// <application.id>-<name>-repartition, name coming from Named or
// generated. Options: Named, WithKeySerde, WithValueSerde, WithPartitioner,
// WithNumPartitions.
func (s Stream[K, V]) Repartition(opts ...Option) Stream[K, V] {
	o := applyOptions(opts)
	name := s.b.givenOr(o.name, prefixRepartition)
	ks := serdeOr(s.b, o.keySerde, s.ks, "repartition "+name)
	vs := serdeOr(s.b, o.valueSerde, s.vs, "repartition "+name)
	src := repartitionThrough(s.b, s.node, name, ks, vs, partitionerOf[K, V](s.b, o.partitioner, "repartition "+name))
	if o.partitions > 0 {
		if n, ok := s.b.byName[src]; ok {
			n.partitions = o.partitions
		}
	}
	return Stream[K, V]{b: s.b, node: src, ks: ks, vs: vs}
}

// repartitionThrough adds the filter, sink and source of a repartition
// topic named prefix+"-repartition" below parent and returns the source's
// name. Node names follow Kafka: generated ones when prefix is itself a
// generated name, else "<topic>-filter", "<topic>-sink", "<topic>-source".
func repartitionThrough[K, V any](b *Builder, parent, prefix string, ks Serde[K], vs Serde[V], p StreamPartitioner[K, V]) string {
	topic := prefix
	if !strings.HasSuffix(topic, "-repartition") {
		topic += "-repartition"
	}
	sinkName, filterName, sourceName := b.newName(prefixSink), b.newName(prefixFilter), b.newName(prefixSource)
	if !isGeneratedName(prefix) {
		sinkName, filterName, sourceName = topic+"-sink", topic+"-filter", topic+"-source"
	}
	if ks == nil || vs == nil {
		return sourceName
	}
	b.addProcessor(filterName, funcSupplier(func(ctx *nodeContext, r anyRecord) { ctx.forward(r) }), parent)
	sink := &node{name: sinkName, kind: sinkNode, topic: topic, internal: true, ser: serializer(ks, vs), parents: []string{filterName}}
	if p != nil {
		sink.partitioner = func(topic string, r anyRecord, num int32) (int32, bool) {
			return p(topic, as[K](r.Key), as[V](r.Value), num)
		}
	}
	b.addNode(sink)
	b.addSource(&node{name: sourceName, topics: []string{topic}, internal: true, deser: deserializer(ks, vs)})
	return sourceName
}

// isGeneratedName reports whether name looks like a generated operator
// name (KSTREAM…-0000000000), as Kafka checks with "KSTREAM.*-[0-9]{10}".
func isGeneratedName(name string) bool {
	if !strings.HasPrefix(name, "KSTREAM") || len(name) < 11 {
		return false
	}
	tail := name[len(name)-11:]
	if tail[0] != '-' {
		return false
	}
	for _, c := range tail[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// BranchedStream collects the branches of a Split (Kafka's
// BranchedKStream): each record goes to the first branch whose predicate
// matches, or to the default branch.
type BranchedStream[K, V any] struct {
	s        Stream[K, V]
	name     string
	preds    []func(K, V) bool
	children []string
	branches map[string]Stream[K, V]
}

// Split starts splitting the stream into branches. Named sets the prefix
// of the branch names (default KSTREAM-BRANCH-<n>).
func (s Stream[K, V]) Split(opts ...Option) *BranchedStream[K, V] {
	o := applyOptions(opts)
	bs := &BranchedStream[K, V]{s: s, name: s.b.nameOr(o.name, prefixBranch), branches: map[string]Stream[K, V]{}}
	s.b.addProcessor(bs.name, funcSupplier(func(ctx *nodeContext, r anyRecord) {
		k, v := as[K](r.Key), as[V](r.Value)
		for i, p := range bs.preds {
			if p == nil || p(k, v) {
				ctx.forwardTo(bs.children[i], r)
				return
			}
		}
	}), s.node)
	return bs
}

// Branch adds a branch for records matching pred. name, if not empty, is
// appended to the split's name to name the branch; otherwise the branch's
// position (from 1) is.
func (bs *BranchedStream[K, V]) Branch(pred func(K, V) bool, name string) *BranchedStream[K, V] {
	bs.preds = append(bs.preds, pred)
	bs.add(name, len(bs.preds))
	return bs
}

// DefaultBranch adds a branch for the records no predicate matched and
// returns all branches by name.
func (bs *BranchedStream[K, V]) DefaultBranch(name string) map[string]Stream[K, V] {
	bs.preds = append(bs.preds, nil)
	bs.add(name, 0)
	return bs.branches
}

// NoDefaultBranch drops unmatched records and returns the branches by name.
func (bs *BranchedStream[K, V]) NoDefaultBranch() map[string]Stream[K, V] { return bs.branches }

func (bs *BranchedStream[K, V]) add(name string, index int) {
	child := bs.name + name
	if name == "" {
		child = bs.name + itoa(index)
	}
	bs.s.b.newName(child) // Kafka burns an index for every branch
	bs.children = append(bs.children, child)
	bs.s.b.addProcessor(child, funcSupplier(func(ctx *nodeContext, r anyRecord) { ctx.forward(r) }), bs.name)
	bs.branches[child] = Stream[K, V]{b: bs.s.b, node: child, ks: bs.s.ks, vs: bs.s.vs, repartition: bs.s.repartition}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return string(buf[n:])
}
