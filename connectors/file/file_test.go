package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// taskContext is a SourceTaskContext over a fixed offset.
type taskContext struct {
	props  map[string]string
	offset map[string]any
	asked  []map[string]any
}

func (c *taskContext) Configs() map[string]string      { return c.props }
func (c *taskContext) Offsets() connector.OffsetReader { return c }
func (c *taskContext) Offset(p map[string]any) (map[string]any, error) {
	c.asked = append(c.asked, p)
	return c.offset, nil
}

func startSource(t *testing.T, props map[string]string, offset map[string]any) (*SourceTask, *taskContext) {
	t.Helper()
	task := NewSourceTask()
	ctx := &taskContext{props: props, offset: offset}
	if err := task.Start(ctx, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task, ctx
}

type line struct {
	value    string
	position int64
}

// pollAll polls until n lines have come back, failing after too many empty polls.
func pollAll(t *testing.T, task *SourceTask, n int) []line {
	t.Helper()
	var got []line
	for empty := 0; len(got) < n; {
		recs, err := task.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			if empty++; empty > 3 {
				t.Fatalf("got %d lines, want %d: %v", len(got), n, got)
			}
		}
		for _, r := range recs {
			if r.Topic != "lines" || !r.ValueSchema.Equal(data.Required(data.TypeString)) || r.Timestamp == nil {
				t.Fatalf("bad record %+v", r)
			}
			got = append(got, line{r.Value.(string), r.SourceOffset[PositionField].(int64)})
		}
	}
	return got
}

func TestSourceReadsMultiByteLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "in.txt")
		content := "héllo wörld\n日本語のテキスト\r\n😀 emoji\rlast line\n\nno newline yet"
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		task, ctx := startSource(t, map[string]string{"file": path, "topic": "lines", "batch.size": "2"}, nil)
		got := pollAll(t, task, 5)
		want := []line{
			{"héllo wörld", int64(len("héllo wörld\n"))},
			{"日本語のテキスト", int64(len("héllo wörld\n日本語のテキスト\r\n"))},
			{"😀 emoji", int64(len("héllo wörld\n日本語のテキスト\r\n😀 emoji\r"))},
			{"last line", int64(len("héllo wörld\n日本語のテキスト\r\n😀 emoji\rlast line\n"))},
			{"", int64(len(content) - len("no newline yet"))},
		}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if len(ctx.asked) != 1 || ctx.asked[0][FilenameField] != path {
			t.Errorf("offset lookups = %v", ctx.asked)
		}
		// The unterminated line stays back until it is completed.
		if recs, _ := task.Poll(t.Context()); len(recs) != 0 {
			t.Errorf("partial line returned: %v", recs)
		}
	})
}

func TestSourceBatchSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(path, []byte(strings.Repeat("x\n", 5000)), 0o644)
	task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"}, nil)
	recs, err := task.Poll(t.Context())
	if err != nil || len(recs) != 2000 {
		t.Fatalf("first poll: %d records, %v; want batch.size 2000", len(recs), err)
	}
	if got := recs[1999].SourceOffset[PositionField]; got != int64(4000) {
		t.Errorf("position after 2000 lines = %v", got)
	}
}

func TestSourceResumesFromBytePosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	content := "ä1\nö2\nü3\n€4\n"
	os.WriteFile(path, []byte(content), 0o644)
	after2 := int64(len("ä1\nö2\n"))
	for name, pos := range map[string]any{
		"int64":       after2,
		"float64":     float64(after2),
		"json.Number": json.Number("8"),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"},
					map[string]any{PositionField: pos})
				got := pollAll(t, task, 2)
				want := []line{{"ü3", after2 + int64(len("ü3\n"))}, {"€4", int64(len(content))}}
				if got[0] != want[0] || got[1] != want[1] {
					t.Errorf("resumed lines %v, want %v", got, want)
				}
			})
		})
	}
	t.Run("bad offset", func(t *testing.T) {
		task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"},
			map[string]any{PositionField: "12"})
		if _, err := task.Poll(t.Context()); !errors.Is(err, ErrOffset) {
			t.Errorf("string position: err = %v", err)
		}
	})
}

func TestSourceTailsGrowingFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "in.txt")
		os.WriteFile(path, []byte("one\n"), 0o644)
		task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"}, nil)
		if got := pollAll(t, task, 1); got[0].value != "one" {
			t.Fatalf("got %v", got)
		}
		start := time.Now()
		if recs, err := task.Poll(t.Context()); len(recs) != 0 || err != nil {
			t.Fatalf("poll at end of file: %v %v", recs, err)
		}
		if waited := time.Since(start); waited != pollWait {
			t.Errorf("poll at end of file waited %v, want %v", waited, pollWait)
		}
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("two\nthr")
		if got := pollAll(t, task, 1); got[0] != (line{"two", 8}) {
			t.Errorf("got %v", got)
		}
		f.WriteString("ee\r")
		if recs, _ := task.Poll(t.Context()); len(recs) != 0 {
			t.Errorf("line ending in a lone trailing \\r returned before the next byte: %v", recs)
		}
		f.WriteString("\n")
		f.Close()
		if got := pollAll(t, task, 1); got[0] != (line{"three", 15}) {
			t.Errorf("got %v", got)
		}
	})
}

func TestSourceWaitsForMissingFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "later.txt")
		task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"}, nil)
		for range 3 {
			if recs, err := task.Poll(t.Context()); recs != nil || err != nil {
				t.Fatalf("poll of a missing file = %v, %v", recs, err)
			}
		}
		os.WriteFile(path, []byte("finally\n"), 0o644)
		if got := pollAll(t, task, 1); got[0].value != "finally" {
			t.Errorf("got %v", got)
		}
	})
}

func TestSourceStopWakesPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.txt")
		task, _ := startSource(t, map[string]string{"file": path, "topic": "lines"}, nil)
		start := time.Now()
		var wg sync.WaitGroup
		var returned time.Duration
		wg.Go(func() {
			task.Poll(context.Background())
			returned = time.Since(start)
		})
		time.Sleep(100 * time.Millisecond)
		task.Stop()
		wg.Wait()
		if returned != 100*time.Millisecond {
			t.Errorf("Poll returned after %v, want right after Stop at 100ms", returned)
		}
		if recs, err := task.Poll(context.Background()); recs != nil || err != nil {
			t.Errorf("Poll after Stop = %v, %v", recs, err)
		}
	})
}

func TestSourceStdin(t *testing.T) {
	task := NewSourceTask()
	task.stdin = strings.NewReader("a\nb\n")
	ctx := &taskContext{}
	if err := task.Start(ctx, map[string]string{"topic": "lines"}); err != nil {
		t.Fatal(err)
	}
	recs, err := task.Poll(t.Context())
	if err != nil || len(recs) != 2 || recs[1].Value != "b" {
		t.Fatalf("stdin poll = %v, %v", recs, err)
	}
	if recs[0].SourcePartition[FilenameField] != nil || recs[0].SourceOffset[PositionField] != nil {
		t.Errorf("stdin offsets = %v %v, want null", recs[0].SourcePartition, recs[0].SourceOffset)
	}
	if len(ctx.asked) != 0 {
		t.Errorf("stdin looked up offsets")
	}
}

