package streams

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/runnel/runnel/state"
)

// ErrUnknownTopic is returned (wrapped) when a task is given a record of a
// topic none of its sources reads.
var ErrUnknownTopic = errors.New("streams: topic not read by this task")

// InputRecord is one consumed record as a runtime hands it to a task.
type InputRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp int64 // ms; the record's CreateTime or LogAppendTime
	Headers   Headers
}

// OutputRecord is one record a task produces: to a sink topic, a
// repartition topic or a changelog topic.
type OutputRecord struct {
	Topic     string
	Key       []byte
	Value     []byte
	Timestamp int64
	Headers   Headers
	// Partition is the target partition, or -1 to let Partitioner (when
	// set) or the collector's default partitioner (murmur2 of the key, as
	// Kafka's producer) choose.
	Partition int32
	// Partitioner, when set, chooses the partition from the topic's
	// partition count; ok false leaves the choice to the default.
	Partitioner func(numPartitions int32) (partition int32, ok bool)
}

// RecordCollector receives a task's output. The test driver keeps records
// in memory; the Kafka runtime hands them to a producer.
type RecordCollector interface {
	Send(r OutputRecord) error
}

// TaskConfig configures a Task.
type TaskConfig struct {
	// ID is the task's sub-topology and partition.
	ID TaskID
	// ApplicationID prefixes internal topic names. // application.id
	ApplicationID string
	// Collector receives the task's output records; required.
	Collector RecordCollector
	// TimestampExtractor is the default for sources without their own;
	// nil uses the record's timestamp. // default.timestamp.extractor
	TimestampExtractor TimestampExtractor
	// Clock returns the wall clock in ms; nil uses time.Now.
	Clock func() int64
	// StateDir is the root of persistent stores, which live under
	// <StateDir>/<application.id>/<task id>/<store>; empty keeps every
	// store in memory. // state.dir
	StateDir string
	// Cache is the record cache of the thread running the task; nil turns
	// caching off. // statestore.cache.max.bytes
	Cache *state.Cache
	// Global holds the global stores processors may read; may be nil.
	Global *Task
	// Logger receives debug and warning logs; nil discards.
	Logger *slog.Logger
	// OnDrop, when set, is called for every record the task drops (negative
	// timestamp, late for a window, …) with the node name and a reason.
	OnDrop func(node, reason string)
	// DeserializationExceptionHandler decides about input records the
	// sources cannot decode; nil is LogAndFail.
	// default.deserialization.exception.handler
	DeserializationExceptionHandler DeserializationExceptionHandler
}

// recordContext is the metadata of the record being processed.
type recordContext struct {
	topic     string
	partition int32
	offset    int64
	timestamp int64
	headers   Headers
}

// topicPartition names one input partition.
type topicPartition struct {
	topic     string
	partition int32
}

// procNode is one node instance in a task.
type procNode struct {
	n        *node
	proc     anyProcessor
	ctx      *nodeContext
	children []*procNode
}

// nodeContext is a node's handle on its task.
type nodeContext struct {
	task *Task
	pn   *procNode
}

// punctuation is one scheduled punctuator.
type punctuation struct {
	pn        *procNode
	interval  int64
	typ       PunctuationType
	fn        func(ts int64)
	next      int64
	cancelled bool
}

func (p *punctuation) Cancel() { p.cancelled = true }

// Task runs one sub-topology for one partition: it decodes input records,
// tracks stream time, runs the processors, fires punctuators and flushes
// stores on commit. A Task is driven by one goroutine at a time and has
// no goroutines of its own.
type Task struct {
	id        TaskID
	appID     string
	topo      *Topology
	collector RecordCollector
	tsx       TimestampExtractor
	clock     func() int64
	global    *Task
	log       *slog.Logger
	onDrop    func(node, reason string)
	onDeser   DeserializationExceptionHandler

	nodes       map[string]*procNode
	order       []*procNode
	sources     map[string]*procNode // runtime topic -> source
	stores      map[string]storeImpl
	storeOrder  []string
	punctuators []*punctuation

	streamTime      int64
	partitionTime   map[topicPartition]int64
	shared          map[string]any // state processors of one operator share, by operator
	rc              recordContext
	tsClock         *state.Clock // rc.timestamp, for stores
	cache           *state.Cache
	commitRequested bool
	err             error
	dropped         int64
	closed          bool
}

// NewTask builds the task of sub-topology cfg.ID.Subtopology.
func (t *Topology) NewTask(cfg TaskConfig) (*Task, error) {
	var sub *subtopology
	for _, g := range t.subs {
		if g.id == cfg.ID.Subtopology && !g.global {
			sub = g
		}
	}
	if sub == nil {
		return nil, fmt.Errorf("%w: no sub-topology %d", ErrTopology, cfg.ID.Subtopology)
	}
	return t.newTask(cfg, []*subtopology{sub}, false)
}

