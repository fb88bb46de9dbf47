package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/connect"
)

func TestAdminListener(t *testing.T) {
	for _, tc := range []struct {
		connect map[string]string
		want    string
		err     string
	}{
		{nil, "127.0.0.1:8083", ""},
		{map[string]string{"listeners": "http://0.0.0.0:9999"}, "0.0.0.0:9999", ""},
		{map[string]string{"listeners": "http://127.0.0.1:0,http://127.0.0.1:1"}, "127.0.0.1:0", ""},
		{map[string]string{"enabled": "false"}, "", ""},
		{map[string]string{"enabled": "maybe"}, "", "connect.enabled"},
		{map[string]string{"listeners": "https://127.0.0.1:8443"}, "", "connect.listeners"},
		{map[string]string{"listeners": "127.0.0.1:8083"}, "", "connect.listeners"},
	} {
		got, err := adminListener(tc.connect)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one naming %s", tc.connect, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.connect, got, err, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runnel server serves Prometheus metrics on its HTTP listener, with the
// broker's partition metrics in them.
func TestServerServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, []string{
			"--override", "listeners=PLAINTEXT://127.0.0.1:0",
			"--override", "log.dirs=" + t.TempDir(),
			"--override", "connect.listeners=http://127.0.0.1:0",
		}, io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	started := regexp.MustCompile(`listeners=PLAINTEXT://(\S+) .*metrics=(http://\S+)`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		if m = started.FindStringSubmatch(stderr.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("server did not start:\n%s", stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 2, 1, nil, "metered"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(m[2])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", m[2], resp.Status)
	}
	for _, want := range []string{`runnel_log_end_offset{partition="1",topic="metered"} 0`, "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// The embedded worker's settings: Kafka's connect-distributed defaults
// with broker-default replication, connect.* keys over them, and errors
// naming the key at fault.
func TestEmbeddedWorkerConfig(t *testing.T) {
	wc, err := embeddedWorkerConfig(map[string]string{"enabled": "true"}, "127.0.0.1:19092")
	if err != nil {
		t.Fatal(err)
	}
	if wc.GroupID != "connect-cluster" || wc.ConfigStorageTopic != "connect-configs" ||
		wc.OffsetStorageTopic != "connect-offsets" || wc.StatusStorageTopic != "connect-status" {
		t.Errorf("defaults: group %q topics %q %q %q", wc.GroupID, wc.ConfigStorageTopic, wc.OffsetStorageTopic, wc.StatusStorageTopic)
	}
	if wc.ConfigStorageReplication != -1 || wc.OffsetStorageReplication != -1 || wc.StatusStorageReplication != -1 {
		t.Errorf("replication factors %d %d %d, want the broker default", wc.ConfigStorageReplication, wc.OffsetStorageReplication, wc.StatusStorageReplication)
	}
	if len(wc.BootstrapServers) != 1 || wc.BootstrapServers[0] != "127.0.0.1:19092" {
		t.Errorf("bootstrap %v, want the node's listener", wc.BootstrapServers)
	}
	wc, err = embeddedWorkerConfig(map[string]string{"group.id": "mine", "bootstrap.servers": "10.0.0.1:9092", "session.timeout.ms": "6000"}, "127.0.0.1:19092")
	if err != nil || wc.GroupID != "mine" || wc.BootstrapServers[0] != "10.0.0.1:9092" || wc.SessionTimeout != 6*time.Second {
		t.Errorf("overrides: %+v %v", wc, err)
	}
	for _, bad := range []map[string]string{
		{"session.timeout.ms": "soon"},
		{"config.storage.replication.factor": "0"},
		{"no.such.key": "x"},
	} {
		_, err := adminListener(bad)
		for k := range bad {
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%v: error %v, want one naming %s", bad, err, k)
			}
		}
	}
}

// config/connect-distributed.properties is a valid distributed worker
// configuration.
func TestConnectDistributedProperties(t *testing.T) {
	props, err := config.Load("../../config/connect-distributed.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := connect.ParseWorkerConfig(props, connect.ModeDistributed)
	if err != nil {
		t.Fatal(err)
	}
	if wc.GroupID != "connect-cluster" || wc.ConfigStorageTopic != "connect-configs" {
		t.Errorf("group %q config topic %q", wc.GroupID, wc.ConfigStorageTopic)
	}
}

// runnel server serves the Connect REST API beside /metrics, and its
// embedded worker joins its group once the broker is up.
func TestServerServesConnectREST(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, []string{
			"--override", "listeners=PLAINTEXT://127.0.0.1:0",
			"--override", "log.dirs=" + t.TempDir(),
			"--override", "connect.listeners=http://127.0.0.1:0",
			"--override", "group.initial.rebalance.delay.ms=0",
			"--override", "connect.offset.flush.interval.ms=100",
		}, io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	started := regexp.MustCompile(`connect worker started".*rest=(http://[^/ ]+)/`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		if m = started.FindStringSubmatch(stderr.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("connect worker did not start:\n%s", stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if code, _ := get("/health"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not healthy:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get("/"); code != http.StatusOK || !strings.Contains(body, `"kafka_cluster_id":"`) || strings.Contains(body, `"kafka_cluster_id":""`) {
		t.Errorf("GET /: %d %s", code, body)
	}
	if code, body := get("/connectors"); code != http.StatusOK || body != "[]" {
		t.Errorf("GET /connectors: %d %s", code, body)
	}
	if code, _ := get("/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics: %d", code)
	}

	// /admin/loggers changes what the worker logs: the sink task loop's
	// logger turned to DEBUG logs its offset commits, while the node
	// stays at INFO.
	send := func(method, path, body string) (int, string) { return httpDo(t, method, m[1]+path, body) }
	const sinkLogger = "org.apache.kafka.connect.runtime.WorkerSinkTask"
	if code, body := send("PUT", "/admin/loggers/"+sinkLogger, `{"level":"DEBUG"}`); code != http.StatusOK || body != `["`+sinkLogger+`"]` {
		t.Fatalf("PUT /admin/loggers/%s: %d %s", sinkLogger, code, body)
	}
	if code, body := get("/admin/loggers/" + sinkLogger + ".Inner"); code != http.StatusOK || !strings.Contains(body, `"level":"DEBUG"`) {
		t.Errorf("a child logger does not inherit the level: %d %s", code, body)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("one line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]string{
		"log-src":  `{"connector.class":"FileStreamSource","topic":"loggers-topic","file":"` + in + `"}`,
		"log-sink": `{"connector.class":"FileStreamSink","topics":"loggers-topic","file":"` + out + `"}`,
	} {
		// A rebalance after the previous config write answers 409 for a
		// moment; clients retry.
		for deadline := time.Now().Add(30 * time.Second); ; {
			code, body := send("PUT", "/connectors/"+name+"/config", cfg)
			if code == http.StatusCreated {
				break
			}
			if code != http.StatusConflict || time.Now().After(deadline) {
				t.Fatalf("create %s: %d %s", name, code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	committed := regexp.MustCompile(`level=DEBUG msg="sink task: committed offset" logger=` + regexp.QuoteMeta(sinkLogger))
	for deadline := time.Now().Add(60 * time.Second); !committed.MatchString(stderr.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("no DEBUG offset commit from %s:\n%s", sinkLogger, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "level=DEBUG") && !strings.Contains(line, "logger="+sinkLogger) {
			t.Errorf("a DEBUG line from another logger while the node runs at INFO: %s", line)
		}
	}
}
