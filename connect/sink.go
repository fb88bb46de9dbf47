package connect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/runnel/runnel/connect/connector"
)

// A sink task's loop: a consumer in group connect-<name> (or
// consumer.override.group.id) → converters → transformations → Put. Open
// and Close follow the group's assignment. Every offset.flush.interval.ms
// (or when the task asks) PreCommit flushes the task and the offsets it
// returns — past records Put or skipped — are committed to the group, so a
// record is committed only once the task has it (at-least-once). A
// conversion or transformation failure tolerated by errors.tolerance=all
// goes to the dead letter queue, with __connect.errors.* headers when
// errors.deadletterqueue.context.headers.enable is set.

// Header names of dead letter queue records, as Kafka writes them.
const (
	dlqHeaderPrefix    = "__connect.errors."
	dlqHeaderTopic     = dlqHeaderPrefix + "topic"
	dlqHeaderPartition = dlqHeaderPrefix + "partition"
	dlqHeaderOffset    = dlqHeaderPrefix + "offset"
	dlqHeaderConnector = dlqHeaderPrefix + "connector.name"
	dlqHeaderTask      = dlqHeaderPrefix + "task.id"
	dlqHeaderStage     = dlqHeaderPrefix + "stage"
	dlqHeaderClass     = dlqHeaderPrefix + "class.name"
	dlqHeaderException = dlqHeaderPrefix + "exception.class.name"
	dlqHeaderMessage   = dlqHeaderPrefix + "exception.message"
	dlqHeaderTrace     = dlqHeaderPrefix + "exception.stacktrace"
)

type sinkTask struct {
	*workerTask
	task     connector.SinkTask
	consumer *kgo.Client
	settings consumerSettings
	dlq      *kgo.Client

	taskMu sync.Mutex // serializes calls into the task (loop and rebalance callbacks)

	mu              sync.Mutex
	assigned        map[connector.TopicPartition]bool
	current         map[connector.TopicPartition]int64 // next offset after the records the task has
	committed       map[connector.TopicPartition]int64
	rewinds         map[connector.TopicPartition]int64
	commitRequested bool
	pausedByTarget  bool
	pausedByTask    map[connector.TopicPartition]bool
	topics          map[string]bool
	failure         error
}

func (w *Worker) newSinkTask(t *workerTask, task connector.SinkTask) (func(), error) {
	props := clientProps(w.cfg, t.cc.Props, "consumer")
	opts, settings, err := consumerOpts(props, w.cfg.BootstrapServers, "connector-consumer-"+t.id.String(), t.id.Connector, w.sinkLog)
	if err != nil {
		return nil, err
	}
	st := &sinkTask{
		workerTask: t, task: task, settings: settings,
		assigned:     make(map[connector.TopicPartition]bool),
		current:      make(map[connector.TopicPartition]int64),
		committed:    make(map[connector.TopicPartition]int64),
		rewinds:      make(map[connector.TopicPartition]int64),
		pausedByTask: make(map[connector.TopicPartition]bool),
		topics:       make(map[string]bool),
	}
	// Task-level topics win (Kafka copies them into every task config).
	topics, regex := t.cc.Topics, t.cc.TopicsRegex
	if v, ok := t.props["topics"]; ok {
		topics = splitList(v)
	}
	if v, ok := t.props["topics.regex"]; ok && v != "" {
		regex = v
	}
	opts = append(opts, kgo.ConsumerGroup(settings.group), kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(st.onAssigned), kgo.OnPartitionsRevoked(st.onRevoked), kgo.OnPartitionsLost(st.onLost))
	if regex != "" {
		if _, err := regexp.Compile(regex); err != nil {
			return nil, badRequestf("Invalid value %s for configuration topics.regex: %v", regex, err)
		}
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(regex))
	} else {
		if len(topics) == 0 {
			return nil, badRequestf("Must configure one of topics or topics.regex")
		}
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	if st.consumer, err = kgo.NewClient(append(opts, w.copts...)...); err != nil {
		return nil, fmt.Errorf("connect: consumer: %w", err)
	}
	if t.cc.DLQTopic != "" {
		popts, err := producerOpts(clientProps(w.cfg, t.cc.Props, "producer"), w.cfg.BootstrapServers, "connector-dlq-producer-"+t.id.String(), w.sinkLog)
		if err == nil {
			st.dlq, err = kgo.NewClient(append(popts, w.copts...)...)
		}
		if err != nil {
			st.consumer.Close()
			return nil, fmt.Errorf("connect: dead letter queue producer: %w", err)
		}
	}
	return st.run, nil
}

