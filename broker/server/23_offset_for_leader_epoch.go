package server

import (
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch v0–v4 (KIP-101, KIP-279, KIP-320, KIP-392). For
// each partition: the largest leader epoch at or below the requested one
// that this log has, and the offset where the epoch after it begins (the
// log end offset when it is the latest epoch), from the log's leader-epoch
// cache. An epoch the cache does not know, or one newer than the latest,
// answers LeaderEpoch -1 and EndOffset -1. Consumers use it after a leader
// change to detect truncated data; followers to find where to truncate.
//
// CurrentLeaderEpoch (v2+) is checked first, as Kafka does: older than the
// partition's epoch → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH.
// Only the leader answers (NOT_LEADER_OR_FOLLOWER otherwise), for
// consumers (ReplicaID -1, v3+) and followers alike; ReplicaID -2, the
// debugging replica, may read any replica. The LeaderEpoch field of the
// answer exists from v1.

// debugReplicaID is the ReplicaID of requests that may be served by a
// follower (Kafka's DEBUGGING_REPLICA_ID).
const debugReplicaID = -2

func (s *Server) handleOffsetForLeaderEpoch(req *kmsg.OffsetForLeaderEpochRequest) *kmsg.OffsetForLeaderEpochResponse {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	leaderOnly := req.Version < 3 || req.ReplicaID != debugReplicaID
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetForLeaderEpochResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			out := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			out.Partition = rp.Partition
			epoch, end, err := s.endOffsetForEpoch(rt.Topic, rp, leaderOnly)
			if err != nil {
				out.ErrorCode = errorCode(err)
			} else {
				out.LeaderEpoch, out.EndOffset = epoch, end
			}
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func (s *Server) endOffsetForEpoch(topic string, rp kmsg.OffsetForLeaderEpochRequestTopicPartition, leaderOnly bool) (int32, int64, error) {
	p, err := s.cfg.Replicas.Get(topic, rp.Partition)
	if err != nil {
		return 0, 0, err
	}
	if err := p.CheckEpoch(rp.CurrentLeaderEpoch); err != nil {
		return 0, 0, err
	}
	if leaderOnly && !p.IsLeader() {
		return 0, 0, replica.ErrNotLeader
	}
	epoch, end := p.Log().EndOffsetForEpoch(rp.LeaderEpoch)
	return epoch, end, nil
}
