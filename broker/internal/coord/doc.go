// Package coord holds what Runnel's two coordinators share: the group
// coordinator on __consumer_offsets (broker/group) and the transaction
// coordinator on __transaction_state (broker/txn).
//
// Both place each key (a group ID, a transactional ID) on a partition of
// their internal topic as Kafka does (PartitionFor), and own each
// partition they load with one loop goroutine: the loop replays the
// partition's log into a state machine (Replay), then feeds it the calls
// routed to it, its expired deadlines and the outcomes of its appends and
// background tasks, one Step at a time (Serve), until the partition is
// unloaded. Partitions keeps the loaded partitions, follows metadata
// images to load and unload them, and routes calls (Route, Call).
//
// The state machines themselves, their record formats and their errors
// stay in their packages; they use Timers for their deadlines and Reader
// for the big-endian fields of their records.
package coord
