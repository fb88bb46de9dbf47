// Package log stores one partition's log on disk in Kafka's layout, so that
// a Runnel data directory reads like a Kafka one: segments of record
// batches stored byte for byte as producers sent them, sparse offset and
// time indexes, and checkpoint files in Kafka's text format.
//
// # Directory
//
//	<log.dir>/orders-3/                     one partition: <topic>-<partition> (ParseDir)
//	├── 00000000000000000000.log            segment: whole RecordBatch v2 batches
//	├── 00000000000000000000.index          offset index of that segment
//	├── 00000000000000000000.timeindex      time index of that segment
//	├── 00000000000000052113.log            next segment, named by its base offset
//	├── 00000000000000052113.index          (the last segment is the active one:
//	├── 00000000000000052113.timeindex       only it takes appends)
//	├── 00000000000000031337.log.deleted    removed segment, deleted after file.delete.delay.ms
//	└── leader-epoch-checkpoint             leader-epoch cache
//
// A segment's base offset is at most its first batch's base offset and
// above every offset of the segments before it. File names are the base
// offset in 20 decimal digits. Suffixes mark files outside the log:
// .deleted (waiting for deletion, so reads in progress finish), .cleaned
// (a compaction's output being written) and .swap (a finished compaction
// output about to replace the segments it rewrote).
//
// # Segment file (.log)
//
// Batches follow each other with nothing in between. Each is a RecordBatch
// v2 exactly as the producer sent it, except for the fields the leader
// rewrites: baseOffset and partitionLeaderEpoch (not covered by the CRC),
// and for message.timestamp.type=LogAppendTime the timestamp-type bit and
// maxTimestamp (the CRC is recomputed). See package record for the header.
//
//	position 0           position p                         size
//	┌────────────────────┬────────────────────┬─── ─ ─ ─ ──┬┐
//	│ batch (61+ bytes)  │ batch              │  …         ││
//	└────────────────────┴────────────────────┴─── ─ ─ ─ ──┴┘
//	  baseOffset(8) batchLength(4) partitionLeaderEpoch(4) magic(1)=2 crc(4) …
//
// # Offset index (.index)
//
// Entries of 8 bytes, big-endian, in increasing order:
//
//	┌─────────────────────┬─────────────────────┐
//	│ relative offset (4) │ position (4)        │
//	└─────────────────────┴─────────────────────┘
//
// An entry (r, p) says the batch at byte p of the .log file has last
// offset base+r. One entry is added for a batch once more than
// index.interval.bytes were written since the previous entry. A lookup
// takes the last entry with an offset <= the target and walks batch
// headers from its position.
//
// # Time index (.timeindex)
//
// Entries of 12 bytes, big-endian, with strictly increasing timestamps:
//
//	┌─────────────────────────┬─────────────────────┐
//	│ timestamp (8)           │ relative offset (4) │
//	└─────────────────────────┴─────────────────────┘
//
// An entry (t, r) is added at an offset index point when the segment's
// largest timestamp has grown: t is that largest timestamp and base+r the
// last offset of the batch holding it. Every batch written before the entry
// has a maxTimestamp <= t. When a segment is closed (rolled, recovered, or
// the log closed) its largest timestamp is appended, so the last entry
// always gives the segment's largest timestamp without reading the log.
//
// Index files hold exactly their entries (no preallocation). The active
// segment's entries live in memory and reach the file in groups and on
// flush, roll and close; a closed segment's index is searched in the file.
// Both may be deleted at any time: they are rebuilt from the .log file.
//
// # Checkpoint files
//
// Kafka's text format, written atomically (temporary file, fsync, rename,
// directory fsync). WriteCheckpoint and ReadCheckpoint handle the data
// directory's files (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, replication-offset-checkpoint):
//
//	0                 version
//	2                 number of entries
//	orders 3 52113    topic partition offset
//	orders 4 1977
//
// leader-epoch-checkpoint has the same first two lines, then one
// "epoch startOffset" line per epoch, both strictly increasing.
//
// # Recovery
//
// Everything below the recovery point has been fsynced (Flush moves it).
// After a crash (no clean-shutdown marker), Open re-reads every batch of
// the segments from the one holding the recovery point on: each must be
// whole, pass ValidateHeader (magic, CRC, field consistency) and start at
// or after the previous batch's next offset. The segment is cut after the
// last good batch, later segments are deleted, and both indexes are
// rebuilt. Leftover .deleted and .cleaned files are removed, and a .swap
// segment replaces the segments it covers. After a clean shutdown the
// files are trusted and only index sizes and positions are checked.
//
// # Concurrency and durability
//
// Appends are serialized by the Log's append lock, which covers copying the
// bytes into the page cache but not fsync: with flush.messages=1, appenders
// that arrive while an fsync runs wait for it and share the next one (group
// commit). Reads find their segment under a short read lock and then read
// without locks; the byte ranges they return stay valid as described on
// ReadResult. An fsync failure, or a write that cannot be undone, fails the
// log: it refuses further writes until reopened, as Kafka takes the log
// directory offline.
package log
