package server

import (
	"errors"
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata v0–v12: brokers, controller, cluster ID, topics with IDs (v10+)
// and partitions with leader, epochs, replicas and ISR. Topics requested by
// name that do not exist are created when auto.create.topics.enable is on
// and the request allows it (v4+ AllowAutoTopicCreation; always for older
// versions), answering LEADER_NOT_AVAILABLE for that round as Kafka does
// when creation is still in progress — here it has finished, so the answer
// already carries the partitions. Internal topics are flagged IsInternal.

func (s *Server) handleMetadata(req *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	img := s.cfg.Controller.Image()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	autoCreate := s.broker().AutoCreateTopicsEnable && (req.Version < 4 || req.AllowAutoTopicCreation)
	var toCreate []controller.TopicSpec
	if !all && autoCreate {
		for _, t := range req.Topics {
			if t.Topic != nil && img.Topic(*t.Topic) == nil && controller.ValidateTopicName(*t.Topic) == nil && !controller.IsInternal(*t.Topic) {
				toCreate = append(toCreate, controller.TopicSpec{Name: *t.Topic, NumPartitions: -1, ReplicationFactor: -1})
			}
		}
	}
	if len(toCreate) > 0 {
		_, errs := s.cfg.Controller.CreateTopics(toCreate, false)
		for i, err := range errs {
			if err != nil && !errors.Is(err, controller.ErrTopicExists) {
				s.log.Warn("auto-create failed", "topic", toCreate[i].Name, "err", err)
			}
		}
		img = s.cfg.Controller.Image()
	}

	for _, id := range slices.Sorted(maps.Keys(img.Brokers)) {
		b := img.Brokers[id]
		ep, ok := s.endpointFor(b)
		if !ok {
			continue
		}
		resp.Brokers = append(resp.Brokers, kmsg.MetadataResponseBroker{NodeID: b.NodeID, Host: ep.Host, Port: ep.Port, Rack: rackPtr(b.Rack)})
	}
	clusterID := img.ClusterID
	resp.ClusterID = &clusterID
	resp.ControllerID = s.cfg.NodeID

	topicResp := func(t *metadata.Topic) kmsg.MetadataResponseTopic {
		rt := kmsg.NewMetadataResponseTopic()
		name := t.Name
		rt.Topic = &name
		rt.TopicID = t.ID
		rt.IsInternal = controller.IsInternal(t.Name)
		for _, p := range t.Partitions {
			rp := kmsg.NewMetadataResponseTopicPartition()
			rp.Partition = p.Index
			rp.Leader = p.Leader
			rp.LeaderEpoch = p.LeaderEpoch
			rp.Replicas = slices.Clone(p.Replicas)
			rp.ISR = slices.Clone(p.ISR)
			rp.OfflineReplicas = []int32{}
			if _, ok := img.Brokers[p.Leader]; !ok {
				rp.ErrorCode = kerr.LeaderNotAvailable.Code
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		rt.AuthorizedOperations = -2147483648
		return rt
	}

	if all {
		for _, name := range img.TopicNames() {
			resp.Topics = append(resp.Topics, topicResp(img.Topics[name]))
		}
	} else {
		for _, rt := range req.Topics {
			var t *metadata.Topic
			switch {
			case rt.Topic != nil:
				t = img.Topic(*rt.Topic)
			case rt.TopicID != uuid.Nil:
				t = img.TopicsByID[rt.TopicID]
			}
			if t != nil {
				resp.Topics = append(resp.Topics, topicResp(t))
				continue
			}
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = rt.Topic
			mt.TopicID = rt.TopicID
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if rt.Topic == nil {
				mt.ErrorCode = kerr.UnknownTopicID.Code
			} else if controller.ValidateTopicName(*rt.Topic) != nil {
				mt.ErrorCode = kerr.InvalidTopicException.Code
			}
			resp.Topics = append(resp.Topics, mt)
		}
	}
	resp.AuthorizedOperations = -2147483648
	return resp
}

// endpointFor picks the broker endpoint clients should use: the one with
// the name of the first listener this server serves.
func (s *Server) endpointFor(b metadata.Broker) (metadata.Endpoint, bool) {
	if len(b.Endpoints) == 0 {
		return metadata.Endpoint{}, false
	}
	if len(s.cfg.Listeners) > 0 {
		for _, ep := range b.Endpoints {
			if ep.Name == s.cfg.Listeners[0].Name {
				return ep, true
			}
		}
	}
	return b.Endpoints[0], true
}

func rackPtr(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}
