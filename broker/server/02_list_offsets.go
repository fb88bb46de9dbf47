package server

import (
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets v1–v8: per partition the offset for a timestamp: -2
// earliest (the log start offset), -1 latest (the high watermark, or the
// last stable offset under read_committed), -3 the record with the largest
// timestamp (KIP-734), -4 earliest local (the log start offset: Runnel has
// no tiered storage), or the first offset whose timestamp is at or after
// the one given (offset -1 when there is none below the high watermark).

const (
	listEarliest      = -2
	listLatest        = -1
	listMaxTimestamp  = -3
	listEarliestLocal = -4
)

func (s *Server) handleListOffsets(req *kmsg.ListOffsetsRequest) *kmsg.ListOffsetsResponse {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			out := kmsg.NewListOffsetsResponseTopicPartition()
			out.Partition = rp.Partition
			out.Timestamp, out.Offset, out.LeaderEpoch = -1, -1, -1
			ts, off, epoch, err := s.listOffset(rt.Topic, rp, req.IsolationLevel)
			out.ErrorCode = errorCode(err)
			if err == nil {
				out.Timestamp, out.Offset, out.LeaderEpoch = ts, off, epoch
			}
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func (s *Server) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition, isolation int8) (ts, off int64, epoch int32, err error) {
	p, err := s.cfg.Replicas.Get(topic, rp.Partition)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := p.CheckEpoch(rp.CurrentLeaderEpoch); err != nil {
		return 0, 0, 0, err
	}
	if !p.IsLeader() {
		return 0, 0, 0, replica.ErrNotLeader
	}
	st := p.State()
	hw := st.HighWatermark
	l := p.Log()
	switch rp.Timestamp {
	case listEarliest, listEarliestLocal:
		return -1, st.LogStartOffset, st.LeaderEpoch, nil
	case listLatest:
		if isolation == 1 {
			return -1, p.LastStableOffset(), st.LeaderEpoch, nil
		}
		return -1, hw, st.LeaderEpoch, nil
	case listMaxTimestamp:
		o, t, err := l.MaxTimestamp()
		if err != nil {
			return 0, 0, 0, err
		}
		if o < 0 || o >= hw {
			return -1, -1, -1, nil
		}
		return t, o, st.LeaderEpoch, nil
	}
	if rp.Timestamp < 0 {
		return 0, 0, 0, errInvalidRequest
	}
	o, t, found, err := l.OffsetForTimestamp(rp.Timestamp)
	if err != nil {
		return 0, 0, 0, err
	}
	if !found || o >= hw {
		return -1, -1, -1, nil
	}
	return t, o, st.LeaderEpoch, nil
}
