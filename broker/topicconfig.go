package broker

import (
	"errors"
	"log/slog"
	"maps"
	"math"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/replica"
)

// effectiveConfig lays dynamic broker configs over the static
// configuration: clusterDefault (resource "") and node (this node's ID),
// as config.WithDynamic does. A dynamic config that cannot be applied (one
// stored before it was checked, or one that conflicts with another
// setting) is logged and left out, and the others still apply, as Kafka
// ignores invalid dynamic configs rather than refuse to start or to
// follow the metadata log. When the fault cannot be pinned on a dynamic
// config, only the static configuration applies.
func effectiveConfig(static *config.Broker, clusterDefault, node map[string]string, logger *slog.Logger) *config.Broker {
	clusterDefault, node = maps.Clone(clusterDefault), maps.Clone(node)
	for {
		eff, err := static.WithDynamic(clusterDefault, node)
		if err == nil {
			if len(clusterDefault)+len(node) > 0 {
				logger.Info("dynamic broker configs in effect", "cluster_default", len(clusterDefault), "node", len(node))
			}
			return eff
		}
		var ce *config.Error
		errors.As(err, &ce)
		switch {
		case ce != nil && hasKey(node, ce.Key):
			delete(node, ce.Key)
		case ce != nil && hasKey(clusterDefault, ce.Key):
			delete(clusterDefault, ce.Key)
		default:
			logger.Error("ignoring every dynamic broker config", "err", err)
			return static
		}
		logger.Error("ignoring a dynamic broker config", "config", ce.Key, "err", err)
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// topicResolver returns the function that resolves a topic's overrides
// against the broker configuration bc.
func topicResolver(bc *config.Broker) func(map[string]string) (replica.PartitionConfig, error) {
	return func(overrides map[string]string) (replica.PartitionConfig, error) {
		return partitionConfig(bc, overrides)
	}
}

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
			ProducerIDExpirationMs: int64(b.ProducerIDExpirationMs),
		},
	}, nil
}
