package distributed

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The bytes Kafka Connect writes for each internal record, as a Java worker
// would read and write them.
func TestRecordGolden(t *testing.T) {
	for _, tc := range []struct {
		name, key, got, want string
	}{
		{"connector", connectorKey("local-file-source"),
			string(encodeProperties(map[string]string{"name": "local-file-source", "file": "/tmp/a&b<c>.txt", "connector.class": "FileStreamSource", "tasks.max": "1"})),
			`{"properties":{"connector.class":"FileStreamSource","file":"/tmp/a&b<c>.txt","name":"local-file-source","tasks.max":"1"}}`},
		{"task", taskKey(TaskID{"my-conn", 3}), string(encodeProperties(map[string]string{"topic": "t"})), `{"properties":{"topic":"t"}}`},
		{"commit", commitKey("my-conn"), string(encodeCommit(4)), `{"tasks":4}`},
		{"started", targetStateKey("c"), string(encodeTargetState(TargetStarted)), `{"state":"STARTED","state.v2":"STARTED"}`},
		{"paused", targetStateKey("c"), string(encodeTargetState(TargetPaused)), `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{"stopped", targetStateKey("c"), string(encodeTargetState(TargetStopped)), `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"restart", restartKey("c"), string(encodeRestart(RestartRequest{"c", true, false})), `{"include-tasks":true,"only-failed":false}`},
		{"connector status", statusConnectorKey("c"), string(encodeStatus(Status{"RUNNING", "", "127.0.0.1:8083", 2})),
			`{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":2}`},
		{"task status", statusTaskKey(TaskID{"c", 0}), string(encodeStatus(Status{"FAILED", "boom\n\tat x", "w:1", 7})),
			`{"state":"FAILED","trace":"boom\n\tat x","worker_id":"w:1","generation":7}`},
		{"topic status", statusTopicKey("t", "c"), string(encodeTopicStatus(TopicStatus{"t", "c", 0, 1700000000000})),
			`{"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1700000000000}}`},
		{"offset", string(encodeOffsetKey("src", map[string]any{"filename": "/tmp/ü.txt"})),
			string(encodeOffsetValue(map[string]any{"position": int64(1234567890123)})), `{"position":1234567890123}`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: value %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	keys := map[string]string{
		connectorKey("a-b"):           "connector-a-b",
		taskKey(TaskID{"a-b", 10}):    "task-a-b-10",
		commitKey("a"):                "commit-a",
		targetStateKey("a"):           "target-state-a",
		restartKey("a"):               "restart-connector-a",
		statusConnectorKey("a"):       "status-connector-a",
		statusTaskKey(TaskID{"a", 1}): "status-task-a-1",
		statusTopicKey("orders", "a"): "status-topic-orders:connector-a",
		string(encodeOffsetKey("src", map[string]any{"filename": "/tmp/ü.txt"})): `["src",{"filename":"/tmp/ü.txt"}]`,
		string(encodeOffsetKey("src", map[string]any{"b": int64(1), "a": "x"})):  `["src",{"a":"x","b":1}]`,
	}
	for got, want := range keys {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	if encodeOffsetValue(nil) != nil {
		t.Error("a nil offset must be a tombstone")
	}
}

// Values written by Kafka's Java worker decode to what they mean.
func TestDecodeJavaRecords(t *testing.T) {
	props, err := decodeProperties([]byte(`{"properties":{"a":"1","n":null}}`))
	if err != nil || !reflect.DeepEqual(props, map[string]string{"a": "1"}) {
		t.Errorf("properties %v, %v", props, err)
	}
	for in, want := range map[string]string{
		`{"state":"PAUSED","state.v2":"STOPPED"}`: TargetStopped,
		`{"state":"PAUSED"}`:                      TargetPaused,
		`{"state":"STARTED","state.v2":null}`:     TargetStarted,
	} {
		if got, err := decodeTargetState([]byte(in)); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	st, err := decodeStatus([]byte(`{"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":5}`))
	if err != nil || st != (Status{"RUNNING", "", "10.0.0.1:8083", 5}) {
		t.Errorf("status %+v, %v", st, err)
	}
	name, part, err := decodeOffsetKey([]byte(`["src",{"filename":"/f","n":12}]`))
	if err != nil || name != "src" || !reflect.DeepEqual(part, map[string]any{"filename": "/f", "n": int64(12)}) {
		t.Errorf("offset key %q %v %v", name, part, err)
	}
	off, err := decodeOffsetValue([]byte(`{"position":9007199254740993,"ratio":0.5}`))
	if err != nil || !reflect.DeepEqual(off, map[string]any{"position": int64(9007199254740993), "ratio": 0.5}) {
		t.Errorf("offset %v %v", off, err)
	}
	r, err := decodeRestart("c", []byte(`{"include-tasks":true,"only-failed":"yes"}`))
	if err != nil || r != (RestartRequest{"c", true, false}) {
		t.Errorf("restart %+v %v", r, err)
	}
	for _, bad := range []string{`{}`, `{"state":"RUNNING","worker_id":"w"}`, `[`} {
		if _, err := decodeStatus([]byte(bad)); !errors.Is(err, ErrRecord) {
			t.Errorf("status %s: %v, want ErrRecord", bad, err)
		}
	}
	for _, bad := range []string{`{"state":"RUNNING"}`, `{}`, `"x"`} {
		if _, err := decodeTargetState([]byte(bad)); !errors.Is(err, ErrRecord) {
			t.Errorf("target state %s: %v, want ErrRecord", bad, err)
		}
	}
	for _, bad := range []string{`["a"]`, `[1,{}]`, `["a",3]`, `{}`} {
		if _, _, err := decodeOffsetKey([]byte(bad)); !errors.Is(err, ErrRecord) {
			t.Errorf("offset key %s: %v, want ErrRecord", bad, err)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The config topic replayed in order gives the configs a Kafka worker
// would see, including task configs that wait for their commit and
// connectors deleted with tombstones.
func TestConfigStateReplay(t *testing.T) {
	type rec struct {
		key   string
		value []byte
	}
	recs := []rec{
		{connectorKey("a"), encodeProperties(map[string]string{"name": "a"})},
		{taskKey(TaskID{"a", 0}), encodeProperties(map[string]string{"t": "0"})},
		{taskKey(TaskID{"a", 1}), encodeProperties(map[string]string{"t": "1"})},
		{commitKey("a"), encodeCommit(2)},
		{targetStateKey("a"), encodeTargetState(TargetStopped)},
		{connectorKey("b"), encodeProperties(map[string]string{"name": "b"})},
		{taskKey(TaskID{"b", 0}), encodeProperties(map[string]string{"t": "b0"})}, // no commit yet
		{connectorKey("c"), encodeProperties(map[string]string{"name": "c"})},
		{commitKey("c"), encodeCommit(1)}, // task-c-0 compacted away
		{connectorKey("d"), encodeProperties(map[string]string{"name": "d"})},
		{connectorKey("d"), nil},
		{targetStateKey("d"), nil},
		{"session-key", []byte(`{"key":"x","algorithm":"HmacSHA256","creation-timestamp":1}`)},
		{targetStateKey("a"), []byte(`garbage`)},
	}
	c := newConfigState(discard())
	var events []configEventKind
	for i, r := range recs {
		if ev, ok := c.apply(r.key, r.value, int64(i)); ok {
			events = append(events, ev.kind)
		}
	}
	s := c.snapshot()
	if s.Offset != int64(len(recs)) {
		t.Errorf("offset %d, want %d", s.Offset, len(recs))
	}
	if got := s.TaskConfigs("a"); !reflect.DeepEqual(got, []map[string]string{{"t": "0"}, {"t": "1"}}) {
		t.Errorf("tasks of a: %v", got)
	}
	if s.TargetStates["a"] != TargetStopped || s.TargetStates["b"] != TargetStarted {
		t.Errorf("target states %v", s.TargetStates)
	}
	if got := s.TaskConfigs("b"); len(got) != 0 {
		t.Errorf("uncommitted tasks of b applied: %v", got)
	}
	if !s.Inconsistent["c"] || s.TaskConfigs("c") != nil {
		t.Errorf("c should be inconsistent: %v", s.Inconsistent)
	}
	if _, ok := s.Connectors["d"]; ok {
		t.Error("deleted connector d is still there")
	}
	if _, ok := s.TargetStates["d"]; ok {
		t.Error("deleted connector d still has a target state")
	}
	want := []configEventKind{eventConnectorConfig, eventTasks, eventTargetState, eventConnectorConfig,
		eventConnectorConfig, eventTasks, eventConnectorConfig, eventConnectorRemoved}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	// A new commit with fewer tasks drops the configs past it.
	c.apply(taskKey(TaskID{"a", 0}), encodeProperties(map[string]string{"t": "new"}), 100)
	c.apply(commitKey("a"), encodeCommit(1), 101)
	if got := c.snapshot().TaskConfigs("a"); !reflect.DeepEqual(got, []map[string]string{{"t": "new"}}) {
		t.Errorf("tasks of a after shrinking: %v", got)
	}
}

// Seeds in testdata/ hold one record value each; decoding never panics
// and what decodes re-encodes to a value that decodes the same.
func FuzzDecodeRecords(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/record-*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := decodeProperties(b); err == nil {
			if q, err := decodeProperties(encodeProperties(p)); err != nil || !reflect.DeepEqual(p, q) {
				t.Errorf("properties round trip: %v %v", q, err)
			}
		}
		if s, err := decodeStatus(b); err == nil {
			if s2, err := decodeStatus(encodeStatus(s)); err != nil || s2 != s {
				t.Errorf("status round trip: %+v %v", s2, err)
			}
		}
		if st, err := decodeTargetState(b); err == nil {
			if st2, err := decodeTargetState(encodeTargetState(st)); err != nil || st2 != st {
				t.Errorf("target state round trip: %q %v", st2, err)
			}
		}
		if name, p, err := decodeOffsetKey(b); err == nil {
			if n2, p2, err := decodeOffsetKey(encodeOffsetKey(name, p)); err != nil || n2 != name || !reflect.DeepEqual(p, p2) {
				t.Errorf("offset key round trip: %q %v %v", n2, p2, err)
			}
		}
		decodeOffsetValue(b)
		decodeCommit(b)
		decodeRestart("c", b)
		decodeTopicStatus(b)
	})
}
