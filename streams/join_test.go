package streams_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

type pipe struct {
	topic string
	k, v  string
	ts    int64
	tomb  bool
}

func runPipes(t *testing.T, b *streams.Builder, pipes []pipe) []string {
	t.Helper()
	d := driver(t, build(t, b))
	topics := map[string]*streamstest.InputTopic[string, string]{}
	for _, p := range pipes {
		in, ok := topics[p.topic]
		if !ok {
			in = streamstest.CreateInputTopic(d, p.topic, serde.String(), serde.String())
			topics[p.topic] = in
		}
		var err error
		if p.tomb {
			err = in.PipeTombstoneAt(p.k, p.ts)
		} else {
			err = in.PipeInputAt(p.k, p.v, p.ts)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := streamstest.CreateOutputTopic(d, "out", serde.String(), serde.String()).ReadRecordsToList()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		v := r.Value
		if r.Tombstone {
			v = "null"
		}
		got = append(got, fmt.Sprintf("%s=%s@%d", r.Key, v, r.Timestamp))
	}
	return got
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func TestStreamStreamJoins(t *testing.T) {
	pipes := []pipe{
		{"L", "a", "l1", 0, false}, {"R", "a", "r1", 5, false},
		{"L", "a", "l2", 20, false}, {"R", "a", "r2", 15, false},
		{"L", "a", "l3", 40, false}, {"R", "a", "r3", 60, false},
		{"L", "a", "l4", 100, false},
	}
	w := streams.JoinTimeDifference(10 * time.Millisecond)
	tests := []struct {
		name string
		join func(l, r streams.Stream[string, string]) streams.Stream[string, string]
		want []string
	}{
		{"inner", func(l, r streams.Stream[string, string]) streams.Stream[string, string] {
			return streams.Join(l, r, func(k, a, b string) string { return a + "+" + b }, w)
		}, []string{"a=l1+r1@5", "a=l2+r2@20"}},
		{"left emits unmatched left records after their window closes", func(l, r streams.Stream[string, string]) streams.Stream[string, string] {
			return streams.LeftJoin(l, r, func(k, a string, b *string) string { return a + "+" + str(b) }, w)
		}, []string{"a=l1+r1@5", "a=l2+r2@20", "a=l3+null@40"}},
		{"outer emits unmatched records of both sides", func(l, r streams.Stream[string, string]) streams.Stream[string, string] {
			return streams.OuterJoin(l, r, func(k string, a, b *string) string { return str(a) + "+" + str(b) }, w)
		}, []string{"a=l1+r1@5", "a=l2+r2@20", "a=l3+null@40", "a=null+r3@60"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			l := streams.StreamOf(b, "L", serde.String(), serde.String())
			r := streams.StreamOf(b, "R", serde.String(), serde.String())
			tc.join(l, r).To("out", serde.String(), serde.String())
			checkLines(t, runPipes(t, b, pipes), tc.want...)
		})
	}
}

func TestStreamStreamLeftJoinGrace(t *testing.T) {
	// With a grace period, an out-of-order right record still joins and
	// the left record is never reported unmatched.
	b := streams.NewBuilder()
	l := streams.StreamOf(b, "L", serde.String(), serde.String())
	r := streams.StreamOf(b, "R", serde.String(), serde.String())
	streams.LeftJoin(l, r, func(k, a string, b *string) string { return a + "+" + str(b) },
		streams.JoinTimeDifference(10*time.Millisecond).Grace(20*time.Millisecond)).To("out", serde.String(), serde.String())
	got := runPipes(t, b, []pipe{
		{"L", "a", "l1", 0, false},
		{"L", "b", "x", 25, false}, // stream time 25: l1's window [.., 10] closed, grace not over
		{"R", "a", "r1", 8, false}, // late but within grace: joins
		{"L", "b", "y", 60, false}, // stream time 60: x's window closes
	})
	checkLines(t, got, "a=l1+r1@8", "b=x+null@25")
}

func TestStreamStreamJoinRepartitionsChangedKeys(t *testing.T) {
	b := streams.NewBuilder()
	l := streams.StreamOf(b, "L", serde.String(), serde.String())
	r := streams.StreamOf(b, "R", serde.String(), serde.String())
	rekeyed := streams.SelectKey(l, func(k, v string) string { return v })
	streams.Join(rekeyed, r, func(k, a, b string) string { return a + "+" + b }, streams.JoinTimeDifference(time.Second),
		streams.Named("j"), streams.WithKeySerde(serde.String())).To("out", serde.String(), serde.String())
	got := runPipes(t, b, []pipe{{"L", "x", "a", 1, false}, {"R", "a", "r", 2, false}})
	checkLines(t, got, "a=a+r@2")
}

func TestStreamTableAndGlobalJoins(t *testing.T) {
	pipes := []pipe{
		{"T", "a", "A1", 0, false},
		{"S", "a", "s1", 1, false},
		{"S", "b", "s2", 2, false},
		{"T", "a", "", 3, true},
		{"S", "a", "s3", 4, false},
	}
	t.Run("inner", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "S", serde.String(), serde.String())
		tb := streams.TableOf(b, "T", serde.String(), serde.String())
		streams.JoinTable(s, tb, func(k, v, row string) string { return v + "/" + row }).To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes), "a=s1/A1@1")
	})
	t.Run("left", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "S", serde.String(), serde.String())
		tb := streams.TableOf(b, "T", serde.String(), serde.String())
		streams.LeftJoinTable(s, tb, func(k, v string, row *string) string { return v + "/" + str(row) }).To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes), "a=s1/A1@1", "b=s2/null@2", "a=s3/null@4")
	})
	t.Run("global", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.StreamOf(b, "S", serde.String(), serde.String())
		g := streams.GlobalTableOf(b, "T", serde.String(), serde.String())
		mapper := func(k, v string) string { return k }
		streams.JoinGlobal(s, g, mapper, func(k, v, row string) string { return v + "/" + row }).To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes), "a=s1/A1@1")
		b = streams.NewBuilder()
		s = streams.StreamOf(b, "S", serde.String(), serde.String())
		g = streams.GlobalTableOf(b, "T", serde.String(), serde.String())
		streams.LeftJoinGlobal(s, g, mapper, func(k, v string, row *string) string { return v + "/" + str(row) }).To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes), "a=s1/A1@1", "b=s2/null@2", "a=s3/null@4")
	})
}

