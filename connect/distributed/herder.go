package distributed

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
)

// Runner runs connector and task instances on this worker; the herder
// decides which. *connect.Worker is one.
type Runner interface {
	StartConnector(name string, props map[string]string, target connect.TargetState) error
	// ConnectorTaskConfigs asks a running connector for its task configs.
	ConnectorTaskConfigs(name string) ([]map[string]string, error)
	StopConnector(name string)
	StartTask(id connect.TaskID, connProps, taskProps map[string]string, target connect.TargetState) error
	StopTasks(ids ...connect.TaskID)
	// SetTargetState pauses or resumes a connector and its tasks.
	SetTargetState(name string, target connect.TargetState) error
	// ConnectorOffsets returns a connector's offsets: from the offset
	// store for a source, from its consumer group for a sink (KIP-875).
	ConnectorOffsets(ctx context.Context, name string, props map[string]string) (connect.ConnectorOffsets, error)
	// ModifyConnectorOffsets alters (offsets non-nil) or resets (nil) a
	// stopped connector's offsets and returns Kafka's message.
	ModifyConnectorOffsets(ctx context.Context, name string, props map[string]string, offsets []connect.ConnectorOffset) (string, error)
}

// Config configures a distributed Herder.
type Config struct {
	Worker connect.WorkerConfig // group.id, *.storage.*, session.timeout.ms, …
	// URL is this worker's REST URL as the others reach it
	// (rest.advertised.*), e.g. http://127.0.0.1:8083/.
	URL string
	// WorkerID names this worker in statuses: host:port of URL.
	WorkerID string
	// ClientOpts carry bootstrap.servers and client settings for the
	// internal topics and the group.
	ClientOpts []kgo.Opt
	Registry   *connect.Registry
	Loggers    *connect.Loggers
	Logger     *slog.Logger // nil = discard
}

// Herder is the distributed herder: connect.Herder over the internal
// topics, the worker group and a Runner.
type Herder struct {
	cfg Config
	log *slog.Logger
	run Runner

	ready   chan struct{} // closed once the stores are open
	mu      sync.Mutex
	cl      *kgo.Client
	configs *ConfigStore
	status  *StatusStore
	offsets *OffsetStore
	member  *member
	// Group state, as of the last assignment.
	rebalancing bool
	leader      bool
	leaderURL   string
	generation  int32
	assignment  Assignment
	clusterID   string

	// Owned by the herder loop (and the member callbacks it runs).
	snap        ConfigSnapshot
	connRunning map[string]bool
	taskRunning map[TaskID]map[string]string // config each task runs with
	ops         chan func()
	statusQ     chan statusWrite
	reconf      chan string // connectors asking for new task configs
	topicsSeen  sync.Map    // "topic:connector" already recorded
}

type statusWrite struct {
	topic *TopicStatus
	task  *TaskID
	name  string
	state Status
}

