package connect_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/converter"
	"github.com/runnel/runnel/connect/data"
)

// seqSource produces "count" records v-<n> to "topic", with source
// partition {"p":"seq"} and offset {"seq":n}; a restarted task resumes
// after the stored offset.
type seqSource struct{ props map[string]string }

func (s *seqSource) Version() string           { return "1.0" }
func (s *seqSource) ConfigDef() *configdef.Def { return configdef.New() }
func (s *seqSource) Start(_ connector.ConnectorContext, props map[string]string) error {
	s.props = props
	return nil
}
func (s *seqSource) TaskConfigs(max int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(s.props)}, nil
}
func (s *seqSource) Stop() error                   { return nil }
func (s *seqSource) NewTask() connector.SourceTask { return &seqTask{} }

type seqTask struct {
	topic     string
	next, end int64
	batch     int64
	started   int64 // the first seq this instance produced
	commits   int
	mu        sync.Mutex
}

func (t *seqTask) Version() string { return "1.0" }
func (t *seqTask) Start(ctx connector.SourceTaskContext, props map[string]string) error {
	t.topic = props["topic"]
	t.end, _ = strconv.ParseInt(props["count"], 10, 64)
	t.batch = 100
	off, err := ctx.Offsets().Offset(map[string]any{"p": "seq"})
	if err != nil {
		return err
	}
	if off != nil {
		t.next = off["seq"].(int64) + 1
	}
	t.started = t.next
	return nil
}

func (t *seqTask) Poll(ctx context.Context) ([]connector.SourceRecord, error) {
	if t.next >= t.end {
		<-ctx.Done()
		return nil, nil
	}
	var out []connector.SourceRecord
	for i := int64(0); i < t.batch && t.next < t.end; i++ {
		out = append(out, connector.SourceRecord{
			Record:          connector.Record{Topic: t.topic, Value: fmt.Sprintf("v-%d", t.next), ValueSchema: data.Optional(data.TypeString)},
			SourcePartition: map[string]any{"p": "seq"},
			SourceOffset:    map[string]any{"seq": t.next},
		})
		t.next++
	}
	return out, nil
}
func (t *seqTask) Commit() error                                    { t.mu.Lock(); t.commits++; t.mu.Unlock(); return nil }
func (t *seqTask) CommitRecord(connector.SourceRecord, int64) error { return nil }
func (t *seqTask) Stop() error                                      { return nil }

// memSink collects the values its tasks are given, per connector name.
type memSink struct {
	props map[string]string
	store *sinkStore
}

type sinkStore struct {
	mu      sync.Mutex
	values  []string
	opened  int
	failPut error
	// retriableOnce makes the first Put fail with a retriable error.
	retriableOnce bool
	// rewindAfter, when > 0, rewinds partition 0 to offset 0 once that
	// many values have been put (SinkTaskContext.Offset).
	rewindAfter int
	rewound     bool
	ctx         connector.SinkTaskContext
}

func (s *sinkStore) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.values)
}

func (s *memSink) Version() string           { return "1.0" }
func (s *memSink) ConfigDef() *configdef.Def { return configdef.New() }
func (s *memSink) Start(_ connector.ConnectorContext, props map[string]string) error {
	s.props = props
	return nil
}
func (s *memSink) TaskConfigs(max int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(s.props)}, nil
}
func (s *memSink) Stop() error                 { return nil }
func (s *memSink) NewTask() connector.SinkTask { return &memSinkTask{store: s.store} }

type memSinkTask struct {
	store *sinkStore
	topic string
}

func (t *memSinkTask) Version() string { return "1.0" }
func (t *memSinkTask) Start(ctx connector.SinkTaskContext, props map[string]string) error {
	t.store.mu.Lock()
	t.store.ctx = ctx
	t.store.mu.Unlock()
	t.topic = props["topics"]
	return nil
}
func (t *memSinkTask) Open(tps []connector.TopicPartition) error {
	t.store.mu.Lock()
	t.store.opened += len(tps)
	t.store.mu.Unlock()
	return nil
}
func (t *memSinkTask) Put(recs []connector.SinkRecord) error {
	t.store.mu.Lock()
	defer t.store.mu.Unlock()
	if t.store.failPut != nil {
		return t.store.failPut
	}
	if t.store.retriableOnce && len(recs) > 0 {
		t.store.retriableOnce = false
		return fmt.Errorf("not now: %w", connector.ErrRetriable)
	}
	for _, r := range recs {
		t.store.values = append(t.store.values, fmt.Sprint(r.Value))
	}
	if t.store.rewindAfter > 0 && !t.store.rewound && len(t.store.values) >= t.store.rewindAfter {
		t.store.rewound = true
		t.store.ctx.Offset(map[connector.TopicPartition]int64{{Topic: t.topic, Partition: 0}: 0})
	}
	return nil
}
func (t *memSinkTask) PreCommit(o map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	return o, nil
}
func (t *memSinkTask) Close([]connector.TopicPartition) error { return nil }
func (t *memSinkTask) Stop() error                            { return nil }

