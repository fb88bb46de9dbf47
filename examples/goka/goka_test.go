package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// pollInterval is how often the tests look at the cluster or the view
// while they wait, each under a context deadline, for a state to appear.
const pollInterval = 50 * time.Millisecond

func testLogger() *slog.Logger {
	if os.Getenv("RUNNEL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// runningProcessor is a processor whose Run goroutine the test owns.
type runningProcessor struct {
	p      *goka.Processor
	cancel context.CancelFunc
	done   chan error
}

// startProcessor creates the counting processor and runs it until stop
// (or the end of the test); it returns once the processor has joined the
// group and recovered its partitions of the table.
func startProcessor(t *testing.T, ctx context.Context, s settings) *runningProcessor {
	t.Helper()
	p, err := newProcessor(s)
	if err != nil {
		t.Fatalf("new processor: %v", err)
	}
	pctx, cancel := context.WithCancel(ctx)
	r := &runningProcessor{p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(pctx) }()
	t.Cleanup(func() { r.stop(t) })
	if err := p.WaitForReadyContext(ctx); err != nil {
		t.Fatalf("waiting for the processor: %v", err)
	}
	select {
	case err := <-r.done:
		r.cancel()
		r.cancel = nil // Run has returned: nothing left to stop
		t.Fatalf("processor stopped while starting: %v", err)
	default:
	}
	return r
}

// stop stops the processor and waits for Run to return; the processor
// commits its offsets and leaves the group on the way out.
func (r *runningProcessor) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("processor: %v", err)
	}
}

// runningView is a view of the group table whose Run goroutine the test
// owns.
type runningView struct {
	v    *goka.View
	done chan error
}

func startView(t *testing.T, ctx context.Context, s settings) *runningView {
	t.Helper()
	v, err := newView(s)
	if err != nil {
		t.Fatalf("new view: %v", err)
	}
	vctx, cancel := context.WithCancel(ctx)
	r := &runningView{v: v, done: make(chan error, 1)}
	go func() { r.done <- v.Run(vctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("view: %v", err)
		}
	})
	return r
}

// waitCounts polls the view until it holds exactly want, and fails the
// test with the last difference seen when ctx ends first.
func (r *runningView) waitCounts(t *testing.T, ctx context.Context, want map[string]int64) {
	t.Helper()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last string
	for {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("view stopped: %v", err)
		default:
		}
		if r.v.Recovered() {
			got, err := tableCounts(r.v)
			if err != nil {
				t.Fatalf("reading the view: %v", err)
			}
			if maps.Equal(got, want) {
				return
			}
			last = countsDiff(got, want)
		} else {
			last = "the view has not recovered the table yet"
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the view never showed the expected counts: %s (%v)", last, ctx.Err())
		case <-tick.C:
		}
	}
}

// countsDiff names every user whose count is not the one wanted.
func countsDiff(got, want map[string]int64) string {
	var diffs []string
	for _, u := range slices.Sorted(maps.Keys(want)) {
		if got[u] != want[u] {
			diffs = append(diffs, fmt.Sprintf("%s=%d, want %d", u, got[u], want[u]))
		}
	}
	for _, u := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[u]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s=%d, want no such user", u, got[u]))
		}
	}
	return strings.Join(diffs, "; ")
}

// waitCommitted polls until the group's committed offsets on topic have
// reached the end of every partition: the processor has counted every
// click, and, since goka commits a click only once its table update is
// acknowledged, the table topic holds every count.
func waitCommitted(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string) {
	t.Helper()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last string
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			t.Fatalf("end offsets of %s: %v", topic, err)
		}
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			last = fmt.Sprintf("fetching offsets: %v", err) // the coordinator may be loading
		} else {
			last = ""
			ends.Each(func(e kadm.ListedOffset) {
				c, ok := committed.Lookup(topic, e.Partition)
				switch {
				case ok && c.Err != nil:
					last += fmt.Sprintf(" partition %d: %v;", e.Partition, c.Err)
				case e.Offset > 0 && (!ok || c.At != e.Offset):
					at := int64(-1)
					if ok {
						at = c.At
					}
					last += fmt.Sprintf(" partition %d committed %d of %d;", e.Partition, at, e.Offset)
				}
			})
			if last == "" {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s never committed the end of %s:%s (%v)", group, topic, last, ctx.Err())
		case <-tick.C:
		}
	}
}

