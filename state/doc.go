// Package state holds the local state stores of Runnel Streams: key-value,
// window and session stores over bytes, typed wrappers over them with serdes,
// changelogging and restore, a write-back cache, and the .checkpoint file.
//
// # Stores
//
// Each kind of store has a byte-level interface (KeyValueBytes, WindowBytes,
// SessionBytes) and one implementation (KeyValueDB, WindowDB, SessionDB) that
// keeps its data either in goleveldb under a directory the caller gives
// (state.dir/<application.id>/<task>/<store>) or in memory. Both behave the
// same, down to iteration order; only durability differs. Keys are ordered by
// their bytes, compared as unsigned (Kafka's Bytes ordering).
//
// Window and session stores are segmented by time like Kafka Streams'
// RocksDB stores: a record goes to segment timestamp/segmentInterval, where
// the timestamp is the window start (window stores) or the session end
// (session stores), and the segment interval defaults to
// max(retention/2, 60s). A persistent segment is its own leveldb directory
// named <store>.<segmentId*segmentInterval> inside the store directory, so
// expiring data drops whole directories. Segments older than
// segmentId(streamTime - retention) are dropped as stream time advances, and
// writes to them are skipped.
//
// # Byte formats
//
// These are Kafka Streams' formats, so changelog topics and windowed output
// topics are interchangeable with Java applications:
//
//	window store key / changelog key:  key ‖ windowStart (int64 BE) ‖ seq (int32 BE)
//	session store key / changelog key: key ‖ sessionEnd (int64 BE) ‖ sessionStart (int64 BE)
//	time-windowed record key:          key ‖ windowStart (int64 BE)
//	session-windowed record key:       key ‖ sessionEnd (int64 BE) ‖ sessionStart (int64 BE)
//
// seq is 0 unless the window store retains duplicates (stream-stream joins),
// in which case every put gets the next sequence number so equal keys and
// timestamps do not overwrite each other.
//
// # Wrappers
//
// LoggedKeyValue, LoggedWindow and LoggedSession report every write to a
// ChangelogSink; Restore applies changelog records back (KeyValueDB,
// WindowDB and SessionDB restore directly, the wrappers pass records down).
// CachedKeyValue, CachedWindow and CachedSession buffer writes in a Cache
// (statestore.cache.max.bytes, formerly cache.max.bytes.buffering) and
// hand them to the store and a FlushListener at Flush (commit) or on
// eviction, one write per key. The stacking, as in Kafka Streams, is
//
//	typed store (serdes) → cache → changelog → KeyValueDB/WindowDB/SessionDB
//
// Writes, Flush and Close come from one goroutine, the stream thread that
// owns the task; reads (interactive queries, through the ReadOnly views) may
// come from any goroutine. Iterators see a snapshot taken when they were
// created and must be closed by the caller.
//
// # Checkpoint
//
// ReadCheckpoint and WriteCheckpoint read and write Kafka Streams' .checkpoint
// file, which records the changelog offset each store is restored up to:
//
//	0                       format version
//	2                       number of entries
//	app-counts-changelog 0 1042
//	app-sums-changelog 0 77
package state
