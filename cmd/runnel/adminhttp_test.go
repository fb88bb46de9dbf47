package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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
