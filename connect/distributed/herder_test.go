package distributed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
)

// testSource is a source connector plugin for the registry; the fake
// runner never runs it.
type testSource struct{}

func (testSource) Version() string                                           { return "1.0" }
func (testSource) ConfigDef() *configdef.Def                                 { return configdef.New() }
func (testSource) Start(connector.ConnectorContext, map[string]string) error { return nil }
func (testSource) TaskConfigs(int) ([]map[string]string, error)              { return nil, nil }
func (testSource) Stop() error                                               { return nil }
func (testSource) NewTask() connector.SourceTask                             { return nil }

// fakeRunner records what the herder runs and reports RUNNING/PAUSED
// like a worker.
type fakeRunner struct {
	h      *Herder
	mu     sync.Mutex
	starts map[string]int // connector or task → times started
	// connector → target; task → config
	conns map[string]connect.TargetState
	tasks map[connect.TaskID]map[string]string
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{conns: map[string]connect.TargetState{}, tasks: map[connect.TaskID]map[string]string{}, starts: map[string]int{}}
}

func stateFor(t connect.TargetState) connect.State {
	switch t {
	case connect.TargetPaused:
		return connect.StatePaused
	case connect.TargetStopped:
		return connect.StateStopped
	}
	return connect.StateRunning
}

func (r *fakeRunner) StartConnector(name string, props map[string]string, target connect.TargetState) error {
	r.mu.Lock()
	r.conns[name] = target
	r.starts[name]++
	r.mu.Unlock()
	r.h.ConnectorState(name, stateFor(target), "")
	return nil
}

func (r *fakeRunner) ConnectorTaskConfigs(name string) ([]map[string]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.conns[name]; !ok {
		return nil, fmt.Errorf("connector %s not running", name)
	}
	n := 1
	// tasks.max is read from the stored config, as a connector would.
	cfg := r.h.configs.Snapshot().Connectors[name]
	if v, err := strconv.Atoi(cfg["tasks.max"]); err == nil {
		n = v
	}
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"task": strconv.Itoa(i), "file": cfg["file"]}
	}
	return out, nil
}

func (r *fakeRunner) StopConnector(name string) {
	r.mu.Lock()
	delete(r.conns, name)
	r.mu.Unlock()
	r.h.ConnectorState(name, connect.StateUnassigned, "")
}

func (r *fakeRunner) StartTask(id connect.TaskID, _, taskProps map[string]string, target connect.TargetState) error {
	r.mu.Lock()
	r.tasks[id] = taskProps
	r.starts[id.String()]++
	r.mu.Unlock()
	r.h.TaskState(id, stateFor(target), "")
	return nil
}

func (r *fakeRunner) StopTasks(ids ...connect.TaskID) {
	r.mu.Lock()
	for _, id := range ids {
		delete(r.tasks, id)
	}
	r.mu.Unlock()
}

func (r *fakeRunner) SetTargetState(name string, target connect.TargetState) error {
	r.mu.Lock()
	if _, ok := r.conns[name]; ok {
		r.conns[name] = target
	}
	r.mu.Unlock()
	r.h.ConnectorState(name, stateFor(target), "")
	return nil
}

func (r *fakeRunner) ConnectorOffsets(ctx context.Context, name string, _ map[string]string) (connect.ConnectorOffsets, error) {
	offs, err := r.h.OffsetStore().Offsets(ctx, name)
	return connect.ConnectorOffsets{Offsets: offs}, err
}

func (r *fakeRunner) ModifyConnectorOffsets(ctx context.Context, name string, _ map[string]string, offsets []connect.ConnectorOffset) (string, error) {
	if offsets == nil {
		cur, err := r.h.OffsetStore().Offsets(ctx, name)
		if err != nil {
			return "", err
		}
		for _, o := range cur {
			offsets = append(offsets, connect.ConnectorOffset{Partition: o.Partition})
		}
		return "reset", r.h.OffsetStore().Write(ctx, name, offsets)
	}
	return "altered", r.h.OffsetStore().Write(ctx, name, offsets)
}

// started returns how often an instance was started on this runner.
func (r *fakeRunner) started(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.starts[name]
}

func (r *fakeRunner) work() (conns []string, tasks []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		conns = append(conns, c)
	}
	for id := range r.tasks {
		tasks = append(tasks, id.String())
	}
	slices.Sort(conns)
	slices.Sort(tasks)
	return conns, tasks
}

type testWorker struct {
	h      *Herder
	r      *fakeRunner
	cancel context.CancelFunc
	done   chan error
}

