package distributed

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/connect"
)

// ConfigStore keeps the cluster's connector and task configs in
// config.storage.topic.
type ConfigStore struct {
	log *topicLog

	mu      sync.Mutex
	st      *configState
	pending []configEvent
	notify  chan struct{} // one token when pending is non-empty
}

// OpenConfigStore creates the config topic if absent (one partition) and
// reads it to the end.
func OpenConfigStore(ctx context.Context, opts []kgo.Opt, topic string, replication int16, logger *slog.Logger) (*ConfigStore, error) {
	s := &ConfigStore{st: newConfigState(logger), notify: make(chan struct{}, 1)}
	l, err := openTopicLog(ctx, opts, topicSpec{topic, 1, replication}, logger, s.applyRecord)
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

func (s *ConfigStore) applyRecord(r *kgo.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.st.apply(string(r.Key), r.Value, r.Offset)
	if !ok {
		return
	}
	s.pending = append(s.pending, ev)
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Snapshot returns the configs read so far.
func (s *ConfigStore) Snapshot() ConfigSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot()
}

// Notify receives a token when Events has something to return.
func (s *ConfigStore) Notify() <-chan struct{} { return s.notify }

// events returns and clears the changes read since the last call.
func (s *ConfigStore) events() []configEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.pending
	s.pending = nil
	return ev
}