// New returns a herder; Run starts it.
func New(cfg Config) (*Herder, error) {
	w := cfg.Worker
	switch {
	case w.GroupID == "":
		return nil, fmt.Errorf("distributed: group.id is required")
	case w.ConfigStorageTopic == "":
		return nil, fmt.Errorf("distributed: config.storage.topic is required")
	case w.OffsetStorageTopic == "":
		return nil, fmt.Errorf("distributed: offset.storage.topic is required")
	case w.StatusStorageTopic == "":
		return nil, fmt.Errorf("distributed: status.storage.topic is required")
	case cfg.Registry == nil:
		return nil, fmt.Errorf("distributed: a plugin registry is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(connect.LoggerAttr, connect.LoggerDistributedHerder)
	if p := w.ConnectProtocol; p != "" && p != "eager" {
		// Kafka's compatible and sessioned protocols also offer "default",
		// so Runnel and Java workers still agree on the eager protocol.
		logger.Info("connect.protocol "+p+" is not supported; this worker uses the eager protocol", "group", w.GroupID)
	}
	return &Herder{
		cfg: cfg, log: logger,
		reconf:      make(chan string, 64),
		ready:       make(chan struct{}),
		rebalancing: true,
		connRunning: map[string]bool{},
		taskRunning: map[TaskID]map[string]string{},
		ops:         make(chan func()),
		statusQ:     make(chan statusWrite, 4096),
	}, nil
}

// Run opens the internal topics (retrying until the cluster answers),
// joins the group and runs this worker's share of connectors and tasks on
// run until ctx ends; then it stops them and leaves the group.
func (h *Herder) Run(ctx context.Context, run Runner) error {
	h.run = run
	if err := h.open(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before the cluster answered
		}
		return err
	}
	defer h.closeStores()
	var wg sync.WaitGroup
	sctx, stopStatus := context.WithCancel(context.Background())
	wg.Go(func() { h.writeStatuses(sctx) })
	mctx, stopMember := context.WithCancel(ctx)
	memberDone := make(chan struct{})
	go func() { defer close(memberDone); h.member.run(mctx) }()

	for {
		select {
		case <-ctx.Done():
			stopMember()
			// The member revokes through ops: keep serving them until it
			// has left the group.
			for {
				select {
				case op := <-h.ops:
					op()
					continue
				case <-memberDone:
				}
				break
			}
			h.stopAll()
			stopStatus()
			wg.Wait()
			return nil
		case op := <-h.ops:
			op()
		case <-h.configs.Notify():
			h.handleConfigEvents(ctx)
		case name := <-h.reconf:
			if h.connRunning[name] && h.owns(name) {
				h.reconfigure(ctx, name)
			}
		}
	}
}

// do runs fn on the herder loop and waits for it.
func (h *Herder) do(ctx context.Context, fn func()) {
	done := make(chan struct{})
	select {
	case h.ops <- func() { fn(); close(done) }:
	case <-ctx.Done():
		return
	}
	<-done
}

func (h *Herder) open(ctx context.Context) error {
	w := h.cfg.Worker
	backoff := 200 * time.Millisecond
	for {
		err := h.tryOpen(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Warn("opening connect internal topics; retrying", "err", err)
		sleep(ctx, backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
	h.member = newMember(memberConfig{
		GroupID:           w.GroupID,
		SessionTimeout:    w.SessionTimeout,
		HeartbeatInterval: w.HeartbeatInterval,
		RebalanceTimeout:  w.RebalanceTimeout,
		URL:               h.cfg.URL,
		Logger:            h.log,
	}, h.cl, groupAdapter{h})
	h.snap = h.configs.Snapshot()
	close(h.ready)
	return nil
}

func (h *Herder) tryOpen(ctx context.Context) error {
	w := h.cfg.Worker
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The group client's ID prefixes the member IDs the coordinator
	// hands out, as Kafka's workers' connect-N client IDs do.
	cl, err := kgo.NewClient(append(slices.Clone(h.cfg.ClientOpts), kgo.ClientID("connect-"+h.cfg.WorkerID))...)
	if err != nil {
		return err
	}
	md, err := kadm.NewClient(cl).BrokerMetadata(octx)
	if err != nil {
		cl.Close()
		return err
	}
	cs, err := OpenConfigStore(octx, h.cfg.ClientOpts, w.ConfigStorageTopic, w.ConfigStorageReplication, h.log)
	if err != nil {
		cl.Close()
		return err
	}
	os, err := OpenOffsetStore(octx, h.cfg.ClientOpts, w.OffsetStorageTopic, w.OffsetStoragePartitions, w.OffsetStorageReplication, h.log)
	if err != nil {
		cs.Close()
		cl.Close()
		return err
	}
	ss, err := OpenStatusStore(octx, h.cfg.ClientOpts, w.StatusStorageTopic, w.StatusStoragePartitions, w.StatusStorageReplication, h.log)
	if err != nil {
		os.Close()
		cs.Close()
		cl.Close()
		return err
	}
	h.mu.Lock()
	h.cl, h.configs, h.offsets, h.status, h.clusterID = cl, cs, os, ss, md.Cluster
	h.mu.Unlock()
	return nil
}

func (h *Herder) closeStores() {
	h.configs.Close()
	h.offsets.Close()
	h.status.Close()
	h.cl.Close()
}

// OffsetStore is where source tasks keep their offsets; valid once Run
// has opened the topics (Health returns nil).
func (h *Herder) OffsetStore() connect.OffsetStore { return lazyOffsets{h} }

// lazyOffsets waits for the herder's stores to open.
type lazyOffsets struct{ h *Herder }

func (l lazyOffsets) Offsets(ctx context.Context, connector string) ([]connect.ConnectorOffset, error) {
	if err := l.h.waitReady(ctx); err != nil {
		return nil, err
	}
	return l.h.offsets.Offsets(ctx, connector)
}

func (l lazyOffsets) Write(ctx context.Context, connector string, offsets []connect.ConnectorOffset) error {
	if err := l.h.waitReady(ctx); err != nil {
		return err
	}
	return l.h.offsets.Write(ctx, connector, offsets)
}

func (h *Herder) waitReady(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status reporting: the Runner's StatusListener.

// ConnectorState implements connect.StatusListener: the write to the
// status topic is asynchronous and in order.
func (h *Herder) ConnectorState(name string, state connect.State, trace string) {
	h.queueStatus(statusWrite{name: name, state: h.statusOf(state, trace)})
}

// TaskState implements connect.StatusListener.
func (h *Herder) TaskState(id connect.TaskID, state connect.State, trace string) {
	t := TaskID{id.Connector, id.Task}
	h.queueStatus(statusWrite{name: id.Connector, task: &t, state: h.statusOf(state, trace)})
}

// TopicUsed implements connect.StatusListener: the first use of a topic
// by a connector is recorded in the status topic (KIP-558).
func (h *Herder) TopicUsed(connector, topic string) {
	if _, seen := h.topicsSeen.LoadOrStore(topic+statusTopicSep+connector, true); seen {
		return
	}
	select {
	case <-h.ready:
		if slices.Contains(h.status.Topics(connector), topic) {
			return
		}
	default:
	}
	ts := TopicStatus{Topic: topic, Connector: connector, DiscoverTimestamp: time.Now().UnixMilli()}
	h.queueStatus(statusWrite{name: connector, topic: &ts})
}

// RequestReconfiguration is the Worker's Reconfigure hook: a connector
// asks for its task configs to be regenerated. It does not block.
func (h *Herder) RequestReconfiguration(connector string) {
	select {
	case h.reconf <- connector:
	default:
	}
}

func (h *Herder) statusOf(state connect.State, trace string) Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Status{State: string(state), Trace: trace, WorkerID: h.cfg.WorkerID, Generation: h.generation}
}

func (h *Herder) queueStatus(w statusWrite) {
	select {
	case h.statusQ <- w:
	default:
		h.log.Warn("status queue full; dropping a status update", "connector", w.name)
	}
}

func (h *Herder) writeStatuses(ctx context.Context) {
	for {
		var w statusWrite
		select {
		case w = <-h.statusQ:
		case <-ctx.Done():
			// Flush what is queued, briefly.
			fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			for {
				select {
				case w := <-h.statusQ:
					h.writeStatus(fctx, w)
				default:
					return
				}
			}
		}
		h.writeStatus(ctx, w)
	}
}

func (h *Herder) writeStatus(ctx context.Context, w statusWrite) {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch {
	case w.topic != nil:
		err = h.status.PutTopic(wctx, *w.topic)
	case w.task != nil && w.state.State == string(connect.StateDestroyed):
		err = h.status.log.send(wctx, kv(statusTaskKey(*w.task), nil))
	case w.task != nil:
		if cur, ok := h.status.Task(*w.task); ok && superseded(cur, w.state) {
			return
		}
		err = h.status.PutTask(wctx, *w.task, w.state)
	case w.state.State == string(connect.StateDestroyed):
		err = h.status.log.send(wctx, kv(statusConnectorKey(w.name), nil))
	default:
		if cur, ok := h.status.Connector(w.name); ok && superseded(cur, w.state) {
			return
		}
		err = h.status.PutConnector(wctx, w.name, w.state)
	}
	if err != nil {
		h.log.Warn("writing status", "connector", w.name, "err", err)
	}
}

// superseded reports whether a status write would overwrite one made by
// another worker in a later generation — a worker that lost the instance
// in a rebalance reporting its shutdown after the new owner started it.
// Kafka's status store skips such writes too.
func superseded(cur, next Status) bool {
	return cur.WorkerID != next.WorkerID && cur.Generation > next.Generation
}

// The group callbacks, run on the member's goroutine.

type groupAdapter struct{ h *Herder }

func (g groupAdapter) configOffset() int64 { return g.h.configs.Snapshot().Offset }

func (g groupAdapter) revoke() {
	h := g.h
	h.mu.Lock()
	h.rebalancing = true
	h.mu.Unlock()
	h.do(context.Background(), h.stopAll)
}

func (g groupAdapter) assign(ctx context.Context, leaderID string, members map[string]WorkerState) map[string]Assignment {
	h := g.h
	rctx, cancel := context.WithTimeout(ctx, h.cfg.Worker.WorkerSyncTimeout+time.Second)
	defer cancel()
	if err := h.configs.ReadToEnd(rctx); err != nil {
		h.log.Warn("leader reading the config topic", "err", err)
	}
	snap := h.configs.Snapshot()
	var maxOffset int64 = -1
	for _, m := range members {
		maxOffset = max(maxOffset, m.ConfigOffset)
	}
	out := make(map[string]Assignment, len(members))
	leaderURL := members[leaderID].URL
	if snap.Offset < maxOffset {
		h.log.Warn("leader is behind the config topic; asking members to rejoin", "offset", snap.Offset, "max", maxOffset)
		for id := range members {
			out[id] = Assignment{Error: AssignmentConfigMismatch, Leader: leaderID, LeaderURL: leaderURL, ConfigOffset: snap.Offset}
		}
		return out
	}
	work := map[string]int{}
	for name := range snap.Connectors {
		n := len(snap.TaskConfigs(name))
		if snap.TargetStates[name] == TargetStopped {
			n = 0
		}
		work[name] = n
	}
	for id, a := range roundRobin(slices.Collect(maps.Keys(members)), work) {
		a.Leader, a.LeaderURL, a.ConfigOffset = leaderID, leaderURL, snap.Offset
		out[id] = *a
	}
	return out
}

func (g groupAdapter) assigned(ctx context.Context, a Assignment, generation int32, memberID string) {
	h := g.h
	for h.configs.Snapshot().Offset < a.ConfigOffset && ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, h.cfg.Worker.WorkerSyncTimeout+time.Second)
		err := h.configs.ReadToEnd(rctx)
		cancel()
		if err != nil {
			h.log.Warn("reading the config topic after a rebalance", "err", err)
		}
	}
	if a.Error == AssignmentConfigMismatch {
		return
	}
	h.mu.Lock()
	h.rebalancing = false
	h.leader = a.Leader == memberID
	h.leaderURL = a.LeaderURL
	h.generation = generation
	h.assignment = a
	h.mu.Unlock()
	h.do(ctx, func() { h.startAssigned(ctx) })
}

// Work on the herder loop.

func (h *Herder) owns(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.rebalancing && slices.Contains(h.assignment.Connectors, name)
}

func (h *Herder) ownedTasks(name string) []TaskID {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rebalancing {
		return nil
	}
	var out []TaskID
	for _, t := range h.assignment.Tasks {
		if name == "" || t.Connector == name {
			out = append(out, t)
		}
	}
	return out
}

func (h *Herder) isLeader() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leader && !h.rebalancing
}

// startAssigned starts every connector and task of the assignment.
func (h *Herder) startAssigned(ctx context.Context) {
	h.snap = h.configs.Snapshot()
	h.mu.Lock()
	a := h.assignment
	h.mu.Unlock()
	for _, name := range a.Connectors {
		h.startConnector(ctx, name)
	}
	for _, id := range a.Tasks {
		h.startTask(ctx, id)
	}
}

func (h *Herder) startConnector(ctx context.Context, name string) {
	cfg, ok := h.snap.Connectors[name]
	if !ok || h.connRunning[name] {
		return
	}
	target := connect.TargetState(h.snap.TargetStates[name])
	if err := h.run.StartConnector(name, cfg, target); err != nil {
		h.log.Error("starting connector", "connector", name, "err", err)
		return
	}
	h.connRunning[name] = true
	if target == connect.TargetStarted {
		h.reconfigure(ctx, name)
	}
}

// reconfigure asks a running connector for its task configs and writes
// them when they differ from the committed ones. Runnel writes them from
// the worker running the connector: with the eager protocol it is the
// only one in the generation.
func (h *Herder) reconfigure(ctx context.Context, name string) {
	tasks, err := h.run.ConnectorTaskConfigs(name)
	if err != nil {
		h.log.Error("generating task configs", "connector", name, "err", err)
		h.ConnectorState(name, connect.StateFailed, err.Error())
		return
	}
	if equalConfigs(tasks, h.snap.TaskConfigs(name)) && len(tasks) == h.snap.TaskCounts[name] && !h.snap.Inconsistent[name] {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.configs.PutTaskConfigs(wctx, name, tasks); err != nil {
		h.log.Error("writing task configs", "connector", name, "err", err)
	}
}

func equalConfigs(a, b []map[string]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

func (h *Herder) startTask(ctx context.Context, id TaskID) {
	if _, ok := h.taskRunning[id]; ok {
		return
	}
	connCfg, ok := h.snap.Connectors[id.Connector]
	taskCfg, tok := h.snap.Tasks[id]
	if !ok || !tok {
		return
	}
	target := connect.TargetState(h.snap.TargetStates[id.Connector])
	if target == connect.TargetStopped {
		return
	}
	if err := h.run.StartTask(connect.TaskID{Connector: id.Connector, Task: id.Task}, connCfg, taskCfg, target); err != nil {
		h.log.Error("starting task", "task", id.String(), "err", err)
		return
	}
	h.taskRunning[id] = taskCfg
}

func (h *Herder) stopConnector(name string) {
	if h.connRunning[name] {
		h.run.StopConnector(name)
		delete(h.connRunning, name)
	}
}

func (h *Herder) stopTask(id TaskID) {
	if _, ok := h.taskRunning[id]; ok {
		h.run.StopTasks(connect.TaskID{Connector: id.Connector, Task: id.Task})
		delete(h.taskRunning, id)
	}
}

// stopAll stops every instance this worker runs (eager revocation),
// the tasks all at once.
func (h *Herder) stopAll() {
	var ids []connect.TaskID
	for id := range h.taskRunning {
		ids = append(ids, connect.TaskID{Connector: id.Connector, Task: id.Task})
	}
	if len(ids) > 0 {
		h.run.StopTasks(ids...)
	}
	clear(h.taskRunning)
	for _, name := range slices.Collect(maps.Keys(h.connRunning)) {
		h.stopConnector(name)
	}
}

// handleConfigEvents reacts to what the config topic changed.
func (h *Herder) handleConfigEvents(ctx context.Context) {
	prev := h.snap
	h.snap = h.configs.Snapshot()
	rejoin := false
	for _, ev := range h.configs.events() {
		name := ev.connector
		switch ev.kind {
		case eventConnectorConfig:
			if _, existed := prev.Connectors[name]; !existed {
				rejoin = true
				continue
			}
			if h.owns(name) {
				h.stopConnector(name)
				h.startConnector(ctx, name)
			}
		case eventConnectorRemoved:
			rejoin = true
			for _, id := range h.ownedTasks(name) {
				h.stopTask(id)
				h.TaskState(connect.TaskID{Connector: id.Connector, Task: id.Task}, connect.StateDestroyed, "")
			}
			if h.owns(name) {
				h.stopConnector(name)
				h.ConnectorState(name, connect.StateDestroyed, "")
			}
		case eventTargetState:
			target := connect.TargetState(h.snap.TargetStates[name])
			wasStopped := prev.TargetStates[name] == TargetStopped
			if wasStopped || target == connect.TargetStopped {
				// Instances come and go with STOPPED: the connector is
				// restarted in its new state, and a rebalance sorts out
				// which tasks exist.
				rejoin = true
				if h.owns(name) {
					h.stopConnector(name)
					h.startConnector(ctx, name)
				}
				if target == connect.TargetStopped {
					for _, id := range h.ownedTasks(name) {
						h.stopTask(id)
					}
				}
				continue
			}
			running := h.owns(name) && h.connRunning[name]
			for _, id := range h.ownedTasks(name) {
				if _, ok := h.taskRunning[id]; ok {
					running = true
				}
			}
			if running {
				h.setTargetState(name, target)
			}
		case eventTasks:
			if len(prev.TaskConfigs(name)) != h.snap.TaskCounts[name] || prev.TaskCounts[name] != h.snap.TaskCounts[name] {
				rejoin = true
			}
			for _, id := range h.ownedTasks(name) {
				if running, ok := h.taskRunning[id]; ok && !maps.Equal(running, h.snap.Tasks[id]) {
					h.stopTask(id)
					h.startTask(ctx, id)
				}
			}
		case eventRestart:
			h.restart(ctx, ev.restart)
		}
	}
	if rejoin && h.isLeader() {
		h.member.requestRejoin()
	}
}

func (h *Herder) setTargetState(name string, target connect.TargetState) {
	if err := h.run.SetTargetState(name, target); err != nil {
		h.log.Error("changing target state", "connector", name, "target", string(target), "err", err)
	}
}

// restart carries out a restart request for the instances this worker
// runs.
func (h *Herder) restart(ctx context.Context, r RestartRequest) {
	req := connect.RestartRequest{Connector: r.Connector, OnlyFailed: r.OnlyFailed, IncludeTasks: r.IncludeTasks}
	if h.owns(r.Connector) {
		st, _ := h.status.Connector(r.Connector)
		if req.ShouldRestartConnector(connect.State(st.State)) {
			h.stopConnector(r.Connector)
			h.ConnectorState(r.Connector, connect.StateRestarting, "")
			h.startConnector(ctx, r.Connector)
		}
	}
	for _, id := range h.ownedTasks(r.Connector) {
		st, _ := h.status.Task(id)
		if req.ShouldRestartTask(connect.State(st.State)) {
			h.stopTask(id)
			h.TaskState(connect.TaskID{Connector: id.Connector, Task: id.Task}, connect.StateRestarting, "")
			h.startTask(ctx, id)
		}
	}
}

// connect.Herder.

var _ connect.Herder = (*Herder)(nil)

// errRebalance is Kafka's answer while the group rebalances.
func errRebalance() error {
	return connect.Errorf(http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
}

func notFound(name string) error {
	return connect.Errorf(http.StatusNotFound, "Connector %s not found", name)
}

// leaderCheck returns nil on the leader, a NotLeaderError naming the
// leader elsewhere, and 409 during a rebalance.
func (h *Herder) leaderCheck() error {
	select {
	case <-h.ready:
	default:
		return errRebalance()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rebalancing {
		return errRebalance()
	}
	if !h.leader {
		return &connect.NotLeaderError{URL: h.leaderURL}
	}
	return nil
}

func (h *Herder) snapshot(ctx context.Context) (ConfigSnapshot, error) {
	if err := h.waitReady(ctx); err != nil {
		return ConfigSnapshot{}, err
	}
	return h.configs.Snapshot(), nil
}

// KafkaClusterID implements connect.Herder.
func (h *Herder) KafkaClusterID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clusterID
}

// Health implements connect.Herder: 503 until the worker has joined the
// group for the first time.
func (h *Herder) Health(ctx context.Context) error {
	select {
	case <-h.ready:
	default:
		return connect.Errorf(http.StatusServiceUnavailable, "Worker is still starting up")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.generation <= 0 && h.rebalancing {
		return connect.Errorf(http.StatusServiceUnavailable, "Worker has not yet joined the cluster")
	}
	return nil
}

// Connectors implements connect.Herder.
func (h *Herder) Connectors(ctx context.Context) ([]string, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(s.Connectors)), nil
}

func (h *Herder) connectorType(cfg map[string]string) connect.ConnectorType {
	_, kind, ok := h.cfg.Registry.Class(cfg["connector.class"])
	switch {
	case ok && kind == connect.PluginSource:
		return connect.TypeSource
	case ok && kind == connect.PluginSink:
		return connect.TypeSink
	}
	return connect.TypeUnknown
}

func (h *Herder) info(s ConfigSnapshot, name string) connect.ConnectorInfo {
	cfg := s.Connectors[name]
	tasks := []connect.TaskID{}
	for i := range s.TaskCounts[name] {
		tasks = append(tasks, connect.TaskID{Connector: name, Task: i})
	}
	return connect.ConnectorInfo{Name: name, Config: maps.Clone(cfg), Tasks: tasks, Type: h.connectorType(cfg)}
}

// ConnectorInfo implements connect.Herder.
func (h *Herder) ConnectorInfo(ctx context.Context, name string) (connect.ConnectorInfo, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return connect.ConnectorInfo{}, err
	}
	if _, ok := s.Connectors[name]; !ok {
		return connect.ConnectorInfo{}, notFound(name)
	}
	return h.info(s, name), nil
}

// ConnectorConfig implements connect.Herder.
func (h *Herder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	info, err := h.ConnectorInfo(ctx, name)
	return info.Config, err
}

// PutConnectorConfig implements connect.Herder; only the leader writes.
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string, initial connect.TargetState, allowReplace bool) (connect.ConnectorInfo, bool, error) {
	if err := h.leaderCheck(); err != nil {
		return connect.ConnectorInfo{}, false, err
	}
	infos, err := h.cfg.Registry.Validate(config)
	if err != nil {
		return connect.ConnectorInfo{}, false, err
	}
	if err := connect.ConfigErrors(infos); err != nil {
		return connect.ConnectorInfo{}, false, err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return connect.ConnectorInfo{}, false, err
	}
	_, exists := h.configs.Snapshot().Connectors[name]
	if exists && !allowReplace {
		return connect.ConnectorInfo{}, false, connect.Errorf(http.StatusConflict, "Connector %s already exists", name)
	}
	target := ""
	if !exists && initial != "" {
		target = string(initial)
	}
	if err := h.configs.PutConnectorConfig(ctx, name, config, target); err != nil {
		return connect.ConnectorInfo{}, false, err
	}
	return h.info(h.configs.Snapshot(), name), !exists, nil
}

// PatchConnectorConfig implements connect.Herder.
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (connect.ConnectorInfo, error) {
	if err := h.leaderCheck(); err != nil {
		return connect.ConnectorInfo{}, err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return connect.ConnectorInfo{}, err
	}
	cur, ok := h.configs.Snapshot().Connectors[name]
	if !ok {
		return connect.ConnectorInfo{}, notFound(name)
	}
	next := maps.Clone(cur)
	for k, v := range patch {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	info, _, err := h.PutConnectorConfig(ctx, name, next, "", true)
	return info, err
}

// DeleteConnector implements connect.Herder.
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	if err := h.leaderCheck(); err != nil {
		return err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return err
	}
	if _, ok := h.configs.Snapshot().Connectors[name]; !ok {
		return notFound(name)
	}
	return h.configs.RemoveConnectorConfig(ctx, name)
}

func toState(s Status, ok bool) (connect.State, string, string) {
	if !ok {
		return connect.StateUnassigned, "", ""
	}
	return connect.State(s.State), s.WorkerID, s.Trace
}

// ConnectorStatus implements connect.Herder.
func (h *Herder) ConnectorStatus(ctx context.Context, name string) (connect.ConnectorStateInfo, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return connect.ConnectorStateInfo{}, err
	}
	cfg, exists := s.Connectors[name]
	cs, ok := h.status.Connector(name)
	if !ok {
		if !exists {
			return connect.ConnectorStateInfo{}, connect.Errorf(http.StatusNotFound, "No status found for connector %s", name)
		}
	}
	st, wid, trace := toState(cs, ok)
	out := connect.ConnectorStateInfo{
		Name:      name,
		Connector: connect.ConnectorState{State: st, WorkerID: wid, Trace: trace},
		Tasks:     []connect.TaskState{},
		Type:      h.connectorType(cfg),
	}
	for i := range s.TaskCounts[name] {
		ts, ok := h.status.Task(TaskID{name, i})
		st, wid, trace := toState(ts, ok)
		out.Tasks = append(out.Tasks, connect.TaskState{ID: i, State: st, WorkerID: wid, Trace: trace})
	}
	return out, nil
}

// TaskStatus implements connect.Herder.
func (h *Herder) TaskStatus(ctx context.Context, id connect.TaskID) (connect.TaskState, error) {
	if err := h.waitReady(ctx); err != nil {
		return connect.TaskState{}, err
	}
	ts, ok := h.status.Task(TaskID{id.Connector, id.Task})
	if !ok {
		return connect.TaskState{}, connect.Errorf(http.StatusNotFound, "No status found for task %s", id)
	}
	return connect.TaskState{ID: id.Task, State: connect.State(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace}, nil
}

// TaskConfigs implements connect.Herder.
func (h *Herder) TaskConfigs(ctx context.Context, name string) ([]connect.TaskInfo, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := s.Connectors[name]; !ok {
		return nil, notFound(name)
	}
	out := []connect.TaskInfo{}
	for i, c := range s.TaskConfigs(name) {
		out = append(out, connect.TaskInfo{ID: connect.TaskID{Connector: name, Task: i}, Config: maps.Clone(c)})
	}
	return out, nil
}

// RestartConnector implements connect.Herder: the leader writes a
// restart request that the worker running the connector carries out.
func (h *Herder) RestartConnector(ctx context.Context, name string) error {
	_, err := h.RestartConnectorAndTasks(ctx, connect.RestartRequest{Connector: name})
	return err
}

// RestartConnectorAndTasks implements connect.Herder.
func (h *Herder) RestartConnectorAndTasks(ctx context.Context, req connect.RestartRequest) (connect.ConnectorStateInfo, error) {
	if err := h.leaderCheck(); err != nil {
		return connect.ConnectorStateInfo{}, err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return connect.ConnectorStateInfo{}, err
	}
	if _, ok := h.configs.Snapshot().Connectors[req.Connector]; !ok {
		return connect.ConnectorStateInfo{}, notFound(req.Connector)
	}
	info, err := h.ConnectorStatus(ctx, req.Connector)
	if err != nil {
		return connect.ConnectorStateInfo{}, connect.Errorf(http.StatusNotFound, "Status for connector %s not found", req.Connector)
	}
	if err := h.configs.PutRestartRequest(ctx, RestartRequest{Connector: req.Connector, IncludeTasks: req.IncludeTasks, OnlyFailed: req.OnlyFailed}); err != nil {
		return connect.ConnectorStateInfo{}, err
	}
	if req.ShouldRestartConnector(info.Connector.State) {
		info.Connector.State = connect.StateRestarting
	}
	for i := range info.Tasks {
		if req.ShouldRestartTask(info.Tasks[i].State) {
			info.Tasks[i].State = connect.StateRestarting
		}
	}
	return info, nil
}

// RestartTask implements connect.Herder: the worker running the task
// restarts it; others forward the request there.
func (h *Herder) RestartTask(ctx context.Context, id connect.TaskID) error {
	if err := h.waitReady(ctx); err != nil {
		return err
	}
	s := h.configs.Snapshot()
	if _, ok := s.Connectors[id.Connector]; !ok {
		return notFound(id.Connector)
	}
	tid := TaskID{id.Connector, id.Task}
	if _, ok := s.Tasks[tid]; !ok || id.Task >= s.TaskCounts[id.Connector] {
		return connect.Errorf(http.StatusNotFound, "Task %s not found", id)
	}
	h.mu.Lock()
	rebalancing := h.rebalancing
	mine := slices.Contains(h.assignment.Tasks, tid)
	h.mu.Unlock()
	if rebalancing {
		return errRebalance()
	}
	if !mine {
		st, ok := h.status.Task(tid)
		if !ok || st.WorkerID == h.cfg.WorkerID {
			return errRebalance()
		}
		return &connect.NotLeaderError{URL: "http://" + st.WorkerID}
	}
	h.do(ctx, func() {
		h.stopTask(tid)
		h.TaskState(id, connect.StateRestarting, "")
		h.startTask(ctx, tid)
	})
	return nil
}

func (h *Herder) setTarget(ctx context.Context, name string, target string) error {
	if err := h.waitReady(ctx); err != nil {
		return err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return err
	}
	if _, ok := h.configs.Snapshot().Connectors[name]; !ok {
		return notFound(name)
	}
	return h.configs.PutTargetState(ctx, name, target)
}

// PauseConnector implements connect.Herder; any worker may write it.
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, TargetPaused)
}

