package distributed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeCoordinator is a classic-protocol group coordinator in memory, enough
// to drive members through joins, syncs, heartbeats, leaves and session
// expiry under synctest's clock.
type fakeCoordinator struct {
	mu         sync.Mutex
	nextID     int
	members    map[string]*fakeMember
	generation int32
	leader     string
	joining    bool
	joinDone   chan struct{} // closed when the join phase completes
	syncDone   chan struct{} // closed when the leader's assignments arrive
	assignment map[string][]byte
	joinTimer  *time.Timer
}

type fakeMember struct {
	meta     []byte
	session  time.Duration
	rebal    time.Duration
	lastSeen time.Time
	joined   bool
}

func newFakeCoordinator() *fakeCoordinator {
	return &fakeCoordinator{members: map[string]*fakeMember{}, syncDone: make(chan struct{})}
}

// expire drops members whose session ran out and starts a rebalance.
// Called with mu held.
func (c *fakeCoordinator) expire() {
	now := time.Now()
	for id, m := range c.members {
		if !m.joined && now.Sub(m.lastSeen) > m.session {
			delete(c.members, id)
			c.startJoin(m.rebal)
		}
	}
}

func (c *fakeCoordinator) startJoin(rebal time.Duration) {
	if c.joining {
		return
	}
	c.joining = true
	c.joinDone = make(chan struct{})
	c.joinTimer = time.AfterFunc(rebal, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.completeJoin(true)
	})
}

// completeJoin ends the join phase once every member has rejoined, or at
// the deadline dropping those that did not. Called with mu held.
func (c *fakeCoordinator) completeJoin(deadline bool) {
	if !c.joining {
		return
	}
	for id, m := range c.members {
		if !m.joined {
			if !deadline {
				return
			}
			delete(c.members, id)
		}
	}
	c.joinTimer.Stop()
	c.joining = false
	c.generation++
	if _, ok := c.members[c.leader]; !ok && len(c.members) > 0 {
		c.leader = slices.Sorted(maps.Keys(c.members))[0]
	}
	c.assignment = nil
	c.syncDone = make(chan struct{})
	close(c.joinDone)
}

func (c *fakeCoordinator) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	c.mu.Lock()
	c.expire()
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		if r.MemberID == "" {
			c.nextID++
			resp.MemberID = fmt.Sprintf("m%d", c.nextID)
			c.members[resp.MemberID] = &fakeMember{session: time.Duration(r.SessionTimeoutMillis) * time.Millisecond,
				rebal: time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond, lastSeen: time.Now()}
			resp.ErrorCode = kerr.MemberIDRequired.Code
			c.mu.Unlock()
			return resp, nil
		}
		m, ok := c.members[r.MemberID]
		if !ok {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			c.mu.Unlock()
			return resp, nil
		}
		m.meta, m.joined, m.lastSeen = r.Protocols[0].Metadata, true, time.Now()
		c.startJoin(m.rebal)
		c.completeJoin(false)
		done := c.joinDone
		c.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.members[r.MemberID]; !ok {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			return resp, nil
		}
		m.joined = false
		resp.Generation, resp.LeaderID, resp.MemberID = c.generation, c.leader, r.MemberID
		proto := "default"
		resp.Protocol = &proto
		if r.MemberID == c.leader {
			for _, id := range slices.Sorted(maps.Keys(c.members)) {
				resp.Members = append(resp.Members, kmsg.JoinGroupResponseMember{MemberID: id, ProtocolMetadata: c.members[id].meta})
			}
		}
		return resp, nil
	case *kmsg.SyncGroupRequest:
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		m, ok := c.members[r.MemberID]
		switch {
		case !ok:
			resp.ErrorCode = kerr.UnknownMemberID.Code
		case c.joining:
			resp.ErrorCode = kerr.RebalanceInProgress.Code
		case r.Generation != c.generation:
			resp.ErrorCode = kerr.IllegalGeneration.Code
		}
		if resp.ErrorCode != 0 {
			c.mu.Unlock()
			return resp, nil
		}
		m.lastSeen = time.Now()
		if r.MemberID == c.leader {
			c.assignment = map[string][]byte{}
			for _, a := range r.GroupAssignment {
				c.assignment[a.MemberID] = a.MemberAssignment
			}
			close(c.syncDone)
		}
		done, gen := c.syncDone, c.generation
		c.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.generation != gen {
			resp.ErrorCode = kerr.RebalanceInProgress.Code
			return resp, nil
		}
		resp.MemberAssignment = c.assignment[r.MemberID]
		return resp, nil
	case *kmsg.HeartbeatRequest:
		defer c.mu.Unlock()
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		m, ok := c.members[r.MemberID]
		switch {
		case !ok:
			resp.ErrorCode = kerr.UnknownMemberID.Code
		case c.joining:
			m.lastSeen = time.Now()
			resp.ErrorCode = kerr.RebalanceInProgress.Code
		case r.Generation != c.generation:
			resp.ErrorCode = kerr.IllegalGeneration.Code
		default:
			m.lastSeen = time.Now()
		}
		return resp, nil
	case *kmsg.LeaveGroupRequest:
		defer c.mu.Unlock()
		for _, lm := range r.Members {
			if m, ok := c.members[lm.MemberID]; ok {
				delete(c.members, lm.MemberID)
				c.startJoin(m.rebal)
				c.completeJoin(false)
			}
		}
		return r.ResponseKind(), nil
	}
	c.mu.Unlock()
	return nil, fmt.Errorf("fake coordinator: unexpected %T", req)
}

