package server

import (
	"context"
	"fmt"
	"slices"

	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete v0 (KIP-496): removes a group's committed offsets for some
// partitions. An empty group loses them all; a consumer group with members
// only those of topics it does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC
// for the others); any other group with members refuses (NON_EMPTY_GROUP).
// Partitions of unknown topics are UNKNOWN_TOPIC_OR_PARTITION. A group
// left empty without offsets is removed.

func (s *Server) handleOffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	img := s.cfg.Controller.Image()
	type slot struct{ t, p int }
	var (
		parts []group.TopicPartition
		slots []slot
	)
	for ti, rt := range req.Topics {
		out := kmsg.NewOffsetDeleteResponseTopic()
		out.Topic = rt.Topic
		t := img.Topic(rt.Topic)
		for pi, rp := range rt.Partitions {
			op := kmsg.NewOffsetDeleteResponseTopicPartition()
			op.Partition = rp.Partition
			if !t.HasPartition(rp.Partition) {
				op.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", replica.ErrUnknownTopicOrPartition, rt.Topic, rp.Partition))
			} else {
				parts = append(parts, group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition})
				slots = append(slots, slot{ti, pi})
			}
			out.Partitions = append(out.Partitions, op)
		}
		resp.Topics = append(resp.Topics, out)
	}
	gc, err := s.groups()
	var errs []error
	if err == nil {
		errs, err = gc.DeleteOffsets(ctx, req.Group, parts)
	}
	resp.ErrorCode = errorCode(err)
	if err != nil {
		// With a group error only the partitions that failed on their own
		// are listed, as in Kafka.
		topics := resp.Topics[:0]
		for _, t := range resp.Topics {
			t.Partitions = slices.DeleteFunc(t.Partitions, func(p kmsg.OffsetDeleteResponseTopicPartition) bool { return p.ErrorCode == 0 })
			if len(t.Partitions) > 0 {
				topics = append(topics, t)
			}
		}
		resp.Topics = topics
		return resp
	}
	for i, sl := range slots {
		resp.Topics[sl.t].Partitions[sl.p].ErrorCode = errorCode(errs[i])
	}
	return resp
}
