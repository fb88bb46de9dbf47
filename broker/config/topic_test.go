package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestResolveTopic(t *testing.T) {
	plain := mustParse(t, nil)
	tuned := mustParse(t, map[string]string{
		"log.retention.hours":             "24",
		"log.roll.ms":                     "3600000",
		"log.segment.bytes":               "2097152",
		"log.cleanup.policy":              "compact",
		"message.max.bytes":               "2000000",
		"min.insync.replicas":             "2",
		"compression.type":                "zstd",
		"log.cleaner.min.cleanable.ratio": "0.25",
		"log.flush.scheduler.interval.ms": "5000",
		"unclean.leader.election.enable":  "true",
	})
	tests := []struct {
		name      string
		broker    *Broker
		overrides map[string]string
		check     func(Topic) bool
	}{
		{"Kafka defaults", plain, nil, func(tp Topic) bool {
			return tp.RetentionMs == 604800000 && tp.RetentionBytes == -1 && tp.SegmentBytes == 1<<30 &&
				tp.SegmentMs == 604800000 && tp.CleanupPolicy == CleanupPolicy{Delete: true} &&
				tp.MaxMessageBytes == 1048588 && tp.MinInsyncReplicas == 1 && tp.CompressionType == "producer" &&
				tp.MessageTimestampType == "CreateTime" && tp.MinCleanableDirtyRatio == 0.5 &&
				tp.DeleteRetentionMs == 86400000 && tp.MaxCompactionLagMs == 1<<63-1 && !tp.UncleanLeaderElectionEnable &&
				tp.FlushMs == 1<<63-1 && tp.SegmentIndexBytes == 10485760 && tp.MessageTimestampAfterMaxMs == 3600000
		}},
		{"nil broker is the default broker", nil, nil, func(tp Topic) bool { return tp.RetentionMs == 604800000 }},
		{"broker values", tuned, nil, func(tp Topic) bool {
			return tp.RetentionMs == 86400000 && tp.SegmentMs == 3600000 && tp.SegmentBytes == 2097152 &&
				tp.CleanupPolicy == CleanupPolicy{Compact: true} && tp.MaxMessageBytes == 2000000 &&
				tp.MinInsyncReplicas == 2 && tp.CompressionType == "zstd" && tp.MinCleanableDirtyRatio == 0.25 &&
				tp.FlushMs == 5000 && tp.UncleanLeaderElectionEnable
		}},
		{"overrides win", tuned, map[string]string{
			"retention.ms": "-1", "segment.ms": "60000", "cleanup.policy": "compact,delete", "max.message.bytes": "100",
			"min.insync.replicas": "1", "compression.type": "lz4", "unclean.leader.election.enable": "false",
			"leader.replication.throttled.replicas": "0:1,1:2", "flush.ms": "10",
		}, func(tp Topic) bool {
			return tp.RetentionMs == -1 && tp.SegmentMs == 60000 && tp.CleanupPolicy == CleanupPolicy{Compact: true, Delete: true} &&
				tp.MaxMessageBytes == 100 && tp.MinInsyncReplicas == 1 && tp.CompressionType == "lz4" &&
				!tp.UncleanLeaderElectionEnable && slices.Equal(tp.LeaderReplicationThrottledReplicas, []string{"0:1", "1:2"}) &&
				tp.FlushMs == 10 && tp.SegmentBytes == 2097152
		}},
		{"empty cleanup policy", plain, map[string]string{"cleanup.policy": ""}, func(tp Topic) bool {
			return tp.CleanupPolicy == CleanupPolicy{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ResolveTopic(tt.broker, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(tp) {
				t.Errorf("unexpected topic configuration %+v", tp)
			}
		})
	}
}

func TestValidateTopicErrors(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		class     error
		key       string
		want      []string
	}{
		{"unknown", map[string]string{"retention.days": "1"}, ErrUnknown, "retention.days", nil},
		{"broker name", map[string]string{"log.retention.hours": "1"}, ErrUnknown, "log.retention.hours", []string{"retention.ms"}},
		{"misspelt", map[string]string{"retention.msec": "1"}, ErrUnknown, "retention.msec", []string{"retention.ms"}},
		{"wrong type", map[string]string{"retention.ms": "abc"}, ErrInvalid, "retention.ms", []string{`"abc"`, "LONG"}},
		{"range", map[string]string{"retention.ms": "-2"}, ErrInvalid, "retention.ms", []string{"at least -1"}},
		{"segment below 1 MiB", map[string]string{"segment.bytes": "100"}, ErrInvalid, "segment.bytes", []string{"1048576"}},
		{"enum", map[string]string{"cleanup.policy": "compact,remove"}, ErrInvalid, "cleanup.policy", []string{"compact, delete"}},
		{"compression", map[string]string{"compression.type": "brotli"}, ErrInvalid, "compression.type", []string{"zstd"}},
		{"gzip level", map[string]string{"compression.gzip.level": "0"}, ErrInvalid, "compression.gzip.level", []string{"-1"}},
		{"throttled replicas", map[string]string{"leader.replication.throttled.replicas": "0-1"}, ErrInvalid, "leader.replication.throttled.replicas", []string{"partition:brokerId"}},
		{"format version", map[string]string{"message.format.version": "latest"}, ErrInvalid, "message.format.version", nil},
		{"compaction lags", map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, ErrInvalid, "min.compaction.lag.ms", []string{"max.compaction.lag.ms"}},
		{"compaction lag against default", map[string]string{"max.compaction.lag.ms": "5", "min.compaction.lag.ms": "6"}, ErrInvalid, "min.compaction.lag.ms", nil},
		{"tiered storage", map[string]string{"remote.storage.enable": "true"}, ErrInvalid, "remote.storage.enable", []string{"tiered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{ValidateTopic(tt.overrides), resolveErr(tt.overrides)} {
				if !errors.Is(err, tt.class) {
					t.Fatalf("error %v does not wrap %v", err, tt.class)
				}
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != tt.key {
					t.Fatalf("error %v: key %q, want %q", err, ce.Key, tt.key)
				}
				for _, w := range append(tt.want, tt.key) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("message %q does not contain %q", err, w)
					}
				}
			}
		})
	}
	if err := ValidateTopic(map[string]string{"retention.ms": "1000", "cleanup.policy": "compact", "min.insync.replicas": "2"}); err != nil {
		t.Errorf("valid overrides rejected: %v", err)
	}
	if err := ValidateTopic(nil); err != nil {
		t.Errorf("no overrides rejected: %v", err)
	}
}

