package streams_test

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

type in struct {
	k  string
	v  int64
	ts int64
}

// runWindowed pipes inputs into "in" and returns the windowed output of
// "out" as "[key@start/end]=value@ts" strings (value "null" for deletes).
func runWindowed(t *testing.T, b *streams.Builder, outKey streams.Serde[streams.Windowed[string]], inputs []in) ([]string, *streamstest.Driver) {
	t.Helper()
	d := driver(t, build(t, b))
	src := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
	for _, r := range inputs {
		if err := src.PipeInputAt(r.k, r.v, r.ts); err != nil {
			t.Fatal(err)
		}
	}
	out := streamstest.CreateOutputTopic(d, "out", outKey, serde.Int64())
	recs, err := out.ReadRecordsToList()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		v := fmt.Sprint(r.Value)
		if r.Tombstone {
			v = "null"
		}
		got = append(got, fmt.Sprintf("[%s@%d/%d]=%s@%d", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, v, r.Timestamp))
	}
	return got, d
}

func checkLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestWindowedCounts(t *testing.T) {
	tests := []struct {
		name    string
		windows streams.Windows
		outKey  streams.Serde[streams.Windowed[string]]
		inputs  []in
		want    []string
		dropped int64
	}{
		{
			name:    "tumbling with grace drops records after the grace period",
			windows: streams.Tumbling(10 * time.Millisecond).Grace(5 * time.Millisecond),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 1}, {"a", 1, 12}, {"a", 1, 8}, {"a", 1, 20}, {"a", 1, 9}, {"b", 1, 10}},
			want:    []string{"[a@0/10]=1@1", "[a@10/20]=1@12", "[a@0/10]=2@8", "[a@20/30]=1@20", "[b@10/20]=1@10"},
			dropped: 1,
		},
		{
			name:    "tumbling without grace",
			windows: streams.Tumbling(10 * time.Millisecond),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 5}, {"a", 1, 10}, {"a", 1, 9}},
			want:    []string{"[a@0/10]=1@5", "[a@10/20]=1@10"},
			dropped: 1,
		},
		{
			name:    "hopping",
			windows: streams.Hopping(10*time.Millisecond, 5*time.Millisecond).Grace(time.Second),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 7}, {"a", 1, 12}},
			want:    []string{"[a@0/10]=1@7", "[a@5/15]=1@7", "[a@5/15]=2@12", "[a@10/20]=1@12"},
		},
		{
			name:    "session merges and drops late sessions",
			windows: streams.Sessions(5 * time.Millisecond),
			outKey:  streams.SessionWindowedSerde(serde.String()),
			inputs:  []in{{"a", 1, 0}, {"a", 1, 3}, {"a", 1, 20}, {"a", 1, 2}, {"a", 1, 24}, {"a", 1, 18}},
			want: []string{
				"[a@0/0]=1@0",
				"[a@0/0]=null@0", "[a@0/3]=2@3",
				"[a@20/20]=1@20",
				"[a@20/20]=null@20", "[a@20/24]=2@24",
				"[a@20/24]=null@24", "[a@18/24]=3@24",
			},
			dropped: 1,
		},
		{
			name:    "sliding in order and out of order within grace",
			windows: streams.Sliding(10 * time.Millisecond).Grace(20 * time.Millisecond),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 10}, {"a", 1, 15}, {"a", 1, 30}, {"a", 1, 13}},
			want: []string{
				"[a@0/10]=1@10",
				"[a@11/21]=1@15", "[a@5/15]=2@15",
				"[a@20/30]=1@30",
				"[a@5/15]=3@15", "[a@11/21]=2@15", "[a@3/13]=2@13", "[a@14/24]=1@15",
			},
		},
		{
			name:    "sliding early records share [0, diff]",
			windows: streams.Sliding(10 * time.Millisecond).Grace(time.Second),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 2}, {"a", 1, 5}},
			want:    []string{"[a@0/10]=1@2", "[a@3/13]=1@5", "[a@0/10]=2@5"},
		},
		{
			name:    "sliding drops records whose windows closed",
			windows: streams.Sliding(10 * time.Millisecond),
			outKey:  streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond),
			inputs:  []in{{"a", 1, 30}, {"a", 1, 15}},
			want:    []string{"[a@20/30]=1@30"},
			dropped: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
			counts := streams.Count(streams.WindowedBy(streams.GroupByKey(s), tc.windows))
			counts.ToStream().To("out", tc.outKey, serde.Int64())
			got, d := runWindowed(t, b, tc.outKey, tc.inputs)
			checkLines(t, got, tc.want...)
			if d.DroppedRecords() != tc.dropped {
				t.Errorf("DroppedRecords = %d, want %d", d.DroppedRecords(), tc.dropped)
			}
		})
	}
}

