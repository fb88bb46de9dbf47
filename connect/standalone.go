package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/runnel/runnel/connect/configdef"
)

// Standalone is the herder of a standalone worker: one process owns every
// connector and task. Connector configurations live in memory (given on
// the command line or through the REST API, as in Kafka), source offsets
// in the worker's OffsetStore (a FileOffsetStore), statuses in memory.
type Standalone struct {
	w       *Worker
	reg     *Registry
	log     *slog.Logger
	loggers *Loggers

	opMu  sync.Mutex // serializes herder operations, as Kafka's synchronized methods
	conns map[string]*standaloneConn

	stMu       sync.Mutex // guards the status store; never held across worker calls
	connStatus map[string]ConnectorState
	taskStatus map[TaskID]TaskState
	topics     map[string][]string
	clusterID  string
	ready      bool

	wg     sync.WaitGroup // reconfiguration goroutines
	ctx    context.Context
	cancel context.CancelFunc
}

type standaloneConn struct {
	config map[string]string
	target TargetState
	tasks  []map[string]string
}

// NewStandalone returns a standalone herder running its own Worker made
// from wo (its Status and Reconfigure are the herder's). logLevel is the
// level PUT /admin/loggers/root changes (nil = one of its own).
func NewStandalone(wo WorkerOptions, logLevel *slog.LevelVar) (*Standalone, error) {
	h := &Standalone{
		reg: wo.Registry, loggers: NewLoggers(logLevel),
		conns:      make(map[string]*standaloneConn),
		connStatus: make(map[string]ConnectorState),
		taskStatus: make(map[TaskID]TaskState),
		topics:     make(map[string][]string),
	}
	if wo.Logger == nil {
		wo.Logger = slog.New(slog.DiscardHandler)
	}
	// The herder and its worker log through the levels /admin/loggers sets.
	wo.Logger = slog.New(h.loggers.Handler(wo.Logger.Handler()))
	h.log = wo.Logger.With(LoggerAttr, LoggerStandaloneHerder)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	wo.Status = standaloneStatus{h}
	wo.Reconfigure = h.requestReconfiguration
	w, err := NewWorker(wo)
	if err != nil {
		return nil, err
	}
	h.w = w
	return h, nil
}

// Worker returns the herder's worker.
func (h *Standalone) Worker() *Worker { return h.w }

// Start asks the cluster for its ID and marks the herder ready.
func (h *Standalone) Start(ctx context.Context) error {
	id, err := h.w.KafkaClusterID(ctx)
	if err != nil {
		return err
	}
	h.stMu.Lock()
	h.clusterID, h.ready = id, true
	h.stMu.Unlock()
	return nil
}

// Close stops every connector and task and the worker.
func (h *Standalone) Close() {
	h.cancel()
	h.wg.Wait()
	h.opMu.Lock()
	defer h.opMu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(h.conns)) {
		h.stopTasks(name)
		h.w.StopConnector(name)
	}
	h.w.Close()
}

// standaloneStatus records the worker's status reports.
type standaloneStatus struct{ h *Standalone }

func (s standaloneStatus) ConnectorState(name string, state State, trace string) {
	s.h.stMu.Lock()
	defer s.h.stMu.Unlock()
	s.h.connStatus[name] = ConnectorState{State: state, WorkerID: s.h.w.ID(), Trace: trace}
}

func (s standaloneStatus) TaskState(id TaskID, state State, trace string) {
	s.h.stMu.Lock()
	defer s.h.stMu.Unlock()
	if _, ok := s.h.taskStatus[id]; !ok {
		return // deleted
	}
	s.h.taskStatus[id] = TaskState{ID: id.Task, State: state, WorkerID: s.h.w.ID(), Trace: trace}
}

func (s standaloneStatus) TopicUsed(connector, topic string) {
	s.h.stMu.Lock()
	defer s.h.stMu.Unlock()
	if !slices.Contains(s.h.topics[connector], topic) {
		s.h.topics[connector] = append(s.h.topics[connector], topic)
		slices.Sort(s.h.topics[connector])
	}
}

// requestReconfiguration recomputes a connector's tasks off the caller's
// goroutine (the connector's own).
func (h *Standalone) requestReconfiguration(name string) {
	if h.ctx.Err() != nil {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.opMu.Lock()
		defer h.opMu.Unlock()
		if h.ctx.Err() == nil {
			h.updateTasks(name)
		}
	}()
}

// KafkaClusterID implements Herder.
func (h *Standalone) KafkaClusterID() string {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	return h.clusterID
}