// ResumeConnector implements connect.Herder.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, TargetStarted)
}

// StopConnector implements connect.Herder: the leader writes an empty
// set of task configs and the STOPPED target state, as Kafka does.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	if err := h.leaderCheck(); err != nil {
		return err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return err
	}
	if _, ok := h.configs.Snapshot().Connectors[name]; !ok {
		return notFound(name)
	}
	if err := h.configs.PutTaskConfigs(ctx, name, nil); err != nil {
		return err
	}
	return h.configs.PutTargetState(ctx, name, TargetStopped)
}

// ConnectorActiveTopics implements connect.Herder.
func (h *Herder) ConnectorActiveTopics(ctx context.Context, name string) ([]string, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := s.Connectors[name]; !ok {
		return nil, notFound(name)
	}
	return h.status.Topics(name), nil
}

// ResetConnectorActiveTopics implements connect.Herder.
func (h *Herder) ResetConnectorActiveTopics(ctx context.Context, name string) error {
	s, err := h.snapshot(ctx)
	if err != nil {
		return err
	}
	if _, ok := s.Connectors[name]; !ok {
		return notFound(name)
	}
	return h.status.ResetTopics(ctx, name)
}

// ConnectorOffsets implements connect.Herder (KIP-875).
func (h *Herder) ConnectorOffsets(ctx context.Context, name string) (connect.ConnectorOffsets, error) {
	s, err := h.snapshot(ctx)
	if err != nil {
		return connect.ConnectorOffsets{}, err
	}
	cfg, ok := s.Connectors[name]
	if !ok {
		return connect.ConnectorOffsets{}, notFound(name)
	}
	return h.run.ConnectorOffsets(ctx, name, cfg)
}

