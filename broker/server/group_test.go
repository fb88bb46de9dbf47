package server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupMember is one franz-go group consumer that processes each record
// once: it blocks rebalances while it handles a poll and commits what it
// handled before allowing them again, so that no record is handed to two
// members and none is lost when partitions move.
type groupMember struct {
	t      *testing.T
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	n      atomic.Int64 // records this member processed
}

// consumed records what the members of one test have processed.
type consumed struct {
	mu    sync.Mutex
	count map[string]int // value → times processed
	n     atomic.Int64
}

func (c *consumed) add(v string) {
	c.mu.Lock()
	c.count[v]++
	c.mu.Unlock()
	c.n.Add(1)
}

func startMember(t *testing.T, addr, group, topic string, balancer kgo.GroupBalancer, into *consumed) *groupMember {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.Balancers(balancer),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.HeartbeatInterval(100*time.Millisecond),
		kgo.SessionTimeout(10*time.Second),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.RetryTimeout(30*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{t: t, cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			fs := cl.PollRecords(ctx, 500)
			var recs []*kgo.Record
			fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
			for _, r := range recs {
				into.add(string(r.Value))
			}
			m.n.Add(int64(len(recs)))
			if len(recs) > 0 {
				cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := cl.CommitRecords(cctx, recs...)
				ccancel()
				if err != nil {
					m.err = fmt.Errorf("commit: %w", err)
					cl.AllowRebalance()
					return
				}
			}
			cl.AllowRebalance()
			if ctx.Err() != nil {
				return
			}
		}
	}()
	return m
}

// stop ends the member after the poll it is handling is committed, and
// leaves the group.
func (m *groupMember) stop() {
	m.t.Helper()
	m.cancel()
	<-m.done
	m.cl.Close()
	if m.err != nil {
		m.t.Error(m.err)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGroupBalancersExactlyOnce runs franz-go consumer groups with each of
// its balancers: members join and leave while 100,000 records are
// produced, and every record is processed exactly once in total, because
// each member commits what it processed before partitions move and the
// next owner resumes at the committed offset.
func TestGroupBalancersExactlyOnce(t *testing.T) {
	srv := brokertest.Start(t)
	balancers := []struct {
		name string
		b    kgo.GroupBalancer
	}{
		{"range", kgo.RangeBalancer()},
		{"roundrobin", kgo.RoundRobinBalancer()},
		{"sticky", kgo.StickyBalancer()},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
	}
	for _, bal := range balancers {
		t.Run(bal.name, func(t *testing.T) {
			const total = 100_000
			topic, group := "orders-"+bal.name, "group-"+bal.name
			prod, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.DefaultProduceTopic(topic))
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			mustCreate(t, kadm.NewClient(prod), 6, nil, topic)

			got := &consumed{count: map[string]int{}}
			// The producer stays at most 5,000 records ahead of the
			// consumers, so that members join and leave while records
			// flow.
			produced := make(chan error, 1)
			go func() {
				for i := 0; i < total; i += 500 {
					for int64(i)-got.n.Load() > 5000 {
						time.Sleep(time.Millisecond)
					}
					recs := make([]*kgo.Record, 0, 500)
					for j := i; j < i+500; j++ {
						recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(j % 97)), Value: []byte(strconv.Itoa(j))})
					}
					if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
						produced <- err
						return
					}
				}
				produced <- nil
			}()

			atLeast := func(n int64) func() bool { return func() bool { return got.n.Load() >= n } }
			a := startMember(t, srv.Addr, group, topic, bal.b, got)
			waitFor(t, "10k records", time.Minute, atLeast(10_000))
			b := startMember(t, srv.Addr, group, topic, bal.b, got)
			waitFor(t, "30k records", time.Minute, atLeast(30_000))
			c := startMember(t, srv.Addr, group, topic, bal.b, got)
			waitFor(t, "50k records", time.Minute, atLeast(50_000))
			a.stop()
			waitFor(t, "70k records", time.Minute, atLeast(70_000))
			// b leaves and a new member takes its place: it resumes where
			// the group committed.
			b.stop()
			d := startMember(t, srv.Addr, group, topic, bal.b, got)
			if err := <-produced; err != nil {
				t.Fatal(err)
			}
			waitFor(t, "every record", 2*time.Minute, atLeast(total))
			c.stop()
			d.stop()
			for i, m := range []*groupMember{a, b, c, d} {
				t.Logf("member %d processed %d records", i, m.n.Load())
				if m.n.Load() == 0 {
					t.Errorf("member %d processed nothing: the group did not spread the partitions", i)
				}
			}

			got.mu.Lock()
			defer got.mu.Unlock()
			if len(got.count) != total {
				t.Fatalf("%d distinct records processed, want %d", len(got.count), total)
			}
			for v, n := range got.count {
				if n != 1 {
					t.Fatalf("record %s processed %d times", v, n)
				}
			}
			// The group's committed offsets are the partitions' ends.
			adm := kadm.NewClient(prod)
			offs, err := adm.FetchOffsets(t.Context(), group)
			if err != nil {
				t.Fatal(err)
			}
			ends, err := adm.ListEndOffsets(t.Context(), topic)
			if err != nil {
				t.Fatal(err)
			}
			ends.Each(func(e kadm.ListedOffset) {
				o, ok := offs.Lookup(topic, e.Partition)
				if !ok || o.At != e.Offset {
					t.Errorf("partition %d: committed %+v, end %d", e.Partition, o, e.Offset)
				}
			})
		})
	}
}

