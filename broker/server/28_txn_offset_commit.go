package server

import (
	"context"

	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit v0–v4: a transactional producer commits a consumer
// group's offsets inside its transaction (sendOffsetsToTransaction). The
// offsets are written to __consumer_offsets in the producer's transaction
// and take effect only when the transaction commits. The producer must have
// added the group's partition with AddOffsetsToTxn first; a producer that is
// not in a transaction, or whose epoch is stale, gets the transaction
// coordinator's error. v3 adds the consumer's generation, member ID and
// group.instance.id (KIP-447), which fence zombie consumers exactly as
// OffsetCommit does.

func (s *Server) handleTxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	b := s.newOffsetBatch()
	for _, rt := range req.Topics {
		out := kmsg.NewTxnOffsetCommitResponseTopic()
		out.Topic = rt.Topic
		out.Partitions = make([]kmsg.TxnOffsetCommitResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			op := &out.Partitions[pi]
			*op = kmsg.NewTxnOffsetCommitResponseTopicPartition()
			op.Partition = rp.Partition
			oc := group.OffsetCommit{
				TopicPartition:  group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition},
				Offset:          rp.Offset,
				LeaderEpoch:     -1,
				Metadata:        deref(rp.Metadata),
				CommitTimestamp: -1,
			}
			if req.Version >= 2 {
				oc.LeaderEpoch = rp.LeaderEpoch
			}
			b.add(oc, &op.ErrorCode)
		}
		resp.Topics = append(resp.Topics, out)
	}
	if len(b.offsets) == 0 {
		return resp
	}
	tr := group.TxnCommitRequest{
		Group:           req.Group,
		TransactionalID: req.TransactionalID,
		ProducerID:      req.ProducerID,
		ProducerEpoch:   req.ProducerEpoch,
		Generation:      -1,
		Offsets:         b.offsets,
	}
	if req.Version >= 3 {
		tr.Generation, tr.MemberID, tr.InstanceID = req.Generation, req.MemberID, deref(req.InstanceID)
	}
	if err := s.verifyTxnOffsets(ctx, req); err != nil {
		b.fail(err)
		return resp
	}
	gc, err := s.groups()
	if err != nil {
		b.fail(err)
		return resp
	}
	b.finish(gc.CommitTxnOffsets(ctx, tr))
	return resp
}
