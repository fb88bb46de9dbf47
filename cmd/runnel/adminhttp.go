package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The node's HTTP listener: the address Kafka Connect's REST API listens
// on in the embedded default (connect.listeners, http://127.0.0.1:8083),
// serving /metrics in the Prometheus text format. connect.enabled=false
// turns it off.

const defaultAdminListener = "http://127.0.0.1:8083"

// adminListener returns the host:port to serve HTTP on from the node's
// connect.* settings, or "" when turned off.
func adminListener(connect map[string]string) (string, error) {
	if v, ok := connect["enabled"]; ok {
		enabled, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("config: invalid value %q for connect.enabled: expected true or false", v)
		}
		if !enabled {
			return "", nil
		}
	}
	raw := defaultAdminListener
	if v, ok := connect["listeners"]; ok {
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
	return u.Host, nil
}

// adminServer serves /metrics until Shutdown.
type adminServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
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
	go func() { a.done <- a.srv.Serve(ln) }()
	return a, nil
}

// Addr is the bound address.
func (a *adminServer) Addr() net.Addr { return a.ln.Addr() }

// Shutdown stops serving and waits for the serving goroutine.
func (a *adminServer) Shutdown(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	if serr := <-a.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
