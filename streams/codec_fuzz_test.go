package streams

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/runnel/runnel/streams/serde"
)

// FuzzChangeSerde checks that decoding never panics and that what decodes
// encodes back to the same bytes.
func FuzzChangeSerde(f *testing.F) {
	cs := changeSerde{inner: erase1(serde.String())}
	for _, c := range []change{{newV: "a"}, {oldV: "b"}, {newV: "new", oldV: "old"}, {newV: "", oldV: ""}} {
		b, err := cs.Serialize("t", c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cs.Deserialize("t", data)
		if err != nil {
			return
		}
		again, err := cs.Serialize("t", c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := cs.Deserialize("t", again)
		if err != nil || c2 != c {
			t.Fatalf("round trip of %x: %+v then %+v (%v)", data, c, c2, err)
		}
	})
}

// FuzzForeignKeyWrappers checks the subscription and response encodings of
// foreign-key joins the same way.
func FuzzForeignKeyWrappers(f *testing.F) {
	ss := subscriptionSerde[string]{pk: serde.String(), pkTopic: func(t string) string { return t + "-pk" }}
	rs := responseSerde[string]{vs: serde.String()}
	for _, s := range []subscription{
		{version: 1, hash: bytes.Repeat([]byte{7}, 16), instruction: fkPropagateOnlyIfValue, pk: "pk", partition: 3},
		{version: 1, instruction: fkDeleteAndPropagate, pk: "", partition: 0},
		{version: 0, hash: bytes.Repeat([]byte{9}, 16), instruction: fkDeleteNoPropagate, pk: "old", partition: -1},
	} {
		b, err := ss.Serialize("t", s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, r := range []fkResponse{{hash: bytes.Repeat([]byte{1}, 16), value: "v", partition: 1}, {partition: 2}} {
		b, err := rs.Serialize("t", r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := ss.Deserialize("t", data); err == nil {
			again, err := ss.Serialize("t", s)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := ss.Deserialize("t", again)
			if err != nil || !bytes.Equal(again, data) || !bytes.Equal(s2.hash, s.hash) || s2.pk != s.pk || s2.instruction != s.instruction || s2.partition != s.partition || s2.version != s.version {
				t.Fatalf("subscription round trip of %x: %+v then %+v (%v)", data, s, s2, err)
			}
		}
		if r, err := rs.Deserialize("t", data); err == nil {
			again, err := rs.Serialize("t", r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := rs.Deserialize("t", again)
			if err != nil || !bytes.Equal(r2.hash, r.hash) || r2.value != r.value || r2.partition != r.partition {
				t.Fatalf("response round trip of %x: %+v then %+v (%v)", data, r, r2, err)
			}
		}
	})
}

// FuzzStoreEncodings checks the suppression buffer entries and outer-join
// value lists decode without panicking and round-trip.
func FuzzStoreEncodings(f *testing.F) {
	for _, e := range []*bufferEntry{
		{ctx: bufferContext{timestamp: 5, offset: 2, topic: "in"}, prior: []byte("p"), old: []byte("o"), new: []byte("n"), time: 10},
		{ctx: bufferContext{timestamp: 1, offset: -1, partition: -1, headers: Headers{{Key: "h", Value: []byte("v")}, {Key: "n"}}}, time: 1},
		{prior: []byte("same"), old: []byte("same"), time: -1},
	} {
		f.Add(encodeBufferEntry(e))
	}
	f.Add([]byte{0, 0, 0, 1, 'x', 0, 0, 0, 0})
	f.Add(encodeValueList([][]byte{[]byte("\x01left"), []byte("\x00right")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if e, err := decodeBufferEntry(data); err == nil {
			again := encodeBufferEntry(e)
			e2, err := decodeBufferEntry(again)
			if err != nil || !reflect.DeepEqual(e2, e) {
				t.Fatalf("buffer entry round trip of %x: %+v then %+v (%v)", data, e, e2, err)
			}
		}
		if items, err := splitValueList(data); err == nil && data != nil {
			if again := encodeValueList(items); !bytes.Equal(again, data) {
				t.Fatalf("value list %x re-encodes as %x", data, again)
			}
			if _, err := decodeValueList(erase1(serde.String()), erase1(serde.String()), "t", data); err != nil && !errors.Is(err, errOuterFormat) {
				t.Fatalf("value list %x: %v", data, err)
			}
		}
	})
}
