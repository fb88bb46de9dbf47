package distributed

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/connect"
)

func clientOpts(addr string) []kgo.Opt { return []kgo.Opt{kgo.SeedBrokers(addr)} }

// The stores create their topics compacted, write Kafka's records, and a
// second worker reading the topics from the start sees the same state.
func TestStoresAgainstBroker(t *testing.T) {
	srv := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	opts := clientOpts(srv.Addr)

	cs, err := OpenConfigStore(ctx, opts, "connect-configs", -1, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	ss, err := OpenStatusStore(ctx, opts, "connect-status", 5, -1, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	ostore, err := OpenOffsetStore(ctx, opts, "connect-offsets", 25, -1, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer ostore.Close()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.PutConnectorConfig(ctx, "src", map[string]string{"connector.class": "FileStreamSource", "file": "/tmp/x"}, TargetPaused))
	must(cs.PutTaskConfigs(ctx, "src", []map[string]string{{"file": "/tmp/x", "topic": "t"}}))
	must(cs.PutConnectorConfig(ctx, "gone", map[string]string{"connector.class": "FileStreamSink"}, ""))
	must(cs.RemoveConnectorConfig(ctx, "gone"))
	must(ss.PutConnector(ctx, "src", Status{"RUNNING", "", "127.0.0.1:8083", 1}))
	must(ss.PutTask(ctx, TaskID{"src", 0}, Status{"FAILED", "trace", "127.0.0.1:8083", 1}))
	p := map[string]any{"filename": "/tmp/x"}
	must(ostore.Write(ctx, "src", []connect.ConnectorOffset{{Partition: p, Offset: map[string]any{"position": int64(10)}}}))
	must(ostore.Write(ctx, "src", []connect.ConnectorOffset{{Partition: p, Offset: map[string]any{"position": int64(20)}}}))
	must(ostore.Write(ctx, "other", []connect.ConnectorOffset{{Partition: p, Offset: map[string]any{"position": int64(1)}}, {Partition: p}}))

	acl, err := kgo.NewClient(opts...)
	must(err)
	defer acl.Close()
	adm := kadm.NewClient(acl)
	rcs, err := adm.DescribeTopicConfigs(ctx, "connect-configs", "connect-status", "connect-offsets")
	must(err)
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && (c.Value == nil || *c.Value != "compact") {
				t.Errorf("%s: cleanup.policy %v", rc.Name, c.Value)
			}
		}
	}
	details, err := adm.ListTopics(ctx, "connect-configs", "connect-status", "connect-offsets")
	must(err)
	for topic, want := range map[string]int{"connect-configs": 1, "connect-status": 5, "connect-offsets": 25} {
		if got := len(details[topic].Partitions); got != want {
			t.Errorf("%s: %d partitions, want %d", topic, got, want)
		}
	}

	// A second worker's stores read the same state from the topics.
	cs2, err := OpenConfigStore(ctx, opts, "connect-configs", -1, discard())
	must(err)
	defer cs2.Close()
	ss2, err := OpenStatusStore(ctx, opts, "connect-status", 5, -1, discard())
	must(err)
	defer ss2.Close()
	ostore2, err := OpenOffsetStore(ctx, opts, "connect-offsets", 25, -1, discard())
	must(err)
	defer ostore2.Close()

	snap := cs2.Snapshot()
	if !reflect.DeepEqual(snap.Connectors, map[string]map[string]string{"src": {"connector.class": "FileStreamSource", "file": "/tmp/x"}}) {
		t.Errorf("connectors %v", snap.Connectors)
	}
	if snap.TargetStates["src"] != TargetPaused {
		t.Errorf("target state %q", snap.TargetStates["src"])
	}
	if got := snap.TaskConfigs("src"); !reflect.DeepEqual(got, []map[string]string{{"file": "/tmp/x", "topic": "t"}}) {
		t.Errorf("task configs %v", got)
	}
	if st, ok := ss2.Task(TaskID{"src", 0}); !ok || st.State != "FAILED" || st.Trace != "trace" {
		t.Errorf("task status %+v %v", st, ok)
	}
	got, err := ostore2.Offsets(ctx, "src")
	must(err)
	if want := []connect.ConnectorOffset{{Partition: p, Offset: map[string]any{"position": int64(20)}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("offsets %v, want %v", got, want)
	}
	if got, err := ostore2.Offsets(ctx, "other"); err != nil || len(got) != 0 {
		t.Errorf("deleted offsets still there: %v %v", got, err)
	}

	// The key of one source partition always lands on the partition
	// Java's producer picks: murmur2 of the key bytes.
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("connect-offsets"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	must(err)
	defer cl.Close()
	n := 0
	for n < 4 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading offsets: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			want := int32(murmur2(r.Key)&0x7fffffff) % 25
			if r.Partition != want {
				t.Errorf("key %s on partition %d, want %d", r.Key, r.Partition, want)
			}
		})
	}

	// Deleting a connector's status leaves tombstones a reader applies.
	must(ss.DeleteConnector(ctx, "src", 1))
	must(ss2.ReadToEnd(ctx))
	if _, ok := ss2.Connector("src"); ok {
		t.Error("status of deleted connector still read")
	}
	if _, ok := ss2.Task(TaskID{"src", 0}); ok {
		t.Error("status of deleted task still read")
	}
}

// murmur2 is Kafka's key hash, written out here so the test does not trust
// the client's partitioner to check it.
func murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