// NewGlobalTask builds the task that maintains every global store from its
// topic. It returns nil and no error when the topology has no global
// stores. Give it to other tasks as TaskConfig.Global.
func (t *Topology) NewGlobalTask(cfg TaskConfig) (*Task, error) {
	var subs []*subtopology
	for _, g := range t.subs {
		if g.global {
			subs = append(subs, g)
		}
	}
	if len(subs) == 0 {
		return nil, nil
	}
	cfg.ID = TaskID{Subtopology: -1, Partition: -1}
	return t.newTask(cfg, subs, true)
}

func (t *Topology) newTask(cfg TaskConfig, subs []*subtopology, global bool) (*Task, error) {
	if cfg.Collector == nil {
		return nil, fmt.Errorf("streams: task %s: a RecordCollector is required", cfg.ID)
	}
	task := &Task{
		id:            cfg.ID,
		appID:         cfg.ApplicationID,
		topo:          t,
		collector:     cfg.Collector,
		tsx:           cfg.TimestampExtractor,
		clock:         cfg.Clock,
		global:        cfg.Global,
		log:           cfg.Logger,
		onDrop:        cfg.OnDrop,
		onDeser:       cfg.DeserializationExceptionHandler,
		nodes:         map[string]*procNode{},
		sources:       map[string]*procNode{},
		stores:        map[string]storeImpl{},
		streamTime:    -1,
		partitionTime: map[topicPartition]int64{},
		shared:        map[string]any{},
		tsClock:       state.NewClock(),
		cache:         cfg.Cache,
		rc:            recordContext{partition: cfg.ID.Partition, offset: -1},
	}
	if task.clock == nil {
		task.clock = func() int64 { return time.Now().UnixMilli() }
	}
	if task.log == nil {
		task.log = slog.New(slog.DiscardHandler)
	}
	if task.onDeser == nil {
		task.onDeser = LogAndFail
	}
	for _, g := range subs {
		for _, n := range g.nodes {
			pn := &procNode{n: n}
			pn.ctx = &nodeContext{task: task, pn: pn}
			switch n.kind {
			case sourceNode:
				pn.proc = &sourceProc{}
				for _, tp := range n.topics {
					task.sources[t.runtimeTopic(tp, n.internal, cfg.ApplicationID)] = pn
				}
			case sinkNode:
				pn.proc = &sinkProc{}
			default:
				pn.proc = n.supplier()
			}
			task.nodes[n.name] = pn
			task.order = append(task.order, pn)
			for _, s := range n.stores {
				if _, ok := task.stores[s]; ok {
					continue
				}
				env := storeEnv{task: task, cache: task.cache, clock: task.tsClock}
				if t.stores[s].Logged() && !global {
					env.changelog = ChangelogTopic(cfg.ApplicationID, s)
				}
				if cfg.StateDir != "" {
					dir := task.id.String()
					if global {
						dir = "global"
					}
					env.dir = filepath.Join(cfg.StateDir, cfg.ApplicationID, dir, s)
				}
				st, err := t.stores[s].open(env)
				if err != nil {
					_ = task.Close()
					return nil, fmt.Errorf("streams: task %s: open store %q: %w", cfg.ID, s, err)
				}
				task.stores[s] = st
				task.storeOrder = append(task.storeOrder, s)
			}
		}
	}
	for _, pn := range task.order {
		for _, c := range pn.n.children {
			pn.children = append(pn.children, task.nodes[c])
		}
	}
	// Initialize downstream nodes first, as Kafka does, so a processor's
	// children are ready before it can forward from Init.
	for _, pn := range slices.Backward(task.order) {
		pn.proc.init(pn.ctx)
		if task.err != nil {
			return nil, task.err
		}
	}
	return task, nil
}

// ID returns the task's ID.
func (t *Task) ID() TaskID { return t.id }

// StreamTime returns the largest record timestamp the task has processed,
// or -1.
func (t *Task) StreamTime() int64 { return t.streamTime }

// DroppedRecords returns how many records the task dropped (negative
// timestamps, records too late for their window or join).
func (t *Task) DroppedRecords() int64 { return t.dropped }

// StateStore returns the task's (or the global task's) store of that name,
// or nil.
func (t *Task) StateStore(name string) StateStore {
	if s, ok := t.stores[name]; ok {
		return s
	}
	if t.global != nil {
		if s, ok := t.global.stores[name]; ok {
			return s
		}
	}
	return nil
}

// Topics returns the runtime names of the topics the task reads.
func (t *Task) Topics() []string {
	var out []string
	for tp := range t.sources {
		out = append(out, tp)
	}
	slices.Sort(out)
	return out
}

