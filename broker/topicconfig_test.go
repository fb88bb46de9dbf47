package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/runnel/runnel/broker/config"
)

func TestEffectiveConfigLeavesOutWhatCannotApply(t *testing.T) {
	static, err := config.ParseBroker(map[string]string{"log.cleaner.min.compaction.lag.ms": "500"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		clusterDefault map[string]string
		node           map[string]string
		retentionMs    int64
		minISR         int32
		logged         []string // keys named in the log
	}{
		{"all good", map[string]string{"log.retention.ms": "3600000"}, map[string]string{"min.insync.replicas": "2"},
			3_600_000, 2, nil},
		{"bad ones left out", map[string]string{"log.retention.ms": "3600000", "node.id": "3", "listeners": "PLAINTEXT://127.0.0.1:1"},
			map[string]string{"log.segment.bytes": "1", "min.insync.replicas": "2", "no.such.config": "x"},
			3_600_000, 2, []string{"node.id", "listeners", "log.segment.bytes", "no.such.config"}},
		// The conflict is reported against the static setting, so no
		// dynamic config can be blamed: only the static configuration
		// applies.
		{"unattributable conflict", map[string]string{"log.retention.ms": "3600000"},
			map[string]string{"log.cleaner.max.compaction.lag.ms": "100"},
			static.LogRetentionMs, static.MinInsyncReplicas, []string{"ignoring every dynamic broker config", "log.cleaner.min.compaction.lag.ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			given := len(tt.clusterDefault) + len(tt.node)
			eff := effectiveConfig(static, tt.clusterDefault, tt.node, slog.New(slog.NewTextHandler(&buf, nil)))
			if eff.LogRetentionMs != tt.retentionMs || eff.MinInsyncReplicas != tt.minISR {
				t.Errorf("retention %d min ISR %d, want %d and %d", eff.LogRetentionMs, eff.MinInsyncReplicas, tt.retentionMs, tt.minISR)
			}
			if eff.NodeID != static.NodeID || eff.LogSegmentBytes != static.LogSegmentBytes {
				t.Errorf("node %d segment bytes %d: a refused dynamic config applied", eff.NodeID, eff.LogSegmentBytes)
			}
			for _, w := range tt.logged {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log does not mention %s:\n%s", w, buf.String())
				}
			}
			if tt.logged == nil && strings.Contains(buf.String(), "level=ERROR") {
				t.Errorf("errors logged:\n%s", buf.String())
			}
			// The maps belong to the metadata image and stay as they were.
			if len(tt.clusterDefault)+len(tt.node) != given {
				t.Error("the image's dynamic configs were modified")
			}
		})
	}
}
