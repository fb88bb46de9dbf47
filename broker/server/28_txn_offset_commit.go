package server

import (
	"context"
	"fmt"

	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/replica"
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
	img := s.cfg.Controller.Image()
	type slot struct{ t, p int }
	var (
		offsets []group.OffsetCommit
		slots   []slot
	)
	for ti, rt := range req.Topics {
		out := kmsg.NewTxnOffsetCommitResponseTopic()
		out.Topic = rt.Topic
		t := img.Topic(rt.Topic)
		for pi, rp := range rt.Partitions {
			op := kmsg.NewTxnOffsetCommitResponseTopicPartition()
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
				if req.Version >= 2 {
					oc.LeaderEpoch = rp.LeaderEpoch
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
	tr := group.TxnCommitRequest{
		Group:           req.Group,
		TransactionalID: req.TransactionalID,
		ProducerID:      req.ProducerID,
		ProducerEpoch:   req.ProducerEpoch,
		Generation:      -1,
		Offsets:         offsets,
	}
	if req.Version >= 3 {
		tr.Generation, tr.MemberID, tr.InstanceID = req.Generation, req.MemberID, deref(req.InstanceID)
	}
	var errs []error
	err := s.verifyTxnOffsets(ctx, req)
	if err == nil {
		var gc *group.Coordinator
		if gc, err = s.groups(); err == nil {
			errs = gc.CommitTxnOffsets(ctx, tr)
		}
	}
	if err != nil {
		errs = make([]error, len(offsets))
		for i := range errs {
			errs[i] = err
		}
	}
	for i, sl := range slots {
		resp.Topics[sl.t].Partitions[sl.p].ErrorCode = errorCode(errs[i])
	}
	return resp
}
