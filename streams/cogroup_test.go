package streams_test

import (
	"testing"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
)

func TestCogroup(t *testing.T) {
	b := streams.NewBuilder()
	one := streams.StreamOf(b, "one", serde.String(), serde.String())
	two := streams.StreamOf(b, "two", serde.String(), serde.String())
	c := streams.Cogroup(streams.GroupByKey(one), func(k, v, agg string) string { return agg + "1" + v })
	c = streams.CogroupWith(c, streams.GroupByKey(two), func(k, v, agg string) string { return agg + "2" + v })
	c.Aggregate(func() string { return "" }, streams.Named("test"), streams.Materialized("store"), streams.WithValueSerde(serde.String())).
		ToStream().To("out", serde.String(), serde.String())
	want := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [one])\n" +
		"      --> test-cogroup-agg-0\n" +
		"    Source: KSTREAM-SOURCE-0000000001 (topics: [two])\n" +
		"      --> test-cogroup-agg-1\n" +
		"    Processor: test-cogroup-agg-0 (stores: [store])\n" +
		"      --> test-cogroup-merge\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Processor: test-cogroup-agg-1 (stores: [store])\n" +
		"      --> test-cogroup-merge\n" +
		"      <-- KSTREAM-SOURCE-0000000001\n" +
		"    Processor: test-cogroup-merge (stores: [])\n" +
		"      --> KTABLE-TOSTREAM-0000000005\n" +
		"      <-- test-cogroup-agg-0, test-cogroup-agg-1\n" +
		"    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000006\n" +
		"      <-- test-cogroup-merge\n" +
		"    Sink: KSTREAM-SINK-0000000006 (topic: out)\n" +
		"      <-- KTABLE-TOSTREAM-0000000005\n\n"
	topo := build(t, b)
	if got := topo.Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
	got := runPipes(t, b, []pipe{{"one", "k", "a", 1, false}, {"two", "k", "b", 2, false}, {"one", "j", "c", 3, false}, {"two", "k", "d", 4, false}})
	checkLines(t, got, "k=1a@1", "k=1a2b@2", "j=1c@3", "k=1a2b2d@4")
}

func TestCogroupRepartitionGolden(t *testing.T) {
	b := streams.NewBuilder()
	one := streams.StreamOf(b, "one", serde.String(), serde.String())
	two := streams.StreamOf(b, "two", serde.String(), serde.String())
	m := streams.Map(one, func(k, v string) (string, string) { return v, k })
	g1 := streams.GroupByKey(m, streams.Named("repartition-test"), streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	c := streams.Cogroup(g1, func(k, v, agg string) string { return agg + v })
	c = streams.CogroupWith(c, streams.GroupByKey(two), func(k, v, agg string) string { return agg + v })
	c.Aggregate(func() string { return "" }, streams.WithValueSerde(serde.String())).ToStream().To("output", serde.String(), serde.String())
	want := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [one])\n" +
		"      --> KSTREAM-MAP-0000000002\n" +
		"    Processor: KSTREAM-MAP-0000000002 (stores: [])\n" +
		"      --> repartition-test-repartition-filter\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Processor: repartition-test-repartition-filter (stores: [])\n" +
		"      --> repartition-test-repartition-sink\n" +
		"      <-- KSTREAM-MAP-0000000002\n" +
		"    Sink: repartition-test-repartition-sink (topic: repartition-test-repartition)\n" +
		"      <-- repartition-test-repartition-filter\n\n" +
		"  Sub-topology: 1\n" +
		"    Source: KSTREAM-SOURCE-0000000001 (topics: [two])\n" +
		"      --> COGROUPKSTREAM-AGGREGATE-0000000008\n" +
		"    Source: repartition-test-repartition-source (topics: [repartition-test-repartition])\n" +
		"      --> COGROUPKSTREAM-AGGREGATE-0000000007\n" +
		"    Processor: COGROUPKSTREAM-AGGREGATE-0000000007 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003])\n" +
		"      --> COGROUPKSTREAM-MERGE-0000000009\n" +
		"      <-- repartition-test-repartition-source\n" +
		"    Processor: COGROUPKSTREAM-AGGREGATE-0000000008 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003])\n" +
		"      --> COGROUPKSTREAM-MERGE-0000000009\n" +
		"      <-- KSTREAM-SOURCE-0000000001\n" +
		"    Processor: COGROUPKSTREAM-MERGE-0000000009 (stores: [])\n" +
		"      --> KTABLE-TOSTREAM-0000000010\n" +
		"      <-- COGROUPKSTREAM-AGGREGATE-0000000007, COGROUPKSTREAM-AGGREGATE-0000000008\n" +
		"    Processor: KTABLE-TOSTREAM-0000000010 (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000011\n" +
		"      <-- COGROUPKSTREAM-MERGE-0000000009\n" +
		"    Sink: KSTREAM-SINK-0000000011 (topic: output)\n" +
		"      <-- KTABLE-TOSTREAM-0000000010\n\n"
	if got := build(t, b).Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}
