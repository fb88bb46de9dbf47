// Package distributed runs Kafka Connect's distributed mode: workers that
// share connectors and tasks through a Kafka group and keep their state in
// three compacted topics, so that any worker — a Runnel one or an Apache
// Kafka one — can read what another wrote.
//
// # Internal topics
//
// Keys are UTF-8 strings (or JSON for offsets); values are the JSON a
// schemaless JsonConverter writes. A nil value is a tombstone.
//
//	config.storage.topic (1 partition)
//	  connector-<name>         {"properties":{"k":"v",...}}
//	  task-<name>-<n>          {"properties":{"k":"v",...}}
//	  commit-<name>            {"tasks":N}      (applies the task-<name>-* before it)
//	  target-state-<name>      {"state":"PAUSED","state.v2":"STOPPED"}
//	                           ("state" holds PAUSED for STOPPED, for workers
//	                           older than KIP-875)
//	  restart-connector-<name> {"include-tasks":false,"only-failed":false}
//
//	offset.storage.topic (offset.storage.partitions, 25)
//	  ["<name>",{partition}]   {offset}  (partitioned by murmur2 of the key bytes)
//
//	status.storage.topic (status.storage.partitions, 5)
//	  status-connector-<name>  {"state":"RUNNING","trace":null,"worker_id":"host:port","generation":N}
//	  status-task-<name>-<n>   the same shape
//	  status-topic-<topic>:connector-<name>
//	                           {"topic":{"name":T,"connector":C,"task":N,"discoverTimestamp":MS}}
//
// Map keys are written sorted, so one offset partition always has the same
// key bytes and compaction keeps only its newest offset.
//
// # Worker group
//
// Workers join the group named by group.id with protocol type "connect" and
// the eager protocol "default" (Kafka's ConnectProtocol V0; connect.protocol
// compatible and sessioned are not offered, so a mixed group with Java
// workers settles on "default" too). Member metadata and assignments use
// Kafka's byte layout (big-endian, INT16-length strings):
//
//	metadata:   version INT16 (0) | url STRING | config_offset INT64
//	assignment: version INT16 (0) | error INT16 | leader STRING | leader_url STRING
//	            | config_offset INT64 | [connector STRING | [task INT32]]
//
// where task -1 stands for the connector instance itself. The leader assigns
// connectors and then tasks round-robin over the members sorted by member ID.
package distributed
