package streams

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestStandbyReplicasProperty(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"0", 0, false},
		{"2", 2, false},
		{"-1", 0, true},
		{"one", 0, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c, err := ConfigFromProperties(map[string]string{"num.standby.replicas": tc.value})
			if tc.wantErr {
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "num.standby.replicas") {
					t.Fatalf("num.standby.replicas=%s: %v, want an ErrConfig naming the key", tc.value, err)
				}
				return
			}
			if err != nil || c.NumStandbyReplicas != tc.want {
				t.Fatalf("num.standby.replicas=%s: %d, %v", tc.value, c.NumStandbyReplicas, err)
			}
		})
	}
	_, err := NewApp(&Topology{}, Config{ApplicationID: "a", BootstrapServers: []string{"x:1"}, NumStandbyReplicas: -1})
	if err == nil {
		t.Fatal("NewApp accepted a negative NumStandbyReplicas")
	}
}

// standbyView reads an App's tasks through its threads: how many active
// and standby tasks it has, and the "counts" store of each kind merged
// over its tasks. It reads standby stores directly, not through
// interactive queries, which see active tasks only.
func standbyView(t *testing.T, a *App) (active, standby int, activeCounts, standbyCounts map[string]int64) {
	t.Helper()
	activeCounts, standbyCounts = map[string]int64{}, map[string]int64{}
	read := func(task *Task, into map[string]int64) {
		kv, err := GetKeyValueStore[string, int64](task, "counts")
		if err != nil {
			t.Fatal(err)
		}
		all, err := kv.All()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all {
			into[e.Key] = e.Value
		}
	}
	for _, th := range a.threadList() {
		th.mu.Lock()
		active += len(th.tasks)
		standby += len(th.standbys)
		for _, rt := range th.tasks {
			read(rt.task, activeCounts)
		}
		for _, sb := range th.standbys {
			read(sb.task, standbyCounts)
		}
		th.mu.Unlock()
	}
	return active, standby, activeCounts, standbyCounts
}