// crashable cuts a member off the coordinator, as kill -9 does.
type crashable struct {
	inner requester
	mu    sync.Mutex
	dead  bool
}

func (c *crashable) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return nil, errors.New("connection refused")
	}
	return c.inner.Request(ctx, req)
}

// workHandler records what a member runs and assigns a fixed set of
// connectors round-robin.
type workHandler struct {
	connectors map[string]int
	mu         sync.Mutex
	running    Assignment
	has        bool
	revokes    int
}

func (h *workHandler) configOffset() int64 { return 0 }
func (h *workHandler) revoke() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.has = Assignment{}, false
	h.revokes++
}
func (h *workHandler) assign(_ context.Context, leader string, members map[string]WorkerState) map[string]Assignment {
	out := map[string]Assignment{}
	for id, a := range roundRobin(slices.Collect(maps.Keys(members)), h.connectors) {
		a.Leader, a.LeaderURL = leader, members[leader].URL
		out[id] = *a
	}
	return out
}
func (h *workHandler) assigned(_ context.Context, a Assignment, _ int32, _ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.has = a, true
}
func (h *workHandler) work() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	if !h.has {
		return nil
	}
	out = append(out, h.running.Connectors...)
	for _, t := range h.running.Tasks {
		out = append(out, t.String())
	}
	return out
}

