package streams_test

import (
	"errors"
	"testing"
	"time"

	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
)

// collect is a RecordCollector keeping records by topic.
type collect map[string][]streams.OutputRecord

func (c collect) Send(r streams.OutputRecord) error { c[r.Topic] = append(c[r.Topic], r); return nil }

func encode(t *testing.T, k string, v int64) (kb, vb []byte) {
	t.Helper()
	kb, _ = serde.String().Serialize("", k)
	vb, _ = serde.Int64().Serialize("", v)
	return kb, vb
}

// TestTaskRestoresStoresFromChangelog runs a task, then a new one restored
// from the first one's changelogs (as after a move to another instance),
// and checks the new task continues the aggregation and still emits the
// window results the first one held in its suppression buffer.
func TestTaskRestoresStoresFromChangelog(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
	counts := streams.Count(streams.WindowedBy(streams.GroupByKey(s), streams.Tumbling(10*time.Millisecond)), streams.Materialized("counts"))
	ks := streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
	streams.Suppress(counts, streams.UntilWindowCloses().WithName("final")).ToStream().To("out", ks, serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	newTask := func(out collect, sub string) *streams.Task {
		task, err := topo.NewTask(streams.TaskConfig{ApplicationID: "app", Collector: out, StateDir: dir + "/" + sub})
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	first := collect{}
	t1 := newTask(first, "one")
	for i, ts := range []int64{1, 2, 5} {
		kb, vb := encode(t, "a", 1)
		if err := t1.Process(streams.InputRecord{Topic: "in", Offset: int64(i), Key: kb, Value: vb, Timestamp: ts}); err != nil {
			t.Fatal(err)
		}
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t1.Close(); err != nil {
		t.Fatal(err)
	}
	if len(first["out"]) != 0 {
		t.Fatalf("window [0,10) emitted before it closed: %v", first["out"])
	}

	second := collect{}
	t2 := newTask(second, "two")
	defer t2.Close()
	for _, store := range t2.Stores() {
		var recs []state.ChangelogRecord
		for _, r := range first[streams.ChangelogTopic("app", store)] {
			recs = append(recs, state.ChangelogRecord{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp})
		}
		if err := t2.Restore(store, recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := t2.Restore("nope", nil); !errors.Is(err, streams.ErrStore) {
		t.Errorf("Restore of an unknown store: err = %v", err)
	}
	kb, vb := encode(t, "a", 1)
	if err := t2.Process(streams.InputRecord{Topic: "in", Offset: 3, Key: kb, Value: vb, Timestamp: 12}); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(); err != nil {
		t.Fatal(err)
	}
	out := second["out"]
	if len(out) != 1 {
		t.Fatalf("restored task emitted %d records, want the final count of [0,10)", len(out))
	}
	w, _ := ks.Deserialize("out", out[0].Key)
	n, _ := serde.Int64().Deserialize("out", out[0].Value)
	if w.Key != "a" || w.Window.Start != 0 || n != 3 || out[0].Timestamp != 5 {
		t.Errorf("final result = %+v=%d@%d, want [a@0/10]=3@5", w, n, out[0].Timestamp)
	}
}

func TestTaskErrors(t *testing.T) {
	b := streams.NewBuilder()
	streams.StreamOf(b, "in", serde.String(), serde.Int64()).To("out", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topo.NewTask(streams.TaskConfig{ApplicationID: "app"}); err == nil {
		t.Error("NewTask without a collector succeeded")
	}
	if _, err := topo.NewTask(streams.TaskConfig{ID: streams.TaskID{Subtopology: 7}, Collector: collect{}}); !errors.Is(err, streams.ErrTopology) {
		t.Errorf("NewTask of a missing sub-topology: err = %v", err)
	}
	task, err := topo.NewTask(streams.TaskConfig{ApplicationID: "app", Collector: collect{}})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	if err := task.Process(streams.InputRecord{Topic: "other"}); !errors.Is(err, streams.ErrUnknownTopic) {
		t.Errorf("Process of another topic: err = %v", err)
	}
	// A value that is not 8 bytes cannot be an Int64: the error names the topic.
	err = task.Process(streams.InputRecord{Topic: "in", Key: []byte("k"), Value: []byte("xyz")})
	if !errors.Is(err, serde.ErrSize) {
		t.Errorf("Process of a bad value: err = %v, want serde.ErrSize", err)
	}
	if id := (streams.TaskID{Subtopology: 2, Partition: 5}).String(); id != "2_5" {
		t.Errorf("TaskID = %q", id)
	}
}
