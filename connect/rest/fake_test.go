package rest

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"sort"

	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
)

// fakeHerder is an in-memory Herder with Kafka's error messages, for the
// golden tests of the REST layer.
type fakeHerder struct {
	conns     map[string]*fakeConn
	registry  *connect.Registry
	loggers   *connect.Loggers
	notLeader *connect.NotLeaderError // every write answers this when set
	health    error
	offsets   []connect.ConnectorOffset
}

type fakeConn struct {
	config map[string]string
	typ    connect.ConnectorType
	target connect.TargetState
	status connect.ConnectorStateInfo
	tasks  []connect.TaskInfo
	topics []string
}

func newFakeHerder() *fakeHerder {
	reg := connect.NewRegistry()
	reg.RegisterConnector("org.apache.kafka.connect.file.FileStreamSourceConnector", func() connector.Connector { return fakeSource{} })
	reg.RegisterConnector("org.apache.kafka.connect.file.FileStreamSinkConnector", func() connector.Connector { return fakeSink{} })
	h := &fakeHerder{conns: map[string]*fakeConn{}, registry: reg, loggers: connect.NewLoggers(nil)}
	h.add("local-file-source", map[string]string{
		"connector.class": "FileStreamSource", "file": "test.txt", "topic": "connect-test", "tasks.max": "1", "name": "local-file-source",
	}, connect.TypeSource, connect.StateRunning, "")
	h.add("local-file-sink", map[string]string{
		"connector.class": "FileStreamSink", "file": "test.sink.txt", "topics": "connect-test", "tasks.max": "1", "name": "local-file-sink",
	}, connect.TypeSink, connect.StateFailed, "java.lang.Exception: disk full\n")
	h.offsets = []connect.ConnectorOffset{{
		Partition: map[string]any{"filename": "test.txt"},
		Offset:    map[string]any{"position": 30},
	}}
	return h
}

func (h *fakeHerder) add(name string, config map[string]string, typ connect.ConnectorType, taskState connect.State, trace string) *fakeConn {
	c := &fakeConn{config: config, typ: typ, target: connect.TargetStarted}
	c.tasks = []connect.TaskInfo{{ID: connect.TaskID{Connector: name, Task: 0}, Config: maps.Clone(config)}}
	c.status = connect.ConnectorStateInfo{
		Name:      name,
		Connector: connect.ConnectorState{State: connect.StateRunning, WorkerID: "127.0.0.1:8083"},
		Tasks:     []connect.TaskState{{ID: 0, State: taskState, WorkerID: "127.0.0.1:8083", Trace: trace}},
		Type:      typ,
	}
	c.topics = []string{"connect-test"}
	h.conns[name] = c
	return c
}

func (h *fakeHerder) conn(name string) (*fakeConn, error) {
	c, ok := h.conns[name]
	if !ok {
		return nil, connect.Errorf(http.StatusNotFound, "Connector %s not found", name)
	}
	return c, nil
}

func (h *fakeHerder) info(name string, c *fakeConn) connect.ConnectorInfo {
	ids := []connect.TaskID{}
	for _, t := range c.tasks {
		ids = append(ids, t.ID)
	}
	return connect.ConnectorInfo{Name: name, Config: c.config, Tasks: ids, Type: c.typ}
}

func (h *fakeHerder) KafkaClusterID() string                                      { return "Yx3qAvcXQWuX1ErgFxp0uA" }
func (h *fakeHerder) Health(context.Context) error                                { return h.health }
func (h *fakeHerder) Plugins() *connect.Registry                                  { return h.registry }
func (h *fakeHerder) Loggers() *connect.Loggers                                   { return h.loggers }
func (h *fakeHerder) SetClusterLoggerLevel(context.Context, string, string) error { return nil }

func (h *fakeHerder) Connectors(context.Context) ([]string, error) {
	names := slices.Collect(maps.Keys(h.conns))
	sort.Strings(names)
	return names, nil
}

func (h *fakeHerder) ConnectorInfo(_ context.Context, name string) (connect.ConnectorInfo, error) {
	c, err := h.conn(name)
	if err != nil {
		return connect.ConnectorInfo{}, err
	}
	return h.info(name, c), nil
}

