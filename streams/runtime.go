package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runnel/runnel/state"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A streamThread is one group member: a consumer of the tasks' source
// partitions, a producer for their output (transactional under
// exactly_once_v2) and the loop that feeds records to the tasks. Threads
// are members, not task loops inside one member: each has its own
// transactional.id, so exactly_once_v2 fences per thread as Kafka does.
//
// Concurrency. The loop goroutine and franz-go's group callbacks
// (assigned, revoked, lost) share the thread's tasks under mu; the loop
// holds mu while it processes a poll, the callbacks while they commit or
// close tasks. BlockRebalanceOnPoll keeps revocation from starting between
// a poll and the end of its processing, so a revocation never interrupts
// a batch. Standby tasks and their consumer are shared the same way:
// onAssigned closes those that moved away, the loop opens, updates and
// checkpoints the rest. Interactive queries take mu to read stores.
// Produce acknowledgements arrive on franz-go's goroutines and touch only
// ackMu's fields.
type streamThread struct {
	app    *App
	idx    int
	name   string
	eos    bool
	adm    *kadm.Client
	log    *slog.Logger
	stable atomic.Bool // no assignment waiting to be set up

	cl   *kgo.Client
	sess *kgo.GroupTransactSession // exactly_once_v2 only

	held        atomic.Pointer[[]string] // tasks held, for the subscription
	heldStandby atomic.Pointer[[]string] // standby tasks kept, for the subscription
	nextStandby atomic.Pointer[[]TaskID] // standby tasks of the last assignment received

	mu sync.Mutex
	// bg is the context of produce calls and metadata lookups: not
	// cancelled with Run's, so the final commit can still produce.
	bg         context.Context
	tasks      map[TaskID]*runTask
	byTP       map[topicPart]*runTask
	want       map[TaskID]bool // tasks of the current assignment
	wantSet    bool            // want changed since tasks were set up
	rebalanced bool            // the session saw a revocation since End
	txnOpen    bool
	lastCommit time.Time
	lastPurge  time.Time
	rr         int32 // round-robin partition of keyless records

	// standbys are the standby tasks open, wantStandby those of the
	// current assignment; standbyCl reads their changelogs, recreated
	// when the set changes (standbyChanged).
	standbys       map[TaskID]*standbyTask
	wantStandby    map[TaskID]bool
	standbyCl      *kgo.Client
	standbyChanged bool

	// cache is the thread's record cache (nil: caching off), shared by
	// its tasks' cached stores and flushed when they commit.
	cache *state.Cache

	// purges runs the DeleteRecords requests for repartition topics, one
	// at a time (purging tells whether one is in flight).
	purges  sync.WaitGroup
	purging atomic.Bool

	ackMu   sync.Mutex
	acked   map[topicPart]int64 // highest acknowledged offset per changelog partition
	prodErr error
}

type topicPart struct {
	topic     string
	partition int32
}

// runTask is a Task with what the runtime keeps for it.
type runTask struct {
	id        TaskID
	task      *Task
	dir       string
	consumed  map[topicPart]int64  // next offset to commit per source partition
	changelog map[string]topicPart // logged store → changelog partition
	persist   map[string]bool      // store → kept on disk
	dirty     bool
}

func newStreamThread(a *App, idx int, adm *kadm.Client) *streamThread {
	t := &streamThread{
		app:   a,
		idx:   idx,
		name:  a.cfg.ApplicationID + "-" + a.processID + "-StreamThread-" + strconv.Itoa(idx),
		eos:   a.cfg.ProcessingGuarantee == ExactlyOnce,
		adm:   adm,
		tasks: map[TaskID]*runTask{},
		byTP:  map[topicPart]*runTask{},
		acked: map[topicPart]int64{},

		standbys:    map[TaskID]*standbyTask{},
		wantStandby: map[TaskID]bool{},
	}
	t.log = a.log.With("thread", t.name)
	if a.cfg.CacheMaxBytes > 0 {
		// statestore.cache.max.bytes is shared by the threads, as in
		// Kafka Streams; NewCache fails only on a negative size.
		t.cache, _ = state.NewCache(state.CacheConfig{MaxBytes: max(a.cfg.CacheMaxBytes/int64(max(a.cfg.NumStreamThreads, 1)), 1), Logger: t.log})
	}
	empty := []string{}
	t.held.Store(&empty)
	t.heldStandby.Store(&empty)
	return t
}

