package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/connect/connector"
)

// StatusListener hears the state changes of the connectors and tasks a
// Worker runs; a herder records them (the distributed one in
// status.storage.topic). Calls come from the worker's goroutines and must
// not block for long.
type StatusListener interface {
	// ConnectorState reports a connector's new state; trace is set for
	// FAILED.
	ConnectorState(name string, state State, trace string)
	// TaskState reports a task's new state; trace is set for FAILED.
	TaskState(id TaskID, state State, trace string)
	// TopicUsed reports a topic a connector's task produced to or
	// consumed from, for GET /connectors/{c}/topics.
	TopicUsed(connector, topic string)
}

// WorkerOptions configures a Worker.
type WorkerOptions struct {
	Config   WorkerConfig
	ID       string // worker_id in statuses, e.g. 127.0.0.1:8083
	Registry *Registry
	Offsets  OffsetStore
	Status   StatusListener
	// Reconfigure is called when a connector asks for its tasks to be
	// reconfigured (ConnectorContext.RequestTaskReconfiguration); the
	// herder recomputes and restarts them. It must not block.
	Reconfigure func(connector string)
	// Logger is the worker's logger (nil = discard).
	Logger *slog.Logger
	// ClientOpts are added to every Kafka client the worker makes.
	ClientOpts []kgo.Opt
}

// Worker runs connector and task instances: it starts and stops them,
// moves them between target states, and drives source tasks (poll,
// transform, convert, produce, commit offsets) and sink tasks (consume,
// convert, transform, put, commit offsets). Herders decide what it runs.
type Worker struct {
	cfg   WorkerConfig
	id    string
	reg   *Registry
	offs  OffsetStore
	st    StatusListener
	recfg func(string)
	log   *slog.Logger // the worker's own (LoggerWorker)
	// srcLog and sinkLog are the source and sink task loops' loggers.
	srcLog, sinkLog *slog.Logger
	copts           []kgo.Opt
	admin           *kgo.Client

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every task goroutine

	mu         sync.Mutex
	connectors map[string]*workerConnector
	tasks      map[TaskID]*workerTask
	closed     bool
}

// workerConnector is one connector instance.
type workerConnector struct {
	name   string
	props  map[string]string
	cc     ConnectorConfig
	conn   connector.Connector
	kind   string
	target TargetState
	state  State
}

// NewWorker returns a Worker; it connects to Kafka lazily.
func NewWorker(o WorkerOptions) (*Worker, error) {
	if o.Registry == nil || o.Offsets == nil || o.Status == nil {
		return nil, errors.New("connect: worker needs a Registry, an OffsetStore and a StatusListener")
	}
	if o.ID == "" {
		o.ID = "runnel-connect"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Reconfigure == nil {
		o.Reconfigure = func(string) {}
	}
	if o.Config.OffsetFlushInterval <= 0 {
		o.Config.OffsetFlushInterval = time.Minute
	}
	if o.Config.OffsetFlushTimeout <= 0 {
		o.Config.OffsetFlushTimeout = 5 * time.Second
	}
	if o.Config.TaskShutdownTimeout <= 0 {
		o.Config.TaskShutdownTimeout = 5 * time.Second
	}
	if len(o.Config.BootstrapServers) == 0 {
		o.Config.BootstrapServers = []string{"localhost:9092"}
	}
	if o.Config.Props == nil {
		o.Config.Props = map[string]string{}
	}
	adminOpts, err := commonOpts(Prefixed(o.Config.Props, "admin."), o.Config.BootstrapServers, o.Logger)
	if err != nil {
		return nil, err
	}
	admin, err := kgo.NewClient(append(append(adminOpts, o.ClientOpts...), kgo.ClientID("connect-admin-"+o.ID))...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Worker{
		cfg: o.Config, id: o.ID, reg: o.Registry, offs: o.Offsets, st: o.Status, recfg: o.Reconfigure,
		log:    o.Logger.With(LoggerAttr, LoggerWorker),
		srcLog: o.Logger.With(LoggerAttr, LoggerWorkerSourceTask), sinkLog: o.Logger.With(LoggerAttr, LoggerWorkerSinkTask),
		copts: o.ClientOpts, admin: admin, ctx: ctx, cancel: cancel,
		connectors: make(map[string]*workerConnector), tasks: make(map[TaskID]*workerTask),
	}, nil
}

// ID is the worker's ID as statuses report it.
func (w *Worker) ID() string { return w.id }

// Config is the worker's configuration.
func (w *Worker) Config() WorkerConfig { return w.cfg }

// Registry is the worker's plugin registry.
func (w *Worker) Registry() *Registry { return w.reg }

// Admin is the worker's Kafka client for cluster requests.
func (w *Worker) Admin() *kadm.Client { return kadm.NewClient(w.admin) }

// KafkaClusterID asks the cluster for its ID.
func (w *Worker) KafkaClusterID(ctx context.Context) (string, error) {
	m, err := kadm.NewClient(w.admin).BrokerMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("connect: cluster ID: %w", err)
	}
	return m.Cluster, nil
}

// Close stops every task and connector and waits for their goroutines.
func (w *Worker) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	ids := slices.Collect(maps.Keys(w.tasks))
	names := slices.Collect(maps.Keys(w.connectors))
	w.mu.Unlock()
	w.StopTasks(ids...)
	for _, n := range names {
		w.StopConnector(n)
	}
	w.cancel()
	w.wg.Wait()
	w.admin.Close()
}

