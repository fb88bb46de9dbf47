package streams_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

// sumProcessor adds value lengths per key in the "sum" store, forwards the
// new sum, and forwards every key's sum on each punctuation.
type sumProcessor struct {
	ctx   streams.ProcessorContext[string, int64]
	store streams.KeyValueStore[string, int64]
	punct streams.PunctuationType
	fired []int64
}

func (p *sumProcessor) Init(ctx streams.ProcessorContext[string, int64]) {
	p.ctx = ctx
	st, err := streams.GetKeyValueStore[string, int64](ctx, "sum")
	if err != nil {
		ctx.Fail(err)
		return
	}
	p.store = st
	ctx.Schedule(10*time.Millisecond, p.punct, func(ts int64) {
		p.fired = append(p.fired, ts)
		all, err := p.store.All()
		if err != nil {
			ctx.Fail(err)
			return
		}
		for _, kv := range all {
			ctx.ForwardTo("punctuated", streams.Record[string, int64]{Key: kv.Key, Value: kv.Value, Timestamp: ts})
		}
	})
}

func (p *sumProcessor) Process(r streams.Record[string, string]) {
	old, _, err := p.store.Get(r.Key)
	if err != nil {
		p.ctx.Fail(err)
		return
	}
	sum := old + int64(len(r.Value))
	if err := p.store.Put(r.Key, sum); err != nil {
		p.ctx.Fail(err)
		return
	}
	p.ctx.ForwardTo("sums", streams.WithValue(r, sum))
}

func (p *sumProcessor) Close() {}

func newSumTopology(t *testing.T, punct streams.PunctuationType) (*streams.Topology, *sumProcessor) {
	t.Helper()
	b := streams.NewBuilder()
	proc := &sumProcessor{punct: punct}
	streams.AddSource(b, "src", serde.String(), serde.String(), "input")
	streams.AddProcessor(b, "sum-proc", func() streams.Processor[string, string, string, int64] { return proc }, "src")
	b.AddStateStore(streams.KeyValueStoreBuilder("sum", serde.String(), serde.Int64()), "sum-proc")
	streams.AddSink(b, "sums", "sums", serde.String(), serde.Int64(), "sum-proc")
	streams.AddSink(b, "punctuated", "punctuated", serde.String(), serde.Int64(), "sum-proc")
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return topo, proc
}

func TestProcessorAPIDescribe(t *testing.T) {
	topo, _ := newSumTopology(t, streams.StreamTime)
	want := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: src (topics: [input])\n" +
		"      --> sum-proc\n" +
		"    Processor: sum-proc (stores: [sum])\n" +
		"      --> punctuated, sums\n" +
		"      <-- src\n" +
		"    Sink: punctuated (topic: punctuated)\n" +
		"      <-- sum-proc\n" +
		"    Sink: sums (topic: sums)\n" +
		"      <-- sum-proc\n\n"
	if got := topo.Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}