// TestGroupCommitsSurviveRestart commits offsets, restarts the broker,
// and checks that the group's offsets, metadata strings and state come
// back from __consumer_offsets and that a consumer resumes exactly at the
// committed offset.
func TestGroupCommitsSurviveRestart(t *testing.T) {
	srv := brokertest.Start(t)
	const topic, group = "events", "resumer"
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	mustCreate(t, adm, 1, nil, topic)
	var recs []*kgo.Record
	for i := range 1000 {
		recs = append(recs, &kgo.Record{Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// A group consumer reads and commits 600 records, with metadata.
	cons, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	for seen < 600 {
		fs := cons.PollRecords(t.Context(), 600-seen)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		seen += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(t.Context()); err != nil {
		t.Fatal(err)
	}
	cons.Close() // leaves the group
	// Once the group is empty, an admin client may commit for it; it
	// stores a metadata string with the offset.
	commit := kadm.Offsets{}
	commit.Add(kadm.Offset{Topic: topic, Partition: 0, At: 600, LeaderEpoch: -1, Metadata: "checkpoint:600 ✓"})
	committed, err := adm.CommitOffsets(t.Context(), group, commit)
	if err != nil || committed.Error() != nil {
		t.Fatalf("commit: %v %v", err, committed.Error())
	}
	cl.Close()

	srv.Restart()

	cl, err = kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm = kadm.NewClient(cl)
	offs, err := adm.FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.At != 600 || o.Metadata != "checkpoint:600 ✓" || o.Err != nil {
		t.Fatalf("after restart: %+v (found %v)", o, ok)
	}
	described, err := adm.DescribeGroups(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	if d := described[group]; d.State != "Empty" || d.ProtocolType != "consumer" || d.Err != nil {
		t.Fatalf("described after restart: %+v", d)
	}

	// A new member of the group resumes at 600.
	cons, err = kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	fs := cons.PollRecords(t.Context(), 1)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	if r := fs.Records(); len(r) != 1 || r[0].Offset != 600 || string(r[0].Value) != "600" {
		t.Fatalf("resumed at %+v, want offset 600", r)
	}
}

// TestGroupStableAcrossRestart keeps a consumer group running while the
// broker restarts: the group comes back Stable from the log with the same
// generation, the members carry on, and nothing is processed twice.
func TestGroupStableAcrossRestart(t *testing.T) {
	srv := brokertest.Start(t)
	const topic, group = "flow", "steady"
	prod, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.DefaultProduceTopic(topic), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	mustCreate(t, kadm.NewClient(prod), 3, nil, topic)
	produceN := func(from, n int) {
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Value: []byte(strconv.Itoa(i))})
		}
		if err := prod.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	got := &consumed{count: map[string]int{}}
	a := startMember(t, srv.Addr, group, topic, kgo.RangeBalancer(), got)
	b := startMember(t, srv.Addr, group, topic, kgo.RangeBalancer(), got)
	produceN(0, 3000)
	waitFor(t, "3000 records", time.Minute, func() bool { return got.n.Load() >= 3000 })
	describe := func() kadm.DescribedGroup {
		t.Helper()
		var d kadm.DescribedGroup
		waitFor(t, "a stable group", time.Minute, func() bool {
			ds, err := kadm.NewClient(prod).DescribeGroups(t.Context(), group)
			d = ds[group]
			return err == nil && d.State == "Stable" && len(d.Members) == 2
		})
		return d
	}
	before := describe()

	srv.Restart()
	produceN(3000, 3000)
	waitFor(t, "6000 records", time.Minute, func() bool { return got.n.Load() >= 6000 })
	after := describe()
	a.stop()
	b.stop()
	if slices.Compare(memberIDs(before), memberIDs(after)) != 0 {
		t.Errorf("members changed across the restart: %v → %v", memberIDs(before), memberIDs(after))
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for i := range 6000 {
		if n := got.count[strconv.Itoa(i)]; n != 1 {
			t.Fatalf("record %d processed %d times", i, n)
		}
	}
}

func memberIDs(d kadm.DescribedGroup) []string {
	var ids []string
	for _, m := range d.Members {
		ids = append(ids, m.MemberID)
	}
	slices.Sort(ids)
	return ids
}

// findCoordinator asks for a group's coordinator until the offsets topic
// exists, and returns the answer.
func findCoordinator(t testing.TB, c *rawClient, group string) *kmsg.FindCoordinatorResponse {
	t.Helper()
	for range 100 {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(3)
		req.CoordinatorKey = group
		resp := do[*kmsg.FindCoordinatorResponse](c, req)
		if resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
			return resp
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no coordinator")
	return nil
}

// rawJoin joins a group at a JoinGroup version, rejoining with the member
// ID when asked to.
func rawJoin(t testing.TB, c *rawClient, version int16, group, memberID string, instance *string, protocol, metadata string) *kmsg.JoinGroupResponse {
	t.Helper()
	for {
		req := kmsg.NewPtrJoinGroupRequest()
		req.SetVersion(version)
		req.Group, req.MemberID, req.InstanceID = group, memberID, instance
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
		req.ProtocolType = "consumer"
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = protocol, []byte(metadata)
		req.Protocols = append(req.Protocols, p)
		resp := do[*kmsg.JoinGroupResponse](c, req)
		if resp.ErrorCode == kerr.CoordinatorLoadInProgress.Code {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if resp.ErrorCode != kerr.MemberIDRequired.Code {
			return resp
		}
		memberID = resp.MemberID
	}
}

func rawSync(t testing.TB, c *rawClient, version int16, group, memberID string, generation int32, assignments map[string]string) *kmsg.SyncGroupResponse {
	t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.SetVersion(version)
	req.Group, req.MemberID, req.Generation = group, memberID, generation
	if version >= 5 {
		req.ProtocolType, req.Protocol = strp("consumer"), strp("custom")
	}
	for id, a := range assignments {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = id, []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return do[*kmsg.SyncGroupResponse](c, req)
}

// TestGroupAPIVersions drives one group through its whole life at every
// version Runnel advertises for each group API, with raw requests.
func TestGroupAPIVersions(t *testing.T) {
	srv := startServer(t, "offsets.topic.num.partitions=3")
	_, adm := srv.clients(t)
	mustCreate(t, adm, 2, nil, "t")
	c := dialRaw(t, srv.addr)

	t.Run("FindCoordinator", func(t *testing.T) {
		findCoordinator(t, c, "g")
		for v := int16(0); v <= 4; v++ {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.SetVersion(v)
			req.CoordinatorKey = "group-" + strconv.Itoa(int(v))
			req.CoordinatorKeys = []string{"a", "b"}
			resp := do[*kmsg.FindCoordinatorResponse](c, req)
			if v < 4 {
				if resp.ErrorCode != 0 || resp.NodeID != 1 || resp.Port <= 0 || resp.Host != "127.0.0.1" {
					t.Errorf("v%d: %+v", v, resp)
				}
				continue
			}
			if len(resp.Coordinators) != 2 || resp.Coordinators[1].Key != "b" || resp.Coordinators[1].ErrorCode != 0 || resp.Coordinators[1].NodeID != 1 {
				t.Errorf("v%d: %+v", v, resp.Coordinators)
			}
		}
	})

	for v := int16(0); v <= 9; v++ {
		t.Run("JoinGroup v"+strconv.Itoa(int(v)), func(t *testing.T) {
			group := "join-v" + strconv.Itoa(int(v))
			var instance *string
			if v >= 5 {
				instance = strp("instance-" + group)
			}
			if v >= 4 && instance == nil {
				req := kmsg.NewPtrJoinGroupRequest()
				req.SetVersion(v)
				req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = group, 10000, 10000, "consumer"
				req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "custom", Metadata: []byte("m")}}
				if resp := do[*kmsg.JoinGroupResponse](c, req); resp.ErrorCode != kerr.MemberIDRequired.Code || resp.MemberID == "" {
					t.Fatalf("first join: %s %q", codeName(resp.ErrorCode), resp.MemberID)
				}
			}
			resp := rawJoin(t, c, v, group, "", instance, "custom", "meta-"+group)
			if resp.ErrorCode != 0 || resp.Generation != 1 || resp.LeaderID != resp.MemberID || len(resp.Members) != 1 ||
				string(resp.Members[0].ProtocolMetadata) != "meta-"+group || str(resp.Protocol) != "custom" {
				t.Fatalf("join: %s %+v", codeName(resp.ErrorCode), resp)
			}
			if v >= 7 && str(resp.ProtocolType) != "consumer" {
				t.Errorf("protocol type %v", resp.ProtocolType)
			}
			if v >= 5 && str(resp.Members[0].InstanceID) != *instance {
				t.Errorf("member instance %v", resp.Members[0].InstanceID)
			}
		})
	}

	for v := int16(0); v <= 5; v++ {
		t.Run("SyncGroup v"+strconv.Itoa(int(v)), func(t *testing.T) {
			group := "sync-v" + strconv.Itoa(int(v))
			j := rawJoin(t, c, 3, group, "", nil, "custom", "m")
			resp := rawSync(t, c, v, group, j.MemberID, j.Generation, map[string]string{j.MemberID: "assigned"})
			if resp.ErrorCode != 0 || string(resp.MemberAssignment) != "assigned" {
				t.Fatalf("sync: %s %+v", codeName(resp.ErrorCode), resp)
			}
			if v >= 5 && (str(resp.ProtocolType) != "consumer" || str(resp.Protocol) != "custom") {
				t.Errorf("protocol %v %v", resp.ProtocolType, resp.Protocol)
			}
		})
	}

	// One stable group serves the other APIs.
	const group = "stable"
	j := rawJoin(t, c, 9, group, "", nil, "custom", "m")
	if s := rawSync(t, c, 5, group, j.MemberID, j.Generation, map[string]string{j.MemberID: "a"}); s.ErrorCode != 0 {
		t.Fatalf("sync: %s", codeName(s.ErrorCode))
	}

	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrHeartbeatRequest()
		req.SetVersion(v)
		req.Group, req.MemberID, req.Generation = group, j.MemberID, j.Generation
		if resp := do[*kmsg.HeartbeatResponse](c, req); resp.ErrorCode != 0 {
			t.Errorf("Heartbeat v%d: %s", v, codeName(resp.ErrorCode))
		}
		req.Generation++
		if resp := do[*kmsg.HeartbeatResponse](c, req); resp.ErrorCode != kerr.IllegalGeneration.Code {
			t.Errorf("Heartbeat v%d, next generation: %s", v, codeName(resp.ErrorCode))
		}
	}

	for v := int16(0); v <= 9; v++ {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(v)
		req.Group, req.MemberID, req.Generation = group, j.MemberID, j.Generation
		if v == 0 {
			req.Group = "simple-v0" // v0 has no generation: only empty groups take it
		}
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.Metadata, rp.LeaderEpoch = int32(v%2), int64(100+v), strp("v"+strconv.Itoa(int(v))), 7
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := do[*kmsg.OffsetCommitResponse](c, req)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Errorf("OffsetCommit v%d: %+v", v, resp.Topics)
		}
	}

	for v := int16(0); v <= 9; v++ {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.SetVersion(v)
		parts := []int32{0, 1}
		if v >= 8 {
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = group
			rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: parts}}
			other := kmsg.NewOffsetFetchRequestGroup()
			other.Group = "simple-v0"
			other.Topics = nil // every committed partition
			req.Groups = append(req.Groups, rg, other)
		} else {
			req.Group = group
			req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: parts}}
		}
		resp := do[*kmsg.OffsetFetchResponse](c, req)
		var got []string
		epochs := v >= 5
		if v >= 8 {
			if len(resp.Groups) != 2 || resp.Groups[0].ErrorCode != 0 || resp.Groups[1].ErrorCode != 0 {
				t.Fatalf("OffsetFetch v%d: %+v", v, resp.Groups)
			}
			for _, g := range resp.Groups {
				for _, rt := range g.Topics {
					for _, p := range rt.Partitions {
						got = append(got, fmt.Sprintf("%s %s-%d=%d %s e%d", g.Group, rt.Topic, p.Partition, p.Offset, str(p.Metadata), p.LeaderEpoch))
					}
				}
			}
		} else {
			if resp.ErrorCode != 0 {
				t.Fatalf("OffsetFetch v%d: %s", v, codeName(resp.ErrorCode))
			}
			for _, rt := range resp.Topics {
				for _, p := range rt.Partitions {
					got = append(got, fmt.Sprintf("%s %s-%d=%d %s e%d", group, rt.Topic, p.Partition, p.Offset, str(p.Metadata), p.LeaderEpoch))
				}
			}
		}
		want := []string{"stable t-0=108 v8 e7", "stable t-1=109 v9 e7"}
		if v >= 8 {
			want = append(want, "simple-v0 t-0=100 v0 e-1")
		}
		if !epochs {
			for i := range want {
				want[i] = want[i][:len(want[i])-2] + "e-1"
			}
		}
		if slices.Compare(got, want) != 0 {
			t.Errorf("OffsetFetch v%d: %q, want %q", v, got, want)
		}
	}

	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.SetVersion(v)
		req.Groups = []string{group, "never-heard-of"}
		req.IncludeAuthorizedOperations = true
		resp := do[*kmsg.DescribeGroupsResponse](c, req)
		if len(resp.Groups) != 2 {
			t.Fatalf("DescribeGroups v%d: %+v", v, resp.Groups)
		}
		g, none := resp.Groups[0], resp.Groups[1]
		if g.ErrorCode != 0 || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "custom" || len(g.Members) != 1 ||
			g.Members[0].MemberID != j.MemberID || g.Members[0].ClientID != "admin-test" || g.Members[0].ClientHost != "/127.0.0.1" ||
			string(g.Members[0].ProtocolMetadata) != "m" || string(g.Members[0].MemberAssignment) != "a" {
			t.Errorf("DescribeGroups v%d: %+v", v, g)
		}
		if v >= 3 && g.AuthorizedOperations != 328 {
			t.Errorf("DescribeGroups v%d: authorized operations %d", v, g.AuthorizedOperations)
		}
		if none.ErrorCode != 0 || none.State != "Dead" {
			t.Errorf("DescribeGroups v%d, unknown group: %+v", v, none)
		}
	}

	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrListGroupsRequest()
		req.SetVersion(v)
		if v >= 4 {
			req.StatesFilter = []string{"stable"}
		}
		if v >= 5 {
			req.TypesFilter = []string{"Classic"}
		}
		resp := do[*kmsg.ListGroupsResponse](c, req)
		var names []string
		for _, g := range resp.Groups {
			names = append(names, g.Group)
			if g.Group == group && (g.ProtocolType != "consumer" || v >= 4 && g.GroupState != "Stable" || v >= 5 && g.GroupType != "classic") {
				t.Errorf("ListGroups v%d: %+v", v, g)
			}
		}
		if resp.ErrorCode != 0 || !slices.Contains(names, group) || slices.Contains(names, "simple-v0") != (v < 4) {
			t.Errorf("ListGroups v%d: %s %v", v, codeName(resp.ErrorCode), names)
		}
		if v >= 5 {
			req.TypesFilter = []string{"consumer"}
			if resp := do[*kmsg.ListGroupsResponse](c, req); len(resp.Groups) != 0 {
				t.Errorf("ListGroups v%d filtered on type consumer: %+v", v, resp.Groups)
			}
		}
	}

	{
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = "simple-v0"
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = "t"
		rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}, {Partition: 9}}
		req.Topics = append(req.Topics, rt)
		resp := do[*kmsg.OffsetDeleteResponse](c, req)
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 ||
			resp.Topics[0].Partitions[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("OffsetDelete: %s %+v", codeName(resp.ErrorCode), resp.Topics)
		}
		// A consumer group with members keeps the offsets of topics it
		// subscribes to; subscriptions it cannot read count as subscribing
		// to everything.
		req.Group = group
		req.Topics[0].Partitions = req.Topics[0].Partitions[:1]
		if resp := do[*kmsg.OffsetDeleteResponse](c, req); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
			t.Errorf("OffsetDelete of a stable consumer group's offsets: %s %+v", codeName(resp.ErrorCode), resp.Topics)
		}
	}

	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.SetVersion(v)
		req.Group = group
		if v < 3 {
			req.MemberID = "not-a-member"
			if resp := do[*kmsg.LeaveGroupResponse](c, req); resp.ErrorCode != kerr.UnknownMemberID.Code {
				t.Errorf("LeaveGroup v%d: %s", v, codeName(resp.ErrorCode))
			}
			continue
		}
		req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "not-a-member"}, {MemberID: "", InstanceID: strp("nobody")}}
		resp := do[*kmsg.LeaveGroupResponse](c, req)
		if resp.ErrorCode != 0 || len(resp.Members) != 2 || resp.Members[0].ErrorCode != kerr.UnknownMemberID.Code ||
			resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code || str(resp.Members[1].InstanceID) != "nobody" {
			t.Errorf("LeaveGroup v%d: %s %+v", v, codeName(resp.ErrorCode), resp.Members)
		}
	}

	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.SetVersion(v)
		req.Groups = []string{group, "never-heard-of"}
		resp := do[*kmsg.DeleteGroupsResponse](c, req)
		if len(resp.Groups) != 2 || resp.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code || resp.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
			t.Errorf("DeleteGroups v%d: %+v", v, resp.Groups)
		}
	}

	// The member leaves (v0: one member, its error is the response's);
	// then the empty group can be deleted, with its offsets.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.SetVersion(0)
	leave.Group, leave.MemberID = group, j.MemberID
	if resp := do[*kmsg.LeaveGroupResponse](c, leave); resp.ErrorCode != 0 {
		t.Fatalf("LeaveGroup: %s", codeName(resp.ErrorCode))
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.SetVersion(2)
	del.Groups = []string{group, group}
	if resp := do[*kmsg.DeleteGroupsResponse](c, del); len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("DeleteGroups: %+v", resp.Groups)
	}
	offs, err := adm.FetchOffsets(t.Context(), group)
	if err != nil || len(offs) != 0 {
		t.Fatalf("offsets of the deleted group: %v %v", offs, err)
	}
}