// run is the thread's life: join, process, commit, and on the way out
// commit, checkpoint and close every task.
func (t *streamThread) run(ctx context.Context) (err error) {
	t.bg = context.WithoutCancel(ctx)
	a := t.app
	bal := &taskBalancer{topo: a.topo, appID: a.cfg.ApplicationID, standbys: a.cfg.NumStandbyReplicas, subscription: t.subscription,
		assigned: func(info assignmentInfo) {
			a.assignmentReceived(info)
			t.standbysAssigned(info)
		}}
	opts := []kgo.Opt{
		kgo.ClientID(t.name),
		kgo.ConsumerGroup(a.cfg.ApplicationID),
		kgo.ConsumeTopics(a.topo.allSourceTopics(a.cfg.ApplicationID)...),
		kgo.Balancers(bal),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(t.onAssigned),
		kgo.OnPartitionsRevoked(t.onRevoked),
		kgo.OnPartitionsLost(t.onLost),
	}
	if t.eos {
		opts = append(opts,
			kgo.TransactionalID(a.cfg.ApplicationID+"-"+a.processID+"-"+strconv.Itoa(t.idx)),
			kgo.TransactionTimeout(10*time.Second),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.RequireStableFetchOffsets(),
		)
		t.sess, err = kgo.NewGroupTransactSession(a.clientOpts(opts...)...)
		if err == nil {
			t.cl = t.sess.Client()
		}
	} else {
		t.cl, err = kgo.NewClient(a.clientOpts(opts...)...)
	}
	if err != nil {
		return fmt.Errorf("streams: %s: client: %w", t.name, err)
	}
	t.lastCommit = time.Now()
	t.lastPurge = t.lastCommit
	err = t.loop(ctx)
	t.shutdown(err == nil)
	t.purges.Wait()
	if t.sess != nil {
		t.sess.CloseAllowingRebalance()
	} else {
		t.cl.CloseAllowingRebalance()
	}
	return err
}

// loop polls and processes until ctx ends or processing fails.
func (t *streamThread) loop(ctx context.Context) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, t.app.cfg.PollInterval)
		fetches := t.cl.PollRecords(pctx, t.app.cfg.MaxPollRecords)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		t.mu.Lock()
		allow, err := t.handle(ctx, fetches)
		t.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if allow {
			t.cl.AllowRebalance()
		}
	}
}

// handle sets up new tasks, processes one poll and commits when due. It
// reports whether a rebalance may proceed (under exactly_once_v2, only
// with no transaction open).
func (t *streamThread) handle(ctx context.Context, fetches kgo.Fetches) (bool, error) {
	if t.wantSet {
		if err := t.setUpTasks(ctx); err != nil {
			return false, err
		}
	} else if len(t.standbys) < len(t.wantStandby) {
		if err := t.setUpStandbys(); err != nil {
			return false, err
		}
	}
	if t.eos && t.rebalanced && !t.txnOpen {
		// The session marks a revocation as a reason to abort the next
		// transaction; clear it with an empty one and drop this poll,
		// whose positions the session rewinds to the committed offsets.
		if _, err := t.sess.End(ctx, kgo.TryAbort); err != nil {
			return false, fmt.Errorf("streams: %s: end transaction: %w", t.name, err)
		}
		t.rebalanced = false
		return true, nil
	}
	if t.eos && !t.txnOpen && len(t.tasks) > 0 {
		if err := t.sess.Begin(); err != nil {
			return false, fmt.Errorf("streams: %s: begin transaction: %w", t.name, err)
		}
		t.txnOpen = true
	}
	// Group the poll by task; a task reading several partitions takes
	// their records in timestamp order (the smallest head first), as
	// Kafka Streams' partition group does within what it has buffered.
	batches := map[*runTask][]partBatch{}
	var order []*runTask
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		tp := topicPart{p.Topic, p.Partition}
		rt := t.byTP[tp]
		if rt == nil || len(p.Records) == 0 {
			return
		}
		if _, ok := batches[rt]; !ok {
			order = append(order, rt)
		}
		batches[rt] = append(batches[rt], partBatch{tp: tp, recs: p.Records})
	})
	for _, rt := range order {
		if err := t.process(rt, batches[rt]); err != nil {
			return false, err
		}
	}
	requested := false
	for _, rt := range t.tasks {
		if _, err := rt.task.PunctuateWallClock(); err != nil {
			return false, err
		}
		requested = requested || rt.task.CommitRequested()
	}
	if err := t.producerError(); err != nil {
		return false, err
	}
	if err := t.updateStandbys(); err != nil {
		return false, err
	}
	if requested || time.Since(t.lastCommit) >= t.app.cfg.CommitInterval {
		if err := t.commit(ctx); err != nil {
			return false, err
		}
		if err := t.checkpointStandbys(); err != nil {
			return false, err
		}
	}
	return !t.txnOpen, nil
}