// connectorContext is a connector's connector.ConnectorContext.
type connectorContext struct {
	w    *Worker
	name string
}

func (c connectorContext) RequestTaskReconfiguration() { c.w.recfg(c.name) }

func (c connectorContext) RaiseError(err error) {
	c.w.mu.Lock()
	wc := c.w.connectors[c.name]
	if wc != nil {
		wc.state = StateFailed
	}
	c.w.mu.Unlock()
	if wc != nil {
		c.w.log.Error("connector failed", "connector", c.name, "err", err)
		c.w.st.ConnectorState(c.name, StateFailed, trace(err))
	}
}

// trace formats a failure for the status "trace" field.
func trace(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// StartConnector creates a connector instance from its configuration and
// brings it to target: STARTED calls its Start, PAUSED and STOPPED leave it
// idle. A failure is reported as FAILED and returned.
func (w *Worker) StartConnector(name string, props map[string]string, target TargetState) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrStopped
	}
	if _, ok := w.connectors[name]; ok {
		w.mu.Unlock()
		return conflictf("Connector %s already running on this worker", name)
	}
	wc := &workerConnector{name: name, props: maps.Clone(props), target: target, state: StateUnassigned}
	w.connectors[name] = wc
	w.mu.Unlock()

	fail := func(err error) error {
		w.mu.Lock()
		wc.state = StateFailed
		w.mu.Unlock()
		w.log.Error("connector failed to start", "connector", name, "err", err)
		w.st.ConnectorState(name, StateFailed, trace(err))
		return err
	}
	cc, err := w.reg.ParseConnectorConfig(props)
	if err != nil {
		return fail(err)
	}
	conn, _, err := w.reg.NewConnector(cc.Class)
	if err != nil {
		return fail(err)
	}
	w.mu.Lock()
	wc.cc, wc.conn, wc.kind = cc, conn, kindOf(conn)
	w.mu.Unlock()
	return w.transition(wc, target)
}

// transition moves a connector instance to target.
func (w *Worker) transition(wc *workerConnector, target TargetState) error {
	w.mu.Lock()
	prev := wc.state
	wc.target = target
	conn := wc.conn
	w.mu.Unlock()
	if conn == nil {
		return nil
	}
	switch target {
	case TargetStarted:
		if prev == StateRunning {
			return nil
		}
		if err := conn.Start(connectorContext{w, wc.name}, maps.Clone(wc.props)); err != nil {
			w.mu.Lock()
			wc.state = StateFailed
			w.mu.Unlock()
			w.log.Error("connector failed to start", "connector", wc.name, "err", err)
			w.st.ConnectorState(wc.name, StateFailed, trace(err))
			return err
		}
		w.setConnState(wc, StateRunning)
	case TargetPaused, TargetStopped:
		if prev == StateRunning {
			if err := conn.Stop(); err != nil {
				w.log.Warn("connector stop failed", "connector", wc.name, "err", err)
			}
		}
		if target == TargetPaused {
			w.setConnState(wc, StatePaused)
		} else {
			w.setConnState(wc, StateStopped)
		}
	}
	return nil
}

