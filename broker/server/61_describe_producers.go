package server

import (
	"fmt"

	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeProducers v0 (KIP-664, kafka-transactions.sh describe-producers):
// the active producers of each partition as its leader's log knows them —
// ID, epoch, last sequence and timestamp, the coordinator epoch of its last
// marker and the first offset of its open transaction (-1 when none).

func (s *Server) handleDescribeProducers(req *kmsg.DescribeProducersRequest) *kmsg.DescribeProducersResponse {
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		out := kmsg.NewDescribeProducersResponseTopic()
		out.Topic = rt.Topic
		for _, p := range rt.Partitions {
			op := kmsg.NewDescribeProducersResponseTopicPartition()
			op.Partition = p
			part, err := s.cfg.Replicas.Get(rt.Topic, p)
			if err == nil && !part.IsLeader() {
				err = fmt.Errorf("%w: %s-%d", replica.ErrNotLeader, rt.Topic, p)
			}
			if err != nil {
				op.ErrorCode, op.ErrorMessage = errorCode(err), errorMessage(err)
				out.Partitions = append(out.Partitions, op)
				continue
			}
			for _, ps := range part.Log().Producers() {
				ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
				ap.ProducerID = ps.ProducerID
				ap.ProducerEpoch = int32(ps.Epoch)
				ap.LastSequence = ps.LastSequence()
				ap.LastTimestamp = ps.LastTimestamp
				ap.CoordinatorEpoch = ps.CoordinatorEpoch
				ap.CurrentTxnStartOffset = ps.CurrentTxnFirstOffset
				op.ActiveProducers = append(op.ActiveProducers, ap)
			}
			out.Partitions = append(out.Partitions, op)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
