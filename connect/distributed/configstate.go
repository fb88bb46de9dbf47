package distributed

import (
	"log/slog"
	"maps"
	"strings"
)

// ConfigSnapshot is the cluster's connector configuration as read from the
// config topic up to Offset.
type ConfigSnapshot struct {
	// Offset is the offset after the last record applied (-1 before any).
	Offset       int64
	Connectors   map[string]map[string]string // connector name → its config
	TargetStates map[string]string            // STARTED, PAUSED or STOPPED
	TaskCounts   map[string]int               // from the last complete commit
	Tasks        map[TaskID]map[string]string
	// Inconsistent names connectors whose last commit referred to task
	// configs compaction removed; their tasks must be regenerated.
	Inconsistent map[string]bool
}

// TaskConfigs returns the committed task configs of a connector in task
// order, or nil when it has none or is inconsistent.
func (s ConfigSnapshot) TaskConfigs(connector string) []map[string]string {
	if s.Inconsistent[connector] {
		return nil
	}
	n := s.TaskCounts[connector]
	out := make([]map[string]string, 0, n)
	for i := range n {
		c, ok := s.Tasks[TaskID{connector, i}]
		if !ok {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// configEvent tells the herder what a config record changed.
type configEvent struct {
	kind      configEventKind
	connector string
	tasks     []TaskID // for eventTasks
	restart   RestartRequest
}

type configEventKind int

const (
	eventConnectorConfig configEventKind = iota + 1
	eventConnectorRemoved
	eventTargetState
	eventTasks
	eventRestart
)

// configState applies config topic records in order. It has no locks: its
// owner serialises access.
type configState struct {
	log      *slog.Logger
	snap     ConfigSnapshot
	deferred map[string]map[TaskID]map[string]string // task configs awaiting their commit
}

func newConfigState(logger *slog.Logger) *configState {
	return &configState{
		log: logger,
		snap: ConfigSnapshot{
			Offset:       -1,
			Connectors:   map[string]map[string]string{},
			TargetStates: map[string]string{},
			TaskCounts:   map[string]int{},
			Tasks:        map[TaskID]map[string]string{},
			Inconsistent: map[string]bool{},
		},
		deferred: map[string]map[TaskID]map[string]string{},
	}
}

// snapshot returns a copy whose maps the caller may keep (the inner
// config maps are never mutated, only replaced).
func (c *configState) snapshot() ConfigSnapshot {
	s := c.snap
	s.Connectors = maps.Clone(s.Connectors)
	s.TargetStates = maps.Clone(s.TargetStates)
	s.TaskCounts = maps.Clone(s.TaskCounts)
	s.Tasks = maps.Clone(s.Tasks)
	s.Inconsistent = maps.Clone(s.Inconsistent)
	return s
}

// apply applies the record at offset and returns what changed, if anything.
// Malformed records are logged and skipped, as Kafka skips them.
func (c *configState) apply(key string, value []byte, offset int64) (configEvent, bool) {
	c.snap.Offset = offset + 1
	switch {
	case strings.HasPrefix(key, targetStatePrefix):
		name := key[len(targetStatePrefix):]
		if value == nil {
			delete(c.snap.TargetStates, name)
			if _, ok := c.snap.Connectors[name]; ok {
				c.snap.TargetStates[name] = TargetStarted
			}
			return configEvent{}, false
		}
		st, err := decodeTargetState(value)
		if err != nil {
			c.log.Error("skipping target state", "connector", name, "err", err)
			return configEvent{}, false
		}
		prev := c.snap.TargetStates[name]
		c.snap.TargetStates[name] = st
		_, exists := c.snap.Connectors[name]
		return configEvent{kind: eventTargetState, connector: name}, exists && prev != st
	case strings.HasPrefix(key, connectorPrefix):
		name := key[len(connectorPrefix):]
		if value == nil {
			c.remove(name)
			return configEvent{kind: eventConnectorRemoved, connector: name}, true
		}
		props, err := decodeProperties(value)
		if err != nil {
			c.log.Error("skipping connector config", "connector", name, "err", err)
			return configEvent{}, false
		}
		c.snap.Connectors[name] = props
		if _, ok := c.snap.TargetStates[name]; !ok {
			c.snap.TargetStates[name] = TargetStarted
		}
		return configEvent{kind: eventConnectorConfig, connector: name}, true
	case strings.HasPrefix(key, taskPrefix):
		id, err := parseTaskID(key[len(taskPrefix):])
		if err != nil {
			c.log.Error("skipping task config", "key", key, "err", err)
			return configEvent{}, false
		}
		if value == nil {
			return configEvent{}, false
		}
		props, err := decodeProperties(value)
		if err != nil {
			c.log.Error("skipping task config", "task", id.String(), "err", err)
			return configEvent{}, false
		}
		d := c.deferred[id.Connector]
		if d == nil {
			d = map[TaskID]map[string]string{}
			c.deferred[id.Connector] = d
		}
		d[id] = props
		return configEvent{}, false
	case strings.HasPrefix(key, commitPrefix):
		name := key[len(commitPrefix):]
		if value == nil {
			return configEvent{}, false
		}
		if _, ok := c.snap.Connectors[name]; !ok {
			// Deleted earlier and compacted away: drop its leftovers.
			c.remove(name)
			return configEvent{}, false
		}
		n, err := decodeCommit(value)
		if err != nil {
			c.log.Error("skipping task commit", "connector", name, "err", err)
			return configEvent{}, false
		}
		d := c.deferred[name]
		complete := true
		for i := range n {
			if _, ok := d[TaskID{name, i}]; !ok {
				if _, ok := c.snap.Tasks[TaskID{name, i}]; !ok {
					complete = false
				}
			}
		}
		for id := range d {
			if id.Task >= n {
				complete = false
			}
		}
		var updated []TaskID
		if !complete {
			c.snap.Inconsistent[name] = true
		} else {
			for id, p := range d {
				c.snap.Tasks[id] = p
				updated = append(updated, id)
			}
			delete(c.snap.Inconsistent, name)
		}
		// Drop the configs of tasks past the new count.
		for id := range c.snap.Tasks {
			if id.Connector == name && id.Task >= n {
				delete(c.snap.Tasks, id)
			}
		}
		delete(c.deferred, name)
		c.snap.TaskCounts[name] = n
		return configEvent{kind: eventTasks, connector: name, tasks: updated}, true
	case strings.HasPrefix(key, restartPrefix):
		name := key[len(restartPrefix):]
		if value == nil {
			return configEvent{}, false
		}
		r, err := decodeRestart(name, value)
		if err != nil {
			c.log.Error("skipping restart request", "connector", name, "err", err)
			return configEvent{}, false
		}
		return configEvent{kind: eventRestart, connector: name, restart: r}, true
	}
	// session-key, tasks-fencing-*, logger-cluster-*: not used by Runnel.
	return configEvent{}, false
}

func (c *configState) remove(name string) {
	delete(c.snap.Connectors, name)
	delete(c.snap.TargetStates, name)
	delete(c.snap.TaskCounts, name)
	delete(c.snap.Inconsistent, name)
	delete(c.deferred, name)
	for id := range c.snap.Tasks {
		if id.Connector == name {
			delete(c.snap.Tasks, id)
		}
	}
}