func TestWindowedReduceAndAggregateSessions(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
	g := streams.GroupByKey(s)
	streams.Reduce(streams.WindowedBy(g, streams.Tumbling(10*time.Millisecond)), func(a, v int64) int64 { return max(a, v) }).
		ToStream().To("out", streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	sums := streams.AggregateSessions(streams.WindowedBy(g, streams.Sessions(5*time.Millisecond)),
		func() int64 { return 100 },
		func(k string, v, agg int64) int64 { return agg + v },
		func(k string, a, b int64) int64 { return a + b - 100 },
		streams.WithValueSerde(serde.Int64()), streams.Materialized("sessions"))
	sums.ToStream().To("sessions", streams.SessionWindowedSerde(serde.String()), serde.Int64())
	got, d := runWindowed(t, b, streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond), []in{{"a", 3, 1}, {"a", 7, 4}, {"a", 5, 8}})
	checkLines(t, got, "[a@0/10]=3@1", "[a@0/10]=7@4", "[a@0/10]=7@8")
	st, err := streamstest.SessionStore[string, int64](d, "sessions")
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.Fetch("a")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Key.Window != (streams.Window{Start: 1, End: 8}) || all[0].Value != 115 {
		t.Errorf("sessions = %+v, want one session [1,8] = 115", all)
	}
	// Aggregate without a merger cannot run over sessions.
	b2 := streams.NewBuilder()
	s2 := streams.StreamOf(b2, "in", serde.String(), serde.Int64())
	streams.Aggregate(streams.WindowedBy(streams.GroupByKey(s2), streams.Sessions(time.Second)), func() int64 { return 0 },
		func(k streams.Windowed[string], v, a int64) int64 { return a + v }, streams.WithValueSerde(serde.Int64()))
	if _, err := b2.Build(); err == nil || !strings.Contains(err.Error(), "AggregateSessions") {
		t.Errorf("Build error = %v, want one pointing to AggregateSessions", err)
	}
	b3 := streams.NewBuilder()
	s3 := streams.StreamOf(b3, "in", serde.String(), serde.Int64())
	streams.AggregateWindows(streams.WindowedBy(streams.GroupByKey(s3), streams.Sessions(time.Second)), func() int64 { return 0 },
		func(k string, v, a int64) int64 { return a + v }, streams.WithValueSerde(serde.Int64()))
	if _, err := b3.Build(); err == nil || !strings.Contains(err.Error(), "AggregateSessions") {
		t.Errorf("Build error = %v, want one pointing to AggregateSessions", err)
	}
}

