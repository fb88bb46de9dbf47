package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/distributed"
	"github.com/runnel/runnel/connect/rest"
)

// runConnectDistributed is "runnel connect distributed
// connect-distributed.properties": a worker in distributed mode
// (connect-distributed.sh). Workers with the same group.id share
// connectors and tasks and keep their state in config.storage.topic,
// offset.storage.topic and status.storage.topic; the REST API listens on
// the first of listeners.
func runConnectDistributed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	files, logger, level, err := connectFlags("distributed", args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("connect distributed takes one worker.properties file")
	}
	props, err := config.Load(files[0], nil)
	if err != nil {
		return err
	}
	wc, err := connect.ParseWorkerConfig(props, connect.ModeDistributed)
	if err != nil {
		return err
	}
	ln, err := listenREST(wc)
	if err != nil {
		return err
	}
	w, err := startDistributedWorker(wc, ln.Addr(), level, logger)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("Kafka Connect started", "mode", "distributed", "group", wc.GroupID, "url", w.URL(),
		"bootstrap_servers", strings.Join(wc.BootstrapServers, ","))
	select {
	case <-ctx.Done():
	case <-w.done:
	}
	logger.Info("Kafka Connect stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.Stop(sctx)
	srv.Shutdown(sctx)
	runErr := w.err
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, err)
	}
	return runErr
}

// distributedWorker is a Connect worker in distributed mode: the herder,
// the worker running its share of connectors and tasks, and the REST API.
type distributedWorker struct {
	herder *distributed.Herder
	worker *connect.Worker
	api    http.Handler
	url    string
	cancel context.CancelFunc
	done   chan struct{} // closed when the herder has stopped
	err    error         // why, set before done closes

	closeOnce sync.Once
}

// startDistributedWorker starts a worker whose REST API is reached at
// addr (the bound listener); the herder connects to the cluster in the
// background and retries until it answers.
func startDistributedWorker(wc connect.WorkerConfig, addr net.Addr, level *slog.LevelVar, logger *slog.Logger) (*distributedWorker, error) {
	restURL := wc.AdvertisedURL(addr.String())
	workerID := workerIDFor(wc, addr.String())
	reg, err := connectRegistry()
	if err != nil {
		return nil, err
	}
	loggers := connect.NewLoggers(level)
	// Every component logs through the levels /admin/loggers sets.
	logger = slog.New(loggers.Handler(logger.Handler()))
	clientOpts := []kgo.Opt{kgo.SeedBrokers(wc.BootstrapServers...)}
	h, err := distributed.New(distributed.Config{
		Worker: wc, URL: restURL, WorkerID: workerID, ClientOpts: clientOpts,
		Registry: reg, Loggers: loggers, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	worker, err := connect.NewWorker(connect.WorkerOptions{
		Config: wc, ID: workerID, Registry: reg, Offsets: h.OffsetStore(), Status: h,
		Reconfigure: h.RequestReconfiguration, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	api := rest.New(rest.Config{
		Herder:                  h,
		TopicTrackingEnable:     wc.TopicTrackingEnable,
		TopicTrackingAllowReset: wc.TopicTrackingReset,
		Commit:                  vcsRevision(),
		Logger:                  logger.With(connect.LoggerAttr, connect.LoggerRestServer),
	})
	ctx, cancel := context.WithCancel(context.Background())
	w := &distributedWorker{herder: h, worker: worker, api: api.Handler(), url: restURL, cancel: cancel, done: make(chan struct{})}
	go func() {
		w.err = h.Run(ctx, worker)
		close(w.done)
	}()
	return w, nil
}

// Handler serves the Connect REST API.
func (w *distributedWorker) Handler() http.Handler { return w.api }

// URL is the worker's advertised REST URL.
func (w *distributedWorker) URL() string { return w.url }

// Stop stops the herder (its connectors and tasks, then the group
// membership) and the worker. It may be called more than once and from
// several goroutines; each call returns once the worker has stopped or
// ctx ends.
func (w *distributedWorker) Stop(ctx context.Context) {
	w.cancel()
	select {
	case <-w.done:
	case <-ctx.Done():
		return
	}
	w.closeOnce.Do(w.worker.Close)
}
