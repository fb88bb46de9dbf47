package server

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups v0–v2. Each group is deleted with its committed offsets if
// it has no members (tombstones are written to __consumer_offsets);
// otherwise NON_EMPTY_GROUP. A group the coordinator does not know is
// GROUP_ID_NOT_FOUND. A group named twice is answered once, as Kafka
// answers.

func (s *Server) handleDeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	gc, gerr := s.groups()
	seen := map[string]bool{}
	for _, id := range req.Groups {
		if seen[id] {
			continue
		}
		seen[id] = true
		out := kmsg.NewDeleteGroupsResponseGroup()
		out.Group = id
		err := gerr
		if err == nil {
			err = gc.DeleteGroup(ctx, id)
		}
		out.ErrorCode = errorCode(err)
		resp.Groups = append(resp.Groups, out)
	}
	return resp
}
