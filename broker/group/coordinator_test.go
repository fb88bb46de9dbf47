package group

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/internal/coord/coordtest"
	"github.com/runnel/runnel/broker/replica"
)

// memLog is an in-memory PartitionLog.
type memLog = coordtest.Log

func newTestCoordinator(t *testing.T, partitions int) *Coordinator {
	t.Helper()
	n := 0
	c, err := New(Config{
		MinSessionTimeout: time.Second, MaxSessionTimeout: time.Minute,
		NewMemberID: func(prefix string) string { n++; return fmt.Sprintf("%s-%d", prefix, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SetPartitionCount(partitions)
	return c
}

func joinReq(group, member, client string) JoinRequest {
	return JoinRequest{
		Group: group, MemberID: member, ClientID: client, ClientHost: "/127.0.0.1",
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second,
		ProtocolType: "consumer", Protocols: []Protocol{{Name: "range", Metadata: []byte("m")}},
	}
}

// TestCoordinatorSessionExpiry runs the loop on the bubble's clock: a
// member that stops heartbeating is removed at its session timeout, not a
// moment before.
func TestCoordinatorSessionExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, 1)
		defer c.Close()
		log := &memLog{}
		c.Load(0, log)
		ctx := t.Context()
		synctest.Wait()
		start := time.Now()

		j := c.Join(ctx, joinReq("g", "", "a"))
		if j.Err != nil || j.Generation != 1 || j.Leader != j.MemberID {
			t.Fatalf("join: %+v", j)
		}
		s := c.Sync(ctx, SyncRequest{Group: "g", Generation: 1, MemberID: j.MemberID, Assignments: map[string][]byte{j.MemberID: []byte("p0")}})
		if s.Err != nil || string(s.Assignment) != "p0" {
			t.Fatalf("sync: %+v", s)
		}
		for range 3 {
			time.Sleep(9 * time.Second)
			if err := c.Heartbeat(ctx, HeartbeatRequest{Group: "g", Generation: 1, MemberID: j.MemberID}); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
		}
		time.Sleep(10*time.Second - time.Millisecond)
		if d := c.DescribeGroup(ctx, "g"); d.State != Stable || len(d.Members) != 1 {
			t.Fatalf("before the session ends: %+v", d)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if d := c.DescribeGroup(ctx, "g"); d.State != Empty || len(d.Members) != 0 {
			t.Fatalf("after the session ended: %+v", d)
		}
		if err := c.Heartbeat(ctx, HeartbeatRequest{Group: "g", Generation: 1, MemberID: j.MemberID}); !errors.Is(err, ErrUnknownMemberID) {
			t.Fatalf("heartbeat of the expired member: %v", err)
		}
		// The group record written when it emptied says when that was.
		batches := log.Batches()
		last, err := batches[len(batches)-1].DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseGroupValue(last[0].Value)
		if err != nil || v.Generation != 2 || len(v.Members) != 0 || v.CurrentStateTimestamp != start.Add(37*time.Second).UnixMilli() {
			t.Fatalf("last group record: %+v %v", v, err)
		}
	})
}

// TestCoordinatorRebalanceAcrossGoroutines has three members join at once
// from their own goroutines, as three connections would: they are answered
// together with one generation and one leader.
func TestCoordinatorRebalanceAcrossGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Config{MinSessionTimeout: time.Second, InitialRebalanceDelay: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetPartitionCount(1)
		c.Load(0, &memLog{})
		synctest.Wait()
		results := make([]JoinResult, 3)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				req := joinReq("g", "", fmt.Sprintf("c%d", i))
				req.RequireKnownMemberID = true
				r := c.Join(t.Context(), req)
				if !errors.Is(r.Err, ErrMemberIDRequired) {
					t.Errorf("first join: %+v", r)
					return
				}
				req.MemberID = r.MemberID
				results[i] = c.Join(t.Context(), req)
			})
		}
		start := time.Now()
		wg.Wait()
		// The first rejoin starts the 3s initial delay; the other two
		// joined during it, which extends it once more.
		if waited := time.Since(start); waited != 6*time.Second {
			t.Errorf("joins answered after %v, want twice the initial delay of 3s", waited)
		}
		leaders := 0
		for _, r := range results {
			if r.Err != nil || r.Generation != 1 || r.Leader != results[0].Leader {
				t.Fatalf("results: %+v", results)
			}
			if r.MemberID == r.Leader {
				leaders++
				if len(r.Members) != 3 {
					t.Fatalf("leader got %d members", len(r.Members))
				}
			}
		}
		if leaders != 1 {
			t.Fatalf("%d leaders", leaders)
		}
	})
}

