package config

import (
	"reflect"
	"slices"
	"sort"
)

// CleanupPolicy is a topic's cleanup.policy: delete old segments after
// retention, compact to the latest record per key, both, or (an empty list)
// neither.
type CleanupPolicy struct {
	Compact bool
	Delete  bool
}

// Topic is a topic's effective configuration: for each property the
// topic's override, else the broker's value, else Kafka's default.
type Topic struct {
	CleanupPolicy                        CleanupPolicy // cleanup.policy
	CompressionType                      string        `config:"compression.type"`                        // compression.type
	CompressionGzipLevel                 int32         `config:"compression.gzip.level"`                  // compression.gzip.level
	CompressionLz4Level                  int32         `config:"compression.lz4.level"`                   // compression.lz4.level
	CompressionZstdLevel                 int32         `config:"compression.zstd.level"`                  // compression.zstd.level
	DeleteRetentionMs                    int64         `config:"delete.retention.ms"`                     // delete.retention.ms
	FileDeleteDelayMs                    int64         `config:"file.delete.delay.ms"`                    // file.delete.delay.ms
	FlushMessages                        int64         `config:"flush.messages"`                          // flush.messages
	FlushMs                              int64         `config:"flush.ms"`                                // flush.ms
	FollowerReplicationThrottledReplicas []string      `config:"follower.replication.throttled.replicas"` // follower.replication.throttled.replicas
	IndexIntervalBytes                   int32         `config:"index.interval.bytes"`                    // index.interval.bytes
	LeaderReplicationThrottledReplicas   []string      `config:"leader.replication.throttled.replicas"`   // leader.replication.throttled.replicas
	LocalRetentionBytes                  int64         `config:"local.retention.bytes"`                   // local.retention.bytes
	LocalRetentionMs                     int64         `config:"local.retention.ms"`                      // local.retention.ms
	MaxCompactionLagMs                   int64         `config:"max.compaction.lag.ms"`                   // max.compaction.lag.ms
	MaxMessageBytes                      int32         `config:"max.message.bytes"`                       // max.message.bytes
	MessageDownconversionEnable          bool          `config:"message.downconversion.enable"`           // message.downconversion.enable
	MessageFormatVersion                 string        `config:"message.format.version"`                  // message.format.version
	MessageTimestampAfterMaxMs           int64         `config:"message.timestamp.after.max.ms"`          // message.timestamp.after.max.ms
	MessageTimestampBeforeMaxMs          int64         `config:"message.timestamp.before.max.ms"`         // message.timestamp.before.max.ms
	MessageTimestampDifferenceMaxMs      int64         `config:"message.timestamp.difference.max.ms"`     // message.timestamp.difference.max.ms
	MessageTimestampType                 string        `config:"message.timestamp.type"`                  // message.timestamp.type
	MinCleanableDirtyRatio               float64       `config:"min.cleanable.dirty.ratio"`               // min.cleanable.dirty.ratio
	MinCompactionLagMs                   int64         `config:"min.compaction.lag.ms"`                   // min.compaction.lag.ms
	MinInsyncReplicas                    int32         `config:"min.insync.replicas"`                     // min.insync.replicas
	Preallocate                          bool          `config:"preallocate"`                             // preallocate
	RemoteLogCopyDisable                 bool          `config:"remote.log.copy.disable"`                 // remote.log.copy.disable
	RemoteLogDeleteOnDisable             bool          `config:"remote.log.delete.on.disable"`            // remote.log.delete.on.disable
	RemoteStorageEnable                  bool          `config:"remote.storage.enable"`                   // remote.storage.enable
	RetentionBytes                       int64         `config:"retention.bytes"`                         // retention.bytes
	RetentionMs                          int64         `config:"retention.ms"`                            // retention.ms (-1: no limit)
	SegmentBytes                         int32         `config:"segment.bytes"`                           // segment.bytes
	SegmentIndexBytes                    int32         `config:"segment.index.bytes"`                     // segment.index.bytes
	SegmentJitterMs                      int64         `config:"segment.jitter.ms"`                       // segment.jitter.ms
	SegmentMs                            int64         `config:"segment.ms"`                              // segment.ms
	UncleanLeaderElectionEnable          bool          `config:"unclean.leader.election.enable"`          // unclean.leader.election.enable
}

