package server

import (
	"fmt"

	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords v0–v2 (KIP-107): moves each partition's log start offset
// up to the requested offset, so that the records below it can no longer
// be read, and drops the segments that lie wholly below it. Offset -1
// means the high watermark (delete everything readable). An offset above
// the high watermark, or a negative one other than -1, is
// OFFSET_OUT_OF_RANGE; an offset at or below the current log start offset
// changes nothing. The answer's LowWatermark is the partition's log start
// offset afterwards (-1 on error). As in Kafka, a topic whose
// cleanup.policy is compact without delete answers POLICY_VIOLATION, and
// only the partition's leader accepts the request.
//
// Runnel's single-replica partitions answer at once; Kafka's wait for the
// followers' log start offsets (bounded by the request timeout) is not
// needed until partitions have followers.

func (s *Server) handleDeleteRecords(req *kmsg.DeleteRecordsRequest) *kmsg.DeleteRecordsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewDeleteRecordsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			out := kmsg.NewDeleteRecordsResponseTopicPartition()
			out.Partition = rp.Partition
			out.LowWatermark = -1
			low, err := s.deleteRecords(rt.Topic, rp.Partition, rp.Offset)
			if err != nil {
				out.ErrorCode = errorCode(err)
			} else {
				out.LowWatermark = low
			}
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// deleteRecords moves one partition's log start offset to offset (-1 = the
// high watermark) and returns the new log start offset.
func (s *Server) deleteRecords(topic string, partition int32, offset int64) (int64, error) {
	p, err := s.cfg.Replicas.Get(topic, partition)
	if err != nil {
		return 0, err
	}
	if !p.IsLeader() {
		return 0, replica.ErrNotLeader
	}
	l := p.Log()
	if cfg := l.Config(); cfg.Compact && !cfg.Delete {
		return 0, fmt.Errorf("%w: records of partition %s-%d can not be deleted due to the configured cleanup.policy=compact", errPolicy, topic, partition)
	}
	hw := p.HighWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return 0, fmt.Errorf("%w: cannot delete records of %s-%d before offset %d: the high watermark is %d", log.ErrOffsetOutOfRange, topic, partition, offset, hw)
	}
	if offset > l.LogStartOffset() {
		if err := l.DeleteRecordsBefore(offset); err != nil {
			return 0, err
		}
	}
	return l.LogStartOffset(), nil
}
