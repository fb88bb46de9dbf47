package main

import (
	"fmt"
	"strings"
	"testing"
)

// cluster is a started broker plus helpers that run commands against it.
type cluster struct {
	t    *testing.T
	addr string
}

func newCluster(t *testing.T) *cluster { return &cluster{t: t, addr: startBroker(t)} }

func (c *cluster) createTopic(name string, partitions int, configs ...string) {
	c.t.Helper()
	args := []string{"topics", "--bootstrap-server", c.addr, "--create", "--topic", name, "--partitions", fmt.Sprint(partitions)}
	for _, cfg := range configs {
		args = append(args, "--config", cfg)
	}
	mustRun(c.t, "", args...)
}

func (c *cluster) produce(topic, input string, args ...string) result {
	c.t.Helper()
	return mustRun(c.t, input, append([]string{"produce", "--bootstrap-server", c.addr, "--topic", topic}, args...)...)
}

// consume runs the console consumer with a safety timeout so that a broken
// stop condition fails the test instead of hanging it.
func (c *cluster) consume(topic string, args ...string) result {
	c.t.Helper()
	return mustRun(c.t, "", append([]string{"consume", "--bootstrap-server", c.addr, "--topic", topic, "--timeout-ms", "10000"}, args...)...)
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestProduceConsumeKeys(t *testing.T) {
	c := newCluster(t)
	c.createTopic("events", 1)
	r := c.produce("events", "k1:v1\nk2:v2\nk3:v3\n", "--property", "parse.key=true", "--property", "key.separator=:")
	if r.stdout != "" || r.stderr != "" {
		t.Fatalf("produce printed stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = c.consume("events", "--from-beginning", "--max-messages", "3",
		"--property", "print.key=true", "--property", "print.partition=true")
	want := []string{"Partition:0\tk1\tv1", "Partition:0\tk2\tv2", "Partition:0\tk3\tv3"}
	if got := lines(r.stdout); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("consumed %q, want %q", got, want)
	}
	if r.stderr != "Processed a total of 3 messages\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
}

func TestConsumeFormatting(t *testing.T) {
	c := newCluster(t)
	c.createTopic("fmt", 1)
	c.produce("fmt", "h1:a,h2:b\tkey\tvalue\nNULL\tNULL\tNULL\n",
		"--property", "parse.headers=true", "--property", "parse.key=true", "--property", "null.marker=NULL")
	r := c.consume("fmt", "--from-beginning", "--max-messages", "2",
		"--property", "print.timestamp=true", "--property", "print.offset=true", "--property", "print.headers=true",
		"--property", "print.key=true", "--property", "key.separator=|")
	got := lines(r.stdout)
	if len(got) != 2 {
		t.Fatalf("got %d lines: %q", len(got), r.stdout)
	}
	for i, want := range []string{"|Offset:0|h1:a,h2:b|key|value", "|Offset:1|NO_HEADERS|null|null"} {
		if !strings.HasPrefix(got[i], "CreateTime:") || !strings.HasSuffix(got[i], want) {
			t.Errorf("line %d = %q, want CreateTime:<ms>%s", i, got[i], want)
		}
	}
}

func TestConsumeMaxMessagesAndStartPosition(t *testing.T) {
	c := newCluster(t)
	c.createTopic("log", 1)
	c.produce("log", "v0\nv1\nv2\nv3\nv4\n")

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"max-messages stops early", []string{"--from-beginning", "--max-messages", "2"}, []string{"v0", "v1"}},
		{"latest skips existing records", []string{"--timeout-ms", "1500"}, nil},
		{"partition and offset", []string{"--partition", "0", "--offset", "2", "--property", "print.offset=true", "--max-messages", "3"},
			[]string{"Offset:2\tv2", "Offset:3\tv3", "Offset:4\tv4"}},
		{"partition from earliest", []string{"--partition", "0", "--offset", "earliest", "--max-messages", "1"}, []string{"v0"}},
		{"partition from-beginning", []string{"--partition", "0", "--from-beginning", "--max-messages", "1"}, []string{"v0"}},
		{"partition latest", []string{"--partition", "0", "--offset", "latest", "--timeout-ms", "1500"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.consume("log", tc.args...)
			if got := lines(r.stdout); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("consumed %q, want %q", got, tc.want)
			}
			if want := fmt.Sprintf("Processed a total of %d messages\n", len(tc.want)); r.stderr != want {
				t.Fatalf("stderr = %q, want %q", r.stderr, want)
			}
		})
	}
}

