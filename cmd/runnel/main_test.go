package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// result is the outcome of one in-process run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs "runnel args..." in-process with stdin and returns its exit
// status and output.
func runCmd(ctx context.Context, stdin string, args ...string) result {
	var out, errb bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	code := run(ctx, args, in, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := runCmd(t.Context(), stdin, args...)
	if r.code != 0 {
		t.Fatalf("runnel %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// assertOneLineError checks that a failed command exited non-zero with one
// line on stderr containing want and no Go stack trace.
func assertOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, want failure; stdout: %q stderr: %q", r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || r.stderr == "" {
		t.Fatalf("stderr has %d lines, want 1: %q", len(lines), r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr %q does not contain %q", r.stderr, want)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("stderr has a stack trace: %q", r.stderr)
	}
}

func TestMainDispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no args prints usage", nil, 2, "", "Usage: runnel <command>"},
		{"help", []string{"help"}, 0, "topics", ""},
		{"help command", []string{"help", "topics"}, 0, "--bootstrap-server", ""},
		{"version", []string{"--version"}, 0, "runnel", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"command help", []string{"topics", "--help"}, 0, "--replication-factor", ""},
		{"unknown flag", []string{"topics", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"positional argument", []string{"topics", "--list", "--bootstrap-server", "x:1", "extra"}, 2, "", `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d (stdout %q, stderr %q)", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.inStdout) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tc.inStdout)
			}
			if !strings.Contains(r.stderr, tc.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.inStderr)
			}
		})
	}
}

// contextWithCancel derives a cancellable context from the test's.
func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
