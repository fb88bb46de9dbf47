package streams

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/tests/internal/proc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runnelBin is the runnel binary built once by TestMain.
var runnelBin string

func TestMain(m *testing.M) {
	if os.Getenv("RUNNEL_STREAMS_INSTANCE") != "" {
		os.Exit(runInstance())
	}
	os.Exit(proc.Main(m, &runnelBin))
}

// windowedCountTopology counts "events" per key and 1-minute tumbling
// window (grace 1h) into "window-counts", keyed by Kafka's time-windowed
// key format.
func windowedCountTopology() (*streams.Topology, error) {
	b := streams.NewBuilder()
	ev := streams.StreamOf(b, "events", serde.String(), serde.String())
	w := streams.WindowedBy(streams.GroupByKey(ev), streams.Tumbling(time.Minute).Grace(time.Hour))
	streams.Count(w, streams.Materialized("window-counts-store")).ToStream().
		To("window-counts", streams.TimeWindowedSerde(serde.String(), time.Minute), serde.Int64())
	return b.Build()
}

// runInstance runs one application instance from its environment until
// SIGTERM (or SIGKILL).
func runInstance() int {
	topo, err := windowedCountTopology()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := streams.Config{
		ApplicationID:       os.Getenv("APP_ID"),
		BootstrapServers:    []string{os.Getenv("BOOTSTRAP")},
		ProcessingGuarantee: os.Getenv("GUARANTEE"),
		StateDir:            os.Getenv("STATE_DIR"),
		CommitInterval:      200 * time.Millisecond,
		NumStreamThreads:    2,
		// Every update is forwarded (no record cache), so the checker can
		// see each count of each window exactly once.
		CacheMaxBytes: -1,
		ClientOptions: []kgo.Opt{kgo.SessionTimeout(6 * time.Second), kgo.HeartbeatInterval(time.Second)},
		Logger:        newLogger(),
	}
	app, err := streams.NewApp(topo, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		return 1
	}
	return 0
}

// newLogger logs to standard error, which the test captures.
func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startServer runs runnel server on a free port and waits until it
// answers; it is killed by PID at cleanup.
func startServer(t testing.TB) *proc.Server {
	t.Helper()
	return proc.StartServer(t, proc.ServerSpec{Bin: runnelBin,
		Overrides: []string{"group.initial.rebalance.delay.ms=0", "connect.enabled=false"},
		Args:      []string{"--log-level", "warn"}})
}

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopics(t testing.TB, addr string, partitions int32, names ...string) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	resps, err := adm.CreateTopics(context.Background(), partitions, 1, nil, names...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// endOffsetSum is the number of offsets in topic (records and markers).
func endOffsetSum(t testing.TB, adm *kadm.Client, topic string) int64 {
	t.Helper()
	listed, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	listed.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// startInstance runs the test binary as an application instance; it is
// killed by PID at cleanup.
func startInstance(t testing.TB, addr, appID, guarantee, stateDir string) *proc.Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"RUNNEL_STREAMS_INSTANCE=1", "BOOTSTRAP="+addr, "APP_ID="+appID, "GUARANTEE="+guarantee, "STATE_DIR="+stateDir)
	return proc.Start(t, "instance "+appID, cmd)
}
