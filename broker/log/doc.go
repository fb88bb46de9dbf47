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
//	├── 00000000000000000000.txnindex       aborted transactions whose marker is in it (only if any)
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
// log-start-offset-checkpoint, replication-offset-checkpoint, and
// cleaner-offset-checkpoint, which holds each compacted partition's first
// dirty offset; see Compaction):
//
//	0                 version
//	2                 number of entries
//	orders 3 52113    topic partition offset
//	orders 4 1977
//
// leader-epoch-checkpoint has the same first two lines, then one
// "epoch startOffset" line per epoch, both strictly increasing.
//
// # Producer state and snapshots (.snapshot)
//
// For idempotent producers (KIP-98) the log keeps, per producer ID, the
// epoch and the last five batches' sequence and offset ranges, checked
// under the append lock: a batch must continue its producer's sequence
// (wrapping after 2³¹-1), a retry of one of the five is answered with its
// original offsets and not written, an older epoch is fenced, a newer one
// starts at sequence 0, and an unknown producer may start anywhere.
// Producers idle (by their latest batch's timestamp) for longer than
// producer.id.expiration.ms are forgotten.
//
// The state is snapshotted to <offset>.snapshot (offset in 20 digits) on
// every segment roll and on Close; the file holds the state of every batch
// below offset. Open loads the latest readable snapshot at or below the
// recovery point and replays the batch headers after it (the whole log
// without one); a truncation does the same at its offset and deletes the
// snapshots above. Snapshots before the first segment are deleted.
// Big-endian:
//
//	┌──────────┬─────────────┬──────────┬───────────┬─────────┬─── ─ ─
//	│ "RNPS"(4)│ version(2)=2│ crc32c(4)│ count(4)  │ entry   │ …
//	└──────────┴─────────────┴──────────┴───────────┴─────────┴─── ─ ─
//	entry: producerID(8) epoch(2) lastTimestamp(8)
//	       currentTxnFirstOffset(8, -1 = none) coordinatorEpoch(4, -1 = none)
//	       batches(1, ≤5),
//	       then per batch, oldest first: firstSeq(4) lastSeq(4)
//	       firstOffset(8) lastOffset(8) maxTimestamp(8)
//
// Version 1 files (written before transactions) lack the two transaction
// fields and still load, as producers with no transaction ongoing.
//
// The CRC (Castagnoli) covers everything after it. Entries are sorted by
// producer ID. A snapshot is written under a .tmp name and renamed, not
// fsynced: one torn by a crash fails its CRC and is ignored.
//
// # Transactions (KIP-98)
//
// A transactional batch of a producer with no transaction ongoing starts
// one at its base offset (ProducerState.CurrentTxnFirstOffset); a
// transaction marker (a control batch holding one COMMIT or ABORT control
// record, written by the transaction coordinator with OriginCoordinator)
// ends it. A transaction is unstable while it is ongoing and, as in Kafka,
// after its marker until the high watermark passes the marker (so no
// consumer acts on an outcome that is not replicated). The unstable
// transactions are kept ordered by first offset: the first of them is the
// first unstable offset, and the last stable offset (LSO) a
// read_committed consumer reads up to is the smaller of it and the high
// watermark. A marker with an older producer epoch than the
// partition knows is ErrInvalidProducerEpoch, one with an older
// coordinator epoch ErrCoordinatorFenced; a marker for a producer with no
// transaction ongoing is written and ends nothing. A batch that is not
// transactional from a producer with a transaction ongoing is
// ErrInvalidTxnState. Producers with an
// ongoing transaction never expire.
//
// Every ABORT marker adds an entry to the aborted transaction index of the
// segment it is written to, <base>.txnindex, in Kafka's format: entries of
// 34 bytes, big-endian, in marker order:
//
//	┌─────────────┬────────────────┬────────────────┬───────────────┬─────────────────────┐
//	│ version(2)=0│ producerId (8) │ firstOffset (8)│ lastOffset (8)│ lastStableOffset (8)│
//	└─────────────┴────────────────┴────────────────┴───────────────┴─────────────────────┘
//
// lastOffset is the marker's offset; lastStableOffset is the first offset
// of the earliest transaction still ongoing when the marker was written
// (lastOffset+1 when none was). AbortedTransactions scans the entries from the segment
// holding the fetch offset and stops at the first whose lastStableOffset
// reaches the upper bound, as Kafka does. The entries live in memory
// (aborts are rare) and are appended to the file as markers are written;
// the file is fsynced with its segment. Recovery rebuilds the entries of
// the segments it re-reads (and of any whose file is malformed, or that a
// compaction swapped in during a crash) by replaying the producer state
// from a snapshot; a truncation drops the entries of removed markers;
// retention deletes the file with its segment; compaction carries the
// entries into the segments it writes.
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
// # Compaction
//
// The log cleaner (Cleaner, run by the Manager on log.cleaner.threads
// goroutines, or at once with Manager.CleanNow) compacts logs whose
// cleanup.policy contains compact, as Kafka's LogCleaner does: for every
// key it keeps the latest record.
//
//	log start      first dirty offset    first uncleanable offset   LEO
//	├── clean ────────────┼── dirty ──────────────┼── uncleanable ──────┤
//	  compacted before      mapped: key → offset     active segment, not
//	                                                 wholly below the last
//	                                                 stable offset, or younger
//	                                                 than min.compaction.lag.ms
//
// The first dirty offset is where the last clean stopped; it survives
// restarts in the data directory's cleaner-offset-checkpoint (an offset
// outside the log, or a truncation since, means the log start offset).
// The first uncleanable offset is the base offset of the first segment the
// cleaner must leave alone: the active segment, the first segment not
// wholly below the last stable offset (the high watermark, or the first
// offset of an ongoing transaction when lower: records of open
// transactions are never cleaned), or the first dirty segment whose
// largest timestamp is younger than min.compaction.lag.ms. A log is due when its
// dirty bytes are at least min.cleanable.dirty.ratio of the cleanable
// bytes, or when the first batch of a dirty segment is older than
// max.compaction.lag.ms; the dirtiest due log goes first. A log whose kept
// tombstones' or markers' delete horizon has passed is due as well, so
// that they go without new writes.
//
// A clean first maps every key of the dirty section to the offset of its
// latest record (records of aborted transactions, known from the
// .txnindex entries, supersede nothing and are not mapped), in an offset map of fixed memory
// (log.cleaner.dedupe.buffer.size): 24 bytes per key, a 128-bit
// fingerprint and the offset. When the map fills, the clean stops mapping
// at the last whole batch and compacts up to there; the next clean goes
// on. It then rewrites the segments from the start of the log to the end
// of the mapped part, in groups that fit one segment (segment.bytes,
// segment.index.bytes, offsets within 2³¹-1 of the group's base offset).
// Batch by batch:
//
//   - A record stays when its offset is past the mapped part, or when it
//     has a key and no later record of that key is mapped. Records without
//     a key go, as Kafka drops them from compacted topics.
//   - A tombstone (null value) stays until its batch's delete horizon
//     (KIP-534): the first clean that keeps it sets the horizon to its time
//     plus delete.retention.ms, in the batch's base timestamp with the
//     delete-horizon attribute; a clean at or after the horizon drops it. A
//     consumer that reads the log from its start within delete.retention.ms
//     of a clean sees every tombstone that clean kept.
//   - A batch whose records all stay, and that needs no new horizon, is
//     copied as it is. One that keeps some is rebuilt with the same base
//     offset, lastOffsetDelta, codec, leader epoch, producer ID, epoch,
//     base sequence and attributes. One that keeps none is dropped, unless
//     it is the last data batch of its producer ID in the log: that one
//     stays as an empty batch header, which keeps the producer's epoch and
//     last sequence number (Kafka drops it once the producer's state
//     expires; Runnel's cleaner does not consult the producer state yet
//     and keeps it).
//   - Every record of a batch of an aborted transaction goes (the batch
//     may stay as an empty header, as above).
//   - A transaction marker stays as it is while its transaction has
//     records (or a kept empty header) before it. Once it has none, the
//     first clean sets the marker's delete horizon to its time plus
//     delete.retention.ms, as for tombstones, and a clean at or after the
//     horizon drops it with its .txnindex entry: a read_committed consumer
//     that read the transaction's records within delete.retention.ms sees
//     its marker. Other control batches stay as they are.
//
// Each new segment carries the .txnindex entries of the segments it
// replaces, except those of markers the clean dropped.
//
// Offsets never change: a compacted log has gaps, which reads and indexes
// handle (a read of an offset in a gap returns the batch after it). Each
// group's new segment is written as <base>.log.cleaned (with its indexes
// rebuilt), fsynced and swapped in:
//
//  1. Under the append lock, the cleaner checks the old segments are still
//     the log's (retention, DeleteRecords or a truncation since aborts the
//     clean; the .cleaned files are removed), renames the new files to
//     .swap and fsyncs the directory. From here on the new segment wins.
//  2. The new segment replaces the old ones in the segment list; the old
//     ones are renamed .deleted and removed after file.delete.delay.ms, so
//     reads in progress finish on them.
//  3. The new files lose their .swap suffix; the lock is released and the
//     directory fsynced.
//
// A crash before step 1 leaves .cleaned files, which Open removes: the old
// segments stand. A crash after it leaves a .swap segment, which Open
// installs in place of the segments whose base offsets fall in its offset
// range. Either way no record is lost or doubled: each group comes back as
// it was or as compacted (a trailing old segment none of whose records was
// kept may survive whole). The append lock is held only for the renames
// and one directory fsync per group, never while segment data is read or
// written; reads never wait for it.
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
