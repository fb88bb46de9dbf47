package distributed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrRecord reports an internal-topic record whose key or value is not in
// the format Kafka Connect writes.
var ErrRecord = errors.New("distributed: malformed internal topic record")

// Target states of a connector (KIP-875 adds STOPPED).
const (
	TargetStarted = "STARTED"
	TargetPaused  = "PAUSED"
	TargetStopped = "STOPPED"
)

// Key prefixes in the config and status topics.
const (
	connectorPrefix     = "connector-"
	taskPrefix          = "task-"
	commitPrefix        = "commit-"
	targetStatePrefix   = "target-state-"
	restartPrefix       = "restart-connector-"
	statusConnectorPref = "status-connector-"
	statusTaskPrefix    = "status-task-"
	statusTopicPrefix   = "status-topic-"
	statusTopicSep      = ":connector-"
)

// marshalJSON encodes v as JsonConverter does: no HTML escaping, no
// trailing newline, map keys sorted.
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only values built by this package reach here; they always encode.
		panic(fmt.Sprintf("distributed: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// unmarshalJSON decodes b keeping integers exact: JSON numbers become
// int64 when integral, float64 otherwise.
func unmarshalJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrRecord)
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// Config topic keys.

func connectorKey(name string) string   { return connectorPrefix + name }
func taskKey(id TaskID) string          { return taskPrefix + id.String() }
func commitKey(name string) string      { return commitPrefix + name }
func targetStateKey(name string) string { return targetStatePrefix + name }
func restartKey(name string) string     { return restartPrefix + name }

// encodeProperties is the value of connector-<name> and task-<name>-<n>.
func encodeProperties(props map[string]string) []byte {
	if props == nil {
		props = map[string]string{}
	}
	return marshalJSON(struct {
		Properties map[string]string `json:"properties"`
	}{props})
}

// decodeProperties parses {"properties":{...}}; null property values are
// dropped.
func decodeProperties(b []byte) (map[string]string, error) {
	var v struct {
		Properties *map[string]*string `json:"properties"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: properties: %v", ErrRecord, err)
	}
	if v.Properties == nil {
		return nil, fmt.Errorf("%w: no properties field", ErrRecord)
	}
	out := make(map[string]string, len(*v.Properties))
	for k, p := range *v.Properties {
		if p != nil {
			out[k] = *p
		}
	}
	return out, nil
}

func encodeCommit(tasks int) []byte {
	return marshalJSON(struct {
		Tasks int32 `json:"tasks"`
	}{int32(tasks)})
}

func decodeCommit(b []byte) (int, error) {
	var v struct {
		Tasks *int32 `json:"tasks"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Tasks == nil || *v.Tasks < 0 {
		return 0, fmt.Errorf("%w: commit: %s", ErrRecord, b)
	}
	return int(*v.Tasks), nil
}

// encodeTargetState writes both fields as Kafka 3.5+ does: "state" falls
// back to PAUSED for STOPPED so that older workers still stop work.
func encodeTargetState(state string) []byte {
	old := state
	if state == TargetStopped {
		old = TargetPaused
	}
	return marshalJSON(struct {
		State   string `json:"state"`
		StateV2 string `json:"state.v2"`
	}{old, state})
}

// decodeTargetState prefers "state.v2" and falls back to "state".
func decodeTargetState(b []byte) (string, error) {
	var v struct {
		State   *string `json:"state"`
		StateV2 *string `json:"state.v2"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("%w: target state: %v", ErrRecord, err)
	}
	s := v.StateV2
	if s == nil {
		s = v.State
	}
	if s == nil {
		return "", fmt.Errorf("%w: target state without a state field", ErrRecord)
	}
	switch *s {
	case TargetStarted, TargetPaused, TargetStopped:
		return *s, nil
	}
	return "", fmt.Errorf("%w: unknown target state %q", ErrRecord, *s)
}

// RestartRequest asks the workers running a connector to restart it
// (POST /connectors/{c}/restart).
type RestartRequest struct {
	Connector    string
	IncludeTasks bool
	OnlyFailed   bool
}

func encodeRestart(r RestartRequest) []byte {
	return marshalJSON(struct {
		IncludeTasks bool `json:"include-tasks"`
		OnlyFailed   bool `json:"only-failed"`
	}{r.IncludeTasks, r.OnlyFailed})
}

// decodeRestart reads a restart request; a missing or non-boolean field
// defaults to false, as in Kafka.
func decodeRestart(name string, b []byte) (RestartRequest, error) {
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return RestartRequest{}, fmt.Errorf("%w: restart request: %v", ErrRecord, err)
	}
	it, _ := v["include-tasks"].(bool)
	of, _ := v["only-failed"].(bool)
	return RestartRequest{Connector: name, IncludeTasks: it, OnlyFailed: of}, nil
}

// parseTaskKey splits the <name>-<n> of a task key; the connector name may
// itself contain dashes.
func parseTaskID(s string) (TaskID, error) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return TaskID{}, fmt.Errorf("%w: task id %q", ErrRecord, s)
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 {
		return TaskID{}, fmt.Errorf("%w: task id %q", ErrRecord, s)
	}
	return TaskID{s[:i], n}, nil
}

// Status topic records.

// Status is a connector's or task's state as the worker running it last
// reported it.
type Status struct {
	State      string // UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED, RESTARTING (DESTROYED is a tombstone)
	Trace      string // the failure's stack trace or message; "" = none
	WorkerID   string // host:port of the worker
	Generation int32  // the group generation the worker wrote it in
}

func statusConnectorKey(name string) string { return statusConnectorPref + name }
func statusTaskKey(id TaskID) string        { return statusTaskPrefix + id.String() }
func statusTopicKey(topic, connector string) string {
	return statusTopicPrefix + topic + statusTopicSep + connector
}

func encodeStatus(s Status) []byte {
	var trace *string
	if s.Trace != "" {
		trace = &s.Trace
	}
	return marshalJSON(struct {
		State      string  `json:"state"`
		Trace      *string `json:"trace"`
		WorkerID   string  `json:"worker_id"`
		Generation int32   `json:"generation"`
	}{s.State, trace, s.WorkerID, s.Generation})
}

func decodeStatus(b []byte) (Status, error) {
	var v struct {
		State      *string `json:"state"`
		Trace      *string `json:"trace"`
		WorkerID   *string `json:"worker_id"`
		Generation *int32  `json:"generation"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Status{}, fmt.Errorf("%w: status: %v", ErrRecord, err)
	}
	if v.State == nil || v.WorkerID == nil || v.Generation == nil {
		return Status{}, fmt.Errorf("%w: status missing state, worker_id or generation: %s", ErrRecord, b)
	}
	s := Status{State: *v.State, WorkerID: *v.WorkerID, Generation: *v.Generation}
	if v.Trace != nil {
		s.Trace = *v.Trace
	}
	return s, nil
}

// TopicStatus records that a connector's task used a topic (KIP-558,
// GET /connectors/{c}/topics).
type TopicStatus struct {
	Topic             string
	Connector         string
	Task              int32
	DiscoverTimestamp int64 // ms
}

type topicStatusJSON struct {
	Name              string `json:"name"`
	Connector         string `json:"connector"`
	Task              int32  `json:"task"`
	DiscoverTimestamp int64  `json:"discoverTimestamp"`
}

func encodeTopicStatus(s TopicStatus) []byte {
	return marshalJSON(struct {
		Topic topicStatusJSON `json:"topic"`
	}{topicStatusJSON{s.Topic, s.Connector, s.Task, s.DiscoverTimestamp}})
}

func decodeTopicStatus(b []byte) (TopicStatus, error) {
	var v struct {
		Topic *topicStatusJSON `json:"topic"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Topic == nil {
		return TopicStatus{}, fmt.Errorf("%w: topic status: %s", ErrRecord, b)
	}
	t := v.Topic
	return TopicStatus{t.Name, t.Connector, t.Task, t.DiscoverTimestamp}, nil
}

// Offset topic records.

// encodeOffsetKey is ["<connector>",{partition}].
func encodeOffsetKey(connector string, partition map[string]any) []byte {
	return marshalJSON([]any{connector, partition})
}

// decodeOffsetKey parses ["<connector>",{partition}]; a null partition is
// kept as nil.
func decodeOffsetKey(b []byte) (string, map[string]any, error) {
	v, err := unmarshalJSON(b)
	if err != nil {
		return "", nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return "", nil, fmt.Errorf("%w: offset key %s is not [connector, partition]", ErrRecord, b)
	}
	name, ok := arr[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("%w: offset key %s: connector is not a string", ErrRecord, b)
	}
	if arr[1] == nil {
		return name, nil, nil
	}
	p, ok := arr[1].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("%w: offset key %s: partition is not an object", ErrRecord, b)
	}
	return name, p, nil
}

// encodeOffsetValue returns nil (a tombstone) for a nil offset.
func encodeOffsetValue(offset map[string]any) []byte {
	if offset == nil {
		return nil
	}
	return marshalJSON(offset)
}

func decodeOffsetValue(b []byte) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	v, err := unmarshalJSON(b)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: offset %s is not an object", ErrRecord, b)
	}
	return m, nil
}
