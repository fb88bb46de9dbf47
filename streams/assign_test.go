package streams

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func tasksOf(subs, parts int) []TaskID {
	var out []TaskID
	for s := range subs {
		for p := range parts {
			out = append(out, TaskID{Subtopology: s, Partition: int32(p)})
		}
	}
	return out
}

func ids(ts []TaskID) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

func TestAssignTasks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tasks   []TaskID
		members []memberSub
		want    map[string][]string
	}{
		{
			name:    "fresh group spreads evenly",
			tasks:   tasksOf(2, 3),
			members: []memberSub{{id: "a"}, {id: "b"}},
			want:    map[string][]string{"a": {"0_0", "0_2", "1_1"}, "b": {"0_1", "1_0", "1_2"}},
		},
		{
			name:  "members keep the tasks they ran",
			tasks: tasksOf(2, 3),
			members: []memberSub{
				{id: "a", sub: subscriptionInfo{Active: []string{"1_0", "1_1", "1_2"}}},
				{id: "b", sub: subscriptionInfo{Active: []string{"0_0", "0_1", "0_2"}}},
			},
			want: map[string][]string{"a": {"1_0", "1_1", "1_2"}, "b": {"0_0", "0_1", "0_2"}},
		},
		{
			name:  "a new member takes only what is over the others' share",
			tasks: tasksOf(1, 4),
			members: []memberSub{
				{id: "a", sub: subscriptionInfo{Active: []string{"0_0", "0_1", "0_2", "0_3"}}},
				{id: "b"},
			},
			want: map[string][]string{"a": {"0_0", "0_1"}, "b": {"0_2", "0_3"}},
		},
		{
			name:  "a dead member's tasks go to the survivor, local state first",
			tasks: tasksOf(1, 4),
			members: []memberSub{
				{id: "a", sub: subscriptionInfo{Active: []string{"0_0", "0_1"}}},
				{id: "c", sub: subscriptionInfo{State: []string{"0_3"}}},
			},
			want: map[string][]string{"a": {"0_0", "0_1"}, "c": {"0_2", "0_3"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assignTasks(tc.tasks, tc.members)
			total := 0
			for m, w := range tc.want {
				if g := ids(got[m]); !slices.Equal(g, w) {
					t.Errorf("member %s: %v, want %v", m, g, w)
				}
				total += len(got[m])
			}
			if total != len(tc.tasks) {
				t.Errorf("assigned %d tasks, want %d", total, len(tc.tasks))
			}
		})
	}
}

// TestBalancerKeepsCopartitionedPartitionsTogether runs the balancer as
// franz-go does and checks that each member gets partition p of both
// topics of a join for each task p it owns.
func TestBalancerKeepsCopartitionedPartitionsTogether(t *testing.T) {
	b := NewBuilder()
	l := StreamOf(b, "left", serde.String(), serde.String())
	r := TableOf(b, "right", serde.String(), serde.String())
	JoinTable(l, r, func(_, a, b string) string { return a + b }).To("out", serde.String(), serde.String())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var got []assignmentInfo
	bal := &taskBalancer{topo: topo, appID: "app", subscription: func() subscriptionInfo {
		return subscriptionInfo{ProcessID: "p1", Endpoint: "h1:1"}
	}, assigned: func(a assignmentInfo) { got = append(got, a) }}
	var members []kmsg.JoinGroupResponseMember
	for _, id := range []string{"m1", "m2"} {
		members = append(members, kmsg.JoinGroupResponseMember{MemberID: id, ProtocolMetadata: bal.JoinGroupMetadata([]string{"left", "right"}, nil, 1)})
	}
	mb, topics, err := bal.MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := topics["left"]; !ok {
		t.Fatalf("topics %v lack left", topics)
	}
	plan, err := mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"left": 4, "right": 4})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int32]int{}
	for _, a := range plan.IntoSyncAssignment() {
		parts, err := bal.ParseSyncAssignment(a.MemberAssignment)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(parts["left"], parts["right"]) || len(parts["left"]) != 2 {
			t.Fatalf("member %s got %v", a.MemberID, parts)
		}
		for _, p := range parts["left"] {
			seen[p]++
		}
	}
	if len(seen) != 4 {
		t.Fatalf("partitions assigned: %v", seen)
	}
	if len(got) != 2 || len(got[0].Hosts["h1:1"]) != 4 || got[0].Partitions["left"] != 4 {
		js, _ := json.Marshal(got)
		t.Fatalf("assignment infos %s", js)
	}

	_, err = mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"left": 4, "right": 3})
	if !errors.Is(err, ErrCopartition) {
		t.Fatalf("balance of 4 and 3 partitions: %v, want ErrCopartition", err)
	}
}

