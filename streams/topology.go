package streams

import (
	"errors"
	"fmt"
	"slices"
)

// ErrTopology is returned (wrapped) by Builder.Build for a topology that
// cannot run: a duplicate node name, a topic read by two sources, a missing
// serde, a store that does not exist.
var ErrTopology = errors.New("streams: invalid topology")

// nodeKind tells sources, processors and sinks apart.
type nodeKind uint8

const (
	sourceNode nodeKind = iota
	processorNode
	sinkNode
)

// node is one named node of the topology graph, type-erased.
type node struct {
	name     string
	kind     nodeKind
	parents  []string
	children []string
	stores   []string // names of connected state stores, in connection order

	// Sources: topics read; deser turns record bytes into key and value.
	topics []string
	deser  func(topic string, k, v []byte) (any, any, error)
	tsx    TimestampExtractor
	global bool

	// Processors: a new engine processor per task.
	supplier func() anyProcessor

	// Sinks: a static topic or an extractor choosing one per record; ser
	// turns key and value into bytes; partitioner may choose the partition.
	topic       string
	extractor   func(r anyRecord, rc RecordContext) string
	ser         func(topic string, k, v any) ([]byte, []byte, error)
	partitioner func(topic string, r anyRecord, numPartitions int32) (int32, bool)

	// internal marks a source or sink of a repartition topic: the topic
	// name in the graph is prefixed with "<application.id>-" at run time.
	internal bool
	// partitions is the partition count a Repartition asked for; 0 lets
	// the runtime choose (the upstream topics' count).
	partitions int32
}

// RecordContext is the metadata of the record being processed, as a
// TopicNameExtractor sees it.
type RecordContext struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64
	Headers   Headers
}

// TimestampExtractor returns the event time of a consumed record in
// milliseconds. partitionTime is the largest timestamp seen so far on the
// record's partition (-1 if none). A negative result drops the record, as
// Kafka's LogAndSkipOnInvalidTimestamp does.
type TimestampExtractor func(topic string, key, value any, recordTimestamp, partitionTime int64) int64

// Builder builds a Topology, through the DSL functions (Stream, Table,
// GroupByKey, …) and the Processor API (AddSource, AddProcessor, AddSink,
// AddStateStore). A Builder is not safe for concurrent use. The first
// error met while building is kept and returned by Build.
type Builder struct {
	nodes       []*node
	byName      map[string]*node
	stores      map[string]StoreBuilder
	globalStore map[string]bool
	topicSource map[string]string // topic -> source node name
	// joinRepartitions remembers the repartition source made for a
	// stream (node and topic prefix) joined before.
	joinRepartitions map[string]string
	index            int
	err              error
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		byName:      map[string]*node{},
		stores:      map[string]StoreBuilder{},
		globalStore: map[string]bool{},
		topicSource: map[string]string{},

		joinRepartitions: map[string]string{},
	}
}

// newName returns prefix followed by the next index, zero-padded to ten
// digits, as Kafka Streams names unnamed operators.
func (b *Builder) newName(prefix string) string {
	name := fmt.Sprintf("%s%010d", prefix, b.index)
	b.index++
	return name
}

// nameOr returns name when set, else a new generated name with prefix.
// Like Kafka's NamedInternal.orElseGenerateWithPrefix it uses up an index
// either way, so naming one operator does not rename the ones after it.
func (b *Builder) nameOr(name, prefix string) string {
	gen := b.newName(prefix)
	if name != "" {
		return name
	}
	return gen
}

// givenOr returns name when set, else a new generated name; unlike nameOr
// it uses no index for a given name (Kafka's process and repartition).
func (b *Builder) givenOr(name, prefix string) string {
	if name != "" {
		return name
	}
	return b.newName(prefix)
}

// fail keeps the first building error.
func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%w: "+format, append([]any{ErrTopology}, args...)...)
	}
}

func (b *Builder) addNode(n *node) *node {
	if n.name == "" {
		b.fail("empty node name")
		return n
	}
	if _, dup := b.byName[n.name]; dup {
		b.fail("node %q is already added", n.name)
		return n
	}
	for _, p := range n.parents {
		parent, ok := b.byName[p]
		if !ok {
			b.fail("node %q: parent %q does not exist", n.name, p)
			return n
		}
		if parent.kind == sinkNode {
			b.fail("node %q: parent %q is a sink", n.name, p)
			return n
		}
		parent.children = append(parent.children, n.name)
	}
	b.nodes = append(b.nodes, n)
	b.byName[n.name] = n
	return n
}

func (b *Builder) addSource(n *node) *node {
	n.kind = sourceNode
	for _, t := range n.topics {
		if other, dup := b.topicSource[t]; dup {
			b.fail("topic %q is already read by source %q", t, other)
			return n
		}
		b.topicSource[t] = n.name
	}
	return b.addNode(n)
}

