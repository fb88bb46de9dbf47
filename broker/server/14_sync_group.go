package server

import (
	"bytes"
	"context"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup v0–v5, the classic protocol's second phase. Followers wait
// until the leader's SyncGroup has brought the assignment and it is stored
// in __consumer_offsets; then every member gets its own share. Members the
// leader left out get an empty assignment. A member of a stable group gets
// its current assignment at once.
//
// v3 adds group.instance.id; from v5 the protocol type and name are
// required (INCONSISTENT_GROUP_PROTOCOL when missing, as in Kafka) and must
// match the group's, and the response carries them. While the coordinator
// loads, the answer is REBALANCE_IN_PROGRESS: the rebalance in progress was
// lost, and older clients do not expect the loading error here.

func (s *Server) handleSyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	gc, err := s.groups()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	if req.Version >= 5 && (req.ProtocolType == nil || req.Protocol == nil) {
		resp.ErrorCode = errorCode(group.ErrInconsistentGroupProtocol)
		return resp
	}
	sr := group.SyncRequest{
		Group:        req.Group,
		Generation:   req.Generation,
		MemberID:     req.MemberID,
		InstanceID:   deref(req.InstanceID),
		ProtocolType: req.ProtocolType,
		Protocol:     req.Protocol,
		Assignments:  make(map[string][]byte, len(req.GroupAssignment)),
	}
	// The coordinator keeps the assignments; the request's bytes belong to
	// the connection's frame buffer. A member given twice gets the last.
	for _, a := range req.GroupAssignment {
		sr.Assignments[a.MemberID] = bytes.Clone(a.MemberAssignment)
	}
	r := gc.Sync(ctx, sr)
	resp.ErrorCode = errorCode(r.Err)
	if r.Err != nil {
		resp.MemberAssignment = []byte{}
		return resp
	}
	resp.ProtocolType = nilIfEmpty(r.ProtocolType)
	resp.Protocol = nilIfEmpty(r.Protocol)
	resp.MemberAssignment = r.Assignment
	return resp
}