// partBatch is the polled records of one partition.
type partBatch struct {
	tp   topicPart
	recs []*kgo.Record
}

// process runs a task's polled records through it, merging its
// partitions by timestamp and keeping each partition's offset order.
func (t *streamThread) process(rt *runTask, parts []partBatch) error {
	m := t.app.metrics
	for {
		next := -1
		for i, pb := range parts {
			if len(pb.recs) > 0 && (next < 0 || pb.recs[0].Timestamp.Before(parts[next].recs[0].Timestamp)) {
				next = i
			}
		}
		if next < 0 {
			return nil
		}
		r := parts[next].recs[0]
		parts[next].recs = parts[next].recs[1:]
		in := InputRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()}
		if len(r.Headers) > 0 {
			in.Headers = make(Headers, len(r.Headers))
			for i, h := range r.Headers {
				in.Headers[i] = Header{Key: h.Key, Value: h.Value}
			}
		}
		start := time.Now()
		if err := rt.task.Process(in); err != nil {
			return err
		}
		m.processLatency.Observe(time.Since(start).Seconds())
		m.processed.Inc()
		rt.consumed[parts[next].tp] = r.Offset + 1
		rt.dirty = true
	}
}

// commit makes the tasks' progress durable: under at_least_once it flushes
// the stores and the producer, commits the consumed offsets and writes
// checkpoints; under exactly_once_v2 it flushes the stores and commits the
// transaction holding the output and the offsets, rebuilding the tasks
// from their changelogs when the transaction aborts.
func (t *streamThread) commit(ctx context.Context) error {
	start := time.Now()
	defer func() {
		t.lastCommit = time.Now()
		t.app.metrics.commits.Inc()
		t.app.metrics.commitLatency.Observe(time.Since(start).Seconds())
	}()
	if t.eos && !t.txnOpen {
		// Flushing stores may forward records (suppression buffers);
		// they belong in a transaction too.
		if err := t.sess.Begin(); err != nil {
			return fmt.Errorf("streams: %s: begin transaction: %w", t.name, err)
		}
		t.txnOpen = true
	}
	for _, rt := range t.tasks {
		if err := rt.task.Commit(); err != nil {
			return err
		}
	}
	if t.eos {
		committed, err := t.sess.End(ctx, kgo.TryCommit)
		t.txnOpen = false
		t.rebalanced = false
		if err != nil {
			return fmt.Errorf("streams: %s: commit transaction: %w", t.name, err)
		}
		if !committed {
			t.app.metrics.aborted.Inc()
			t.log.Warn("transaction aborted; rebuilding task state from the changelogs")
			return t.rebuild(ctx)
		}
		if err := t.producerError(); err != nil {
			return err
		}
		for _, rt := range t.tasks {
			rt.dirty = false
		}
		t.maybePurge()
		return nil
	}
	if err := t.cl.Flush(ctx); err != nil {
		return fmt.Errorf("streams: %s: flush producer: %w", t.name, err)
	}
	if err := t.producerError(); err != nil {
		return err
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for _, rt := range t.tasks {
		if !rt.dirty {
			continue
		}
		for tp, off := range rt.consumed {
			if offsets[tp.topic] == nil {
				offsets[tp.topic] = map[int32]kgo.EpochOffset{}
			}
			offsets[tp.topic][tp.partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		}
	}
	if len(offsets) > 0 {
		var cerr error
		t.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			cerr = commitError(resp, err)
		})
		if cerr != nil {
			// A rebalance under way fails the commit (Kafka's
			// TaskMigratedException); the records are processed again
			// by the next owner, which at_least_once allows.
			t.log.Warn("offset commit failed", "err", cerr)
			return nil
		}
	}
	for _, rt := range t.tasks {
		rt.dirty = false
		if err := t.checkpoint(rt); err != nil {
			return err
		}
	}
	t.maybePurge()
	return nil
}