// addProcessor adds a processor node under parents.
func (b *Builder) addProcessor(name string, supplier func() anyProcessor, parents ...string) *node {
	return b.addNode(&node{name: name, kind: processorNode, supplier: supplier, parents: parents})
}

// addStore registers a store builder once; later registrations of the same
// builder are no-ops, a different builder with the same name is an error.
func (b *Builder) addStore(sb StoreBuilder) {
	if old, ok := b.stores[sb.Name()]; ok {
		if old != sb {
			b.fail("state store %q is already added", sb.Name())
		}
		return
	}
	b.stores[sb.Name()] = sb
}

// connect gives processor node access to the named stores.
func (b *Builder) connect(processor string, stores ...string) {
	n, ok := b.byName[processor]
	if !ok {
		b.fail("processor %q does not exist", processor)
		return
	}
	for _, s := range stores {
		if _, ok := b.stores[s]; !ok {
			b.fail("processor %q: state store %q is not added", processor, s)
			return
		}
		if !slices.Contains(n.stores, s) {
			n.stores = append(n.stores, s)
		}
	}
}

// AddSource adds a source node reading topics with the given serdes (the
// Processor API's Topology.addSource).
func AddSource[K, V any](b *Builder, name string, keySerde Serde[K], valueSerde Serde[V], topics ...string) {
	if keySerde == nil || valueSerde == nil {
		b.fail("source %q: key and value serdes are required", name)
		return
	}
	b.addSource(&node{name: name, topics: topics, deser: deserializer(keySerde, valueSerde)})
}

// AddProcessor adds a processor node running processors from supplier,
// reading from parents.
func AddProcessor[KIn, VIn, KOut, VOut any](b *Builder, name string, supplier ProcessorSupplier[KIn, VIn, KOut, VOut], parents ...string) {
	if len(parents) == 0 {
		b.fail("processor %q needs at least one parent", name)
		return
	}
	b.addProcessor(name, adaptSupplier(supplier), parents...)
}

// AddSink adds a sink node writing to topic with the given serdes.
func AddSink[K, V any](b *Builder, name, topic string, keySerde Serde[K], valueSerde Serde[V], parents ...string) {
	if keySerde == nil || valueSerde == nil {
		b.fail("sink %q: key and value serdes are required", name)
		return
	}
	b.addNode(&node{name: name, kind: sinkNode, topic: topic, ser: serializer(keySerde, valueSerde), parents: parents})
}

// AddStateStore adds a state store and connects it to the named
// processors.
func (b *Builder) AddStateStore(sb StoreBuilder, processors ...string) {
	b.addStore(sb)
	for _, p := range processors {
		b.connect(p, sb.Name())
	}
}

// ConnectProcessorAndStateStores gives an existing processor access to
// stores already added.
func (b *Builder) ConnectProcessorAndStateStores(processor string, stores ...string) {
	b.connect(processor, stores...)
}

func adaptSupplier[KIn, VIn, KOut, VOut any](s ProcessorSupplier[KIn, VIn, KOut, VOut]) func() anyProcessor {
	return func() anyProcessor { return &userProcessor[KIn, VIn, KOut, VOut]{p: s()} }
}

// deserializer erases a pair of serdes into a source's decoder. Nil bytes
// decode to nil (Kafka's null).
func deserializer[K, V any](ks Serde[K], vs Serde[V]) func(topic string, k, v []byte) (any, any, error) {
	return func(topic string, kb, vb []byte) (any, any, error) {
		var key, value any
		if kb != nil {
			k, err := ks.Deserialize(topic, kb)
			if err != nil {
				return nil, nil, fmt.Errorf("streams: deserialize key from %s: %w", topic, err)
			}
			key = k
		}
		if vb != nil {
			v, err := vs.Deserialize(topic, vb)
			if err != nil {
				return nil, nil, fmt.Errorf("streams: deserialize value from %s: %w", topic, err)
			}
			value = v
		}
		return key, value, nil
	}
}

// serializer erases a pair of serdes into a sink's encoder. Null keys and
// values encode to nil bytes.
func serializer[K, V any](ks Serde[K], vs Serde[V]) func(topic string, k, v any) ([]byte, []byte, error) {
	return func(topic string, k, v any) ([]byte, []byte, error) {
		var kb, vb []byte
		var err error
		if !isNull(k) {
			if kb, err = ks.Serialize(topic, k.(K)); err != nil {
				return nil, nil, fmt.Errorf("streams: serialize key for %s: %w", topic, err)
			}
		}
		if !isNull(v) {
			if vb, err = vs.Serialize(topic, v.(V)); err != nil {
				return nil, nil, fmt.Errorf("streams: serialize value for %s: %w", topic, err)
			}
		}
		return kb, vb, nil
	}
}