// sinkTaskContext is the task's connector.SinkTaskContext.
type sinkTaskContext struct{ st *sinkTask }

func (c sinkTaskContext) Configs() map[string]string { return c.st.props }

func (c sinkTaskContext) Offset(offsets map[connector.TopicPartition]int64) {
	c.st.mu.Lock()
	maps.Copy(c.st.rewinds, offsets)
	c.st.mu.Unlock()
}

func (c sinkTaskContext) Pause(tps ...connector.TopicPartition) {
	c.st.mu.Lock()
	for _, tp := range tps {
		c.st.pausedByTask[tp] = true
	}
	c.st.mu.Unlock()
	c.st.consumer.PauseFetchPartitions(toTopicMap(tps))
}

func (c sinkTaskContext) Resume(tps ...connector.TopicPartition) {
	c.st.mu.Lock()
	for _, tp := range tps {
		delete(c.st.pausedByTask, tp)
	}
	byTarget := c.st.pausedByTarget
	c.st.mu.Unlock()
	if !byTarget {
		c.st.consumer.ResumeFetchPartitions(toTopicMap(tps))
	}
}

func (c sinkTaskContext) RequestCommit() {
	c.st.mu.Lock()
	c.st.commitRequested = true
	c.st.mu.Unlock()
}

func toTopicMap(tps []connector.TopicPartition) map[string][]int32 {
	m := make(map[string][]int32)
	for _, tp := range tps {
		m[tp.Topic] = append(m[tp.Topic], tp.Partition)
	}
	return m
}

func fromTopicMap(m map[string][]int32) []connector.TopicPartition {
	var out []connector.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, connector.TopicPartition{Topic: t, Partition: p})
		}
	}
	return out
}

func (st *sinkTask) setFailure(err error) {
	st.mu.Lock()
	if st.failure == nil {
		st.failure = err
	}
	st.mu.Unlock()
}

func (st *sinkTask) onAssigned(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	tps := fromTopicMap(m)
	st.mu.Lock()
	for _, tp := range tps {
		st.assigned[tp] = true
	}
	paused := st.pausedByTarget
	var newTopics []string
	for t := range m {
		if !st.topics[t] {
			st.topics[t] = true
			newTopics = append(newTopics, t)
		}
	}
	st.mu.Unlock()
	for _, t := range newTopics {
		st.w.st.TopicUsed(st.id.Connector, t)
	}
	if paused {
		cl.PauseFetchPartitions(m)
	}
	st.taskMu.Lock()
	err := st.task.Open(tps)
	st.taskMu.Unlock()
	if err != nil {
		st.setFailure(fmt.Errorf("opening partitions: %w", err))
	}
}

func (st *sinkTask) onRevoked(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	tps := fromTopicMap(m)
	st.commit(ctx, tps)
	st.closePartitions(tps)
}

func (st *sinkTask) onLost(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	st.closePartitions(fromTopicMap(m))
}

func (st *sinkTask) closePartitions(tps []connector.TopicPartition) {
	if len(tps) == 0 {
		return
	}
	st.taskMu.Lock()
	err := st.task.Close(tps)
	st.taskMu.Unlock()
	if err != nil {
		st.w.sinkLog.Warn("sink task: Close failed", "task", st.id.String(), "err", err)
	}
	st.mu.Lock()
	for _, tp := range tps {
		delete(st.assigned, tp)
		delete(st.current, tp)
		delete(st.committed, tp)
		delete(st.rewinds, tp)
	}
	st.mu.Unlock()
}

