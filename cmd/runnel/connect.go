package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/connect"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/converter"
	"github.com/runnel/runnel/connect/rest"
	"github.com/runnel/runnel/connect/transforms"
	"github.com/runnel/runnel/connectors/file"
)

const connectSynopsis = `runnel connect standalone worker.properties [connector.properties|connector.json]...
       runnel connect distributed worker.properties

Runs a Kafka Connect worker (connect-standalone.sh, connect-distributed.sh).
The worker file uses Kafka Connect's property names (bootstrap.servers,
key.converter, value.converter, offset.storage.file.filename, listeners,
…). In standalone mode each further file configures one connector, as a
.properties file or as JSON ({"name":..,"config":{..}} or a plain object);
source offsets are kept in offset.storage.file.filename and the REST API
listens on listeners (http://127.0.0.1:8083 by default).`

// connectModes is the table of connect subcommands.
func connectModes() map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
		"standalone":  runConnectStandalone,
		"distributed": runConnectDistributed, // connect_distributed.go
	}
}

// runConnect dispatches runnel connect standalone|distributed.
func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing mode: standalone or distributed")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "Usage: %s\n", connectSynopsis)
		return errHelp
	}
	mode, ok := connectModes()[args[0]]
	if !ok {
		return usagef("unknown mode %q: want standalone or distributed", args[0])
	}
	return mode(ctx, args[1:], stdout, stderr)
}

// connectRegistry is the set of plugins this binary carries.
func connectRegistry() (*connect.Registry, error) {
	r := connect.NewRegistry()
	err := errors.Join(
		r.RegisterConverter("org.apache.kafka.connect.storage.StringConverter", func() connector.Converter { return converter.NewString() }),
		r.RegisterConverter("org.apache.kafka.connect.converters.ByteArrayConverter", func() connector.Converter { return converter.NewByteArray() }),
		r.RegisterConverter("org.apache.kafka.connect.json.JsonConverter", func() connector.Converter { return converter.NewJSON() }),
	)
	for _, t := range transforms.Transformations() {
		err = errors.Join(err, r.RegisterTransformation(t.Class, t.New, t.Aliases...))
	}
	for _, p := range transforms.Predicates() {
		err = errors.Join(err, r.RegisterPredicate(p.Class, p.New, p.Aliases...))
	}
	return r, errors.Join(err, file.Register(r))
}

// connectFlags parses the flags shared by both modes and returns the
// positional arguments and a logger.
func connectFlags(mode string, args []string, stdout, stderr io.Writer) ([]string, *slog.Logger, *slog.LevelVar, error) {
	fs := newFlagSet("connect " + mode)
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "Usage: %s\n\n", connectSynopsis)
				printDefaults(stdout, fs)
				return nil, nil, nil, errHelp
			}
			return nil, nil, nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	var level slog.LevelVar
	var l slog.Level
	if err := l.UnmarshalText([]byte(*logLevel)); err != nil {
		return nil, nil, nil, usagef("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	level.Set(l)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &level}))
	return positional, logger, &level, nil
}

// runConnectStandalone runs a standalone worker until ctx ends.
func runConnectStandalone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	files, logger, level, err := connectFlags("standalone", args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("missing worker.properties")
	}
	props, err := config.Load(files[0], nil)
	if err != nil {
		return err
	}
	wc, err := connect.ParseWorkerConfig(props, connect.ModeStandalone)
	if err != nil {
		return err
	}
	var connectors []map[string]string
	for _, f := range files[1:] {
		c, err := loadConnectorConfig(f)
		if err != nil {
			return err
		}
		connectors = append(connectors, c)
	}
	reg, err := connectRegistry()
	if err != nil {
		return err
	}
	offsets, err := connect.OpenFileOffsetStore(wc.OffsetStorageFilename)
	if err != nil {
		return err
	}
	ln, err := listenREST(wc)
	if err != nil {
		return err
	}
	workerID := workerIDFor(wc, ln.Addr().String())
	herder, err := connect.NewStandalone(connect.WorkerOptions{Config: wc, ID: workerID, Registry: reg, Offsets: offsets, Logger: logger}, level)
	if err != nil {
		ln.Close()
		return err
	}
	defer herder.Close()
	api := rest.New(rest.Config{Herder: herder, TopicTrackingEnable: wc.TopicTrackingEnable,
		TopicTrackingAllowReset: wc.TopicTrackingReset, Commit: vcsRevision(), Logger: logger})
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
	}()
	logger.Info("Kafka Connect REST API listening", "url", "http://"+ln.Addr().String()+"/", "worker_id", workerID)

	// Connect to the cluster, retrying while it is not up yet.
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := herder.Start(sctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		logger.Warn("cannot reach the Kafka cluster yet; retrying", "bootstrap_servers", strings.Join(wc.BootstrapServers, ","), "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	for _, c := range connectors {
		name := strings.TrimSpace(c["name"])
		if _, _, err := herder.PutConnectorConfig(ctx, name, c, "", false); err != nil {
			return fmt.Errorf("creating connector %s: %w", name, err)
		}
		logger.Info("connector created", "connector", name)
	}
	logger.Info("Kafka Connect started", "mode", "standalone", "offsets", wc.OffsetStorageFilename)
	select {
	case <-ctx.Done():
	case err := <-served:
		served <- err
		return fmt.Errorf("REST server: %w", err)
	}
	logger.Info("Kafka Connect stopping")
	return nil
}

// loadConnectorConfig reads one connector's configuration: a .properties
// file, or JSON either {"name":..,"config":{..}} or a flat object.
func loadConnectorConfig(path string) (map[string]string, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out := map[string]string{}
		src := raw
		if cfg, ok := raw["config"].(map[string]any); ok {
			src = cfg
			if n, ok := raw["name"].(string); ok {
				out["name"] = n
			}
		}
		for k, v := range src {
			switch x := v.(type) {
			case string:
				out[k] = x
			case nil:
				return nil, fmt.Errorf("%s: null value for %s", path, k)
			default:
				b, _ := json.Marshal(x)
				out[k] = string(b)
			}
		}
		if out["name"] == "" {
			return nil, fmt.Errorf("%s: connector configuration has no name", path)
		}
		return out, nil
	}
	props, err := config.Load(path, nil)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(props["name"]) == "" {
		return nil, fmt.Errorf("%s: connector configuration has no name", path)
	}
	return props, nil
}

// listenREST listens on the first of the worker's listeners.
func listenREST(wc connect.WorkerConfig) (net.Listener, error) {
	u, err := url.Parse(wc.Listeners[0])
	if err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	host := u.Host
	if strings.HasPrefix(host, ":") {
		host = "0.0.0.0" + host
	}
	ln, err := net.Listen("tcp", host)
	if err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	return ln, nil
}

// workerIDFor is the worker ID Kafka reports: the advertised host:port.
func workerIDFor(wc connect.WorkerConfig, bound string) string {
	u, err := url.Parse(wc.AdvertisedURL(bound))
	if err != nil {
		return bound
	}
	return u.Host
}

// vcsRevision is the commit the binary was built from, for GET /.
func vcsRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
