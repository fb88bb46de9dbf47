package server

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups v0–v5. Each group's state, protocol type, and members
// with client ID and host; member metadata and assignments, and the
// protocol, only when the group is Stable, as Kafka reports them. A group
// the coordinator does not know is Dead with no error (GROUP_ID_NOT_FOUND
// comes with v6, which Runnel does not serve). v3 can ask for the
// operations allowed on the group: Runnel has no authorizer, so every
// group operation (READ, DELETE, DESCRIBE) is; v4 adds members'
// group.instance.id.

// groupOperations is the bit field of READ (3), DELETE (6) and DESCRIBE (8),
// the operations Kafka defines on groups.
const groupOperations = 1<<3 | 1<<6 | 1<<8

func (s *Server) handleDescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	gc, gerr := s.groups()
	for _, id := range req.Groups {
		out := kmsg.NewDescribeGroupsResponseGroup()
		out.Group = id
		out.AuthorizedOperations = math.MinInt32
		if gerr != nil {
			out.ErrorCode = errorCode(gerr)
			resp.Groups = append(resp.Groups, out)
			continue
		}
		d := gc.DescribeGroup(ctx, id)
		out.ErrorCode = errorCode(d.Err)
		if d.Err != nil {
			resp.Groups = append(resp.Groups, out)
			continue
		}
		out.State = d.State.String()
		out.ProtocolType = d.ProtocolType
		out.Protocol = d.Protocol
		if req.IncludeAuthorizedOperations {
			out.AuthorizedOperations = groupOperations
		}
		for _, m := range d.Members {
			rm := kmsg.NewDescribeGroupsResponseGroupMember()
			rm.MemberID = m.MemberID
			rm.InstanceID = nilIfEmpty(m.InstanceID)
			rm.ClientID = m.ClientID
			rm.ClientHost = m.ClientHost
			rm.ProtocolMetadata = nonNilBytes(m.Metadata)
			rm.MemberAssignment = nonNilBytes(m.Assignment)
			out.Members = append(out.Members, rm)
		}
		resp.Groups = append(resp.Groups, out)
	}
	return resp
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
