package log

import (
	"fmt"
	"log/slog"
	"math"
)

// Kafka's topic-level defaults, applied by Open and SetConfig to zero
// fields.
const (
	DefaultSegmentBytes           = 1 << 30           // segment.bytes
	DefaultSegmentMs              = 7 * 24 * 3600_000 // segment.ms
	DefaultSegmentIndexBytes      = 10 << 20          // segment.index.bytes
	DefaultIndexIntervalBytes     = 4096              // index.interval.bytes
	DefaultRetentionMs            = 7 * 24 * 3600_000 // retention.ms
	DefaultFileDeleteDelayMs      = 60_000            // file.delete.delay.ms
	DefaultMaxMessageBytes        = 1048588           // max.message.bytes
	DefaultDeleteRetentionMs      = 24 * 3600_000     // delete.retention.ms
	DefaultMinCleanableDirtyRatio = 0.5               // min.cleanable.dirty.ratio
	DefaultProducerIDExpirationMs = 24 * 3600_000     // producer.id.expiration.ms

	// Unlimited asks for "no limit" in fields that have one
	// (RetentionMs, RetentionBytes).
	Unlimited = -1

	// minSegmentBytes is the smallest segment.bytes Kafka accepts.
	minSegmentBytes = 14
	// minSegmentIndexBytes is the smallest segment.index.bytes Kafka accepts.
	minSegmentIndexBytes = 4
)

// Config is one partition's settings, named after Kafka's topic-level
// configs. The zero value of every field means "Kafka's default"; where
// Kafka also has an "unlimited" value it is -1 (Unlimited). Values Kafka
// allows but that collide with "default" are spelled differently, as each
// field says. Open and SetConfig default and validate a copy.
type Config struct {
	// SegmentBytes is the size at which the active segment rolls.
	// segment.bytes; 0 = 1 GiB. At least 14, at most 2 GiB-1.
	SegmentBytes int64
	// SegmentMs is the age at which the active segment rolls, measured
	// from its first batch's timestamp (or its creation when that has
	// none). segment.ms; 0 = 7 days.
	SegmentMs int64
	// SegmentJitterMs is the largest random amount subtracted from
	// SegmentMs per segment, so that many partitions do not roll at once.
	// segment.jitter.ms; 0 = none (Kafka's default).
	SegmentJitterMs int64
	// SegmentIndexBytes bounds each index file; a full index rolls the
	// segment. segment.index.bytes; 0 = 10 MiB.
	SegmentIndexBytes int32
	// IndexIntervalBytes is how many log bytes pass between offset index
	// entries. index.interval.bytes; 0 = 4096.
	IndexIntervalBytes int32
	// RetentionMs deletes closed segments whose newest record is older.
	// retention.ms; 0 = 7 days, -1 = unlimited.
	RetentionMs int64
	// RetentionBytes deletes the oldest closed segments while the log is
	// larger. retention.bytes; 0 = -1 = unlimited (Kafka's default).
	RetentionBytes int64
	// FlushMessages fsyncs once this many messages (offsets) are
	// unflushed. flush.messages; 0 = never (the OS decides, Kafka's
	// default). 1 = fsync every append; concurrent appenders then share
	// one fsync (group commit).
	FlushMessages int64
	// FlushMs fsyncs when the last flush is this old (checked by
	// FlushIfDue). flush.ms; 0 = never (Kafka's default).
	FlushMs int64
	// FileDeleteDelayMs is how long a segment removed from the log stays
	// readable for reads in progress before its files are deleted.
	// file.delete.delay.ms; 0 = 60 s, -1 = delete at once.
	FileDeleteDelayMs int64
	// Preallocate sizes each new segment file to SegmentBytes up front.
	// preallocate.
	Preallocate bool
	// MaxMessageBytes is the largest batch a client may append.
	// max.message.bytes; 0 = 1048588.
	MaxMessageBytes int32
	// LogAppendTime stamps batches with the broker's time.
	// message.timestamp.type=LogAppendTime (false = CreateTime).
	LogAppendTime bool
	// Compact: cleanup.policy contains compact. Compacted topics reject
	// records with a null key.
	Compact bool
	// Delete: cleanup.policy contains delete. When both Compact and
	// Delete are false the policy is Kafka's default, delete.
	Delete bool
	// DeleteRetentionMs is how long the cleaner keeps tombstones.
	// delete.retention.ms; 0 = 1 day.
	DeleteRetentionMs int64
	// MinCompactionLagMs is the least age of a record before the cleaner
	// may compact it. min.compaction.lag.ms; 0 = 0 (Kafka's default).
	MinCompactionLagMs int64
	// MaxCompactionLagMs is the most a record may wait before it becomes
	// eligible for compaction. max.compaction.lag.ms; 0 = unlimited
	// (Kafka's default, Long.MAX_VALUE).
	MaxCompactionLagMs int64
	// MinCleanableDirtyRatio is the dirty share of the log above which the
	// cleaner compacts it. min.cleanable.dirty.ratio; 0 = 0.5.
	MinCleanableDirtyRatio float64
	// ProducerIDExpirationMs is how long the partition remembers an
	// idempotent producer after its latest batch's timestamp; expired
	// producers are forgotten by ApplyRetention. A broker setting in
	// Kafka. producer.id.expiration.ms; 0 = 1 day.
	ProducerIDExpirationMs int64

	// FS is the file system; nil means the operating system's (OS()).
	// Fixed at Open: SetConfig ignores it.
	FS FS
	// Logger receives the log's messages; nil discards them. Fixed at
	// Open: SetConfig ignores it.
	Logger *slog.Logger
}

