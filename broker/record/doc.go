// Package record reads, validates, rewrites and builds Kafka RecordBatch v2
// (magic 2) data exactly as clients send it and as the log stores it.
//
// # Batches
//
// A Batch is a view over the bytes of one whole batch; nothing is copied or
// decoded until a field is asked for. The layout (all integers big-endian):
//
//	offset  size  field
//	     0     8  baseOffset            ┐ rewritten by the leader,
//	     8     4  batchLength           │ not covered by the CRC
//	    12     4  partitionLeaderEpoch  ┘
//	    16     1  magic (2)
//	    17     4  crc (CRC-32C of bytes 21..end)
//	    21     2  attributes
//	    23     4  lastOffsetDelta
//	    27     8  baseTimestamp (first timestamp)
//	    35     8  maxTimestamp
//	    43     8  producerId
//	    51     2  producerEpoch
//	    53     4  baseSequence
//	    57     4  recordCount
//	    61     …  records (possibly compressed)
//
// batchLength counts the bytes after the batchLength field itself, so a
// whole batch is batchLength+12 bytes.
//
// The attribute bits are: 0-2 compression codec (0 none, 1 gzip, 2 snappy,
// 3 lz4, 4 zstd), 3 timestamp type (set: LogAppendTime), 4 transactional,
// 5 control, 6 delete horizon present (KIP-534).
//
// # Records
//
// After the header come recordCount records, compressed as one stream when
// the codec is not none. Each record is (varint is a zigzag int32 and
// varlong a zigzag int64, both base-128 little-endian groups as in protocol
// buffers):
//
//	length          varint   bytes that follow in this record
//	attributes      int8     unused, 0
//	timestampDelta  varlong  timestamp - baseTimestamp
//	offsetDelta     varint   offset - baseOffset
//	keyLength       varint   -1 for a null key
//	key             bytes
//	valueLength     varint   -1 for a null value (a tombstone)
//	value           bytes
//	headerCount     varint
//	headers         headerCount × (keyLength varint, key, valueLength varint
//	                (-1 for null), value)
//
// A batch produced by a client holds records with offset deltas 0, 1, …,
// recordCount-1 (ValidateProduced). The log cleaner may later remove records
// but keeps lastOffsetDelta, so a stored batch's deltas only strictly
// increase and stay at most lastOffsetDelta (Validate); a batch whose
// records were all removed but whose producer state matters is kept as a
// header with no records (EmptyBatch).
//
// In a LogAppendTime batch every record's timestamp is the batch's
// maxTimestamp, whatever its delta says; DecodeRecords reports it so, as
// Kafka's clients do.
//
// # Compression
//
// gzip (RFC 1952, concatenated members allowed), snappy (both the xerial
// framing Kafka's Java client writes and the raw block librdkafka and
// franz-go write), lz4 (the LZ4 frame format) and zstd (one or more frames,
// with or without a declared content size) are read. The Builder writes
// gzip, xerial-framed snappy with 32 KiB blocks (what the Java producer
// writes; every client reads it), lz4 frames with independent 64 KiB blocks
// (the only kind Kafka's Java reader accepts) and one zstd frame.
//
// Decompressing untrusted bytes is bounded: a batch whose records would
// decompress to more than MaxDecompressedSize bytes is ErrCorrupt. Sizes
// claimed inside a compressed stream are checked before anything is
// allocated for them: a snappy block's decoded length against the most
// snappy can produce from the block, a zstd stream's size against a bound
// read from its frame and block headers. Record counts and length fields
// are never trusted for preallocation, and Validate walks the records
// without building them.
package record
