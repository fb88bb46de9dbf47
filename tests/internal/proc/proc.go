// Package proc runs the processes of Runnel's cross-process tests: the
// runnel binary built once from this checkout, `runnel server` processes
// on free ports of 127.0.0.1 with a private data directory, and any other
// command a test starts. Each process's output is captured, printed when
// the test fails, and the process is killed and reaped at cleanup.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// logTail is how many of a process's last lines a failed test prints.
const logTail = 60

// Build compiles cmd/runnel into a new temporary directory. It returns the
// binary's path and a function that removes the directory.
func Build() (bin string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "runnel-test-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "runnel")
	build := exec.Command("go", "build", "-o", bin, "github.com/runnel/runnel/cmd/runnel")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		remove()
		return "", nil, fmt.Errorf("building runnel: %w", err)
	}
	return bin, remove, nil
}

// Main is the body of a TestMain: it builds the runnel binary, sets *bin
// to its path, runs the tests and removes the binary. It returns the code
// for os.Exit (1 when the build fails).
func Main(m *testing.M, bin *string) int {
	path, remove, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	*bin = path
	return m.Run()
}

// FreePort returns a TCP port of 127.0.0.1 that nothing listened on a
// moment ago, for a process that must be restarted on the same address.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Log collects a process's output; the test may read it while the
// process writes.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tail returns the last n lines written so far.
func (l *Log) Tail(n int) string {
	parts := strings.Split(l.String(), "\n")
	if len(parts) > n {
		parts = parts[len(parts)-n:]
	}
	return strings.Join(parts, "\n")
}

// Process is a started command. Its standard output and error go to Log.
type Process struct {
	Cmd  *exec.Cmd
	Log  *Log
	name string
	done chan struct{} // closed once Cmd.Wait has returned
	err  error         // what Cmd.Wait returned, once done is closed
}

// Start starts cmd, named name and its PID in what a failed test prints. At cleanup the
// process is killed with SIGKILL if it still runs, and reaped; if the test
// failed, the last lines of its output are logged.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, Log: &Log{}, name: name, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p.name = fmt.Sprintf("%s (pid %d)", name, cmd.Process.Pid)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", p.name, p.Log.Tail(logTail))
		}
	})
	return p
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill9 stops the process with SIGKILL, sent to its own PID: no shutdown
// code runs. It returns once the process is reaped.
func (p *Process) Kill9(t testing.TB) {
	t.Helper()
	if err := p.kill(); err != nil {
		t.Fatalf("killing %s: %v", p.name, err)
	}
}

// kill sends SIGKILL unless the process has ended, and waits for it.
func (p *Process) kill() error {
	if p.Exited() {
		return nil
	}
	err := p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	return err
}

// Stop sends SIGTERM to the process and waits up to limit for it to exit;
// then it is killed with SIGKILL and the test fails. Stop returns how the
// process exited (nil for status 0).
func (p *Process) Stop(t testing.TB, limit time.Duration) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("stopping %s: %v", p.name, err)
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.err
	case <-timer.C:
		p.kill()
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, limit)
		return nil
	}
}

// Server is a `runnel server` process.
type Server struct {
	*Process
	// Addr is host:port of its Kafka listener.
	Addr string
}

// ServerSpec says how to run a `runnel server`.
type ServerSpec struct {
	// Bin is the runnel binary (see Main).
	Bin string
	// DataDir is the server's log.dirs; empty means a new t.TempDir().
	// Pass the same one to restart a server on its data.
	DataDir string
	// Port is the Kafka listener's port on 127.0.0.1; 0 means FreePort.
	Port int
	// Overrides are more key=value settings, each passed with --override
	// after listeners and log.dirs.
	Overrides []string
	// Args are more arguments after the overrides, e.g. "--log-level",
	// "warn".
	Args []string
}

// readyLimit is how long StartServer waits for the Kafka listener.
const readyLimit = 60 * time.Second

// StartServer runs `runnel server` as s says and waits until its Kafka
// listener answers a Metadata request. The test fails if it does not
// within a minute, or if the process exits first.
func StartServer(t testing.TB, s ServerSpec) *Server {
	t.Helper()
	if s.DataDir == "" {
		s.DataDir = t.TempDir()
	}
	if s.Port == 0 {
		s.Port = FreePort(t)
	}
	addr := "127.0.0.1:" + strconv.Itoa(s.Port)
	args := []string{"server",
		"--override", "listeners=PLAINTEXT://" + addr,
		"--override", "log.dirs=" + s.DataDir,
	}
	for _, o := range s.Overrides {
		args = append(args, "--override", o)
	}
	args = append(args, s.Args...)
	srv := &Server{Process: Start(t, "server "+addr, exec.Command(s.Bin, args...)), Addr: addr}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(readyLimit)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := adm.BrokerMetadata(ctx)
		cancel()
		if err == nil {
			return srv
		}
		if srv.Exited() {
			t.Fatalf("server %s exited before it answered: %v", addr, srv.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s did not answer within %v: %v", addr, readyLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