func (st *sinkTask) run() {
	w := st.w
	defer func() {
		st.consumer.Close()
		if st.dlq != nil {
			st.dlq.Close()
		}
	}()
	if st.dlq != nil {
		if err := st.createDLQTopic(); err != nil {
			st.report(StateFailed, err)
			return
		}
	}
	if err := st.task.Start(sinkTaskContext{st}, st.props); err != nil {
		st.report(StateFailed, err)
		return
	}
	failure := st.loop()
	// Stopping: commit what the task has and close its partitions.
	st.mu.Lock()
	var tps []connector.TopicPartition
	for tp := range st.assigned {
		tps = append(tps, tp)
	}
	st.mu.Unlock()
	if failure == nil {
		cctx, cancel := context.WithTimeout(w.ctx, w.cfg.OffsetFlushTimeout)
		st.commit(cctx, tps)
		cancel()
	}
	st.closePartitions(tps)
	if st.dlq != nil {
		fctx, cancel := context.WithTimeout(w.ctx, w.cfg.OffsetFlushTimeout)
		st.dlq.Flush(fctx)
		cancel()
	}
	if err := st.task.Stop(); err != nil {
		w.sinkLog.Warn("sink task stop failed", "task", st.id.String(), "err", err)
	}
	if failure != nil {
		st.report(StateFailed, failure)
		return
	}
	st.report(StateUnassigned, nil)
}

func (st *sinkTask) createDLQTopic() error {
	topic := st.cc.DLQTopic
	adm := kadm.NewClient(st.w.admin)
	ctx, cancel := context.WithTimeout(st.ctx, 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, 1, st.cc.DLQReplicationFactor, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("Could not initialize dead letter queue with topic=%s: %w", topic, err)
	}
	return nil
}

// setPausedByTarget pauses or resumes fetching of every assigned partition
// for the connector's target state.
func (st *sinkTask) setPausedByTarget(paused bool) {
	st.mu.Lock()
	if st.pausedByTarget == paused {
		st.mu.Unlock()
		return
	}
	st.pausedByTarget = paused
	var all, resume []connector.TopicPartition
	for tp := range st.assigned {
		all = append(all, tp)
		if !st.pausedByTask[tp] {
			resume = append(resume, tp)
		}
	}
	st.mu.Unlock()
	if paused {
		st.consumer.PauseFetchPartitions(toTopicMap(all))
	} else {
		st.consumer.ResumeFetchPartitions(toTopicMap(resume))
	}
}

func (st *sinkTask) loop() error {
	w := st.w
	nextCommit := time.Now().Add(w.cfg.OffsetFlushInterval)
	for {
		if st.ctx.Err() != nil {
			return nil
		}
		paused := st.targetState() != TargetStarted
		st.setPausedByTarget(paused)
		if paused {
			st.report(StatePaused, nil)
		} else {
			st.report(StateRunning, nil)
		}
		st.mu.Lock()
		failure := st.failure
		rewinds := st.rewinds
		st.rewinds = make(map[connector.TopicPartition]int64)
		requested := st.commitRequested
		st.mu.Unlock()
		if failure != nil {
			return failure
		}
		if len(rewinds) > 0 {
			// The rewound position is the task's position from now on, as
			// in Kafka: a commit does not skip the records to redeliver.
			st.mu.Lock()
			for tp, o := range rewinds {
				if st.assigned[tp] {
					st.current[tp] = o
				}
			}
			st.mu.Unlock()
			set := make(map[string]map[int32]kgo.EpochOffset)
			for tp, o := range rewinds {
				if set[tp.Topic] == nil {
					set[tp.Topic] = make(map[int32]kgo.EpochOffset)
				}
				set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
			}
			st.consumer.SetOffsets(set)
		}
		if requested || !time.Now().Before(nextCommit) {
			st.mu.Lock()
			st.commitRequested = false
			st.mu.Unlock()
			st.commit(st.ctx, nil)
			nextCommit = time.Now().Add(w.cfg.OffsetFlushInterval)
		}
		fetches := st.poll(nextCommit)
		if st.ctx.Err() != nil {
			st.consumer.AllowRebalance()
			return nil
		}
		var fatal error
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			if errors.Is(err, kgo.ErrClientClosed) {
				fatal = err
				return
			}
			w.sinkLog.Warn("sink task: fetch error", "task", st.id.String(), "topic", topic, "partition", p, "err", err)
		})
		if fatal != nil {
			st.consumer.AllowRebalance()
			return fatal
		}
		if err := st.deliver(fetches.Records()); err != nil {
			st.consumer.AllowRebalance()
			return err
		}
		st.consumer.AllowRebalance()
	}
}

