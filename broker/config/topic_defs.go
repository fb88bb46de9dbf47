package config

import "sort"

// topicDef is a topic-level configuration: its definition (with Kafka's
// default, used when the broker supplies none) and the broker settings that
// supply its default, most specific first (Kafka's
// ServerTopicConfigSynonyms).
type topicDef struct {
	def
	synonyms []string
}

var (
	throttledReplicas = check(`"*" or a list of partition:brokerId pairs`, func(v any) bool { return validThrottledReplicas(v.([]string)) })
)

// topicDefs is Kafka 3.9's full list of topic-level configurations, with
// Kafka 4's defaults and constraints.
var topicDefs = []topicDef{
	{def{"cleanup.policy", tList, "delete", 0, cleanupPolicies, "What happens to old segments: delete removes them after retention, compact keeps the latest record per key; both may be given."}, []string{"log.cleanup.policy"}},
	{def{"compression.type", tStr, "producer", 0, compressionTypes, "Codec of stored batches: producer keeps the producer's, uncompressed stores them uncompressed, any other value recompresses."}, []string{"compression.type"}},
	{def{"compression.gzip.level", tInt, "-1", 0, gzipLevel, "Gzip level when compression.type is gzip; -1 is gzip's default."}, []string{"compression.gzip.level"}},
	{def{"compression.lz4.level", tInt, "9", 0, lz4Level, "LZ4 level when compression.type is lz4."}, []string{"compression.lz4.level"}},
	{def{"compression.zstd.level", tInt, "3", 0, zstdLevel, "Zstandard level when compression.type is zstd."}, []string{"compression.zstd.level"}},
	{def{"delete.retention.ms", tLong, "86400000", 0, atLeast(0), "How long tombstones stay in a compacted topic, so consumers can see deletes."}, []string{"log.cleaner.delete.retention.ms"}},
	{def{"file.delete.delay.ms", tLong, "60000", 0, atLeast(0), "Time between deciding to delete a segment and removing its files."}, []string{"log.segment.delete.delay.ms"}},
	{def{"flush.messages", tLong, maxLong, 0, atLeast(1), "Messages written before the log is forced to disk."}, []string{"log.flush.interval.messages"}},
	{def{"flush.ms", tLong, maxLong, 0, atLeast(0), "Longest time data stays unflushed before the log is forced to disk."}, []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}},
	{def{"follower.replication.throttled.replicas", tList, "", 0, throttledReplicas, "Replicas whose follower fetches are throttled, as partition:brokerId pairs or * for all."}, nil},
	{def{"index.interval.bytes", tInt, "4096", 0, atLeast(0), "Bytes between entries of the offset index."}, []string{"log.index.interval.bytes"}},
	{def{"leader.replication.throttled.replicas", tList, "", 0, throttledReplicas, "Replicas whose leader-side replication is throttled, as partition:brokerId pairs or * for all."}, nil},
	{def{"local.retention.bytes", tLong, "-2", 0, atLeast(-2), "Local size limit of a tiered topic; -2 uses retention.bytes."}, []string{"log.local.retention.bytes"}},
	{def{"local.retention.ms", tLong, "-2", 0, atLeast(-2), "Local retention of a tiered topic; -2 uses retention.ms."}, []string{"log.local.retention.ms"}},
	{def{"max.compaction.lag.ms", tLong, maxLong, 0, atLeast(1), "Oldest an uncompacted record may become before its segment must be compacted."}, []string{"log.cleaner.max.compaction.lag.ms"}},
	{def{"max.message.bytes", tInt, "1048588", 0, atLeast(0), "Largest record batch accepted, after compression."}, []string{"message.max.bytes"}},
	{def{"message.downconversion.enable", tBool, "true", 0, nil, "Deprecated: convert batches for consumers of old fetch versions."}, []string{"log.message.downconversion.enable"}},
	{def{"message.format.version", tStr, "3.0-IV1", 0, formatVersion, "Deprecated; batches are always stored in format v2. Accepted and ignored."}, []string{"log.message.format.version"}},
	{def{"message.timestamp.after.max.ms", tLong, "3600000", 0, atLeast(0), "How far in the future a CreateTime timestamp may be."}, []string{"log.message.timestamp.after.max.ms"}},
	{def{"message.timestamp.before.max.ms", tLong, maxLong, 0, atLeast(0), "How far in the past a CreateTime timestamp may be."}, []string{"log.message.timestamp.before.max.ms"}},
	{def{"message.timestamp.difference.max.ms", tLong, maxLong, 0, atLeast(0), "Deprecated: largest difference between a CreateTime timestamp and the broker's clock."}, []string{"log.message.timestamp.difference.max.ms"}},
	{def{"message.timestamp.type", tStr, "CreateTime", 0, timestampTypes, "Whose timestamp a record keeps: the producer's (CreateTime) or the broker's (LogAppendTime)."}, []string{"log.message.timestamp.type"}},
	{def{"min.cleanable.dirty.ratio", tDouble, "0.5", 0, betweenF(0, 1), "Share of the log that must be uncompacted before the cleaner compacts it."}, []string{"log.cleaner.min.cleanable.ratio"}},
	{def{"min.compaction.lag.ms", tLong, "0", 0, atLeast(0), "Youngest a record may be and still be compacted."}, []string{"log.cleaner.min.compaction.lag.ms"}},
	{def{"min.insync.replicas", tInt, "1", 0, atLeast(1), "In-sync replicas that must acknowledge an acks=all write, or it fails with NOT_ENOUGH_REPLICAS."}, []string{"min.insync.replicas"}},
	{def{"preallocate", tBool, "false", 0, nil, "Preallocate segment files on creation."}, []string{"log.preallocate"}},
	{def{"remote.log.copy.disable", tBool, "false", 0, nil, "Stop copying segments of a tiered topic to remote storage."}, nil},
	{def{"remote.log.delete.on.disable", tBool, "false", 0, nil, "Delete remote data when tiered storage is turned off for the topic."}, nil},
	{def{"remote.storage.enable", tBool, "false", 0, nil, "Tier the topic's old segments to remote storage. Runnel does not support it yet."}, nil},
	{def{"retention.bytes", tLong, "-1", 0, nil, "Size a partition may reach before old segments are deleted (delete policy); -1 for no limit."}, []string{"log.retention.bytes"}},
	{def{"retention.ms", tLong, "604800000", 0, atLeast(-1), "How long records are kept before their segment is deleted (delete policy); -1 for no limit."}, []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}},
	{def{"segment.bytes", tInt, "1073741824", 0, atLeast(1048576), "Size at which a segment is rolled."}, []string{"log.segment.bytes"}},
	{def{"segment.index.bytes", tInt, "10485760", 0, atLeast(4), "Largest size of a segment's offset or time index."}, []string{"log.index.size.max.bytes"}},
	{def{"segment.jitter.ms", tLong, "0", 0, atLeast(0), "Largest random amount subtracted from segment.ms, to spread rolls out."}, []string{"log.roll.jitter.ms", "log.roll.jitter.hours"}},
	{def{"segment.ms", tLong, "604800000", 0, atLeast(1), "Age at which the active segment is rolled even if not full, so retention and compaction can act on it."}, []string{"log.roll.ms", "log.roll.hours"}},
	{def{"unclean.leader.election.enable", tBool, "false", 0, nil, "Allow a replica outside the ISR to become leader when no ISR member is left, at the risk of losing acknowledged data."}, []string{"unclean.leader.election.enable"}},
}

var topicIndex = func() map[string]*topicDef {
	m := make(map[string]*topicDef, len(topicDefs))
	for i := range topicDefs {
		m[topicDefs[i].name] = &topicDefs[i]
	}
	return m
}()

// IsTopicConfig reports whether name is a topic-level configuration.
func IsTopicConfig(name string) bool { return topicIndex[name] != nil }

// topicNames returns every topic configuration name, sorted.
func topicNames() []string {
	names := make([]string, 0, len(topicDefs))
	for i := range topicDefs {
		names = append(names, topicDefs[i].name)
	}
	sort.Strings(names)
	return names
}

// topicForBroker returns the topic configuration whose broker default is
// the broker setting name ("log.retention.hours" gives "retention.ms").
func topicForBroker(name string) string {
	for i := range topicDefs {
		for _, s := range topicDefs[i].synonyms {
			if s == name {
				return topicDefs[i].name
			}
		}
	}
	return ""
}
