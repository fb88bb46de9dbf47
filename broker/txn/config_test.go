package txn

import (
	"maps"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/config"
)

// TestConfigFrom reads Kafka's transaction settings, defaults and
// overrides, and the topic configs __transaction_state is created with.
func TestConfigFrom(t *testing.T) {
	bc, err := config.ParseBroker(map[string]string{
		"transaction.max.timeout.ms":           "60000",
		"transaction.state.log.num.partitions": "7",
		"transaction.state.log.segment.bytes":  "1048576",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ConfigFrom(bc)
	want := Config{
		NodeID:                bc.NodeID,
		MaxTimeout:            time.Minute,
		IDExpiration:          7 * 24 * time.Hour,
		AbortTimedOutInterval: 10 * time.Second,
		RemoveExpiredInterval: time.Hour,
		LoadBufferSize:        5 << 20,
		WriteTimeout:          30 * time.Second,
		NumPartitions:         7,
		ReplicationFactor:     1,
		MinISR:                1,
		SegmentBytes:          1 << 20,
	}
	if cfg != want {
		t.Fatalf("ConfigFrom =\n%+v\nwant\n%+v", cfg, want)
	}
	wantTopic := map[string]string{
		"cleanup.policy": "compact", "compression.type": "uncompressed", "min.insync.replicas": "1",
		"segment.bytes": "1048576", "unclean.leader.election.enable": "false",
	}
	if got := cfg.TopicConfigs(); !maps.Equal(got, wantTopic) {
		t.Fatalf("TopicConfigs = %v, want %v", got, wantTopic)
	}
}
