package streams

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams/serde"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMurmur3Hash128 checks the hash foreign-key joins compare against
// Kafka Streams' Murmur3.hash128: the vectors of Kafka's Murmur3Test (seed
// 123) and values Kafka 3.9's Murmur3 computes with its default seed,
// covering every tail length class (empty, <8, 8-15, whole blocks).
func TestMurmur3Hash128(t *testing.T) {
	for _, c := range []struct {
		in             string
		seed           uint32
		wantH1, wantH2 uint64
	}{
		// Kafka's Murmur3Test.testMurmur3_128 (as signed longs there).
		{"21", 123, 5857341059704281894, 0xb69c955c69a3d3f5},
		{"foobar", 123, 0xfb1fb69c526f798f, 8959716011862540668},
		{"a-little-bit-long-string", 123, 8836256500583638442, 0xfd3ff3490a6465a5},
		{"a-little-bit-longer-string", 123, 1838346159335108511, 8794688210320490705},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 123, 0xc827cd6c8663d4f5, 0xeb6dbfe6559f428a},
		{"abc", 123, 1489494923063836066, 0xb47dc2d6a648a3f3},
		// Kafka 3.9's Murmur3.hash128(data), seed 104729.
		{"", murmur3Seed, 0x9d2764a018e32942, 0x8c3cf3b035938518},
		{"a", murmur3Seed, 0x3361634e7e0f5188, 0xe9c7dda24eae326b},
		{"abc", murmur3Seed, 0x8cc66bdf24a3b65e, 0xe942bed9d38bee40},
		{"0123456789abcde", murmur3Seed, 0xc480e6b5c0016979, 0xa0d033624a7f7904},
		{"0123456789abcdef", murmur3Seed, 0x1a6e941ec6a76967, 0xd7d82808f505d6b1},
		{"0123456789abcdef0", murmur3Seed, 0x85e3069a748c16b6, 0xbc8c0a283538abb8},
		{"a-little-bit-longer-string", murmur3Seed, 0x81a5a6561e85ba63, 0x0aacc70b39c2bb10},
		{`{"name":"alice","country":"nl"}`, murmur3Seed, 0x78fd4460118944b8, 0xdf90e5de0763d58c},
	} {
		h1, h2 := murmur3Hash128([]byte(c.in), c.seed)
		if h1 != c.wantH1 || h2 != c.wantH2 {
			t.Errorf("hash128(%q, %d) = %#016x %#016x, want %#016x %#016x", c.in, c.seed, h1, h2, c.wantH1, c.wantH2)
		}
	}
	// Bytes >= 0x80 in the tail and body (Java's signed bytes).
	high := make([]byte, 31)
	for i := range high {
		high[i] = byte(0x80 + i*3)
	}
	if h1, h2 := murmur3Hash128(high, murmur3Seed); h1 != 0x066c291930eae91a || h2 != 0xbdd46e459c46c4d1 {
		t.Errorf("hash128(high bytes) = %#016x %#016x", h1, h2)
	}
	if got := hex.EncodeToString(valueHash([]byte(`{"name":"alice","country":"nl"}`))); got != "78fd4460118944b8df90e5de0763d58c" {
		t.Errorf("valueHash = %s", got)
	}
}

