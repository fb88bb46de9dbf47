package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/runnel/runnel/broker"
	"github.com/runnel/runnel/broker/config"
)

const serverSynopsis = `runnel server [server.properties] [--config FILE] [--override key=value]...

Runs a Runnel node. With no arguments it runs the embedded default: a
single node with its data in ./runnel-data, Kafka on 127.0.0.1:9092, and
the Connect REST API and Prometheus metrics on http://127.0.0.1:8083
(connect.listeners; connect.* keys configure the embedded Connect worker;
connect.enabled=false turns both off).
Configuration uses Apache Kafka's server.properties names; --override
(repeatable) sets one key and wins over the file.`

// runServer runs a broker node until ctx is cancelled (SIGINT/SIGTERM),
// then shuts down cleanly.
func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("server")
	configPath := fs.String("config", "", "a server.properties `file`")
	var overrides stringList
	fs.Var(&overrides, "override", "set one config `key=value` (repeatable)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		*configPath = args[0]
		args = args[1:]
	}
	if err := parseFlags(fs, args, serverSynopsis, stdout); err != nil {
		return err
	}
	// level is also the root logger's level of the embedded Connect
	// worker's /admin/loggers.
	level := new(slog.LevelVar)
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	props, err := config.Load(*configPath, overrides)
	if err != nil {
		return err
	}
	bc, err := config.ParseBroker(props)
	if err != nil {
		return err
	}
	httpAddr, err := adminListener(bc.Connect)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	b, err := broker.New(broker.Config{Broker: bc, Logger: logger, Registerer: reg})
	if err != nil {
		return err
	}
	var admin *adminServer
	// On shutdown the Connect worker stops first (its tasks commit and it
	// leaves its group while the broker still answers), then the HTTP
	// listener, then the broker.
	runCtx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBroker()
	var shutdownOnce sync.Once
	shutdown := func() {
		shutdownOnce.Do(func() {
			if admin != nil {
				sctx, cancel := context.WithTimeout(context.Background(), 35*time.Second)
				defer cancel()
				if err := admin.Shutdown(sctx); err != nil {
					logger.Warn("stopping the HTTP listener", "err", err)
				}
			}
			stopBroker()
		})
	}
	if httpAddr != "" {
		if admin, err = startAdminServer(httpAddr, reg, logger); err != nil {
			b.Close()
			return err
		}
		admin.startConnect(runCtx, bc.Connect, b.Addrs(), level, logger)
	}
	defer shutdown()
	context.AfterFunc(ctx, shutdown)
	var addrs []string
	for i, a := range b.Addrs() {
		addrs = append(addrs, fmt.Sprintf("%s://%s", bc.Listeners[i].Name, a))
	}
	metricsURL := "off"
	if admin != nil {
		metricsURL = "http://" + admin.Addr().String() + "/metrics"
	}
	logger.Info("runnel started", "node_id", bc.NodeID, "cluster_id", b.ClusterID(),
		"listeners", strings.Join(addrs, ","), "log_dirs", strings.Join(bc.LogDirs, ","), "metrics", metricsURL)
	err = b.Run(runCtx)
	logger.Info("runnel stopped", "err", err)
	return err
}
