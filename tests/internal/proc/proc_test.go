package proc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain turns the test binary into a child process when PROC_CHILD is
// set: "term" prints a line and exits 7 on SIGTERM; "deaf" prints a line
// and ignores SIGTERM.
func TestMain(m *testing.M) {
	switch os.Getenv("PROC_CHILD") {
	case "term":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("child ready")
		<-c
		fmt.Fprintln(os.Stderr, "child got SIGTERM")
		os.Exit(7)
	case "deaf":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("child ready")
		select {}
	}
	os.Exit(m.Run())
}

// child starts the test binary as a child of the given kind and waits
// until it has printed its first line.
func child(t *testing.T, kind string) *Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROC_CHILD="+kind)
	p := Start(t, kind, cmd)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.Log.String(), "child ready") {
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("child did not start: %q", p.Log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

func TestStopSendsSIGTERM(t *testing.T) {
	p := child(t, "term")
	err := p.Stop(t, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("Stop = %v, want exit status 7", err)
	}
	if got := p.Log.String(); got != "child ready\nchild got SIGTERM\n" {
		t.Errorf("log %q", got)
	}
	if !p.Exited() {
		t.Error("not Exited after Stop")
	}
}

func TestKill9(t *testing.T) {
	p := child(t, "deaf")
	p.Kill9(t)
	if !p.Exited() {
		t.Fatal("not Exited after Kill9")
	}
	if ws, ok := p.Cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("process state %v, want killed by SIGKILL", p.Cmd.ProcessState)
	}
	p.Kill9(t) // a second kill of an ended process is no error
}

func TestCleanupKills(t *testing.T) {
	var p *Process
	t.Run("child", func(t *testing.T) { p = child(t, "deaf") })
	if !p.Exited() {
		t.Fatal("the child still runs after its test's cleanup")
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("listening on the free port %d: %v", port, err)
	}
	ln.Close()
}

func TestLogTail(t *testing.T) {
	tests := []struct {
		written string
		n       int
		want    string
	}{
		{"", 3, ""},
		{"a\nb\n", 3, "a\nb\n"},
		{"a\nb\nc\nd", 2, "c\nd"},
		{"a\nb\nc\n", 2, "c\n"},
	}
	for _, tt := range tests {
		var l Log
		l.Write([]byte(tt.written))
		if got := l.Tail(tt.n); got != tt.want {
			t.Errorf("Tail(%d) of %q = %q, want %q", tt.n, tt.written, got, tt.want)
		}
	}
}

// failedTB is a testing.TB whose test has failed; it keeps its cleanups
// and what is logged.
type failedTB struct {
	testing.TB
	cleanups []func()
	logs     []string
}

func (f *failedTB) Helper()           {}
func (f *failedTB) Failed() bool      { return true }
func (f *failedTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failedTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func TestFailedTestPrintsLog(t *testing.T) {
	p := child(t, "deaf")
	f := &failedTB{TB: t}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROC_CHILD=deaf")
	q := Start(f, "deaf child", cmd)
	t.Cleanup(func() { q.kill() }) // should the test stop before f's cleanups run
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(q.Log.String(), "child ready") {
		if q.Exited() || time.Now().After(deadline) {
			t.Fatalf("child did not start: %q", q.Log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, fn := range f.cleanups {
		fn()
	}
	if !q.Exited() {
		t.Fatal("the child still runs after cleanup")
	}
	want := fmt.Sprintf("deaf child (pid %d) log:\nchild ready\n", q.Cmd.Process.Pid)
	if len(f.logs) != 1 || f.logs[0] != want {
		t.Errorf("logged %q, want %q", f.logs, want)
	}
	if p.Exited() {
		t.Error("cleanup of one test's process ended another's")
	}
}