func TestSuppress(t *testing.T) {
	t.Run("until window closes emits final results once", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
		counts := streams.Count(streams.WindowedBy(streams.GroupByKey(s), streams.Tumbling(10*time.Millisecond).Grace(5*time.Millisecond)))
		ks := streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
		streams.Suppress(counts, streams.UntilWindowCloses()).ToStream().To("out", ks, serde.Int64())
		got, _ := runWindowed(t, b, ks, []in{{"a", 1, 1}, {"a", 1, 5}, {"b", 1, 3}, {"a", 1, 12}, {"a", 1, 16}, {"a", 1, 4}, {"a", 1, 27}})
		checkLines(t, got, "[a@0/10]=2@5", "[b@0/10]=1@3", "[a@10/20]=2@16")
	})
	t.Run("until window closes drops merged sessions", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
		counts := streams.Count(streams.WindowedBy(streams.GroupByKey(s), streams.Sessions(5*time.Millisecond)))
		ks := streams.SessionWindowedSerde(serde.String())
		streams.Suppress(counts, streams.UntilWindowCloses()).ToStream().To("out", ks, serde.Int64())
		got, _ := runWindowed(t, b, ks, []in{{"a", 1, 0}, {"a", 1, 3}, {"a", 1, 4}, {"b", 1, 10}})
		checkLines(t, got, "[a@0/4]=3@4")
	})
	t.Run("until time limit", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
		counts := streams.Count(streams.GroupByKey(s))
		streams.Suppress(counts, streams.UntilTimeLimit(10*time.Millisecond)).ToStream().To("out", serde.String(), serde.Int64())
		d := driver(t, build(t, b))
		src := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
		for _, r := range []in{{"a", 1, 0}, {"a", 1, 5}, {"b", 1, 8}, {"a", 1, 10}, {"b", 1, 19}} {
			if err := src.PipeInputAt(r.k, r.v, r.ts); err != nil {
				t.Fatal(err)
			}
		}
		recs, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.Int64()).ReadRecordsToList()
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%s=%d@%d", r.Key, r.Value, r.Timestamp))
		}
		checkLines(t, got, "a=3@10", "b=2@19")
	})
	t.Run("buffer bound emits early", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "in", serde.String(), serde.Int64())
		counts := streams.Count(streams.GroupByKey(s))
		streams.Suppress(counts, streams.UntilTimeLimit(time.Hour).EmitEarlyWhenFull(1)).ToStream().To("out", serde.String(), serde.Int64())
		d := driver(t, build(t, b))
		src := streamstest.CreateInputTopic(d, "in", serde.String(), serde.Int64())
		_ = src.PipeInputAt("a", 1, 0)
		_ = src.PipeInputAt("b", 1, 1)
		kvs, _ := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.Int64()).ReadKeyValuesToList()
		if !equalKVs(kvs, []streams.KeyValue[string, int64]{{"a", 1}}) {
			t.Errorf("early emits = %v, want a=1", kvs)
		}
	})
}

