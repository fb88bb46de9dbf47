package server

import (
	"context"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat v0–v4. A member of the current generation keeps its session
// alive; REBALANCE_IN_PROGRESS tells it to rejoin, ILLEGAL_GENERATION and
// UNKNOWN_MEMBER_ID that it was removed, FENCED_INSTANCE_ID (v3+, static
// members) that a newer instance took its place. While the coordinator
// loads, heartbeats are answered without error, as Kafka answers them.

func (s *Server) handleHeartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	gc, err := s.groups()
	if err == nil {
		err = gc.Heartbeat(ctx, group.HeartbeatRequest{
			Group:      req.Group,
			Generation: req.Generation,
			MemberID:   req.MemberID,
			InstanceID: deref(req.InstanceID),
		})
	}
	resp.ErrorCode = errorCode(err)
	return resp
}