// TestGroupMalformedRequests sends malformed and inconsistent JoinGroup,
// SyncGroup, OffsetCommit and Heartbeat requests about a live group and
// about a second one, and checks that each gets Kafka's error code while a
// franz-go consumer group keeps consuming and committing undisturbed.
func TestGroupMalformedRequests(t *testing.T) {
	srv := brokertest.Start(t)
	const topic, group = "work", "healthy"
	prod, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	mustCreate(t, kadm.NewClient(prod), 2, nil, topic)
	got := &consumed{count: map[string]int{}}
	m := startMember(t, srv.Addr, group, topic, kgo.CooperativeStickyBalancer(), got)
	produceRange := func(from, to int) {
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			recs = append(recs, &kgo.Record{Value: []byte(strconv.Itoa(i))})
		}
		if err := prod.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produceRange(0, 500)
	waitFor(t, "the first records", time.Minute, func() bool { return got.n.Load() >= 500 })

	c := dialRaw(t, srv.Addr)
	ds, err := kadm.NewClient(prod).DescribeGroups(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	live := ds[group].Members[0].MemberID
	j := rawJoin(t, c, 5, "other", "", nil, "custom", "m")

	join := func(mutate func(*kmsg.JoinGroupRequest)) int16 {
		req := kmsg.NewPtrJoinGroupRequest()
		req.SetVersion(9)
		req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = "other", 10000, 10000, "consumer"
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "custom", Metadata: []byte("m")}}
		mutate(req)
		return do[*kmsg.JoinGroupResponse](c, req).ErrorCode
	}
	sync := func(mutate func(*kmsg.SyncGroupRequest)) int16 {
		req := kmsg.NewPtrSyncGroupRequest()
		req.SetVersion(5)
		req.Group, req.MemberID, req.Generation = "other", j.MemberID, j.Generation
		req.ProtocolType, req.Protocol = strp("consumer"), strp("custom")
		mutate(req)
		return do[*kmsg.SyncGroupResponse](c, req).ErrorCode
	}
	commit := func(mutate func(*kmsg.OffsetCommitRequest)) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(9)
		req.Group, req.MemberID, req.Generation = group, live, 1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		mutate(req)
		return do[*kmsg.OffsetCommitResponse](c, req).Topics[0].Partitions[0].ErrorCode
	}
	tests := []struct {
		name string
		code int16
		want *kerr.Error
	}{
		{"join: empty group id", join(func(r *kmsg.JoinGroupRequest) { r.Group = "" }), kerr.InvalidGroupID},
		{"join: session timeout below group.min.session.timeout.ms", join(func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 10 }), kerr.InvalidSessionTimeout},
		{"join: session timeout above group.max.session.timeout.ms", join(func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 1 << 30 }), kerr.InvalidSessionTimeout},
		{"join: no protocol type", join(func(r *kmsg.JoinGroupRequest) { r.Group, r.ProtocolType = "fresh", "" }), kerr.InconsistentGroupProtocol},
		{"join: no protocols", join(func(r *kmsg.JoinGroupRequest) { r.Group, r.Protocols = "fresh2", nil }), kerr.InconsistentGroupProtocol},
		{"join: another protocol type", join(func(r *kmsg.JoinGroupRequest) { r.ProtocolType = "connect" }), kerr.InconsistentGroupProtocol},
		{"join: no protocol in common", join(func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Name = "range" }), kerr.InconsistentGroupProtocol},
		{"join: unknown member", join(func(r *kmsg.JoinGroupRequest) { r.MemberID = "forged" }), kerr.UnknownMemberID},
		{"join: unknown member of the live group", join(func(r *kmsg.JoinGroupRequest) {
			r.Group, r.MemberID, r.Protocols[0].Name = group, "forged", "cooperative-sticky"
		}), kerr.UnknownMemberID},
		{"join: unknown static member", join(func(r *kmsg.JoinGroupRequest) { r.MemberID, r.InstanceID = j.MemberID, strp("nobody") }), kerr.UnknownMemberID},
		{"sync: wrong generation", sync(func(r *kmsg.SyncGroupRequest) { r.Generation = 99 }), kerr.IllegalGeneration},
		{"sync: unknown member", sync(func(r *kmsg.SyncGroupRequest) { r.MemberID = "forged" }), kerr.UnknownMemberID},
		{"sync: unknown group", sync(func(r *kmsg.SyncGroupRequest) { r.Group = "nowhere" }), kerr.UnknownMemberID},
		{"sync: v5 without protocol type", sync(func(r *kmsg.SyncGroupRequest) { r.ProtocolType = nil }), kerr.InconsistentGroupProtocol},
		{"sync: wrong protocol", sync(func(r *kmsg.SyncGroupRequest) { r.Protocol = strp("range") }), kerr.InconsistentGroupProtocol},
		{"sync: the live group's member at a forged generation", sync(func(r *kmsg.SyncGroupRequest) { r.Group, r.MemberID, r.Generation = group, live, 99 }), kerr.IllegalGeneration},
		{"commit: illegal generation", commit(func(r *kmsg.OffsetCommitRequest) { r.Generation = 99 }), kerr.IllegalGeneration},
		{"commit: unknown member", commit(func(r *kmsg.OffsetCommitRequest) { r.MemberID = "forged" }), kerr.UnknownMemberID},
		{"commit: generation -1 while the group has members", commit(func(r *kmsg.OffsetCommitRequest) { r.MemberID, r.Generation = "", -1 }), kerr.UnknownMemberID},
		{"commit: unknown topic", commit(func(r *kmsg.OffsetCommitRequest) { r.Topics[0].Topic = "nope" }), kerr.UnknownTopicOrPartition},
		{"commit: unknown partition", commit(func(r *kmsg.OffsetCommitRequest) { r.Topics[0].Partitions[0].Partition = 7 }), kerr.UnknownTopicOrPartition},
		{"commit: metadata too large", commit(func(r *kmsg.OffsetCommitRequest) {
			r.Topics[0].Partitions[0].Metadata = strp(string(make([]byte, 4097)))
		}), kerr.OffsetMetadataTooLarge},
		{"commit: group that does not exist at a generation", commit(func(r *kmsg.OffsetCommitRequest) { r.Group = "ghost" }), kerr.IllegalGeneration},
	}
	for _, tt := range tests {
		if tt.code != tt.want.Code {
			t.Errorf("%s: %s, want %s", tt.name, codeName(tt.code), tt.want.Message)
		}
	}

	// The live group was not disturbed: the same member, no rebalance, and
	// it goes on consuming and committing.
	produceRange(500, 1000)
	waitFor(t, "the later records", time.Minute, func() bool { return got.n.Load() >= 1000 })
	m.stop()
	ds, err = kadm.NewClient(prod).DescribeGroups(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[group]; d.State != "Empty" {
		t.Errorf("group after its member left: %+v", d)
	}
	offs, err := kadm.NewClient(prod).FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != 1000 {
		t.Errorf("committed offsets add up to %d, want 1000", sum)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for i := range 1000 {
		if n := got.count[strconv.Itoa(i)]; n != 1 {
			t.Fatalf("record %d processed %d times", i, n)
		}
	}
}

// TestGroupOffsetsTopic checks __consumer_offsets as Kafka's tools see it:
// created on the first FindCoordinator (which answers
// COORDINATOR_NOT_AVAILABLE meanwhile), internal, compacted, sized by
// offsets.topic.*; and its records decode with Kafka's formats (read here
// with franz-go's kmsg, generated from Kafka's own definitions).
func TestGroupOffsetsTopic(t *testing.T) {
	srv := startServer(t, "offsets.topic.num.partitions=7", "offsets.topic.segment.bytes=1048576")
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)

	req := kmsg.NewPtrFindCoordinatorRequest()
	req.SetVersion(4)
	req.CoordinatorKeys = []string{"g1", "g2"}
	resp := do[*kmsg.FindCoordinatorResponse](c, req)
	if co := resp.Coordinators[0]; co.ErrorCode != kerr.CoordinatorNotAvailable.Code || co.NodeID != -1 {
		t.Errorf("first FindCoordinator for %s: %s node %d", co.Key, codeName(co.ErrorCode), co.NodeID)
	}
	mt := topicMeta(t, c, "__consumer_offsets")
	if mt == nil || !mt.IsInternal || len(mt.Partitions) != 7 {
		t.Fatalf("__consumer_offsets: %+v", mt)
	}
	cfgs := overrides(t, c, "__consumer_offsets")
	if cfgs["cleanup.policy"] != "compact" || cfgs["segment.bytes"] != "1048576" {
		t.Errorf("__consumer_offsets configs: %v", cfgs)
	}
	if r := findCoordinator(t, c, "g1"); r.ErrorCode != 0 || r.NodeID != 1 {
		t.Fatalf("FindCoordinator: %s", codeName(r.ErrorCode))
	}

	// A transactional ID's coordinator is found the same way in
	// __transaction_state.
	txn := kmsg.NewPtrFindCoordinatorRequest()
	txn.SetVersion(3)
	txn.CoordinatorType, txn.CoordinatorKey = 1, "tx-1"
	if r := do[*kmsg.FindCoordinatorResponse](c, txn); r.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("first transaction FindCoordinator: %s", codeName(r.ErrorCode))
	}
	if r := do[*kmsg.FindCoordinatorResponse](c, txn); r.ErrorCode != 0 || r.NodeID != 1 {
		t.Errorf("transaction FindCoordinator: %s", codeName(r.ErrorCode))
	}
	if mt := topicMeta(t, c, "__transaction_state"); mt == nil || !mt.IsInternal || len(mt.Partitions) != 50 {
		t.Errorf("__transaction_state: %+v", mt)
	}
	txn.CoordinatorType = 7
	if r := do[*kmsg.FindCoordinatorResponse](c, txn); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("unknown key type: %s", codeName(r.ErrorCode))
	}

	// A group commits; its records land in the partition Kafka would pick.
	mustCreate(t, adm, 1, nil, "t")
	j := rawJoin(t, c, 9, "g1", "", nil, "custom", "sub")
	if s := rawSync(t, c, 5, "g1", j.MemberID, j.Generation, map[string]string{j.MemberID: "asg"}); s.ErrorCode != 0 {
		t.Fatalf("sync: %s", codeName(s.ErrorCode))
	}
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.SetVersion(8)
	oc.Group, oc.MemberID, oc.Generation = "g1", j.MemberID, j.Generation
	oc.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 77, LeaderEpoch: 0, Metadata: strp("meta")}}}}
	if r := do[*kmsg.OffsetCommitResponse](c, oc); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("commit: %s", codeName(r.Topics[0].Partitions[0].ErrorCode))
	}
	// "g1".hashCode() is 3242, and 3242 % 7 = 1.
	cons, err := kgo.NewClient(kgo.SeedBrokers(srv.addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		"__consumer_offsets": {1: kgo.NewOffset().AtStart()},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var found []string
	for len(found) < 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		fs := cons.PollFetches(ctx)
		cancel()
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading __consumer_offsets-1 (found %q): %v", found, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Key) < 2 {
				t.Fatalf("key %x", r.Key)
			}
			switch version := int16(r.Key[0])<<8 | int16(r.Key[1]); version {
			case 1:
				var key kmsg.OffsetCommitKey
				if err := key.ReadFrom(r.Key); err != nil {
					t.Fatal(err)
				}
				var v kmsg.OffsetCommitValue
				if err := v.ReadFrom(r.Value); err != nil {
					t.Fatal(err)
				}
				found = append(found, fmt.Sprintf("offset %s %s-%d=%d %q epoch %d v%d", key.Group, key.Topic, key.Partition, v.Offset, v.Metadata, v.LeaderEpoch, v.Version))
			case 2:
				var gk kmsg.GroupMetadataKey
				var v kmsg.GroupMetadataValue
				if err := gk.ReadFrom(r.Key); err != nil {
					t.Fatal(err)
				}
				if err := v.ReadFrom(r.Value); err != nil {
					t.Fatal(err)
				}
				found = append(found, fmt.Sprintf("group %s gen %d %s/%s leader=%v members=%d assignment=%s v%d", gk.Group, v.Generation, v.ProtocolType, str(v.Protocol),
					str(v.Leader) == j.MemberID, len(v.Members), v.Members[0].Assignment, v.Version))
			}
		})
	}
	want := []string{
		"group g1 gen 1 consumer/custom leader=true members=1 assignment=asg v3",
		`offset g1 t-0=77 "meta" epoch 0 v3`,
	}
	if slices.Compare(found, want) != 0 {
		t.Errorf("__consumer_offsets-1 holds\n%q\nwant\n%q", found, want)
	}
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestGroupOffsetsOfDeletedTopic deletes a topic a group committed
// offsets for: the offsets go with it, and the group's others stay.
func TestGroupOffsetsOfDeletedTopic(t *testing.T) {
	srv := startServer(t, "offsets.topic.num.partitions=2")
	_, adm := srv.clients(t)
	mustCreate(t, adm, 2, nil, "doomed", "kept")
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "doomed", Partition: 0, At: 5, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "doomed", Partition: 1, At: 6, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "kept", Partition: 0, At: 7, LeaderEpoch: -1})
	if r, err := adm.CommitOffsets(t.Context(), "g", offs); err != nil || r.Error() != nil {
		t.Fatalf("commit: %v %v", err, r.Error())
	}
	if _, err := adm.DeleteTopics(t.Context(), "doomed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted topic's offsets to go", 10*time.Second, func() bool {
		got, err := adm.FetchOffsets(t.Context(), "g")
		if err != nil {
			t.Fatal(err)
		}
		_, doomed := got.Lookup("doomed", 0)
		kept, ok := got.Lookup("kept", 0)
		return !doomed && ok && kept.At == 7
	})
}