// ValidateTopic checks topic-level overrides on their own, against Kafka's
// defaults: every key must be a topic configuration and every value valid.
// An unknown key or a bad value is an *Error naming it.
func ValidateTopic(overrides map[string]string) error {
	vals, err := parseTopicOverrides(overrides)
	if err != nil {
		return err
	}
	for i := range topicDefs {
		d := &topicDefs[i]
		if _, ok := vals[d.name]; !ok {
			vals[d.name], _ = parseType(d.typ, d.dflt)
		}
	}
	return checkTopic(vals, overrides)
}

// ResolveTopic returns a topic's effective configuration: overrides >
// broker value > default. It fails as ValidateTopic does, and also when the
// combination with the broker's values is invalid.
func ResolveTopic(b *Broker, overrides map[string]string) (Topic, error) {
	if b == nil {
		b = defaultBroker()
	}
	vals, err := parseTopicOverrides(overrides)
	if err != nil {
		return Topic{}, err
	}
	for i := range topicDefs {
		d := &topicDefs[i]
		if _, ok := vals[d.name]; !ok {
			vals[d.name] = b.topicDefault(d)
		}
	}
	if err := checkTopic(vals, overrides); err != nil {
		return Topic{}, err
	}
	var t Topic
	fill(reflect.ValueOf(&t).Elem(), vals)
	policy := vals["cleanup.policy"].([]string)
	t.CleanupPolicy = CleanupPolicy{Compact: slices.Contains(policy, "compact"), Delete: slices.Contains(policy, "delete")}
	return t, nil
}

func parseTopicOverrides(overrides map[string]string) (map[string]any, error) {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make(map[string]any, len(topicDefs))
	for _, k := range keys {
		d := topicIndex[k]
		if d == nil {
			return nil, unknown(k, topicHint(k))
		}
		v, err := d.parse(overrides[k])
		if err != nil {
			return nil, err
		}
		vals[k] = v
	}
	return vals, nil
}

func topicHint(k string) string {
	if t := topicForBroker(k); t != "" && t != k {
		return k + " is a broker configuration; the topic-level configuration is " + t
	}
	if s := closest(k, topicNames()); s != "" {
		return "did you mean " + s + "?"
	}
	return "not a topic-level configuration"
}

// checkTopic checks the constraints between a topic's effective values.
func checkTopic(vals map[string]any, overrides map[string]string) error {
	if vals["remote.storage.enable"].(bool) {
		return invalid("remote.storage.enable", overrides["remote.storage.enable"], "Runnel does not support tiered storage yet")
	}
	minLag, maxLag := vals["min.compaction.lag.ms"].(int64), vals["max.compaction.lag.ms"].(int64)
	if minLag > maxLag {
		key, other := "min.compaction.lag.ms", "max.compaction.lag.ms"
		if _, set := overrides[key]; !set {
			key, other = other, key
		}
		return invalid(key, render(vals[key]), "min.compaction.lag.ms ("+render(minLag)+
			") must not exceed max.compaction.lag.ms ("+render(maxLag)+"); check "+other+" too")
	}
	return nil
}

// topicDefault is the broker's value for topic configuration d: the
// derived value for the time settings with several broker synonyms, the
// broker setting's value for the others, and Kafka's default for topic
// settings that have no broker counterpart.
func (b *Broker) topicDefault(d *topicDef) any {
	switch d.name {
	case "retention.ms":
		return b.LogRetentionMs
	case "segment.ms":
		return b.LogRollMs
	case "segment.jitter.ms":
		return b.LogRollJitterMs
	case "flush.ms":
		return b.LogFlushIntervalMs
	}
	if len(d.synonyms) > 0 {
		if v := b.vals[d.synonyms[0]]; v != nil {
			return v
		}
	}
	v, _ := parseType(d.typ, d.dflt)
	return v
}

// defaultBroker is the configuration of a node started with no settings.
func defaultBroker() *Broker {
	b, err := ParseBroker(nil)
	if err != nil {
		panic("config: the default broker configuration is invalid: " + err.Error())
	}
	return b
}