// readTable reads the table topic from its start to its end offsets and
// checks that every user's counts in it rise strictly, as a counter's
// updates must (a lost or replayed table would start a user again or
// repeat a count); it returns each user's last count.
func readTable(t *testing.T, ctx context.Context, adm *kadm.Client, brokers []string, topic string) map[string]int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	start := map[int32]kgo.Offset{}
	remaining := 0
	ends.Each(func(e kadm.ListedOffset) {
		start[e.Partition] = kgo.NewOffset().AtStart()
		if e.Offset > 0 {
			remaining++
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	counts := map[string]int64{}
	for remaining > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: %d partitions not read to their end: %v", topic, remaining, err)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("reading %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(rec *kgo.Record) {
			end, _ := ends.Lookup(topic, rec.Partition)
			if rec.Offset >= end.Offset {
				return // written after the end offsets were listed
			}
			user := string(rec.Key)
			n, err := strconv.ParseInt(string(rec.Value), 10, 64)
			if err != nil {
				t.Fatalf("%s/%d offset %d: user %q: count %q: %v", topic, rec.Partition, rec.Offset, user, rec.Value, err)
			}
			if prev, ok := counts[user]; ok && n <= prev {
				t.Errorf("%s/%d offset %d: user %q counted %d after %d", topic, rec.Partition, rec.Offset, user, n, prev)
			}
			counts[user] = n
			if rec.Offset == end.Offset-1 {
				remaining--
			}
		})
	}
	return counts
}

// TestCounterRestart runs the example's processor against a Runnel broker:
// it counts a batch of clicks, is stopped, more clicks arrive, and a new
// processor instance takes over. Each instance must go on exactly from the
// counts in the compacted group table, whether its local state is empty
// (restored from the table topic), stale (caught up from it) or in memory,
// and the committed input offsets must keep it from counting a click twice.
func TestCounterRestart(t *testing.T) {
	srv := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	base := settings{
		brokers:     []string{srv.Addr},
		clicks:      "clicks",
		group:       "example-counter",
		partitions:  4,
		replication: 1,
		logger:      testLogger(),
	}
	table := string(goka.GroupTable(base.group))
	if table != "example-counter-table" {
		t.Fatalf("group table is %q, want example-counter-table", table)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	if err := ensureClicks(base); err != nil {
		t.Fatalf("creating %s: %v", base.clicks, err)
	}

	const users = 13
	dirA, dirB := t.TempDir(), t.TempDir()
	phases := []struct {
		name     string
		stateDir string // the instance's local state; "" is in memory
		before   int    // clicks emitted while no processor runs
		during   int    // clicks emitted once the new processor is ready
	}{
		{"first instance", dirA, 300, 100},
		{"new instance with empty local state restores from the table topic", dirB, 200, 50},
		{"first instance again with stale local state catches up from the table topic", dirA, 100, 50},
		{"instance with in-memory state", "", 50, 50},
	}
	want := map[string]int64{}
	sent := 0
	emitClicks := func(n int) {
		t.Helper()
		batch := make([]click, n)
		for i := range batch {
			batch[i] = generatedClick(sent+i, users)
			want[batch[i].user]++
		}
		if err := emit(base, batch); err != nil {
			t.Fatalf("emitting clicks %d to %d: %v", sent, sent+n-1, err)
		}
		sent += n
	}

	var view *runningView
	for _, ph := range phases {
		t.Logf("phase: %s", ph.name)
		emitClicks(ph.before)
		s := base
		s.stateDir = ph.stateDir
		p := startProcessor(t, ctx, s)
		if view == nil {
			view = startView(t, ctx, base) // the first processor created the table
		}
		emitClicks(ph.during)

		waitCommitted(t, ctx, adm, string(base.group), string(base.clicks))
		if got := readTable(t, ctx, adm, base.brokers, table); !maps.Equal(got, want) {
			t.Fatalf("%s: table topic after %d clicks: %s", ph.name, sent, countsDiff(got, want))
		}
		view.waitCounts(t, ctx, want)
		p.stop(t)
		if t.Failed() {
			t.FailNow()
		}
	}

	// goka created the table compacted and co-partitioned with clicks.
	rcs, err := adm.DescribeTopicConfigs(ctx, table)
	if err != nil {
		t.Fatalf("describe configs of %s: %v", table, err)
	}
	rc, err := rcs.On(table, nil)
	if err != nil {
		t.Fatalf("describe configs of %s: %v", table, err)
	}
	policy := "<missing>"
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" {
			policy = c.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy of %s = %s, want compact", table, policy)
	}
	topics, err := adm.ListTopics(ctx, table, string(base.clicks))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(topics[table].Partitions), len(topics[string(base.clicks)].Partitions); got != want || got != base.partitions {
		t.Errorf("%s has %d partitions and %s %d, want %d each", table, got, base.clicks, want, base.partitions)
	}
}

