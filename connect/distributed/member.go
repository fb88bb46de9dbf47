package distributed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requester sends one Kafka request to whichever broker should answer it
// (the group coordinator for group requests). *kgo.Client is one.
type requester interface {
	Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error)
}

// memberConfig configures a worker's membership of the Connect group.
type memberConfig struct {
	GroupID           string        // group.id
	SessionTimeout    time.Duration // session.timeout.ms (10000)
	HeartbeatInterval time.Duration // heartbeat.interval.ms (3000)
	RebalanceTimeout  time.Duration // rebalance.timeout.ms (60000)
	RetryBackoff      time.Duration // retry.backoff.ms (100)
	URL               string        // this worker's REST URL, advertised to the others
	Logger            *slog.Logger  // nil = discard
}

// groupHandler is what a member asks of the herder. Its methods are called
// one at a time from the member's goroutine.
type groupHandler interface {
	// configOffset is how far this worker has read the config topic.
	configOffset() int64
	// revoke stops every connector and task this worker runs; the eager
	// protocol calls it before each rejoin.
	revoke()
	// assign runs on the leader: it returns every member's assignment.
	assign(ctx context.Context, leaderID string, members map[string]WorkerState) map[string]Assignment
	// assigned hands this worker its assignment for a generation.
	assigned(ctx context.Context, a Assignment, generation int32, memberID string)
}

// member joins the Connect group and keeps its membership alive: the
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup cycle of Kafka's
// WorkerCoordinator with the eager protocol.
type member struct {
	cfg memberConfig
	req requester
	h   groupHandler
	log *slog.Logger

	rejoin chan struct{} // a token asks for a rebalance

	memberID   string
	generation int32
	holding    bool // an assignment is held and not yet revoked
}

func newMember(cfg memberConfig, req requester, h groupHandler) *member {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 3 * time.Second
	}
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = time.Minute
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &member{cfg: cfg, req: req, h: h, log: logger, rejoin: make(chan struct{}, 1), generation: -1}
}

// requestRejoin asks for a rebalance at the next heartbeat.
func (m *member) requestRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// run takes part in the group until ctx ends, then leaves it.
func (m *member) run(ctx context.Context) {
	defer m.leave()
	for ctx.Err() == nil {
		if m.holding {
			m.h.revoke()
			m.holding = false
		}
		a, err := m.joinAndSync(ctx)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			continue
		case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.UnknownMemberID):
			// Another member joined or left during our round: rejoin.
			m.log.Debug("rejoining the connect group", "group", m.cfg.GroupID, "err", err)
			continue
		default:
			m.log.Warn("joining the connect group", "group", m.cfg.GroupID, "err", err)
			sleep(ctx, m.cfg.RetryBackoff)
			continue
		}
		m.holding = true
		m.h.assigned(ctx, a, m.generation, m.memberID)
		if a.Error == AssignmentConfigMismatch {
			continue // the handler has read the config topic further; rejoin
		}
		m.heartbeat(ctx)
	}
}