// withDefaults returns a copy of c with zero fields defaulted, or an error
// naming the first invalid property.
func (c Config) withDefaults() (Config, error) {
	bad := func(prop string, v any, rule string) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s=%v: %s", ErrInvalidConfig, prop, v, rule)
	}
	switch {
	case c.SegmentBytes == 0:
		c.SegmentBytes = DefaultSegmentBytes
	case c.SegmentBytes < minSegmentBytes || c.SegmentBytes > math.MaxInt32:
		return bad("segment.bytes", c.SegmentBytes, "must be between 14 and 2147483647")
	}
	switch {
	case c.SegmentMs == 0:
		c.SegmentMs = DefaultSegmentMs
	case c.SegmentMs < 0:
		return bad("segment.ms", c.SegmentMs, "must be positive")
	}
	if c.SegmentJitterMs < 0 {
		return bad("segment.jitter.ms", c.SegmentJitterMs, "must not be negative")
	}
	switch {
	case c.SegmentIndexBytes == 0:
		c.SegmentIndexBytes = DefaultSegmentIndexBytes
	case c.SegmentIndexBytes < minSegmentIndexBytes:
		return bad("segment.index.bytes", c.SegmentIndexBytes, "must be at least 4")
	}
	switch {
	case c.IndexIntervalBytes == 0:
		c.IndexIntervalBytes = DefaultIndexIntervalBytes
	case c.IndexIntervalBytes < 0:
		return bad("index.interval.bytes", c.IndexIntervalBytes, "must not be negative")
	}
	switch {
	case c.RetentionMs == 0:
		c.RetentionMs = DefaultRetentionMs
	case c.RetentionMs < Unlimited:
		return bad("retention.ms", c.RetentionMs, "must be positive, or -1 for unlimited")
	}
	switch {
	case c.RetentionBytes == 0:
		c.RetentionBytes = Unlimited
	case c.RetentionBytes < Unlimited:
		return bad("retention.bytes", c.RetentionBytes, "must be positive, or -1 for unlimited")
	}
	switch {
	case c.FlushMessages == 0:
		c.FlushMessages = math.MaxInt64
	case c.FlushMessages < 0:
		return bad("flush.messages", c.FlushMessages, "must be positive")
	}
	switch {
	case c.FlushMs == 0:
		c.FlushMs = math.MaxInt64
	case c.FlushMs < 0:
		return bad("flush.ms", c.FlushMs, "must be positive")
	}
	switch {
	case c.FileDeleteDelayMs == 0:
		c.FileDeleteDelayMs = DefaultFileDeleteDelayMs
	case c.FileDeleteDelayMs < -1:
		return bad("file.delete.delay.ms", c.FileDeleteDelayMs, "must be positive, or -1 for no delay")
	}
	switch {
	case c.MaxMessageBytes == 0:
		c.MaxMessageBytes = DefaultMaxMessageBytes
	case c.MaxMessageBytes < 0:
		return bad("max.message.bytes", c.MaxMessageBytes, "must not be negative")
	}
	if !c.Compact && !c.Delete {
		c.Delete = true
	}
	switch {
	case c.DeleteRetentionMs == 0:
		c.DeleteRetentionMs = DefaultDeleteRetentionMs
	case c.DeleteRetentionMs < 0:
		return bad("delete.retention.ms", c.DeleteRetentionMs, "must be positive")
	}
	if c.MinCompactionLagMs < 0 {
		return bad("min.compaction.lag.ms", c.MinCompactionLagMs, "must not be negative")
	}
	switch {
	case c.MaxCompactionLagMs == 0:
		c.MaxCompactionLagMs = math.MaxInt64
	case c.MaxCompactionLagMs < 0:
		return bad("max.compaction.lag.ms", c.MaxCompactionLagMs, "must be positive")
	}
	switch {
	case c.MinCleanableDirtyRatio == 0:
		c.MinCleanableDirtyRatio = DefaultMinCleanableDirtyRatio
	case c.MinCleanableDirtyRatio < 0 || c.MinCleanableDirtyRatio > 1 || math.IsNaN(c.MinCleanableDirtyRatio):
		return bad("min.cleanable.dirty.ratio", c.MinCleanableDirtyRatio, "must be between 0 and 1")
	}
	switch {
	case c.ProducerIDExpirationMs == 0:
		c.ProducerIDExpirationMs = DefaultProducerIDExpirationMs
	case c.ProducerIDExpirationMs < 0:
		return bad("producer.id.expiration.ms", c.ProducerIDExpirationMs, "must be positive")
	}
	if c.FS == nil {
		c.FS = OS()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// fileDeleteDelayMs is the delay in milliseconds (0 for "at once").
func (c *Config) fileDeleteDelayMs() int64 {
	if c.FileDeleteDelayMs < 0 {
		return 0
	}
	return c.FileDeleteDelayMs
}

// offsetIndexEntries is how many entries fit in one offset index file.
func (c *Config) offsetIndexEntries() int { return int(c.SegmentIndexBytes) / offsetEntrySize }

// timeIndexEntries is how many entries fit in one time index file.
func (c *Config) timeIndexEntries() int { return int(c.SegmentIndexBytes) / timeEntrySize }