func (w *Worker) setConnState(wc *workerConnector, s State) {
	w.mu.Lock()
	wc.state = s
	w.mu.Unlock()
	w.st.ConnectorState(wc.name, s, "")
}

// StopConnector stops a connector instance (not its tasks) and forgets it.
func (w *Worker) StopConnector(name string) {
	w.mu.Lock()
	wc := w.connectors[name]
	delete(w.connectors, name)
	var running bool
	if wc != nil {
		running = wc.state == StateRunning
	}
	w.mu.Unlock()
	if wc == nil || wc.conn == nil {
		return
	}
	if running {
		if err := wc.conn.Stop(); err != nil {
			w.log.Warn("connector stop failed", "connector", name, "err", err)
		}
	}
	w.st.ConnectorState(name, StateUnassigned, "")
}

// IsRunning reports whether the worker has an instance of the connector.
func (w *Worker) IsRunning(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	wc := w.connectors[name]
	return wc != nil && wc.state == StateRunning
}

// Connectors lists the connector instances the worker has.
func (w *Worker) Connectors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := slices.Collect(maps.Keys(w.connectors))
	slices.Sort(names)
	return names
}

// Tasks lists the tasks the worker runs for a connector ("" = all).
func (w *Worker) Tasks(connectorName string) []TaskID {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []TaskID
	for id := range w.tasks {
		if connectorName == "" || id.Connector == connectorName {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b TaskID) int {
		if c := strings.Compare(a.Connector, b.Connector); c != 0 {
			return c
		}
		return a.Task - b.Task
	})
	return ids
}

// ConnectorTaskConfigs asks a running connector for its task
// configurations (at most tasks.max unless tasks.max.enforce=false) and adds
// what Kafka's worker adds: task.class, and for sinks topics/topics.regex.
func (w *Worker) ConnectorTaskConfigs(name string) ([]map[string]string, error) {
	w.mu.Lock()
	wc := w.connectors[name]
	w.mu.Unlock()
	if wc == nil || wc.conn == nil {
		return nil, notFoundf("Connector %s not found", name)
	}
	configs, err := wc.conn.TaskConfigs(wc.cc.TasksMax)
	if err != nil {
		return nil, err
	}
	if len(configs) > wc.cc.TasksMax && wc.cc.TasksMaxEnforce {
		return nil, fmt.Errorf("The connector %s has generated %d tasks, which is greater than %d, the maximum number of tasks it is configured to create. "+
			"This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector "+
			"with 'tasks.max.enforce' set to false; however, this option will be removed in a future release of Kafka Connect.", name, len(configs), wc.cc.TasksMax)
	}
	class, _, _ := w.reg.Class(wc.cc.Class)
	taskClass := strings.TrimSuffix(class, "Connector") + "Task"
	out := make([]map[string]string, len(configs))
	for i, c := range configs {
		m := maps.Clone(c)
		if m == nil {
			m = map[string]string{}
		}
		m["task.class"] = taskClass
		if wc.kind == PluginSink {
			if v, ok := wc.props["topics"]; ok {
				m["topics"] = v
			}
			if v, ok := wc.props["topics.regex"]; ok {
				m["topics.regex"] = v
			}
		}
		out[i] = m
	}
	return out, nil
}

// SetTargetState moves a connector and its tasks on this worker to target.
func (w *Worker) SetTargetState(name string, target TargetState) error {
	w.mu.Lock()
	wc := w.connectors[name]
	var tasks []*workerTask
	for id, t := range w.tasks {
		if id.Connector == name {
			tasks = append(tasks, t)
		}
	}
	w.mu.Unlock()
	for _, t := range tasks {
		t.setTarget(target)
	}
	if wc == nil {
		return nil
	}
	return w.transition(wc, target)
}