func TestProduceKeyedRecordsKeepPartitionOrder(t *testing.T) {
	c := newCluster(t)
	c.createTopic("keyed", 3)
	var in strings.Builder
	for i := range 60 {
		fmt.Fprintf(&in, "user%d\t%d\n", i%6, i)
	}
	c.produce("keyed", in.String(), "--property", "parse.key=true")
	r := c.consume("keyed", "--from-beginning", "--max-messages", "60",
		"--property", "print.key=true", "--property", "print.partition=true")
	got := lines(r.stdout)
	if len(got) != 60 {
		t.Fatalf("consumed %d records, want 60", len(got))
	}
	partitionOf := map[string]string{}
	last := map[string]int{}
	for _, l := range got {
		var p, key string
		var v int
		if _, err := fmt.Sscanf(strings.ReplaceAll(l, "\t", " "), "Partition:%s %s %d", &p, &key, &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if prev, ok := partitionOf[key]; ok && prev != p {
			t.Fatalf("key %s in partitions %s and %s", key, prev, p)
		}
		partitionOf[key] = p
		if prev, ok := last[key]; ok && v <= prev {
			t.Fatalf("key %s: value %d after %d, order lost", key, v, prev)
		}
		last[key] = v
	}
}

func TestConsumeGroupCommitsPrintedRecords(t *testing.T) {
	c := newCluster(t)
	c.createTopic("jobs", 1)
	c.produce("jobs", "a\nb\nc\nd\n")
	r := c.consume("jobs", "--group", "workers", "--from-beginning", "--max-messages", "2")
	if got := strings.Join(lines(r.stdout), ","); got != "a,b" {
		t.Fatalf("first run consumed %q", got)
	}
	// The group resumes after the records it printed, not after what was
	// fetched; --from-beginning only applies without a committed offset.
	r = c.consume("jobs", "--group", "workers", "--from-beginning", "--max-messages", "2")
	if got := strings.Join(lines(r.stdout), ","); got != "c,d" {
		t.Fatalf("second run consumed %q, want c,d", got)
	}
}

func TestProduceSyncAndCompression(t *testing.T) {
	for _, args := range [][]string{
		{"--sync"},
		{"--compression-type", "gzip", "--linger-ms", "5"},
		{"--compression-codec", "zstd", "--acks", "1"},
		{"--compression-type", "lz4", "--acks", "0"},
		{"--compression-type", "snappy", "--request-required-acks", "all", "--batch-size", "16384"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			c := newCluster(t)
			c.createTopic("t", 1)
			c.produce("t", "one\ntwo\nthree\n", args...)
			r := c.consume("t", "--from-beginning", "--max-messages", "3")
			if got := strings.Join(lines(r.stdout), ","); got != "one,two,three" {
				t.Fatalf("consumed %q", got)
			}
		})
	}
}

func TestProduceFailedRecordIsAnError(t *testing.T) {
	c := newCluster(t)
	c.createTopic("small", 1, "max.message.bytes=1000")
	for _, mode := range [][]string{nil, {"--sync"}} {
		r := runCmd(t.Context(), "ok\n"+strings.Repeat("x", 5000)+"\n",
			append([]string{"produce", "--bootstrap-server", c.addr, "--topic", "small"}, mode...)...)
		assertOneLineError(t, r, "topic small")
		assertOneLineError(t, r, "MESSAGE_TOO_LARGE")
	}
}

