package server

import (
	"fmt"
	"slices"

	"github.com/runnel/runnel/broker/controller"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions v0–v3 (KIP-195): grows each topic to Count partitions.
// The new partitions' replicas are spread over the brokers as at creation,
// or given explicitly by Assignment: one replica list per new partition,
// each as long as the topic's replication factor, naming known brokers
// once each (INVALID_REPLICA_ASSIGNMENT otherwise). A count not above the
// current one is INVALID_PARTITIONS, an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION, and a topic named twice in one request fails
// every copy with INVALID_REQUEST ("Duplicate topic name."). Every error
// carries a message. ValidateOnly runs the checks and creates nothing.
// Creation is synchronous: the new partitions are open on this node when
// the response is sent, so the request timeout is never reached. As in
// Kafka, a request adding more than 10,000 partitions in all fails with
// POLICY_VIOLATION.

func (s *Server) handleCreatePartitions(req *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	img := s.cfg.Controller.Image()
	var added int64
	for _, rt := range req.Topics {
		if t := img.Topic(rt.Topic); t != nil && count[rt.Topic] == 1 {
			added += max(int64(rt.Count)-int64(len(t.Partitions)), 0)
		}
	}
	var tooLarge error
	if added > maxRecordsPerRequest {
		tooLarge = fmt.Errorf("%w: Unable to perform excessively large batch operation. (%d new partitions; the limit is %d)", errPolicy, added, maxRecordsPerRequest)
	}
	for _, rt := range req.Topics {
		out := kmsg.NewCreatePartitionsResponseTopic()
		out.Topic = rt.Topic
		var err error
		t := img.Topic(rt.Topic)
		switch {
		case count[rt.Topic] > 1:
			err = fmt.Errorf("%w: Duplicate topic name.", errInvalidRequest)
		case tooLarge != nil && t != nil:
			err = tooLarge
		case rt.Assignment != nil && len(rt.Assignment) == 0 && t != nil && rt.Count > int32(len(t.Partitions)):
			// An empty (not null) assignment assigns no new partition.
			err = fmt.Errorf("%w: attempted to add %d additional partition(s), but only 0 assignment(s) were specified",
				controller.ErrInvalidReplicaAssignment, rt.Count-int32(len(t.Partitions)))
		default:
			var assignment [][]int32
			if rt.Assignment != nil {
				assignment = make([][]int32, 0, len(rt.Assignment))
				for _, a := range rt.Assignment {
					assignment = append(assignment, slices.Clone(a.Replicas))
				}
			}
			err = s.cfg.Controller.CreatePartitions(rt.Topic, rt.Count, assignment, req.ValidateOnly)
		}
		if err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
