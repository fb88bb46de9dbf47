package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// WriteTxnMarkers v0–v1: a transaction coordinator asks the leaders of a
// transaction's partitions to write its COMMIT or ABORT marker. Each
// partition gets its own answer: UNKNOWN_TOPIC_OR_PARTITION for one that
// does not exist, NOT_LEADER_OR_FOLLOWER where this node does not lead,
// TRANSACTION_COORDINATOR_FENCED for a marker from a coordinator epoch
// older than the partition has seen. A single node's coordinator writes its
// markers directly; this API serves coordinators elsewhere and tools.

func (s *Server) handleWriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		out := kmsg.NewWriteTxnMarkersResponseMarker()
		out.ProducerID = m.ProducerID
		var tps []txn.TopicPartition
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				tps = append(tps, txn.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		var errs txn.MarkerErrors
		var err error
		if s.cfg.Markers == nil {
			err = fmt.Errorf("%w: this server writes no transaction markers", txn.ErrCoordinatorNotAvailable)
		} else if werr := s.cfg.Markers.WriteMarkers(ctx, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Committed, tps); werr != nil && !errors.As(werr, &errs) {
			err = werr
		}
		for _, t := range m.Topics {
			ot := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			ot.Topic = t.Topic
			for _, p := range t.Partitions {
				op := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				op.Partition = p
				perr := err
				if perr == nil {
					perr = errs[txn.TopicPartition{Topic: t.Topic, Partition: p}]
				}
				op.ErrorCode = errorCode(perr)
				ot.Partitions = append(ot.Partitions, op)
			}
			out.Topics = append(out.Topics, ot)
		}
		resp.Markers = append(resp.Markers, out)
	}
	return resp
}
