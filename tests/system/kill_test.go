package system

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runnelBin is the runnel binary built once for this package's tests.
var runnelBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runnel-system-")
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

// server is one `runnel server` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  bytes.Buffer
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs runnel server on dataDir and port and waits until it
// answers Metadata. It is killed at test cleanup if still running.
func startServer(t *testing.T, dataDir string, port int) *server {
	t.Helper()
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command(runnelBin, "server",
		"--override", "listeners=PLAINTEXT://"+s.addr,
		"--override", "log.dirs="+dataDir,
		"--override", "log.segment.bytes=1048576",
		"--override", "connect.listeners=http://127.0.0.1:0")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
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

// kill9 stops the process with SIGKILL: no shutdown code runs.
func (s *server) kill9(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
}

// Every record acknowledged (acks=1) before a kill -9 is read back, once and
// in order, after the server restarts on the same data, and appends
// continue at the right offsets.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	dataDir := t.TempDir()
	port := freePort(t)
	srv := startServer(t, dataDir, port)

	const topic, partitions = "kill9", 4
	adm, err := kgo.NewClient(kgo.SeedBrokers(srv.addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(adm).CreateTopic(t.Context(), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	adm.Close()

	acked := map[int32][]string{}
	produce := func(addr string, from, n int) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.LeaderAck()),
			kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
		}
		res := cl.ProduceSync(t.Context(), recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			acked[r.Record.Partition] = append(acked[r.Record.Partition], string(r.Record.Value))
		}
	}
	produce(srv.addr, 0, 50_000)
	srv.kill9(t)

	srv = startServer(t, dataDir, port)
	produce(srv.addr, 50_000, 5_000)
	srv.kill9(t)

	srv = startServer(t, dataDir, port)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	got := map[int32][]string{}
	next := map[int32]int64{}
	for n := 0; n < 55_000; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 55000 acknowledged records", n)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			n++
		})
	}
	for p, want := range acked {
		if len(got[p]) != len(want) {
			t.Fatalf("partition %d: read %d records, %d were acknowledged", p, len(got[p]), len(want))
		}
		for i := range want {
			if got[p][i] != want[i] {
				t.Fatalf("partition %d offset %d: %q, want %q", p, i, got[p][i], want[i])
			}
		}
	}
}
