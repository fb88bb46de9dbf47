package replica

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
)

// retentionResolver resolves retention.ms as a broker would: the topic's
// override, else the broker default given.
func retentionResolver(brokerDefault int64) func(map[string]string) (PartitionConfig, error) {
	return func(overrides map[string]string) (PartitionConfig, error) {
		ms := brokerDefault
		if s, ok := overrides["retention.ms"]; ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return PartitionConfig{}, err
			}
			ms = n
		}
		return PartitionConfig{Log: log.Config{RetentionMs: ms}, MinInsyncReplicas: 1}, nil
	}
}

// withConfigs returns img with topic's overrides set.
func withConfigs(t *testing.T, img *metadata.Image, topic string, configs map[string]string) *metadata.Image {
	t.Helper()
	var recs []metadata.Record
	for k, v := range configs {
		recs = append(recs, metadata.SetConfig(metadata.ResourceTopic, topic, k, &v))
	}
	img, err := img.Apply(recs...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func retentionOf(t *testing.T, m *Manager, topic string) int64 {
	t.Helper()
	p, err := m.Get(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p.Log().Config().RetentionMs
}

func TestSetTopicConfigReconfiguresEveryTopic(t *testing.T) {
	logs := &testLogs{t: t, dir: t.TempDir(), logs: map[TopicPartition]*log.Log{}}
	const hour, day = 3_600_000, 86_400_000
	m := NewManager(ManagerConfig{NodeID: 1, Logs: logs, TopicConfig: retentionResolver(day)})
	lead := metadata.Partition{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}
	img := image(t, map[string][]metadata.Partition{"plain": {lead}, "tuned": {lead}})
	img = withConfigs(t, img, "tuned", map[string]string{"retention.ms": "1000"})

	steps := []struct {
		name          string
		brokerDefault int64 // 0: keep the resolver
		plain, tuned  int64
	}{
		{"first image", 0, day, 1000},
		{"same image, same resolver", 0, day, 1000},
		{"broker default changes", hour, hour, 1000},
		{"same image again", 0, hour, 1000},
		{"broker default back", day, day, 1000},
	}
	for _, s := range steps {
		if s.brokerDefault != 0 {
			m.SetTopicConfig(retentionResolver(s.brokerDefault))
		}
		if err := m.Apply(img); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := retentionOf(t, m, "plain"); got != s.plain {
			t.Errorf("%s: topic without override has retention %d, want %d", s.name, got, s.plain)
		}
		if got := retentionOf(t, m, "tuned"); got != s.tuned {
			t.Errorf("%s: topic with override has retention %d, want %d", s.name, got, s.tuned)
		}
	}
}

func TestApplyKeepsTopicWhoseConfigFails(t *testing.T) {
	logs := &testLogs{t: t, dir: t.TempDir(), logs: map[TopicPartition]*log.Log{}}
	m := NewManager(ManagerConfig{NodeID: 1, Logs: logs, TopicConfig: retentionResolver(1000)})
	lead := metadata.Partition{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}
	img := image(t, map[string][]metadata.Partition{"a": {lead}})
	if err := m.Apply(img); err != nil {
		t.Fatal(err)
	}
	p, err := m.Get("a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(oneBatch(t, 3), 1); err != nil {
		t.Fatal(err)
	}

	broken := errors.New("broker settings conflict with the topic")
	m.SetTopicConfig(func(map[string]string) (PartitionConfig, error) { return PartitionConfig{}, broken })
	err = m.Apply(img)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "topic a") {
		t.Fatalf("Apply = %v, want the resolver's error naming topic a", err)
	}
	p, err = m.Get("a", 0)
	if err != nil || len(logs.logs) != 1 {
		t.Fatalf("the partition was dropped: %v, %d logs", err, len(logs.logs))
	}
	if end := p.Log().LogEndOffset(); end != 3 || p.Log().Config().RetentionMs != 1000 {
		t.Errorf("log end %d retention %d, want 3 and the last good 1000", end, p.Log().Config().RetentionMs)
	}

	// Once the config resolves again, the next Apply applies it, even
	// though neither the image nor the resolver changed since.
	fixed := false
	m.SetTopicConfig(func(o map[string]string) (PartitionConfig, error) {
		if !fixed {
			return PartitionConfig{}, broken
		}
		return retentionResolver(5000)(o)
	})
	if err := m.Apply(img); !errors.Is(err, broken) {
		t.Fatalf("Apply = %v", err)
	}
	fixed = true
	if err := m.Apply(img); err != nil {
		t.Fatal(err)
	}
	if got := retentionOf(t, m, "a"); got != 5000 {
		t.Errorf("retention %d, want 5000", got)
	}
}
