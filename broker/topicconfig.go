package broker

import (
	"math"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/replica"
)

// partitionConfig resolves a topic's overrides against the broker's
// settings and translates them for the log and the replica. Kafka writes
// "never" as Long.MAX_VALUE; the log's Config says it with 0.
func partitionConfig(b *config.Broker, overrides map[string]string) (replica.PartitionConfig, error) {
	t, err := config.ResolveTopic(b, overrides)
	if err != nil {
		return replica.PartitionConfig{}, err
	}
	never := func(v int64) int64 {
		if v == math.MaxInt64 {
			return 0
		}
		return v
	}
	return replica.PartitionConfig{
		MinInsyncReplicas: int(t.MinInsyncReplicas),
		Log: log.Config{
			SegmentBytes:           int64(t.SegmentBytes),
			SegmentMs:              t.SegmentMs,
			SegmentJitterMs:        t.SegmentJitterMs,
			SegmentIndexBytes:      t.SegmentIndexBytes,
			IndexIntervalBytes:     t.IndexIntervalBytes,
			RetentionMs:            t.RetentionMs,
			RetentionBytes:         t.RetentionBytes,
			FlushMessages:          never(t.FlushMessages),
			FlushMs:                never(t.FlushMs),
			FileDeleteDelayMs:      t.FileDeleteDelayMs,
			Preallocate:            t.Preallocate,
			MaxMessageBytes:        t.MaxMessageBytes,
			LogAppendTime:          t.MessageTimestampType == "LogAppendTime",
			Compact:                t.CleanupPolicy.Compact,
			Delete:                 t.CleanupPolicy.Delete,
			DeleteRetentionMs:      t.DeleteRetentionMs,
			MinCompactionLagMs:     t.MinCompactionLagMs,
			MaxCompactionLagMs:     never(t.MaxCompactionLagMs),
			MinCleanableDirtyRatio: t.MinCleanableDirtyRatio,
		},
	}, nil
}