// maybePurge deletes, once repartition.purge.interval.ms has passed since
// the last time, the records of repartition partitions below the offsets
// just committed: their only reader has consumed them, so they only hold
// disk (Kafka Streams does the same). It runs after a successful commit,
// in the background and one request at a time; a failure is logged and
// the next purge covers the same records.
func (t *streamThread) maybePurge() {
	if len(t.app.repartition) == 0 || time.Since(t.lastPurge) < t.app.cfg.RepartitionPurgeInterval || t.purging.Load() {
		return
	}
	offs := kadm.Offsets{}
	for _, rt := range t.tasks {
		for tp, off := range rt.consumed {
			if t.app.repartition[tp.topic] {
				offs.Add(kadm.Offset{Topic: tp.topic, Partition: tp.partition, At: off})
			}
		}
	}
	if len(offs) == 0 {
		return
	}
	t.lastPurge = time.Now()
	t.purging.Store(true)
	t.purges.Go(func() {
		defer t.purging.Store(false)
		ctx, cancel := context.WithTimeout(t.bg, 30*time.Second)
		defer cancel()
		resp, err := t.adm.DeleteRecords(ctx, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.log.Warn("purging repartition topics failed", "err", err)
		}
	})
}

// producerError returns the first produce failure, which is fatal as with
// Kafka's default production exception handler.
func (t *streamThread) producerError() error {
	t.ackMu.Lock()
	defer t.ackMu.Unlock()
	if t.prodErr != nil {
		return fmt.Errorf("streams: %s: produce: %w", t.name, t.prodErr)
	}
	return nil
}

// Send implements RecordCollector: it picks the partition as Kafka's
// producer and Kafka Streams do (explicit, the sink's partitioner, else
// murmur2 of the key) and produces asynchronously.
func (t *streamThread) Send(r OutputRecord) error {
	part := r.Partition
	if part < 0 {
		n, err := t.app.partitionCount(t.bg, t.adm, r.Topic)
		if err != nil {
			return err
		}
		chosen := false
		if r.Partitioner != nil {
			part, chosen = r.Partitioner(n)
			if chosen && (part < 0 || part >= n) {
				return fmt.Errorf("streams: partitioner chose partition %d of %d for %s", part, n, r.Topic)
			}
		}
		if !chosen {
			if r.Key != nil {
				part = KeyPartition(r.Key, n)
			} else {
				part = t.rr % n
				t.rr++
			}
		}
	}
	rec := &kgo.Record{Topic: r.Topic, Partition: part, Key: r.Key, Value: r.Value, Timestamp: time.UnixMilli(r.Timestamp)}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	t.cl.Produce(t.bg, rec, t.acknowledged)
	return nil
}

// acknowledged records the offset of every changelog write and the first
// failure.
func (t *streamThread) acknowledged(r *kgo.Record, err error) {
	t.ackMu.Lock()
	defer t.ackMu.Unlock()
	if err != nil {
		if t.prodErr == nil && !errors.Is(err, kgo.ErrAborting) && !errors.Is(err, context.Canceled) {
			t.prodErr = fmt.Errorf("%s-%d: %w", r.Topic, r.Partition, err)
		}
		return
	}
	tp := topicPart{r.Topic, r.Partition}
	if off, ok := t.acked[tp]; ok && r.Offset > off {
		t.acked[tp] = r.Offset
	}
}

