package streams_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

func build(t *testing.T, b *streams.Builder) *streams.Topology {
	t.Helper()
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func driver(t *testing.T, topo *streams.Topology) *streamstest.Driver {
	t.Helper()
	d, err := streamstest.NewDriver(topo, map[string]string{"application.id": "app"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// TestDescribeGolden compares Describe with the text Kafka Streams 3.9
// prints for the same DSL programs (taken from Kafka's own tests).
func TestDescribeGolden(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *streams.Builder)
		want  string
	}{
		{
			name: "process with named processor",
			build: func(b *streams.Builder) {
				s := streams.StreamOf(b, "input", serde.String(), serde.String())
				p := streams.Process(s, func() streams.Processor[string, string, string, int32] { return nil }, streams.Named("p"))
				p.To("output", serde.String(), serde.Int32())
			},
			want: "Topologies:\n" +
				"   Sub-topology: 0\n" +
				"    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n" +
				"      --> p\n" +
				"    Processor: p (stores: [])\n" +
				"      --> KSTREAM-SINK-0000000001\n" +
				"      <-- KSTREAM-SOURCE-0000000000\n" +
				"    Sink: KSTREAM-SINK-0000000001 (topic: output)\n" +
				"      <-- p\n\n",
		},
		{
			name: "toTable toStream",
			build: func(b *streams.Builder) {
				streams.StreamOf(b, "input", serde.String(), serde.String()).ToTable().ToStream().To("output", nil, nil)
			},
			want: "Topologies:\n" +
				"   Sub-topology: 0\n" +
				"    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n" +
				"      --> KSTREAM-TOTABLE-0000000001\n" +
				"    Processor: KSTREAM-TOTABLE-0000000001 (stores: [])\n" +
				"      --> KTABLE-TOSTREAM-0000000003\n" +
				"      <-- KSTREAM-SOURCE-0000000000\n" +
				"    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n" +
				"      --> KSTREAM-SINK-0000000004\n" +
				"      <-- KSTREAM-TOTABLE-0000000001\n" +
				"    Sink: KSTREAM-SINK-0000000004 (topic: output)\n" +
				"      <-- KTABLE-TOSTREAM-0000000003\n\n",
		},
		{
			name: "materialized toTable",
			build: func(b *streams.Builder) {
				streams.StreamOf(b, "input", serde.String(), serde.String()).ToTable(streams.Materialized("store"))
			},
			want: "Topologies:\n" +
				"   Sub-topology: 0\n" +
				"    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n" +
				"      --> KSTREAM-TOTABLE-0000000001\n" +
				"    Processor: KSTREAM-TOTABLE-0000000001 (stores: [store])\n" +
				"      --> none\n" +
				"      <-- KSTREAM-SOURCE-0000000000\n\n",
		},
		{
			name: "word count with a named store repartitions through <store>-repartition",
			build: func(b *streams.Builder) {
				text := streams.StreamOf(b, "streams-plaintext-input", serde.String(), serde.String())
				words := streams.FlatMapValues(text, func(_, v string) []string { return strings.Fields(strings.ToLower(v)) })
				grouped := streams.GroupBy(words, func(_, w string) string { return w }, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
				streams.Count(grouped, streams.Materialized("counts-store")).ToStream().To("streams-wordcount-output", serde.String(), serde.Int64())
			},
			want: "Topologies:\n" +
				"   Sub-topology: 0\n" +
				"    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])\n" +
				"      --> KSTREAM-FLATMAPVALUES-0000000001\n" +
				"    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n" +
				"      --> KSTREAM-KEY-SELECT-0000000002\n" +
				"      <-- KSTREAM-SOURCE-0000000000\n" +
				"    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n" +
				"      --> counts-store-repartition-filter\n" +
				"      <-- KSTREAM-FLATMAPVALUES-0000000001\n" +
				"    Processor: counts-store-repartition-filter (stores: [])\n" +
				"      --> counts-store-repartition-sink\n" +
				"      <-- KSTREAM-KEY-SELECT-0000000002\n" +
				"    Sink: counts-store-repartition-sink (topic: counts-store-repartition)\n" +
				"      <-- counts-store-repartition-filter\n" +
				"\n" +
				"  Sub-topology: 1\n" +
				"    Source: counts-store-repartition-source (topics: [counts-store-repartition])\n" +
				"      --> KSTREAM-AGGREGATE-0000000003\n" +
				"    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])\n" +
				"      --> KTABLE-TOSTREAM-0000000007\n" +
				"      <-- counts-store-repartition-source\n" +
				"    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])\n" +
				"      --> KSTREAM-SINK-0000000008\n" +
				"      <-- KSTREAM-AGGREGATE-0000000003\n" +
				"    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)\n" +
				"      <-- KTABLE-TOSTREAM-0000000007\n\n",
		},
		{
			name: "map then generated repartition names",
			build: func(b *streams.Builder) {
				s := streams.StreamOf(b, "topic", serde.String(), serde.String())
				m := streams.Map(s, func(k, v string) (string, string) { return v, k })
				m.Repartition(streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String())).To("out", serde.String(), serde.String())
			},
			want: "Topologies:\n" +
				"   Sub-topology: 0\n" +
				"    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n" +
				"      --> KSTREAM-MAP-0000000001\n" +
				"    Processor: KSTREAM-MAP-0000000001 (stores: [])\n" +
				"      --> KSTREAM-FILTER-0000000004\n" +
				"      <-- KSTREAM-SOURCE-0000000000\n" +
				"    Processor: KSTREAM-FILTER-0000000004 (stores: [])\n" +
				"      --> KSTREAM-SINK-0000000003\n" +
				"      <-- KSTREAM-MAP-0000000001\n" +
				"    Sink: KSTREAM-SINK-0000000003 (topic: KSTREAM-REPARTITION-0000000002-repartition)\n" +
				"      <-- KSTREAM-FILTER-0000000004\n" +
				"\n" +
				"  Sub-topology: 1\n" +
				"    Source: KSTREAM-SOURCE-0000000005 (topics: [KSTREAM-REPARTITION-0000000002-repartition])\n" +
				"      --> KSTREAM-SINK-0000000006\n" +
				"    Sink: KSTREAM-SINK-0000000006 (topic: out)\n" +
				"      <-- KSTREAM-SOURCE-0000000005\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			tc.build(b)
			if got := build(t, b).Describe().String(); got != tc.want {
				t.Errorf("Describe:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestStatelessOperators(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.String())
	var peeked, each []string
	s.Filter(func(k, v string) bool { return len(v) > 1 }).To("filter", nil, nil)
	s.FilterNot(func(k, v string) bool { return len(v) > 1 }).To("filternot", nil, nil)
	streams.Map(s, func(k, v string) (string, int32) { return v, int32(len(k)) }).To("map", serde.String(), serde.Int32())
	streams.MapValues(s, func(k, v string) int32 { return int32(len(v)) }).To("mapvalues", serde.String(), serde.Int32())
	streams.FlatMap(s, func(k, v string) []streams.KeyValue[string, string] {
		return []streams.KeyValue[string, string]{{Key: k + "1", Value: v}, {Key: k + "2", Value: v}}
	}).To("flatmap", serde.String(), serde.String())
	streams.FlatMapValues(s, func(k, v string) []string { return strings.Split(v, ",") }).To("flatmapvalues", serde.String(), serde.String())
	streams.SelectKey(s, func(k, v string) string { return strings.ToUpper(k) }).To("selectkey", serde.String(), serde.String())
	s.Peek(func(k, v string) { peeked = append(peeked, k) }).Foreach(func(k, v string) { each = append(each, v) })
	other := streams.StreamOf(b, "in2", serde.String(), serde.String())
	s.Merge(other).To("merge", nil, nil)
	branches := s.Split(streams.Named("split-")).
		Branch(func(k, v string) bool { return strings.HasPrefix(v, "a") }, "a").
		Branch(func(k, v string) bool { return strings.HasPrefix(v, "b") }, "").
		DefaultBranch("rest")
	branches["split-a"].To("branch-a", nil, nil)
	branches["split-2"].To("branch-b", nil, nil)
	branches["split-rest"].To("branch-rest", nil, nil)
	s.ToExtractor(func(k, v string, rc streams.RecordContext) string { return "dyn-" + k }, nil, nil)

	d := driver(t, build(t, b))
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	in2 := streamstest.CreateInputTopic(d, "in2", serde.String(), serde.String())
	for i, kv := range [][2]string{{"k1", "a,b"}, {"k2", "b"}, {"k3", "cc"}} {
		if err := in.PipeInputAt(kv[0], kv[1], int64(10*i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in2.PipeInputAt("x", "y", 5); err != nil {
		t.Fatal(err)
	}
	str := func(topic string) string {
		o := streamstest.CreateOutputTopic(d, topic, serde.String(), serde.String())
		kvs, err := o.ReadKeyValuesToList()
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, kv := range kvs {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return strings.Join(parts, " ")
	}
	i32 := func(topic string) []streams.KeyValue[string, int32] {
		o := streamstest.CreateOutputTopic(d, topic, serde.String(), serde.Int32())
		kvs, err := o.ReadKeyValuesToList()
		if err != nil {
			t.Fatal(err)
		}
		return kvs
	}
	for topic, want := range map[string]string{
		"filter":        "k1=a,b k3=cc",
		"filternot":     "k2=b",
		"flatmap":       "k11=a,b k12=a,b k21=b k22=b k31=cc k32=cc",
		"flatmapvalues": "k1=a k1=b k2=b k3=cc",
		"selectkey":     "K1=a,b K2=b K3=cc",
		"merge":         "k1=a,b k2=b k3=cc x=y",
		"branch-a":      "k1=a,b",
		"branch-b":      "k2=b",
		"branch-rest":   "k3=cc",
		"dyn-k2":        "k2=b",
	} {
		if got := str(topic); got != want {
			t.Errorf("%s: got %q, want %q", topic, got, want)
		}
	}
	if got := i32("map"); !equalKVs(got, []streams.KeyValue[string, int32]{{"a,b", 2}, {"b", 2}, {"cc", 2}}) {
		t.Errorf("map: %v", got)
	}
	if got := i32("mapvalues"); !equalKVs(got, []streams.KeyValue[string, int32]{{"k1", 3}, {"k2", 1}, {"k3", 2}}) {
		t.Errorf("mapvalues: %v", got)
	}
	if strings.Join(peeked, ",") != "k1,k2,k3" || strings.Join(each, ",") != "a,b,b,cc" {
		t.Errorf("peek saw %v, foreach saw %v", peeked, each)
	}
}

func TestPartitionerAndTimestamps(t *testing.T) {
	b := streams.NewBuilder()
	var chose []string
	streams.StreamOf(b, "in", serde.String(), serde.String()).To("out", serde.String(), serde.String(),
		streams.WithPartitioner(streams.StreamPartitioner[string, string](func(topic, k, v string, n int32) (int32, bool) {
			chose = append(chose, topic+"/"+k)
			return 0, true
		})))
	d := driver(t, build(t, b))
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.String())
	if err := in.PipeRecord(streams.Record[string, string]{Key: "k", Value: "v", Timestamp: 42, Headers: streams.Headers{{Key: "h", Value: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	if err := in.PipeInputAt("neg", "v", -1); err != nil {
		t.Fatal(err)
	}
	out := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.String())
	recs, err := out.ReadRecordsToList()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Timestamp != 42 || string(recs[0].Headers[0].Value) != "x" {
		t.Fatalf("out = %+v, want the one record with timestamp 42 and its header", recs)
	}
	if d.DroppedRecords() != 1 {
		t.Errorf("DroppedRecords = %d, want 1 (negative timestamp)", d.DroppedRecords())
	}
	if strings.Join(chose, ",") != "out/k" {
		t.Errorf("partitioner called for %v, want out/k", chose)
	}
}

func TestWordCountRepartitionAndChangelog(t *testing.T) {
	tests := []struct {
		name      string
		cache     string
		want      string
		changelog int
	}{
		// With the record cache (Kafka's default) each input line's
		// updates reach the output once per key, in the order of the
		// keys' last update, at the commit after the line.
		{"cached", "10485760", "b=1@100 a=2@100 b=2@101 c=1@101 a=3@102", 5},
		{"uncached", "0", "a=1@100 b=1@100 a=2@100 b=2@101 c=1@101 a=3@102", 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			text := streams.StreamOf(b, "text", serde.String(), serde.String())
			words := streams.FlatMapValues(text, func(_, v string) []string { return strings.Fields(v) })
			grouped := streams.GroupBy(words, func(_, w string) string { return w }, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
			streams.Count(grouped, streams.Materialized("counts")).ToStream().To("counts-out", serde.String(), serde.Int64())
			d, err := streamstest.NewDriver(build(t, b), map[string]string{"application.id": "app", "statestore.cache.max.bytes": tc.cache})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			in := streamstest.CreateInputTopic(d, "text", serde.String(), serde.String())
			for i, line := range []string{"a b a", "b c", "a"} {
				if err := in.PipeInputAt("", line, int64(100+i)); err != nil {
					t.Fatal(err)
				}
			}
			out := streamstest.CreateOutputTopic(d, "counts-out", serde.String(), serde.Int64())
			recs, err := out.ReadRecordsToList()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Key+"="+itoa(r.Value)+"@"+itoa(r.Timestamp))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("counts = %s, want %s", strings.Join(got, " "), tc.want)
			}
			rep := streamstest.CreateOutputTopic(d, "app-counts-repartition", serde.String(), serde.String())
			if rep.QueueSize() != 6 {
				t.Errorf("repartition topic app-counts-repartition has %d records, want 6", rep.QueueSize())
			}
			cl := streamstest.CreateOutputTopic(d, "app-counts-changelog", serde.String(), serde.Int64())
			if cl.QueueSize() != tc.changelog {
				t.Errorf("changelog app-counts-changelog has %d records, want %d", cl.QueueSize(), tc.changelog)
			}
			st, err := streamstest.KeyValueStore[string, int64](d, "counts")
			if err != nil {
				t.Fatal(err)
			}
			all, _ := st.All()
			if !equalKVs(all, []streams.KeyValue[string, int64]{{"a", 3}, {"b", 2}, {"c", 1}}) {
				t.Errorf("store = %v", all)
			}
		})
	}
}

func TestDriverRejectsUnknownProperty(t *testing.T) {
	b := streams.NewBuilder()
	streams.StreamOf(b, "in", serde.String(), serde.String()).To("out", nil, nil)
	_, err := streamstest.NewDriver(build(t, b), map[string]string{"application.idd": "x"})
	if !errors.Is(err, streamstest.ErrConfig) || !strings.Contains(err.Error(), "application.idd") {
		t.Errorf("NewDriver error = %v, want ErrConfig naming application.idd", err)
	}
}

func TestReduceAggregateAndNulls(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
	g := streams.GroupByKey(s)
	streams.Reduce(g, func(a, v int64) int64 { return a + v }, streams.Materialized("sum")).ToStream().To("sum", nil, nil)
	streams.Aggregate(g, func() string { return "<" }, func(k string, v int64, agg string) string { return agg + itoa(v) },
		streams.WithValueSerde(serde.String())).ToStream().To("agg", serde.String(), serde.String())
	d := driver(t, build(t, b))
	in := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	_ = in.PipeInputAt("a", 1, 10)
	_ = in.PipeInputAt("a", 2, 5)
	_ = in.PipeTombstoneAt("a", 20)
	_ = in.PipeInputAt("b", 3, 7)
	sum := streamstest.CreateOutputTopic(d, "sum", serde.String(), serde.Int64())
	recs, _ := sum.ReadRecordsToList()
	var got []string
	for _, r := range recs {
		got = append(got, r.Key+"="+itoa(r.Value)+"@"+itoa(r.Timestamp))
	}
	// The aggregate's timestamp is the largest contributing timestamp; a
	// null value is skipped.
	if want := "a=1@10 a=3@10 b=3@7"; strings.Join(got, " ") != want {
		t.Errorf("reduce = %s, want %s", strings.Join(got, " "), want)
	}
	agg := streamstest.CreateOutputTopic(d, "agg", serde.String(), serde.String())
	kvs, _ := agg.ReadKeyValuesToList()
	if !equalKVs(kvs, []streams.KeyValue[string, string]{{"a", "<1"}, {"a", "<12"}, {"b", "<3"}}) {
		t.Errorf("aggregate = %v", kvs)
	}
	if d.DroppedRecords() != 2 {
		t.Errorf("DroppedRecords = %d, want 2 (the tombstone, once per aggregation)", d.DroppedRecords())
	}
}

func TestTableSourceFilterMapValuesAndGroupBy(t *testing.T) {
	b := streams.NewBuilder()
	users := streams.TableOf(b, "users", serde.String(), serde.String(), streams.Materialized("users-store"))
	users.Filter(func(k, v string) bool { return v != "banned" }).ToStream().To("active", nil, nil)
	streams.MapTableValues(users, func(k, v string) int64 { return int64(len(v)) }).ToStream().To("lens", serde.String(), serde.Int64())
	// Users per region: value "region".
	byRegion := streams.GroupTableBy(users, func(k, v string) (string, string) { return v, k },
		streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	streams.Count(byRegion, streams.Materialized("per-region")).ToStream().To("per-region", serde.String(), serde.Int64())

	d := driver(t, build(t, b))
	in := streamstest.CreateInputTopic(d, "users", serde.String(), serde.String())
	_ = in.PipeInputAt("u1", "eu", 1)
	_ = in.PipeInputAt("u2", "eu", 2)
	_ = in.PipeInputAt("u1", "us", 3)
	_ = in.PipeInputAt("u2", "banned", 4)
	_ = in.PipeTombstoneAt("u1", 5)

	active := streamstest.CreateOutputTopic(d, "active", serde.String(), serde.String())
	recs, _ := active.ReadRecordsToList()
	var got []string
	for _, r := range recs {
		v := r.Value
		if r.Tombstone {
			v = "null"
		}
		got = append(got, r.Key+"="+v)
	}
	if want := "u1=eu u2=eu u1=us u2=null u1=null"; strings.Join(got, " ") != want {
		t.Errorf("filtered table = %s, want %s", strings.Join(got, " "), want)
	}
	per := streamstest.CreateOutputTopic(d, "per-region", serde.String(), serde.Int64())
	kvs, _ := per.ReadKeyValuesToList()
	want := []streams.KeyValue[string, int64]{{"eu", 1}, {"eu", 2}, {"eu", 1}, {"us", 1}, {"eu", 0}, {"banned", 1}, {"us", 0}}
	if !equalKVs(kvs, want) {
		t.Errorf("count per region = %v, want %v", kvs, want)
	}
	st, _ := streamstest.KeyValueStore[string, string](d, "users-store")
	if _, ok, _ := st.Get("u1"); ok {
		t.Error("tombstone did not delete u1 from the table's store")
	}
	if v, _, _ := st.Get("u2"); v != "banned" {
		t.Errorf("u2 = %q", v)
	}
}

func itoa(v int64) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}