// ReadToEnd waits until every record written before the call is applied.
func (s *ConfigStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// PutConnectorConfig writes a connector's config, with a target state
// first when targetState is not "" (initial_state on create), and waits
// until it has been read back.
func (s *ConfigStore) PutConnectorConfig(ctx context.Context, name string, config map[string]string, targetState string) error {
	var kvs []keyValue
	if targetState != "" {
		kvs = append(kvs, kv(targetStateKey(name), encodeTargetState(targetState)))
	}
	kvs = append(kvs, kv(connectorKey(name), encodeProperties(config)))
	if err := s.log.send(ctx, kvs...); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// RemoveConnectorConfig writes tombstones for a connector's config and
// target state and waits until they have been read back.
func (s *ConfigStore) RemoveConnectorConfig(ctx context.Context, name string) error {
	if err := s.log.send(ctx, kv(connectorKey(name), nil), kv(targetStateKey(name), nil)); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// PutTaskConfigs writes a connector's task configs followed by the commit
// that makes them take effect, and waits until they have been read back.
func (s *ConfigStore) PutTaskConfigs(ctx context.Context, name string, tasks []map[string]string) error {
	if err := s.log.readToEnd(ctx); err != nil {
		return err
	}
	kvs := make([]keyValue, 0, len(tasks))
	for i, t := range tasks {
		kvs = append(kvs, kv(taskKey(TaskID{name, i}), encodeProperties(t)))
	}
	if len(kvs) > 0 {
		if err := s.log.send(ctx, kvs...); err != nil {
			return err
		}
	}
	if err := s.log.send(ctx, kv(commitKey(name), encodeCommit(len(tasks)))); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// PutTargetState writes a connector's target state and waits until it
// has been read back.
func (s *ConfigStore) PutTargetState(ctx context.Context, name, state string) error {
	if err := s.log.send(ctx, kv(targetStateKey(name), encodeTargetState(state))); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// PutRestartRequest writes a restart request for the workers running the
// connector and its tasks.
func (s *ConfigStore) PutRestartRequest(ctx context.Context, r RestartRequest) error {
	return s.log.send(ctx, kv(restartKey(r.Connector), encodeRestart(r)))
}

// Close stops reading.
func (s *ConfigStore) Close() { s.log.close() }

// StatusStore keeps connector and task statuses in status.storage.topic.
type StatusStore struct {
	log *topicLog

	mu         sync.Mutex
	connectors map[string]Status
	tasks      map[TaskID]Status
	topics     map[string]map[string]TopicStatus // connector → topic → status
}

// OpenStatusStore creates the status topic if absent and reads it to the
// end.
func OpenStatusStore(ctx context.Context, opts []kgo.Opt, topic string, partitions int32, replication int16, logger *slog.Logger) (*StatusStore, error) {
	s := &StatusStore{
		connectors: map[string]Status{},
		tasks:      map[TaskID]Status{},
		topics:     map[string]map[string]TopicStatus{},
	}
	l, err := openTopicLog(ctx, opts, topicSpec{topic, partitions, replication}, logger, func(r *kgo.Record) {
		s.applyRecord(logger, r)
	})
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

func (s *StatusStore) applyRecord(logger *slog.Logger, r *kgo.Record) {
	key := string(r.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.HasPrefix(key, statusConnectorPref):
		name := key[len(statusConnectorPref):]
		if r.Value == nil {
			delete(s.connectors, name)
			return
		}
		st, err := decodeStatus(r.Value)
		if err != nil {
			logger.Error("skipping connector status", "connector", name, "err", err)
			return
		}
		s.connectors[name] = st
	case strings.HasPrefix(key, statusTaskPrefix):
		id, err := parseTaskID(key[len(statusTaskPrefix):])
		if err != nil {
			logger.Error("skipping task status", "key", key, "err", err)
			return
		}
		if r.Value == nil {
			delete(s.tasks, id)
			return
		}
		st, err := decodeStatus(r.Value)
		if err != nil {
			logger.Error("skipping task status", "task", id.String(), "err", err)
			return
		}
		s.tasks[id] = st
	case strings.HasPrefix(key, statusTopicPrefix):
		topic, conn, ok := strings.Cut(key[len(statusTopicPrefix):], statusTopicSep)
		if !ok {
			logger.Error("skipping topic status", "key", key)
			return
		}
		if r.Value == nil {
			delete(s.topics[conn], topic)
			return
		}
		ts, err := decodeTopicStatus(r.Value)
		if err != nil {
			logger.Error("skipping topic status", "key", key, "err", err)
			return
		}
		if s.topics[conn] == nil {
			s.topics[conn] = map[string]TopicStatus{}
		}
		s.topics[conn][topic] = ts
	}
}

// PutConnector writes a connector's status.
func (s *StatusStore) PutConnector(ctx context.Context, name string, st Status) error {
	return s.log.send(ctx, kv(statusConnectorKey(name), encodeStatus(st)))
}

// PutTask writes a task's status.
func (s *StatusStore) PutTask(ctx context.Context, id TaskID, st Status) error {
	return s.log.send(ctx, kv(statusTaskKey(id), encodeStatus(st)))
}

// PutTopic records that a connector uses a topic.
func (s *StatusStore) PutTopic(ctx context.Context, ts TopicStatus) error {
	return s.log.send(ctx, kv(statusTopicKey(ts.Topic, ts.Connector), encodeTopicStatus(ts)))
}

// DeleteConnector writes tombstones for a deleted connector's status, its
// tasks' statuses (tasks below tasks and any known) and its topics.
func (s *StatusStore) DeleteConnector(ctx context.Context, name string, tasks int) error {
	s.mu.Lock()
	ids := map[TaskID]bool{}
	for i := range tasks {
		ids[TaskID{name, i}] = true
	}
	for id := range s.tasks {
		if id.Connector == name {
			ids[id] = true
		}
	}
	topics := slices.Sorted(maps.Keys(s.topics[name]))
	s.mu.Unlock()
	kvs := []keyValue{kv(statusConnectorKey(name), nil)}
	for _, id := range slices.SortedFunc(maps.Keys(ids), func(a, b TaskID) int { return a.Task - b.Task }) {
		kvs = append(kvs, kv(statusTaskKey(id), nil))
	}
	for _, t := range topics {
		kvs = append(kvs, kv(statusTopicKey(t, name), nil))
	}
	return s.log.send(ctx, kvs...)
}

// ResetTopics writes tombstones for the topics a connector used (PUT
// /connectors/{c}/topics/reset).
func (s *StatusStore) ResetTopics(ctx context.Context, name string) error {
	s.mu.Lock()
	topics := slices.Sorted(maps.Keys(s.topics[name]))
	s.mu.Unlock()
	var kvs []keyValue
	for _, t := range topics {
		kvs = append(kvs, kv(statusTopicKey(t, name), nil))
	}
	if len(kvs) == 0 {
		return nil
	}
	if err := s.log.send(ctx, kvs...); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// Connector returns a connector's last status.
func (s *StatusStore) Connector(name string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.connectors[name]
	return st, ok
}

// Task returns a task's last status.
func (s *StatusStore) Task(id TaskID) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.tasks[id]
	return st, ok
}

// Topics returns the topics a connector has used, sorted.
func (s *StatusStore) Topics(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.topics[name]))
}

// ReadToEnd waits until every status written before the call is applied.
func (s *StatusStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// Close stops reading.
func (s *StatusStore) Close() { s.log.close() }

// OffsetStore keeps source connectors' offsets in offset.storage.topic.
// It is the distributed worker's connect.OffsetStore.
type OffsetStore struct {
	log *topicLog

	mu      sync.Mutex
	offsets map[string]map[string]connect.ConnectorOffset // connector → key bytes → offset
}

// OpenOffsetStore creates the offsets topic if absent and reads it to the
// end.
func OpenOffsetStore(ctx context.Context, opts []kgo.Opt, topic string, partitions int32, replication int16, logger *slog.Logger) (*OffsetStore, error) {
	s := &OffsetStore{offsets: map[string]map[string]connect.ConnectorOffset{}}
	l, err := openTopicLog(ctx, opts, topicSpec{topic, partitions, replication}, logger, func(r *kgo.Record) {
		name, part, err := decodeOffsetKey(r.Key)
		if err != nil {
			logger.Error("skipping source offset", "err", err)
			return
		}
		off, err := decodeOffsetValue(r.Value)
		if err != nil {
			logger.Error("skipping source offset", "connector", name, "err", err)
			return
		}
		// Key by the canonical form, so that a Java worker's key with
		// its map keys in another order names the same partition.
		k := string(encodeOffsetKey(name, part))
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.offsets[name]
		if off == nil {
			delete(m, k)
			return
		}
		if m == nil {
			m = map[string]connect.ConnectorOffset{}
			s.offsets[name] = m
		}
		m[k] = connect.ConnectorOffset{Partition: part, Offset: off}
	})
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

// Offsets reads the topic to its end and returns every offset of a
// connector, ordered by key.
func (s *OffsetStore) Offsets(ctx context.Context, connector string) ([]connect.ConnectorOffset, error) {
	if err := s.log.readToEnd(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.offsets[connector]
	out := make([]connect.ConnectorOffset, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out, nil
}

// Write writes offsets (a nil Offset is a tombstone) and waits for their
// acknowledgement by every in-sync replica.
func (s *OffsetStore) Write(ctx context.Context, connector string, offsets []connect.ConnectorOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	kvs := make([]keyValue, len(offsets))
	for i, o := range offsets {
		kvs[i] = keyValue{encodeOffsetKey(connector, o.Partition), encodeOffsetValue(o.Offset)}
	}
	return s.log.send(ctx, kvs...)
}

// Close stops reading.
func (s *OffsetStore) Close() { s.log.close() }