// subscription is the thread's JoinGroup user data.
func (t *streamThread) subscription() subscriptionInfo {
	return subscriptionInfo{
		ProcessID: t.app.processID,
		Endpoint:  t.app.cfg.ApplicationServer,
		Active:    *t.held.Load(),
		State:     t.app.localStateTasks(),
		Standby:   *t.heldStandby.Load(),
	}
}

// localStateTasks lists the task directories with a checkpoint file.
func (a *App) localStateTasks() []string {
	entries, err := os.ReadDir(filepath.Join(a.cfg.StateDir, a.cfg.ApplicationID))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if _, err := parseTaskID(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(a.cfg.StateDir, a.cfg.ApplicationID, e.Name(), state.CheckpointFile)); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// onAssigned records the new assignment and closes the tasks that moved
// away; new tasks are set up (and restored) by the loop.
func (t *streamThread) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	want := map[TaskID]bool{}
	appID := t.app.cfg.ApplicationID
	for _, id := range t.app.topo.Subtopologies() {
		for _, tp := range t.app.topo.SourceTopics(id, appID) {
			for _, p := range assigned[tp] {
				want[TaskID{Subtopology: id, Partition: p}] = true
			}
		}
	}
	for id, rt := range t.tasks {
		if !want[id] {
			t.closeTask(rt, true)
		}
	}
	t.takeStandbyAssignment(want)
	t.want, t.wantSet = want, true
	t.stable.Store(false)
	t.app.threadsChanged()
}

// onRevoked commits before the partitions go (at_least_once). Tasks stay
// open, suspended, until the assignment tells whether they come back.
func (t *streamThread) onRevoked(ctx context.Context, _ *kgo.Client, _ map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stable.Store(false)
	t.app.threadsChanged()
	if t.eos {
		t.rebalanced = true
		if t.txnOpen {
			// Cannot happen with BlockRebalanceOnPoll, which keeps a
			// rebalance out while a transaction is open; if it does, the
			// transaction will abort, so the state is not trusted.
			for _, rt := range t.tasks {
				t.closeTask(rt, false)
			}
		}
		return
	}
	if len(t.tasks) > 0 {
		if err := t.commit(ctx); err != nil {
			t.log.Warn("commit on revocation failed", "err", err)
		}
	}
}

// onLost closes every task without committing: another member may
// already own them.
func (t *streamThread) onLost(_ context.Context, _ *kgo.Client, _ map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rebalanced = true
	for _, rt := range t.tasks {
		t.closeTask(rt, false)
	}
	t.stable.Store(false)
	t.app.threadsChanged()
}

// setUpTasks creates and restores the tasks of the current assignment.
func (t *streamThread) setUpTasks(ctx context.Context) error {
	var created []*runTask
	for id := range t.want {
		if _, ok := t.tasks[id]; ok {
			continue
		}
		rt, err := t.openTaskWhenFree(ctx, id)
		if err != nil {
			for _, c := range created {
				c.task.Close()
			}
			return err
		}
		created = append(created, rt)
	}
	if err := t.restore(ctx, created); err != nil {
		for _, rt := range created {
			rt.task.Close()
		}
		return err
	}
	for _, rt := range created {
		t.tasks[rt.id] = rt
		for tp := range taskPartitions(rt.id, t.app.topo.SourceTopics(rt.id.Subtopology, t.app.cfg.ApplicationID), t.app.partitionsSnapshot()) {
			t.byTP[topicPart{tp, rt.id.Partition}] = rt
		}
	}
	held := make([]string, 0, len(t.tasks))
	for id := range t.tasks {
		held = append(held, id.String())
	}
	t.held.Store(&held)
	if err := t.setUpStandbys(); err != nil {
		return err
	}
	t.wantSet = false
	t.stable.Store(true)
	t.app.metrics.tasks.Add(float64(len(created)))
	t.app.threadsChanged()
	return nil
}

