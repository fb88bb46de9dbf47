package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestTopicsLifecycle(t *testing.T) {
	addr := startBroker(t)
	bs := []string{"--bootstrap-server", addr}
	topics := func(args ...string) []string { return append(append([]string{"topics"}, bs...), args...) }

	r := mustRun(t, "", topics("--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=60000", "--config", "cleanup.policy=compact")...)
	if r.stdout != "Created topic orders.\n" {
		t.Fatalf("create printed %q", r.stdout)
	}
	mustRun(t, "", topics("--create", "--topic", "payments")...)

	// Creating again fails with Kafka's message, unless --if-not-exists.
	assertOneLineError(t, runCmd(t.Context(), "", topics("--create", "--topic", "orders")...), "Topic 'orders' already exists.")
	if r := mustRun(t, "", topics("--create", "--topic", "orders", "--if-not-exists")...); r.stdout != "" {
		t.Fatalf("--if-not-exists printed %q", r.stdout)
	}

	r = mustRun(t, "", topics("--list")...)
	if got := userTopics(r.stdout); got != "orders,payments" {
		t.Fatalf("--list = %q, want orders and payments sorted", r.stdout)
	}
	r = mustRun(t, "", topics("--list", "--topic", "ord.*")...)
	if r.stdout != "orders\n" {
		t.Fatalf("--list --topic ord.* = %q", r.stdout)
	}

	r = mustRun(t, "", topics("--describe", "--topic", "orders")...)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("describe printed %d lines, want 1 + 3 partitions:\n%s", len(lines), r.stdout)
	}
	header := regexp.MustCompile(`^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: (.*)$`)
	m := header.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("describe header %q does not match kafka-topics format", lines[0])
	}
	for _, want := range []string{"cleanup.policy=compact", "retention.ms=60000"} {
		if !strings.Contains(m[1], want) {
			t.Errorf("describe configs %q lack %s", m[1], want)
		}
	}
	part := regexp.MustCompile(`^\tTopic: orders\tPartition: (\d)\tLeader: \d+\tReplicas: \d+\tIsr: \d+\tElr: (N/A)?\tLastKnownElr: (N/A)?$`)
	for i, l := range lines[1:] {
		pm := part.FindStringSubmatch(l)
		if pm == nil {
			t.Fatalf("partition line %q does not match kafka-topics format", l)
		}
		if pm[1] != string(rune('0'+i)) {
			t.Errorf("partition lines out of order: line %d is partition %s", i, pm[1])
		}
	}

	// --alter --partitions adds partitions; shrinking is refused.
	mustRun(t, "", topics("--alter", "--topic", "orders", "--partitions", "5")...)
	r = mustRun(t, "", topics("--describe", "--topic", "orders")...)
	if !strings.Contains(r.stdout, "PartitionCount: 5\t") || strings.Count(r.stdout, "\tPartition: ") != 5 {
		t.Fatalf("after --alter --partitions 5:\n%s", r.stdout)
	}
	r = runCmd(t.Context(), "", topics("--alter", "--topic", "orders", "--partitions", "2")...)
	if r.code == 0 {
		t.Fatalf("shrinking partitions succeeded")
	}
	assertOneLineError(t, r, "")

	mustRun(t, "", topics("--delete", "--topic", "orders")...)
	r = mustRun(t, "", topics("--list")...)
	if got := userTopics(r.stdout); got != "payments" {
		t.Fatalf("after delete --list = %q", r.stdout)
	}
	assertOneLineError(t, runCmd(t.Context(), "", topics("--delete", "--topic", "orders")...), "Topic 'orders' does not exist as expected")
	mustRun(t, "", topics("--delete", "--topic", "orders", "--if-exists")...)
	assertOneLineError(t, runCmd(t.Context(), "", topics("--describe", "--topic", "orders")...), "Topic 'orders' does not exist as expected")
	assertOneLineError(t, runCmd(t.Context(), "", topics("--alter", "--topic", "orders", "--partitions", "9")...), "Topic 'orders' does not exist as expected")
}

// userTopics joins the listed topic names that are not internal.
func userTopics(list string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if l != "" && !strings.HasPrefix(l, "__") {
			out = append(out, l)
		}
	}
	return strings.Join(out, ",")
}

func TestTopicsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no action", []string{"--bootstrap-server", "127.0.0.1:1", "--topic", "a"}, "exactly one action"},
		{"two actions", []string{"--bootstrap-server", "127.0.0.1:1", "--list", "--describe"}, "exactly one action"},
		{"no bootstrap", []string{"--list"}, "--bootstrap-server must be specified"},
		{"create without topic", []string{"--bootstrap-server", "127.0.0.1:1", "--create"}, "--topic"},
		{"alter without partitions", []string{"--bootstrap-server", "127.0.0.1:1", "--alter", "--topic", "a"}, "--partitions"},
		{"config with alter", []string{"--bootstrap-server", "127.0.0.1:1", "--alter", "--topic", "a", "--partitions", "2", "--config", "a=b"}, "--config"},
		{"zero partitions", []string{"--bootstrap-server", "127.0.0.1:1", "--create", "--topic", "a", "--partitions", "0"}, "partitions must be greater than 0"},
		{"bad replication factor", []string{"--bootstrap-server", "127.0.0.1:1", "--create", "--topic", "a", "--replication-factor", "0"}, "replication factor must be between 1 and 32767"},
		{"bad number", []string{"--bootstrap-server", "127.0.0.1:1", "--create", "--topic", "a", "--partitions", "x"}, "invalid value \"x\" for flag -partitions"},
		{"bad config", []string{"--bootstrap-server", "127.0.0.1:1", "--create", "--topic", "a", "--config", "novalue"}, `invalid topic config "novalue"`},
		{"if-not-exists with delete", []string{"--bootstrap-server", "127.0.0.1:1", "--delete", "--topic", "a", "--if-not-exists"}, "--if-not-exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", append([]string{"topics"}, tc.args...)...)
			assertOneLineError(t, r, tc.want)
			if r.code != 2 {
				t.Errorf("exit %d, want 2 for a usage error", r.code)
			}
		})
	}
}