// TestGroupStaticMemberRestart restarts a static member (KIP-345) of a
// franz-go group: it comes back under its group.instance.id with its
// partitions, and the other member's partitions are never revoked, because
// replacing a static member does not rebalance the group.
func TestGroupStaticMemberRestart(t *testing.T) {
	srv := brokertest.Start(t)
	const topic, group = "static-topic", "static-group"
	admCl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	mustCreate(t, adm, 4, nil, topic)

	var mu sync.Mutex
	revokedA, assigned := 0, map[string][]int32{}
	// member starts a static member; its assignments are recorded under
	// key, so that a late callback of a closed client cannot stand in for
	// its successor's.
	member := func(instance, key string, onRevoke func()) *kgo.Client {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(srv.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.InstanceID(instance), kgo.Balancers(kgo.RangeBalancer()),
			kgo.HeartbeatInterval(100*time.Millisecond), kgo.SessionTimeout(30*time.Second),
			kgo.FetchMaxWait(100*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				assigned[key] = slices.Sorted(slices.Values(m[topic]))
				mu.Unlock()
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				if onRevoke != nil && len(m[topic]) > 0 {
					onRevoke()
				}
			}),
		)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for !cl.PollFetches(context.Background()).IsClientClosed() {
			}
		}()
		return cl
	}
	ids := func(d kadm.DescribedGroup) map[string]string {
		m := map[string]string{}
		for _, mem := range d.Members {
			m[str(mem.InstanceID)] = mem.MemberID
		}
		return m
	}
	// stable waits for a Stable group of two members, one of them b with a
	// member ID other than notB, and both members' assignments (two
	// partitions each under the range balancer) seen under keys a and bKey.
	// Checking each member's share, not their sum, matters: a's callback
	// for the single-member generation (all four partitions) can still be
	// the latest one seen while b's first assignment is in flight.
	stable := func(bKey, notB string) kadm.DescribedGroup {
		var d kadm.DescribedGroup
		waitFor(t, "two stable members", 30*time.Second, func() bool {
			ds, err := adm.DescribeGroups(t.Context(), group)
			d = ds[group]
			mu.Lock()
			defer mu.Unlock()
			return err == nil && d.State == "Stable" && len(d.Members) == 2 && ids(d)["b"] != notB &&
				len(assigned["a"]) == 2 && len(assigned[bKey]) == 2
		})
		return d
	}
	a := member("a", "a", func() { mu.Lock(); revokedA++; mu.Unlock() })
	defer a.Close()
	b := member("b", "b", nil)
	before := stable("b", "")
	mu.Lock()
	revokedA = 0 // the second member's arrival moved partitions away from a
	bParts := assigned["b"]
	mu.Unlock()

	// A static member's close does not leave the group; its successor
	// (same group.instance.id) takes its place with a new member ID.
	b.Close()
	b = member("b", "b2", nil)
	defer b.Close()
	after := stable("b2", ids(before)["b"])

	mu.Lock()
	defer mu.Unlock()
	if revokedA != 0 {
		t.Errorf("a lost partitions %d times while b restarted", revokedA)
	}
	if slices.Compare(assigned["b2"], bParts) != 0 {
		t.Errorf("b came back with %v, had %v", assigned["b2"], bParts)
	}
	if ids(before)["a"] != ids(after)["a"] {
		t.Errorf("member IDs before %v, after %v: a should keep its", ids(before), ids(after))
	}
}