// Two workers split the connectors and tasks; when one dies without
// leaving, the other runs everything within the session timeout (plus
// the rejoin it then waits out), and nothing is run twice in between.
func TestMembersRebalanceOnDeath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		coord := newFakeCoordinator()
		conns := map[string]int{"src": 2, "sink": 1}
		all := []string{"sink", "sink-0", "src", "src-0", "src-1"}
		cfg := memberConfig{GroupID: "connect-cluster", SessionTimeout: 10 * time.Second,
			HeartbeatInterval: 3 * time.Second, RebalanceTimeout: 60 * time.Second}
		type worker struct {
			h      *workHandler
			conn   *crashable
			cancel context.CancelFunc
			done   chan struct{}
		}
		start := func(url string) *worker {
			w := &worker{h: &workHandler{connectors: conns}, conn: &crashable{inner: coord}, done: make(chan struct{})}
			c := cfg
			c.URL = url
			m := newMember(c, w.conn, w.h)
			ctx, cancel := context.WithCancel(t.Context())
			w.cancel = cancel
			go func() { defer close(w.done); m.run(ctx) }()
			return w
		}
		w1 := start("http://w1:8083/")
		synctest.Wait()
		if got := w1.h.work(); !slices.Equal(slices.Sorted(slices.Values(got)), all) {
			t.Fatalf("single worker runs %v, want %v", got, all)
		}
		w2 := start("http://w2:8083/")
		// w1 learns of the rebalance at its next heartbeat.
		time.Sleep(cfg.HeartbeatInterval + time.Second)
		synctest.Wait()
		a, b := w1.h.work(), w2.h.work()
		if len(a) == 0 || len(b) == 0 {
			t.Fatalf("work not split: w1 %v, w2 %v", a, b)
		}
		union := slices.Sorted(slices.Values(append(slices.Clone(a), b...)))
		if !slices.Equal(union, all) {
			t.Fatalf("w1 %v + w2 %v, want each of %v once", a, b, all)
		}

		// kill -9 w2: no LeaveGroup.
		w2.conn.mu.Lock()
		w2.conn.dead = true
		w2.conn.mu.Unlock()
		died := time.Now()
		for !slices.Equal(slices.Sorted(slices.Values(w1.h.work())), all) {
			if time.Since(died) > cfg.SessionTimeout+cfg.HeartbeatInterval*2 {
				t.Fatalf("after %v w1 runs %v, want everything", time.Since(died), w1.h.work())
			}
			time.Sleep(500 * time.Millisecond)
			synctest.Wait()
		}
		// The dead worker gave up its work once its own heartbeats had
		// failed for the session timeout.
		time.Sleep(cfg.SessionTimeout)
		synctest.Wait()
		if got := w2.h.work(); len(got) != 0 {
			t.Errorf("cut-off worker still runs %v", got)
		}
		w2.cancel()
		<-w2.done

		// A clean shutdown leaves the group and revokes.
		w1.cancel()
		<-w1.done
		if got := w1.h.work(); len(got) != 0 {
			t.Errorf("stopped worker still runs %v", got)
		}
	})
}

// mismatchHandler's leader answers CONFIG_MISMATCH once, as a leader
// behind the config topic does.
type mismatchHandler struct {
	workHandler
	mu         sync.Mutex
	mismatches int
	seen       []int16
}

func (h *mismatchHandler) assign(ctx context.Context, leader string, members map[string]WorkerState) map[string]Assignment {
	h.mu.Lock()
	first := h.mismatches == 0
	h.mismatches++
	h.mu.Unlock()
	if first {
		out := map[string]Assignment{}
		for id := range members {
			out[id] = Assignment{Error: AssignmentConfigMismatch, Leader: leader}
		}
		return out
	}
	return h.workHandler.assign(ctx, leader, members)
}

func (h *mismatchHandler) assigned(ctx context.Context, a Assignment, gen int32, id string) {
	h.mu.Lock()
	h.seen = append(h.seen, a.Error)
	h.mu.Unlock()
	if a.Error == AssignmentNoError {
		h.workHandler.assigned(ctx, a, gen, id)
	}
}

// A CONFIG_MISMATCH assignment makes the member rejoin at once; the next
// round assigns the work.
func TestMemberRejoinsAfterConfigMismatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &mismatchHandler{workHandler: workHandler{connectors: map[string]int{"c": 1}}}
		m := newMember(memberConfig{GroupID: "g", URL: "http://w:8083/"}, newFakeCoordinator(), h)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); m.run(ctx) }()
		synctest.Wait()
		h.mu.Lock()
		seen := slices.Clone(h.seen)
		h.mu.Unlock()
		if !slices.Equal(seen, []int16{AssignmentConfigMismatch, AssignmentNoError}) {
			t.Errorf("assignments seen %v, want a mismatch then a normal one", seen)
		}
		if got := h.work(); !slices.Equal(got, []string{"c", "c-0"}) {
			t.Errorf("runs %v", got)
		}
		cancel()
		<-done
	})
}