// Health implements Herder.
func (h *Standalone) Health(context.Context) error {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	if !h.ready {
		return Errorf(http.StatusServiceUnavailable, "Worker is still starting up.")
	}
	return nil
}

// Plugins implements Herder.
func (h *Standalone) Plugins() *Registry { return h.reg }

// Loggers implements Herder.
func (h *Standalone) Loggers() *Loggers { return h.loggers }

// SetClusterLoggerLevel implements Herder: this worker is the cluster.
func (h *Standalone) SetClusterLoggerLevel(_ context.Context, namespace, level string) error {
	_, err := h.loggers.Set(namespace, level)
	return err
}

// Connectors implements Herder.
func (h *Standalone) Connectors(context.Context) ([]string, error) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	return slices.Sorted(maps.Keys(h.conns)), nil
}

func (h *Standalone) infoLocked(name string) ConnectorInfo {
	c := h.conns[name]
	ids := make([]TaskID, len(c.tasks))
	for i := range c.tasks {
		ids[i] = TaskID{Connector: name, Task: i}
	}
	return ConnectorInfo{Name: name, Config: maps.Clone(c.config), Tasks: ids, Type: h.reg.ConnectorType(c.config)}
}

// ConnectorInfo implements Herder.
func (h *Standalone) ConnectorInfo(_ context.Context, name string) (ConnectorInfo, error) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	if h.conns[name] == nil {
		return ConnectorInfo{}, notFoundf("Connector %s not found", name)
	}
	return h.infoLocked(name), nil
}

// ConnectorConfig implements Herder.
func (h *Standalone) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	info, err := h.ConnectorInfo(ctx, name)
	return info.Config, err
}

// ValidateConnectorConfig implements Herder.
func (h *Standalone) ValidateConnectorConfig(_ context.Context, config map[string]string) (configdef.Infos, error) {
	return h.reg.Validate(config)
}

// ConnectorPluginConfig implements Herder.
func (h *Standalone) ConnectorPluginConfig(_ context.Context, plugin string) ([]configdef.KeyInfo, error) {
	return h.reg.PluginConfig(plugin)
}

// PutConnectorConfig implements Herder.
func (h *Standalone) PutConnectorConfig(_ context.Context, name string, config map[string]string, initial TargetState, allowReplace bool) (ConnectorInfo, bool, error) {
	infos, err := h.reg.Validate(config)
	if err != nil {
		return ConnectorInfo{}, false, err
	}
	if err := ConfigErrors(infos); err != nil {
		return ConnectorInfo{}, false, err
	}
	h.opMu.Lock()
	defer h.opMu.Unlock()
	old := h.conns[name]
	if old != nil && !allowReplace {
		return ConnectorInfo{}, false, conflictf("Connector %s already exists", name)
	}
	target := TargetStarted
	if old != nil {
		target = old.target
		h.stopTasks(name)
		h.w.StopConnector(name)
	} else if initial != "" {
		target = initial
	}
	h.conns[name] = &standaloneConn{config: maps.Clone(config), target: target}
	if err := h.startConnector(name); err != nil {
		return ConnectorInfo{}, false, err
	}
	return h.infoLocked(name), old == nil, nil
}

// PatchConnectorConfig implements Herder.
func (h *Standalone) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	h.opMu.Lock()
	c := h.conns[name]
	if c == nil {
		h.opMu.Unlock()
		return ConnectorInfo{}, notFoundf("Connector %s not found", name)
	}
	config := maps.Clone(c.config)
	h.opMu.Unlock()
	for k, v := range patch {
		if v == nil {
			delete(config, k)
		} else {
			config[k] = *v
		}
	}
	info, _, err := h.PutConnectorConfig(ctx, name, config, "", true)
	return info, err
}

// startConnector starts the connector instance and, when it runs, its
// tasks. Called with opMu held.
func (h *Standalone) startConnector(name string) error {
	c := h.conns[name]
	if err := h.w.StartConnector(name, c.config, c.target); err != nil {
		return err
	}
	if c.target == TargetStarted {
		h.updateTasks(name)
	}
	return nil
}

// updateTasks asks the running connector for its task configurations and,
// when they changed, replaces the tasks. Called with opMu held.
func (h *Standalone) updateTasks(name string) {
	c := h.conns[name]
	if c == nil || !h.w.IsRunning(name) || c.target != TargetStarted {
		return
	}
	configs, err := h.w.ConnectorTaskConfigs(name)
	if err != nil {
		h.log.Error("could not compute task configurations", "connector", name, "err", err)
		standaloneStatus{h}.ConnectorState(name, StateFailed, trace(err))
		return
	}
	if len(c.tasks) > 0 && slices.EqualFunc(configs, c.tasks, maps.Equal) && len(h.w.Tasks(name)) == len(c.tasks) {
		return
	}
	h.stopTasks(name)
	c.tasks = configs
	h.startTasks(name, nil)
}

