package server

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/controller"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics v0–v6. Up to v5 topics are named; v6 names each topic by
// name or by topic ID (KIP-516) and answers with the topic's ID. As in
// Kafka's controller, malformed entries fail alone with INVALID_REQUEST:
// neither name nor ID, both name and ID, a name or ID given twice, or a
// topic named by name in one entry and by ID in another (both entries
// fail and the topic stays; Kafka leaves the ID entry unanswered). An unknown name answers
// UNKNOWN_TOPIC_OR_PARTITION and an unknown ID UNKNOWN_TOPIC_ID. With
// delete.topic.enable=false every deletion fails with
// TOPIC_DELETION_DISABLED, or INVALID_REQUEST for v0–v2, which predate
// that error (KIP-322). Internal topics cannot be deleted. Deletion is
// synchronous: the partitions' logs are gone when the response is sent.

func (s *Server) handleDeleteTopics(req *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)

	type entry struct {
		name *string
		id   uuid.UUID
		err  error
	}
	var entries []entry
	if req.Version < 6 {
		for _, n := range req.TopicNames {
			entries = append(entries, entry{name: &n})
		}
	} else {
		for _, t := range req.Topics {
			entries = append(entries, entry{name: t.Topic, id: t.TopicID})
		}
	}

	names := map[string]int{}
	ids := map[uuid.UUID]int{}
	for _, e := range entries {
		switch {
		case e.name != nil && e.id == uuid.Nil:
			names[*e.name]++
		case e.name == nil && e.id != uuid.Nil:
			ids[e.id]++
		}
	}
	// A topic named once by name and once by ID is named twice: neither
	// entry deletes it.
	img := s.cfg.Controller.Image()
	both := map[uuid.UUID]bool{}
	for name := range names {
		if t := img.Topic(name); t != nil && ids[t.ID] > 0 {
			both[t.ID] = true
		}
	}
	errBoth := fmt.Errorf("%w: The provided topic name maps to an ID that was already supplied.", errInvalidRequest)
	for i := range entries {
		e := &entries[i]
		switch {
		case e.name == nil && e.id == uuid.Nil:
			e.err = fmt.Errorf("%w: Neither topic name nor id were specified.", errInvalidRequest)
		case e.name != nil && e.id != uuid.Nil:
			e.err = fmt.Errorf("%w: You may not specify both topic name and topic id.", errInvalidRequest)
		case e.name != nil && names[*e.name] > 1:
			e.err = fmt.Errorf("%w: Duplicate topic name.", errInvalidRequest)
		case e.name == nil && ids[e.id] > 1:
			e.err = fmt.Errorf("%w: Duplicate topic id.", errInvalidRequest)
		case e.name == nil && both[e.id]:
			e.err = errBoth
		case e.name != nil:
			if t := img.Topic(*e.name); t != nil && both[t.ID] {
				e.id = t.ID
				e.err = errBoth
			}
		}
	}

	for _, e := range entries {
		out := kmsg.NewDeleteTopicsResponseTopic()
		out.Topic, out.TopicID = e.name, e.id
		err := e.err
		if err == nil {
			err = s.deleteTopic(e.name, e.id, &out)
		}
		if err != nil {
			if errors.Is(err, controller.ErrTopicDeletionDisabled) && req.Version < 3 {
				// Not wrapped: the code must be INVALID_REQUEST.
				err = fmt.Errorf("%w: %v", errInvalidRequest, err)
			}
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}

// deleteTopic deletes the topic named by name or, when name is nil, by id,
// and fills in the name and ID of the response entry.
func (s *Server) deleteTopic(name *string, id uuid.UUID, out *kmsg.DeleteTopicsResponseTopic) error {
	if name == nil {
		t, err := s.cfg.Controller.DeleteTopic("", id)
		if errors.Is(err, controller.ErrUnknownTopic) {
			return fmt.Errorf("%w: %s", errUnknownTopicID, id)
		}
		if t != nil {
			n := t.Name
			out.Topic = &n
		}
		return err
	}
	t, err := s.cfg.Controller.DeleteTopic(*name, uuid.Nil)
	if t != nil {
		out.TopicID = t.ID
	}
	return err
}
