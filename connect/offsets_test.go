package connect

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFileOffsetStore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "connect.offsets")
	s, err := OpenFileOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Offsets(ctx, "a"); len(o) != 0 {
		t.Fatalf("new store has %v", o)
	}
	write := func(s *FileOffsetStore, conn string, offs ...ConnectorOffset) {
		t.Helper()
		if err := s.Write(ctx, conn, offs); err != nil {
			t.Fatal(err)
		}
	}
	f1 := map[string]any{"filename": "/tmp/a.txt"}
	f2 := map[string]any{"filename": "/tmp/b.txt"}
	write(s, "src", ConnectorOffset{Partition: f1, Offset: map[string]any{"position": 10}})
	write(s, "src", ConnectorOffset{Partition: f2, Offset: map[string]any{"position": int64(1) << 40}})
	write(s, "src", ConnectorOffset{Partition: f1, Offset: map[string]any{"position": 25}})
	write(s, "other", ConnectorOffset{Partition: map[string]any{"p": 1.5}, Offset: map[string]any{"o": "x", "n": json.Number("3")}})

	reopened, err := OpenFileOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []ConnectorOffset{
		{Partition: f1, Offset: map[string]any{"position": int64(25)}},
		{Partition: f2, Offset: map[string]any{"position": int64(1) << 40}},
	}
	for _, st := range []*FileOffsetStore{s, reopened} {
		got, _ := st.Offsets(ctx, "src")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("offsets = %#v, want %#v", got, want)
		}
		got, _ = st.Offsets(ctx, "other")
		if len(got) != 1 || got[0].Offset["n"] != int64(3) || got[0].Partition["p"] != 1.5 {
			t.Errorf("other = %#v", got)
		}
	}
	// The file holds Kafka's offset-topic key and value forms.
	b, _ := os.ReadFile(path)
	var f fileOffsets
	if err := json.Unmarshal(b, &f); err != nil || len(f.Offsets) != 3 || string(f.Offsets[1].Key) != `["src",{"filename":"/tmp/a.txt"}]` || string(f.Offsets[1].Value) != `{"position":25}` {
		t.Errorf("file = %s", b)
	}
	// A nil offset removes the partition; no temporary files stay behind.
	write(reopened, "src", ConnectorOffset{Partition: f1})
	if got, _ := reopened.Offsets(ctx, "src"); len(got) != 1 || got[0].Partition["filename"] != "/tmp/b.txt" {
		t.Errorf("after delete = %v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the offsets file", len(entries))
	}
	// A corrupt file is an error naming the file.
	os.WriteFile(path, []byte(`{"offsets":[{"key":"x","value":{}}]}`), 0o644)
	if _, err := OpenFileOffsetStore(path); err == nil {
		t.Error("corrupt offsets file opened without error")
	}
	// So is a number no float64 holds: it could never be written back.
	os.WriteFile(path, []byte(`{"offsets":[{"key":["src",{"filename":"a"}],"value":{"position":1e400}}]}`), 0o644)
	if _, err := OpenFileOffsetStore(path); err == nil {
		t.Error("offsets file with 1e400 opened without error")
	}
}