// Restore applies changelog records to the named store without logging
// them again: the runtime calls it with the store's changelog from the
// checkpointed offset to the end before the task processes input.
func (t *Task) Restore(store string, records []state.ChangelogRecord) error {
	st, ok := t.stores[store]
	if !ok {
		return fmt.Errorf("%w %q is not in task %s", ErrStore, store, t.id)
	}
	return st.Restore(records)
}

// Stores returns the names of the task's stores in opening order.
func (t *Task) Stores() []string { return slices.Clone(t.storeOrder) }

// CommitRequested reports whether a processor called Commit since the last
// commit.
func (t *Task) CommitRequested() bool { return t.commitRequested }

// Process runs one input record through the task and then fires the
// stream-time punctuators that are due. It returns the first error a
// processor, serde or collector reported; after an error the task refuses
// more input.
func (t *Task) Process(in InputRecord) error {
	if t.err != nil {
		return t.err
	}
	src, ok := t.sources[in.Topic]
	if !ok {
		return fmt.Errorf("%w: task %s, topic %q", ErrUnknownTopic, t.id, in.Topic)
	}
	key, value, err := src.n.deser(in.Topic, in.Key, in.Value)
	if err != nil {
		dc := DeserializationContext{TaskID: t.id, Node: src.n.name, Topic: in.Topic, Partition: in.Partition,
			Offset: in.Offset, Timestamp: in.Timestamp, Key: in.Key, Value: in.Value, Headers: in.Headers}
		if t.onDeser(dc, err) == DeserializationContinue {
			t.log.Warn("skipping a record that cannot be deserialized", "topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "error", err)
			t.drop(src.n.name, "deserialization error")
			return nil
		}
		t.log.Error("failing on a record that cannot be deserialized", "topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "error", err)
		return fmt.Errorf("streams: task %s, %s-%d offset %d: %w", t.id, in.Topic, in.Partition, in.Offset, err)
	}
	ts := in.Timestamp
	tpKey := topicPartition{in.Topic, in.Partition}
	ptime, seen := t.partitionTime[tpKey]
	if !seen {
		ptime = -1
	}
	if x := src.n.tsx; x != nil {
		ts = x(in.Topic, key, value, in.Timestamp, ptime)
	} else if t.tsx != nil {
		ts = t.tsx(in.Topic, key, value, in.Timestamp, ptime)
	}
	if ts < 0 {
		t.log.Warn("dropping record with a negative timestamp", "topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "timestamp", ts)
		t.drop(src.n.name, "negative timestamp")
		return nil
	}
	if ts > ptime {
		t.partitionTime[tpKey] = ts
	}
	if ts > t.streamTime {
		t.streamTime = ts
	}
	t.rc = recordContext{topic: in.Topic, partition: in.Partition, offset: in.Offset, timestamp: ts, headers: in.Headers}
	t.tsClock.Set(ts)
	t.processNode(src, anyRecord{Key: key, Value: value, Timestamp: ts, Headers: in.Headers})
	if t.err != nil {
		return t.err
	}
	t.punctuate(StreamTime, t.streamTime)
	return t.err
}

// PunctuateWallClock fires the wall-clock punctuators due at the task's
// clock and reports whether any fired.
func (t *Task) PunctuateWallClock() (bool, error) {
	if t.err != nil {
		return false, t.err
	}
	fired := t.punctuate(WallClockTime, t.clock())
	return fired, t.err
}

// Commit flushes every store (forwarding records held in caches and
// suppression buffers that are due) so the runtime can then commit the
// consumed offsets.
func (t *Task) Commit() error {
	if t.err != nil {
		return t.err
	}
	for _, name := range t.storeOrder {
		if err := t.stores[name].Flush(); err != nil {
			t.fail(fmt.Errorf("streams: task %s: flush store %q: %w", t.id, name, err))
			return t.err
		}
	}
	t.commitRequested = false
	return t.err
}

// Close closes every processor and store. It returns the task's error, if
// any.
func (t *Task) Close() error {
	if t.closed {
		return t.err
	}
	t.closed = true
	for _, pn := range t.order {
		pn.proc.close()
	}
	var errs []error
	for _, name := range t.storeOrder {
		if err := t.stores[name].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if t.err != nil {
		errs = append([]error{t.err}, errs...)
	}
	return errors.Join(errs...)
}

// fail keeps the first error.
func (t *Task) fail(err error) {
	if t.err == nil && err != nil {
		t.err = err
	}
}

// drop counts one dropped record.
func (t *Task) drop(node, reason string) {
	t.dropped++
	if t.onDrop != nil {
		t.onDrop(node, reason)
	}
}

// send hands one output record to the collector.
func (t *Task) send(r OutputRecord) {
	if err := t.collector.Send(r); err != nil {
		t.fail(fmt.Errorf("streams: task %s: send to %s: %w", t.id, r.Topic, err))
	}
}

func (t *Task) now() int64 { return t.clock() }

// processNode runs r through pn with the record context's timestamp and
// headers set to r's, restoring them afterwards.
func (t *Task) processNode(pn *procNode, r anyRecord) {
	if t.err != nil {
		return
	}
	saved := t.rc
	t.rc.timestamp, t.rc.headers = r.Timestamp, r.Headers
	t.tsClock.Set(r.Timestamp)
	pn.proc.process(r)
	t.rc = saved
	t.tsClock.Set(saved.timestamp)
}

// punctuate fires every punctuator of the given type due at ts, at most
// once each, in order of due time.
func (t *Task) punctuate(typ PunctuationType, ts int64) bool {
	var due []*punctuation
	live := t.punctuators[:0]
	for _, p := range t.punctuators {
		if p.cancelled {
			continue
		}
		live = append(live, p)
		if p.typ == typ && p.next <= ts {
			due = append(due, p)
		}
	}
	t.punctuators = live
	slices.SortStableFunc(due, func(a, b *punctuation) int {
		switch {
		case a.next < b.next:
			return -1
		case a.next > b.next:
			return 1
		}
		return 0
	})
	for _, p := range due {
		if p.cancelled || t.err != nil {
			continue
		}
		// Skip missed punctuations: the next one is the first multiple of
		// the interval (from the last) after ts.
		p.next += p.interval
		if ts >= p.next {
			p.next = ts - (ts-p.next)%p.interval + p.interval
		}
		saved := t.rc
		t.rc = recordContext{partition: t.id.Partition, offset: -1, timestamp: ts}
		t.tsClock.Set(ts)
		p.fn(ts)
		t.rc = saved
		t.tsClock.Set(saved.timestamp)
	}
	return len(due) > 0
}

func (c *nodeContext) forward(r anyRecord) {
	for _, ch := range c.pn.children {
		c.task.processNode(ch, r)
	}
}

func (c *nodeContext) forwardTo(child string, r anyRecord) {
	for _, ch := range c.pn.children {
		if ch.n.name == child {
			c.task.processNode(ch, r)
			return
		}
	}
	c.task.fail(fmt.Errorf("streams: node %q has no child %q", c.pn.n.name, child))
}

func (c *nodeContext) schedule(interval time.Duration, typ PunctuationType, fn func(ts int64)) Cancellable {
	ms := interval.Milliseconds()
	if ms < 1 {
		c.task.fail(fmt.Errorf("streams: node %q: punctuation interval %v is below 1ms", c.pn.n.name, interval))
		return &punctuation{cancelled: true}
	}
	p := &punctuation{pn: c.pn, interval: ms, typ: typ, fn: fn}
	if typ == WallClockTime {
		p.next = c.task.now() + ms
	}
	c.task.punctuators = append(c.task.punctuators, p)
	return p
}

func (c *nodeContext) stateStore(name string) StateStore {
	if slices.Contains(c.pn.n.stores, name) {
		return c.task.stores[name]
	}
	if c.task.global != nil {
		if s, ok := c.task.global.stores[name]; ok {
			return s
		}
	}
	return nil
}

// sourceProc forwards decoded records to the source's children.
type sourceProc struct{ ctx *nodeContext }

func (s *sourceProc) init(ctx *nodeContext) { s.ctx = ctx }
func (s *sourceProc) process(r anyRecord)   { s.ctx.forward(r) }
func (s *sourceProc) close()                {}

// sinkProc serializes records and hands them to the collector.
type sinkProc struct{ ctx *nodeContext }

func (s *sinkProc) init(ctx *nodeContext) { s.ctx = ctx }
func (s *sinkProc) close()                {}
func (s *sinkProc) process(r anyRecord) {
	t, n := s.ctx.task, s.ctx.pn.n
	topic := t.topo.runtimeTopic(n.topic, n.internal, t.appID)
	if n.extractor != nil {
		topic = n.extractor(r, RecordContext{Topic: t.rc.topic, Partition: t.rc.partition, Offset: t.rc.offset, Timestamp: r.Timestamp, Headers: r.Headers})
	}
	if r.Timestamp < 0 {
		t.fail(fmt.Errorf("streams: sink %q: record timestamp %d is negative", n.name, r.Timestamp))
		return
	}
	kb, vb, err := n.ser(topic, r.Key, r.Value)
	if err != nil {
		t.fail(fmt.Errorf("streams: sink %q: %w", n.name, err))
		return
	}
	out := OutputRecord{Topic: topic, Key: kb, Value: vb, Timestamp: r.Timestamp, Headers: r.Headers.Clone(), Partition: -1}
	if n.partitioner != nil {
		part := n.partitioner
		out.Partitioner = func(num int32) (int32, bool) { return part(topic, r, num) }
	}
	t.send(out)
}
