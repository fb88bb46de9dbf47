package distributed

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The member metadata and assignment bytes of Kafka's ConnectProtocol V0.
func TestProtocolGolden(t *testing.T) {
	meta := encodeWorkerState(WorkerState{URL: "http://w1:8083/", ConfigOffset: 5})
	wantMeta := "0000" + "000f" + hex.EncodeToString([]byte("http://w1:8083/")) + "0000000000000005"
	if got := hex.EncodeToString(meta); got != wantMeta {
		t.Errorf("metadata %s, want %s", got, wantMeta)
	}
	a := Assignment{Leader: "m1", LeaderURL: "http://w1:8083/", ConfigOffset: 7,
		Connectors: []string{"c"}, Tasks: []TaskID{{"c", 0}, {"d", 2}}}
	want := "0000" + "0000" + "0002" + hex.EncodeToString([]byte("m1")) +
		"000f" + hex.EncodeToString([]byte("http://w1:8083/")) + "0000000000000007" +
		"00000002" +
		"0001" + hex.EncodeToString([]byte("c")) + "00000002" + "ffffffff" + "00000000" +
		"0001" + hex.EncodeToString([]byte("d")) + "00000001" + "00000002"
	if got := hex.EncodeToString(encodeAssignment(a)); got != want {
		t.Errorf("assignment\n got %s\nwant %s", got, want)
	}
	back, ok, err := decodeAssignment(encodeAssignment(a))
	if err != nil || !ok || !reflect.DeepEqual(back, a) {
		t.Errorf("round trip %+v %v %v", back, ok, err)
	}
	ws, err := decodeWorkerState(meta)
	if err != nil || ws != (WorkerState{"http://w1:8083/", 5}) {
		t.Errorf("metadata round trip %+v %v", ws, err)
	}
	// A V1 (compatible) member's metadata is read by its V0 prefix.
	v1 := append([]byte{0, 1}, meta[2:]...)
	v1 = append(v1, 0, 0, 0, 0) // an empty allocation array
	if ws, err := decodeWorkerState(v1); err != nil || ws.URL != "http://w1:8083/" {
		t.Errorf("v1 metadata %+v %v", ws, err)
	}
	if _, ok, err := decodeAssignment(nil); ok || err != nil {
		t.Errorf("empty assignment: ok %v err %v", ok, err)
	}
	for _, bad := range []string{"00", "0000000000", "0000" + "0000" + "0000" + "0000" + "0000000000000000" + "7fffffff", "ffff0000"} {
		b, _ := hex.DecodeString(bad)
		if _, _, err := decodeAssignment(b); !errors.Is(err, ErrProtocol) {
			t.Errorf("assignment %s: %v, want ErrProtocol", bad, err)
		}
	}
}

func TestRoundRobin(t *testing.T) {
	for _, tc := range []struct {
		name       string
		members    []string
		connectors map[string]int
		want       map[string]string
	}{
		{"none", []string{"b", "a"}, nil, map[string]string{"a": "", "b": ""}},
		{"one worker", []string{"a"}, map[string]int{"x": 2}, map[string]string{"a": "x x-0 x-1"}},
		{"two workers", []string{"m2", "m1"}, map[string]int{"src": 1, "sink": 1},
			map[string]string{"m1": "sink sink-0", "m2": "src src-0"}},
		{"uneven", []string{"a", "b", "c"}, map[string]int{"x": 4},
			map[string]string{"a": "x x-2", "b": "x-0 x-3", "c": "x-1"}},
	} {
		got := roundRobin(tc.members, tc.connectors)
		flat := map[string]string{}
		for m, a := range got {
			var parts []string
			parts = append(parts, a.Connectors...)
			for _, id := range a.Tasks {
				parts = append(parts, id.String())
			}
			flat[m] = strings.Join(parts, " ")
		}
		if !reflect.DeepEqual(flat, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, flat, tc.want)
		}
	}
}

func FuzzDecodeProtocol(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/protocol-*.hex")
	for _, s := range seeds {
		h, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		b, err := hex.DecodeString(strings.TrimSpace(string(h)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if ws, err := decodeWorkerState(b); err == nil {
			if w2, err := decodeWorkerState(encodeWorkerState(ws)); err != nil || w2 != ws {
				t.Errorf("metadata round trip %+v %v", w2, err)
			}
		}
		if a, ok, err := decodeAssignment(b); err == nil && ok {
			a2, _, err := decodeAssignment(encodeAssignment(a))
			// The encoding groups tasks by connector and lists a
			// connector once: compare what was assigned, not the order.
			sameSet := func(x, y []string) bool {
				x, y = slices.Compact(slices.Sorted(slices.Values(x))), slices.Compact(slices.Sorted(slices.Values(y)))
				return slices.Equal(x, y)
			}
			taskNames := func(ts []TaskID) []string {
				var out []string
				for _, t := range ts {
					out = append(out, strconv.Quote(t.Connector)+strconv.Itoa(t.Task))
				}
				slices.Sort(out)
				return out
			}
			if err != nil || a2.Error != a.Error || a2.Leader != a.Leader || a2.LeaderURL != a.LeaderURL ||
				a2.ConfigOffset != a.ConfigOffset || !sameSet(a2.Connectors, a.Connectors) ||
				!slices.Equal(taskNames(a2.Tasks), taskNames(a.Tasks)) {
				t.Errorf("assignment round trip %+v then %+v %v", a, a2, err)
			}
		}
	})
}