// TestChangeFormat checks table changes on repartition topics against the
// bytes Kafka 3.9's ChangedSerializer writes, and that every encoding its
// ChangedDeserializer reads decodes.
func TestChangeFormat(t *testing.T) {
	cs := changeSerde{inner: erase1(serde.String())}
	for _, c := range []struct {
		name  string
		c     change
		kafka string
	}{
		{"new only", change{newV: "a"}, "6101"},
		{"old only", change{oldV: "b"}, "6200"},
		{"both", change{newV: "new", oldV: "old"}, "066e65776f6c6402"},
		{"both empty", change{newV: "", oldV: ""}, "0002"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := cs.Serialize("t", c.c)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.kafka {
				t.Errorf("Serialize = %x, want %s", got, c.kafka)
			}
			back, err := cs.Deserialize("t", unhex(t, c.kafka))
			if err != nil || back != c.c {
				t.Errorf("Deserialize(%s) = %+v, %v", c.kafka, back, err)
			}
		})
	}
	// Flags 3-5 carry an isLatest byte before the flag.
	for _, c := range []struct {
		in   string
		want change
	}{
		{"620103", change{oldV: "b"}},
		{"610004", change{newV: "a"}},
		{"066e65776f6c640105", change{newV: "new", oldV: "old"}},
		{"0061620105", change{newV: "", oldV: "ab"}},
	} {
		got, err := cs.Deserialize("t", unhex(t, c.in))
		if err != nil || got != c.want {
			t.Errorf("Deserialize(%s) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	// A 200-byte new value needs a two-byte zig-zag varint (400 = 0x90 0x03).
	long := string(bytes.Repeat([]byte{'x'}, 200))
	b, err := cs.Serialize("t", change{newV: long, oldV: "o"})
	if err != nil || !bytes.HasPrefix(b, []byte{0x90, 0x03, 'x'}) || !bytes.HasSuffix(b, []byte{'x', 'o', 2}) || len(b) != 2+200+1+1 {
		t.Errorf("Serialize(long) = %x, %v", b, err)
	}
	for _, bad := range []string{"", "6106", "610203", "05", "0a616202", "01616202", "6102"[:2] + "ff"} {
		if _, err := cs.Deserialize("t", unhex(t, bad)); !errors.Is(err, errChange) {
			t.Errorf("Deserialize(%s): err = %v, want errChange", bad, err)
		}
	}
	if _, err := cs.Serialize("t", change{}); !errors.Is(err, errChange) {
		t.Errorf("Serialize of two nulls: err = %v", err)
	}
}

// TestForeignKeyFormats checks subscriptions, responses and subscription
// store keys against the bytes Kafka 3.9's SubscriptionWrapperSerde and
// SubscriptionResponseWrapperSerde write for the same values (string
// keys and values, the hash of the JSON value below).
func TestForeignKeyFormats(t *testing.T) {
	hash := valueHash([]byte(`{"name":"alice","country":"nl"}`))
	ss := subscriptionSerde[string]{pk: serde.String(), pkTopic: func(t string) string { return t + "-pk" }}
	for _, c := range []struct {
		name  string
		s     subscription
		kafka string
	}{
		{"v1 with hash", subscription{version: 1, hash: hash, instruction: fkPropagateOnlyIfValue, pk: "order-1", partition: 3},
			"010378fd4460118944b8df90e5de0763d58c6f726465722d3100000003"},
		{"v1 null hash", subscription{version: 1, instruction: fkDeleteAndPropagate, pk: "k", partition: 0}, "81016b00000000"},
		{"v1 null if no value", subscription{version: 1, hash: hash, instruction: fkPropagateNullIfNoValue, pk: "pk", partition: 7},
			"010278fd4460118944b8df90e5de0763d58c706b00000007"},
		{"v0", subscription{version: 0, hash: hash, instruction: fkDeleteNoPropagate, pk: "pk", partition: -1},
			"000078fd4460118944b8df90e5de0763d58c706b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ss.Serialize("app-sub", c.s)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.kafka {
				t.Errorf("Serialize = %x, want %s", got, c.kafka)
			}
			back, err := ss.Deserialize("app-sub", unhex(t, c.kafka))
			if err != nil || back.version != c.s.version || !bytes.Equal(back.hash, c.s.hash) || back.instruction != c.s.instruction ||
				back.pk != c.s.pk || back.partition != c.s.partition {
				t.Errorf("Deserialize = %+v, %v; want %+v", back, err, c.s)
			}
		})
	}
	// The primary key is serialized with the -pk pseudo topic.
	var seen string
	spy := subscriptionSerde[string]{pk: topicSpy{&seen}, pkTopic: ss.pkTopic}
	if _, err := spy.Serialize("app-orders-subscription-registration-topic", subscription{version: 1, pk: "k"}); err != nil || seen != "app-orders-subscription-registration-topic-pk" {
		t.Errorf("primary key serialized for topic %q (%v)", seen, err)
	}
	for _, bad := range []string{"", "01", "0204" + "706b", "0104706b00000000", "01" + "03" + "78fd", "8103"} {
		if _, err := ss.Deserialize("t", unhex(t, bad)); !errors.Is(err, errFKFormat) {
			t.Errorf("subscription Deserialize(%s): err = %v, want errFKFormat", bad, err)
		}
	}

	rs := responseSerde[string]{vs: serde.String()}
	for _, c := range []struct {
		name  string
		r     fkResponse
		kafka string
	}{
		{"value", fkResponse{hash: hash, value: "dutch", partition: 3}, "0078fd4460118944b8df90e5de0763d58c6475746368"},
		{"null value", fkResponse{hash: hash, partition: 3}, "0078fd4460118944b8df90e5de0763d58c"},
		{"null hash", fkResponse{value: "x", partition: 3}, "8078"},
		{"null both", fkResponse{partition: 3}, "80"},
	} {
		t.Run("response "+c.name, func(t *testing.T) {
			got, err := rs.Serialize("t", c.r)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.kafka {
				t.Errorf("Serialize = %x, want %s", got, c.kafka)
			}
			back, err := rs.Deserialize("t", unhex(t, c.kafka))
			// The partition is not on the wire.
			if err != nil || !bytes.Equal(back.hash, c.r.hash) || back.value != c.r.value || back.partition != -1 {
				t.Errorf("Deserialize = %+v, %v; want %+v", back, err, c.r)
			}
		})
	}
	for _, bad := range []string{"", "01", "81", "0078fd"} {
		if _, err := rs.Deserialize("t", unhex(t, bad)); !errors.Is(err, errFKFormat) {
			t.Errorf("response Deserialize(%s): err = %v, want errFKFormat", bad, err)
		}
	}

	// CombinedKey: int32 length of the foreign key, foreign key, primary key.
	key := combinedKey([]byte("nl"), []byte("order-1"))
	if want := "000000026e6c6f726465722d31"; hex.EncodeToString(key) != want {
		t.Errorf("combinedKey = %x, want %s", key, want)
	}
	if p := combinedKey([]byte("nl"), nil); !bytes.HasPrefix(key, p) || len(p) != 6 {
		t.Errorf("prefix %x is not the start of %x", p, key)
	}
	fk, pk, err := splitCombinedKey(key)
	if err != nil || string(fk) != "nl" || string(pk) != "order-1" {
		t.Errorf("splitCombinedKey = %q %q %v", fk, pk, err)
	}
	for _, bad := range []string{"", "000000", "000000056e6c"} {
		if _, _, err := splitCombinedKey(unhex(t, bad)); !errors.Is(err, errFKFormat) {
			t.Errorf("splitCombinedKey(%s): err = %v", bad, err)
		}
	}
}