// poll fetches with a context that ends at the next commit, at a target
// change or when the task stops.
func (st *sinkTask) poll(deadline time.Time) kgo.Fetches {
	ctx, cancel := context.WithDeadline(st.ctx, deadline)
	defer cancel()
	// A watcher ends the poll early on a target change; it is waited for.
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	defer watcher.Wait()
	defer close(stop)
	go func() {
		defer watcher.Done()
		select {
		case <-st.changed:
			cancel()
		case <-stop:
		}
	}()
	return st.consumer.PollRecords(ctx, st.settings.maxPollRecords)
}

// deliver converts and transforms records and puts them into the task,
// retrying a retriable Put with the same records.
func (st *sinkTask) deliver(recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	w := st.w
	batch := make([]connector.SinkRecord, 0, len(recs))
	next := make(map[connector.TopicPartition]int64)
	for _, kr := range recs {
		next[connector.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}] = kr.Offset + 1
		sr, keep, err := st.convert(kr)
		if err != nil {
			return err
		}
		if keep {
			batch = append(batch, sr)
		}
	}
	for {
		st.taskMu.Lock()
		err := st.task.Put(batch)
		st.taskMu.Unlock()
		if err == nil {
			break
		}
		if !errors.Is(err, connector.ErrRetriable) {
			return fmt.Errorf("Exiting WorkerSinkTask due to unrecoverable exception: %w", err)
		}
		w.sinkLog.Warn("sink task: retriable error from Put; retrying the same records", "task", st.id.String(), "err", err)
		if err := sleepCtx(st.ctx, time.Second); err != nil {
			return nil
		}
	}
	st.mu.Lock()
	for tp, o := range next {
		if st.assigned[tp] {
			st.current[tp] = o
		}
	}
	st.mu.Unlock()
	return nil
}

// convert turns a consumed record into the SinkRecord the task gets.
func (st *sinkTask) convert(kr *kgo.Record) (connector.SinkRecord, bool, error) {
	w := st.w
	report := func(stage, class string, err error) { st.reportDLQ(kr, stage, class, err) }
	if st.cc.ErrorsLogIncludeMessages {
		// Kafka logs a sink record's coordinates, not its contents.
		st.tol.subject = func() string {
			return fmt.Sprintf("topic=%s partition=%d offset=%d timestamp=%d", kr.Topic, kr.Partition, kr.Offset, kr.Timestamp.UnixMilli())
		}
	}
	var headers []connector.Header
	for _, h := range kr.Headers {
		headers = append(headers, connector.Header{Key: h.Key, Value: string(h.Value)})
	}
	part := kr.Partition
	ts := kr.Timestamp.UnixMilli()
	off := kr.Offset
	sr := connector.SinkRecord{
		Record:        connector.Record{Topic: kr.Topic, Partition: &part, Timestamp: &ts, Headers: headers, Offset: &off},
		KafkaOffset:   kr.Offset,
		TimestampType: "CreateTime",
	}
	if kr.Attrs.TimestampType() == 1 {
		sr.TimestampType = "LogAppendTime"
	}
	ok, err := st.tol.do(st.ctx, StageKeyConverter, w.cfg.KeyConverter, func() error {
		var err error
		sr.KeySchema, sr.Key, err = st.convs.key.ToConnectData(kr.Topic, headers, kr.Key)
		return err
	}, report)
	if err != nil || !ok {
		return sr, false, err
	}
	ok, err = st.tol.do(st.ctx, StageValueConverter, w.cfg.ValueConverter, func() error {
		var err error
		sr.ValueSchema, sr.Value, err = st.convs.value.ToConnectData(kr.Topic, headers, kr.Value)
		return err
	}, report)
	if err != nil || !ok {
		return sr, false, err
	}
	rec, keep, err := st.chain.apply(st.ctx, st.tol, sr.Record, report)
	if err != nil || !keep {
		return sr, false, err
	}
	sr.Record = rec
	return sr, true, nil
}

