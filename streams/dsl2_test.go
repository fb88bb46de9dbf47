package streams_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

func TestRepartitionOperator(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	m := streams.Map(s, func(k, v string) (string, string) { return v, k })
	m.Repartition(streams.Named("by-value"), streams.WithNumPartitions(3), streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String())).
		To("out", serde.String(), serde.String())
	topo := build(t, b)
	if got := topo.RepartitionTopics("app"); len(got) != 1 || got[0] != "app-by-value-repartition" {
		t.Errorf("RepartitionTopics = %v", got)
	}
	if got := topo.RepartitionPartitions("app"); got["app-by-value-repartition"] != 3 {
		t.Errorf("RepartitionPartitions = %v, want 3 for app-by-value-repartition", got)
	}
	got := runPipes(t, b, []pipe{{"in", "k1", "v1", 7, false}, {"in", "k2", "v2", 8, false}})
	checkLines(t, got, "v1=k1@7", "v2=k2@8")
}

func TestTableReduceAndAggregateWithSubtractor(t *testing.T) {
	b := streams.NewBuilder()
	// Balances per account, summed per branch (value "branch:amount").
	accounts := streams.TableOf(b, "accounts", serde.String(), serde.String())
	split := func(k, v string) (string, int64) {
		var branch string
		var amount int64
		fmt.Sscanf(v, "%1s:%d", &branch, &amount)
		return branch, amount
	}
	g := streams.GroupTableBy(accounts, split, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.Int64()))
	streams.ReduceTable(g, func(a, v int64) int64 { return a + v }, func(a, v int64) int64 { return a - v }).
		ToStream().Peek(func(string, int64) {}).To("sum", serde.String(), serde.Int64())
	streams.AggregateTable(g, func() int64 { return 1000 },
		func(k string, v, a int64) int64 { return a + v }, func(k string, v, a int64) int64 { return a - v },
		streams.WithValueSerde(serde.Int64())).ToStream().To("agg", serde.String(), serde.Int64())
	d := driver(t, build(t, b))
	in := streamstest.CreateInputTopic(d, "accounts", serde.String(), serde.String())
	_ = in.PipeInputAt("acc1", "x:10", 1)
	_ = in.PipeInputAt("acc2", "x:5", 2)
	_ = in.PipeInputAt("acc1", "x:7", 3) // same branch: one change
	_ = in.PipeInputAt("acc2", "y:5", 4) // moves branch
	_ = in.PipeTombstoneAt("acc1", 5)
	read := func(topic string) []string {
		recs, _ := streamstest.CreateOutputTopic(d, topic, serde.String(), serde.Int64()).ReadRecordsToList()
		var out []string
		for _, r := range recs {
			out = append(out, fmt.Sprintf("%s=%d@%d", r.Key, r.Value, r.Timestamp))
		}
		return out
	}
	checkLines(t, read("sum"), "x=10@1", "x=15@2", "x=12@3", "x=7@4", "y=5@4", "x=0@5")
	checkLines(t, read("agg"), "x=1010@1", "x=1015@2", "x=1012@3", "x=1007@4", "y=1005@4", "x=1000@5")
}

func TestMaterializedOptions(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	// Caching off: every update is forwarded even within one input.
	words := streams.FlatMapValues(s, func(k, v string) []string { return []string{v, v} })
	streams.Count(streams.GroupByKey(words), streams.Materialized("c", streams.WithCaching(false), streams.InMemory())).
		ToStream().To("out", serde.String(), serde.Int64())
	d := driver(t, build(t, b))
	_ = streamstest.CreateInputTopic(d, "in", serde.String(), serde.String()).PipeInputAt("k", "w", 1)
	kvs, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.Int64()).ReadKeyValuesToList()
	if !equalKVs(kvs, []streams.KeyValue[string, int64]{{"k", 1}, {"k", 2}}) {
		t.Errorf("uncached count = %v, want k=1, k=2", kvs)
	}
}

func TestToTableAndMaterializedFilter(t *testing.T) {
	b := streams.NewBuilder()
	tb := streams.StreamOf(b, "in", serde.String(), serde.String()).ToTable(streams.Materialized("t"))
	tb.Filter(func(k, v string) bool { return v != "drop" }, streams.Materialized("f")).ToStream().To("out", nil, nil)
	got := runPipes(t, b, []pipe{{"in", "a", "1", 1, false}, {"in", "a", "drop", 2, false}, {"in", "b", "2", 3, false}, {"in", "b", "", 4, true}})
	checkLines(t, got, "a=1@1", "a=null@2", "b=2@3", "b=null@4")
}

func TestProcessWithStoreThroughDSL(t *testing.T) {
	b := streams.NewBuilder()
	b.AddStateStore(streams.KeyValueStoreBuilder("seen", serde.String(), serde.Int64()))
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	dedup := streams.Process(s, func() streams.Processor[string, string, string, string] { return &dedupProc{} }, streams.WithStores("seen"))
	dedup.To("out", serde.String(), serde.String())
	got := runPipes(t, b, []pipe{{"in", "a", "1", 1, false}, {"in", "a", "2", 2, false}, {"in", "b", "3", 3, false}})
	checkLines(t, got, "a=1@1", "b=3@3")
}

// dedupProc forwards the first record of each key.
type dedupProc struct {
	ctx  streams.ProcessorContext[string, string]
	seen streams.KeyValueStore[string, int64]
}

