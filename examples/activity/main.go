// Command activity is Runnel's activity-tracking example: a generator of
// page views and clicks, a Streams application that counts views per page
// and minute, counts views per user session and enriches clicks with the
// users table, and FileStreamSink connectors that write the results to
// files. See README.md.
//
//	activity setup      [--bootstrap-server B] [--partitions N]
//	activity generate   [--bootstrap-server B] [--count N] [--interval D]
//	activity run        [--bootstrap-server B] [--state-dir D] [--guarantee G]
//	activity connectors [--connect-url U] [--dir D]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const usage = `usage: activity setup|generate|run|connectors [flags]

  setup       create the input and output topics
  generate    write users, page views and clicks
  run         run the Streams application until interrupted
  connectors  create FileStreamSink connectors for the output topics
              through the Connect REST API`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "activity:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("activity "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	bootstrap := fs.String("bootstrap-server", "127.0.0.1:9092", "the cluster's host:port")
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "setup":
		partitions := fs.Int("partitions", 3, "partitions of every topic (clicks and users must match to be joined)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return setup(ctx, *bootstrap, int32(*partitions), stdout)
	case "generate":
		count := fs.Int("count", 0, "page views to write (0: until interrupted)")
		interval := fs.Duration("interval", 10*time.Millisecond, "pause between page views")
		users := fs.Int("users", 50, "number of users")
		pages := fs.Int("pages", 10, "number of pages")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap))
		if err != nil {
			return err
		}
		defer cl.Close()
		g := &generator{users: *users, pages: *pages, disorder: 5 * time.Second, rng: rand.New(rand.NewPCG(rand.Uint64(), 0)), now: time.Now}
		return generate(ctx, cl, g, *count, *interval)
	case "run":
		stateDir := fs.String("state-dir", filepath.Join(os.TempDir(), "runnel-activity"), "state.dir")
		guarantee := fs.String("guarantee", streams.AtLeastOnce, "processing.guarantee: at_least_once or exactly_once_v2")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		topo, err := topology()
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, topo.Describe())
		app, err := streams.NewApp(topo, streams.Config{
			ApplicationID: "activity", BootstrapServers: []string{*bootstrap},
			StateDir: *stateDir, ProcessingGuarantee: *guarantee, Logger: logger,
		})
		if err != nil {
			return err
		}
		return app.Run(ctx)
	case "connectors":
		url := fs.String("connect-url", "http://127.0.0.1:8083", "the Connect REST API")
		dir := fs.String("dir", "activity-out", "directory the sink files are written to")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return err
		}
		return createSinks(ctx, http.DefaultClient, *url, abs, stdout)
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// setup creates every topic of the pipeline that does not exist.
func setup(ctx context.Context, bootstrap string, partitions int32, stdout io.Writer) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics := []string{topicPageViews, topicClicks, topicUsers, topicPageViewCounts, topicUserSessions, topicEnrichedClicks}
	resps, err := adm.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return err
	}
	for _, r := range resps.Sorted() {
		switch {
		case r.Err == nil:
			fmt.Fprintf(stdout, "Created topic %s.\n", r.Topic)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			fmt.Fprintf(stdout, "Topic %s already exists.\n", r.Topic)
		default:
			return fmt.Errorf("create %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// sinkConfigs returns the FileStreamSink connector configs for the output
// topics, writing into dir.
func sinkConfigs(dir string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, tp := range []string{topicPageViewCounts, topicUserSessions, topicEnrichedClicks} {
		out[tp+"-file-sink"] = map[string]string{
			"connector.class": "FileStreamSink",
			"tasks.max":       "1",
			"topics":          tp,
			"file":            filepath.Join(dir, tp+".txt"),
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		}
	}
	return out
}

// createSinks creates the sink connectors with POST /connectors. A 409
// answer means the connector exists, or the workers are rebalancing; the
// first is checked with GET /connectors/{name}, the second retried.
func createSinks(ctx context.Context, hc *http.Client, url, dir string, stdout io.Writer) error {
	url = strings.TrimSuffix(url, "/")
	cfgs := sinkConfigs(dir)
	for _, name := range []string{topicPageViewCounts + "-file-sink", topicUserSessions + "-file-sink", topicEnrichedClicks + "-file-sink"} {
		body, err := json.Marshal(map[string]any{"name": name, "config": cfgs[name]})
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			status, msg, err := call(ctx, hc, http.MethodPost, url+"/connectors", body)
			if err != nil {
				return fmt.Errorf("create connector %s: %w", name, err)
			}
			if status == http.StatusCreated || status == http.StatusOK {
				fmt.Fprintf(stdout, "Created connector %s writing %s\n", name, cfgs[name]["file"])
				break
			}
			if status != http.StatusConflict {
				return fmt.Errorf("create connector %s: %d: %s", name, status, msg)
			}
			if st, _, err := call(ctx, hc, http.MethodGet, url+"/connectors/"+name, nil); err == nil && st == http.StatusOK {
				fmt.Fprintf(stdout, "Connector %s already exists\n", name)
				break
			}
			if attempt == 30 {
				return fmt.Errorf("create connector %s: still conflicting: %s", name, msg)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// call sends one request and returns the status and the body.
func call(ctx context.Context, hc *http.Client, method, url string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bytes.TrimSpace(msg)), nil
}
