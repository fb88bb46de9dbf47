package connect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/transforms"
)

// TestSourceTransforms: a source connector's records go through its
// transformation chain (RegexRouter renames the topic); records a Filter
// drops are not produced but their offsets are still committed.
func TestSourceTransforms(t *testing.T) {
	b := brokertest.Start(t)
	reg := testRegistry(t, &sinkStore{})
	for _, tf := range transforms.Transformations() {
		if err := reg.RegisterTransformation(tf.Class, tf.New, tf.Aliases...); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range transforms.Predicates() {
		if err := reg.RegisterPredicate(p.Class, p.New, p.Aliases...); err != nil {
			t.Fatal(err)
		}
	}
	offs := connect.NewMemoryOffsetStore()
	h := newHerder(t, b.Addr, reg, offs)
	defer h.Close()
	ctx := t.Context()

	routed := map[string]string{"name": "routed", "connector.class": "SeqSource", "topic": "tx-topic", "count": "50",
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "(.*)-topic", "transforms.route.replacement": "$1-routed"}
	if _, _, err := h.PutConnectorConfig(ctx, "routed", routed, "", false); err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, b.Addr, "tx-routed", 50)
	for i, v := range got {
		if v != fmt.Sprintf("v-%d", i) {
			t.Fatalf("routed record %d = %q", i, v)
		}
	}

	dropped := map[string]string{"name": "dropped", "connector.class": "SeqSource", "topic": "drop-topic", "count": "50",
		"transforms": "drop", "transforms.drop.type": "org.apache.kafka.connect.transforms.Filter",
		"transforms.drop.predicate": "isDrop", "predicates": "isDrop",
		"predicates.isDrop.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.isDrop.pattern": "drop-.*"}
	if _, _, err := h.PutConnectorConfig(ctx, "dropped", dropped, "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offsets of filtered records committed", func() bool {
		o, _ := offs.Offsets(ctx, "dropped")
		return len(o) == 1 && o[0].Offset["seq"] == int64(49)
	})
	adm := kadm.NewClient(mustClient(t, b.Addr))
	ends, err := adm.ListEndOffsets(ctx, "drop-topic")
	if err == nil {
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Offset != 0 {
				t.Errorf("drop-topic partition %d has %d records; the filter should drop all", o.Partition, o.Offset)
			}
		})
	}

	// An invalid chain is refused at creation, naming the key.
	bad := map[string]string{"name": "bad", "connector.class": "SeqSource", "topic": "x", "transforms": "r",
		"transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter"}
	if _, _, err := h.PutConnectorConfig(ctx, "bad", bad, "", false); err == nil || connect.StatusCode(err) != 400 || !strings.Contains(err.Error(), "transforms.r.regex") {
		t.Fatalf("create with a RegexRouter without regex: %v, want 400", err)
	}
}

func mustClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