func TestTableTableJoins(t *testing.T) {
	pipes := []pipe{
		{"L", "a", "1", 1, false},
		{"R", "a", "x", 2, false},
		{"L", "a", "2", 3, false},
		{"R", "a", "", 4, true},
		{"L", "b", "5", 5, false},
		{"R", "c", "y", 6, false},
		{"L", "a", "", 7, true},
	}
	tests := []struct {
		name string
		join func(l, r streams.Table[string, string]) streams.Table[string, string]
		want []string
	}{
		{"inner", func(l, r streams.Table[string, string]) streams.Table[string, string] {
			return streams.JoinTables(l, r, func(k, a, b string) string { return a + b })
		}, []string{"a=1x@2", "a=2x@3", "a=null@4"}},
		{"left", func(l, r streams.Table[string, string]) streams.Table[string, string] {
			return streams.LeftJoinTables(l, r, func(k, a string, b *string) string { return a + str(b) })
		}, []string{"a=1null@1", "a=1x@2", "a=2x@3", "a=2null@4", "b=5null@5", "a=null@7"}},
		{"outer", func(l, r streams.Table[string, string]) streams.Table[string, string] {
			return streams.OuterJoinTables(l, r, func(k string, a, b *string) string { return str(a) + str(b) })
		}, []string{"a=1null@1", "a=1x@2", "a=2x@3", "a=2null@4", "b=5null@5", "c=nully@6", "a=null@7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			l := streams.TableOf(b, "L", serde.String(), serde.String())
			r := streams.TableOf(b, "R", serde.String(), serde.String())
			tc.join(l, r).ToStream().To("out", serde.String(), serde.String())
			checkLines(t, runPipes(t, b, pipes), tc.want...)
		})
	}
}