func TestConnectors(t *testing.T) {
	src := NewSource()
	err := src.Start(nil, map[string]string{"file": "x"})
	if !errors.Is(err, configdef.ErrInvalidConfig) || !strings.Contains(err.Error(), `"topic"`) {
		t.Errorf("missing topic: err = %v", err)
	}
	err = src.Start(nil, map[string]string{"topic": "t", "batch.size": "0"})
	if err == nil || !strings.Contains(err.Error(), "batch.size") {
		t.Errorf("batch.size=0: err = %v", err)
	}
	props := map[string]string{"topic": "t", "file": "f"}
	if err := src.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	if cfgs, _ := src.TaskConfigs(5); len(cfgs) != 1 || cfgs[0]["file"] != "f" {
		t.Errorf("source task configs = %v", cfgs)
	}
	sink := NewSink()
	if err := sink.Start(nil, map[string]string{"file": "out"}); err != nil {
		t.Fatal(err)
	}
	if cfgs, _ := sink.TaskConfigs(3); len(cfgs) != 3 || cfgs[2]["file"] != "out" {
		t.Errorf("sink task configs = %v", cfgs)
	}
	var names []string
	for _, k := range src.ConfigDef().KeyInfos() {
		names = append(names, k.Name+"="+deref(k.DefaultValue))
	}
	if strings.Join(names, " ") != "file=<nil> topic=<nil> batch.size=2000" {
		t.Errorf("source keys = %v", names)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestRegister(t *testing.T) {
	r := connect.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"FileStreamSource": SourceClass, "FileStreamSourceConnector": SourceClass, SourceClass: SourceClass,
		"FileStreamSink": SinkClass, SinkClass: SinkClass,
	} {
		c, class, err := r.NewConnector(name)
		if err != nil || class != want {
			t.Errorf("NewConnector(%s) = %s, %v", name, class, err)
			continue
		}
		if _, isSource := c.(connector.SourceConnector); isSource != (want == SourceClass) {
			t.Errorf("%s has the wrong kind: %T", name, c)
		}
	}
	if err := Register(r); err == nil {
		t.Errorf("registering twice succeeded")
	}
}

func sinkRecord(v any) connector.SinkRecord {
	return connector.SinkRecord{Record: connector.Record{Topic: "t", Value: v}}
}

func TestSinkWritesLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(path, []byte("existing\n"), 0o644)
	task := NewSinkTask()
	if err := task.Start(nil, map[string]string{"file": path}); err != nil {
		t.Fatal(err)
	}
	st := data.StructBuilder().Field("a", data.Required(data.TypeInt32)).MustBuild()
	recs := []connector.SinkRecord{sinkRecord("héllo 日本"), sinkRecord(int64(42)), sinkRecord(nil),
		sinkRecord(1.5), sinkRecord(data.NewStruct(st).MustPut("a", int32(1))), sinkRecord("")}
	if err := task.Put(recs); err != nil {
		t.Fatal(err)
	}
	// The lines are in the file once Put returns, as with Kafka's sink;
	// PreCommit syncs them and passes the offsets on.
	want := "existing\nhéllo 日本\n42\nnull\n1.5\nStruct{a=1}\n\n"
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("file after Put = %q, want %q", b, want)
	}
	offsets := map[connector.TopicPartition]int64{{Topic: "t", Partition: 0}: 6}
	got, err := task.PreCommit(offsets)
	if err != nil || got[connector.TopicPartition{Topic: "t"}] != 6 {
		t.Fatalf("PreCommit = %v, %v", got, err)
	}
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("file = %q, want %q", b, want)
	}
	task.Put([]connector.SinkRecord{sinkRecord("after")})
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != want+"after\n" {
		t.Errorf("after Stop: %q", b)
	}
}

func TestSinkStdout(t *testing.T) {
	var out bytes.Buffer
	task := NewSinkTask()
	task.stdout = &out
	if err := task.Start(nil, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	task.Put([]connector.SinkRecord{sinkRecord("a"), sinkRecord("b")})
	task.PreCommit(nil)
	if out.String() != "a\nb\n" {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestSinkBadPath(t *testing.T) {
	task := NewSinkTask()
	err := task.Start(nil, map[string]string{"file": filepath.Join(t.TempDir(), "no", "such", "dir", "f")})
	if err == nil || !strings.Contains(err.Error(), "couldn't find or create file") {
		t.Errorf("err = %v", err)
	}
}

func TestSourceAlterOffsets(t *testing.T) {
	src := NewSource()
	cfg := map[string]string{"topic": "t", "file": "/data/in.txt"}
	part := map[string]any{FilenameField: "/data/in.txt"}
	tests := []struct {
		name    string
		config  map[string]string
		offsets []connector.PartitionOffset
		want    string // "" = accepted
	}{
		{"position", cfg, []connector.PartitionOffset{{Partition: part, Offset: map[string]any{PositionField: float64(12)}}}, ""},
		{"reset", cfg, []connector.PartitionOffset{{Partition: part}}, ""},
		{"stdin", map[string]string{"topic": "t"}, nil, "'file'"},
		{"no filename", cfg, []connector.PartitionOffset{{Partition: map[string]any{"x": 1}}}, "'filename'"},
		{"no position", cfg, []connector.PartitionOffset{{Partition: part, Offset: map[string]any{"pos": 1}}}, "'position'"},
		{"negative", cfg, []connector.PartitionOffset{{Partition: part, Offset: map[string]any{PositionField: int64(-1)}}}, "negative"},
		{"fraction", cfg, []connector.PartitionOffset{{Partition: part, Offset: map[string]any{PositionField: 1.5}}}, "not an integer"},
		{"string", cfg, []connector.PartitionOffset{{Partition: part, Offset: map[string]any{PositionField: "3"}}}, "type string"},
	}
	for _, tc := range tests {
		err := src.AlterOffsets(tc.config, tc.offsets)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrOffset) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrOffset containing %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigDefsMatchKafka(t *testing.T) {
	checkConfigGolden(t, map[string]*configdef.Def{
		SourceClass: NewSource().ConfigDef(),
		SinkClass:   NewSink().ConfigDef(),
	})
}
