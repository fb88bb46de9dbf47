// Package txn is Runnel's producer-side state outside the partition logs:
// producer ID allocation (InitProducerId) and the transaction coordinator
// on __transaction_state (KIP-98, with KIP-360's epoch bumps on retry and
// KIP-447's transactional offset commits), as Apache Kafka 3.x and 4.x
// serve them at transaction.version 0 and 1: no epoch bump per
// transaction (KIP-890 part 2).
//
// # Producer IDs
//
// Producer IDs come in blocks that the controller hands out through a
// metadata record, as Kafka's ProducerIdManager takes them with
// AllocateProducerIds: a broker gives out the IDs of its current block one
// by one and asks for the next block when it runs out. An ID is never given
// out twice, across restarts too; IDs left in a block when the broker stops
// are skipped.
//
// # Ownership
//
// Each transactional ID belongs to one partition of the internal
// compacted topic __transaction_state: abs(javaHashCode(id)) modulo the
// partition count (PartitionFor). The leader of that partition is the ID's
// coordinator, and the partition's leader epoch when it was loaded is the
// coordinator epoch every marker carries. For every partition it leads a
// Coordinator runs one loop goroutine owning a shard, a state machine
// with no goroutines, clocks or I/O of its own: every call into it carries
// the current time; records to append and markers to write leave through
// outboxes the loop drains, and their outcomes come back as calls; it
// names its next deadline (the timed-out transaction check, the
// transactional ID expiration, marker retries). Tests drive a shard
// directly with scripted requests and an explicit clock.
//
// # Transaction states
//
//	          AddPartitions              EndTxn(commit)
//	Empty ───────────────────► Ongoing ─────────────────► PrepareCommit
//	  ▲  InitProducerId           │ EndTxn(abort), timeout,    │ markers
//	  │  (epoch bump)             │ InitProducerId (fence)     ▼ written
//	  │                           ▼                       CompleteCommit
//	  │                      PrepareAbort ── markers ──► CompleteAbort
//	  └──────────── InitProducerId / AddPartitions ◄──── Complete*
//
// A transaction's state change is written to __transaction_state before
// it takes effect. EndTxn answers once PrepareCommit or PrepareAbort is
// written: from then on the outcome is decided, and the coordinator
// writes the markers (through the broker's MarkerWriter, retrying with
// backoff until each partition has its marker or is gone) and then
// CompleteCommit or CompleteAbort. A coordinator that loads a partition
// whose last record for an ID is a Prepare* writes that transaction's
// markers again and completes it. Aborting a transaction for
// InitProducerId or for its timeout bumps the producer epoch, so the old
// producer is fenced. IDs without a transaction for
// transactional.id.expiration.ms are removed with a tombstone.
//
// # Records in __transaction_state
//
// Runnel writes Kafka's record formats byte for byte, so Kafka's tools
// read them. Every field is big-endian; a string is an int16 length and
// UTF-8 bytes; an array an int32 count (-1 = null). Flexible versions use
// unsigned-varint lengths plus one (0 = null) and end each structure with
// a tagged-field section.
//
//	key, version 0:
//	  int16 version (0) | string transactional_id
//
//	value, version 0:
//	  int16 version | int64 producer_id | int16 producer_epoch |
//	  int32 transaction_timeout_ms | int8 transaction_status |
//	  nullable [string topic | [int32 partition]] |
//	  int64 transaction_last_update_timestamp_ms |
//	  int64 transaction_start_timestamp_ms
//	value, version 1: as version 0, flexible; tagged fields
//	  0 previous_producer_id int64 (default -1), 1 next_producer_id int64
//	  (default -1), 2 client_transaction_version int16 (default 0)
//
// transaction_status is Kafka's numbering: Empty 0, Ongoing 1,
// PrepareCommit 2, PrepareAbort 3, CompleteCommit 4, CompleteAbort 5,
// Dead 6, PrepareEpochFence 7. An Empty value stores null partitions;
// Complete* values store an empty array. A null value is a tombstone: an
// expired transactional ID. Runnel writes value version 0 unless
// configured for 1, and reads both.
package txn