// TestCoordinatorUnloadAnswersWaiters checks that requests parked in a
// rebalance are answered NOT_COORDINATOR when the partition is unloaded,
// and that later requests are too.
func TestCoordinatorUnloadAnswersWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, 1)
		defer c.Close()
		c.Load(0, &memLog{})
		synctest.Wait()
		ctx := t.Context()
		a := c.Join(ctx, joinReq("g", "", "a"))
		c.Sync(ctx, SyncRequest{Group: "g", Generation: 1, MemberID: a.MemberID})
		parked := make(chan JoinResult, 1)
		go func() { parked <- c.Join(ctx, joinReq("g", "", "b")) }()
		synctest.Wait()
		select {
		case r := <-parked:
			t.Fatalf("join answered before the rebalance ended: %+v", r)
		default:
		}
		c.Unload(0)
		if r := <-parked; !errors.Is(r.Err, ErrNotCoordinator) {
			t.Fatalf("parked join: %+v", r)
		}
		if err := c.Heartbeat(ctx, HeartbeatRequest{Group: "g", Generation: 1, MemberID: a.MemberID}); !errors.Is(err, ErrNotCoordinator) {
			t.Fatalf("heartbeat after unload: %v", err)
		}
	})
}

// TestCoordinatorLoading checks the answers while a partition loads:
// COORDINATOR_LOAD_IN_PROGRESS, except Heartbeat (answered blindly) and
// SyncGroup (REBALANCE_IN_PROGRESS), as Kafka answers them; and the state
// rebuilt from the log once it has loaded.
func TestCoordinatorLoading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		log := &memLog{}
		first := newTestCoordinator(t, 1)
		first.Load(0, log)
		synctest.Wait()
		a := first.Join(ctx, joinReq("g", "", "a"))
		first.Sync(ctx, SyncRequest{Group: "g", Generation: 1, MemberID: a.MemberID, Assignments: map[string][]byte{a.MemberID: []byte("p0")}})
		errs := first.CommitOffsets(ctx, CommitRequest{Group: "g", Generation: 1, MemberID: a.MemberID, Retention: -1, Offsets: []OffsetCommit{
			{TopicPartition: TopicPartition{"orders", 0}, Offset: 42, LeaderEpoch: 3, Metadata: "checkpoint", CommitTimestamp: -1},
		}})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		first.Close()

		log.ReadGate = make(chan struct{})
		second := newTestCoordinator(t, 1)
		defer second.Close()
		second.Load(0, log)
		synctest.Wait()
		if r := second.Join(ctx, joinReq("g", "", "b")); !errors.Is(r.Err, ErrCoordinatorLoadInProgress) {
			t.Fatalf("join while loading: %+v", r)
		}
		if err := second.Heartbeat(ctx, HeartbeatRequest{Group: "g", Generation: 1, MemberID: a.MemberID}); err != nil {
			t.Fatalf("heartbeat while loading: %v", err)
		}
		if r := second.Sync(ctx, SyncRequest{Group: "g", Generation: 1, MemberID: a.MemberID}); !errors.Is(r.Err, ErrRebalanceInProgress) {
			t.Fatalf("sync while loading: %+v", r)
		}
		if _, err := second.FetchOffsets(ctx, "g", nil, false); !errors.Is(err, ErrCoordinatorLoadInProgress) {
			t.Fatalf("fetch while loading: %v", err)
		}
		if _, err := second.ListGroups(ctx); !errors.Is(err, ErrCoordinatorLoadInProgress) {
			t.Fatalf("list while loading: %v", err)
		}
		close(log.ReadGate)
		synctest.Wait()
		offs, err := second.FetchOffsets(ctx, "g", nil, false)
		if err != nil || len(offs) != 1 || offs[0].Offset != 42 || offs[0].LeaderEpoch != 3 || offs[0].Metadata != "checkpoint" {
			t.Fatalf("offsets after load: %+v %v", offs, err)
		}
		if err := second.Heartbeat(ctx, HeartbeatRequest{Group: "g", Generation: 1, MemberID: a.MemberID}); err != nil {
			t.Fatalf("heartbeat of the loaded member: %v", err)
		}
		if s := second.Sync(ctx, SyncRequest{Group: "g", Generation: 1, MemberID: a.MemberID}); s.Err != nil || string(s.Assignment) != "p0" {
			t.Fatalf("sync of the loaded member: %+v", s)
		}
	})
}

