package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// connectLog is a goroutine-safe buffer for a command's stderr.
type connectLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *connectLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *connectLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// standaloneWorker is a runnel connect standalone run in-process.
type standaloneWorker struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	log    *connectLog
}

var restURL = regexp.MustCompile(`url=(http://\S+/)`)

func startStandalone(t *testing.T, args ...string) *standaloneWorker {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &standaloneWorker{cancel: cancel, done: make(chan error, 1), log: &connectLog{}}
	go func() { w.done <- runConnect(ctx, append([]string{"standalone"}, args...), io.Discard, w.log) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := restURL.FindStringSubmatch(w.log.String()); m != nil && strings.Contains(w.log.String(), "Kafka Connect started") {
			w.url = m[1]
			return w
		}
		select {
		case err := <-w.done:
			t.Fatalf("connect standalone ended: %v\n%s", err, w.log.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("connect standalone did not start:\n%s", w.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the worker as SIGTERM would and waits for it.
func (w *standaloneWorker) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatalf("connect standalone: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("connect standalone did not stop")
	}
}

func (w *standaloneWorker) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	return httpDo(t, method, strings.TrimSuffix(w.url, "/")+path, body)
}

// httpDo sends a JSON request and returns the response's status and body.
func httpDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLines waits until the file has n lines and returns them.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		got := lines(string(b))
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines, want %d", path, len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConnectStandaloneFiles: FileStreamSource → topic → FileStreamSink
// copies a file of UTF-8 multi-byte lines exactly; a restarted worker
// resumes from the stored source offsets and the sink group's offsets, so
// lines appended while it was down arrive once and nothing is repeated.
func TestConnectStandaloneFiles(t *testing.T) {
	addr := startBroker(t)
	dir := t.TempDir()
	src, sink := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	var want []string
	for i := range 3000 {
		want = append(want, fmt.Sprintf("ligne %d — ünïcödé ✓ 日本語 %s", i, strings.Repeat("é", i%7)))
	}
	writeFile(t, src, strings.Join(want, "\n")+"\n")
	writeFile(t, filepath.Join(dir, "worker.properties"), fmt.Sprintf(`bootstrap.servers=%s
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=%s
offset.flush.interval.ms=200
listeners=http://127.0.0.1:0
`, addr, filepath.Join(dir, "connect.offsets")))
	writeFile(t, filepath.Join(dir, "source.properties"), fmt.Sprintf("name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=%s\ntopic=connect-test\n", src))
	writeFile(t, filepath.Join(dir, "sink.json"), fmt.Sprintf(`{"name":"local-file-sink","config":{"connector.class":"FileStreamSink","tasks.max":"1","file":%q,"topics":"connect-test"}}`, sink))
	args := []string{filepath.Join(dir, "worker.properties"), filepath.Join(dir, "source.properties"), filepath.Join(dir, "sink.json")}

	w := startStandalone(t, args...)
	got := waitLines(t, sink, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("sink differs from source: %d lines, first %q", len(got), got[:min(3, len(got))])
	}
	status, body := w.do(t, "GET", "/connectors?expand=status", "")
	if status != 200 {
		t.Fatalf("GET /connectors?expand=status: %d %s", status, body)
	}
	var expanded map[string]struct {
		Status struct {
			Connector struct{ State string }   `json:"connector"`
			Tasks     []struct{ State string } `json:"tasks"`
			Type      string                   `json:"type"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &expanded); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"local-file-source", "local-file-sink"} {
		s := expanded[name].Status
		if s.Connector.State != "RUNNING" || len(s.Tasks) != 1 || s.Tasks[0].State != "RUNNING" {
			t.Errorf("%s status = %+v", name, s)
		}
	}
	if status, body := w.do(t, "GET", "/connectors/local-file-source/topics", ""); status != 200 || body != `{"local-file-source":{"topics":["connect-test"]}}` {
		t.Errorf("topics: %d %s", status, body)
	}
	w.stop(t)

	// The offsets file holds the source's byte position.
	b, err := os.ReadFile(filepath.Join(dir, "connect.offsets"))
	if err != nil || !strings.Contains(string(b), `["local-file-source",{"filename":`) {
		t.Fatalf("offsets file: %s %v", b, err)
	}

	more := []string{"après redémarrage 1", "après redémarrage 2 🚀"}
	f, _ := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(strings.Join(more, "\n") + "\n")
	f.Close()
	want = append(want, more...)

	w = startStandalone(t, args...)
	got = waitLines(t, sink, len(want))
	time.Sleep(500 * time.Millisecond) // a repeated line would show up by now
	b, _ = os.ReadFile(sink)
	if got = lines(string(b)); !slices.Equal(got, want) {
		t.Fatalf("after restart the sink has %d lines, want %d (last %q)", len(got), len(want), got[max(0, len(got)-3):])
	}

	// /admin/loggers turns the sink task loop's logger to DEBUG in this
	// worker alone: its offset commits are logged, nothing else at DEBUG.
	const sinkLogger = "org.apache.kafka.connect.runtime.WorkerSinkTask"
	if status, body := w.do(t, "PUT", "/admin/loggers/"+sinkLogger, `{"level":"DEBUG"}`); status != 200 {
		t.Fatalf("PUT /admin/loggers/%s: %d %s", sinkLogger, status, body)
	}
	f, _ = os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("après le changement de niveau\n")
	f.Close()
	commitLine := regexp.MustCompile(`level=DEBUG msg="sink task: committed offset" logger=` + regexp.QuoteMeta(sinkLogger))
	for deadline := time.Now().Add(30 * time.Second); !commitLine.MatchString(w.log.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("no DEBUG offset commit from %s:\n%s", sinkLogger, w.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(w.log.String(), "\n") {
		if strings.Contains(line, "level=DEBUG") && !strings.Contains(line, "logger="+sinkLogger) {
			t.Errorf("a DEBUG line from another logger at --log-level info: %s", line)
		}
	}

	// Pause, stop, offsets, delete through the REST API.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"PUT", "/connectors/local-file-source/pause", 202},
		{"PUT", "/connectors/local-file-source/resume", 202},
		{"DELETE", "/connectors/local-file-source/offsets", 400},
		{"PUT", "/connectors/local-file-source/stop", 204},
		{"GET", "/connectors/local-file-source/offsets", 200},
		{"DELETE", "/connectors/local-file-source/offsets", 200},
		{"DELETE", "/connectors/local-file-source", 204},
		{"GET", "/connectors/local-file-source", 404},
	} {
		if status, body := w.do(t, c.method, c.path, ""); status != c.status {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, status, body, c.status)
		}
	}
	w.stop(t)
}