// taskLockWait bounds how long a thread waits for another thread of the
// same instance to release a task's state directory.
const taskLockWait = 60 * time.Second

// openTaskWhenFree opens a task, waiting while another thread of this
// instance still holds its stores: when a task moves between threads, the
// new owner may see its assignment before the old one has closed the task
// on seeing its own, as Kafka Streams' state-directory lock makes the new
// owner wait.
func (t *streamThread) openTaskWhenFree(ctx context.Context, id TaskID) (*runTask, error) {
	deadline := time.Now().Add(taskLockWait)
	for {
		// Another thread still holding the task (active, or standby
		// until it handles its assignment) may have no checkpoint, and
		// opening would wipe the directory under it: wait for it first.
		if !t.heldByOtherThread(id) || time.Now().After(deadline) {
			rt, err := t.openTask(id)
			if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
				return rt, err
			}
		}
		t.log.Debug("task state held by another thread; waiting", "task", id)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// partitionsSnapshot copies the known partition counts.
func (a *App) partitionsSnapshot() map[string]int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int32, len(a.partitions))
	for k, v := range a.partitions {
		out[k] = v
	}
	return out
}

// openTask opens a task's stores after checking its checkpoint: with a
// checkpoint covering every persistent logged store the local state is
// kept and restored from there; otherwise the task directory is wiped and
// restored from the start of the changelogs. Under exactly_once_v2 the
// checkpoint is removed while the task runs, so a crash leaves none.
func (t *streamThread) openTask(id TaskID) (*runTask, error) {
	a := t.app
	appID := a.cfg.ApplicationID
	dir, changelog, persist, ckpt, err := t.loadTaskState(id)
	if err != nil {
		return nil, err
	}
	rt := &runTask{
		id:        id,
		dir:       dir,
		consumed:  map[topicPart]int64{},
		changelog: changelog,
		persist:   persist,
	}
	ckptPath := filepath.Join(rt.dir, state.CheckpointFile)
	if ckpt != nil && t.eos {
		if err := os.Remove(ckptPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("streams: task %s: remove checkpoint: %w", id, err)
		}
	}
	task, err := a.topo.NewTask(TaskConfig{
		ID:                              id,
		ApplicationID:                   appID,
		Collector:                       t,
		TimestampExtractor:              a.cfg.TimestampExtractor,
		DeserializationExceptionHandler: a.cfg.DeserializationExceptionHandler,
		StateDir:                        a.cfg.StateDir,
		Cache:                           t.cache,
		Global:                          a.global,
		Logger:                          t.log,
		OnDrop:                          a.countDropped,
	})
	if err != nil {
		return nil, err
	}
	rt.task = task
	t.ackMu.Lock()
	for s, tp := range rt.changelog {
		off, ok := ckpt[state.TopicPartition{Topic: tp.topic, Partition: tp.partition}]
		if !ok || !rt.persist[s] {
			off = -1
		}
		t.acked[tp] = off
	}
	t.ackMu.Unlock()
	return rt, nil
}

// loadTaskState reads the checkpoint of a task's state directory, for an
// active or a standby task. The local state is kept when the checkpoint
// covers every persistent logged store; otherwise the directory is wiped
// and ckpt is nil, so the stores are rebuilt from the start of their
// changelogs. It returns the directory, each logged store's changelog
// partition and which stores are kept on disk.
func (t *streamThread) loadTaskState(id TaskID) (dir string, changelog map[string]topicPart, persist map[string]bool, ckpt map[state.TopicPartition]int64, err error) {
	a := t.app
	appID := a.cfg.ApplicationID
	dir = filepath.Join(a.cfg.StateDir, appID, id.String())
	changelog, persist = map[string]topicPart{}, map[string]bool{}
	ckpt, err = state.ReadCheckpoint(filepath.Join(dir, state.CheckpointFile))
	if err != nil {
		t.log.Warn("unreadable checkpoint; restoring from the changelogs", "task", id.String(), "err", err)
		ckpt = nil
	}
	complete := ckpt != nil
	for _, s := range a.topo.subStores(id.Subtopology) {
		si := a.stores[s]
		persist[s] = si.persistent
		if !si.logged {
			continue
		}
		tp := topicPart{ChangelogTopic(appID, s), id.Partition}
		changelog[s] = tp
		if _, ok := ckpt[state.TopicPartition{Topic: tp.topic, Partition: tp.partition}]; si.persistent && !ok {
			complete = false
		}
	}
	if !complete {
		if err := os.RemoveAll(dir); err != nil {
			return "", nil, nil, nil, fmt.Errorf("streams: task %s: wipe state: %w", id, err)
		}
		ckpt = nil
	}
	return dir, changelog, persist, ckpt, nil
}

