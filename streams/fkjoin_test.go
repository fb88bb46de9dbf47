package streams_test

import (
	"strings"
	"testing"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
)

func fkOf(v string) string { return v[strings.Index(v, "|")+1:] }

func TestForeignKeyJoins(t *testing.T) {
	pipes := []pipe{
		{"R", "r1", "R1", 0, false},
		{"L", "a", "x|r1", 1, false},
		{"L", "b", "y|r2", 2, false},
		{"R", "r2", "R2", 3, false},
		{"L", "a", "z|r2", 4, false},
		{"R", "r2", "", 5, true},
		{"L", "b", "", 6, true},
	}
	t.Run("inner", func(t *testing.T) {
		b := streams.NewBuilder()
		l := streams.TableOf(b, "L", serde.String(), serde.String())
		r := streams.TableOf(b, "R", serde.String(), serde.String())
		streams.JoinForeignKey(l, r, fkOf, func(v, vo string) string { return "(" + v + "," + vo + ")" }).
			ToStream().To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes),
			"a=(x|r1,R1)@1", "b=(y|r2,R2)@3", "a=(z|r2,R2)@4", "a=null@5", "b=null@5", "b=null@6")
	})
	t.Run("left", func(t *testing.T) {
		b := streams.NewBuilder()
		l := streams.TableOf(b, "L", serde.String(), serde.String())
		r := streams.TableOf(b, "R", serde.String(), serde.String())
		streams.LeftJoinForeignKey(l, r, fkOf, func(v string, vo *string) string { return "(" + v + "," + str(vo) + ")" }).
			ToStream().To("out", serde.String(), serde.String())
		checkLines(t, runPipes(t, b, pipes),
			"a=(x|r1,R1)@1", "b=(y|r2,null)@2", "b=(y|r2,R2)@3", "a=(z|r2,null)@4", "a=(z|r2,R2)@4",
			"a=(z|r2,null)@5", "b=(y|r2,null)@5", "b=null@6", "b=null@6")
	})
}

func TestForeignKeyJoinDescribeGolden(t *testing.T) {
	b := streams.NewBuilder()
	l := streams.StreamOf(b, "input1", serde.String(), serde.String()).ToTable()
	r := streams.StreamOf(b, "input2", serde.String(), serde.String()).ToTable()
	streams.JoinForeignKey(l, r, fkOf, func(v, vo string) string { return "(" + v + "," + vo + ")" }).
		ToStream().To("output", serde.String(), serde.String())
	want := "Topologies:\n" +
		"   Sub-topology: 0\n" +
		"    Source: KTABLE-SOURCE-0000000016 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic])\n" +
		"      --> KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017\n" +
		"    Source: KSTREAM-SOURCE-0000000000 (topics: [input1])\n" +
		"      --> KSTREAM-TOTABLE-0000000001\n" +
		"    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])\n" +
		"      --> KTABLE-FK-JOIN-OUTPUT-0000000018\n" +
		"      <-- KTABLE-SOURCE-0000000016\n" +
		"    Processor: KSTREAM-TOTABLE-0000000001 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])\n" +
		"      --> KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007\n" +
		"      <-- KSTREAM-SOURCE-0000000000\n" +
		"    Processor: KTABLE-FK-JOIN-OUTPUT-0000000018 (stores: [])\n" +
		"      --> KTABLE-TOSTREAM-0000000020\n" +
		"      <-- KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017\n" +
		"    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007 (stores: [])\n" +
		"      --> KTABLE-SINK-0000000008\n" +
		"      <-- KSTREAM-TOTABLE-0000000001\n" +
		"    Processor: KTABLE-TOSTREAM-0000000020 (stores: [])\n" +
		"      --> KSTREAM-SINK-0000000021\n" +
		"      <-- KTABLE-FK-JOIN-OUTPUT-0000000018\n" +
		"    Sink: KSTREAM-SINK-0000000021 (topic: output)\n" +
		"      <-- KTABLE-TOSTREAM-0000000020\n" +
		"    Sink: KTABLE-SINK-0000000008 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic)\n" +
		"      <-- KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007\n" +
		"\n" +
		"  Sub-topology: 1\n" +
		"    Source: KSTREAM-SOURCE-0000000003 (topics: [input2])\n" +
		"      --> KSTREAM-TOTABLE-0000000004\n" +
		"    Source: KTABLE-SOURCE-0000000009 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic])\n" +
		"      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011\n" +
		"    Processor: KSTREAM-TOTABLE-0000000004 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])\n" +
		"      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013\n" +
		"      <-- KSTREAM-SOURCE-0000000003\n" +
		"    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])\n" +
		"      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012\n" +
		"      <-- KTABLE-SOURCE-0000000009\n" +
		"    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])\n" +
		"      --> KTABLE-SINK-0000000015\n" +
		"      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011\n" +
		"    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])\n" +
		"      --> KTABLE-SINK-0000000015\n" +
		"      <-- KSTREAM-TOTABLE-0000000004\n" +
		"    Sink: KTABLE-SINK-0000000015 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic)\n" +
		"      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012, KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013\n\n"
	if got := build(t, b).Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}
