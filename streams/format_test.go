package streams

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

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
