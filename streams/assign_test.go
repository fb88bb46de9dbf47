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
	a.UserData = []byte(`{"version":2,"active":["0_0"],"standby":["1_0","x"],"partitions":{"t":2}}`)
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

// standbyCheck verifies the invariants of a standby plan: no task has a
// copy on the instance of its active task, no two copies share an
// instance, and only stateful tasks get copies.
func standbyCheck(t *testing.T, members []memberSub, active, standby map[string][]TaskID, stateful func(TaskID) bool) map[TaskID]int {
	t.Helper()
	proc := map[string]string{}
	for _, m := range members {
		proc[m.id] = m.sub.ProcessID
	}
	where := map[TaskID]map[string]bool{}
	for m, ts := range active {
		for _, tk := range ts {
			where[tk] = map[string]bool{proc[m]: true}
		}
	}
	copies := map[TaskID]int{}
	for m, ts := range standby {
		for _, tk := range ts {
			if !stateful(tk) {
				t.Fatalf("stateless task %s has a standby on %s", tk, m)
			}
			if where[tk][proc[m]] {
				t.Fatalf("task %s: standby on member %s of instance %s, which already holds a copy; plan %v", tk, m, proc[m], standby)
			}
			where[tk][proc[m]] = true
			copies[tk]++
		}
	}
	return copies
}

func TestAssignStandbys(t *testing.T) {
	all := func(TaskID) bool { return true }
	sub0 := func(id TaskID) bool { return id.Subtopology == 0 }
	inst := func(proc string, ids ...string) []memberSub {
		var out []memberSub
		for _, id := range ids {
			out = append(out, memberSub{id: id, sub: subscriptionInfo{ProcessID: proc}})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		tasks    []TaskID
		stateful func(TaskID) bool
		replicas int
		members  []memberSub
		// copies is how many standbys every stateful task must get.
		copies int
		// want, when set, is the exact standby plan.
		want map[string][]string
		// spread is the largest allowed difference of total load
		// (active and standby) between members.
		spread int
	}{
		{
			name: "one copy on the other instance", tasks: tasksOf(1, 4), stateful: all, replicas: 1,
			members: append(inst("p1", "a"), inst("p2", "b")...), copies: 1,
			want:   map[string][]string{"a": {"0_1", "0_3"}, "b": {"0_0", "0_2"}},
			spread: 0,
		},
		{
			name: "two copies on three instances", tasks: tasksOf(2, 3), stateful: all, replicas: 2,
			members: append(append(inst("p1", "a"), inst("p2", "b")...), inst("p3", "c")...), copies: 2, spread: 1,
		},
		{
			name: "fewer instances than copies: one per instance, threads of one instance never share", tasks: tasksOf(1, 4), stateful: all, replicas: 3,
			members: append(inst("p1", "a1", "a2"), inst("p2", "b1", "b2")...), copies: 1, spread: 1,
		},
		{
			name: "a single instance gets none", tasks: tasksOf(1, 4), stateful: all, replicas: 2,
			members: inst("p1", "a1", "a2", "a3"), copies: 0,
			want: map[string][]string{},
		},
		{
			name: "stateless tasks get none", tasks: tasksOf(2, 2), stateful: sub0, replicas: 1,
			members: append(inst("p1", "a"), inst("p2", "b")...), copies: 1,
			want: map[string][]string{"a": {"0_1"}, "b": {"0_0"}},
		},
		{
			name: "zero replicas", tasks: tasksOf(1, 4), stateful: all, replicas: 0,
			members: append(inst("p1", "a"), inst("p2", "b")...), copies: 0,
			want: map[string][]string{},
		},
		{
			name: "sticky: a standby stays with the member that kept it", tasks: tasksOf(1, 4), stateful: all, replicas: 1,
			members: []memberSub{
				{id: "a", sub: subscriptionInfo{ProcessID: "p1", Active: []string{"0_0", "0_1"}, Standby: []string{"0_2"}}},
				{id: "b", sub: subscriptionInfo{ProcessID: "p2", Active: []string{"0_2", "0_3"}, Standby: []string{"0_1"}}},
				{id: "c", sub: subscriptionInfo{ProcessID: "p3", Standby: []string{"0_0", "0_3"}}},
			},
			copies: 1,
			// By load alone c (no active task) would take 0_1 as well.
			want: map[string][]string{"a": {"0_2"}, "b": {"0_1"}, "c": {"0_0", "0_3"}},
		},
		{
			name: "sticky: an instance with a checkpoint for the task gets its standby", tasks: tasksOf(1, 1), stateful: all, replicas: 1,
			members: []memberSub{
				{id: "a", sub: subscriptionInfo{ProcessID: "p1", Active: []string{"0_0"}}},
				{id: "b", sub: subscriptionInfo{ProcessID: "p2"}},
				{id: "c", sub: subscriptionInfo{ProcessID: "p3", State: []string{"0_0"}}},
			},
			copies: 1,
			want:   map[string][]string{"c": {"0_0"}},
		},
		{
			name: "balance: many tasks over three instances of uneven threads", tasks: tasksOf(3, 6), stateful: all, replicas: 1,
			members: append(append(inst("p1", "a1", "a2"), inst("p2", "b1")...), inst("p3", "c1")...), copies: 1, spread: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			active := assignTasks(tc.tasks, tc.members)
			got := assignStandbys(tc.tasks, tc.stateful, tc.replicas, tc.members, active)
			copies := standbyCheck(t, tc.members, active, got, tc.stateful)
			for _, tk := range tc.tasks {
				want := tc.copies
				if !tc.stateful(tk) {
					want = 0
				}
				if copies[tk] != want {
					t.Errorf("task %s has %d standbys, want %d; plan %v", tk, copies[tk], want, got)
				}
			}
			if tc.want != nil {
				for _, m := range tc.members {
					if g, w := ids(got[m.id]), tc.want[m.id]; !slices.Equal(g, w) && !(len(g) == 0 && len(w) == 0) {
						t.Errorf("member %s: standbys %v, want %v (actives %v)", m.id, g, w, ids(active[m.id]))
					}
				}
			}
			lo, hi := -1, 0
			for _, m := range tc.members {
				n := len(active[m.id]) + len(got[m.id])
				hi = max(hi, n)
				if lo < 0 || n < lo {
					lo = n
				}
			}
			if hi-lo > tc.spread && tc.copies > 0 && tc.want == nil {
				t.Errorf("loads from %d to %d, want at most %d apart: actives %v standbys %v", lo, hi, tc.spread, active, got)
			}
		})
	}
}

