package controller

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/runnel/runnel/broker/metadata"
)

func newTestController(t *testing.T, brokers ...int32) *Controller {
	t.Helper()
	c, err := New(Config{
		Image:             metadata.Empty("c"),
		DefaultPartitions: 3, DefaultReplicationFactor: 1, DeleteTopicEnable: true,
		ValidateTopicConfig: func(m map[string]string) error {
			for k := range m {
				if k != "retention.ms" && k != "cleanup.policy" {
					return fmt.Errorf("unknown config %s", k)
				}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range brokers {
		if err := c.RegisterBroker(metadata.Broker{NodeID: b}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestCreateTopics(t *testing.T) {
	c := newTestController(t, 1, 2, 3)
	var published []*metadata.Image
	c.Subscribe(func(img *metadata.Image) { published = append(published, img) })

	specs := []TopicSpec{
		{Name: "defaults", NumPartitions: -1, ReplicationFactor: -1},
		{Name: "rf.3", NumPartitions: 6, ReplicationFactor: 3, Configs: map[string]string{"retention.ms": "10"}},
		{Name: "explicit", NumPartitions: -1, ReplicationFactor: -1, Assignment: map[int32][]int32{0: {2, 3}, 1: {3, 1}}},
		{Name: "bad name!", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "too-many-replicas", NumPartitions: 1, ReplicationFactor: 4},
		{Name: "zero", NumPartitions: 0, ReplicationFactor: 1},
		{Name: "badcfg", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.mz": "1"}},
		{Name: "gap", NumPartitions: -1, ReplicationFactor: -1, Assignment: map[int32][]int32{0: {1}, 2: {1}}},
		{Name: "dup", NumPartitions: -1, ReplicationFactor: -1, Assignment: map[int32][]int32{0: {1, 1}}},
		{Name: "__consumer_offsets", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "rf.3", NumPartitions: 1, ReplicationFactor: 1},
		{Name: "rf_3", NumPartitions: 1, ReplicationFactor: 1},
	}
	want := []error{nil, nil, nil, ErrInvalidTopic, ErrInvalidReplicationFactor, ErrInvalidPartitions,
		ErrInvalidConfig, ErrInvalidReplicaAssignment, ErrInvalidReplicaAssignment, ErrInvalidTopic, ErrTopicExists, ErrInvalidTopic}
	created, errs := c.CreateTopics(specs, false)
	for i := range specs {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("%s: err = %v, want %v", specs[i].Name, errs[i], want[i])
		}
	}
	if errs[6] != nil && !strings.Contains(errs[6].Error(), "retention.mz") {
		t.Errorf("config error does not name the key: %v", errs[6])
	}
	img := c.Image()
	if got := len(img.Topic("defaults").Partitions); got != 3 || created[0].NumPartitions != 3 {
		t.Errorf("num.partitions default not applied: %d", got)
	}
	for _, p := range img.Topic("rf.3").Partitions {
		if len(p.Replicas) != 3 || p.Leader != p.Replicas[0] || len(p.ISR) != 3 {
			t.Errorf("rf3 partition %d: %+v", p.Index, p)
		}
	}
	if p := img.Topic("explicit").Partitions[1]; p.Leader != 3 || p.Replicas[1] != 1 {
		t.Errorf("explicit assignment not kept: %+v", p)
	}
	// Subscribe delivers the current image once, then one image per created topic.
	if len(published) != 4 || published[3] != img {
		t.Errorf("published %d images, want 4 ending with the current one", len(published))
	}

	// validateOnly commits nothing.
	_, errs = c.CreateTopics([]TopicSpec{{Name: "dry", NumPartitions: 1, ReplicationFactor: 1}}, true)
	if errs[0] != nil || c.Image().Topic("dry") != nil {
		t.Fatalf("validate-only: %v, created=%v", errs[0], c.Image().Topic("dry") != nil)
	}
}

func TestDeleteAndGrow(t *testing.T) {
	c := newTestController(t, 1)
	c.CreateTopics([]TopicSpec{{Name: "t", NumPartitions: 2, ReplicationFactor: 1}}, false)
	if err := c.CreatePartitions("t", 2, nil, false); !errors.Is(err, ErrInvalidPartitions) {
		t.Errorf("shrink/same: %v", err)
	}
	if err := c.CreatePartitions("t", 5, nil, false); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Image().Topic("t").Partitions); n != 5 {
		t.Fatalf("partitions = %d", n)
	}
	if _, err := c.DeleteTopic("nope", [16]byte{}); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("delete unknown: %v", err)
	}
	if _, err := c.DeleteTopic("t", [16]byte{}); err != nil || c.Image().Topic("t") != nil {
		t.Fatalf("delete: %v", err)
	}
	c.cfg.DeleteTopicEnable = false
	if _, err := c.DeleteTopic("t", [16]byte{}); !errors.Is(err, ErrTopicDeletionDisabled) {
		t.Errorf("disabled: %v", err)
	}
}

func TestAlterTopicConfigs(t *testing.T) {
	c := newTestController(t, 1)
	c.CreateTopics([]TopicSpec{{Name: "t", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "5"}}}, false)
	v := "compact"
	if err := c.AlterTopicConfigs("t", []ConfigOp{{Name: "cleanup.policy", Op: OpSet, Value: &v}}, false, false); err != nil {
		t.Fatal(err)
	}
	add := "delete"
	if err := c.AlterTopicConfigs("t", []ConfigOp{{Name: "cleanup.policy", Op: OpAppend, Value: &add}}, false, false); err != nil {
		t.Fatal(err)
	}
	cfg := c.Image().Topic("t").Configs
	if cfg["cleanup.policy"] != "compact,delete" || cfg["retention.ms"] != "5" {
		t.Fatalf("incremental: %v", cfg)
	}
	// Legacy AlterConfigs replaces the whole set.
	if err := c.AlterTopicConfigs("t", []ConfigOp{{Name: "cleanup.policy", Op: OpSet, Value: &v}}, true, false); err != nil {
		t.Fatal(err)
	}
	if cfg := c.Image().Topic("t").Configs; len(cfg) != 1 || cfg["cleanup.policy"] != "compact" {
		t.Fatalf("replace: %v", cfg)
	}
	bad := "1"
	err := c.AlterTopicConfigs("t", []ConfigOp{{Name: "bogus.key", Op: OpSet, Value: &bad}}, false, false)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "bogus.key") {
		t.Fatalf("bad key: %v", err)
	}
}
