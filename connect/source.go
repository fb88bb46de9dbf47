package connect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/connect/connector"
)

// A source task's loop: Poll → transformations → converters → an
// idempotent producer. Every record is tracked per source partition in the
// order it was sent; every offset.flush.interval.ms the offsets of the
// longest acknowledged prefix of each partition are written to the
// OffsetStore and the task's Commit is called, so a stored offset never
// covers a record Kafka has not acknowledged (at-least-once).

// sourceTask is a running source task.
type sourceTask struct {
	*workerTask
	task     connector.SourceTask
	producer *kgo.Client
	offsets  *offsetReader

	mu      sync.Mutex
	queues  map[string]*submittedQueue // by PartitionKey
	failure error                      // first produce failure
	topics  map[string]bool            // reported to TopicUsed
}

// submitted is one record sent, awaiting its acknowledgement.
type submitted struct {
	partition, offset map[string]any
	acked             bool
}

type submittedQueue struct {
	partition map[string]any
	recs      []*submitted
}

// explicitPartition marks records whose partition the connector chose.
type explicitPartitionKey struct{}

// sourcePartitioner honours a record's explicit partition and otherwise
// hashes the key as the Java producer does (murmur2; sticky for nil keys).
type sourcePartitioner struct{ def kgo.Partitioner }

func (p sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return sourceTopicPartitioner{p.def.ForTopic(topic)}
}

type sourceTopicPartitioner struct{ def kgo.TopicPartitioner }

func (p sourceTopicPartitioner) OnNewBatch() {
	if nb, ok := p.def.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

func (p sourceTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	if r.Context != nil && r.Context.Value(explicitPartitionKey{}) != nil {
		return true
	}
	return p.def.RequiresConsistency(r)
}

func (p sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Context != nil {
		if v, ok := r.Context.Value(explicitPartitionKey{}).(int32); ok && int(v) < n {
			return int(v)
		}
	}
	return p.def.Partition(r, n)
}

func (w *Worker) newSourceTask(t *workerTask, task connector.SourceTask) (func(), error) {
	opts, err := producerOpts(clientProps(w.cfg, t.cc.Props, "producer"), w.cfg.BootstrapServers, "connector-producer-"+t.id.String(), w.srcLog)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordPartitioner(sourcePartitioner{kgo.StickyKeyPartitioner(nil)}))
	producer, err := kgo.NewClient(append(opts, w.copts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect: producer: %w", err)
	}
	st := &sourceTask{workerTask: t, task: task, producer: producer, queues: make(map[string]*submittedQueue), topics: make(map[string]bool)}
	return st.run, nil
}

// sourceTaskContext is the task's connector.SourceTaskContext.
type sourceTaskContext struct{ st *sourceTask }

func (c sourceTaskContext) Configs() map[string]string      { return c.st.props }
func (c sourceTaskContext) Offsets() connector.OffsetReader { return c.st.offsets }

func (st *sourceTask) run() {
	w := st.w
	defer st.producer.Close()
	var err error
	if st.offsets, err = newOffsetReader(st.ctx, w.offs, st.id.Connector); err != nil {
		st.report(StateFailed, fmt.Errorf("reading source offsets: %w", err))
		return
	}
	if err := st.task.Start(sourceTaskContext{st}, st.props); err != nil {
		st.report(StateFailed, err)
		return
	}
	failure := st.loop()
	// Stopping: wait for outstanding records, commit what was acknowledged.
	fctx, cancel := context.WithTimeout(w.ctx, w.cfg.OffsetFlushTimeout)
	if err := st.producer.Flush(fctx); err != nil {
		w.srcLog.Warn("source task: records still unacknowledged at stop; they will be sent again", "task", st.id.String(), "err", err)
	}
	cancel()
	if err := st.commit(); err != nil && failure == nil {
		w.srcLog.Error("source task: final offset commit failed", "task", st.id.String(), "err", err)
	}
	if err := st.task.Stop(); err != nil {
		w.srcLog.Warn("source task stop failed", "task", st.id.String(), "err", err)
	}
	if failure != nil {
		st.report(StateFailed, failure)
		return
	}
	st.report(StateUnassigned, nil)
}

// loop polls until the task is stopped or fails; it returns the failure.
func (st *sourceTask) loop() error {
	w := st.w
	nextCommit := time.Now().Add(w.cfg.OffsetFlushInterval)
	for {
		if !st.awaitRunning() {
			return nil
		}
		st.report(StateRunning, nil)
		if err := st.produceFailure(); err != nil {
			return err
		}
		if !time.Now().Before(nextCommit) {
			if err := st.commit(); err != nil {
				w.srcLog.Error("source task: offset commit failed", "task", st.id.String(), "err", err)
			}
			nextCommit = time.Now().Add(w.cfg.OffsetFlushInterval)
		}
		recs, err := st.poll(nextCommit)
		if st.ctx.Err() != nil {
			// Records polled as the task stops are still sent: their
			// offsets are committed only once acknowledged.
			for _, r := range recs {
				if err := st.send(r); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, connector.ErrRetriable) {
				w.srcLog.Warn("source task: retriable poll error", "task", st.id.String(), "err", err)
				continue
			}
			return fmt.Errorf("task threw an uncaught and unrecoverable exception during poll: %w", err)
		}
		for _, r := range recs {
			if err := st.send(r); err != nil {
				return err
			}
		}
	}
}

// poll calls Poll with a context that ends at the next commit, at a target
// change or when the task stops.
func (st *sourceTask) poll(deadline time.Time) ([]connector.SourceRecord, error) {
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
			// Put the signal back for awaitRunning.
			select {
			case st.changed <- struct{}{}:
			default:
			}
			cancel()
		case <-stop:
		}
	}()
	recs, err := st.task.Poll(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil
	}
	return recs, err
}