// failingConverter is a value converter that rejects values starting with
// "bad".
type failingConverter struct{ converter.String }

func (c *failingConverter) ToConnectData(topic string, h []connector.Header, v []byte) (*data.Schema, any, error) {
	if strings.HasPrefix(string(v), "bad") {
		return nil, nil, errors.New("cannot convert " + string(v))
	}
	return c.String.ToConnectData(topic, h, v)
}

func testRegistry(t testing.TB, sink *sinkStore) *connect.Registry {
	t.Helper()
	r := connect.NewRegistry()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.RegisterConnector("test.SeqSourceConnector", func() connector.Connector { return &seqSource{} }))
	must(r.RegisterConnector("test.MemSinkConnector", func() connector.Connector { return &memSink{store: sink} }))
	must(r.RegisterConverter("org.apache.kafka.connect.storage.StringConverter", func() connector.Converter { return converter.NewString() }))
	must(r.RegisterConverter("test.FailingConverter", func() connector.Converter { return &failingConverter{} }))
	return r
}

// newHerder starts a standalone herder against addr.
func newHerder(t testing.TB, addr string, reg *connect.Registry, offs connect.OffsetStore) *connect.Standalone {
	t.Helper()
	cfg, err := connect.ParseWorkerConfig(map[string]string{
		"bootstrap.servers":            addr,
		"key.converter":                "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":              "org.apache.kafka.connect.storage.StringConverter",
		"offset.storage.file.filename": "unused",
		"offset.flush.interval.ms":     "100",
	}, connect.ModeStandalone)
	if err != nil {
		t.Fatal(err)
	}
	h, err := connect.NewStandalone(connect.WorkerOptions{Config: cfg, ID: "127.0.0.1:8083", Registry: reg, Offsets: offs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readTopic reads n records of a topic from the start.
func readTopic(t *testing.T, addr, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out []string
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}

func TestSourceToTopicAndResume(t *testing.T) {
	b := brokertest.Start(t)
	offs := connect.NewMemoryOffsetStore()
	reg := testRegistry(t, &sinkStore{})
	h := newHerder(t, b.Addr, reg, offs)
	ctx := t.Context()

	config := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": "seq-topic", "count": "500"}
	info, created, err := h.PutConnectorConfig(ctx, "seq", config, "", false)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	if info.Type != connect.TypeSource || len(info.Tasks) != 1 || info.Config["name"] != "seq" {
		t.Fatalf("info = %+v", info)
	}
	got := readTopic(t, b.Addr, "seq-topic", 500)
	for i, v := range got {
		if v != fmt.Sprintf("v-%d", i) {
			t.Fatalf("record %d = %q, want v-%d", i, v, i)
		}
	}
	// Offsets are committed once acknowledged; the last one covers all.
	waitFor(t, "offset 499 stored", func() bool {
		o, _ := offs.Offsets(ctx, "seq")
		return len(o) == 1 && o[0].Offset["seq"] == int64(499)
	})
	st, err := h.ConnectorStatus(ctx, "seq")
	if err != nil || st.Connector.State != connect.StateRunning || len(st.Tasks) != 1 || st.Tasks[0].State != connect.StateRunning {
		t.Fatalf("status = %+v, %v", st, err)
	}
	topics, _ := h.ConnectorActiveTopics(ctx, "seq")
	if !slices.Equal(topics, []string{"seq-topic"}) {
		t.Errorf("active topics = %v", topics)
	}
	h.Close()

	// A new worker with the same offsets resumes after 499: with a higher
	// count it produces 500..599 only.
	h2 := newHerder(t, b.Addr, reg, offs)
	defer h2.Close()
	config["count"] = "600"
	if _, _, err := h2.PutConnectorConfig(ctx, "seq", config, "", false); err != nil {
		t.Fatal(err)
	}
	got = readTopic(t, b.Addr, "seq-topic", 600)
	for i, v := range got {
		if v != fmt.Sprintf("v-%d", i) {
			t.Fatalf("after restart record %d = %q, want v-%d", i, v, i)
		}
	}
	waitFor(t, "offset 599 stored", func() bool {
		o, _ := offs.Offsets(ctx, "seq")
		return len(o) == 1 && o[0].Offset["seq"] == int64(599)
	})

	// Offsets API: stop, read, reset.
	if _, err := h2.ResetConnectorOffsets(ctx, "seq"); !errors.Is(err, connect.ErrBadRequest) {
		t.Fatalf("reset of a running connector: %v, want a bad request", err)
	}
	if err := h2.StopConnector(ctx, "seq"); err != nil {
		t.Fatal(err)
	}
	o, err := h2.ConnectorOffsets(ctx, "seq")
	if err != nil || len(o.Offsets) != 1 || o.Offsets[0].Offset["seq"] != int64(599) {
		t.Fatalf("offsets = %+v, %v", o, err)
	}
	if _, err := h2.AlterConnectorOffsets(ctx, "seq", []connect.ConnectorOffset{{Partition: map[string]any{"p": "seq"}, Offset: map[string]any{"seq": 9}}}); err != nil {
		t.Fatal(err)
	}
	o, _ = h2.ConnectorOffsets(ctx, "seq")
	if o.Offsets[0].Offset["seq"] != int64(9) {
		t.Fatalf("altered offsets = %+v", o)
	}
	if _, err := h2.ResetConnectorOffsets(ctx, "seq"); err != nil {
		t.Fatal(err)
	}
	if o, _ := h2.ConnectorOffsets(ctx, "seq"); len(o.Offsets) != 0 {
		t.Fatalf("offsets after reset = %+v", o)
	}
}

func produce(t *testing.T, addr, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestSinkFromTopic(t *testing.T) {
	b := brokertest.Start(t)
	store := &sinkStore{}
	reg := testRegistry(t, store)
	h := newHerder(t, b.Addr, reg, connect.NewMemoryOffsetStore())
	defer h.Close()
	ctx := t.Context()

	var want []string
	for i := range 300 {
		want = append(want, fmt.Sprintf("r-%d", i))
	}
	produce(t, b.Addr, "in", want...)
	config := map[string]string{"name": "mem", "connector.class": "test.MemSinkConnector", "topics": "in"}
	if _, _, err := h.PutConnectorConfig(ctx, "mem", config, "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "300 records in the sink", func() bool { return len(store.snapshot()) >= 300 })
	if got := store.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("sink got %d records, first %v", len(got), got[:min(5, len(got))])
	}
	// The group connect-mem commits the offset past the last record.
	adm := h.Worker().Admin()
	waitFor(t, "committed offset 300", func() bool {
		o, err := adm.FetchOffsets(ctx, "connect-mem")
		if err != nil {
			return false
		}
		r, ok := o.Lookup("in", 0)
		return ok && r.At == 300
	})

	// Pause: records produced meanwhile wait; resume delivers them.
	if err := h.PauseConnector(ctx, "mem"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "task paused", func() bool {
		st, err := h.TaskStatus(ctx, connect.TaskID{Connector: "mem", Task: 0})
		return err == nil && st.State == connect.StatePaused
	})
	produce(t, b.Addr, "in", "late")
	if err := h.ResumeConnector(ctx, "mem"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the late record", func() bool { return len(store.snapshot()) == 301 })

	// KIP-875 offsets of a sink connector come from its group.
	if err := h.StopConnector(ctx, "mem"); err != nil {
		t.Fatal(err)
	}
	offs, err := h.ConnectorOffsets(ctx, "mem")
	if err != nil || len(offs.Offsets) != 1 || offs.Offsets[0].Offset["kafka_offset"] != int64(301) {
		t.Fatalf("sink offsets = %+v, %v", offs, err)
	}
}

func TestSinkErrorTolerance(t *testing.T) {
	b := brokertest.Start(t)
	ctx := t.Context()
	tests := []struct {
		name      string
		tolerance string
	}{
		{"all with DLQ", "all"},
		{"none fails the task", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &sinkStore{}
			reg := testRegistry(t, store)
			h := newHerder(t, b.Addr, reg, connect.NewMemoryOffsetStore())
			defer h.Close()
			topic := "tol-" + tt.tolerance
			produce(t, b.Addr, topic, "ok-0", "bad-1", "ok-2")
			config := map[string]string{
				"name": "tol-" + tt.tolerance, "connector.class": "MemSink", "topics": topic,
				"value.converter": "test.FailingConverter", "errors.tolerance": tt.tolerance,
				"errors.deadletterqueue.topic.name": "dlq-" + tt.tolerance, "errors.deadletterqueue.topic.replication.factor": "1",
				"errors.deadletterqueue.context.headers.enable": "true",
			}
			if _, _, err := h.PutConnectorConfig(ctx, config["name"], config, "", false); err != nil {
				t.Fatal(err)
			}
			id := connect.TaskID{Connector: config["name"], Task: 0}
			if tt.tolerance == "none" {
				waitFor(t, "task failed", func() bool {
					st, _ := h.TaskStatus(ctx, id)
					return st.State == connect.StateFailed
				})
				st, _ := h.TaskStatus(ctx, id)
				if !strings.Contains(st.Trace, "Tolerance exceeded") || !strings.Contains(st.Trace, "cannot convert bad-1") {
					t.Errorf("trace = %q", st.Trace)
				}
				if got := store.snapshot(); len(got) != 0 {
					t.Errorf("sink got %v, want nothing (the batch failed)", got)
				}
				return
			}
			waitFor(t, "2 good records", func() bool { return len(store.snapshot()) == 2 })
			if got := store.snapshot(); !slices.Equal(got, []string{"ok-0", "ok-2"}) {
				t.Fatalf("sink got %v", got)
			}
			cl, _ := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics("dlq-all"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			defer cl.Close()
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			var rec *kgo.Record
			for rec == nil && rctx.Err() == nil {
				cl.PollFetches(rctx).EachRecord(func(r *kgo.Record) { rec = r })
			}
			if rec == nil || string(rec.Value) != "bad-1" {
				t.Fatalf("DLQ record = %v", rec)
			}
			headers := map[string]string{}
			for _, h := range rec.Headers {
				headers[h.Key] = string(h.Value)
			}
			for k, v := range map[string]string{
				"__connect.errors.topic": topic, "__connect.errors.partition": "0", "__connect.errors.offset": "1",
				"__connect.errors.connector.name": "tol-all", "__connect.errors.task.id": "0",
				"__connect.errors.stage": "VALUE_CONVERTER", "__connect.errors.exception.message": "cannot convert bad-1",
			} {
				if headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, headers[k], v)
				}
			}
		})
	}
}

// TestSinkTaskContext: a retriable Put is retried with the same records
// (nothing lost or repeated), and SinkTaskContext.Offset rewinds the
// consumer.
func TestSinkTaskContext(t *testing.T) {
	b := brokertest.Start(t)
	ctx := t.Context()
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("c-%d", i))
	}
	produce(t, b.Addr, "ctx-in", want...)

	store := &sinkStore{retriableOnce: true}
	h := newHerder(t, b.Addr, testRegistry(t, store), connect.NewMemoryOffsetStore())
	defer h.Close()
	if _, _, err := h.PutConnectorConfig(ctx, "retry", map[string]string{"name": "retry", "connector.class": "MemSink", "topics": "ctx-in"}, "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "50 records after a retriable Put", func() bool { return len(store.snapshot()) >= 50 })
	if got := store.snapshot(); !slices.Equal(got, want) {
		t.Fatalf("after a retried Put the sink has %d records: %v", len(got), got)
	}

	store2 := &sinkStore{rewindAfter: 50}
	h2 := newHerder(t, b.Addr, testRegistry(t, store2), connect.NewMemoryOffsetStore())
	defer h2.Close()
	if _, _, err := h2.PutConnectorConfig(ctx, "rewind", map[string]string{"name": "rewind", "connector.class": "MemSink", "topics": "ctx-in"}, "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the records twice after the rewind", func() bool { return len(store2.snapshot()) >= 100 })
	if got := store2.snapshot(); !slices.Equal(got, append(slices.Clone(want), want...)) {
		t.Fatalf("after a rewind to 0 the sink has %d records", len(got))
	}
}

// TestSinkTopicsRegex: a sink with topics.regex consumes every matching
// topic and reports them as its active topics.
func TestSinkTopicsRegex(t *testing.T) {
	b := brokertest.Start(t)
	ctx := t.Context()
	produce(t, b.Addr, "rx-a", "a1", "a2")
	produce(t, b.Addr, "rx-b", "b1")
	produce(t, b.Addr, "other", "o1")
	store := &sinkStore{}
	h := newHerder(t, b.Addr, testRegistry(t, store), connect.NewMemoryOffsetStore())
	defer h.Close()
	if _, _, err := h.PutConnectorConfig(ctx, "rx", map[string]string{"name": "rx", "connector.class": "MemSink", "topics.regex": "rx-.*"}, "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 records", func() bool { return len(store.snapshot()) >= 3 })
	got := store.snapshot()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Fatalf("sink got %v", got)
	}
	topics, _ := h.ConnectorActiveTopics(ctx, "rx")
	if !slices.Equal(topics, []string{"rx-a", "rx-b"}) {
		t.Errorf("active topics = %v", topics)
	}
}
