package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/runnel/runnel/connect"
)

// The node's HTTP listener: the address Kafka Connect's REST API listens
// on in the embedded default (connect.listeners, http://127.0.0.1:8083),
// serving /metrics in the Prometheus text format and the REST API of the
// node's embedded Connect worker. connect.enabled=false turns both off.
//
// The embedded worker runs in distributed mode with the connect.* keys of
// server.properties (prefix removed) over these defaults, so that a
// second node or a "runnel connect distributed" process with the same
// group.id shares its connectors.

const defaultAdminListener = "http://127.0.0.1:8083"

// embeddedConnectDefaults are the embedded worker's settings where
// server.properties has no connect.* key: Kafka's
// connect-distributed.properties, with replication factors left to the
// broker's default.replication.factor so that a single node works.
var embeddedConnectDefaults = map[string]string{
	"group.id":                          "connect-cluster",
	"config.storage.topic":              "connect-configs",
	"offset.storage.topic":              "connect-offsets",
	"status.storage.topic":              "connect-status",
	"config.storage.replication.factor": "-1",
	"offset.storage.replication.factor": "-1",
	"status.storage.replication.factor": "-1",
	"key.converter":                     "org.apache.kafka.connect.json.JsonConverter",
	"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
	"offset.flush.interval.ms":          "10000",
	"listeners":                         defaultAdminListener,
}

// embeddedWorkerConfig returns the embedded worker's configuration from
// the node's connect.* settings; bootstrap is the node's own listener,
// used unless connect.bootstrap.servers is set. An error names the
// connect.-prefixed key at fault.
func embeddedWorkerConfig(props map[string]string, bootstrap string) (connect.WorkerConfig, error) {
	all := maps.Clone(embeddedConnectDefaults)
	all["bootstrap.servers"] = bootstrap
	for k, v := range props {
		if k != "enabled" {
			all[k] = v
		}
	}
	wc, err := connect.ParseWorkerConfig(all, connect.ModeDistributed)
	if err != nil {
		return connect.WorkerConfig{}, fmt.Errorf("config: connect.*: %w", err)
	}
	return wc, nil
}

// adminListener returns the host:port to serve HTTP on from the node's
// connect.* settings, or "" when turned off. It also checks the embedded
// worker's settings, so that a bad one stops the node from starting.
func adminListener(props map[string]string) (string, error) {
	if v, ok := props["enabled"]; ok {
		enabled, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("config: invalid value %q for connect.enabled: expected true or false", v)
		}
		if !enabled {
			return "", nil
		}
	}
	raw := defaultAdminListener
	if v, ok := props["listeners"]; ok {
		raw = v
	}
	first, _, _ := strings.Cut(raw, ",")
	u, err := url.Parse(strings.TrimSpace(first))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("config: invalid value %q for connect.listeners: expected http://HOST:PORT", raw)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return "", fmt.Errorf("config: invalid value %q for connect.listeners: %v", raw, err)
	}
	if _, err := embeddedWorkerConfig(props, "127.0.0.1:9092"); err != nil {
		return "", err
	}
	return u.Host, nil
}

// adminServer serves /metrics and, once startConnect has run, the
// Connect REST API, until Shutdown.
type adminServer struct {
	srv     *http.Server
	ln      net.Listener
	done    chan error
	connect atomic.Pointer[distributedWorker]
	// stopConnect cancels the stop on ctx's end (false if it has run).
	stopConnect func() bool
}

func startAdminServer(addr string, reg *prometheus.Registry, logger *slog.Logger) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect.listeners: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}))
	a := &adminServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan error, 1),
	}
	mux.HandleFunc("/", a.serveConnect)
	go func() { a.done <- a.srv.Serve(ln) }()
	return a, nil
}

// Addr is the bound address.
func (a *adminServer) Addr() net.Addr { return a.ln.Addr() }

// serveConnect hands requests other than /metrics to the Connect REST
// API, answering 503 as Kafka's worker does while it starts.
func (a *adminServer) serveConnect(w http.ResponseWriter, r *http.Request) {
	if cw := a.connect.Load(); cw != nil {
		cw.Handler().ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, `{"error_code":503,"message":"The Connect worker is not running on this node"}`)
}

// startConnect starts the node's embedded Connect worker on this listener,
// with the node's first listener in brokers as its bootstrap server. The
// worker reaches the broker in the background, so the node's start does
// not wait for it; failures are logged. When ctx ends (the node shuts
// down) the worker stops its connectors and leaves its group at once,
// while the broker still answers. level is the node's log level, which
// the worker's /admin/loggers reports and sets as the root logger's.
func (a *adminServer) startConnect(ctx context.Context, props map[string]string, brokers []net.Addr, level *slog.LevelVar, logger *slog.Logger) {
	bootstrap := "127.0.0.1:9092"
	if len(brokers) > 0 {
		host, port, err := net.SplitHostPort(brokers[0].String())
		if err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			bootstrap = net.JoinHostPort(host, port)
		}
	}
	wc, err := embeddedWorkerConfig(props, bootstrap)
	if err != nil {
		logger.Error("connect worker not started", "err", err)
		return
	}
	cw, err := startDistributedWorker(wc, a.Addr(), level, logger)
	if err != nil {
		logger.Error("connect worker not started", "err", err)
		return
	}
	a.connect.Store(cw)
	a.stopConnect = context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cw.Stop(sctx)
	})
	logger.Info("connect worker started", "group", wc.GroupID, "rest", cw.URL(), "bootstrap", strings.Join(wc.BootstrapServers, ","))
}

// Shutdown stops the Connect worker, then serving, and waits for the
// serving goroutine.
func (a *adminServer) Shutdown(ctx context.Context) error {
	if cw := a.connect.Load(); cw != nil {
		a.stopConnect()
		cw.Stop(ctx)
	}
	err := a.srv.Shutdown(ctx)
	if serr := <-a.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
