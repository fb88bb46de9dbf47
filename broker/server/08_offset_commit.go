package server

import (
	"context"
	"fmt"
	"time"

	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit v0–v9. The offsets of one request are written to
// __consumer_offsets as one batch and acknowledged once replicated; each
// partition gets its own error. Partitions of topics that do not exist are
// UNKNOWN_TOPIC_OR_PARTITION and metadata longer than
// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE; the others are
// committed. Members commit with their generation (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS while the
// group waits for its assignment); commits with generation -1 and no
// member ID come from outside group management and are accepted while the
// group has no members, creating it if need be, as Kafka accepts them.
//
// v1 carries a commit timestamp per partition, v2–v4 a retention time that
// gives the offsets an expire timestamp (stored in offset commit value v1);
// v6 adds the leader epoch, v7 group.instance.id. The empty group ID is
// accepted, as Kafka accepts it for commits.

func (s *Server) handleOffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	img := s.cfg.Controller.Image()
	type slot struct{ t, p int }
	var (
		offsets []group.OffsetCommit
		slots   []slot
	)
	for ti, rt := range req.Topics {
		out := kmsg.NewOffsetCommitResponseTopic()
		out.Topic = rt.Topic
		t := img.Topic(rt.Topic)
		for pi, rp := range rt.Partitions {
			op := kmsg.NewOffsetCommitResponseTopicPartition()
			op.Partition = rp.Partition
			if !t.HasPartition(rp.Partition) {
				op.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", replica.ErrUnknownTopicOrPartition, rt.Topic, rp.Partition))
			} else {
				oc := group.OffsetCommit{
					TopicPartition:  group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition},
					Offset:          rp.Offset,
					LeaderEpoch:     -1,
					Metadata:        deref(rp.Metadata),
					CommitTimestamp: -1,
				}
				if req.Version >= 6 {
					oc.LeaderEpoch = rp.LeaderEpoch
				}
				if req.Version == 1 {
					oc.CommitTimestamp = rp.Timestamp
				}
				offsets = append(offsets, oc)
				slots = append(slots, slot{ti, pi})
			}
			out.Partitions = append(out.Partitions, op)
		}
		resp.Topics = append(resp.Topics, out)
	}
	if len(offsets) == 0 {
		return resp
	}
	cr := group.CommitRequest{
		Group:      req.Group,
		Generation: req.Generation,
		MemberID:   req.MemberID,
		InstanceID: deref(req.InstanceID),
		Retention:  -1,
		Offsets:    offsets,
	}
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis >= 0 {
		cr.Retention = time.Duration(req.RetentionTimeMillis) * time.Millisecond
	}
	if req.Version < 1 {
		cr.Generation, cr.MemberID = -1, ""
	}
	var errs []error
	if gc, err := s.groups(); err != nil {
		errs = make([]error, len(offsets))
		for i := range errs {
			errs[i] = err
		}
	} else {
		errs = gc.CommitOffsets(ctx, cr)
	}
	for i, sl := range slots {
		resp.Topics[sl.t].Partitions[sl.p].ErrorCode = errorCode(errs[i])
	}
	return resp
}