func TestJoinDescribeGolden(t *testing.T) {
	tests := []struct {
		name string
		join func(l, r streams.Stream[int32, string])
		want string
	}{
		{"inner default store names", func(l, r streams.Stream[int32, string]) {
			streams.Join(l, r, func(k int32, a, b string) string { return a + b }, streams.JoinTimeDifference(100*time.Millisecond))
		}, "Topologies:\n" +
			"   Sub-topology: 0\n" +
			"    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic1])\n" +
			"      --> KSTREAM-WINDOWED-0000000002\n" +
			"    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic2])\n" +
			"      --> KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n" +
			"      --> KSTREAM-JOINTHIS-0000000004\n" +
			"      <-- KSTREAM-SOURCE-0000000000\n" +
			"    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n" +
			"      --> KSTREAM-JOINOTHER-0000000005\n" +
			"      <-- KSTREAM-SOURCE-0000000001\n" +
			"    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000002\n" +
			"    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n" +
			"      --> none\n" +
			"      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005\n\n"},
		{"inner custom store name", func(l, r streams.Stream[int32, string]) {
			streams.Join(l, r, func(k int32, a, b string) string { return a + b }, streams.JoinTimeDifference(100*time.Millisecond),
				streams.Materialized("custom-name"))
		}, "Topologies:\n" +
			"   Sub-topology: 0\n" +
			"    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic1])\n" +
			"      --> KSTREAM-WINDOWED-0000000002\n" +
			"    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic2])\n" +
			"      --> KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-WINDOWED-0000000002 (stores: [custom-name-this-join-store])\n" +
			"      --> KSTREAM-JOINTHIS-0000000004\n" +
			"      <-- KSTREAM-SOURCE-0000000000\n" +
			"    Processor: KSTREAM-WINDOWED-0000000003 (stores: [custom-name-other-join-store])\n" +
			"      --> KSTREAM-JOINOTHER-0000000005\n" +
			"      <-- KSTREAM-SOURCE-0000000001\n" +
			"    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [custom-name-this-join-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [custom-name-other-join-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000002\n" +
			"    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n" +
			"      --> none\n" +
			"      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005\n\n"},
		{"left default store names", func(l, r streams.Stream[int32, string]) {
			streams.LeftJoin(l, r, func(k int32, a string, b *string) string { return a }, streams.JoinTimeDifference(100*time.Millisecond))
		}, "Topologies:\n" +
			"   Sub-topology: 0\n" +
			"    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic1])\n" +
			"      --> KSTREAM-WINDOWED-0000000002\n" +
			"    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic2])\n" +
			"      --> KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n" +
			"      --> KSTREAM-JOINTHIS-0000000004\n" +
			"      <-- KSTREAM-SOURCE-0000000000\n" +
			"    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-OUTEROTHER-0000000005-store])\n" +
			"      --> KSTREAM-OUTEROTHER-0000000005\n" +
			"      <-- KSTREAM-SOURCE-0000000001\n" +
			"    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000002\n" +
			"    Processor: KSTREAM-OUTEROTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store, KSTREAM-OUTERSHARED-0000000004-store])\n" +
			"      --> KSTREAM-MERGE-0000000006\n" +
			"      <-- KSTREAM-WINDOWED-0000000003\n" +
			"    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n" +
			"      --> none\n" +
			"      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-OUTEROTHER-0000000005\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			l := streams.StreamOf(b, "input-topic1", serde.Int32(), serde.String())
			r := streams.StreamOf(b, "input-topic2", serde.Int32(), serde.String())
			tc.join(l, r)
			if got := build(t, b).Describe().String(); got != tc.want {
				t.Errorf("Describe:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestJoinRepartitionDescribeGolden(t *testing.T) {
	for _, tc := range []struct {
		file  string
		names [2]string
		out   [2]string
	}{
		{"join_named_repartition.txt", [2]string{"first-join", "second-join"}, [2]string{"out-one", "out-two"}},
		{"join_generated_repartition.txt", [2]string{"", ""}, [2]string{"out-one", "out-to"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "describe", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			b := streams.NewBuilder()
			s1 := streams.StreamOf(b, "topic", serde.String(), serde.String())
			s2 := streams.StreamOf(b, "topic2", serde.String(), serde.String())
			s3 := streams.StreamOf(b, "topic3", serde.String(), serde.String())
			m := streams.Map(s1, func(k, v string) (string, string) { return v, k })
			w := streams.JoinTimeDifference(100 * time.Millisecond)
			for i, other := range []streams.Stream[string, string]{s2, s3} {
				opts := []streams.Option{streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String())}
				if tc.names[i] != "" {
					opts = append(opts, streams.Named(tc.names[i]))
				}
				streams.Join(m, other, func(k, a, b string) string { return a + b }, w, opts...).To(tc.out[i], serde.String(), serde.String())
			}
			if got := build(t, b).Describe().String(); got != string(want) {
				t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestGlobalTableDescribe(t *testing.T) {
	b := streams.NewBuilder()
	streams.GlobalTableOf(b, "stream-topic", serde.String(), serde.String())
	streams.StreamOf(b, "in", serde.String(), serde.String()).To("out", nil, nil)
	streams.GlobalTableOf(b, "stream-topic-two", serde.String(), serde.String(), streams.Named("g"))
	want := "Topologies:\n" +
		"   Sub-topology: 0 for global store (will not generate tasks)\n" +
		"    Source: KSTREAM-SOURCE-0000000001 (topics: [stream-topic])\n" +
		"      --> KTABLE-SOURCE-0000000002\n" +
		"    Processor: KTABLE-SOURCE-0000000002 (stores: [stream-topic-STATE-STORE-0000000000])\n" +
		"      --> none\n" +
		"      <-- KSTREAM-SOURCE-0000000001\n" +
		"  Sub-topology: 1\n" +
		"    Source: KSTREAM-SOURCE-0000000003 (topics: [in])\n" +
		"      --> KSTREAM-SINK-0000000004\n" +
		"    Sink: KSTREAM-SINK-0000000004 (topic: out)\n" +
		"      <-- KSTREAM-SOURCE-0000000003\n\n" +
		"  Sub-topology: 2 for global store (will not generate tasks)\n" +
		"    Source: g-source (topics: [stream-topic-two])\n" +
		"      --> g\n" +
		"    Processor: g (stores: [stream-topic-two-STATE-STORE-0000000005])\n" +
		"      --> none\n" +
		"      <-- g-source\n"
	topo := build(t, b)
	if got := topo.Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
	if got := topo.Subtopologies(); len(got) != 1 || got[0] != 1 {
		t.Errorf("Subtopologies = %v, want [1]", got)
	}
	if got := topo.GlobalTopics(); len(got) != 2 {
		t.Errorf("GlobalTopics = %v", got)
	}
}

// TestLeftJoinKafkaScenarios replays scenarios of Kafka's
// KStreamKStreamLeftJoinTest; like Kafka's, it checks the results gathered
// since the previous check at the steps marked check.
func TestLeftJoinKafkaScenarios(t *testing.T) {
	type step struct {
		left  bool
		k     int32
		v     string
		ts    int64
		check bool
		want  []string
	}
	tests := []struct {
		name  string
		w     streams.JoinWindows
		steps []step
	}{
		{"duplicates", streams.JoinTimeDifference(100 * time.Millisecond).Grace(10 * time.Millisecond), []step{
			{true, 0, "A0", 0, false, nil},
			{true, 0, "A0-0", 0, false, nil},
			{false, 1, "a0", 111, false, nil},
			{false, 2, "dummy", 500, true, []string{"0=A0+null@0", "0=A0-0+null@0"}},
			{true, 2, "A2", 1000, false, nil},
			{true, 2, "A2-0", 1000, false, nil},
			{false, 2, "a2", 1001, true, []string{"2=A2+a2@1001", "2=A2-0+a2@1001"}},
			{false, 3, "a3", 315, true, nil},
		}},
		{"expired left records emitted by the left processor", streams.JoinTimeDifference(100 * time.Millisecond), []step{
			{true, 0, "A0", 1, false, nil},
			{true, 1, "A1", 2, false, nil},
			{true, 0, "A0-0", 3, true, nil},
			{false, 1, "a1", 3, true, []string{"1=A1+a1@3"}},
			{true, 2, "dummy", 401, true, []string{"0=A0+null@1", "0=A0-0+null@3"}},
			{false, 2, "dummy", 401, true, []string{"2=dummy+dummy@401"}},
		}},
		{"expired left records emitted by the right processor", streams.JoinTimeDifference(100 * time.Millisecond), []step{
			{true, 0, "A0", 1, false, nil},
			{true, 1, "A1", 2, false, nil},
			{true, 0, "A0-0", 3, true, nil},
			{false, 1, "a1", 3, true, []string{"1=A1+a1@3"}},
			{false, 2, "dummy", 401, true, []string{"0=A0+null@1", "0=A0-0+null@3"}},
			{true, 2, "dummy", 402, true, []string{"2=dummy+dummy@402"}},
		}},
		{"right records are never emitted unmatched", streams.JoinTimeDifference(100 * time.Millisecond), []step{
			{false, 0, "A0", 1, false, nil},
			{false, 1, "A1", 2, false, nil},
			{false, 0, "A0-0", 3, true, nil},
			{true, 1, "a1", 3, true, []string{"1=a1+A1@3"}},
			{true, 2, "dummy", 401, true, nil},
			{false, 2, "dummy", 402, true, []string{"2=dummy+dummy@402"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := streams.NewBuilder()
			l := streams.StreamOf(b, "topic1", serde.Int32(), serde.String())
			r := streams.StreamOf(b, "topic2", serde.Int32(), serde.String())
			streams.LeftJoin(l, r, func(k int32, a string, b *string) string { return a + "+" + str(b) }, tc.w).
				To("out", serde.Int32(), serde.String())
			d := driver(t, build(t, b))
			in1 := streamstest.CreateInputTopic(d, "topic1", serde.Int32(), serde.String())
			in2 := streamstest.CreateInputTopic(d, "topic2", serde.Int32(), serde.String())
			out := streamstest.CreateOutputTopic(d, "out", serde.Int32(), serde.String())
			for i, s := range tc.steps {
				in := in2
				if s.left {
					in = in1
				}
				if err := in.PipeInputAt(s.k, s.v, s.ts); err != nil {
					t.Fatal(err)
				}
				if !s.check {
					continue
				}
				recs, _ := out.ReadRecordsToList()
				var got []string
				for _, r := range recs {
					got = append(got, fmt.Sprintf("%d=%s@%d", r.Key, r.Value, r.Timestamp))
				}
				if fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Errorf("after step %d (%s@%d): got %v, want %v", i, s.v, s.ts, got, s.want)
				}
			}
		})
	}
}