// startTasks starts the connector's tasks (only ids when given).
func (h *Standalone) startTasks(name string, ids []int) {
	c := h.conns[name]
	for i, tc := range c.tasks {
		if ids != nil && !slices.Contains(ids, i) {
			continue
		}
		id := TaskID{Connector: name, Task: i}
		h.stMu.Lock()
		if _, ok := h.taskStatus[id]; !ok {
			h.taskStatus[id] = TaskState{ID: i, State: StateUnassigned, WorkerID: h.w.ID()}
		}
		h.stMu.Unlock()
		if err := h.w.StartTask(id, c.config, tc, c.target); err != nil {
			h.log.Error("task failed to start", "task", id.String(), "err", err)
		}
	}
}

// stopTasks stops the connector's tasks and forgets their statuses.
func (h *Standalone) stopTasks(name string) {
	h.w.StopTasks(h.w.Tasks(name)...)
	h.stMu.Lock()
	for id := range h.taskStatus {
		if id.Connector == name {
			delete(h.taskStatus, id)
		}
	}
	h.stMu.Unlock()
	if c := h.conns[name]; c != nil {
		c.tasks = nil
	}
}

// DeleteConnector implements Herder.
func (h *Standalone) DeleteConnector(_ context.Context, name string) error {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	if h.conns[name] == nil {
		return notFoundf("Connector %s not found", name)
	}
	h.stopTasks(name)
	h.w.StopConnector(name)
	delete(h.conns, name)
	h.stMu.Lock()
	delete(h.connStatus, name)
	delete(h.topics, name)
	h.stMu.Unlock()
	return nil
}

// ConnectorStatus implements Herder.
func (h *Standalone) ConnectorStatus(_ context.Context, name string) (ConnectorStateInfo, error) {
	h.opMu.Lock()
	c := h.conns[name]
	var typ ConnectorType = TypeUnknown
	if c != nil {
		typ = h.reg.ConnectorType(c.config)
	}
	h.opMu.Unlock()
	return h.statusInfo(name, typ)
}

func (h *Standalone) statusInfo(name string, typ ConnectorType) (ConnectorStateInfo, error) {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	cs, ok := h.connStatus[name]
	if !ok {
		return ConnectorStateInfo{}, notFoundf("No status found for connector %s", name)
	}
	info := ConnectorStateInfo{Name: name, Connector: cs, Tasks: []TaskState{}, Type: typ}
	for id, ts := range h.taskStatus {
		if id.Connector == name {
			info.Tasks = append(info.Tasks, ts)
		}
	}
	slices.SortFunc(info.Tasks, func(a, b TaskState) int { return a.ID - b.ID })
	return info, nil
}

// TaskStatus implements Herder.
func (h *Standalone) TaskStatus(_ context.Context, id TaskID) (TaskState, error) {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	ts, ok := h.taskStatus[id]
	if !ok {
		return TaskState{}, notFoundf("No status found for task %s", id)
	}
	return ts, nil
}

// TaskConfigs implements Herder.
func (h *Standalone) TaskConfigs(_ context.Context, name string) ([]TaskInfo, error) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	c := h.conns[name]
	if c == nil {
		return nil, notFoundf("Connector %s not found", name)
	}
	out := make([]TaskInfo, len(c.tasks))
	for i, tc := range c.tasks {
		out[i] = TaskInfo{ID: TaskID{Connector: name, Task: i}, Config: maps.Clone(tc)}
	}
	return out, nil
}

// RestartConnector implements Herder.
func (h *Standalone) RestartConnector(_ context.Context, name string) error {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	if h.conns[name] == nil {
		return notFoundf("Connector %s not found", name)
	}
	h.w.StopConnector(name)
	return h.startConnector(name)
}

