package server

import (
	"context"
	"fmt"
	"time"

	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/metadata"
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
	b := s.newOffsetBatch()
	for _, rt := range req.Topics {
		out := kmsg.NewOffsetCommitResponseTopic()
		out.Topic = rt.Topic
		out.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			op := &out.Partitions[pi]
			*op = kmsg.NewOffsetCommitResponseTopicPartition()
			op.Partition = rp.Partition
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
			b.add(oc, &op.ErrorCode)
		}
		resp.Topics = append(resp.Topics, out)
	}
	if len(b.offsets) == 0 {
		return resp
	}
	cr := group.CommitRequest{
		Group:      req.Group,
		Generation: req.Generation,
		MemberID:   req.MemberID,
		InstanceID: deref(req.InstanceID),
		Retention:  -1,
		Offsets:    b.offsets,
	}
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis >= 0 {
		cr.Retention = time.Duration(req.RetentionTimeMillis) * time.Millisecond
	}
	if req.Version < 1 {
		cr.Generation, cr.MemberID = -1, ""
	}
	gc, err := s.groups()
	if err != nil {
		b.fail(err)
		return resp
	}
	b.finish(gc.CommitOffsets(ctx, cr))
	return resp
}

// offsetBatch collects the partitions of an offset commit (OffsetCommit,
// TxnOffsetCommit): a partition of a topic that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION at once, the others are committed together
// and get the coordinator's answer.
type offsetBatch struct {
	img     *metadata.Image
	offsets []group.OffsetCommit
	codes   []*int16 // the response error code of each offset
}

func (s *Server) newOffsetBatch() *offsetBatch {
	return &offsetBatch{img: s.cfg.Controller.Image()}
}

// add queues one partition's offset, whose answer goes to *code.
func (b *offsetBatch) add(oc group.OffsetCommit, code *int16) {
	if !b.img.Topic(oc.Topic).HasPartition(oc.Partition) {
		*code = errorCode(fmt.Errorf("%w: %s-%d", replica.ErrUnknownTopicOrPartition, oc.Topic, oc.Partition))
		return
	}
	b.offsets = append(b.offsets, oc)
	b.codes = append(b.codes, code)
}

// finish answers each queued offset with its error.
func (b *offsetBatch) finish(errs []error) {
	for i, c := range b.codes {
		*c = errorCode(errs[i])
	}
}

// fail answers every queued offset with err.
func (b *offsetBatch) fail(err error) {
	for _, c := range b.codes {
		*c = errorCode(err)
	}
}