// groupFuzz turns fuzz input into group requests about a few groups,
// reusing member IDs the coordinator handed out so that inputs reach deep
// into rebalances.
type groupFuzz struct {
	fuzzBytes
	members []string
}

func (f *groupFuzz) group() string { return f.pick("fz1", "fz2", "fz3", "") }

func (f *groupFuzz) member() string {
	if len(f.members) > 0 && f.byte()%2 == 0 {
		return f.members[int(f.byte())%len(f.members)]
	}
	return f.pick("", "forged", "fz-member")
}

func (f *groupFuzz) instance() *string {
	if f.byte()%3 != 0 {
		return nil
	}
	return strp(f.pick("i1", "i2", ""))
}

func (f *groupFuzz) generation() int32 { return f.int32() % 4 }

func (f *groupFuzz) partitions() []kmsg.OffsetCommitRequestTopicPartition {
	var ps []kmsg.OffsetCommitRequestTopicPartition
	for range f.count() {
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch = f.int32()%3, f.int64(), f.int32()
		if f.byte()%4 != 0 {
			p.Metadata = strp(f.pick("", "meta", string(make([]byte, 5000))))
		}
		ps = append(ps, p)
	}
	return ps
}

// request builds a group request for one of the APIs, at a version the
// server advertises.
func (f *groupFuzz) request(which uint8, version uint8) kmsg.Request {
	pickVersion := func(min, max int16) int16 { return min + int16(version)%(max-min+1) }
	switch which % 9 {
	case 0:
		req := kmsg.NewPtrJoinGroupRequest()
		// v0 has no rebalance timeout (the session timeout, seconds here,
		// stands in), which would make rounds slow.
		req.SetVersion(pickVersion(1, 9))
		req.Group, req.MemberID, req.InstanceID = f.group(), f.member(), f.instance()
		req.SessionTimeoutMillis = []int32{6000, 10000, 10, 1 << 30}[f.byte()%4]
		req.RebalanceTimeoutMillis = int32(f.byte() % 100)
		req.ProtocolType = f.pick("consumer", "connect", "")
		for range f.count() {
			p := kmsg.NewJoinGroupRequestProtocol()
			p.Name, p.Metadata = f.pick("range", "roundrobin", ""), []byte(f.pick("m", "", "\x00\x00"))
			req.Protocols = append(req.Protocols, p)
		}
		return req
	case 1:
		req := kmsg.NewPtrSyncGroupRequest()
		req.SetVersion(pickVersion(0, 5))
		req.Group, req.MemberID, req.InstanceID, req.Generation = f.group(), f.member(), f.instance(), f.generation()
		if f.byte()%4 != 0 {
			req.ProtocolType, req.Protocol = strp(f.pick("consumer", "x")), strp(f.pick("range", "roundrobin"))
		}
		for range f.count() {
			a := kmsg.NewSyncGroupRequestGroupAssignment()
			a.MemberID, a.MemberAssignment = f.member(), []byte(f.pick("a", ""))
			req.GroupAssignment = append(req.GroupAssignment, a)
		}
		return req
	case 2:
		req := kmsg.NewPtrHeartbeatRequest()
		req.SetVersion(pickVersion(0, 4))
		req.Group, req.MemberID, req.InstanceID, req.Generation = f.group(), f.member(), f.instance(), f.generation()
		return req
	case 3:
		req := kmsg.NewPtrLeaveGroupRequest()
		req.SetVersion(pickVersion(0, 5))
		req.Group, req.MemberID = f.group(), f.member()
		for range f.count() {
			req.Members = append(req.Members, kmsg.LeaveGroupRequestMember{MemberID: f.member(), InstanceID: f.instance()})
		}
		return req
	case 4:
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(pickVersion(0, 9))
		req.Group, req.MemberID, req.InstanceID, req.Generation = f.group(), f.member(), f.instance(), f.generation()
		req.RetentionTimeMillis = f.int64()
		for range f.count() {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic, rt.Partitions = f.pick("fuzzed", "nope", ""), f.partitions()
			req.Topics = append(req.Topics, rt)
		}
		return req
	case 5:
		req := kmsg.NewPtrOffsetFetchRequest()
		req.SetVersion(pickVersion(0, 9))
		req.Group, req.RequireStable = f.group(), f.byte()%2 == 0
		if f.byte()%3 != 0 || req.Version < 2 {
			req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: f.pick("fuzzed", "nope"), Partitions: []int32{f.int32() % 3}}}
		}
		for range f.count() {
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = f.group()
			if f.byte()%2 == 0 {
				g.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "fuzzed", Partitions: []int32{0, 1}}}
			}
			req.Groups = append(req.Groups, g)
		}
		return req
	case 6:
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.SetVersion(pickVersion(0, 5))
		for range f.count() {
			req.Groups = append(req.Groups, f.group())
		}
		return req
	case 7:
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.SetVersion(pickVersion(0, 2))
		for range f.count() {
			req.Groups = append(req.Groups, f.group())
		}
		return req
	default:
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = f.group()
		for range f.count() {
			req.Topics = append(req.Topics, kmsg.OffsetDeleteRequestTopic{Topic: f.pick("fuzzed", "nope"),
				Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: f.int32() % 3}}})
		}
		return req
	}
}

