package server

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups v0–v5: every group this node coordinates, with its protocol
// type; v4 adds each group's state and a filter on states (KIP-518), v5
// the group type (every Runnel group is "classic") and a filter on types
// (KIP-848). Filters compare without regard to case, as Kafka's do; a type
// filter without "classic" lists nothing. While a partition of
// __consumer_offsets loads, its groups are missing and the error is
// COORDINATOR_LOAD_IN_PROGRESS.

func (s *Server) handleListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	gc, err := s.groups()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	gs, err := gc.ListGroups(ctx)
	resp.ErrorCode = errorCode(err)
	matches := func(filter []string, v string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
	}
	if req.Version < 4 {
		req.StatesFilter = nil
	}
	if req.Version < 5 {
		req.TypesFilter = nil
	}
	for _, g := range gs {
		if !matches(req.StatesFilter, g.State.String()) || !matches(req.TypesFilter, "classic") {
			continue
		}
		rg := kmsg.NewListGroupsResponseGroup()
		rg.Group = g.Group
		rg.ProtocolType = g.ProtocolType
		rg.GroupState = g.State.String()
		rg.GroupType = "classic"
		resp.Groups = append(resp.Groups, rg)
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return strings.Compare(a.Group, b.Group) })
	return resp
}