func (st *sourceTask) produceFailure() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.failure
}

// track registers a record about to be sent under its source partition.
func (st *sourceTask) track(r connector.SourceRecord) *submitted {
	s := &submitted{partition: r.SourcePartition, offset: r.SourceOffset}
	if r.SourcePartition == nil || r.SourceOffset == nil {
		s.acked = true
		return s
	}
	key := PartitionKey(r.SourcePartition)
	st.mu.Lock()
	q := st.queues[key]
	if q == nil {
		q = &submittedQueue{partition: r.SourcePartition}
		st.queues[key] = q
	}
	q.recs = append(q.recs, s)
	st.mu.Unlock()
	return s
}

func (st *sourceTask) ack(s *submitted) {
	st.mu.Lock()
	s.acked = true
	st.mu.Unlock()
}

// send transforms, converts and produces one record.
func (st *sourceTask) send(r connector.SourceRecord) error {
	w := st.w
	s := st.track(r)
	if st.cc.ErrorsLogIncludeMessages {
		st.tol.subject = func() string { return sourceRecordForLog(r) }
	}
	rec, keep, err := st.chain.apply(st.ctx, st.tol, r.Record, nil)
	if err != nil {
		return err
	}
	if !keep {
		st.ack(s)
		return nil
	}
	kr := &kgo.Record{Topic: rec.Topic}
	var ok bool
	if ok, err = st.tol.do(st.ctx, StageKeyConverter, w.cfg.KeyConverter, func() error {
		var err error
		kr.Key, err = st.convs.key.FromConnectData(rec.Topic, rec.Headers, rec.KeySchema, rec.Key)
		return err
	}, nil); err != nil || !ok {
		if err == nil {
			st.ack(s)
		}
		return err
	}
	if ok, err = st.tol.do(st.ctx, StageValueConverter, w.cfg.ValueConverter, func() error {
		var err error
		kr.Value, err = st.convs.value.FromConnectData(rec.Topic, rec.Headers, rec.ValueSchema, rec.Value)
		return err
	}, nil); err != nil || !ok {
		if err == nil {
			st.ack(s)
		}
		return err
	}
	for _, h := range rec.Headers {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: headerBytes(h.Value)})
	}
	if rec.Timestamp != nil {
		kr.Timestamp = time.UnixMilli(*rec.Timestamp)
	}
	if rec.Partition != nil {
		kr.Context = context.WithValue(context.Background(), explicitPartitionKey{}, *rec.Partition)
	}
	st.mu.Lock()
	if !st.topics[rec.Topic] {
		st.topics[rec.Topic] = true
		st.mu.Unlock()
		w.st.TopicUsed(st.id.Connector, rec.Topic)
	} else {
		st.mu.Unlock()
	}
	orig := r
	st.producer.Produce(w.ctx, kr, func(pr *kgo.Record, err error) {
		if err != nil {
			if st.cc.ErrorsToleranceAll {
				w.srcLog.Error("source task: failed to send record; skipped as errors.tolerance=all", "task", st.id.String(), "topic", pr.Topic, "err", err)
				st.ack(s)
				return
			}
			st.mu.Lock()
			if st.failure == nil {
				st.failure = fmt.Errorf("Unrecoverable exception from producer send callback: %w", err)
			}
			st.mu.Unlock()
			return
		}
		st.ack(s)
		if err := st.task.CommitRecord(orig, pr.Offset); err != nil {
			w.srcLog.Warn("source task: CommitRecord failed", "task", st.id.String(), "err", err)
		}
	})
	return nil
}

// committable removes the acknowledged prefix of each partition's queue and
// returns the last offset of each prefix.
func (st *sourceTask) committable() []ConnectorOffset {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []ConnectorOffset
	for key, q := range st.queues {
		n := 0
		for n < len(q.recs) && q.recs[n].acked {
			n++
		}
		if n == 0 {
			continue
		}
		out = append(out, ConnectorOffset{Partition: q.partition, Offset: q.recs[n-1].offset})
		q.recs = q.recs[n:]
		if len(q.recs) == 0 {
			delete(st.queues, key)
		}
	}
	return out
}

// commit writes the committable offsets and calls the task's Commit.
func (st *sourceTask) commit() error {
	w := st.w
	offs := st.committable()
	if len(offs) > 0 {
		ctx, cancel := context.WithTimeout(w.ctx, w.cfg.OffsetFlushTimeout)
		err := w.offs.Write(ctx, st.id.Connector, offs)
		cancel()
		if err != nil {
			// Put nothing back: the next commit writes later offsets of the
			// same partitions, and a restart resends from the last stored.
			return err
		}
	}
	if err := st.task.Commit(); err != nil {
		w.srcLog.Warn("source task: Commit failed", "task", st.id.String(), "err", err)
	}
	return nil
}
