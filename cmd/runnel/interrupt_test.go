package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
)

// lineWatcher is a concurrency-safe writer that signals once it has seen n
// lines.
type lineWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	n    int
	done chan struct{}
}

func newLineWatcher(n int) *lineWatcher { return &lineWatcher{n: n, done: make(chan struct{})} }

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before := strings.Count(w.buf.String(), "\n")
	w.buf.Write(p)
	if before < w.n && strings.Count(w.buf.String(), "\n") >= w.n {
		close(w.done)
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// An interrupted producer returns while standard input is still open, after
// the records it had read are acknowledged, with the JVM tools' status 130.
func TestProduceInterrupted(t *testing.T) {
	c := newCluster(t)
	c.createTopic("live", 1)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"produce", "--bootstrap-server", c.addr, "--topic", "live", "--linger-ms", "0"}, pr, &stdout, &stderr)
	}()
	if _, err := io.WriteString(pw, "first\nsecond\n"); err != nil {
		t.Fatal(err)
	}
	// Both records are on the topic before the interrupt.
	r := c.consume("live", "--from-beginning", "--max-messages", "2")
	if got := strings.Join(lines(r.stdout), ","); got != "first,second" {
		t.Fatalf("consumed %q", got)
	}
	cancel()
	if got := <-code; got != 130 {
		t.Fatalf("exit %d after interrupt, want 130 (stderr %q)", got, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr after interrupt: %q", stderr.String())
	}
}

// An interrupted consumer reports what it printed, as Ctrl-C on
// kafka-console-consumer does.
func TestConsumeInterrupted(t *testing.T) {
	c := newCluster(t)
	c.createTopic("live", 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := newLineWatcher(3)
	var stderr lineWatcher
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"consume", "--bootstrap-server", c.addr, "--topic", "live", "--from-beginning"}, strings.NewReader(""), out, &stderr)
	}()
	c.produce("live", "a\nb\nc\n")
	<-out.done
	cancel()
	if got := <-code; got != 130 {
		t.Fatalf("exit %d after interrupt, want 130", got)
	}
	if out.String() != "a\nb\nc\n" {
		t.Fatalf("stdout %q", out.String())
	}
	if stderr.String() != "Processed a total of 3 messages\n" {
		t.Fatalf("stderr %q", stderr.String())
	}
}