// topicSpy is a string serde that records the topic it serialized for.
type topicSpy struct{ topic *string }

func (s topicSpy) Serialize(topic string, v string) ([]byte, error) {
	*s.topic = topic
	return []byte(v), nil
}
func (s topicSpy) Deserialize(_ string, b []byte) (string, error) { return string(b), nil }

// TestSuppressionBufferFormat checks buffer entries against the changelog
// values Kafka 3.9's InMemoryTimeOrderedKeyValueChangeBuffer writes
// (BufferValue, then the buffer time) for the same entries.
func TestSuppressionBufferFormat(t *testing.T) {
	one, two, three := unhex(t, "0000000000000001"), unhex(t, "0000000000000002"), unhex(t, "0000000000000003")
	in := bufferContext{timestamp: 5, offset: 2, topic: "in"}
	for _, c := range []struct {
		name  string
		e     bufferEntry
		kafka string
	}{
		{"first update", bufferEntry{ctx: in, new: one, time: 10},
			"0000000000000005000000000000000200000002696e0000000000000000ffffffffffffffff000000080000000000000001000000000000000a"},
		{"old value", bufferEntry{ctx: in, old: one, new: two, time: 10},
			"0000000000000005000000000000000200000002696e0000000000000000ffffffff000000080000000000000001000000080000000000000002000000000000000a"},
		{"old same as prior", bufferEntry{ctx: in, prior: one, old: one, new: two, time: 10},
			"0000000000000005000000000000000200000002696e0000000000000000000000080000000000000001fffffffe000000080000000000000002000000000000000a"},
		{"headers and a null new value", bufferEntry{
			ctx:   bufferContext{timestamp: 1700000000000, offset: 42, topic: "orders", partition: 3, headers: Headers{{Key: "h", Value: []byte("v")}, {Key: "n"}}},
			prior: two, old: three, time: -7},
			"0000018bcfe56800000000000000002a000000066f7264657273000000030000000200000001680000000176000000016effffffff000000080000000000000002000000080000000000000003fffffffffffffffffffffff9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hex.EncodeToString(encodeBufferEntry(&c.e)); got != c.kafka {
				t.Errorf("encode =\n%s, want\n%s", got, c.kafka)
			}
			back, err := decodeBufferEntry(unhex(t, c.kafka))
			if err != nil || !reflect.DeepEqual(*back, c.e) {
				t.Errorf("decode = %+v, %v; want %+v", back, err, c.e)
			}
			// Kafka reads the buffer time and ignores what follows.
			padded, err := decodeBufferEntry(append(unhex(t, c.kafka), 0, 0, 0, 0))
			if err != nil || padded.time != c.e.time {
				t.Errorf("decode with padding = %+v, %v", padded, err)
			}
		})
	}
	for _, bad := range []string{"", "0000000000000005", "0000000000000005000000000000000200000002696e" + "00000000" + "fffffffe",
		"0000000000000005000000000000000200000002696e00000000ffffffff" + "fffffffd"} {
		if _, err := decodeBufferEntry(unhex(t, bad)); !errors.Is(err, ErrStore) {
			t.Errorf("decode(%s): err = %v, want ErrStore", bad, err)
		}
	}
}

