package streams

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/tests/internal/proc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// windowKey is a key and a window start, as the output topic keys them.
type windowKey struct {
	key   string
	start int64
}

// produceEvents writes n events over keys keys, 10ms of event time apart,
// and returns the count each (key, 1-minute window) must reach.
func produceEvents(t *testing.T, addr string, n, keys int) map[windowKey]int64 {
	t.Helper()
	cl := newClient(t, addr, kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100000))
	const base = int64(1_700_000_000_000)
	want := map[windowKey]int64{}
	errs := make(chan error, 1)
	for i := range n {
		key := "k" + strconv.Itoa(i%keys)
		ts := base + int64(i)*10
		want[windowKey{key, ts - ts%60_000}]++
		cl.Produce(context.Background(), &kgo.Record{Topic: "events", Key: []byte(key), Value: []byte(strconv.Itoa(i)), Timestamp: time.UnixMilli(ts)},
			func(_ *kgo.Record, err error) {
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			})
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return want
}

// windowCounts follows "window-counts" (read_committed).
type windowCounts struct {
	cl   *kgo.Client
	last map[windowKey]int64
	// gaps counts updates that do not follow the key's previous value by
	// exactly one: duplicates or losses.
	gaps    int
	records int
}

func newWindowCounts(t *testing.T, addr string) *windowCounts {
	return &windowCounts{
		cl: newClient(t, addr, kgo.ConsumeTopics("window-counts"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20)),
		last: map[windowKey]int64{},
	}
}

// poll reads what is available within d.
func (w *windowCounts) poll(t *testing.T, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	fs := w.cl.PollFetches(ctx)
	fs.EachError(func(topic string, p int32, err error) {
		if ctx.Err() == nil {
			t.Fatalf("consume %s-%d: %v", topic, p, err)
		}
	})
	fs.EachRecord(func(r *kgo.Record) {
		if len(r.Key) < 8 || len(r.Value) != 8 {
			t.Fatalf("bad output record %q=%q", r.Key, r.Value)
		}
		k := windowKey{string(r.Key[:len(r.Key)-8]), int64(binary.BigEndian.Uint64(r.Key[len(r.Key)-8:]))}
		v := int64(binary.BigEndian.Uint64(r.Value))
		if v != w.last[k]+1 {
			w.gaps++
		}
		w.last[k] = v
		w.records++
	})
}

// reached reports whether every window has at least its expected count.
func (w *windowCounts) reached(want map[windowKey]int64) bool {
	for k, n := range want {
		if w.last[k] < n {
			return false
		}
	}
	return true
}

// TestWindowedCountSurvivesAKilledInstance runs two instances of a
// windowed count, kills one with SIGKILL a third of the way through, and
// checks the final counts: exact under exactly_once_v2 (and every update
// once, in order), at least exact under at_least_once. The survivor
// restores the killed instance's stores from their changelogs.
func TestWindowedCountSurvivesAKilledInstance(t *testing.T) {
	n := 1_000_000
	if v := os.Getenv("RUNNEL_STREAMS_RECORDS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		n = 50_000
	}
	for _, guarantee := range []string{streams.ExactlyOnce, streams.AtLeastOnce} {
		t.Run(guarantee, func(t *testing.T) {
			began := time.Now()
			srv := startServer(t)
			createTopics(t, srv.Addr, 4, "events", "window-counts")
			want := produceEvents(t, srv.Addr, n, 500)
			t.Logf("produced %d events in %v", n, time.Since(began))

			appID := "wc-" + strings.ReplaceAll(guarantee, "_", "-")
			adm := kadm.NewClient(newClient(t, srv.Addr))
			out := newWindowCounts(t, srv.Addr)
			deadline := time.Now().Add(8 * time.Minute)
			waitFor := func(what string, cond func() bool, logs ...*proc.Process) {
				t.Helper()
				for !cond() {
					if time.Now().After(deadline) {
						msg := fmt.Sprintf("timed out waiting for %s; %d output offsets", what, endOffsetSum(t, adm, "window-counts"))
						for _, in := range logs {
							msg += "\n" + in.Log.Tail(40)
						}
						t.Fatal(msg)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			// A starts alone and takes every task; B joins once A has
			// made progress and takes half; A dies when a third of the
			// input is counted, so its tasks move to B with state that
			// only the changelogs hold.
			a := startInstance(t, srv.Addr, appID, guarantee, t.TempDir())
			waitFor("instance A to make progress", func() bool { return endOffsetSum(t, adm, "window-counts") >= int64(n/10) }, a)
			b := startInstance(t, srv.Addr, appID, guarantee, t.TempDir())
			waitFor("instance B to run", func() bool { return strings.Count(b.Log.String(), "to=RUNNING") >= 1 }, a, b)
			waitFor("a third of the input", func() bool { return endOffsetSum(t, adm, "window-counts") >= int64(n/3) }, a, b)
			killedAt := time.Now()
			a.Kill9(t)
			t.Logf("killed instance A after %v", killedAt.Sub(began))

			for !out.reached(want) {
				if time.Now().After(deadline) {
					missing := 0
					for k, c := range want {
						if out.last[k] < c {
							missing++
						}
					}
					t.Fatalf("%d of %d windows short after the deadline\nB:\n%s", missing, len(want), b.Log.Tail(40))
				}
				out.poll(t, time.Second)
			}
			t.Logf("%d windows complete %v after the kill (%d output records, %d out-of-step updates); %.0f events/s overall",
				len(want), time.Since(killedAt), out.records, out.gaps, float64(n)/time.Since(began).Seconds())

			for k, c := range want {
				got := out.last[k]
				if guarantee == streams.ExactlyOnce && got != c {
					t.Errorf("window %v: count %d, want exactly %d", k, got, c)
				}
				if got < c {
					t.Errorf("window %v: count %d, want at least %d", k, got, c)
				}
			}
			if guarantee == streams.ExactlyOnce && out.gaps != 0 {
				t.Errorf("%d updates were duplicated or lost under exactly_once_v2", out.gaps)
			}
			for name, in := range map[string]*proc.Process{"A": a, "B": b} {
				if strings.Contains(in.Log.String(), "DATA RACE") {
					t.Errorf("instance %s reported a data race:\n%s", name, in.Log.String())
				}
			}
			restored := regexp.MustCompile(`msg="restored state stores" .*records=([1-9][0-9]*)`)
			if !restored.MatchString(b.Log.String()) {
				t.Errorf("the survivor restored nothing from the changelogs:\n%s", b.Log.Tail(40))
			}
		})
	}
}