// RestartConnectorAndTasks implements Herder.
func (h *Standalone) RestartConnectorAndTasks(_ context.Context, req RestartRequest) (ConnectorStateInfo, error) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	c := h.conns[req.Connector]
	if c == nil {
		return ConnectorStateInfo{}, notFoundf("Unknown connector: %s", req.Connector)
	}
	plan, err := h.statusInfo(req.Connector, h.reg.ConnectorType(c.config))
	if err != nil {
		return ConnectorStateInfo{}, notFoundf("Status for connector %s not found", req.Connector)
	}
	restartConn := req.ShouldRestartConnector(plan.Connector.State)
	if restartConn {
		plan.Connector.State = StateRestarting
	}
	var tasks []int
	for i := range plan.Tasks {
		if req.ShouldRestartTask(plan.Tasks[i].State) {
			plan.Tasks[i].State = StateRestarting
			tasks = append(tasks, plan.Tasks[i].ID)
		}
	}
	if restartConn {
		h.w.StopConnector(req.Connector)
		standaloneStatus{h}.ConnectorState(req.Connector, StateRestarting, "")
	}
	var ids []TaskID
	for _, t := range tasks {
		ids = append(ids, TaskID{Connector: req.Connector, Task: t})
	}
	h.w.StopTasks(ids...)
	for _, id := range ids {
		standaloneStatus{h}.TaskState(id, StateRestarting, "")
	}
	if restartConn {
		if err := h.w.StartConnector(req.Connector, c.config, c.target); err != nil {
			h.log.Error("connector restart failed", "connector", req.Connector, "err", err)
		}
	}
	if len(tasks) > 0 {
		h.startTasks(req.Connector, tasks)
	}
	return plan, nil
}

// RestartTask implements Herder.
func (h *Standalone) RestartTask(_ context.Context, id TaskID) error {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	c := h.conns[id.Connector]
	if c == nil {
		return notFoundf("Connector %s not found", id.Connector)
	}
	if id.Task < 0 || id.Task >= len(c.tasks) {
		return notFoundf("Task %s not found", id)
	}
	h.w.StopTasks(id)
	if err := h.w.StartTask(id, c.config, c.tasks[id.Task], c.target); err != nil {
		return fmt.Errorf("Failed to start task: %s: %w", id, err)
	}
	return nil
}

// setTarget changes a connector's target state.
func (h *Standalone) setTarget(name string, target TargetState, unknown string) error {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	c := h.conns[name]
	if c == nil {
		return notFoundf(unknown, name)
	}
	if target == TargetStopped {
		h.stopTasks(name)
	}
	c.target = target
	if err := h.w.SetTargetState(name, target); err != nil {
		h.log.Error("failed to change the target state", "connector", name, "target", string(target), "err", err)
	}
	if target == TargetStarted {
		h.updateTasks(name)
	}
	return nil
}

// PauseConnector implements Herder.
func (h *Standalone) PauseConnector(_ context.Context, name string) error {
	return h.setTarget(name, TargetPaused, "Unknown connector %s")
}

// ResumeConnector implements Herder.
func (h *Standalone) ResumeConnector(_ context.Context, name string) error {
	return h.setTarget(name, TargetStarted, "Unknown connector %s")
}

// StopConnector implements Herder.
func (h *Standalone) StopConnector(_ context.Context, name string) error {
	return h.setTarget(name, TargetStopped, "Connector %s not found")
}

// ConnectorActiveTopics implements Herder.
func (h *Standalone) ConnectorActiveTopics(_ context.Context, name string) ([]string, error) {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	return slices.Clone(h.topics[name]), nil
}

// ResetConnectorActiveTopics implements Herder.
func (h *Standalone) ResetConnectorActiveTopics(_ context.Context, name string) error {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	delete(h.topics, name)
	return nil
}

// ConnectorOffsets implements Herder.
func (h *Standalone) ConnectorOffsets(ctx context.Context, name string) (ConnectorOffsets, error) {
	h.opMu.Lock()
	c := h.conns[name]
	h.opMu.Unlock()
	if c == nil {
		return ConnectorOffsets{}, notFoundf("Connector %s not found", name)
	}
	return h.w.ConnectorOffsets(ctx, name, c.config)
}

func (h *Standalone) modifyOffsets(ctx context.Context, name string, offsets []ConnectorOffset) (string, error) {
	h.opMu.Lock()
	defer h.opMu.Unlock()
	c := h.conns[name]
	if c == nil {
		return "", notFoundf("Connector %s not found", name)
	}
	if c.target != TargetStopped || len(c.tasks) > 0 {
		return "", badRequestf("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return h.w.ModifyConnectorOffsets(ctx, name, c.config, offsets)
}

// AlterConnectorOffsets implements Herder.
func (h *Standalone) AlterConnectorOffsets(ctx context.Context, name string, offsets []ConnectorOffset) (string, error) {
	if len(offsets) == 0 {
		return "", errors.New("The offsets to be altered may not be null or empty")
	}
	return h.modifyOffsets(ctx, name, offsets)
}

// ResetConnectorOffsets implements Herder.
func (h *Standalone) ResetConnectorOffsets(ctx context.Context, name string) (string, error) {
	return h.modifyOffsets(ctx, name, nil)
}

var _ Herder = (*Standalone)(nil)
