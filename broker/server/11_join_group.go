package server

import (
	"bytes"
	"context"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup v0–v9, the classic group protocol's first phase. The request
// waits until the rebalance it joins completes (or fails); every member
// then gets the generation, the selected protocol and the leader, and the
// leader the members with their metadata for that protocol. The
// coordinator never reads protocol metadata, so any assignor and any
// protocol type work.
//
// v0 has no rebalance timeout; the session timeout serves, as in Kafka.
// From v4 a dynamic member's first join is answered MEMBER_ID_REQUIRED with
// its member ID (KIP-394); v5 adds group.instance.id (KIP-345), v7 the
// protocol type in the response, v8 the client's reason, v9 SkipAssignment
// for a static leader rejoining a stable group (KIP-814). Errors carry
// generation -1 and no protocol.

func (s *Server) handleJoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest, clientID, clientHost string) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	resp.MemberID = req.MemberID
	gc, err := s.groups()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	rebalance := req.RebalanceTimeoutMillis
	if req.Version == 0 {
		rebalance = req.SessionTimeoutMillis
	}
	jr := group.JoinRequest{
		Group:                  req.Group,
		MemberID:               req.MemberID,
		InstanceID:             deref(req.InstanceID),
		ClientID:               clientID,
		ClientHost:             clientHost,
		SessionTimeout:         millis(req.SessionTimeoutMillis),
		RebalanceTimeout:       millis(rebalance),
		ProtocolType:           req.ProtocolType,
		SupportsSkipAssignment: req.Version >= 9,
		Reason:                 deref(req.Reason),
	}
	jr.RequireKnownMemberID = req.Version >= 4 && jr.InstanceID == ""
	// The coordinator keeps the metadata; the request's bytes belong to the
	// connection's frame buffer.
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)})
	}
	r := gc.Join(ctx, jr)
	resp.ErrorCode = errorCode(r.Err)
	resp.MemberID = r.MemberID
	if r.Err != nil {
		return resp
	}
	resp.Generation = r.Generation
	resp.ProtocolType = nilIfEmpty(r.ProtocolType)
	resp.Protocol = nilIfEmpty(r.Protocol)
	resp.LeaderID = r.Leader
	resp.SkipAssignment = r.SkipAssignment
	for _, m := range r.Members {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID = m.MemberID
		rm.InstanceID = nilIfEmpty(m.InstanceID)
		rm.ProtocolMetadata = m.Metadata
		resp.Members = append(resp.Members, rm)
	}
	return resp
}