// metricValue returns the value of the counter or gauge of that name in
// reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// waitFor polls cond until it holds, failing the test after a minute with
// the message of the last try.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s", what, msg)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestStandbyReplicasFailover runs two instances of a per-key count with
// num.standby.replicas=1: each keeps a standby of the other's tasks,
// current from the changelogs; when one instance closes, the other takes
// its tasks over restoring only what its standbys had not applied (nothing
// here, where without standbys it would restore the whole changelog of
// those tasks) and keeps counting exactly (exactly_once_v2) or at least
// exactly (at_least_once).
func TestStandbyReplicasFailover(t *testing.T) {
	for _, tc := range []struct {
		guarantee string
		threads   int
	}{
		{AtLeastOnce, 1},
		{ExactlyOnce, 1},
		{AtLeastOnce, 2}, // standbys never share an instance with their active task
	} {
		guarantee := tc.guarantee
		t.Run(guarantee+"/threads="+strconv.Itoa(tc.threads), func(t *testing.T) {
			srv := brokertest.Start(t)
			cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)
			for _, tp := range []string{"events", "counts-out"} {
				resp, err := adm.CreateTopic(t.Context(), 4, 1, nil, tp)
				if err == nil {
					err = resp.Err
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			b := NewBuilder()
			Count(GroupByKey(StreamOf(b, "events", serde.String(), serde.String())), Materialized("counts")).
				ToStream().To("counts-out", serde.String(), serde.Int64())
			topo, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			const keys = 40
			want := map[string]int64{}
			produce := func(from, n int) {
				t.Helper()
				var rs []*kgo.Record
				for i := from; i < from+n; i++ {
					k := "k" + strconv.Itoa(i%keys)
					want[k]++
					rs = append(rs, &kgo.Record{Topic: "events", Key: []byte(k), Value: []byte(strconv.Itoa(i))})
				}
				if err := cl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}

			type instance struct {
				app  *App
				reg  *prometheus.Registry
				dir  string
				done chan error
			}
			start := func() *instance {
				in := &instance{reg: prometheus.NewRegistry(), dir: t.TempDir(), done: make(chan error, 1)}
				in.app, err = NewApp(topo, Config{
					ApplicationID:       "standby",
					BootstrapServers:    []string{srv.Addr},
					ProcessingGuarantee: guarantee,
					NumStandbyReplicas:  1,
					NumStreamThreads:    tc.threads,
					CommitInterval:      100 * time.Millisecond,
					StateDir:            in.dir,
					CacheMaxBytes:       -1, // every update to the changelog
					Registerer:          in.reg,
					ClientOptions:       []kgo.Opt{kgo.SessionTimeout(6 * time.Second)},
				})
				if err != nil {
					t.Fatal(err)
				}
				go func() { in.done <- in.app.Run(context.Background()) }()
				t.Cleanup(func() { in.app.Close() })
				return in
			}
			a := start()
			waitFor(t, "the first instance to run the four tasks", func() (bool, string) {
				act, sb, _, _ := standbyView(t, a.app)
				return a.app.State() == Running && act == 4 && sb == 0, a.app.State().String()
			})
			b2 := start()
			split := func() (bool, string) {
				var msg string
				ok := true
				for _, in := range []*instance{a, b2} {
					act, sb, _, _ := standbyView(t, in.app)
					msg += in.app.State().String() + " active " + strconv.Itoa(act) + " standby " + strconv.Itoa(sb) + "; "
					ok = ok && in.app.State() == Running && act == 2 && sb == 2
				}
				return ok, msg
			}
			waitFor(t, "two active and two standby tasks per instance", split)

			const n = 2000
			produce(0, n)
			converged := func(t *testing.T) func() (bool, string) {
				return func() (bool, string) {
					_, _, a1, s1 := standbyView(t, a.app)
					_, _, a2, s2 := standbyView(t, b2.app)
					act, sb := maps.Clone(a1), maps.Clone(s1)
					maps.Copy(act, a2)
					maps.Copy(sb, s2)
					return maps.Equal(act, want) && maps.Equal(sb, want) && len(a1) > 0 && len(s1) > 0 && len(a2) > 0 && len(s2) > 0,
						"active " + strconv.Itoa(len(act)) + " keys, standby " + strconv.Itoa(len(sb)) + " keys"
				}
			}
			// Each instance's standbys hold exactly the counts its peer's
			// active tasks hold, for every key.
			waitFor(t, "the standbys to hold every count", converged(t))
			_, _, aActive, _ := standbyView(t, a.app)
			_, _, _, bStandby := standbyView(t, b2.app)
			if !maps.Equal(aActive, bStandby) {
				t.Fatalf("the second instance's standbys %v differ from the first's active tasks %v", bStandby, aActive)
			}
			if got := metricValue(t, b2.reg, "runnel_streams_standby_updated_records_total"); got < float64(n)/4 {
				t.Fatalf("standby updated records %v, want at least %d", got, n/4)
			}
			if got := metricValue(t, b2.reg, "runnel_streams_standby_tasks"); got != 2 {
				t.Fatalf("standby tasks gauge %v, want 2", got)
			}
			// Standbys checkpoint at commit intervals.
			var moving []int32
			waitFor(t, "standby checkpoints", func() (bool, string) {
				moving = moving[:0]
				for _, th := range b2.app.threadList() {
					th.mu.Lock()
					for _, sb := range th.standbys {
						moving = append(moving, sb.id.Partition)
						ck, err := state.ReadCheckpoint(filepath.Join(sb.dir, state.CheckpointFile))
						if err != nil || len(ck) == 0 {
							th.mu.Unlock()
							return false, "no checkpoint for " + sb.id.String()
						}
					}
					th.mu.Unlock()
				}
				return true, ""
			})

			// What the survivor would restore without standbys: the
			// changelog of the tasks it takes over.
			ends, err := adm.ListEndOffsets(t.Context(), ChangelogTopic("standby", "counts"))
			if err != nil {
				t.Fatal(err)
			}
			var full int64
			for _, p := range moving {
				o, _ := ends.Lookup(ChangelogTopic("standby", "counts"), p)
				full += o.Offset
			}
			if full < n/4 {
				t.Fatalf("changelog of the moving tasks holds %d records, want at least %d", full, n/4)
			}

			restoredBefore := metricValue(t, b2.reg, "runnel_streams_restored_records_total")
			if err := a.app.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-a.done; err != nil {
				t.Fatalf("first instance: %v", err)
			}
			waitFor(t, "the survivor to run every task", func() (bool, string) {
				act, sb, _, _ := standbyView(t, b2.app)
				return b2.app.State() == Running && act == 4 && sb == 0,
					b2.app.State().String() + " active " + strconv.Itoa(act) + " standby " + strconv.Itoa(sb)
			})
			restored := metricValue(t, b2.reg, "runnel_streams_restored_records_total") - restoredBefore
			t.Logf("taking over restored %v records; the changelog of the moved tasks holds %d", restored, full)
			// The standbys had applied everything: a clean close of the
			// first instance writes nothing new to the changelogs.
			if restored > 5 {
				t.Fatalf("the survivor restored %v records taking over, want almost none (the full changelog is %d)", restored, full)
			}
			if _, err := os.Stat(a.dir); err != nil {
				t.Fatal(err)
			}

			produce(n, 400)
			waitFor(t, "the survivor's final counts", func() (bool, string) {
				_, _, act, _ := standbyView(t, b2.app)
				for k, w := range want {
					if guarantee == ExactlyOnce && act[k] > w {
						t.Fatalf("key %s counted %d times, want exactly %d", k, act[k], w)
					}
					if act[k] < w {
						return false, k + " is " + strconv.FormatInt(act[k], 10) + ", want " + strconv.FormatInt(w, 10)
					}
				}
				return true, ""
			})
			if err := b2.app.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-b2.done; err != nil {
				t.Fatalf("second instance: %v", err)
			}
		})
	}
}