func startHerder(t *testing.T, addr string, n int) *testWorker {
	t.Helper()
	reg := connect.NewRegistry()
	if err := reg.RegisterConnector("com.example.TestSourceConnector", func() connector.Connector { return testSource{} }); err != nil {
		t.Fatal(err)
	}
	wc, err := connect.ParseWorkerConfig(map[string]string{
		"bootstrap.servers":                 addr,
		"group.id":                          "connect-test",
		"config.storage.topic":              "connect-configs",
		"offset.storage.topic":              "connect-offsets",
		"status.storage.topic":              "connect-status",
		"config.storage.replication.factor": "-1",
		"offset.storage.replication.factor": "-1",
		"status.storage.replication.factor": "-1",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
		"session.timeout.ms":                "6000",
		"heartbeat.interval.ms":             "500",
		"rebalance.timeout.ms":              "10000",
	}, connect.ModeDistributed)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("127.0.0.1:%d", 18000+n)
	h, err := New(Config{Worker: wc, URL: "http://" + id + "/", WorkerID: id,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(addr)}, Registry: reg, Loggers: connect.NewLoggers(nil)})
	if err != nil {
		t.Fatal(err)
	}
	r := newFakeRunner()
	r.h = h
	ctx, cancel := context.WithCancel(context.Background())
	w := &testWorker{h: h, r: r, cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- h.Run(ctx, r) }()
	t.Cleanup(w.stop)
	return w
}

