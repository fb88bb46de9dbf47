package connect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/tests/internal/proc"
)

// runnelBin is the runnel binary built once for this package.
var runnelBin string

func TestMain(m *testing.M) { os.Exit(proc.Main(m, &runnelBin)) }

// node is one `runnel server` process with its embedded Connect worker, or
// a `runnel connect distributed` process (kafka empty).
type node struct {
	*proc.Process
	kafka string // host:port of the Kafka listener
	rest  string // http://host:port of the Connect REST API
}

// nodeSpec says where a node listens and keeps its data.
type nodeSpec struct {
	dataDir   string
	kafkaPort int
	restPort  int
	overrides []string // more key=value settings
}

func newSpec(t testing.TB, overrides ...string) nodeSpec {
	return nodeSpec{dataDir: t.TempDir(), kafkaPort: proc.FreePort(t), restPort: proc.FreePort(t), overrides: overrides}
}

// startNode runs runnel server and waits until its Connect worker reports
// healthy (it has joined its group). The process is killed at cleanup.
func startNode(t testing.TB, s nodeSpec) *node {
	t.Helper()
	rest := "http://127.0.0.1:" + strconv.Itoa(s.restPort)
	srv := proc.StartServer(t, proc.ServerSpec{Bin: runnelBin, DataDir: s.dataDir, Port: s.kafkaPort,
		Overrides: append([]string{
			"connect.listeners=" + rest,
			"connect.offset.flush.interval.ms=1000",
		}, s.overrides...)})
	n := &node{Process: srv.Process, kafka: srv.Addr, rest: rest}
	waitFor(t, 60*time.Second, "the Connect worker to be healthy", func() bool {
		code, _ := n.call(t, "GET", "/health", "")
		return code == http.StatusOK
	})
	return n
}

// startWorker runs "runnel connect distributed" with a worker.properties
// made of props and waits until it is healthy. It is killed at cleanup.
func startWorker(t testing.TB, props map[string]string) *node {
	t.Helper()
	rest := "http://127.0.0.1:" + strconv.Itoa(proc.FreePort(t))
	props["listeners"] = rest
	var b strings.Builder
	for k, v := range props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	path := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &node{Process: proc.Start(t, "worker "+rest, exec.Command(runnelBin, "connect", "distributed", path)), rest: rest}
	waitFor(t, 60*time.Second, "the distributed worker to be healthy", func() bool {
		code, _ := n.call(t, "GET", "/health", "")
		return code == http.StatusOK
	})
	return n
}

// call sends a REST request and returns the status and body; a transport
// error is status 0.
func (n *node) call(t testing.TB, method, path, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.rest+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// mustCall is call that retries while the cluster rebalances (409) and
// fails the test unless the final status is want.
func (n *node) mustCall(t testing.TB, method, path, body string, want int) []byte {
	t.Helper()
	var code int
	var b []byte
	waitFor(t, 60*time.Second, method+" "+path, func() bool {
		code, b = n.call(t, method, path, body)
		return code != http.StatusConflict && code != 0
	})
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

// status is GET /connectors/{c}/status.
type status struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
}

func (n *node) status(t testing.TB, name string) (status, bool) {
	t.Helper()
	code, b := n.call(t, "GET", "/connectors/"+name+"/status", "")
	var s status
	if code != http.StatusOK || json.Unmarshal(b, &s) != nil {
		return s, false
	}
	return s, true
}

// waitState waits until the connector and all of its (at least minTasks)
// tasks are in state.
func (n *node) waitState(t testing.TB, name, state string, minTasks int) status {
	t.Helper()
	var s status
	waitFor(t, 60*time.Second, name+" "+state, func() bool {
		var ok bool
		s, ok = n.status(t, name)
		if !ok || s.Connector.State != state || len(s.Tasks) < minTasks {
			return false
		}
		for _, ts := range s.Tasks {
			if ts.State != state {
				return false
			}
		}
		return true
	})
	return s
}

func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// line is the i-th test line: UTF-8 with multi-byte characters of every
// length, so byte offsets and character counts differ.
func line(i int) string {
	return fmt.Sprintf("%06d café ☕ naïve 日本語 🚀 Ωmega ∑ %d", i, i*7919%1000003)
}

// writeLines appends lines [from, to) to path.
func writeLines(t testing.TB, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := from; i < to; i++ {
		w.WriteString(line(i))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// readLines returns the complete lines of path (a torn last line without
// its newline is left out).
func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	} else {
		return nil
	}
	return strings.Split(s, "\n")
}

// countLines is the number of newlines in path.
func countLines(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// checkAllPresent fails unless every line in [0, n) is in got; it returns
// the number of duplicates and of lines that are no test line (a line
// torn by a kill and continued after the restart).
func checkAllPresent(t testing.TB, got []string, n int) (dups, garbage int) {
	t.Helper()
	seen := make(map[string]int, n)
	for _, l := range got {
		seen[l]++
	}
	missing := 0
	for i := range n {
		c := seen[line(i)]
		if c == 0 {
			if missing < 5 {
				t.Errorf("line %d missing: %q", i, line(i))
			}
			missing++
			continue
		}
		dups += c - 1
		delete(seen, line(i))
	}
	for _, c := range seen {
		garbage += c
	}
	if missing > 0 {
		t.Errorf("%d of %d lines missing", missing, n)
	}
	return dups, garbage
}

func sourceConfig(name, file, topic string) string {
	return fmt.Sprintf(`{"name":%q,"config":{"connector.class":"FileStreamSource","tasks.max":"1","file":%q,"topic":%q}}`, name, file, topic)
}

func sinkConfig(name, file, topic string) string {
	return fmt.Sprintf(`{"name":%q,"config":{"connector.class":"FileStreamSink","tasks.max":"1","file":%q,"topics":%q}}`, name, file, topic)
}
