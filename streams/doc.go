// Package streams is Runnel's stream-processing library: a typed DSL
// (streams, tables, grouping, windows, joins) built on a Processor API, the
// Topology those build, and the task engine that runs a topology.
//
// Kafka Streams' documented behaviour is the specification: operator names
// (KSTREAM-FILTER-0000000001, …), internal topic names
// (<application.id>-<name>-repartition and
// <application.id>-<store>-changelog), Describe output, stream time,
// punctuation, caching, window, suppression and join semantics match Kafka
// Streams 3.9.
//
// # Building
//
// A Builder collects the graph; Build checks it and returns a Topology (the
// first error met while building, wrapped in ErrTopology, names the node).
// Operations that keep the key and value types are methods (Filter, Peek,
// Merge, To, Repartition, ToTable, Split); operations that change them are
// package functions (Map, MapValues, SelectKey, FlatMap, GroupByKey,
// GroupBy, Count, Aggregate, Join, …), since Go methods cannot add type
// parameters. Sources are StreamOf, TableOf and GlobalTableOf. Serdes are
// explicit at sources, sinks and stateful steps; an operation that keeps a
// type keeps the serde known for it upstream, and options (WithKeySerde,
// WithValueSerde) supply the others.
//
//	b := streams.NewBuilder()
//	orders := streams.StreamOf(b, "orders", serde.String(), serde.JSON[Order]())
//	big := orders.Filter(func(_ string, o Order) bool { return o.Total > 100 })
//	byCustomer := streams.SelectKey(big, func(_ string, o Order) string { return o.Customer })
//	grouped := streams.GroupByKey(byCustomer, streams.WithKeySerde(serde.String()))
//	counts := streams.Count(streams.WindowedBy(grouped, streams.Tumbling(time.Minute).Grace(10*time.Second)))
//
// The Processor API (Processor, ProcessorContext, AddSource, AddProcessor,
// AddSink, Builder.AddStateStore, and Process to attach a processor to a
// stream) is what the DSL itself runs on.
//
// # Running
//
// A Topology is cut into sub-topologies: nodes connected by parent links or
// a shared state store. A Task runs one sub-topology for one partition. A
// Task knows nothing of a Kafka client: it takes raw input records (topic,
// partition, offset, key and value bytes, timestamp, headers) and hands its
// output (sink, repartition and changelog records) to a RecordCollector.
// Stream time is the largest timestamp a task has seen. Commit flushes the
// stores and their caches, after which the runtime commits the consumed
// offsets; Restore replays a store's changelog into a new task. The
// broker-less test driver in streams/streamstest and the Kafka runtime
// both drive Tasks.
//
// # State
//
// Stores come from package state: goleveldb under
// state.dir/<application.id>/<task>/<store> (the default) or memory, with
// changelogging and, for DSL stores, a write-back record cache. Values are
// kept in Kafka's timestamped format (timestamp ‖ value); changelogs carry
// the plain value stamped with that timestamp.
//
// # Internal formats
//
// Everything written to internal topics is in Kafka Streams' own byte
// formats, so a Runnel application and a Kafka Streams application with
// the same topology can share them: window store keys key‖start‖seq and
// session keys key‖end‖start in changelogs; table GroupBy changes in
// Kafka's ChangedSerializer format (value(s) then a flag byte); the
// foreign-key join's SubscriptionWrapper (with the Murmur3 hash128 of the
// serialized left value), SubscriptionResponseWrapper and CombinedKey
// store keys; the suppression buffer's version 3 changelog entries (header
// v=3); and the outer-join store's ListValueStore lists of
// LeftOrRightValues. fkjoin_format.go, suppress_buffer.go and
// changeSerde in table.go lay them out.
//
// # Nulls
//
// Kafka's null values (tombstones) travel through the engine as a nil
// value; a typed user function sees the zero value of its type instead,
// except where absence matters (outer joins pass pointers, nil when a side
// is missing). A nil pointer, map or slice value written to a sink or a
// store is a tombstone.
package streams
