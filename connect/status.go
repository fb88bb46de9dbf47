package connect

import (
	"fmt"
	"strconv"
	"strings"
)

// State is the state of a connector or task as Kafka Connect reports it.
type State string

// The states of a connector or task. Destroyed is written when a connector
// or task is deleted; it is never shown by the REST API.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateStopped    State = "STOPPED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
	StateDestroyed  State = "DESTROYED"
)

// TargetState is the state a user asked a connector to be in.
type TargetState string

// Target states, spelled as Kafka stores them in target-state-<name>.
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// ParseInitialState maps a create request's initial_state (RUNNING, PAUSED
// or STOPPED, any case) to a target state.
func ParseInitialState(s string) (TargetState, error) {
	switch strings.ToUpper(s) {
	case "RUNNING":
		return TargetStarted, nil
	case "PAUSED":
		return TargetPaused, nil
	case "STOPPED":
		return TargetStopped, nil
	}
	return "", badRequestf("Cannot deserialize value of type `InitialState` from String %q: not one of the values accepted for Enum class: [STOPPED, RUNNING, PAUSED]", s)
}

// TaskID names one task of a connector; JSON {"connector":..,"task":N}.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// String is Kafka's form, "<connector>-<task>".
func (id TaskID) String() string { return id.Connector + "-" + strconv.Itoa(id.Task) }

// ConnectorType is "source", "sink" or "unknown".
type ConnectorType string

// Connector types.
const (
	TypeSource  ConnectorType = "source"
	TypeSink    ConnectorType = "sink"
	TypeUnknown ConnectorType = "unknown"
)

// ConnectorInfo is a connector's configuration and tasks:
// {"name","config","tasks":[{"connector","task"}],"type"}.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   ConnectorType     `json:"type"`
}

// TaskInfo is one task's configuration: {"id":{"connector","task"},"config"}.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// ConnectorState is the connector part of a status:
// {"state","worker_id","trace"} with trace only when set.
type ConnectorState struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is one task's status: {"id","state","worker_id","trace"}.
type TaskState struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStateInfo is GET /connectors/{c}/status:
// {"name","connector":{..},"tasks":[..],"type"}, tasks ordered by id.
type ConnectorStateInfo struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      ConnectorType  `json:"type"`
}

// ConnectorOffset is one source partition and its offset, or for a sink
// connector {"kafka_topic","kafka_partition"} and {"kafka_offset"}.
// A nil Offset in an alter request resets the partition.
type ConnectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// ConnectorOffsets is the body of GET and PATCH /connectors/{c}/offsets.
type ConnectorOffsets struct {
	Offsets []ConnectorOffset `json:"offsets"`
}

// RestartRequest is POST /connectors/{c}/restart?includeTasks=&onlyFailed=.
type RestartRequest struct {
	Connector    string
	OnlyFailed   bool
	IncludeTasks bool
}

// ConnectorOnly reports the plain restart of the connector instance
// (neither flag), which Kafka answers 204 without a body.
func (r RestartRequest) ConnectorOnly() bool { return !r.OnlyFailed && !r.IncludeTasks }

// ShouldRestartConnector reports whether the connector itself is restarted when
// it is in state s.
func (r RestartRequest) ShouldRestartConnector(s State) bool {
	return !r.OnlyFailed || s == StateFailed
}

// ShouldRestartTask reports whether a task in state s is restarted.
func (r RestartRequest) ShouldRestartTask(s State) bool {
	return r.IncludeTasks && (!r.OnlyFailed || s == StateFailed)
}

func (r RestartRequest) String() string {
	return fmt.Sprintf("restart request for connector %s (onlyFailed=%t, includeTasks=%t)", r.Connector, r.OnlyFailed, r.IncludeTasks)
}

// PluginInfo is one entry of GET /connector-plugins: {"class","type","version"}.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// Plugin types as GET /connector-plugins prints them.
const (
	PluginSink            = "sink"
	PluginSource          = "source"
	PluginConverter       = "converter"
	PluginHeaderConverter = "header_converter"
	PluginTransformation  = "transformation"
	PluginPredicate       = "predicate"
)

// ServerInfo is GET /: {"version","commit","kafka_cluster_id"}.
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// LoggerLevel is one logger's level: {"level","last_modified"}; a nil
// LastModified (ms since the epoch) prints as null.
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}