// TestBalancerAssignsStandbys runs the balancer as franz-go does with
// num.standby.replicas=1 over two instances: the stateful sub-topology's
// tasks get one standby each, on the instance not running them, carried in
// the assignment user data; the stateless one's tasks get none.
func TestBalancerAssignsStandbys(t *testing.T) {
	b := NewBuilder()
	s := StreamOf(b, "in", serde.String(), serde.String())
	g := GroupBy(s, func(_, v string) string { return v }, Named("rekey"), WithKeySerde(serde.String()), WithValueSerde(serde.String()))
	Count(g, Materialized("counts")).ToStream().To("out", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]assignmentInfo{}
	var members []kmsg.JoinGroupResponseMember
	bals := map[string]*taskBalancer{}
	for _, m := range []struct{ id, proc string }{{"m1", "p1"}, {"m2", "p2"}} {
		bal := &taskBalancer{topo: topo, appID: "app", standbys: 1,
			subscription: func() subscriptionInfo { return subscriptionInfo{ProcessID: m.proc} },
			assigned:     func(a assignmentInfo) { got[m.id] = a }}
		bals[m.id] = bal
		members = append(members, kmsg.JoinGroupResponseMember{MemberID: m.id, ProtocolMetadata: bal.JoinGroupMetadata([]string{"in", "app-rekey-repartition"}, nil, 1)})
	}
	mb, _, err := bals["m1"].MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"in": 2, "app-rekey-repartition": 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.IntoSyncAssignment() {
		if _, err := bals[a.MemberID].ParseSyncAssignment(a.MemberAssignment); err != nil {
			t.Fatal(err)
		}
	}
	standbys := map[string]string{}
	for m, info := range got {
		if info.Version != assignVersion {
			t.Fatalf("member %s: assignment version %d", m, info.Version)
		}
		for _, s := range info.Standby {
			if slices.Contains(info.Active, s) {
				t.Fatalf("member %s has task %s both active and standby: %+v", m, s, info)
			}
			if prev, ok := standbys[s]; ok {
				t.Fatalf("task %s has standbys on %s and %s", s, prev, m)
			}
			standbys[s] = m
		}
	}
	want := []string{"1_0", "1_1"}
	if keys := sortedKeys(standbys); !slices.Equal(keys, want) {
		t.Fatalf("standby tasks %v, want %v (the count tasks only): %+v", keys, want, got)
	}
}