func (h *Herder) modifyChecks(ctx context.Context, name string) (map[string]string, error) {
	if err := h.leaderCheck(); err != nil {
		return nil, err
	}
	if err := h.configs.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s := h.configs.Snapshot()
	cfg, ok := s.Connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	if s.TargetStates[name] != TargetStopped || s.TaskCounts[name] != 0 {
		return nil, connect.Errorf(http.StatusBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return cfg, nil
}

// AlterConnectorOffsets implements connect.Herder (KIP-875).
func (h *Herder) AlterConnectorOffsets(ctx context.Context, name string, offsets []connect.ConnectorOffset) (string, error) {
	cfg, err := h.modifyChecks(ctx, name)
	if err != nil {
		return "", err
	}
	if len(offsets) == 0 {
		return "", connect.Errorf(http.StatusBadRequest, "The offsets to be altered may not be null or empty")
	}
	return h.run.ModifyConnectorOffsets(ctx, name, cfg, offsets)
}

// ResetConnectorOffsets implements connect.Herder (KIP-875).
func (h *Herder) ResetConnectorOffsets(ctx context.Context, name string) (string, error) {
	cfg, err := h.modifyChecks(ctx, name)
	if err != nil {
		return "", err
	}
	return h.run.ModifyConnectorOffsets(ctx, name, cfg, nil)
}

// Plugins implements connect.Herder.
func (h *Herder) Plugins() *connect.Registry { return h.cfg.Registry }

// ConnectorPluginConfig implements connect.Herder.
func (h *Herder) ConnectorPluginConfig(_ context.Context, plugin string) ([]configdef.KeyInfo, error) {
	return h.cfg.Registry.PluginConfig(plugin)
}

// ValidateConnectorConfig implements connect.Herder.
func (h *Herder) ValidateConnectorConfig(_ context.Context, config map[string]string) (configdef.Infos, error) {
	return h.cfg.Registry.Validate(config)
}

// Loggers implements connect.Herder.
func (h *Herder) Loggers() *connect.Loggers { return h.cfg.Loggers }

// SetClusterLoggerLevel implements connect.Herder: Runnel sets the level
// on this worker only.
func (h *Herder) SetClusterLoggerLevel(_ context.Context, namespace, level string) error {
	if h.cfg.Loggers == nil {
		return connect.Errorf(http.StatusNotFound, "Logger %s not found", namespace)
	}
	_, err := h.cfg.Loggers.Set(namespace, level)
	return err
}