func (p *dedupProc) Init(ctx streams.ProcessorContext[string, string]) {
	p.ctx = ctx
	st, err := streams.GetKeyValueStore[string, int64](ctx, "seen")
	if err != nil {
		ctx.Fail(err)
		return
	}
	p.seen = st
}

func (p *dedupProc) Process(r streams.Record[string, string]) {
	if _, ok, _ := p.seen.Get(r.Key); ok {
		return
	}
	if err := p.seen.Put(r.Key, r.Timestamp); err != nil {
		p.ctx.Fail(err)
		return
	}
	p.ctx.Forward(r)
}

func (p *dedupProc) Close() {}

func TestNamedOperatorsUseUpIndexes(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	s.Filter(func(k, v string) bool { return true }, streams.Named("f")).To("out", nil, nil)
	want := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n" +
		"      --> f\n" +
		"    Processor: f (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000002\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Sink: KSTREAM-SINK-0000000002 (topic: out)\n" +
		"      <-- f\n\n"
	if got := build(t, b).Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}

func TestNamedGroupingSharesItsRepartitionTopic(t *testing.T) {
	tests := []struct {
		name  string
		group string
		want  []string
	}{
		{"named", "grouping", []string{"app-grouping-repartition"}},
		{"unnamed", "", []string{"app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition", "app-KSTREAM-AGGREGATE-STATE-STORE-0000000009-repartition"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			s := streams.SelectKey(streams.StreamOf(b, "topic", serde.String(), serde.String()), func(k, v string) string { return k })
			opts := []streams.Option{streams.WithKeySerde(serde.String())}
			if tc.group != "" {
				opts = append(opts, streams.Named(tc.group))
			}
			g := streams.GroupByKey(s, opts...)
			ks := streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
			streams.Count(streams.WindowedBy(g, streams.Tumbling(10*time.Millisecond))).ToStream().To("output-one", ks, serde.Int64())
			streams.Count(streams.WindowedBy(g, streams.Tumbling(30*time.Millisecond))).ToStream().To("output-two", ks, serde.Int64())
			topo := build(t, b)
			got := topo.RepartitionTopics("app")
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("RepartitionTopics = %v, want %v", got, tc.want)
			}
			// Both aggregations see every record.
			d := driver(t, topo)
			_ = streamstest.CreateInputTopic(d, "topic", serde.String(), serde.String()).PipeInputAt("k", "v", 5)
			for _, out := range []string{"output-one", "output-two"} {
				if n := streamstest.CreateOutputTopic(d, out, ks, serde.Int64()).QueueSize(); n != 1 {
					t.Errorf("%s has %d records, want 1", out, n)
				}
			}
		})
	}
}

func TestNamedTableGroupingSharesItsRepartitionTopic(t *testing.T) {
	b := streams.NewBuilder()
	tb := streams.TableOf(b, "topic", serde.String(), serde.String())
	g := streams.GroupTableBy(tb, func(k, v string) (string, string) { return k, v },
		streams.Named("grouping"), streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	streams.Count(g).ToStream().To("output-count", serde.String(), serde.Int64())
	streams.ReduceTable(g, func(a, v string) string { return v }, func(a, v string) string { return v }).ToStream().To("output-reduce", nil, nil)
	if got := build(t, b).RepartitionTopics("app"); len(got) != 1 || got[0] != "app-grouping-repartition" {
		t.Errorf("RepartitionTopics = %v, want [app-grouping-repartition]", got)
	}
}

// TestRepartitionTopicNamingGolden builds Kafka's RepartitionTopicNamingTest
// topology (unoptimized) and compares Describe with the text Kafka prints.
func TestRepartitionTopicNamingGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "describe", "repartition_topic_naming.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b := streams.NewBuilder()
	source := streams.StreamOf(b, "input", serde.String(), serde.String())
	mapped := streams.Map(source, func(k, v string) (string, string) { return strings.ToUpper(k), v })
	upper := streams.MapValues(mapped.Filter(func(k, v string) bool { return k == "B" }), func(k, v string) string { return strings.ToUpper(v) })
	streams.Process(upper, func() streams.Processor[string, string, string, string] { return &dedupProc{} })
	group := func(s streams.Stream[string, string], name string) streams.GroupedStream[string, string] {
		return streams.GroupByKey(s, streams.Named(name), streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	}
	countStream := streams.Count(group(mapped, "count-stream"), streams.WithStoreOptions()).ToStream()
	countStream.To("outputTopic_0", serde.String(), serde.Int64())
	streams.Aggregate(group(mapped, "aggregate-stream"), func() int32 { return 0 },
		func(k, v string, agg int32) int32 { return agg + int32(len(v)) }, streams.WithValueSerde(serde.Int32())).
		ToStream().To("outputTopic_1", serde.String(), serde.Int32())
	peeked := mapped.Filter(func(k, v string) bool { return true }).Peek(func(k, v string) {})
	streams.Reduce(group(peeked, "reduced-stream"), func(a, v string) string { return a + ":" + v }).
		ToStream().To("outputTopic_2", serde.String(), serde.String())
	joined := streams.Join(mapped.Filter(func(k, v string) bool { return k == "A" }), countStream,
		func(k, v1 string, v2 int64) string { return v1 + ":" + strconv.FormatInt(v2, 10) },
		streams.JoinTimeDifference(5*time.Second),
		streams.Named("joined-stream"), streams.Materialized("joined-stream"),
		streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()), streams.WithOtherValueSerde(serde.Int64()))
	joined.To("outputTopicForJoin", serde.String(), serde.String())
	if got := build(t, b).Describe().String(); got != string(want) {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}