func (w *testWorker) stop() {
	w.cancel()
	<-w.done
	w.done <- nil // let a second stop return
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two workers against one broker: only the leader takes writes (the other
// names it), the work is split with every task run once, target states
// reach the instances, offsets can be changed only when STOPPED, and when
// a worker leaves its work moves to the other.
func TestHerdersShareWork(t *testing.T) {
	srv := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w1 := startHerder(t, srv.Addr, 1)
	w2 := startHerder(t, srv.Addr, 2)
	workers := []*testWorker{w1, w2}
	eventually(t, "both workers joined", func() bool {
		return w1.h.Health(ctx) == nil && w2.h.Health(ctx) == nil
	})
	cfg := map[string]string{"name": "src", "connector.class": "TestSource", "tasks.max": "3", "file": "/tmp/in"}
	var leader, follower *testWorker
	eventually(t, "a stable leader", func() bool {
		for _, w := range workers {
			_, _, err := w.h.PutConnectorConfig(ctx, "src", cfg, "", false)
			var nl *connect.NotLeaderError
			switch {
			case err == nil:
				leader = w
			case errors.As(err, &nl) && nl.URL != "":
				follower = w
			}
		}
		return leader != nil && follower != nil
	})
	if _, _, err := follower.h.PutConnectorConfig(ctx, "other", cfg, "", false); err == nil {
		t.Fatal("a follower accepted a config write")
	} else if nl := new(connect.NotLeaderError); !errors.As(err, &nl) || nl.URL != leader.h.cfg.URL {
		t.Fatalf("follower answered %v, want NotLeaderError naming %s", err, leader.h.cfg.URL)
	}
	if _, _, err := leader.h.PutConnectorConfig(ctx, "src", cfg, "", false); connect.StatusCode(err) != http.StatusConflict {
		t.Errorf("second create: %v, want 409", err)
	}

	all := []string{"src-0", "src-1", "src-2"}
	split := func() bool {
		c1, t1 := w1.r.work()
		c2, t2 := w2.r.work()
		tasks := slices.Sorted(slices.Values(append(slices.Clone(t1), t2...)))
		return len(c1)+len(c2) == 1 && slices.Equal(tasks, all)
	}
	eventually(t, "the connector and its three tasks running once each", split)

	st, err := follower.h.ConnectorStatus(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "statuses of every task", func() bool {
		st, err = follower.h.ConnectorStatus(ctx, "src")
		if err != nil || st.Connector.State != connect.StateRunning || len(st.Tasks) != 3 {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != connect.StateRunning || ts.WorkerID == "" {
				return false
			}
		}
		return true
	})
	tasks, err := follower.h.TaskConfigs(ctx, "src")
	if err != nil || len(tasks) != 3 || tasks[2].Config["task"] != "2" {
		t.Fatalf("task configs %v %v", tasks, err)
	}

	// A restart request is written by the leader and carried out by the
	// workers running the instances; a task restart goes to its owner.
	owner := func(task string) *testWorker {
		for _, w := range workers {
			if _, ts := w.r.work(); slices.Contains(ts, task) {
				return w
			}
		}
		return nil
	}
	w0 := owner("src-0")
	before := w0.r.started("src-0")
	info, err := follower.h.RestartConnectorAndTasks(ctx, connect.RestartRequest{Connector: "src", IncludeTasks: true})
	var nl *connect.NotLeaderError
	if !errors.As(err, &nl) {
		t.Fatalf("restart on a follower: %v, want NotLeaderError", err)
	}
	info, err = leader.h.RestartConnectorAndTasks(ctx, connect.RestartRequest{Connector: "src", IncludeTasks: true})
	if err != nil || info.Connector.State != connect.StateRestarting || len(info.Tasks) != 3 || info.Tasks[1].State != connect.StateRestarting {
		t.Fatalf("restart answered %+v %v", info, err)
	}
	eventually(t, "src-0 restarted by its worker", func() bool { return w0.r.started("src-0") > before })
	other := leader
	if w0 == leader {
		other = follower
	}
	if err := other.h.RestartTask(ctx, connect.TaskID{Connector: "src", Task: 0}); !errors.As(err, &nl) || nl.URL != "http://"+w0.h.cfg.WorkerID {
		t.Errorf("task restart on a worker not running it: %v, want a NotLeaderError naming its owner", err)
	}
	before = w0.r.started("src-0")
	if err := w0.h.RestartTask(ctx, connect.TaskID{Connector: "src", Task: 0}); err != nil {
		t.Fatal(err)
	}
	if w0.r.started("src-0") != before+1 {
		t.Errorf("task restart on its owner did not restart it")
	}
	eventually(t, "everything running again", split)

	// Pause reaches the running connector, from either worker.
	if err := follower.h.PauseConnector(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the connector paused", func() bool {
		st, err := leader.h.ConnectorStatus(ctx, "src")
		return err == nil && st.Connector.State == connect.StatePaused
	})
	if err := follower.h.ResumeConnector(ctx, "src"); err != nil {
		t.Fatal(err)
	}

	// Offsets may only change when STOPPED.
	offs := []connect.ConnectorOffset{{Partition: map[string]any{"filename": "/tmp/in"}, Offset: map[string]any{"position": int64(42)}}}
	if _, err := leader.h.AlterConnectorOffsets(ctx, "src", offs); connect.StatusCode(err) != http.StatusBadRequest {
		t.Errorf("alter offsets of a running connector: %v, want 400", err)
	}
	if err := leader.h.StopConnector(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every task stopped", func() bool {
		_, t1 := w1.r.work()
		_, t2 := w2.r.work()
		return len(t1)+len(t2) == 0
	})
	// The stop rebalances the group: writes answer 409 until it is done.
	var msg string
	eventually(t, "offsets altered", func() bool {
		msg, err = leader.h.AlterConnectorOffsets(ctx, "src", offs)
		return connect.StatusCode(err) != http.StatusConflict
	})
	if err != nil || msg != "altered" {
		t.Fatalf("alter offsets: %q %v", msg, err)
	}
	got, err := follower.h.ConnectorOffsets(ctx, "src")
	if err != nil || !reflect.DeepEqual(got.Offsets, offs) {
		t.Fatalf("offsets %v %v, want %v", got, err, offs)
	}
	if _, err := leader.h.ResetConnectorOffsets(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	if got, err := follower.h.ConnectorOffsets(ctx, "src"); err != nil || len(got.Offsets) != 0 {
		t.Fatalf("offsets after reset %v %v", got, err)
	}
	if err := leader.h.ResumeConnector(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tasks back after resuming a stopped connector", split)

	// The follower leaves: the leader runs everything.
	follower.stop()
	eventually(t, "the remaining worker running everything", func() bool {
		c, ts := leader.r.work()
		return slices.Equal(c, []string{"src"}) && slices.Equal(ts, all)
	})

	// Delete stops everything and removes the statuses.
	if err := leader.h.DeleteConnector(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted connector stopped", func() bool {
		c, ts := leader.r.work()
		return len(c) == 0 && len(ts) == 0
	})
	eventually(t, "the deleted connector's status gone", func() bool {
		_, err := leader.h.ConnectorStatus(ctx, "src")
		return connect.StatusCode(err) == http.StatusNotFound
	})
	if _, err := leader.h.ConnectorInfo(ctx, "src"); connect.StatusCode(err) != http.StatusNotFound {
		t.Errorf("info of deleted connector: %v", err)
	}
}

// A worker that lost an instance in a rebalance must not overwrite the
// status the new owner wrote in a later generation.
func TestStatusSuperseded(t *testing.T) {
	for _, tc := range []struct {
		cur, next Status
		want      bool
	}{
		{Status{"RUNNING", "", "b:1", 5}, Status{"UNASSIGNED", "", "a:1", 4}, true},
		{Status{"RUNNING", "", "a:1", 5}, Status{"UNASSIGNED", "", "a:1", 4}, false}, // its own
		{Status{"RUNNING", "", "b:1", 4}, Status{"RUNNING", "", "a:1", 5}, false},    // newer
		{Status{"RUNNING", "", "b:1", 5}, Status{"FAILED", "x", "a:1", 5}, false},    // same generation
	} {
		if got := superseded(tc.cur, tc.next); got != tc.want {
			t.Errorf("superseded(%+v, %+v) = %v, want %v", tc.cur, tc.next, got, tc.want)
		}
	}
}