func FuzzOffsetFile(f *testing.F) {
	f.Add([]byte(`{"offsets":[{"key":["src",{"filename":"a"}],"value":{"position":25}}]}`))
	f.Add([]byte(`{"offsets":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		data := make(map[string]map[string]ConnectorOffset)
		if err := decodeOffsetFile(b, data); err != nil {
			return
		}
		// What was read is written back and reads the same.
		s := &FileOffsetStore{path: filepath.Join(t.TempDir(), "o"), data: data}
		if err := s.save(data); err != nil {
			t.Fatalf("read offsets that cannot be written back: %v", err)
		}
		again, err := OpenFileOffsetStore(s.path)
		if err != nil {
			t.Fatalf("re-reading written offsets: %v", err)
		}
		for c := range data {
			a, _ := s.Offsets(context.Background(), c)
			b, _ := again.Offsets(context.Background(), c)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("connector %s: %v, read back %v", c, a, b)
			}
		}
	})
}

func TestCommittableOffsets(t *testing.T) {
	st := &sourceTask{queues: make(map[string]*submittedQueue)}
	rec := func(p string, n int) *submitted {
		return st.track(sourceRecord(p, n))
	}
	a0, a1, a2 := rec("a", 0), rec("a", 1), rec("a", 2)
	b0 := rec("b", 0)
	st.ack(a1) // acknowledged out of order: nothing of a is committable yet
	st.ack(b0)
	got := offsetsByPartition(st.committable())
	if len(got) != 1 || got["b"] != 0 {
		t.Fatalf("committable = %v, want only b:0", got)
	}
	st.ack(a0)
	got = offsetsByPartition(st.committable())
	if len(got) != 1 || got["a"] != 1 {
		t.Fatalf("committable = %v, want a:1", got)
	}
	st.ack(a2)
	if got = offsetsByPartition(st.committable()); got["a"] != 2 {
		t.Fatalf("committable = %v, want a:2", got)
	}
	if got = offsetsByPartition(st.committable()); len(got) != 0 {
		t.Fatalf("committable twice = %v", got)
	}
}

func TestParseSinkOffset(t *testing.T) {
	tests := []struct {
		name    string
		o       ConnectorOffset
		topic   string
		part    int32
		off     int64 // -1 = nil
		wantErr string
	}{
		{"numbers", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": int64(3)}, map[string]any{"kafka_offset": int64(9)}}, "t", 3, 9, ""},
		{"strings", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": "3"}, map[string]any{"kafka_offset": "9"}}, "t", 3, 9, ""},
		{"reset", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": 0.0}, nil}, "t", 0, -1, ""},
		{"no partition", ConnectorOffset{nil, nil}, "", 0, 0, "cannot be null or missing"},
		{"missing key", ConnectorOffset{map[string]any{"kafka_topic": "t"}, nil}, "", 0, 0, "must contain the keys 'kafka_topic' and 'kafka_partition'"},
		{"bad partition", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": "x"}, nil}, "", 0, 0, "Partition values for sink connectors need to be integers"},
		{"bad offset", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": 1}, map[string]any{"kafka_offset": "x"}}, "", 0, 0, "Offset values for sink connectors need to be integers"},
		{"offset without key", ConnectorOffset{map[string]any{"kafka_topic": "t", "kafka_partition": 1}, map[string]any{"offset": 1}}, "", 0, 0, "should either be null or contain the key 'kafka_offset'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic, part, off, err := parseSinkOffset(tt.o)
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) || StatusCode(err) != 400 {
					t.Fatalf("err = %v, want 400 with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || topic != tt.topic || part != tt.part || (off == nil) != (tt.off == -1) || (off != nil && *off != tt.off) {
				t.Fatalf("got %q %d %v %v", topic, part, off, err)
			}
		})
	}
}

func TestPartitionKey(t *testing.T) {
	same := []map[string]any{
		{"file": "a", "n": 5, "ok": true},
		{"ok": true, "n": int64(5), "file": "a"},
		{"file": "a", "n": 5.0, "ok": true},
		{"file": "a", "n": json.Number("5"), "ok": true},
	}
	for _, p := range same[1:] {
		if PartitionKey(p) != PartitionKey(same[0]) {
			t.Errorf("PartitionKey(%v) = %s, want %s", p, PartitionKey(p), PartitionKey(same[0]))
		}
	}
	differ := []map[string]any{
		{"file": "a", "n": "5", "ok": true},
		{"file": "a", "n": 5.5, "ok": true},
		{"file": "a", "n": 5},
		{"file": "a,\"n\":5", "ok": true},
		{"file": "a", "n": []any{5}, "ok": true},
	}
	seen := map[string]bool{PartitionKey(same[0]): true}
	for _, p := range differ {
		k := PartitionKey(p)
		if seen[k] {
			t.Errorf("PartitionKey(%v) = %s collides", p, k)
		}
		seen[k] = true
	}
}
