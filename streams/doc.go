// Package streams is Runnel's stream-processing library: a typed DSL
// (Stream, Table, grouping, windows, joins) built on a Processor API, the
// Topology those build, and the task engine that runs a topology.
//
// The shape follows Kafka Streams, whose documented behaviour is the
// specification: operator names (KSTREAM-FILTER-0000000001, …), internal
// topic names (<application.id>-<name>-repartition and
// <application.id>-<store>-changelog), Describe output, stream time,
// punctuation, window semantics and join semantics match Kafka Streams 3.9.
//
// Operations that keep the key and value types are methods (Filter, Peek,
// Merge, To); operations that change them are package functions (Map,
// MapValues, SelectKey, GroupByKey, Count, Join). Serdes are passed
// explicitly at sources, sinks and stateful steps; an operation that keeps
// the types keeps the serdes known upstream.
//
// Engine. A Topology is cut into sub-topologies (connected groups of nodes);
// a Task runs one sub-topology for one partition. A Task knows nothing of a
// Kafka client: it takes raw input records (topic, partition, offset, key and
// value bytes, timestamp, headers) and hands its output to a RecordCollector.
// The broker-less test driver in streams/streamstest and the Kafka runtime
// both drive Tasks.
//
// Nulls. Kafka's null values (tombstones) travel through the engine as a nil
// value; a typed user function sees the zero value of its type instead. A
// nil pointer, map or slice value written to a sink or a store is a
// tombstone.
package streams