func TestSuppressDescribeGolden(t *testing.T) {
	named := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n" +
		"      --> KSTREAM-KEY-SELECT-0000000001\n" +
		"    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])\n" +
		"      --> counts-repartition-filter\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Processor: counts-repartition-filter (stores: [])\n" +
		"      --> counts-repartition-sink\n" +
		"      <-- KSTREAM-KEY-SELECT-0000000001\n" +
		"    Sink: counts-repartition-sink (topic: counts-repartition)\n" +
		"      <-- counts-repartition-filter\n" +
		"\n" +
		"  Sub-topology: 1\n" +
		"    Source: counts-repartition-source (topics: [counts-repartition])\n" +
		"      --> KSTREAM-AGGREGATE-0000000002\n" +
		"    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [counts])\n" +
		"      --> myname\n" +
		"      <-- counts-repartition-source\n" +
		"    Processor: myname (stores: [myname-store])\n" +
		"      --> KTABLE-TOSTREAM-0000000006\n" +
		"      <-- KSTREAM-AGGREGATE-0000000002\n" +
		"    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])\n" +
		"      --> KSTREAM-MAP-0000000007\n" +
		"      <-- myname\n" +
		"    Processor: KSTREAM-MAP-0000000007 (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000008\n" +
		"      <-- KTABLE-TOSTREAM-0000000006\n" +
		"    Sink: KSTREAM-SINK-0000000008 (topic: output-suppressed)\n" +
		"      <-- KSTREAM-MAP-0000000007\n" +
		"\n"
	anonymousIntermediate := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n" +
		"      --> KSTREAM-AGGREGATE-0000000002\n" +
		"    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n" +
		"      --> KTABLE-SUPPRESS-0000000003\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Processor: KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])\n" +
		"      --> KTABLE-TOSTREAM-0000000005\n" +
		"      <-- KSTREAM-AGGREGATE-0000000002\n" +
		"    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000006\n" +
		"      <-- KTABLE-SUPPRESS-0000000003\n" +
		"    Sink: KSTREAM-SINK-0000000006 (topic: output)\n" +
		"      <-- KTABLE-TOSTREAM-0000000005\n" +
		"\n"

	b := streams.NewBuilder()
	s := streams.StreamOf(b, "input", serde.String(), serde.String())
	g := streams.GroupBy(s, func(k, v string) string { return k }, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	counts := streams.Count(streams.WindowedBy(g, streams.Sessions(5*time.Millisecond).Grace(5*time.Millisecond)),
		streams.Materialized("counts", streams.WithCaching(false)))
	sup := streams.Suppress(counts, streams.UntilWindowCloses().WithName("myname")).ToStream()
	streams.Map(sup, func(k streams.Windowed[string], v int64) (string, int64) { return k.Key, v }).To("output-suppressed", serde.String(), serde.Int64())
	if got := build(t, b).Describe().String(); got != named {
		t.Errorf("named suppression:\n%s\nwant:\n%s", got, named)
	}

	b = streams.NewBuilder()
	s = streams.StreamOf(b, "input", serde.String(), serde.String())
	streams.Suppress(streams.Count(streams.GroupByKey(s)), streams.UntilTimeLimit(time.Second)).ToStream().To("output", serde.String(), serde.Int64())
	if got := build(t, b).Describe().String(); got != anonymousIntermediate {
		t.Errorf("anonymous suppression:\n%s\nwant:\n%s", got, anonymousIntermediate)
	}
}

// TestSlidingWindowsKafkaLargeInput replays Kafka's
// KStreamSlidingWindowAggregateTest.testAggregateLargeInput (grace 50ms,
// every update emitted) and compares with Kafka's expected results, sorted
// by key and window start as Kafka's test sorts them.
func TestSlidingWindowsKafkaLargeInput(t *testing.T) {
	want := []string{
		"[A@0/10]=0+1@10",
		"[A@5/15]=0+1+4@15",
		"[A@10/20]=0+1+2@20",
		"[A@10/20]=0+1+2+4@20",
		"[A@11/21]=0+2@20",
		"[A@11/21]=0+2+4@20",
		"[A@12/22]=0+2+3@22",
		"[A@12/22]=0+2+3+4@22",
		"[A@16/26]=0+2+3@22",
		"[A@21/31]=0+3@22",
		"[B@2/12]=0+1@12",
		"[B@3/13]=0+1+2@13",
		"[B@4/14]=0+1+2+6@14",
		"[B@8/18]=0+1+2+3@18",
		"[B@8/18]=0+1+2+3+6@18",
		"[B@9/19]=0+1+2+3+4@19",
		"[B@9/19]=0+1+2+3+4+6@19",
		"[B@13/23]=0+2@13",
		"[B@13/23]=0+2+3@18",
		"[B@13/23]=0+2+3+4@19",
		"[B@13/23]=0+2+3+4+6@19",
		"[B@14/24]=0+3@18",
		"[B@14/24]=0+3+4@19",
		"[B@14/24]=0+3+4+6@19",
		"[B@15/25]=0+3+4+5@25",
		"[B@19/29]=0+4@19",
		"[B@19/29]=0+4+5@25",
		"[B@20/30]=0+5@25",
		"[C@1/11]=0+1@11",
		"[C@5/15]=0+1+2@15",
		"[C@6/16]=0+1+2+3@16",
		"[C@11/21]=0+1+2+3+4@21",
		"[C@12/22]=0+2@15",
		"[C@12/22]=0+2+3@16",
		"[C@12/22]=0+2+3+4@21",
		"[C@13/23]=0+2+3+4+5@23",
		"[C@16/26]=0+3@16",
		"[C@16/26]=0+3+4@21",
		"[C@16/26]=0+3+4+5@23",
		"[C@17/27]=0+4@21",
		"[C@17/27]=0+4+5@23",
		"[C@22/32]=0+5@23",
		"[D@1/11]=0+4@11",
		"[D@2/12]=0+4+2@12",
		"[D@6/16]=0+4+2+5@16",
		"[D@12/22]=0+2@12",
		"[D@12/22]=0+2+5@16",
		"[D@13/23]=0+5@16",
		"[D@19/29]=0+3@29",
	}
	inputs := []struct {
		k, v string
		ts   int64
	}{
		{"A", "1", 10}, {"A", "2", 20}, {"A", "3", 22}, {"A", "4", 15},
		{"B", "1", 12}, {"B", "2", 13}, {"B", "3", 18}, {"B", "4", 19}, {"B", "5", 25}, {"B", "6", 14},
		{"C", "1", 11}, {"C", "2", 15}, {"C", "3", 16}, {"C", "4", 21}, {"C", "5", 23},
		{"D", "4", 11}, {"D", "2", 12}, {"D", "3", 29}, {"D", "5", 16},
	}
	for _, cache := range []string{"0", "10485760"} {
		t.Run("cache="+cache, func(t *testing.T) {
			b := streams.NewBuilder()
			s := streams.StreamOf(b, "topic1", serde.String(), serde.String())
			agg := streams.AggregateWindows(streams.WindowedBy(streams.GroupByKey(s), streams.Sliding(10*time.Millisecond).Grace(50*time.Millisecond)),
				func() string { return "0" }, func(k, v, agg string) string { return agg + "+" + v }, streams.WithValueSerde(serde.String()))
			ks := streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
			agg.ToStream().To("out", ks, serde.String())
			d, err := streamstest.NewDriver(build(t, b), map[string]string{"statestore.cache.max.bytes": cache, "state.dir": t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			in := streamstest.CreateInputTopic(d, "topic1", serde.String(), serde.String())
			for _, r := range inputs {
				if err := in.PipeInputAt(r.k, r.v, r.ts); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := streamstest.CreateOutputTopic(d, "out", ks, serde.String()).ReadRecordsToList()
			if err != nil {
				t.Fatal(err)
			}
			slices.SortStableFunc(recs, func(a, b streamstest.TestRecord[streams.Windowed[string], string]) int {
				if c := strings.Compare(a.Key.Key, b.Key.Key); c != 0 {
					return c
				}
				return cmp.Compare(a.Key.Window.Start, b.Key.Window.Start)
			})
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("[%s@%d/%d]=%s@%d", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, r.Value, r.Timestamp))
			}
			checkLines(t, got, want...)
		})
	}
}

// TestSessionWindowsKafkaScenario replays Kafka's
// SessionWindowedKStreamImplTest (inactivity gap 500ms, no grace) for
// count, reduce and aggregate, cached and uncached.
func TestSessionWindowsKafkaScenario(t *testing.T) {
	type aggFn func(g streams.GroupedStream[streams.Windowed[string], string]) streams.Table[streams.Windowed[string], string]
	tests := []struct {
		name string
		agg  aggFn
		want []string
	}{
		{"count", func(g streams.GroupedStream[streams.Windowed[string], string]) streams.Table[streams.Windowed[string], string] {
			return streams.MapTableValues(streams.Count(g), func(_ streams.Windowed[string], n int64) string { return strconv.FormatInt(n, 10) },
				streams.WithValueSerde(serde.String()))
		}, []string{"[1@10/10]=1@10", "[1@10/10]=null@10", "[1@10/15]=2@15", "[1@600/600]=1@600", "[2@600/600]=1@600", "[2@600/600]=null@600", "[2@599/600]=2@600"}},
		{"reduce", func(g streams.GroupedStream[streams.Windowed[string], string]) streams.Table[streams.Windowed[string], string] {
			return streams.Reduce(g, func(a, v string) string { return a + "+" + v })
		}, []string{"[1@10/10]=1@10", "[1@10/10]=null@10", "[1@10/15]=1+2@15", "[1@600/600]=3@600", "[2@600/600]=1@600", "[2@600/600]=null@600", "[2@599/600]=1+2@600"}},
		{"aggregate", func(g streams.GroupedStream[streams.Windowed[string], string]) streams.Table[streams.Windowed[string], string] {
			return streams.AggregateSessions(g, func() string { return "0" }, func(k, v, a string) string { return a + "+" + v },
				func(k, a, b string) string { return a + "+" + b }, streams.WithValueSerde(serde.String()))
		}, []string{"[1@10/10]=0+1@10", "[1@10/10]=null@10", "[1@10/15]=0+0+1+2@15", "[1@600/600]=0+3@600", "[2@600/600]=0+1@600", "[2@600/600]=null@600", "[2@599/600]=0+0+1+2@600"}},
	}
	for _, tc := range tests {
		for _, cache := range []string{"0", "10485760"} {
			t.Run(tc.name+"/cache="+cache, func(t *testing.T) {
				b := streams.NewBuilder()
				s := streams.StreamOf(b, "topic", serde.String(), serde.String())
				g := streams.WindowedBy(streams.GroupByKey(s), streams.Sessions(500*time.Millisecond))
				ks := streams.SessionWindowedSerde(serde.String())
				tc.agg(g).ToStream().To("out", ks, serde.String())
				d, err := streamstest.NewDriver(build(t, b), map[string]string{"statestore.cache.max.bytes": cache, "state.dir": t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				in := streamstest.CreateInputTopic(d, "topic", serde.String(), serde.String())
				for _, r := range []struct {
					k, v string
					ts   int64
				}{{"1", "1", 10}, {"1", "2", 15}, {"1", "3", 600}, {"2", "1", 600}, {"2", "2", 599}} {
					if err := in.PipeInputAt(r.k, r.v, r.ts); err != nil {
						t.Fatal(err)
					}
				}
				recs, err := streamstest.CreateOutputTopic(d, "out", ks, serde.String()).ReadRecordsToList()
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range recs {
					v := r.Value
					if r.Tombstone {
						v = "null"
					}
					got = append(got, fmt.Sprintf("[%s@%d/%d]=%s@%d", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, v, r.Timestamp))
				}
				checkLines(t, got, tc.want...)
			})
		}
	}
}

// TestSuppressKafkaScenarios replays scenarios of Kafka's
// SuppressScenarioTest: raw and suppressed outputs are read at the same
// points as Kafka's test reads them.
func TestSuppressKafkaScenarios(t *testing.T) {
	type step struct {
		k, v       string
		ts         int64
		raw, suppr []string // nil: not checked at this step
	}
	grouped := func(b *streams.Builder) streams.Table[string, int64] {
		tb := streams.TableOf(b, "input", serde.String(), serde.String(),
			streams.Materialized("", streams.WithCaching(false), streams.WithLogging(false, nil)))
		g := streams.GroupTableBy(tb, func(k, v string) (string, string) { return v, k },
			streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
		return streams.Count(g)
	}
	tests := []struct {
		name  string
		build func(b *streams.Builder)
		steps []step
	}{
		{"time limit", func(b *streams.Builder) {
			counts := grouped(b)
			streams.Suppress(counts, streams.UntilTimeLimit(2*time.Millisecond)).ToStream().To("output-suppressed", serde.String(), serde.Int64())
			counts.ToStream().To("output-raw", serde.String(), serde.Int64())
		}, []step{
			{"k1", "v1", 0, nil, nil},
			{"k1", "v2", 1, nil, nil},
			{"k2", "v1", 2, []string{"v1=1@0", "v1=0@1", "v2=1@1", "v1=1@2"}, []string{"v1=1@2"}},
			{"tick", "tick", 3, []string{"tick=1@3"}, []string{"v2=1@1"}},
			{"tick", "tock", 4, []string{"tick=0@4", "tock=1@4"}, []string{}},
		}},
		{"record limit", func(b *streams.Builder) {
			counts := grouped(b)
			streams.Suppress(counts, streams.UntilTimeLimit(time.Duration(1<<62)).EmitEarlyWhenFull(1)).ToStream().To("output-suppressed", serde.String(), serde.Int64())
			counts.ToStream().To("output-raw", serde.String(), serde.Int64())
		}, []step{
			{"k1", "v1", 0, nil, nil},
			{"k1", "v2", 1, nil, nil},
			{"k2", "v1", 2, []string{"v1=1@0", "v1=0@1", "v2=1@1", "v1=1@2"}, []string{"v1=0@1", "v2=1@1"}},
			{"x", "x", 3, []string{"x=1@3"}, []string{"v1=1@2"}},
		}},
		{"final results for time windows", func(b *streams.Builder) {
			s := streams.StreamOf(b, "input", serde.String(), serde.String())
			g := streams.GroupBy(s, func(k, v string) string { return k }, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
			counts := streams.Count(streams.WindowedBy(g, streams.Tumbling(2*time.Millisecond).Grace(time.Millisecond)),
				streams.Materialized("counts", streams.WithCaching(false)))
			str := func(k streams.Windowed[string], v int64) (string, int64) {
				return fmt.Sprintf("[%s@%d/%d]", k.Key, k.Window.Start, k.Window.End), v
			}
			streams.Map(streams.Suppress(counts, streams.UntilWindowCloses()).ToStream(), str).To("output-suppressed", serde.String(), serde.Int64())
			streams.Map(counts.ToStream(), str).To("output-raw", serde.String(), serde.Int64())
		}, []step{
			{"k1", "v1", 0, nil, nil},
			{"k1", "v1", 1, nil, nil},
			{"k1", "v1", 2, nil, nil},
			{"k1", "v1", 1, nil, nil},
			{"k1", "v1", 0, nil, nil},
			{"k1", "v1", 5, nil, nil},
			{"k1", "v1", 0, // dropped: out of the grace period
				[]string{"[k1@0/2]=1@0", "[k1@0/2]=2@1", "[k1@2/4]=1@2", "[k1@0/2]=3@1", "[k1@0/2]=4@1", "[k1@4/6]=1@5"},
				[]string{"[k1@0/2]=4@1", "[k1@2/4]=1@2"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			tc.build(b)
			d := driver(t, build(t, b))
			in := streamstest.CreateInputTopic(d, "input", serde.String(), serde.String())
			read := func(topic string) []string {
				recs, err := streamstest.CreateOutputTopic(d, topic, serde.String(), serde.Int64()).ReadRecordsToList()
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, r := range recs {
					got = append(got, fmt.Sprintf("%s=%d@%d", r.Key, r.Value, r.Timestamp))
				}
				return got
			}
			for i, s := range tc.steps {
				if err := in.PipeInputAt(s.k, s.v, s.ts); err != nil {
					t.Fatal(err)
				}
				if s.raw != nil {
					if got := read("output-raw"); fmt.Sprint(got) != fmt.Sprint(s.raw) {
						t.Errorf("step %d raw: got %v, want %v", i, got, s.raw)
					}
				}
				if s.suppr != nil {
					if got := read("output-suppressed"); fmt.Sprint(got) != fmt.Sprint(s.suppr) {
						t.Errorf("step %d suppressed: got %v, want %v", i, got, s.suppr)
					}
				}
			}
		})
	}
}

// TestHoppingWindowsKafkaBasic replays Kafka's
// KStreamWindowAggregateTest.testAggBasic (size 10ms, advance 5ms, grace
// 100ms), cached and uncached, against Kafka's expected results.
func TestHoppingWindowsKafkaBasic(t *testing.T) {
	want := []string{
		"[A@0/10]=0+1@0",
		"[B@0/10]=0+2@1",
		"[C@0/10]=0+3@2",
		"[D@0/10]=0+4@3",
		"[A@0/10]=0+1+1@4",
		"[A@0/10]=0+1+1+1@5",
		"[A@5/15]=0+1@5",
		"[B@0/10]=0+2+2@6",
		"[B@5/15]=0+2@6",
		"[D@0/10]=0+4+4@7",
		"[D@5/15]=0+4@7",
		"[B@0/10]=0+2+2+2@8",
		"[B@5/15]=0+2+2@8",
		"[C@0/10]=0+3+3@9",
		"[C@5/15]=0+3@9",
		"[A@5/15]=0+1+1@10",
		"[A@10/20]=0+1@10",
		"[B@5/15]=0+2+2+2@11",
		"[B@10/20]=0+2@11",
		"[D@5/15]=0+4+4@12",
		"[D@10/20]=0+4@12",
		"[B@5/15]=0+2+2+2+2@13",
		"[B@10/20]=0+2+2@13",
		"[C@5/15]=0+3+3@14",
		"[C@10/20]=0+3@14",
		"[B@0/10]=0+2+2+2+1@8",
		"[B@0/10]=0+2+2+2+1+2@8",
		"[B@0/10]=0+2+2+2+1+2+3@9",
		"[B@5/15]=0+2+2+2+2+3@13",
	}
	inputs := []struct {
		k, v string
		ts   int64
	}{{"A", "1", 0}, {"B", "2", 1}, {"C", "3", 2}, {"D", "4", 3}, {"A", "1", 4}, {"A", "1", 5}, {"B", "2", 6}, {"D", "4", 7}, {"B", "2", 8}, {"C", "3", 9}, {"A", "1", 10}, {"B", "2", 11}, {"D", "4", 12}, {"B", "2", 13}, {"C", "3", 14}, {"B", "1", 3}, {"B", "2", 2}, {"B", "3", 9}}
	for _, cache := range []string{"0", "10485760"} {
		t.Run("cache="+cache, func(t *testing.T) {
			b := streams.NewBuilder()
			s := streams.StreamOf(b, "topic1", serde.String(), serde.String())
			w := streams.Hopping(10*time.Millisecond, 5*time.Millisecond).Grace(100 * time.Millisecond)
			agg := streams.AggregateWindows(streams.WindowedBy(streams.GroupByKey(s), w),
				func() string { return "0" }, func(k, v, agg string) string { return agg + "+" + v },
				streams.Materialized("topic1-Canonized"), streams.WithValueSerde(serde.String()))
			ks := streams.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
			agg.ToStream().To("out", ks, serde.String())
			d, err := streamstest.NewDriver(build(t, b), map[string]string{"statestore.cache.max.bytes": cache, "state.dir": t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			in := streamstest.CreateInputTopic(d, "topic1", serde.String(), serde.String())
			for _, r := range inputs {
				if err := in.PipeInputAt(r.k, r.v, r.ts); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := streamstest.CreateOutputTopic(d, "out", ks, serde.String()).ReadRecordsToList()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("[%s@%d/%d]=%s@%d", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, r.Value, r.Timestamp))
			}
			checkLines(t, got, want...)
		})
	}
}