func resolveErr(overrides map[string]string) error {
	_, err := ResolveTopic(nil, overrides)
	return err
}

func TestResolveTopicAgainstBroker(t *testing.T) {
	// The broker's max compaction lag conflicts with the topic's minimum.
	b := mustParse(t, map[string]string{"log.cleaner.max.compaction.lag.ms": "1000"})
	_, err := ResolveTopic(b, map[string]string{"min.compaction.lag.ms": "5000"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "min.compaction.lag.ms" {
		t.Fatalf("got %v, want an error naming min.compaction.lag.ms", err)
	}
}

func TestIsTopicConfig(t *testing.T) {
	for _, n := range []string{"retention.ms", "cleanup.policy", "segment.bytes", "max.message.bytes", "compression.zstd.level", "remote.storage.enable"} {
		if !IsTopicConfig(n) {
			t.Errorf("IsTopicConfig(%q) = false", n)
		}
	}
	for _, n := range []string{"log.retention.ms", "num.partitions", "", "retention"} {
		if IsTopicConfig(n) {
			t.Errorf("IsTopicConfig(%q) = true", n)
		}
	}
}

// FuzzValidateTopic sets one topic override, picked by index or arbitrary.
// Validation must not panic, must agree with ResolveTopic, and a failure
// must name the key.
func FuzzValidateTopic(f *testing.F) {
	keys := topicNames()
	index := func(k string) uint16 { return uint16(slices.Index(keys, k)) }
	f.Add(index("retention.ms"), "", "-1")
	f.Add(index("cleanup.policy"), "", " compact , delete ")
	f.Add(index("leader.replication.throttled.replicas"), "", "*")
	f.Add(index("min.cleanable.dirty.ratio"), "", "0x1p-2")
	f.Add(index("message.format.version"), "", "0.10.2-IV0")
	f.Add(uint16(0), "log.retention.ms", "1")
	f.Fuzz(func(t *testing.T, pick uint16, key, value string) {
		if key == "" {
			key = keys[int(pick)%len(keys)]
		}
		o := map[string]string{key: value}
		err := ValidateTopic(o)
		_, rerr := ResolveTopic(nil, o)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("ValidateTopic: %v, ResolveTopic: %v", err, rerr)
		}
		var ce *Error
		if err != nil && (!errors.As(err, &ce) || ce.Key == "") {
			t.Fatalf("error %v does not name a key", err)
		}
		if n := len(DescribeTopic(nil, o)); n != len(topicDefs) {
			t.Fatalf("DescribeTopic returned %d entries", n)
		}
	})
}
