package server

import (
	"context"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup v0–v5. v0–v2 name one member and answer with its error;
// v3+ name several, each by member ID or, to remove a static member
// administratively, by group.instance.id alone (KIP-345), and answer each;
// v5 adds a reason. The group rebalances without the members that left.

func (s *Server) handleLeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	gc, err := s.groups()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	var members []group.LeaveMember
	if req.Version < 3 {
		members = []group.LeaveMember{{MemberID: req.MemberID}}
	} else {
		for _, m := range req.Members {
			members = append(members, group.LeaveMember{MemberID: m.MemberID, InstanceID: deref(m.InstanceID), Reason: deref(m.Reason)})
		}
	}
	r := gc.Leave(ctx, req.Group, members)
	resp.ErrorCode = errorCode(r.Err)
	if req.Version < 3 {
		// The single member's error is the response's.
		if r.Err == nil && len(r.Members) == 1 {
			resp.ErrorCode = errorCode(r.Members[0])
		}
		return resp
	}
	for i, err := range r.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID = req.Members[i].MemberID
		rm.InstanceID = req.Members[i].InstanceID
		rm.ErrorCode = errorCode(err)
		resp.Members = append(resp.Members, rm)
	}
	return resp
}
