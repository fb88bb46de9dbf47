package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrAppState is returned (wrapped) by App methods called in a state that
// does not allow them: Run twice, CleanUp while running, a query before
// the App runs.
var ErrAppState = errors.New("streams: app state")

// State is the lifecycle state of an App, as Kafka's KafkaStreams.State.
type State int32

// App states. CREATED → REBALANCING ⇄ RUNNING → PENDING_SHUTDOWN →
// NOT_RUNNING, or → PENDING_ERROR → ERROR when a thread fails.
const (
	Created State = iota
	Rebalancing
	Running
	PendingShutdown
	NotRunning
	PendingError
	Error
)

// String returns Kafka's name of the state.
func (s State) String() string {
	switch s {
	case Created:
		return "CREATED"
	case Rebalancing:
		return "REBALANCING"
	case Running:
		return "RUNNING"
	case PendingShutdown:
		return "PENDING_SHUTDOWN"
	case NotRunning:
		return "NOT_RUNNING"
	case PendingError:
		return "PENDING_ERROR"
	case Error:
		return "ERROR"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// App runs a Topology against a Kafka-protocol cluster (Kafka's
// KafkaStreams): application.id is the consumer group, each of
// num.stream.threads threads is one group member with its own consumer
// and producer, and each thread runs the tasks the group leader assigned
// to it. Create it with NewApp, start it with Run, stop it with Close or
// by cancelling Run's context.
type App struct {
	topo      *Topology
	cfg       Config
	log       *slog.Logger
	metrics   *appMetrics
	processID string
	stores    map[string]storeInfo
	// repartition holds the runtime names of the repartition topics,
	// whose consumed records the threads purge.
	repartition map[string]bool
	global      *Task // the global stores' task, set before the threads start

	mu         sync.Mutex // guards the fields below
	state      State
	threads    []*streamThread
	cancel     context.CancelFunc
	done       chan struct{}
	hosts      map[string][]string // application.server → tasks, from the last assignment
	partitions map[string]int32    // topic → partitions: sources, repartitions, changelogs, sinks
}

// NewApp checks cfg and returns an App ready to Run.
func NewApp(t *Topology, cfg Config) (*App, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil topology", ErrTopology)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(t.Subtopologies()) == 0 {
		return nil, fmt.Errorf("%w: no sub-topology reads a topic", ErrTopology)
	}
	m, err := newAppMetrics(cfg.Registerer, cfg.ApplicationID)
	if err != nil {
		return nil, fmt.Errorf("streams: register metrics: %w", err)
	}
	return &App{
		topo:        t,
		cfg:         cfg,
		log:         cfg.Logger.With("application_id", cfg.ApplicationID),
		metrics:     m,
		processID:   uuid.NewString(),
		stores:      t.storeInfos(),
		repartition: setOf(t.RepartitionTopics(cfg.ApplicationID)),
		state:       Created,
		partitions:  map[string]int32{},
	}, nil
}

// State returns the App's current state.
func (a *App) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// setState moves to s unless the App is already shutting down or failed.
func (a *App) setState(s State) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setStateLocked(s)
}

func (a *App) setStateLocked(s State) {
	switch a.state {
	case PendingShutdown, NotRunning, PendingError, Error:
		if s != NotRunning && s != Error && !(a.state == PendingShutdown && s == PendingError) {
			return
		}
	}
	if a.state != s {
		a.log.Info("state change", "from", a.state.String(), "to", s.String())
	}
	a.state = s
}

// threadsChanged recomputes RUNNING / REBALANCING from the threads.
func (a *App) threadsChanged() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != Running && a.state != Rebalancing {
		return
	}
	running := true
	for _, t := range a.threads {
		if !t.stable.Load() {
			running = false
		}
	}
	if running {
		a.setStateLocked(Running)
	} else {
		a.setStateLocked(Rebalancing)
	}
}

// Run creates the internal topics, starts the threads and blocks until
// ctx is cancelled, Close is called (both return nil) or a thread fails
// (its error is returned). Run may be called once.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.state != Created {
		a.mu.Unlock()
		return fmt.Errorf("%w: Run called in state %s", ErrAppState, a.state)
	}
	ctx, cancel := context.WithCancel(ctx)
	a.cancel, a.done = cancel, make(chan struct{})
	a.setStateLocked(Rebalancing)
	a.mu.Unlock()
	defer close(a.done)
	defer cancel()

	err := a.run(ctx)
	if err != nil && ctx.Err() == nil {
		a.setState(PendingError)
		a.setState(Error)
		return err
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		a.setState(Error)
		return err
	}
	a.setState(NotRunning)
	return nil
}

