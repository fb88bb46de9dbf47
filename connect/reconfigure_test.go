package connect_test

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// idleSource makes as many tasks as its shared "want" says (ignoring
// tasks.max, to test its enforcement); the tasks produce nothing.
type idleSource struct {
	shared *idleShared
	props  map[string]string
}

type idleShared struct {
	mu   sync.Mutex
	want int
	ctx  connector.ConnectorContext
}

func (s *idleSource) Version() string           { return "1" }
func (s *idleSource) ConfigDef() *configdef.Def { return configdef.New() }
func (s *idleSource) Start(ctx connector.ConnectorContext, props map[string]string) error {
	s.props = props
	s.shared.mu.Lock()
	s.shared.ctx = ctx
	s.shared.mu.Unlock()
	return nil
}
func (s *idleSource) TaskConfigs(max int) ([]map[string]string, error) {
	s.shared.mu.Lock()
	defer s.shared.mu.Unlock()
	var out []map[string]string
	for i := range s.shared.want {
		c := maps.Clone(s.props)
		c["slice"] = strconv.Itoa(i)
		out = append(out, c)
	}
	return out, nil
}
func (s *idleSource) Stop() error                   { return nil }
func (s *idleSource) NewTask() connector.SourceTask { return idleTask{} }

type idleTask struct{}

func (idleTask) Version() string                                            { return "1" }
func (idleTask) Start(connector.SourceTaskContext, map[string]string) error { return nil }
func (idleTask) Poll(ctx context.Context) ([]connector.SourceRecord, error) {
	<-ctx.Done()
	return nil, nil
}
func (idleTask) Commit() error                                    { return nil }
func (idleTask) CommitRecord(connector.SourceRecord, int64) error { return nil }
func (idleTask) Stop() error                                      { return nil }

// TestTaskReconfiguration: tasks follow the connector's TaskConfigs, also
// when the connector asks for a reconfiguration, and a connector making
// more tasks than tasks.max fails (tasks.max.enforce).
func TestTaskReconfiguration(t *testing.T) {
	shared := &idleShared{want: 2}
	reg := connect.NewRegistry()
	if err := reg.RegisterConnector("test.IdleSourceConnector", func() connector.Connector { return &idleSource{shared: shared} }); err != nil {
		t.Fatal(err)
	}
	cfg, _ := connect.ParseWorkerConfig(map[string]string{"bootstrap.servers": "127.0.0.1:1",
		"key.converter": "x", "value.converter": "x", "offset.storage.file.filename": "x"}, connect.ModeStandalone)
	if err := reg.RegisterConverter("x", func() connector.Converter { return nopConverter{} }); err != nil {
		t.Fatal(err)
	}
	h, err := connect.NewStandalone(connect.WorkerOptions{Config: cfg, ID: "w1", Registry: reg, Offsets: connect.NewMemoryOffsetStore()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := t.Context()
	props := map[string]string{"name": "idle", "connector.class": "IdleSource", "tasks.max": "3"}
	info, _, err := h.PutConnectorConfig(ctx, "idle", props, "", false)
	if err != nil || len(info.Tasks) != 2 {
		t.Fatalf("create: %+v %v", info, err)
	}
	tasks, _ := h.TaskConfigs(ctx, "idle")
	if len(tasks) != 2 || tasks[1].Config["slice"] != "1" || tasks[1].Config["task.class"] != "test.IdleSourceTask" {
		t.Fatalf("task configs = %+v", tasks)
	}
	waitFor(t, "2 running tasks", func() bool {
		st, _ := h.ConnectorStatus(ctx, "idle")
		return len(st.Tasks) == 2 && st.Tasks[0].State == connect.StateRunning && st.Tasks[1].State == connect.StateRunning
	})

	shared.mu.Lock()
	shared.want = 3
	cctx := shared.ctx
	shared.mu.Unlock()
	cctx.RequestTaskReconfiguration()
	waitFor(t, "3 tasks after the reconfiguration", func() bool {
		st, _ := h.ConnectorStatus(ctx, "idle")
		return len(st.Tasks) == 3
	})

	shared.mu.Lock()
	shared.want = 4
	shared.mu.Unlock()
	cctx.RequestTaskReconfiguration()
	waitFor(t, "the connector failed for too many tasks", func() bool {
		st, _ := h.ConnectorStatus(ctx, "idle")
		return st.Connector.State == connect.StateFailed && strings.Contains(st.Connector.Trace, "has generated 4 tasks, which is greater than 3")
	})
}

type nopConverter struct{}

func (nopConverter) Configure(map[string]string, bool) error { return nil }
func (nopConverter) FromConnectData(string, []connector.Header, *data.Schema, any) ([]byte, error) {
	return nil, nil
}
func (nopConverter) ToConnectData(string, []connector.Header, []byte) (*data.Schema, any, error) {
	return nil, nil, nil
}
