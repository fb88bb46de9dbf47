// Package brokertest starts real Runnel brokers in-process for tests: on
// 127.0.0.1 with a free port and a temporary data directory, stopped and
// removed when the test ends.
package brokertest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runnel/runnel/broker"
	"github.com/runnel/runnel/broker/config"
)

// Server is a running test broker.
type Server struct {
	t         testing.TB
	Dir       string   // the data directory (log.dirs)
	Addr      string   // host:port of the Kafka listener
	overrides []string // key=value settings it was started with
	// Metrics is the registry the broker registers its metrics on; a
	// restarted broker registers on the same one.
	Metrics *prometheus.Registry

	mu     sync.Mutex
	b      *broker.Broker
	cancel context.CancelFunc
	done   chan error
}

// Start runs a single-node broker with Runnel's defaults and the given
// key=value overrides (server.properties names). It fails the test on
// error and stops the broker at cleanup.
func Start(t testing.TB, overrides ...string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir(), overrides: overrides, Metrics: prometheus.NewRegistry()}
	if err := s.start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) start(hostPort string) error {
	props := map[string]string{
		"listeners":                        "PLAINTEXT://" + hostPort,
		"log.dirs":                         s.Dir,
		"group.initial.rebalance.delay.ms": "0",
	}
	for _, o := range s.overrides {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			return fmt.Errorf("brokertest: override %q is not key=value", o)
		}
		props[k] = v
	}
	bc, err := config.ParseBroker(props)
	if err != nil {
		return err
	}
	var logger *slog.Logger
	if os.Getenv("RUNNEL_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := broker.New(broker.Config{Broker: bc, Logger: logger, Registerer: s.Metrics})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	s.mu.Lock()
	s.b, s.cancel, s.done = b, cancel, done
	s.Addr = b.Addrs()[0].String()
	s.mu.Unlock()
	return nil
}

// Broker returns the running broker.
func (s *Server) Broker() *broker.Broker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

// Stop shuts the broker down cleanly (flush, clean-shutdown marker).
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	if err := <-done; err != nil {
		s.t.Errorf("brokertest: stop: %v", err)
	}
}

// Crash stops the broker as kill -9 would leave it for the next start:
// connections are cut and nothing is flushed, checkpointed or marked
// clean. What was written to the page cache stays, as it does when only
// the process dies.
func (s *Server) Crash() {
	s.mu.Lock()
	b := s.b
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if b == nil {
		return
	}
	b.Abandon()
}

// Restart starts the broker again on the same data directory and port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(s.Addr); err != nil {
		s.t.Fatal(err)
	}
}
