// Package connect is Runnel's Connect runtime: the worker that runs source
// and sink connectors and their tasks, the plugin Registry they are found
// in, the worker configuration (Kafka Connect's property names and
// defaults), connector and task states, the Herder interface the REST API
// (package connect/rest) is served from, and the standalone herder with its
// file-backed offset store.
//
// Connectors, converters and transformations come from an explicit
// Registry value; nothing registers itself. The worker talks to the Kafka
// cluster only through franz-go, so it runs against any Kafka-protocol
// cluster.
//
// States follow Kafka Connect: a connector or task is UNASSIGNED until a
// worker owns it, RUNNING, PAUSED or STOPPED as its target state asks, FAILED
// with the failure's trace, or RESTARTING while a restart request is
// carried out.
package connect