// StartTask starts a task of a connector with its task configuration. The
// task reports its states through the StatusListener; a task that fails to
// start is reported FAILED and the error returned.
func (w *Worker) StartTask(id TaskID, connProps, taskProps map[string]string, target TargetState) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrStopped
	}
	if _, ok := w.tasks[id]; ok {
		w.mu.Unlock()
		return conflictf("Task %s already running on this worker", id)
	}
	t := &workerTask{id: id, w: w, target: target, changed: make(chan struct{}, 1), done: make(chan struct{})}
	t.ctx, t.cancel = context.WithCancel(w.ctx)
	w.tasks[id] = t
	w.mu.Unlock()

	fail := func(err error) error {
		w.mu.Lock()
		delete(w.tasks, id)
		w.mu.Unlock()
		t.cancel()
		close(t.done)
		w.log.Error("task failed to start", "task", id.String(), "err", err)
		w.st.TaskState(id, StateFailed, trace(err))
		return err
	}
	cc, err := w.reg.ParseConnectorConfig(connProps)
	if err != nil {
		return fail(err)
	}
	conn, _, err := w.reg.NewConnector(cc.Class)
	if err != nil {
		return fail(err)
	}
	convs, err := newConverters(w.reg, w.cfg, cc)
	if err != nil {
		return fail(err)
	}
	ch, err := newChain(w.reg, cc)
	if err != nil {
		return fail(err)
	}
	t.cc, t.props, t.convs, t.chain = cc, maps.Clone(taskProps), convs, ch
	t.tol = &tolerance{cfg: cc, id: id, log: w.log, sleep: sleepCtx}
	var run func()
	switch c := conn.(type) {
	case connector.SourceConnector:
		run, err = w.newSourceTask(t, c.NewTask())
	case connector.SinkConnector:
		run, err = w.newSinkTask(t, c.NewTask())
	}
	if err != nil {
		ch.close()
		return fail(err)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(t.done)
		defer ch.close()
		run()
	}()
	return nil
}

// StopTasks stops tasks and waits for each up to
// task.shutdown.graceful.timeout.ms; a task that does not stop in time is
// abandoned to finish on its own (Close still waits for it).
func (w *Worker) StopTasks(ids ...TaskID) {
	var stopping []*workerTask
	w.mu.Lock()
	for _, id := range ids {
		if t := w.tasks[id]; t != nil {
			delete(w.tasks, id)
			stopping = append(stopping, t)
		}
	}
	w.mu.Unlock()
	for _, t := range stopping {
		t.cancel()
	}
	deadline := time.NewTimer(w.cfg.TaskShutdownTimeout)
	defer deadline.Stop()
	for _, t := range stopping {
		select {
		case <-t.done:
		case <-deadline.C:
			w.log.Error("graceful stop of task failed", "task", t.id.String())
		}
	}
}

// workerTask is the part of a running task common to sources and sinks.
type workerTask struct {
	id     TaskID
	w      *Worker
	cc     ConnectorConfig
	props  map[string]string
	convs  converters
	chain  *chain
	tol    *tolerance
	ctx    context.Context // ends when the task is stopped
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	target  TargetState
	changed chan struct{} // signalled on a target change
	state   State
}

func (t *workerTask) setTarget(s TargetState) {
	t.mu.Lock()
	t.target = s
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *workerTask) targetState() TargetState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.target
}

// report records and announces a state change.
func (t *workerTask) report(s State, err error) {
	t.mu.Lock()
	same := t.state == s
	t.state = s
	t.mu.Unlock()
	if same && err == nil {
		return
	}
	t.w.st.TaskState(t.id, s, trace(err))
}

// awaitRunning blocks while the task's target is not STARTED, reporting
// PAUSED. It returns false when the task is stopped.
func (t *workerTask) awaitRunning() bool {
	for {
		if t.ctx.Err() != nil {
			return false
		}
		if t.targetState() == TargetStarted {
			return true
		}
		t.report(StatePaused, nil)
		select {
		case <-t.changed:
		case <-t.ctx.Done():
			return false
		}
	}
}