// TestRunModes drives the program as a user would: generate clicks,
// process them until the group has committed them all, print the counts.
func TestRunModes(t *testing.T) {
	srv := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	flags := []string{"-brokers", srv.Addr, "-clicks", "page-clicks", "-group", "cli-counter", "-partitions", "2"}
	const n, users = 40, 6

	var out, errOut bytes.Buffer
	if err := run(ctx, append(flags, "-mode=generate", fmt.Sprint("-n=", n), fmt.Sprint("-users=", users)), &out, &errOut); err != nil {
		t.Fatalf("generate: %v\n%s", err, errOut.String())
	}
	if got, want := out.String(), fmt.Sprintf("emitted %d clicks to page-clicks\n", n); got != want {
		t.Errorf("generate printed %q, want %q", got, want)
	}

	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(pctx, append(flags, "-mode=process", "-state", t.TempDir()), &out, &errOut) }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	waitCommitted(t, ctx, kadm.NewClient(cl), "cli-counter", "page-clicks")
	stop()
	if err := <-done; err != nil {
		t.Fatalf("process: %v", err)
	}

	want := map[string]int64{}
	for i := range n {
		want[generatedClick(i, users).user]++
	}
	var lines []string
	for _, u := range slices.Sorted(maps.Keys(want)) {
		lines = append(lines, fmt.Sprintf("%s %d\n", u, want[u]))
	}
	out.Reset()
	if err := run(ctx, append(flags, "-mode=view"), &out, &errOut); err != nil {
		t.Fatalf("view: %v", err)
	}
	if got, want := out.String(), strings.Join(lines, ""); got != want {
		t.Errorf("view printed\n%s\nwant\n%s", got, want)
	}
}

// TestRunFlags checks that bad command lines fail and name what is wrong
// before any broker is contacted.
func TestRunFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-mode=count"}, `-mode: want generate, process or view, got "count"`},
		{[]string{"-mode=generate", "-users=0"}, "-users at least 1"},
		{[]string{"-mode=generate", "-n=-1"}, "-n must be at least 0"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-partitions=x"}, `invalid value "x" for flag -partitions`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), append([]string{"-brokers", "127.0.0.1:1"}, tc.args...), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestCountTester runs the processor on goka's in-memory tester, without
// a broker: each click adds one to its user's count and to nobody else's.
func TestCountTester(t *testing.T) {
	tests := []struct {
		name   string
		clicks []string // users, in order
		want   map[string]int64
	}{
		{"one click", []string{"ann"}, map[string]int64{"ann": 1}},
		{"one user", []string{"ann", "ann", "ann"}, map[string]int64{"ann": 3}},
		{"interleaved users", []string{"ann", "bob", "ann", "cy", "bob", "ann"}, map[string]int64{"ann": 3, "bob": 2, "cy": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := tester.New(t)
			s := settings{clicks: "clicks", group: "example-counter"} // nil logger: goka stays quiet
			p, err := newProcessor(s, goka.WithTester(tt))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("processor: %v", err)
				}
			}()
			for i, u := range tc.clicks {
				tt.Consume(string(s.clicks), u, fmt.Sprintf("/page/%d", i))
			}
			table := goka.GroupTable(s.group)
			got := map[string]int64{}
			for _, u := range tt.GetTableKeys(table) {
				n, ok := tt.TableValue(table, u).(int64)
				if !ok {
					t.Fatalf("user %q: count is a %T", u, tt.TableValue(table, u))
				}
				got[u] = n
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("counts: %s", countsDiff(got, tc.want))
			}
		})
	}
}