// joinAndSync runs one JoinGroup and SyncGroup round.
func (m *member) joinAndSync(ctx context.Context) (Assignment, error) {
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = m.cfg.GroupID
	join.SessionTimeoutMillis = int32(m.cfg.SessionTimeout / time.Millisecond)
	join.RebalanceTimeoutMillis = int32(m.cfg.RebalanceTimeout / time.Millisecond)
	join.ProtocolType = protocolType
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{
		Name:     protocolEager,
		Metadata: encodeWorkerState(WorkerState{URL: m.cfg.URL, ConfigOffset: m.h.configOffset()}),
	}}
	for {
		join.MemberID = m.memberID
		resp, err := m.req.Request(ctx, join)
		if err != nil {
			return Assignment{}, err
		}
		jr := resp.(*kmsg.JoinGroupResponse)
		err = kerr.ErrorForCode(jr.ErrorCode)
		switch {
		case errors.Is(err, kerr.MemberIDRequired):
			m.memberID = jr.MemberID
			continue
		case errors.Is(err, kerr.UnknownMemberID):
			m.memberID = ""
			return Assignment{}, err
		case err != nil:
			return Assignment{}, err
		}
		if jr.Protocol != nil && *jr.Protocol != protocolEager {
			return Assignment{}, fmt.Errorf("%w: group chose protocol %q", ErrProtocol, *jr.Protocol)
		}
		m.memberID, m.generation = jr.MemberID, jr.Generation
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group = m.cfg.GroupID
		sync.Generation = jr.Generation
		sync.MemberID = jr.MemberID
		pt, proto := protocolType, protocolEager
		sync.ProtocolType, sync.Protocol = &pt, &proto
		if jr.LeaderID == jr.MemberID {
			members := make(map[string]WorkerState, len(jr.Members))
			for _, jm := range jr.Members {
				ws, err := decodeWorkerState(jm.ProtocolMetadata)
				if err != nil {
					m.log.Error("skipping member with bad metadata", "member", jm.MemberID, "err", err)
					continue
				}
				members[jm.MemberID] = ws
			}
			for id, a := range m.h.assign(ctx, jr.MemberID, members) {
				sync.GroupAssignment = append(sync.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{
					MemberID: id, MemberAssignment: encodeAssignment(a),
				})
			}
		}
		resp, err = m.req.Request(ctx, sync)
		if err != nil {
			return Assignment{}, err
		}
		sr := resp.(*kmsg.SyncGroupResponse)
		if err := kerr.ErrorForCode(sr.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownMemberID) {
				m.memberID = ""
			}
			return Assignment{}, err
		}
		a, ok, err := decodeAssignment(sr.MemberAssignment)
		if err != nil {
			return Assignment{}, err
		}
		if !ok {
			return Assignment{}, fmt.Errorf("%w: empty assignment in generation %d", ErrProtocol, jr.Generation)
		}
		m.log.Info("joined the connect group", "group", m.cfg.GroupID, "generation", jr.Generation,
			"member", jr.MemberID, "leader", a.Leader, "connectors", len(a.Connectors), "tasks", len(a.Tasks))
		return a, nil
	}
}

// heartbeat keeps the membership alive until a rebalance is needed, ctx
// ends, or no heartbeat has succeeded for a whole session timeout (the
// coordinator has then dropped us, so our work must stop).
func (m *member) heartbeat(ctx context.Context) {
	t := time.NewTicker(m.cfg.HeartbeatInterval)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.rejoin:
			return
		case <-t.C:
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.Generation, hb.MemberID = m.cfg.GroupID, m.generation, m.memberID
		rctx, cancel := context.WithTimeout(ctx, m.cfg.SessionTimeout)
		resp, err := m.req.Request(rctx, hb)
		cancel()
		if err == nil {
			err = kerr.ErrorForCode(resp.(*kmsg.HeartbeatResponse).ErrorCode)
		}
		switch {
		case err == nil:
			lastOK = time.Now()
			continue
		case errors.Is(err, kerr.RebalanceInProgress):
			return
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.memberID = ""
			return
		case errors.Is(err, kerr.IllegalGeneration):
			return
		}
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("heartbeat failed", "group", m.cfg.GroupID, "err", err)
		if time.Since(lastOK) >= m.cfg.SessionTimeout {
			m.log.Warn("no heartbeat for the session timeout; giving up the assignment", "group", m.cfg.GroupID)
			return
		}
	}
}

// leave revokes the assignment and sends LeaveGroup, so the others
// rebalance at once rather than after the session timeout.
func (m *member) leave() {
	if m.holding {
		m.h.revoke()
		m.holding = false
	}
	if m.memberID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lg := kmsg.NewPtrLeaveGroupRequest()
	lg.Group, lg.MemberID = m.cfg.GroupID, m.memberID
	lg.Members = []kmsg.LeaveGroupRequestMember{{MemberID: m.memberID}}
	if _, err := m.req.Request(ctx, lg); err != nil {
		m.log.Warn("leaving the connect group", "group", m.cfg.GroupID, "err", err)
	}
	m.memberID = ""
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