// Topology is a built, immutable processing graph: the sub-topologies a
// runtime turns into tasks, the global sub-topologies, and their stores.
type Topology struct {
	nodes  []*node
	byName map[string]*node
	stores map[string]StoreBuilder
	subs   []*subtopology // ordered by id, global ones included
}

// subtopology is one connected group of nodes.
type subtopology struct {
	id     int
	nodes  []*node // creation order
	global bool
}

// Build checks the graph and cuts it into sub-topologies: nodes connected
// through parent links or a shared state store belong to one. IDs follow
// the order in which each group's first node was added, as in Kafka.
func (b *Builder) Build() (*Topology, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrTopology)
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(a, c string) {
		ra, rc := find(a), find(c)
		if ra != rc {
			parent[ra] = rc
		}
	}
	storeOwner := map[string]string{}
	for _, n := range b.nodes {
		for _, p := range n.parents {
			union(n.name, p)
		}
		for _, s := range n.stores {
			if o, ok := storeOwner[s]; ok {
				union(n.name, o)
			} else {
				storeOwner[s] = n.name
			}
		}
	}
	t := &Topology{nodes: b.nodes, byName: b.byName, stores: b.stores}
	groups := map[string]*subtopology{}
	for _, n := range b.nodes {
		r := find(n.name)
		g, ok := groups[r]
		if !ok {
			g = &subtopology{id: len(t.subs)}
			groups[r] = g
			t.subs = append(t.subs, g)
		}
		g.nodes = append(g.nodes, n)
		if n.global {
			g.global = true
		}
	}
	for _, g := range t.subs {
		if !g.global {
			continue
		}
		for _, n := range g.nodes {
			for _, s := range n.stores {
				b.globalStore[s] = true
			}
		}
	}
	for _, g := range t.subs {
		if g.global {
			continue
		}
		for _, n := range g.nodes {
			if n.kind == sourceNode && len(n.topics) == 0 {
				return nil, fmt.Errorf("%w: source %q reads no topic", ErrTopology, n.name)
			}
		}
	}
	return t, nil
}

// Subtopologies returns the IDs of the sub-topologies that generate tasks
// (global ones excluded).
func (t *Topology) Subtopologies() []int {
	var ids []int
	for _, g := range t.subs {
		if !g.global {
			ids = append(ids, g.id)
		}
	}
	return ids
}

// SourceTopics returns the topics sub-topology id reads, with internal
// (repartition) topics prefixed by applicationID.
func (t *Topology) SourceTopics(id int, applicationID string) []string {
	var out []string
	for _, g := range t.subs {
		if g.id != id {
			continue
		}
		for _, n := range g.nodes {
			if n.kind == sourceNode {
				for _, tp := range n.topics {
					out = append(out, t.runtimeTopic(tp, n.internal, applicationID))
				}
			}
		}
	}
	return out
}

// GlobalTopics returns the topics read by global stores.
func (t *Topology) GlobalTopics() []string {
	var out []string
	for _, g := range t.subs {
		if !g.global {
			continue
		}
		for _, n := range g.nodes {
			if n.kind == sourceNode {
				out = append(out, n.topics...)
			}
		}
	}
	return out
}

// RepartitionTopics returns the internal repartition topics, prefixed by
// applicationID, which a runtime creates before starting.
func (t *Topology) RepartitionTopics(applicationID string) []string {
	var out []string
	for _, n := range t.nodes {
		if n.kind == sourceNode && n.internal {
			for _, tp := range n.topics {
				out = append(out, t.runtimeTopic(tp, true, applicationID))
			}
		}
	}
	return out
}

// RepartitionPartitions returns the partition counts Repartition
// operations set explicitly (WithNumPartitions), by runtime topic name.
func (t *Topology) RepartitionPartitions(applicationID string) map[string]int32 {
	out := map[string]int32{}
	for _, n := range t.nodes {
		if n.kind == sourceNode && n.internal && n.partitions > 0 {
			for _, tp := range n.topics {
				out[t.runtimeTopic(tp, true, applicationID)] = n.partitions
			}
		}
	}
	return out
}

// ChangelogTopics returns the changelog topic of every logged store,
// <application.id>-<store>-changelog.
func (t *Topology) ChangelogTopics(applicationID string) []string {
	var out []string
	for _, n := range t.nodes {
		for _, s := range n.stores {
			sb := t.stores[s]
			if sb.Logged() && !slices.Contains(out, ChangelogTopic(applicationID, s)) {
				out = append(out, ChangelogTopic(applicationID, s))
			}
		}
	}
	return out
}

// ChangelogTopic is the changelog topic name of a store.
func ChangelogTopic(applicationID, store string) string {
	return applicationID + "-" + store + "-changelog"
}

func (t *Topology) runtimeTopic(topic string, internal bool, applicationID string) string {
	if internal {
		return applicationID + "-" + topic
	}
	return topic
}
