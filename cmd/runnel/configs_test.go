package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestConfigsTopicRoundTrip(t *testing.T) {
	c := newCluster(t)
	c.createTopic("cfg", 1)
	configs := func(args ...string) result {
		t.Helper()
		return mustRun(t, "", append([]string{"configs", "--bootstrap-server", c.addr, "--entity-type", "topics", "--entity-name", "cfg"}, args...)...)
	}

	if r := configs("--describe"); r.stdout != "Dynamic configs for topic cfg are:\n" {
		t.Fatalf("describe of a topic without overrides = %q", r.stdout)
	}
	r := configs("--alter", "--add-config", "retention.ms=1000,cleanup.policy=[compact,delete]")
	if r.stdout != "Completed updating config for topic cfg.\n" {
		t.Fatalf("alter printed %q", r.stdout)
	}
	r = configs("--describe")
	got := lines(r.stdout)
	if len(got) != 3 || got[0] != "Dynamic configs for topic cfg are:" {
		t.Fatalf("describe after alter:\n%s", r.stdout)
	}
	// Which synonyms a broker reports varies (Kafka lists the dynamic value
	// and the broker default); the line format does not.
	for i, want := range []string{
		"  cleanup.policy=compact,delete sensitive=false synonyms={",
		"  retention.ms=1000 sensitive=false synonyms={",
	} {
		if !strings.HasPrefix(got[i+1], want) || !strings.HasSuffix(got[i+1], "}") {
			t.Errorf("line %q, want prefix %q", got[i+1], want)
		}
	}
	// kafka-topics --describe lists the same overrides.
	r = mustRun(t, "", "topics", "--bootstrap-server", c.addr, "--describe", "--topic", "cfg")
	if !strings.Contains(r.stdout, "Configs: cleanup.policy=compact,delete,retention.ms=1000\n") {
		t.Errorf("topics --describe does not show the overrides:\n%s", r.stdout)
	}

	r = configs("--describe", "--all")
	if !strings.HasPrefix(r.stdout, "All configs for topic cfg are:\n") || !strings.Contains(r.stdout, "\n  retention.ms=1000 sensitive=false") {
		t.Fatalf("describe --all:\n%s", r.stdout)
	}
	line := regexp.MustCompile(`^  [a-z0-9._]+=.* sensitive=(true|false) synonyms=\{.*\}$`)
	for _, l := range lines(r.stdout)[1:] {
		if !line.MatchString(l) {
			t.Errorf("describe --all line %q does not match kafka-configs format", l)
		}
	}

	configs("--alter", "--delete-config", "retention.ms")
	got = lines(configs("--describe").stdout)
	if len(got) != 2 || !strings.HasPrefix(got[1], "  cleanup.policy=compact,delete ") {
		t.Fatalf("after --delete-config retention.ms: %q", got)
	}
	r = runCmd(t.Context(), "", "configs", "--bootstrap-server", c.addr, "--entity-type", "topics", "--entity-name", "cfg", "--alter", "--delete-config", "retention.ms")
	assertOneLineError(t, r, "invalid config(s): retention.ms")

	// The --topic shorthand names the same entity.
	r = mustRun(t, "", "configs", "--bootstrap-server", c.addr, "--topic", "cfg", "--alter", "--delete-config", "cleanup.policy")
	if r.stdout != "Completed updating config for topic cfg.\n" {
		t.Fatalf("alter via --topic printed %q", r.stdout)
	}
	if r := configs("--describe"); r.stdout != "Dynamic configs for topic cfg are:\n" {
		t.Fatalf("describe after deleting every override = %q", r.stdout)
	}
}

func TestConfigsBrokers(t *testing.T) {
	c := newCluster(t)
	base := []string{"configs", "--bootstrap-server", c.addr, "--entity-type", "brokers"}
	r := mustRun(t, "", append(base, "--entity-default", "--alter", "--add-config", "log.retention.ms=3600000")...)
	if r.stdout != "Completed updating default config for brokers in the cluster.\n" {
		t.Fatalf("alter default printed %q", r.stdout)
	}
	r = mustRun(t, "", append(base, "--entity-default", "--describe")...)
	if got := lines(r.stdout); len(got) == 0 || got[0] != "Default configs for brokers in the cluster are:" {
		t.Fatalf("describe default:\n%s", r.stdout)
	}
	// The new value is in effect: every broker and the default section
	// report it.
	r = mustRun(t, "", append(base, "--describe", "--all")...)
	got := lines(r.stdout)
	if len(got) < 3 || !regexp.MustCompile(`^All configs for broker \d+ are:$`).MatchString(got[0]) {
		t.Fatalf("describe --all brokers:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Default configs for brokers in the cluster are:\n") ||
		strings.Count(r.stdout, "\n  log.retention.ms=3600000 sensitive=false synonyms={") != 2 {
		t.Fatalf("describe --all brokers does not show log.retention.ms=3600000 for the broker and the default:\n%s", r.stdout)
	}
	r = mustRun(t, "", append(base, "--describe")...)
	if !regexp.MustCompile(`^Dynamic configs for broker \d+ are:\n`).MatchString(r.stdout) {
		t.Fatalf("describe brokers:\n%s", r.stdout)
	}
	r = mustRun(t, "", append(base, "--entity-name", "999", "--describe")...)
	if r.stdout != "The broker '999' doesn't exist and doesn't have dynamic config.\n" {
		t.Fatalf("describe unknown broker = %q", r.stdout)
	}
}

func TestConfigsErrors(t *testing.T) {
	c := newCluster(t)
	bs := []string{"configs", "--bootstrap-server", c.addr}
	// kafka-configs.sh reports a missing topic on stdout and exits 0 when
	// describing dynamic configs.
	r := mustRun(t, "", append(bs, "--describe", "--entity-type", "topics", "--entity-name", "ghost")...)
	if r.stdout != "The topic 'ghost' doesn't exist and doesn't have dynamic config.\n" {
		t.Fatalf("describe of a missing topic = %q", r.stdout)
	}
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"alter unknown topic", []string{"--alter", "--entity-type", "topics", "--entity-name", "ghost", "--add-config", "retention.ms=1"}, "UNKNOWN_TOPIC_OR_PARTITION", 1},
		{"describe --all unknown topic", []string{"--describe", "--all", "--entity-type", "topics", "--entity-name", "ghost"}, "UNKNOWN_TOPIC_OR_PARTITION", 1},
		{"no action", []string{"--entity-type", "topics"}, "exactly one action", 2},
		{"no entity type", []string{"--describe"}, "at least one entity type must be specified", 2},
		{"bad entity type", []string{"--describe", "--entity-type", "tables"}, "invalid entity type tables", 2},
		{"alter without name", []string{"--alter", "--entity-type", "topics", "--add-config", "a=b"}, "an entity name must be specified", 2},
		{"alter without changes", []string{"--alter", "--entity-type", "topics", "--entity-name", "x"}, "at least one of --add-config", 2},
		{"bad broker id", []string{"--describe", "--entity-type", "brokers", "--entity-name", "one"}, "must be a valid integer broker id, found: one", 2},
		{"bad add-config", []string{"--alter", "--entity-type", "brokers", "--entity-default", "--add-config", "novalue"}, `invalid entity config "novalue"`, 2},
		{"add-config with describe", []string{"--describe", "--entity-type", "topics", "--add-config", "a=b"}, "can only be used with --alter", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", append(bs, tc.args...)...)
			assertOneLineError(t, r, tc.want)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
		})
	}
}