// TestCoordinatorWriteErrors checks how failed appends reach clients:
// a partition this node no longer leads is NOT_COORDINATOR, a replication
// timeout COORDINATOR_NOT_AVAILABLE for commits.
func TestCoordinatorWriteErrors(t *testing.T) {
	tests := []struct {
		appendErr error
		want      error
	}{
		{replica.ErrNotLeader, ErrNotCoordinator},
		{replica.ErrTimeout, ErrCoordinatorNotAvailable},
		{replica.ErrNotEnoughReplicas, ErrCoordinatorNotAvailable},
	}
	for _, tt := range tests {
		t.Run(tt.appendErr.Error(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newTestCoordinator(t, 1)
				defer c.Close()
				log := &memLog{AppendErr: tt.appendErr}
				c.Load(0, log)
				synctest.Wait()
				errs := c.CommitOffsets(t.Context(), CommitRequest{Group: "g", Generation: -1, Retention: -1, Offsets: []OffsetCommit{
					{TopicPartition: TopicPartition{"t", 0}, Offset: 1, CommitTimestamp: -1},
				}})
				if !errors.Is(errs[0], tt.want) {
					t.Fatalf("commit: %v, want %v", errs[0], tt.want)
				}
				offs, _ := c.FetchOffsets(t.Context(), "g", []TopicPartition{{"t", 0}}, false)
				if offs[0].Offset != -1 {
					t.Fatalf("a failed commit is visible: %+v", offs)
				}
			})
		})
	}
}

// TestCoordinatorRouting checks that groups go to the partition
// PartitionFor names and that a partition not loaded here is
// NOT_COORDINATOR.
func TestCoordinatorRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, 50)
		defer c.Close()
		p := PartitionFor("my-group", 50)
		c.Load(p, &memLog{})
		synctest.Wait()
		if r := c.Join(t.Context(), joinReq("my-group", "", "a")); r.Err != nil {
			t.Fatalf("join on the loaded partition: %+v", r)
		}
		other := "a" // partition 47
		if PartitionFor(other, 50) == p {
			t.Fatal("pick another group")
		}
		if r := c.Join(t.Context(), joinReq(other, "", "a")); !errors.Is(r.Err, ErrNotCoordinator) {
			t.Fatalf("join elsewhere: %+v", r)
		}
		if d := c.DescribeGroup(t.Context(), other); !errors.Is(d.Err, ErrNotCoordinator) {
			t.Fatalf("describe elsewhere: %+v", d)
		}
		gs, err := c.ListGroups(t.Context())
		if err != nil || len(gs) != 1 || gs[0].Group != "my-group" {
			t.Fatalf("list: %+v %v", gs, err)
		}
	})
}