func (h *fakeHerder) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	c, err := h.conn(name)
	if err != nil {
		return nil, err
	}
	return c.config, nil
}

func (h *fakeHerder) PutConnectorConfig(_ context.Context, name string, config map[string]string, initial connect.TargetState, allowReplace bool) (connect.ConnectorInfo, bool, error) {
	if h.notLeader != nil {
		return connect.ConnectorInfo{}, false, h.notLeader
	}
	if name == "" {
		return connect.ConnectorInfo{}, false, connect.Errorf(400, "Connector configuration is invalid and contains the following 1 error(s):\nConnector name must not be empty\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	}
	class, ok := config["connector.class"]
	if !ok {
		return connect.ConnectorInfo{}, false, connect.Errorf(400, "Connector config contains no connector type (connector.class)")
	}
	_, kind, ok := h.registry.Class(class)
	if !ok {
		return connect.ConnectorInfo{}, false, connect.Errorf(400, "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value %s for configuration connector.class: Class %s could not be found.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`", class, class)
	}
	_, exists := h.conns[name]
	if exists && !allowReplace {
		return connect.ConnectorInfo{}, false, connect.Errorf(409, "Connector %s already exists", name)
	}
	c := h.add(name, config, connect.ConnectorType(kind), connect.StateRunning, "")
	if initial != "" {
		c.target = initial
	}
	return h.info(name, c), !exists, nil
}

func (h *fakeHerder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (connect.ConnectorInfo, error) {
	c, err := h.conn(name)
	if err != nil {
		return connect.ConnectorInfo{}, err
	}
	for k, v := range patch {
		if v == nil {
			delete(c.config, k)
		} else {
			c.config[k] = *v
		}
	}
	return h.info(name, c), nil
}

func (h *fakeHerder) DeleteConnector(_ context.Context, name string) error {
	if h.notLeader != nil {
		return h.notLeader
	}
	if _, err := h.conn(name); err != nil {
		return err
	}
	delete(h.conns, name)
	return nil
}

func (h *fakeHerder) ConnectorStatus(_ context.Context, name string) (connect.ConnectorStateInfo, error) {
	c, ok := h.conns[name]
	if !ok {
		return connect.ConnectorStateInfo{}, connect.Errorf(404, "No status found for connector %s", name)
	}
	return c.status, nil
}

func (h *fakeHerder) TaskStatus(_ context.Context, id connect.TaskID) (connect.TaskState, error) {
	if c, ok := h.conns[id.Connector]; ok {
		for _, t := range c.status.Tasks {
			if t.ID == id.Task {
				return t, nil
			}
		}
	}
	return connect.TaskState{}, connect.Errorf(404, "No status found for task %s", id)
}

func (h *fakeHerder) TaskConfigs(_ context.Context, name string) ([]connect.TaskInfo, error) {
	c, err := h.conn(name)
	if err != nil {
		return nil, err
	}
	return c.tasks, nil
}

func (h *fakeHerder) RestartConnector(_ context.Context, name string) error {
	_, err := h.conn(name)
	return err
}

func (h *fakeHerder) RestartConnectorAndTasks(_ context.Context, req connect.RestartRequest) (connect.ConnectorStateInfo, error) {
	c, ok := h.conns[req.Connector]
	if !ok {
		return connect.ConnectorStateInfo{}, connect.Errorf(404, "Unknown connector: %s", req.Connector)
	}
	st := c.status
	st.Tasks = slices.Clone(st.Tasks)
	if req.ShouldRestartConnector(st.Connector.State) {
		st.Connector.State = connect.StateRestarting
	}
	for i := range st.Tasks {
		if req.ShouldRestartTask(st.Tasks[i].State) {
			st.Tasks[i].State = connect.StateRestarting
		}
	}
	return st, nil
}

func (h *fakeHerder) RestartTask(_ context.Context, id connect.TaskID) error {
	c, err := h.conn(id.Connector)
	if err != nil {
		return err
	}
	if id.Task >= len(c.tasks) {
		return connect.Errorf(404, "Task %s not found", id)
	}
	return nil
}

func (h *fakeHerder) setTarget(name string, t connect.TargetState) error {
	c, ok := h.conns[name]
	if !ok {
		return connect.Errorf(404, "Unknown connector %s", name)
	}
	c.target = t
	return nil
}

func (h *fakeHerder) PauseConnector(_ context.Context, name string) error {
	return h.setTarget(name, connect.TargetPaused)
}
func (h *fakeHerder) ResumeConnector(_ context.Context, name string) error {
	return h.setTarget(name, connect.TargetStarted)
}
func (h *fakeHerder) StopConnector(_ context.Context, name string) error {
	return h.setTarget(name, connect.TargetStopped)
}

func (h *fakeHerder) ConnectorActiveTopics(_ context.Context, name string) ([]string, error) {
	c, ok := h.conns[name]
	if !ok {
		return nil, nil
	}
	return c.topics, nil
}

func (h *fakeHerder) ResetConnectorActiveTopics(_ context.Context, name string) error {
	if c, ok := h.conns[name]; ok {
		c.topics = nil
	}
	return nil
}

func (h *fakeHerder) ConnectorOffsets(_ context.Context, name string) (connect.ConnectorOffsets, error) {
	if _, err := h.conn(name); err != nil {
		return connect.ConnectorOffsets{}, err
	}
	return connect.ConnectorOffsets{Offsets: h.offsets}, nil
}

func (h *fakeHerder) modifiable(name string) error {
	c, err := h.conn(name)
	if err != nil {
		return err
	}
	if c.target != connect.TargetStopped {
		return connect.Errorf(400, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return nil
}

func (h *fakeHerder) AlterConnectorOffsets(_ context.Context, name string, offsets []connect.ConnectorOffset) (string, error) {
	if err := h.modifiable(name); err != nil {
		return "", err
	}
	h.offsets = offsets
	return "The offsets for this connector have been altered successfully", nil
}

func (h *fakeHerder) ResetConnectorOffsets(_ context.Context, name string) (string, error) {
	if err := h.modifiable(name); err != nil {
		return "", err
	}
	h.offsets = nil
	return "The offsets for this connector have been reset successfully", nil
}

var fakeDef = configdef.New().
	Define(configdef.Key{Name: "file", Type: configdef.String, Default: "", Importance: configdef.High, Documentation: "Source filename. If not specified, the standard input will be used"}).
	Define(configdef.Key{Name: "topic", Type: configdef.List, Default: configdef.NoDefault, Importance: configdef.High, Documentation: "The topic to publish data to"})

func (h *fakeHerder) ConnectorPluginConfig(_ context.Context, plugin string) ([]configdef.KeyInfo, error) {
	if _, _, ok := h.registry.Class(plugin); !ok {
		return nil, connect.Errorf(404, "Unknown plugin %s.", plugin)
	}
	return fakeDef.KeyInfos(), nil
}

func (h *fakeHerder) ValidateConnectorConfig(_ context.Context, config map[string]string) (configdef.Infos, error) {
	class, ok := config["connector.class"]
	if !ok {
		return configdef.Infos{}, connect.Errorf(400, "Connector config contains no connector type (connector.class)")
	}
	full, _, _ := h.registry.Class(class)
	return configdef.NewInfos(full, fakeDef, fakeDef.Validate(config)), nil
}

type fakeSource struct{ fakeConnector }

func (fakeSource) NewTask() connector.SourceTask { return nil }

type fakeSink struct{ fakeConnector }

func (fakeSink) NewTask() connector.SinkTask { return nil }

type fakeConnector struct{}

func (fakeConnector) Version() string                                           { return "3.9.0" }
func (fakeConnector) ConfigDef() *configdef.Def                                 { return fakeDef }
func (fakeConnector) Start(connector.ConnectorContext, map[string]string) error { return nil }
func (fakeConnector) TaskConfigs(int) ([]map[string]string, error)              { return nil, nil }
func (fakeConnector) Stop() error                                               { return nil }
