package server

import (
	"context"
	"slices"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch v0–v9. A group's committed offsets for the partitions asked
// for, or (v2+, topics null) every partition it has committed; a
// partition without a commit is offset -1 with no error, as is every
// partition of a group the coordinator does not know. v5 adds the
// committed leader epoch; v7 require_stable, which answers
// UNSTABLE_OFFSET_COMMIT for partitions whose commit is being written; v8
// asks for several groups, each with its own error (KIP-709). Errors of the
// group (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) are per partition
// in v0–v1, top-level from v2, per group from v8. v9's member ID and epoch
// belong to the consumer protocol (KIP-848) and are ignored for classic
// groups, as Kafka ignores them.

func (s *Server) handleOffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			out := kmsg.NewOffsetFetchResponseGroup()
			out.Group = rg.Group
			var parts []group.TopicPartition
			if rg.Topics != nil {
				parts = []group.TopicPartition{}
				for _, t := range rg.Topics {
					for _, p := range t.Partitions {
						parts = append(parts, group.TopicPartition{Topic: t.Topic, Partition: p})
					}
				}
			}
			offs, err := s.fetchOffsets(ctx, rg.Group, parts, req.RequireStable)
			out.ErrorCode = errorCode(err)
			if err == nil {
				for _, t := range byTopic(offs) {
					rt := kmsg.NewOffsetFetchResponseGroupTopic()
					rt.Topic = t[0].Topic
					for _, f := range t {
						rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
						rp.Partition, rp.Offset, rp.LeaderEpoch = f.Partition, f.Offset, f.LeaderEpoch
						rp.Metadata = &f.Metadata
						rp.ErrorCode = errorCode(f.Err)
						rt.Partitions = append(rt.Partitions, rp)
					}
					out.Topics = append(out.Topics, rt)
				}
			}
			resp.Groups = append(resp.Groups, out)
		}
		return resp
	}

	var parts []group.TopicPartition
	if req.Topics != nil || req.Version < 2 {
		parts = []group.TopicPartition{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				parts = append(parts, group.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	offs, err := s.fetchOffsets(ctx, req.Group, parts, req.Version >= 7 && req.RequireStable)
	if err != nil {
		if req.Version >= 2 {
			resp.ErrorCode = errorCode(err)
			return resp
		}
		// v0–v1 have no group error: every partition carries it.
		offs = offs[:0]
		for _, tp := range parts {
			offs = append(offs, group.FetchedOffset{TopicPartition: tp, Offset: -1, LeaderEpoch: -1, Err: err})
		}
	}
	for _, t := range byTopic(offs) {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t[0].Topic
		for _, f := range t {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = f.Partition, f.Offset, f.LeaderEpoch
			rp.Metadata = &f.Metadata
			rp.ErrorCode = errorCode(f.Err)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (s *Server) fetchOffsets(ctx context.Context, groupID string, parts []group.TopicPartition, requireStable bool) ([]group.FetchedOffset, error) {
	gc, err := s.groups()
	if err != nil {
		return nil, err
	}
	return gc.FetchOffsets(ctx, groupID, parts, requireStable)
}

// byTopic groups fetched offsets by topic, topics in the order they first
// appear.
func byTopic(offs []group.FetchedOffset) [][]group.FetchedOffset {
	var out [][]group.FetchedOffset
	idx := map[string]int{}
	for _, f := range offs {
		i, ok := idx[f.Topic]
		if !ok {
			i = len(out)
			idx[f.Topic] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], f)
	}
	return slices.Clip(out)
}