func TestProduceConsumeErrors(t *testing.T) {
	c := newCluster(t)
	c.createTopic("exists", 1)
	bs := []string{"--bootstrap-server", c.addr}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
		code  int
	}{
		{"produce without topic", "", append([]string{"produce"}, bs...), "missing required argument --topic", 2},
		{"produce without bootstrap", "", []string{"produce", "--topic", "x"}, "--bootstrap-server", 2},
		{"produce bad property", "", append([]string{"produce", "--topic", "exists", "--property", "parse.keys=true"}, bs...), `unknown property "parse.keys"`, 2},
		{"produce bad producer property", "", append([]string{"produce", "--topic", "exists", "--producer-property", "lingr.ms=5"}, bs...), `unknown producer property "lingr.ms"`, 1},
		{"produce bad acks", "", append([]string{"produce", "--topic", "exists", "--acks", "2"}, bs...), "acks must be one of", 1},
		{"produce missing key separator", "novalue\n", append([]string{"produce", "--topic", "exists", "--property", "parse.key=true"}, bs...), "no key separator found on line number 1", 1},
		{"consume unknown topic", "", append([]string{"consume", "--topic", "nope"}, bs...), "topic nope does not exist", 1},
		{"consume unknown partition", "", append([]string{"consume", "--topic", "exists", "--partition", "7"}, bs...), "partition 7 of topic exists does not exist", 1},
		{"consume offset without partition", "", append([]string{"consume", "--topic", "exists", "--offset", "3"}, bs...), "partition is required when offset is specified", 2},
		{"consume offset and from-beginning", "", append([]string{"consume", "--topic", "exists", "--partition", "0", "--offset", "3", "--from-beginning"}, bs...), "from-beginning and offset cannot be specified together", 2},
		{"consume bad offset", "", append([]string{"consume", "--topic", "exists", "--partition", "0", "--offset", "-5"}, bs...), "the provided offset value '-5' is incorrect", 2},
		{"consume no topic", "", append([]string{"consume"}, bs...), "exactly one of --include/--topic is required", 2},
		{"consume bad isolation", "", append([]string{"consume", "--topic", "exists", "--isolation-level", "dirty"}, bs...), "isolation level must be", 2},
		{"consume bad formatter property", "", append([]string{"consume", "--topic", "exists", "--property", "print.keys=true"}, bs...), `unknown formatter property "print.keys"`, 2},
		{"consume group conflict", "", append([]string{"consume", "--topic", "exists", "--group", "a", "--consumer-property", "group.id=b"}, bs...), "group ids provided in different places", 2},
		{"consume group property and partition", "", append([]string{"consume", "--topic", "exists", "--partition", "0", "--command-property", "group.id=b"}, bs...), "group and partition cannot be specified together", 2},
		{"consume reset conflict", "", append([]string{"consume", "--topic", "exists", "--from-beginning", "--consumer-property", "auto.offset.reset=latest"}, bs...), "--from-beginning and 'auto.offset.reset=latest'", 2},
		{"consume bad deserializer", "", append([]string{"consume", "--topic", "exists", "--value-deserializer", "AvroDeserializer"}, bs...), "unsupported deserializer AvroDeserializer", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), tc.stdin, tc.args...)
			assertOneLineError(t, r, tc.want)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
		})
	}
}

func TestConsumeKafka4Spellings(t *testing.T) {
	c := newCluster(t)
	c.createTopic("nums", 1)
	c.produce("nums", "k:7\n", "--property", "parse.key=true", "--property", "key.separator=:")
	r := c.consume("nums", "--from-beginning", "--max-messages", "-1", "--timeout-ms", "1500",
		"--formatter-property", "print.key=true", "--formatter-property", "key.separator==",
		"--command-property", "auto.offset.reset=earliest")
	if r.stdout != "k=7\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
}
