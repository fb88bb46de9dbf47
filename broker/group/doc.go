// Package group is Runnel's group coordinator: the classic consumer-group
// protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and committed
// offsets (OffsetCommit, OffsetFetch, OffsetDelete), with DescribeGroups,
// ListGroups and DeleteGroups, as Apache Kafka's group coordinator serves
// them.
//
// # Ownership
//
// Each group belongs to one partition of the internal compacted topic
// __consumer_offsets: partition abs(javaHashCode(groupID)) modulo the
// partition count (PartitionFor). The leader of that partition is the
// group's coordinator. For every partition it leads, a Coordinator runs
// one loop goroutine that owns the partition's groups; requests reach it
// through a channel and wait for their answer, which for JoinGroup and
// SyncGroup may come much later (when the rebalance completes).
//
// The loop drives a shard, the coordinator proper: a state machine with no
// goroutines, clocks or I/O of its own. Every call into it carries the
// current time; it answers requests through callbacks, asks for records to
// be appended through an outbox the loop drains, and names its next
// deadline (session timeouts, rebalance timeouts, the initial rebalance
// delay, offset expiration), at which the loop calls it again. Tests drive
// a shard directly with scripted requests and an explicit clock.
//
// # Group states
//
//	        join (new member)            all members joined or
//	Empty ───────────────────► Preparing  rebalance timeout
//	  ▲                         Rebalance ─────────────────► Completing
//	  │   all members left         ▲  ▲                       Rebalance
//	  └────────────────────────────┘  │   join, leave, expiry     │ leader's
//	                                  ├───────────────────────────┤ SyncGroup
//	                                  │   join, leave, expiry     ▼ stored
//	                                  └─────────────────────── Stable
//
// Dead is where a group ends: deleted, its offsets all expired, or its
// partition unloaded.
//
// # Records in __consumer_offsets
//
// Runnel writes Kafka's record formats byte for byte, so Kafka's tools
// (kafka-console-consumer with the offsets formatters, kafka-dump-log)
// read them. Every field is big-endian; a string is an int16 length and
// UTF-8 bytes (length -1 = null where nullable), bytes an int32 length.
// Flexible versions (4) use unsigned-varint lengths plus one and end each
// structure with a tagged-field section.
//
//	offset commit key, version 0 or 1:
//	  int16 version | string group | string topic | int32 partition
//	group metadata key, version 2:
//	  int16 version | string group
//
//	offset commit value:
//	  v0: int16 version | int64 offset | string metadata | int64 commit_timestamp
//	  v1: v0 fields + int64 expire_timestamp
//	  v2: as v0
//	  v3: int16 version | int64 offset | int32 leader_epoch | string metadata | int64 commit_timestamp
//	  v4: as v3, flexible
//
//	group metadata value:
//	  int16 version | string protocol_type | int32 generation |
//	  nullable string protocol | nullable string leader |
//	  [v2+] int64 current_state_timestamp | int32 member count, then per member:
//	    string member_id | [v3+] nullable string group_instance_id |
//	    string client_id | string client_host | [v1+] int32 rebalance_timeout |
//	    int32 session_timeout | bytes subscription | bytes assignment
//	  v4: as v3, flexible
//
// Runnel writes offset commit values v3 (v1 when the commit set a retention
// time) and group metadata values v3, as Kafka 3.x and 4.x do, and reads
// every version. A null value is a tombstone: a deleted or expired offset,
// or a deleted group. When the coordinator loads a partition it replays it
// from the start, the last record per key winning, as compaction would
// leave it.
package group
