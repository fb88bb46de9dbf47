package streams

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runnelBin is the runnel binary built once by TestMain.
var runnelBin string

func TestMain(m *testing.M) {
	if os.Getenv("RUNNEL_STREAMS_INSTANCE") != "" {
		os.Exit(runInstance())
	}
	dir, err := os.MkdirTemp("", "runnel-streams-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runnelBin = filepath.Join(dir, "runnel")
	build := exec.Command("go", "build", "-o", runnelBin, "github.com/runnel/runnel/cmd/runnel")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building runnel:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
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

// server is one `runnel server` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  lockedBuffer
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs runnel server on a free port and waits until it
// answers; it is killed by PID at cleanup.
func startServer(t testing.TB) *server {
	t.Helper()
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	s.cmd = exec.Command(runnelBin, "server",
		"--override", "listeners=PLAINTEXT://"+s.addr,
		"--override", "log.dirs="+t.TempDir(),
		"--override", "group.initial.rebalance.delay.ms=0",
		"--override", "connect.enabled=false",
		"--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killPID(s.cmd) })
	cl := newClient(t, s.addr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := kadm.NewClient(cl).BrokerMetadata(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer within 30s: %v\n%s", err, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killPID sends SIGKILL to the process and reaps it.
func killPID(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
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

// instance is an application instance subprocess.
type instance struct {
	cmd *exec.Cmd
	log lockedBuffer
}

// startInstance runs the test binary as an application instance.
func startInstance(t testing.TB, addr, appID, guarantee, stateDir string) *instance {
	t.Helper()
	in := &instance{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	in.cmd.Env = append(os.Environ(),
		"RUNNEL_STREAMS_INSTANCE=1", "BOOTSTRAP="+addr, "APP_ID="+appID, "GUARANTEE="+guarantee, "STATE_DIR="+stateDir)
	in.cmd.Stdout, in.cmd.Stderr = &in.log, &in.log
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killPID(in.cmd) })
	return in
}
