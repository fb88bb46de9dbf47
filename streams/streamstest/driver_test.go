package streamstest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

func newDriver(t *testing.T, b *streams.Builder, props map[string]string) *streamstest.Driver {
	t.Helper()
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if props == nil {
		props = map[string]string{}
	}
	props["state.dir"] = t.TempDir()
	d, err := streamstest.NewDriver(topo, props)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestPipeAndReadRoundTrip(t *testing.T) {
	b := streams.NewBuilder()
	streams.StreamOf(b, "in", serde.String(), serde.Int64()).To("out", serde.String(), serde.Int64())
	d := newDriver(t, b, nil)
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	out := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.Int64())
	if !out.IsEmpty() {
		t.Fatal("output not empty before any input")
	}
	if _, err := out.ReadKeyValue(); !errors.Is(err, streamstest.ErrNoRecord) {
		t.Fatalf("read from empty topic: err = %v, want ErrNoRecord", err)
	}
	const n = 100
	for i := range int64(n) {
		if err := in.PipeInputAt("k", i, 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.PipeTombstoneAt("k", 5000); err != nil {
		t.Fatal(err)
	}
	if out.QueueSize() != n+1 {
		t.Fatalf("QueueSize = %d, want %d", out.QueueSize(), n+1)
	}
	recs, err := out.ReadRecordsToList()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs[:n] {
		if r.Key != "k" || r.Value != int64(i) || r.Timestamp != 1000+int64(i) || r.Tombstone {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	if last := recs[n]; !last.Tombstone || last.Timestamp != 5000 {
		t.Errorf("last record = %+v, want a tombstone at 5000", last)
	}
	if !out.IsEmpty() {
		t.Error("output not empty after reading everything")
	}
}

func TestPipeInputUsesWallClock(t *testing.T) {
	b := streams.NewBuilder()
	streams.StreamOf(b, "in", serde.String(), serde.String()).To("out", nil, nil)
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	d, err := streamstest.NewDriver(topo, nil, streamstest.WithWallClock(time.UnixMilli(42)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	_ = in.PipeInput("a", "1")
	_ = d.AdvanceWallClockTime(8 * time.Millisecond)
	_ = in.PipeInput("b", "2")
	recs, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.String()).ReadRecordsToList()
	if len(recs) != 2 || recs[0].Timestamp != 42 || recs[1].Timestamp != 50 {
		t.Errorf("records = %+v, want timestamps 42 and 50", recs)
	}
}

func TestUnknownTopicAndClosedDriver(t *testing.T) {
	b := streams.NewBuilder()
	streams.StreamOf(b, "in", serde.String(), serde.String()).To("out", nil, nil)
	d := newDriver(t, b, nil)
	err := streamstest.CreateInputTopic(d, "nope", serde.String(), serde.String()).PipeInput("a", "b")
	if !errors.Is(err, streamstest.ErrUnknownTopic) {
		t.Errorf("pipe to unknown topic: err = %v, want ErrUnknownTopic", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String()).PipeInput("a", "b"); err == nil {
		t.Error("pipe after Close succeeded")
	}
}

func TestTimestampExtractor(t *testing.T) {
	b := streams.NewBuilder()
	// The value carries the event time.
	x := func(topic string, k, v any, recordTS, partitionTime int64) int64 { return v.(int64) }
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64(), streams.WithTimestampExtractor(x))
	streams.Count(streams.WindowedBy(streams.GroupByKey(s), streams.Tumbling(10*time.Millisecond))).
		ToStream().To("out", streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	d := newDriver(t, b, nil)
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	_ = in.PipeInputAt("a", 25, 0) // record timestamp ignored
	recs, _ := streamstest.CreateOutputTopic(d, "out", streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64()).ReadRecordsToList()
	if len(recs) != 1 || recs[0].Key.Window.Start != 20 || recs[0].Timestamp != 25 {
		t.Errorf("records = %+v, want one for window [20,30) at 25", recs)
	}
}

func TestStoreAccessors(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
	g := streams.GroupByKey(s)
	streams.Count(streams.WindowedBy(g, streams.Tumbling(10*time.Millisecond)), streams.Materialized("win"))
	streams.Count(streams.WindowedBy(g, streams.Sessions(5*time.Millisecond)), streams.Materialized("sess"))
	streams.Count(g, streams.Materialized("kv", streams.InMemory(), streams.WithLogging(false, nil)))
	d := newDriver(t, b, nil)
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	for _, ts := range []int64{1, 3, 12} {
		_ = in.PipeInputAt("a", 1, ts)
	}
	win, err := streamstest.WindowStore[string, int64](d, "win")
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := win.FetchRange("a", 0, 100)
	if len(ws) != 2 || ws[0].Key != 0 || ws[0].Value != 2 || ws[1].Key != 10 || ws[1].Value != 1 {
		t.Errorf("window store = %v, want [0]=2 [10]=1", ws)
	}
	sess, err := streamstest.SessionStore[string, int64](d, "sess")
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := sess.Fetch("a")
	if len(ss) != 2 || ss[0].Key.Window != (streams.Window{Start: 1, End: 3}) || ss[0].Value != 2 || ss[1].Value != 1 {
		t.Errorf("session store = %v, want [1,3]=2 and [12,12]=1", ss)
	}
	kv, err := streamstest.KeyValueStore[string, int64](d, "kv")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := kv.Get("a"); !ok || v != 3 {
		t.Errorf("kv a = %d, %v", v, ok)
	}
	if _, err := streamstest.KeyValueStore[string, int64](d, "win"); !errors.Is(err, streams.ErrStore) {
		t.Errorf("window store as key-value store: err = %v, want ErrStore", err)
	}
	if _, err := streamstest.KeyValueStore[string, int64](d, "missing"); !errors.Is(err, streams.ErrStore) {
		t.Errorf("missing store: err = %v, want ErrStore", err)
	}
	topics := d.OutputTopics()
	want := map[string]bool{"streamstest-win-changelog": true, "streamstest-sess-changelog": true}
	for _, tp := range topics {
		if tp == "streamstest-kv-changelog" {
			t.Error("a store with logging disabled wrote a changelog")
		}
		delete(want, tp)
	}
	if len(want) != 0 {
		t.Errorf("changelogs %v missing from %v", want, topics)
	}
}

func TestWindowChangelogKeyFormat(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
	streams.Count(streams.WindowedBy(streams.GroupByKey(s), streams.Tumbling(10*time.Millisecond)), streams.Materialized("w"))
	d := newDriver(t, b, map[string]string{"application.id": "app"})
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	_ = in.PipeInputAt("k", 1, 15)
	cl := streamstest.CreateOutputTopic(d, "app-w-changelog", serde.Bytes(), serde.Int64())
	r, err := cl.ReadRecord()
	if err != nil {
		t.Fatal(err)
	}
	// key ‖ window start (int64 BE) ‖ sequence number (int32 BE).
	want := []byte{'k', 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0}
	if string(r.Key) != string(want) || r.Value != 1 || r.Timestamp != 15 {
		t.Errorf("changelog record = %v=%d@%d, want %v=1@15", r.Key, r.Value, r.Timestamp, want)
	}
}

// TestDeserializationExceptionHandler pipes a value the source's serde
// rejects: by default the pipe fails naming the record; with
// LogAndContinueExceptionHandler the record is dropped and the ones after
// it still flow.
func TestDeserializationExceptionHandler(t *testing.T) {
	build := func() *streams.Builder {
		b := streams.NewBuilder()
		streams.StreamOf(b, "in", serde.String(), serde.Int64()).To("out", serde.String(), serde.Int64())
		return b
	}
	d := newDriver(t, build(), nil)
	raw := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	if err := raw.PipeInput("k", "bad"); err == nil || !strings.Contains(err.Error(), "in-0 offset 0") {
		t.Errorf("undecodable record with the default handler: err = %v, want one naming in-0 offset 0", err)
	}

	d = newDriver(t, build(), map[string]string{
		"default.deserialization.exception.handler": "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"})
	raw = streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	_ = in.PipeInput("k", 1)
	if err := raw.PipeInput("k", "bad"); err != nil {
		t.Errorf("undecodable record with LogAndContinue: %v", err)
	}
	_ = in.PipeInput("k", 2)
	var vals []int64
	kvs, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.Int64()).ReadKeyValuesToList()
	for _, kv := range kvs {
		vals = append(vals, kv.Value)
	}
	if len(vals) != 2 || vals[0] != 1 || vals[1] != 2 || d.DroppedRecords() != 1 {
		t.Errorf("output %v with %d dropped, want [1 2] with 1 dropped", vals, d.DroppedRecords())
	}

	// The global task follows the same handler.
	for _, h := range []string{"LogAndFailExceptionHandler", "LogAndContinueExceptionHandler"} {
		b := streams.NewBuilder()
		streams.GlobalTableOf(b, "rows", serde.String(), serde.Int64(), streams.Materialized("rows-store"))
		streams.StreamOf(b, "in", serde.String(), serde.Int64()).To("out", serde.String(), serde.Int64())
		d := newDriver(t, b, map[string]string{"default.deserialization.exception.handler": h})
		err := streamstest.CreateInputTopic(d, "rows", serde.String(), serde.String()).PipeInput("k", "bad")
		if skip := h == "LogAndContinueExceptionHandler"; skip != (err == nil) || skip != (d.DroppedRecords() == 1) {
			t.Errorf("%s: undecodable global row: err = %v, dropped %d", h, err, d.DroppedRecords())
		}
	}

	topo, _ := build().Build()
	if _, err := streamstest.NewDriver(topo, map[string]string{"deserialization.exception.handler": "Nope"}); !errors.Is(err, streamstest.ErrConfig) {
		t.Errorf("unknown handler: err = %v, want ErrConfig", err)
	}
}