// TestSuppressionChangelog runs a final-results suppression and checks its
// changelog carries Kafka's format, header v=3 included, then restores a
// task from an entry as Kafka writes it and checks the held result is
// emitted with the record context it was written with.
func TestSuppressionChangelog(t *testing.T) {
	build := func() *Topology {
		b := NewBuilder()
		s := StreamOf(b, "in", serde.String(), serde.Int64())
		counts := Count(WindowedBy(GroupByKey(s), Tumbling(10*time.Millisecond)), Materialized("counts"))
		Suppress(counts, UntilWindowCloses().WithName("final")).ToStream().To("out", TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
		topo, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return topo
	}
	changelog := ChangelogTopic("app", "final-store")
	key := append([]byte("a"), make([]byte, 8)...) // "a" ‖ window start 0

	out := collector{}
	task, err := build().NewTask(TaskConfig{ApplicationID: "app", Collector: out, ID: TaskID{Partition: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	for i, ts := range []int64{1, 2, 5} {
		kb, _ := serde.String().Serialize("", "a")
		vb, _ := serde.Int64().Serialize("", 1)
		if err := task.Process(InputRecord{Topic: "in", Partition: 2, Offset: int64(i), Key: kb, Value: vb, Timestamp: ts}); err != nil {
			t.Fatal(err)
		}
	}
	if len(out[changelog]) != 0 {
		t.Fatalf("buffer logged before the commit: %v", out[changelog])
	}
	if err := task.Commit(); err != nil {
		t.Fatal(err)
	}
	recs := out[changelog]
	if len(recs) != 1 {
		t.Fatalf("changelog has %d records, want 1", len(recs))
	}
	r := recs[0]
	if v, ok := r.Headers.Get("v"); !ok || !bytes.Equal(v, []byte{3}) || !bytes.Equal(r.Key, key) || r.Partition != 2 {
		t.Fatalf("changelog record key %x header v=%x partition %d", r.Key, v, r.Partition)
	}
	e, err := decodeBufferEntry(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := serde.Int64().Deserialize("", e.new); n != 3 || e.time != 10 || e.ctx.timestamp != 5 || e.ctx.topic != "in" || e.ctx.partition != 2 || e.ctx.offset != 2 {
		t.Errorf("logged entry = %+v (new count %d)", e, n)
	}

	// A task restored from an entry Kafka wrote: count 1 for [a@0/10),
	// record context in/0/7 at 5 with header h=v, buffer time 10.
	out = collector{}
	restored, err := build().NewTask(TaskConfig{ApplicationID: "app", Collector: out})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	kafka := unhex(t, "0000000000000005000000000000000700000002696e000000000000000100000001680000000176ffffffffffffffff000000080000000000000001000000000000000a")
	if err := restored.Restore("final-store", []state.ChangelogRecord{{Key: key, Value: kafka, Timestamp: 5}}); err != nil {
		t.Fatal(err)
	}
	kb, _ := serde.String().Serialize("", "b")
	vb, _ := serde.Int64().Serialize("", 1)
	if err := restored.Process(InputRecord{Topic: "in", Offset: 8, Key: kb, Value: vb, Timestamp: 12}); err != nil {
		t.Fatal(err)
	}
	if err := restored.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(out["out"]) != 1 {
		t.Fatalf("restored buffer emitted %d records, want 1", len(out["out"]))
	}
	o := out["out"][0]
	h, _ := o.Headers.Get("h")
	if n, _ := serde.Int64().Deserialize("", o.Value); !bytes.Equal(o.Key, key) || n != 1 || o.Timestamp != 5 || string(h) != "v" {
		t.Errorf("emitted %x=%d@%d headers %v", o.Key, n, o.Timestamp, o.Headers)
	}
	// Emitting it logs a tombstone for the key.
	var tomb bool
	for _, r := range out[changelog] {
		tomb = tomb || (bytes.Equal(r.Key, key) && r.Value == nil)
	}
	if !tomb {
		t.Errorf("no tombstone for the emitted key in %v", out[changelog])
	}
}

// collector keeps a task's output by topic.
type collector map[string][]OutputRecord

func (c collector) Send(r OutputRecord) error { c[r.Topic] = append(c[r.Topic], r); return nil }

// TestOuterJoinStoreFormat checks the left/outer stream-stream join's
// shared store values against Kafka's layout: ListSerializer over byte
// arrays (strategy 1 = VARIABLE_SIZE, int32 count, int32 length and bytes
// per entry) of LeftOrRightValues (side byte, value bytes).
func TestOuterJoinStoreFormat(t *testing.T) {
	str := erase1(serde.String())
	i64 := erase1(serde.Int64())
	// A left "ab" then a right 7 under the same key (they are never mixed
	// in Kafka, whose key carries the side, but the format allows it).
	kafka := "01" + "00000002" + "00000003" + "01" + "6162" + "00000009" + "00" + "0000000000000007"
	got := encodeValueList([][]byte{append([]byte{1}, "ab"...), append([]byte{0}, unhex(t, "0000000000000007")...)})
	if hex.EncodeToString(got) != kafka {
		t.Errorf("encodeValueList = %x, want %s", got, kafka)
	}
	vals, err := decodeValueList(str, i64, "t", unhex(t, kafka))
	if err != nil || len(vals) != 2 || vals[0] != "ab" || vals[1] != int64(7) {
		t.Errorf("decodeValueList = %v, %v", vals, err)
	}
	for _, bad := range []string{"00", "0100000001", "0000000000", "010000000100000002016100", "01000000010000000102", "0100000001000000010261"} {
		if _, err := decodeValueList(str, str, "t", unhex(t, bad)); !errors.Is(err, errOuterFormat) {
			t.Errorf("decodeValueList(%s): err = %v, want errOuterFormat", bad, err)
		}
	}
}

// taskReading builds the task (partition p) of the sub-topology that reads
// topic.
func taskReading(t *testing.T, topo *Topology, topic string, p int32, out collector) *Task {
	t.Helper()
	for id := range 8 {
		task, err := topo.NewTask(TaskConfig{ApplicationID: "app", Collector: out, ID: TaskID{Subtopology: id, Partition: p}})
		if err != nil {
			continue
		}
		for _, tp := range task.Topics() {
			if tp == topic {
				t.Cleanup(func() { task.Close() })
				return task
			}
		}
		task.Close()
	}
	t.Fatalf("no sub-topology reads %q", topic)
	return nil
}

// TestInternalTopicBytes checks what a running topology writes to its
// internal topics: the foreign-key join's subscription (Murmur3 hash of
// the serialized left value, primary key, the left partition) and store
// key, and a table GroupBy's change records.
func TestInternalTopicBytes(t *testing.T) {
	b := NewBuilder()
	orders := TableOf(b, "orders", serde.String(), serde.String())
	customers := TableOf(b, "customers", serde.String(), serde.String())
	JoinForeignKey(orders, customers, func(v string) string { return v[:2] }, func(v, c string) string { return v + c }).
		ToStream().To("out", serde.String(), serde.String())
	counts := Count(GroupTableBy(customers, func(k, v string) (string, string) { return v, k },
		WithKeySerde(serde.String()), WithValueSerde(serde.String()), Named("by-country")))
	counts.ToStream().To("counts", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}

	out := collector{}
	left := taskReading(t, topo, "orders", 5, out)
	value := `nl{"total":3}`
	if err := left.Process(InputRecord{Topic: "orders", Partition: 5, Key: []byte("order-1"), Value: []byte(value), Timestamp: 1}); err != nil {
		t.Fatal(err)
	}
	var sub []OutputRecord
	for topic, recs := range out {
		if strings.HasPrefix(topic, "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-") && strings.HasSuffix(topic, "-topic") {
			sub = recs
		}
	}
	if len(sub) != 1 {
		t.Fatalf("subscription records: %v", out)
	}
	h1, h2 := murmur3Hash128([]byte(value), murmur3Seed)
	want := append([]byte{1, fkPropagateOnlyIfValue}, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, h1), h2)...)
	want = binary.BigEndian.AppendUint32(append(want, "order-1"...), 5)
	if string(sub[0].Key) != "nl" || !bytes.Equal(sub[0].Value, want) {
		t.Errorf("subscription %q=%x, want \"nl\"=%x", sub[0].Key, sub[0].Value, want)
	}

	// The right side keeps it under CombinedKey and logs the wrapper.
	out = collector{}
	right := taskReading(t, topo, sub[0].Topic, 5, out)
	if err := right.Process(InputRecord{Topic: sub[0].Topic, Partition: 5, Key: sub[0].Key, Value: sub[0].Value, Timestamp: 1}); err != nil {
		t.Fatal(err)
	}
	if err := right.Commit(); err != nil {
		t.Fatal(err)
	}
	var logged bool
	for topic, recs := range out {
		if strings.HasPrefix(topic, "app-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-") && strings.HasSuffix(topic, "-changelog") {
			for _, r := range recs {
				logged = logged || (bytes.Equal(r.Key, combinedKey([]byte("nl"), []byte("order-1"))) && bytes.Equal(r.Value, want))
			}
		}
	}
	if !logged {
		t.Errorf("subscription store changelog lacks CombinedKey(nl, order-1) = the wrapper: %v", out)
	}

	// A customer moving country sends its old and new rows to the
	// repartition topic: -nl under nl, +de under de.
	out = collector{}
	cust := taskReading(t, topo, "customers", 0, out)
	for i, v := range []string{"nl", "de"} {
		if err := cust.Process(InputRecord{Topic: "customers", Offset: int64(i), Key: []byte("c1"), Value: []byte(v), Timestamp: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := cust.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range out["app-by-country-repartition"] {
		got = append(got, string(r.Key)+"="+hex.EncodeToString(r.Value))
	}
	// "c1" ‖ 1: new only; "c1" ‖ 0: old only (Kafka 3.9's flags).
	if wantRecs := []string{"nl=633101", "nl=633100", "de=633101"}; !slices.Equal(got, wantRecs) {
		t.Errorf("repartition records %v, want %v", got, wantRecs)
	}
}

// BenchmarkValueHash measures the Murmur3 hash foreign-key joins compute
// for every left update, beside a plain copy of the same bytes (the
// limit: reading them once).
func BenchmarkValueHash(b *testing.B) {
	for _, size := range []int{64, 1024} {
		data := bytes.Repeat([]byte("abcdefgh"), size/8)
		b.Run(fmt.Sprintf("murmur3-hash128/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				valueHash(data)
			}
		})
		b.Run(fmt.Sprintf("limit-copy/%dB", size), func(b *testing.B) {
			dst := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(dst, data)
			}
		})
	}
}