// reportDLQ sends the original record to the dead letter queue.
func (st *sinkTask) reportDLQ(kr *kgo.Record, stage, class string, err error) {
	if st.dlq == nil {
		return
	}
	r := &kgo.Record{Topic: st.cc.DLQTopic, Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp, Headers: append([]kgo.RecordHeader(nil), kr.Headers...)}
	if st.cc.DLQContextHeaders {
		inner := err
		for errors.Unwrap(inner) != nil {
			inner = errors.Unwrap(inner)
		}
		h := func(k, v string) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
		h(dlqHeaderTopic, kr.Topic)
		h(dlqHeaderPartition, strconv.Itoa(int(kr.Partition)))
		h(dlqHeaderOffset, strconv.FormatInt(kr.Offset, 10))
		h(dlqHeaderConnector, st.id.Connector)
		h(dlqHeaderTask, strconv.Itoa(st.id.Task))
		h(dlqHeaderStage, stage)
		h(dlqHeaderClass, class)
		h(dlqHeaderException, fmt.Sprintf("%T", inner))
		h(dlqHeaderMessage, inner.Error())
		h(dlqHeaderTrace, err.Error())
	}
	st.dlq.Produce(st.w.ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			st.w.sinkLog.Error("sink task: could not write to the dead letter queue", "task", st.id.String(), "topic", st.cc.DLQTopic, "err", err)
		}
	})
}

// commit asks the task which offsets are safe (PreCommit) and commits
// them to the group; only tps when given.
func (st *sinkTask) commit(ctx context.Context, tps []connector.TopicPartition) {
	w := st.w
	st.mu.Lock()
	current := make(map[connector.TopicPartition]int64)
	if tps == nil {
		maps.Copy(current, st.current)
	} else {
		for _, tp := range tps {
			if o, ok := st.current[tp]; ok {
				current[tp] = o
			}
		}
	}
	st.mu.Unlock()
	if len(current) == 0 {
		return
	}
	st.taskMu.Lock()
	safe, err := st.task.PreCommit(maps.Clone(current))
	st.taskMu.Unlock()
	if err != nil {
		// Kafka rewinds to the last committed offsets so nothing the task
		// did not flush is skipped.
		w.sinkLog.Error("sink task: PreCommit failed; rewinding to the last committed offsets", "task", st.id.String(), "err", err)
		st.mu.Lock()
		for tp := range current {
			if o, ok := st.committed[tp]; ok {
				st.rewinds[tp] = o
			}
		}
		st.mu.Unlock()
		return
	}
	out := make(map[string]map[int32]kgo.EpochOffset)
	st.mu.Lock()
	for tp, o := range safe {
		if !st.assigned[tp] || st.committed[tp] == o {
			continue
		}
		if out[tp.Topic] == nil {
			out[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		out[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	st.mu.Unlock()
	if len(out) == 0 {
		return
	}
	var cerr error
	st.consumer.CommitOffsetsSync(ctx, out, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
					cerr = fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, err)
				}
			}
		}
	})
	if cerr != nil {
		w.sinkLog.Warn("sink task: offset commit failed", "task", st.id.String(), "err", cerr)
		return
	}
	st.mu.Lock()
	for t, ps := range out {
		for p, eo := range ps {
			st.committed[connector.TopicPartition{Topic: t, Partition: p}] = eo.Offset
			w.sinkLog.Debug("sink task: committed offset", "task", st.id.String(), "topic", t, "partition", p, "offset", eo.Offset)
		}
	}
	st.mu.Unlock()
}