// FuzzGroupRequests sends group requests built from the input to a live
// broker: each must be answered with a well-formed response and a Kafka
// error code other than UNKNOWN_SERVER_ERROR, and a group the requests do
// not name (a stable franz-go-free member heartbeating between them) must
// stay as it is.
func FuzzGroupRequests(f *testing.F) {
	srv := startServer(f, "offsets.topic.num.partitions=3")
	mustCreateTB(f, srv, "fuzzed")
	c := dialRaw(f, srv.addr)
	findCoordinator(f, c, "sentinel")
	sj := rawJoin(f, c, 5, "sentinel", "", nil, "range", "m")
	if sj.ErrorCode != 0 {
		f.Fatalf("sentinel join: %s", codeName(sj.ErrorCode))
	}
	if s := rawSync(f, c, 4, "sentinel", sj.MemberID, sj.Generation, map[string]string{sj.MemberID: "all"}); s.ErrorCode != 0 {
		f.Fatalf("sentinel sync: %s", codeName(s.ErrorCode))
	}
	for which := range uint8(9) {
		f.Add(which, uint8(0), []byte{0, 1, 2, 3, 4, 5, 6, 7})
		f.Add(which, uint8(9), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	}
	fz := &groupFuzz{}
	f.Fuzz(func(t *testing.T, which, version uint8, input []byte) {
		fz.fuzzBytes = fuzzBytes{b: input}
		// Each step sends up to four requests, feeding member IDs back.
		for range 4 {
			req := fz.request(which, version)
			resp, err := c.try(req)
			if err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
			}
			if j, ok := resp.(*kmsg.JoinGroupResponse); ok && j.MemberID != "" && !slices.Contains(fz.members, j.MemberID) {
				fz.members = append(fz.members[max(len(fz.members)-7, 0):], j.MemberID)
			}
			for _, code := range errorCodes(resp) {
				if code == kerr.UnknownServerError.Code {
					t.Fatalf("%s v%d: UNKNOWN_SERVER_ERROR", kmsg.NameForKey(req.Key()), req.GetVersion())
				}
			}
			which, version = fz.byte(), fz.byte()
			if len(fz.b) == 0 {
				break
			}
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.MemberID, hb.Generation = "sentinel", sj.MemberID, sj.Generation
		r, err := c.try(hb)
		if err != nil {
			t.Fatal(err)
		}
		if code := r.(*kmsg.HeartbeatResponse).ErrorCode; code != 0 {
			t.Fatalf("the sentinel group was disturbed: %s", codeName(code))
		}
	})
}

// errorCodes collects every error code of a group API response.
func errorCodes(resp kmsg.Response) []int16 {
	var codes []int16
	switch r := resp.(type) {
	case *kmsg.JoinGroupResponse:
		codes = append(codes, r.ErrorCode)
	case *kmsg.SyncGroupResponse:
		codes = append(codes, r.ErrorCode)
	case *kmsg.HeartbeatResponse:
		codes = append(codes, r.ErrorCode)
	case *kmsg.LeaveGroupResponse:
		codes = append(codes, r.ErrorCode)
		for _, m := range r.Members {
			codes = append(codes, m.ErrorCode)
		}
	case *kmsg.OffsetCommitResponse:
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				codes = append(codes, p.ErrorCode)
			}
		}
	case *kmsg.OffsetFetchResponse:
		codes = append(codes, r.ErrorCode)
		for _, g := range r.Groups {
			codes = append(codes, g.ErrorCode)
		}
	case *kmsg.DescribeGroupsResponse:
		for _, g := range r.Groups {
			codes = append(codes, g.ErrorCode)
		}
	case *kmsg.DeleteGroupsResponse:
		for _, g := range r.Groups {
			codes = append(codes, g.ErrorCode)
		}
	case *kmsg.OffsetDeleteResponse:
		codes = append(codes, r.ErrorCode)
	}
	return codes
}
