// Package coord holds what Runnel's two coordinators share: the group
// coordinator on __consumer_offsets (broker/group) and the transaction
// coordinator on __transaction_state (broker/txn).
//
// Both own each loaded partition of their internal topic with one loop
// goroutine that replays the partition's log into a state machine (a
// shard), then feeds it requests, expired deadlines and the outcome of its
// appends until the partition is unloaded. This package provides the
// pieces of that shape that do not depend on what the shard holds: the
// deadline set a shard keeps (Timers) and the decoder of the big-endian
// fields of the internal record formats (Reader). Each coordinator keeps
// its own state machine and record formats.
package coord