func TestProcessorAPIStoreAndStreamTimePunctuation(t *testing.T) {
	topo, proc := newSumTopology(t, streams.StreamTime)
	d, err := streamstest.NewDriver(topo, map[string]string{"application.id": "app"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamstest.CreateInputTopic(d, "input", serde.String(), serde.String())
	sums := streamstest.CreateOutputTopic(d, "sums", serde.String(), serde.Int64())
	punct := streamstest.CreateOutputTopic(d, "punctuated", serde.String(), serde.Int64())
	changelog := streamstest.CreateOutputTopic(d, "app-sum-changelog", serde.String(), serde.Int64())

	steps := []struct {
		k, v string
		ts   int64
	}{{"a", "x", 3}, {"b", "yy", 9}, {"a", "zzz", 12}, {"a", "w", 11}, {"b", "", 35}}
	for _, s := range steps {
		if err := in.PipeInputAt(s.k, s.v, s.ts); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sums.ReadKeyValuesToList()
	if err != nil {
		t.Fatal(err)
	}
	want := []streams.KeyValue[string, int64]{{"a", 1}, {"b", 2}, {"a", 4}, {"a", 5}, {"b", 2}}
	if !equalKVs(got, want) {
		t.Errorf("sums = %v, want %v", got, want)
	}
	// Stream-time punctuation is aligned to 0: first at stream time 3 (due
	// at 0), then when stream time reaches 10 (12) and 30 (35); the record
	// at 11 does not advance stream time.
	if want := []int64{3, 12, 35}; !equalInts(proc.fired, want) {
		t.Errorf("punctuations at %v, want %v", proc.fired, want)
	}
	recs, err := punct.ReadRecordsToList()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+2+2 || recs[4].Key != "b" || recs[4].Value != 2 || recs[4].Timestamp != 35 {
		t.Errorf("punctuated records = %+v", recs)
	}
	if n := changelog.QueueSize(); n != 5 {
		t.Errorf("changelog has %d records, want 5", n)
	}
	st, err := streamstest.KeyValueStore[string, int64](d, "sum")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := st.Get("a"); !ok || v != 5 {
		t.Errorf("store a = %d %v, want 5", v, ok)
	}
	if _, err := streamstest.KeyValueStore[string, string](d, "sum"); !errors.Is(err, streams.ErrStore) {
		t.Errorf("wrong-typed store access: err = %v, want ErrStore", err)
	}
}

func TestProcessorAPIWallClockPunctuation(t *testing.T) {
	topo, proc := newSumTopology(t, streams.WallClockTime)
	d, err := streamstest.NewDriver(topo, nil, streamstest.WithWallClock(time.UnixMilli(1000)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamstest.CreateInputTopic(d, "input", serde.String(), serde.String())
	if err := in.PipeInputAt("a", "xy", 5000); err != nil {
		t.Fatal(err)
	}
	if len(proc.fired) != 0 {
		t.Fatalf("wall-clock punctuator fired on input: %v", proc.fired)
	}
	for _, step := range []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond} {
		if err := d.AdvanceWallClockTime(step); err != nil {
			t.Fatal(err)
		}
	}
	// Due at 1010; fires at 1010, then next due 1020 but the clock jumps
	// to 1035: one punctuation, then due again at 1040.
	if want := []int64{1010, 1035}; !equalInts(proc.fired, want) {
		t.Errorf("punctuations at %v, want %v", proc.fired, want)
	}
}

func TestBuilderErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *streams.Builder)
	}{
		{"duplicate node", func(b *streams.Builder) {
			streams.AddSource(b, "s", serde.String(), serde.String(), "a")
			streams.AddSource(b, "s", serde.String(), serde.String(), "b")
		}},
		{"topic read twice", func(b *streams.Builder) {
			streams.AddSource(b, "s1", serde.String(), serde.String(), "a")
			streams.AddSource(b, "s2", serde.String(), serde.String(), "a")
		}},
		{"missing parent", func(b *streams.Builder) {
			streams.AddSink(b, "out", "t", serde.String(), serde.String(), "nope")
		}},
		{"missing store", func(b *streams.Builder) {
			streams.AddSource(b, "s", serde.String(), serde.String(), "a")
			b.ConnectProcessorAndStateStores("s", "nope")
		}},
		{"missing serde for grouping", func(b *streams.Builder) {
			s := streams.StreamOf(b, "a", serde.String(), serde.String())
			m := streams.Map(s, func(k, v string) (string, int) { return v, len(k) })
			streams.Count(streams.GroupByKey(m))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			tc.build(b)
			if _, err := b.Build(); !errors.Is(err, streams.ErrTopology) {
				t.Errorf("Build error = %v, want ErrTopology", err)
			}
		})
	}
}

func equalKVs[K, V comparable](a, b []streams.KeyValue[K, V]) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cancelProc punctuates every 10ms of stream time and cancels itself after
// the second punctuation; it forwards the record metadata it sees.
type cancelProc struct {
	ctx   streams.ProcessorContext[string, string]
	fired []int64
	c     streams.Cancellable
}

func (p *cancelProc) Init(ctx streams.ProcessorContext[string, string]) {
	p.ctx = ctx
	p.c = ctx.Schedule(10*time.Millisecond, streams.StreamTime, func(ts int64) {
		p.fired = append(p.fired, ts)
		if len(p.fired) == 2 {
			p.c.Cancel()
		}
	})
}

func (p *cancelProc) Process(r streams.Record[string, string]) {
	meta := fmt.Sprintf("%s/%d/%d/%s/%d", p.ctx.Topic(), p.ctx.Partition(), p.ctx.Offset(), p.ctx.TaskID(), p.ctx.CurrentStreamTime())
	p.ctx.Forward(streams.WithValue(r, meta))
}

func (p *cancelProc) Close() {}

func TestScheduleCancelAndRecordMetadata(t *testing.T) {
	b := streams.NewBuilder()
	proc := &cancelProc{}
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	streams.Process(s, func() streams.Processor[string, string, string, string] { return proc }).To("out", serde.String(), serde.String())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	d, err := streamstest.NewDriver(topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	for _, ts := range []int64{5, 15, 25, 35} {
		if err := in.PipeInputAt("k", "v", ts); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{5, 15}; !equalInts(proc.fired, want) {
		t.Errorf("punctuations at %v, want %v (then cancelled)", proc.fired, want)
	}
	vals, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.String()).ReadRecordsToList()
	if len(vals) != 4 || vals[0].Value != "in/0/0/0_0/5" || vals[3].Value != "in/0/3/0_0/35" {
		t.Errorf("record metadata = %+v", vals)
	}
}
