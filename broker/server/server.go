// Package server is the broker's Kafka protocol edge: listeners,
// connections, request framing, decoding and encoding with kmsg, one
// handler file per API key (named after the key, as 00_produce.go), and the
// one place where domain errors become Kafka error codes (errors.go).
//
// Requests on one connection are handled one at a time and answered in
// order, as the Java broker does; a client pipelines by sending ahead, and
// its requests are read while earlier ones are handled. Produce with acks=0
// gets no response. Fetch responses whose records come from a segment file
// are written with sendfile on plaintext TCP connections.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/txn"
)

// Listener is one address to accept Kafka connections on.
type Listener struct {
	Name string // listener name, e.g. PLAINTEXT
	Addr string // host:port; port 0 picks a free one
}

// Config configures a Server.
type Config struct {
	NodeID    int32 // node.id
	Listeners []Listener
	// Broker is the node's static configuration.
	Broker *config.Broker
	// CurrentBroker returns the configuration in effect now: Broker with
	// the dynamic broker configs of the metadata laid over it. It is
	// called concurrently by request handlers. Nil means Broker.
	CurrentBroker func() *config.Broker
	Controller    *controller.Controller
	Replicas      *replica.Manager
	// Groups is the group coordinator; nil answers every group API with
	// COORDINATOR_NOT_AVAILABLE.
	Groups *group.Coordinator
	// ProducerIDs hands out idempotent producers' IDs (InitProducerId);
	// nil answers COORDINATOR_NOT_AVAILABLE.
	ProducerIDs *txn.ProducerIDs
	// Transactions is the transaction coordinator; nil answers every
	// transactional request with COORDINATOR_NOT_AVAILABLE.
	Transactions *txn.Coordinator
	// Markers writes transaction markers to this node's partitions
	// (WriteTxnMarkers); nil answers COORDINATOR_NOT_AVAILABLE.
	Markers txn.MarkerWriter
	// MaxRequestBytes is socket.request.max.bytes; larger frames close the
	// connection.
	MaxRequestBytes int32
	// FetchSessionCacheSlots is max.incremental.fetch.session.cache.slots:
	// the incremental fetch sessions (KIP-227) kept at once; 0 turns
	// sessions off, so every Fetch is answered in full.
	FetchSessionCacheSlots int32
	Logger                 *slog.Logger
}

// Server accepts connections and serves the Kafka protocol.
type Server struct {
	cfg Config
	log *slog.Logger

	sessions *fetchSessions

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup
	// baseCtx is cancelled to abort in-flight waits (long polls, acks=all)
	// when shutdown's deadline passes.
	baseCtx context.Context
	cancel  context.CancelFunc
	// fetchCtx ends every fetch long poll when shutdown begins.
	fetchCtx       context.Context
	stopFetchWaits context.CancelFunc
}

// New validates cfg and returns a server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if cfg.Controller == nil || cfg.Replicas == nil || cfg.Broker == nil {
		return nil, errors.New("server: Controller, Replicas and Broker are required")
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{},
		sessions: newFetchSessions(int(cfg.FetchSessionCacheSlots))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	s.fetchCtx, s.stopFetchWaits = context.WithCancel(s.baseCtx)
	return s, nil
}

// Listen opens every configured listener and returns their bound
// addresses in order. Serving starts with Serve.
func (s *Server) Listen() ([]net.Addr, error) {
	var addrs []net.Addr
	for _, l := range s.cfg.Listeners {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for _, open := range s.listeners {
				open.Close()
			}
			s.listeners = nil
			return nil, fmt.Errorf("server: listener %s: %w", l.Name, err)
		}
		s.listeners = append(s.listeners, ln)
		addrs = append(addrs, ln.Addr())
	}
	return addrs, nil
}

// Serve accepts connections on the opened listeners until Shutdown.
func (s *Server) Serve() {
	var wg sync.WaitGroup
	for _, ln := range s.listeners {
		wg.Go(func() { s.accept(ln) })
	}
	wg.Wait()
}

func (s *Server) accept(ln net.Listener) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errors.ErrUnsupported) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.log.Error("accept failed", "err", err)
			return
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// broker returns the broker configuration in effect.
func (s *Server) broker() *config.Broker {
	if s.cfg.CurrentBroker != nil {
		if bc := s.cfg.CurrentBroker(); bc != nil {
			return bc
		}
	}
	return s.cfg.Broker
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops accepting, lets every connection finish the request it is
// handling and closes it. Waiting fetches answer at once with the data
// they have, as Kafka's delayed fetches complete at shutdown; produce
// waits for replication still pending when ctx ends are aborted.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.closeRead()
	}
	s.mu.Unlock()
	s.stopFetchWaits()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return ctx.Err()
	}
}
