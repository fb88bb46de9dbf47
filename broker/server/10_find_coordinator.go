package server

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FindCoordinator v0–v4. Key type 0 asks for a group's coordinator: the
// leader of partition abs(hashCode(key)) % partitions of __consumer_offsets
// (Java's String.hashCode, as Kafka places groups). Key type 1 asks for a
// transactional ID's coordinator, found the same way in __transaction_state.
// Other key types are INVALID_REQUEST. v4 asks for many keys at once
// (KIP-699), each answered with its own error.
//
// The internal topic is created on first need, compacted and sized by
// offsets.topic.num.partitions / .replication.factor / .segment.bytes (or
// the transaction.state.log.* settings), and that round is answered
// COORDINATOR_NOT_AVAILABLE, as Kafka answers while it creates the topic;
// clients retry. A partition without a live leader is
// COORDINATOR_NOT_AVAILABLE too. The coordinator returned may still be
// loading its groups; the group APIs then answer
// COORDINATOR_LOAD_IN_PROGRESS.

const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

func (s *Server) handleFindCoordinator(req *kmsg.FindCoordinatorRequest) *kmsg.FindCoordinatorResponse {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version < 4 {
		node, host, port, err := s.findCoordinator(req.CoordinatorType, req.CoordinatorKey)
		resp.NodeID, resp.Host, resp.Port = node, host, port
		resp.ErrorCode = errorCode(err)
		if req.Version >= 1 {
			resp.ErrorMessage = errorMessage(err)
		}
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		var err error
		c.NodeID, c.Host, c.Port, err = s.findCoordinator(req.CoordinatorType, key)
		c.ErrorCode = errorCode(err)
		c.ErrorMessage = errorMessage(err)
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp
}

// findCoordinator returns the node, host and port of key's coordinator.
func (s *Server) findCoordinator(keyType int8, key string) (int32, string, int32, error) {
	none := func(err error) (int32, string, int32, error) { return -1, "", -1, err }
	bc := s.broker()
	var spec controller.TopicSpec
	switch keyType {
	case coordinatorGroup:
		spec = controller.TopicSpec{
			Name:              controller.ConsumerOffsetsTopic,
			NumPartitions:     bc.OffsetsTopicNumPartitions,
			ReplicationFactor: bc.OffsetsTopicReplicationFactor,
			Configs: map[string]string{
				"cleanup.policy":   "compact",
				"segment.bytes":    strconv.Itoa(int(bc.OffsetsTopicSegmentBytes)),
				"compression.type": "producer",
			},
		}
	case coordinatorTransaction:
		spec = controller.TopicSpec{
			Name:              controller.TransactionStateTopic,
			NumPartitions:     bc.TransactionStateLogNumPartitions,
			ReplicationFactor: bc.TransactionStateLogReplicationFactor,
			Configs: map[string]string{
				"cleanup.policy":                 "compact",
				"segment.bytes":                  strconv.Itoa(int(bc.TransactionStateLogSegmentBytes)),
				"min.insync.replicas":            strconv.Itoa(int(bc.TransactionStateLogMinISR)),
				"unclean.leader.election.enable": "false",
				"compression.type":               "uncompressed",
			},
		}
	default:
		return none(fmt.Errorf("%w: unknown coordinator type %d", errInvalidRequest, keyType))
	}
	img := s.cfg.Controller.Image()
	t := img.Topic(spec.Name)
	if t == nil {
		spec.Internal = true
		_, errs := s.cfg.Controller.CreateTopics([]controller.TopicSpec{spec}, false)
		if err := errs[0]; err != nil && !errors.Is(err, controller.ErrTopicExists) {
			s.log.Warn("creating an internal topic failed", "topic", spec.Name, "err", err)
			return none(fmt.Errorf("%w: creating %s: %w", group.ErrCoordinatorNotAvailable, spec.Name, err))
		}
		return none(fmt.Errorf("%w: %s is being created", group.ErrCoordinatorNotAvailable, spec.Name))
	}
	if len(t.Partitions) == 0 {
		return none(fmt.Errorf("%w: %s has no partitions", group.ErrCoordinatorNotAvailable, spec.Name))
	}
	p := t.Partitions[group.PartitionFor(key, len(t.Partitions))]
	b, ok := img.Brokers[p.Leader]
	if !ok {
		return none(fmt.Errorf("%w: %s-%d has no leader", group.ErrCoordinatorNotAvailable, spec.Name, p.Index))
	}
	ep, ok := s.endpointFor(b)
	if !ok {
		return none(fmt.Errorf("%w: node %d has no endpoint", group.ErrCoordinatorNotAvailable, p.Leader))
	}
	return p.Leader, ep.Host, ep.Port, nil
}

// groups returns the group coordinator, or an error when the server has
// none.
func (s *Server) groups() (*group.Coordinator, error) {
	if s.cfg.Groups == nil {
		return nil, fmt.Errorf("%w: this server runs no group coordinator", group.ErrCoordinatorNotAvailable)
	}
	return s.cfg.Groups, nil
}

// millis converts a request's millisecond field.
func millis(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }

// nilIfEmpty is the nullable string Kafka sends for an empty one.
func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