func TestPartitionPlan(t *testing.T) {
	b := NewBuilder()
	s := StreamOf(b, "in", serde.String(), serde.String())
	g := GroupBy(s, func(_, v string) string { return v }, Named("rekey"), WithKeySerde(serde.String()), WithValueSerde(serde.String()))
	Count(g, Materialized("counts")).ToStream().To("out", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	topics, tasks, err := topo.partitionPlan("app", map[string]int32{"in": 5})
	if err != nil {
		t.Fatal(err)
	}
	if topics["app-rekey-repartition"] != 5 || tasks[0] != 5 || tasks[1] != 5 {
		t.Fatalf("topics %v tasks %v", topics, tasks)
	}
	if _, _, err := topo.partitionPlan("app", nil); !errors.Is(err, ErrMissingSourceTopic) {
		t.Fatalf("without the source topic: %v", err)
	}
	si := topo.storeInfos()["counts"]
	if !si.logged || !si.persistent || si.sub != 1 {
		t.Fatalf("store info %+v", si)
	}
	if cfg := changelogConfig(si, 0); *cfg["cleanup.policy"] != "compact" {
		t.Fatalf("changelog config %v", cfg)
	}
}

func TestKeyPartitionMatchesKafka(t *testing.T) {
	// Kafka's UtilsTest murmur2 vectors.
	for key, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := int32(murmur2([]byte(key))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", key, got, want)
		}
	}
	// The same partition as franz-go's Kafka-compatible key partitioner.
	part := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := range 1000 {
		key := []byte("key-" + string(rune('a'+i%26)) + string(rune(i)))
		for _, n := range []int32{1, 3, 7, 64} {
			want := int32(part.Partition(&kgo.Record{Key: key}, int(n)))
			if got := KeyPartition(key, n); got != want {
				t.Fatalf("KeyPartition(%q, %d) = %d, franz-go says %d", key, n, got, want)
			}
		}
	}
}

func FuzzParseSyncAssignment(f *testing.F) {
	a := kmsg.NewConsumerMemberAssignment()
	a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: "t", Partitions: []int32{0, 1}}}
	a.UserData = []byte(`{"version":1,"active":["0_0"],"hosts":{"h:1":["0_0"]},"partitions":{"t":2}}`)
	f.Add(a.AppendTo(nil))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	bal := &taskBalancer{assigned: func(assignmentInfo) {}}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := bal.ParseSyncAssignment(data)
		if err == nil && parts == nil {
			t.Fatal("nil assignment without an error")
		}
	})
}

func FuzzParseTaskID(f *testing.F) {
	for _, s := range []string{"0_0", "12_345", "_1", "1_", "a_b", "-1_2", "1_2_3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseTaskID(s)
		if err != nil {
			return
		}
		back, err := parseTaskID(id.String())
		if err != nil || back != id {
			t.Fatalf("%q → %v → %q → %v, %v", s, id, id.String(), back, err)
		}
	})
}

func TestPartitionPlanExplicitRepartitionCount(t *testing.T) {
	b := NewBuilder()
	StreamOf(b, "in", serde.String(), serde.String()).
		Repartition(Named("spread"), WithNumPartitions(7), WithKeySerde(serde.String()), WithValueSerde(serde.String())).
		To("out", serde.String(), serde.String())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	topics, tasks, err := topo.partitionPlan("app", map[string]int32{"in": 2})
	if err != nil {
		t.Fatal(err)
	}
	if topics["app-spread-repartition"] != 7 || tasks[0] != 2 || tasks[1] != 7 {
		t.Fatalf("topics %v tasks %v", topics, tasks)
	}
}
