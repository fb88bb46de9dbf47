package server

import (
	"fmt"
	"slices"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics v0–v7. Topics are created one by one and each gets its own
// result: a name given twice in one request fails every copy with
// INVALID_REQUEST ("Duplicate topic name.") and the other topics go ahead,
// as in Kafka's controller. NumPartitions and ReplicationFactor -1 take
// num.partitions and default.replication.factor (KIP-464); an explicit
// replica assignment requires both to be -1. Topic configs are checked
// against the topic-level vocabulary (unknown key or bad value →
// INVALID_CONFIG naming the key; a null value → INVALID_CONFIG, as Kafka's
// "Null value not supported for topic configs"); when a key is repeated the
// last value wins, as Kafka's map of creation configs does.
//
// ValidateOnly (v1+) runs every check and commits nothing. From v5 the
// result carries the partition count, replication factor and every
// effective topic config with its source (KIP-525), for validate-only
// requests too; v7 adds the topic ID. Creation is synchronous, so the
// request timeout is never reached: when the response is sent the topic's
// partitions are already open on this node. As in Kafka, a request whose
// topics would take more than 10,000 metadata records (topics, partitions
// and configs) fails every topic with POLICY_VIOLATION.

// metadataTopic is the name Kafka reserves for its metadata log.
const metadataTopic = "__cluster_metadata"

func (s *Server) handleCreateTopics(req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	resp.Topics = make([]kmsg.CreateTopicsResponseTopic, len(req.Topics))

	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	img := s.cfg.Controller.Image()
	var (
		specs []controller.TopicSpec
		slots []int // index in resp.Topics of each spec
	)
	for i, rt := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewCreateTopicsResponseTopic()
		out.Topic = rt.Topic
		spec, err := createTopicSpec(rt, count[rt.Topic] > 1)
		if err == nil && img.Topic(rt.Topic) == nil {
			// Configs are checked here only for topics that do not exist
			// yet, so an existing topic answers TOPIC_ALREADY_EXISTS first,
			// as in Kafka; the controller checks again under its lock.
			if verr := config.ValidateTopic(spec.Configs); verr != nil {
				err = fmt.Errorf("%w: %w", controller.ErrInvalidConfig, verr)
			}
		}
		if err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
			continue
		}
		specs = append(specs, spec)
		slots = append(slots, i)
	}
	if len(specs) == 0 {
		return resp
	}
	if n := s.createRecordCount(specs); n > maxRecordsPerRequest {
		err := fmt.Errorf("%w: Unable to perform excessively large batch operation. (%d metadata records; the limit is %d)", errPolicy, n, maxRecordsPerRequest)
		for _, i := range slots {
			resp.Topics[i].ErrorCode = errorCode(err)
			resp.Topics[i].ErrorMessage = errorMessage(err)
		}
		return resp
	}

	created, errs := s.cfg.Controller.CreateTopics(specs, req.ValidateOnly)
	for j, spec := range specs {
		out := &resp.Topics[slots[j]]
		if err := errs[j]; err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
			continue
		}
		c := created[j]
		out.TopicID = c.ID
		out.NumPartitions = c.NumPartitions
		out.ReplicationFactor = c.ReplicationFactor
		if req.Version >= 5 {
			for _, e := range config.DescribeTopic(s.broker(), spec.Configs) {
				rc := kmsg.NewCreateTopicsResponseTopicConfig()
				rc.Name = e.Name
				rc.Value = entryValue(e)
				rc.ReadOnly = e.ReadOnly
				rc.Source = int8(e.Source)
				rc.IsSensitive = e.Sensitive
				out.Configs = append(out.Configs, rc)
			}
		}
	}
	return resp
}

// maxRecordsPerRequest bounds the metadata records one request may create,
// as Kafka's controller bounds a user operation to 10,000 records and
// answers POLICY_VIOLATION past it. It also keeps a request from making
// the broker allocate billions of partitions.
const maxRecordsPerRequest = 10_000

// createRecordCount is how many metadata records creating specs takes: one
// per topic, partition and config.
func (s *Server) createRecordCount(specs []controller.TopicSpec) int64 {
	var n int64
	for _, spec := range specs {
		parts := int64(len(spec.Assignment))
		if parts == 0 {
			parts = int64(spec.NumPartitions)
			if parts == -1 {
				parts = int64(s.broker().NumPartitions)
			}
		}
		n += 1 + max(parts, 0) + int64(len(spec.Configs))
	}
	return n
}

// createTopicSpec checks the parts of one topic's request that need no
// metadata and converts it for the controller.
func createTopicSpec(rt kmsg.CreateTopicsRequestTopic, duplicate bool) (controller.TopicSpec, error) {
	spec := controller.TopicSpec{
		Name:              rt.Topic,
		NumPartitions:     rt.NumPartitions,
		ReplicationFactor: rt.ReplicationFactor,
	}
	switch {
	case duplicate:
		return spec, fmt.Errorf("%w: Duplicate topic name.", errInvalidRequest)
	case rt.Topic == metadataTopic:
		return spec, fmt.Errorf("%w: Creation of internal topic %s is prohibited.", errInvalidRequest, metadataTopic)
	}
	if err := controller.ValidateTopicName(rt.Topic); err != nil {
		return spec, err
	}
	if len(rt.ReplicaAssignment) > 0 {
		spec.Assignment = make(map[int32][]int32, len(rt.ReplicaAssignment))
		for _, a := range rt.ReplicaAssignment {
			if _, dup := spec.Assignment[a.Partition]; dup {
				return spec, fmt.Errorf("%w: partition %d is assigned twice", controller.ErrInvalidReplicaAssignment, a.Partition)
			}
			spec.Assignment[a.Partition] = slices.Clone(a.Replicas)
		}
	}
	var nulls []string
	for _, c := range rt.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
			continue
		}
		if spec.Configs == nil {
			spec.Configs = map[string]string{}
		}
		spec.Configs[c.Name] = *c.Value
	}
	if len(nulls) > 0 {
		return spec, fmt.Errorf("%w: Null value not supported for topic configs: %s", controller.ErrInvalidConfig, joinNames(nulls))
	}
	return spec, nil
}
