package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The quickstart: a FileStreamSource created with one POST on a node's
// embedded default worker copies a file's lines into a topic, in the
// JsonConverter envelope the default worker uses.
func TestQuickstartFileSource(t *testing.T) {
	n := startNode(t, newSpec(t))
	src := filepath.Join(t.TempDir(), "test.txt")
	writeLines(t, src, 0, 10)
	body := n.mustCall(t, "POST", "/connectors", sourceConfig("local-file-source", src, "connect-test"), http.StatusCreated)
	var created struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Type   string            `json:"type"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Name != "local-file-source" || created.Config["file"] != src {
		t.Fatalf("created %s (%v)", body, err)
	}
	n.waitState(t, "local-file-source", "RUNNING", 1)

	cl, err := kgo.NewClient(kgo.SeedBrokers(n.kafka), kgo.ConsumeTopics("connect-test"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var got []string
	for len(got) < 10 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 10 records: %v", len(got), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var env struct {
				Schema  map[string]any `json:"schema"`
				Payload string         `json:"payload"`
			}
			if err := json.Unmarshal(r.Value, &env); err != nil || env.Schema["type"] != "string" {
				t.Fatalf("record %s is not a JsonConverter string envelope", r.Value)
			}
			got = append(got, env.Payload)
		})
	}
	for i, l := range got {
		if l != line(i) {
			t.Fatalf("record %d = %q, want %q", i, l, line(i))
		}
	}
	code, b := n.call(t, "GET", "/connectors", "")
	if code != http.StatusOK || string(b) != `["local-file-source"]` {
		t.Errorf("GET /connectors: %d %s", code, b)
	}
}

// A 100,000-line UTF-8 file goes through FileStreamSource, a topic and
// FileStreamSink into a file equal to it.
func TestFileSourceToSink(t *testing.T) {
	const lines = 100_000
	n := startNode(t, newSpec(t))
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	writeLines(t, src, 0, lines)
	n.mustCall(t, "POST", "/connectors", sinkConfig("sink", dst, "lines"), http.StatusCreated)
	n.mustCall(t, "POST", "/connectors", sourceConfig("source", src, "lines"), http.StatusCreated)
	waitFor(t, 3*time.Minute, "the sink to have every line", func() bool { return countLines(t, dst) >= lines })
	got := readLines(t, dst)
	if len(got) != lines {
		t.Fatalf("sink has %d lines, want %d", len(got), lines)
	}
	for i, l := range got {
		if l != line(i) {
			t.Fatalf("sink line %d = %q, want %q", i, l, line(i))
		}
	}
}

// kill -9 of the node mid-way through a file (after the worker has
// committed offsets, before the rest of the file is written), more lines
// written while it is down, then a restart on the same data: the sink
// ends with every line, at least once. Duplicates (what was delivered
// after the last offset commit) are counted and logged.
func TestKill9AndRestartLosesNoLine(t *testing.T) {
	const lines = 100_000
	spec := newSpec(t)
	n := startNode(t, spec)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	writeLines(t, src, 0, lines/2)
	n.mustCall(t, "POST", "/connectors", sinkConfig("sink", dst, "lines"), http.StatusCreated)
	n.mustCall(t, "POST", "/connectors", sourceConfig("source", src, "lines"), http.StatusCreated)
	var committed []byte
	waitFor(t, 2*time.Minute, "the sink part-way with offsets committed", func() bool {
		_, committed = n.call(t, "GET", "/connectors/sink/offsets", "")
		return countLines(t, dst) >= lines/5 && strings.Contains(string(committed), "kafka_offset")
	})
	before := countLines(t, dst)
	n.Kill9(t)
	t.Logf("killed with %d lines in the sink, sink offsets %s", before, committed)
	writeLines(t, src, lines/2, lines)

	n = startNode(t, spec)
	waitFor(t, 3*time.Minute, "the sink to have every line after the restart", func() bool {
		got := readLines(t, dst)
		return len(got) >= lines && slices.Contains(got[len(got)-min(len(got), 100):], line(lines-1))
	})
	// Give the worker a moment to deliver what it re-reads, then check.
	time.Sleep(2 * time.Second)
	dups, garbage := checkAllPresent(t, readLines(t, dst), lines)
	t.Logf("after kill -9 and restart: %d lines in the sink, %d duplicates, %d torn", countLines(t, dst), dups, garbage)
	if dups >= before {
		t.Errorf("%d duplicates of the %d lines delivered before the kill: the committed offsets were not used", dups, before)
	}
}

// Pause, resume, stop, the offsets API and delete, as a user drives them.
func TestConnectorLifecycle(t *testing.T) {
	n := startNode(t, newSpec(t))
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	writeLines(t, src, 0, 100)
	n.mustCall(t, "POST", "/connectors", sinkConfig("sink", dst, "life"), http.StatusCreated)
	n.mustCall(t, "POST", "/connectors", sourceConfig("source", src, "life"), http.StatusCreated)
	waitFor(t, time.Minute, "100 lines", func() bool { return countLines(t, dst) == 100 })

	// Paused: lines appended to the source stay out of the sink.
	n.mustCall(t, "PUT", "/connectors/source/pause", "", http.StatusAccepted)
	n.waitState(t, "source", "PAUSED", 1)
	writeLines(t, src, 100, 200)
	time.Sleep(3 * time.Second)
	if c := countLines(t, dst); c != 100 {
		t.Fatalf("paused source delivered: sink has %d lines", c)
	}
	n.mustCall(t, "PUT", "/connectors/source/resume", "", http.StatusAccepted)
	n.waitState(t, "source", "RUNNING", 1)
	waitFor(t, time.Minute, "200 lines after resuming", func() bool { return countLines(t, dst) == 200 })

	// Offsets can change only when stopped.
	code, b := n.call(t, "DELETE", "/connectors/source/offsets", "")
	if code != http.StatusBadRequest || !strings.Contains(string(b), "STOPPED") {
		t.Errorf("reset of a running connector: %d %s", code, b)
	}
	n.mustCall(t, "PUT", "/connectors/source/stop", "", http.StatusNoContent)
	n.waitState(t, "source", "STOPPED", 0)
	var offs struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	waitFor(t, 30*time.Second, "the source offset at the end of the file", func() bool {
		b := n.mustCall(t, "GET", "/connectors/source/offsets", "", http.StatusOK)
		offs.Offsets = nil
		if err := json.Unmarshal(b, &offs); err != nil || len(offs.Offsets) != 1 {
			return false
		}
		var size int
		for i := range 200 {
			size += len(line(i)) + 1
		}
		return offs.Offsets[0].Partition["filename"] == src && offs.Offsets[0].Offset["position"] == float64(size)
	})
	b = n.mustCall(t, "DELETE", "/connectors/source/offsets", "", http.StatusOK)
	if !strings.Contains(string(b), "have been reset successfully") {
		t.Errorf("reset answered %s", b)
	}
	b = n.mustCall(t, "GET", "/connectors/source/offsets", "", http.StatusOK)
	if string(b) != `{"offsets":[]}` {
		t.Errorf("offsets after reset: %s", b)
	}
	// Resumed with no offsets, the source reads the file again.
	n.mustCall(t, "PUT", "/connectors/source/resume", "", http.StatusAccepted)
	waitFor(t, time.Minute, "the file read again after the reset", func() bool { return countLines(t, dst) == 400 })

	n.mustCall(t, "DELETE", "/connectors/source", "", http.StatusNoContent)
	waitFor(t, 30*time.Second, "the deleted connector gone", func() bool {
		code, _ := n.call(t, "GET", "/connectors/source", "")
		return code == http.StatusNotFound
	})
	code, b = n.call(t, "GET", "/connectors", "")
	if code != http.StatusOK || string(b) != `["sink"]` {
		t.Errorf("GET /connectors after delete: %d %s", code, b)
	}
}

// Two workers in one group: the embedded worker of a node and a
// "runnel connect distributed" process. Requests sent to either are
// served (a follower forwards to the leader). kill -9 the process: its
// connector and task move to the node's worker within the session timeout
// plus a rebalance, and the sink still gets every line.
func TestWorkerFailover(t *testing.T) {
	const lines = 50_000
	const session = 6 * time.Second
	a := startNode(t, newSpec(t, "connect.session.timeout.ms=6000", "connect.heartbeat.interval.ms=1000"))
	b := startWorker(t, map[string]string{
		"bootstrap.servers":                 a.kafka,
		"group.id":                          "connect-cluster",
		"config.storage.topic":              "connect-configs",
		"offset.storage.topic":              "connect-offsets",
		"status.storage.topic":              "connect-status",
		"config.storage.replication.factor": "-1",
		"offset.storage.replication.factor": "-1",
		"status.storage.replication.factor": "-1",
		"key.converter":                     "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
		"offset.flush.interval.ms":          "1000",
		"session.timeout.ms":                "6000",
		"heartbeat.interval.ms":             "1000",
	})
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	writeLines(t, src, 0, lines/2)
	// One connector created through each worker: one of them is not the
	// leader and forwards.
	a.mustCall(t, "POST", "/connectors", sinkConfig("sink", dst, "fail"), http.StatusCreated)
	b.mustCall(t, "POST", "/connectors", sourceConfig("source", src, "fail"), http.StatusCreated)
	bID := strings.TrimPrefix(b.rest, "http://")
	aID := strings.TrimPrefix(a.rest, "http://")
	onB := func() (names []string) {
		for _, c := range []string{"source", "sink"} {
			s, ok := a.status(t, c)
			if !ok {
				continue
			}
			if s.Connector.WorkerID == bID {
				names = append(names, c)
			}
			for _, ts := range s.Tasks {
				if ts.WorkerID == bID {
					names = append(names, fmt.Sprintf("%s-%d", c, ts.ID))
				}
			}
		}
		return names
	}
	waitFor(t, time.Minute, "work on both workers and half the lines through", func() bool {
		return len(onB()) > 0 && countLines(t, dst) >= lines/2
	})
	moved := onB()
	t.Logf("worker %s runs %v", bID, moved)

	b.Kill9(t)
	killed := time.Now()
	writeLines(t, src, lines/2, lines)
	waitFor(t, 5*session, "every instance RUNNING on the surviving worker", func() bool {
		for _, c := range []string{"source", "sink"} {
			s, ok := a.status(t, c)
			if !ok || s.Connector.State != "RUNNING" || s.Connector.WorkerID != aID || len(s.Tasks) != 1 {
				return false
			}
			if s.Tasks[0].State != "RUNNING" || s.Tasks[0].WorkerID != aID {
				return false
			}
		}
		return true
	})
	t.Logf("%v moved to %s %v after the kill (session.timeout.ms %v)", moved, aID, time.Since(killed).Round(100*time.Millisecond), session)
	waitFor(t, 2*time.Minute, "every line in the sink", func() bool { return countLines(t, dst) >= lines })
	time.Sleep(2 * time.Second)
	dups, garbage := checkAllPresent(t, readLines(t, dst), lines)
	t.Logf("after the failover: %d duplicates, %d torn lines", dups, garbage)
}