func (a *App) run(ctx context.Context) error {
	admin, err := kgo.NewClient(a.clientOpts()...)
	if err != nil {
		return fmt.Errorf("streams: admin client: %w", err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	if err := a.prepareTopics(ctx, adm); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(a.cfg.StateDir, a.cfg.ApplicationID), 0o755); err != nil {
		return fmt.Errorf("streams: state.dir: %w", err)
	}
	gt, err := newGlobalThread(ctx, a, adm)
	if err != nil {
		return err
	}
	if gt != nil {
		a.mu.Lock()
		a.global = gt.task
		a.mu.Unlock()
	}
	threads := make([]*streamThread, a.cfg.NumStreamThreads)
	for i := range threads {
		threads[i] = newStreamThread(a, i+1, adm)
	}
	a.mu.Lock()
	a.threads = threads
	a.mu.Unlock()

	errs := make(chan error, len(threads)+1)
	var wg sync.WaitGroup
	for _, t := range threads {
		wg.Go(func() { errs <- t.run(ctx) })
	}
	workers := len(threads)
	if gt != nil {
		workers++
		wg.Go(func() { errs <- gt.run(ctx) })
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
			a.setState(PendingError)
			// One failed thread stops the App, as Kafka's default
			// uncaught exception handler (SHUTDOWN_CLIENT) does.
			a.cancel()
		}
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// Close stops a running App and waits for its threads to commit, write
// their checkpoints and leave the group. It is safe to call more than once
// and before Run.
func (a *App) Close() error {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	if cancel == nil {
		a.setStateLocked(NotRunning)
		a.mu.Unlock()
		return nil
	}
	a.setStateLocked(PendingShutdown)
	a.mu.Unlock()
	cancel()
	<-done
	return nil
}

// CleanUp deletes the App's local state directory
// (state.dir/application.id), as KafkaStreams#cleanUp. It fails while the
// App runs.
func (a *App) CleanUp() error {
	switch s := a.State(); s {
	case Created, NotRunning, Error:
	default:
		return fmt.Errorf("%w: CleanUp called in state %s", ErrAppState, s)
	}
	if err := os.RemoveAll(filepath.Join(a.cfg.StateDir, a.cfg.ApplicationID)); err != nil {
		return fmt.Errorf("streams: clean up: %w", err)
	}
	return nil
}

// clientOpts are the options every client of the App starts from.
func (a *App) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(a.cfg.BootstrapServers...)}
	opts = append(opts, extra...)
	return append(opts, a.cfg.ClientOptions...)
}

// prepareTopics checks the source topics, resolves partition counts,
// checks co-partitioning and creates the repartition and changelog topics
// that do not exist yet.
func (a *App) prepareTopics(ctx context.Context, adm *kadm.Client) error {
	appID := a.cfg.ApplicationID
	details, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("streams: list topics: %w", err)
	}
	known := map[string]int32{}
	for name, d := range details {
		if d.Err == nil {
			known[name] = int32(len(d.Partitions))
		}
	}
	topics, tasks, err := a.topo.partitionPlan(appID, known)
	if err != nil {
		return err
	}
	create := func(name string, partitions int32, cfg map[string]*string) error {
		if n, ok := known[name]; ok {
			if n != partitions {
				return fmt.Errorf("streams: internal topic %q has %d partitions, the topology needs %d", name, n, partitions)
			}
			return nil
		}
		resp, err := adm.CreateTopic(ctx, partitions, int16(a.cfg.ReplicationFactor), cfg, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !isTopicExists(err) {
			return fmt.Errorf("streams: create internal topic %q: %w", name, err)
		}
		a.log.Info("created internal topic", "topic", name, "partitions", partitions)
		return nil
	}
	for _, tp := range a.topo.RepartitionTopics(appID) {
		if err := create(tp, topics[tp], repartitionConfig()); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(a.stores) {
		si := a.stores[name]
		if !si.logged {
			continue
		}
		tp := ChangelogTopic(appID, name)
		topics[tp] = tasks[si.sub]
		if err := create(tp, tasks[si.sub], changelogConfig(si, a.cfg.WindowChangelogAdditionalRetention)); err != nil {
			return err
		}
	}
	a.mu.Lock()
	maps.Copy(a.partitions, topics)
	a.mu.Unlock()
	return nil
}

// isTopicExists reports a TOPIC_ALREADY_EXISTS answer, which a concurrent
// instance creating the same internal topic causes.
func isTopicExists(err error) bool {
	return errors.Is(err, kerr.TopicAlreadyExists)
}

// partitionCount returns the partitions of topic, asking the cluster the
// first time a topic (such as a sink topic) is met.
func (a *App) partitionCount(ctx context.Context, adm *kadm.Client, topic string) (int32, error) {
	a.mu.Lock()
	n, ok := a.partitions[topic]
	a.mu.Unlock()
	if ok {
		return n, nil
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("streams: metadata of %q: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil || len(d.Partitions) == 0 {
		return 0, fmt.Errorf("streams: topic %q does not exist", topic)
	}
	n = int32(len(d.Partitions))
	a.mu.Lock()
	a.partitions[topic] = n
	a.mu.Unlock()
	return n, nil
}

// assignmentReceived keeps the group-wide part of an assignment for
// interactive queries.
func (a *App) assignmentReceived(info assignmentInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hosts = info.Hosts
	for tp, n := range info.Partitions {
		a.partitions[tp] = n
	}
}

// threadList returns the running threads.
func (a *App) threadList() []*streamThread {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.threads)
}

// setOf returns the set of names.
func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