// checkpoint writes a task's .checkpoint: the last changelog offset each
// persistent store holds.
func (t *streamThread) checkpoint(rt *runTask) error {
	offsets := map[state.TopicPartition]int64{}
	t.ackMu.Lock()
	for s, tp := range rt.changelog {
		if off := t.acked[tp]; rt.persist[s] && off >= 0 {
			offsets[state.TopicPartition{Topic: tp.topic, Partition: tp.partition}] = off
		}
	}
	t.ackMu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	if err := os.MkdirAll(rt.dir, 0o755); err != nil {
		return fmt.Errorf("streams: task %s: %w", rt.id, err)
	}
	if err := state.WriteCheckpoint(filepath.Join(rt.dir, state.CheckpointFile), offsets); err != nil {
		return fmt.Errorf("streams: task %s: %w", rt.id, err)
	}
	return nil
}

// closeTask closes a task. A clean close (its progress is committed)
// writes the checkpoint; a dirty one under exactly_once_v2 wipes the local
// state, which may hold uncommitted writes.
func (t *streamThread) closeTask(rt *runTask, clean bool) {
	if clean {
		if err := t.checkpoint(rt); err != nil {
			t.log.Warn("checkpoint on close failed", "task", rt.id.String(), "err", err)
		}
	}
	if err := rt.task.Close(); err != nil {
		t.log.Warn("close task", "task", rt.id.String(), "err", err)
	}
	if !clean && t.eos {
		if err := os.RemoveAll(rt.dir); err != nil {
			t.log.Warn("wipe task state", "task", rt.id.String(), "err", err)
		}
	}
	delete(t.tasks, rt.id)
	for tp, x := range t.byTP {
		if x == rt {
			delete(t.byTP, tp)
		}
	}
	t.ackMu.Lock()
	for _, tp := range rt.changelog {
		delete(t.acked, tp)
	}
	t.ackMu.Unlock()
	t.app.metrics.tasks.Dec()
	held := make([]string, 0, len(t.tasks))
	for id := range t.tasks {
		held = append(held, id.String())
	}
	t.held.Store(&held)
}

// rebuild closes every task dirty and sets it up again from the
// changelogs, after an aborted transaction.
func (t *streamThread) rebuild(ctx context.Context) error {
	for _, rt := range t.tasks {
		t.closeTask(rt, false)
	}
	t.ackMu.Lock()
	t.prodErr = nil
	t.ackMu.Unlock()
	return t.setUpTasks(ctx)
}

// shutdown commits (when the thread ends normally) and closes every task.
func (t *streamThread) shutdown(clean bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if clean && len(t.tasks) > 0 {
		if err := t.commit(ctx); err != nil {
			t.log.Warn("final commit failed", "err", err)
			clean = false
		}
	} else if t.eos && t.txnOpen {
		if _, err := t.sess.End(ctx, kgo.TryAbort); err != nil {
			t.log.Warn("abort on shutdown failed", "err", err)
		}
		t.txnOpen = false
	}
	for _, rt := range t.tasks {
		t.closeTask(rt, clean)
	}
	t.closeStandbys()
}

// commitError returns the error of an offset commit, the request's or the
// first partition's.
func commitError(resp *kmsg.OffsetCommitResponse, err error) error {
	if err != nil {
		return err
	}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("%s-%d: %w", tp.Topic, p.Partition, err)
			}
		}
	}
	return nil
}
