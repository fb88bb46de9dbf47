package streams_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// countTopology re-keys "words" records by value and counts them per key
// into store "counts", writing every update to "counts-out". The re-key
// makes a repartition topic and a second sub-topology.
func countTopology(t *testing.T) *streams.Topology {
	t.Helper()
	b := streams.NewBuilder()
	words := streams.StreamOf(b, "words", serde.String(), serde.String())
	grouped := streams.GroupBy(words, func(_, v string) string { return v }, streams.Named("by-word"),
		streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	streams.Count(grouped, streams.Materialized("counts")).ToStream().To("counts-out", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func newAdmin(t *testing.T, addr string) (*kgo.Client, *kadm.Client) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl, kadm.NewClient(cl)
}

func createTopic(t *testing.T, adm *kadm.Client, name string, partitions int32) {
	t.Helper()
	resp, err := adm.CreateTopic(t.Context(), partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// produceWords writes n records whose values cycle through keys words.
func produceWords(t *testing.T, cl *kgo.Client, from, n, keys int) {
	t.Helper()
	var rs []*kgo.Record
	for i := from; i < from+n; i++ {
		rs = append(rs, &kgo.Record{Topic: "words", Key: []byte(strconv.Itoa(i)), Value: []byte("w" + strconv.Itoa(i%keys))})
	}
	if err := cl.ProduceSync(t.Context(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readCounts consumes "counts-out" (read_committed) until every key's
// last value reaches want, and returns every value seen per key in order.
func readCounts(t *testing.T, addr string, want map[string]int64) map[string][]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("counts-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	seen := map[string][]int64{}
	done := func() bool {
		for k, n := range want {
			v := seen[k]
			if len(v) == 0 || v[len(v)-1] < n {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("timed out; have %v, want %v", lastValues(seen), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v, err := serde.Int64().Deserialize(r.Topic, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			seen[string(r.Key)] = append(seen[string(r.Key)], v)
		})
	}
	return seen
}

func lastValues(m map[string][]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v[len(v)-1]
		}
	}
	return out
}

// startApp runs an App until the test ends and waits for RUNNING.
func startApp(t *testing.T, topo *streams.Topology, cfg streams.Config) (*streams.App, <-chan error) {
	t.Helper()
	app, err := streams.NewApp(topo, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	t.Cleanup(func() { app.Close() })
	deadline := time.Now().Add(60 * time.Second)
	for app.State() != streams.Running {
		if time.Now().After(deadline) {
			t.Fatalf("app state %s after 60s", app.State())
		}
		select {
		case err := <-done:
			t.Fatalf("app stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return app, done
}

func TestAppCountsExactlyAndRestores(t *testing.T) {
	cases := []struct {
		name, guarantee string
		// cache is statestore.cache.max.bytes; -1 forwards every update.
		cache int64
	}{
		{"at_least_once", streams.AtLeastOnce, 0},
		{"exactly_once_v2", streams.ExactlyOnce, -1},
		{"exactly_once_v2/cached", streams.ExactlyOnce, 0},
	}
	for _, tc := range cases {
		guarantee := tc.guarantee
		// checkUpdates asserts exactly-once output: without a cache every
		// update of a key, in order, exactly once; with one (updates of a
		// key folded until the cache flushes) strictly increasing counts.
		checkUpdates := func(t *testing.T, seen map[string][]int64, when string) {
			t.Helper()
			if guarantee != streams.ExactlyOnce {
				return
			}
			for k, vs := range seen {
				for i, v := range vs {
					if tc.cache < 0 && v != int64(i+1) || tc.cache >= 0 && i > 0 && v <= vs[i-1] {
						t.Fatalf("%skey %s: update %d is %d; updates %v", when, k, i, v, vs)
					}
				}
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			srv := brokertest.Start(t)
			cl, adm := newAdmin(t, srv.Addr)
			createTopic(t, adm, "words", 3)
			createTopic(t, adm, "counts-out", 3)
			const keys, n = 20, 2000
			produceWords(t, cl, 0, n, keys)

			stateDir := t.TempDir()
			reg := prometheus.NewRegistry()
			cfg := streams.Config{
				ApplicationID:       "wc",
				BootstrapServers:    []string{srv.Addr},
				ProcessingGuarantee: guarantee,
				CommitInterval:      200 * time.Millisecond,
				StateDir:            stateDir,
				ApplicationServer:   "127.0.0.1:7070",
				NumStreamThreads:    2,
				Registerer:          reg,
				ClientOptions:       []kgo.Opt{kgo.SessionTimeout(6 * time.Second)},
				CacheMaxBytes:       tc.cache,
			}
			topo := countTopology(t)
			app, done := startApp(t, topo, cfg)

			want := map[string]int64{}
			for i := range n {
				want["w"+strconv.Itoa(i%keys)]++
			}
			seen := readCounts(t, srv.Addr, want)
			checkUpdates(t, seen, "")

			// Interactive queries see the same counts.
			q, err := streams.QueryKeyValue[string, int64](app, "counts")
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range want {
				got, ok, err := q.Get(k)
				if err != nil || !ok || got != w {
					t.Fatalf("query %s = %d, %v, %v; want %d", k, got, ok, err, w)
				}
			}
			kb, _ := serde.String().Serialize("", "w1")
			md, err := app.MetadataForKey("counts", kb)
			if err != nil || md.ActiveHost.String() != "127.0.0.1:7070" || !app.IsLocal(md) {
				t.Fatalf("MetadataForKey = %+v, %v", md, err)
			}
			if got := counterValue(t, reg, "runnel_streams_records_processed_total"); got < 2*n {
				t.Fatalf("records processed metric %v, want at least %d (input and repartition)", got, 2*n)
			}

			if err := app.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			ckpts, _ := filepath.Glob(filepath.Join(stateDir, "wc", "1_*", state.CheckpointFile))
			if len(ckpts) != 3 {
				t.Fatalf("checkpoints after a clean close: %v, want one per count task", ckpts)
			}

			// A new instance on the same state directory restores from the
			// checkpoints and keeps counting.
			produceWords(t, cl, n, n, keys)
			cfg.Registerer = nil
			startApp(t, topo, cfg)
			for k := range want {
				want[k] *= 2
			}
			seen = readCounts(t, srv.Addr, want)
			checkUpdates(t, seen, "after restart, ")
			for k, w := range want {
				if got := lastValues(seen)[k]; got != w {
					t.Fatalf("after restart, %s = %d, want %d", k, got, w)
				}
			}
		})
	}
}

// counterValue returns the value of the counter of that name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestAppStartErrors(t *testing.T) {
	srv := brokertest.Start(t)
	_, adm := newAdmin(t, srv.Addr)
	createTopic(t, adm, "left", 2)
	createTopic(t, adm, "right", 3)

	joined := func() *streams.Topology {
		b := streams.NewBuilder()
		l := streams.StreamOf(b, "left", serde.String(), serde.String())
		r := streams.TableOf(b, "right", serde.String(), serde.String())
		streams.JoinTable(l, r, func(_, a, b string) string { return a + b }).To("joined", serde.String(), serde.String())
		topo, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return topo
	}()
	missing := func() *streams.Topology {
		b := streams.NewBuilder()
		streams.StreamOf(b, "nope", serde.String(), serde.String()).To("x", serde.String(), serde.String())
		topo, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return topo
	}()
	for _, tc := range []struct {
		name string
		topo *streams.Topology
		want error
	}{
		{"not co-partitioned", joined, streams.ErrCopartition},
		{"missing source topic", missing, streams.ErrMissingSourceTopic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := streams.NewApp(tc.topo, streams.Config{ApplicationID: "bad", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err = app.Run(ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
			if app.State() != streams.Error {
				t.Fatalf("state %s, want ERROR", app.State())
			}
			t.Log(err)
		})
	}
}

// TestAppGlobalTable joins a stream with a global table: rows written
// before the start are loaded before any record is processed, rows
// written later reach the store while the App runs.
func TestAppGlobalTable(t *testing.T) {
	srv := brokertest.Start(t)
	cl, adm := newAdmin(t, srv.Addr)
	createTopic(t, adm, "countries", 2)
	createTopic(t, adm, "orders", 3)
	createTopic(t, adm, "orders-out", 1)
	row := func(code, name string) *kgo.Record {
		return &kgo.Record{Topic: "countries", Key: []byte(code), Value: []byte(name)}
	}
	order := func(id, code string) *kgo.Record {
		return &kgo.Record{Topic: "orders", Key: []byte(id), Value: []byte(code)}
	}
	if err := cl.ProduceSync(t.Context(), row("DE", "Germany"), row("FR", "France")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	b := streams.NewBuilder()
	countries := streams.GlobalTableOf(b, "countries", serde.String(), serde.String())
	orders := streams.StreamOf(b, "orders", serde.String(), serde.String())
	streams.JoinGlobal(orders, countries, func(_, code string) string { return code },
		func(id, _, country string) string { return id + " ships to " + country }).To("orders-out", serde.String(), serde.String())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, _ := startApp(t, topo, streams.Config{ApplicationID: "glob", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond})
	if err := cl.ProduceSync(t.Context(), order("o1", "DE"), order("o2", "FR"), order("o3", "XX")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("orders-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	got := map[string]bool{}
	wait := func(want ...string) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		for {
			missing := false
			for _, w := range want {
				missing = missing || !got[w]
			}
			if !missing {
				return
			}
			fs := out.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("have %v, want %v", got, want)
			}
			fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
		}
	}
	wait("o1 ships to Germany", "o2 ships to France")
	// The global store answers interactive queries with every row.
	gq, err := streams.QueryKeyValue[string, string](app, countries.StoreName())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := gq.Get("FR"); err != nil || !ok || v != "France" {
		t.Errorf("global store Get(FR) = %q, %v, %v; want France", v, ok, err)
	}
	if all, err := gq.All(); err != nil || len(all) != 2 {
		t.Errorf("global store All = %v, %v; want the two rows", all, err)
	}
	if err := cl.ProduceSync(t.Context(), row("XX", "Nowhere")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The row reaches the global store asynchronously; send orders until
	// one joins it.
	deadline := time.Now().Add(30 * time.Second)
	joined := func() bool {
		for v := range got {
			if strings.HasSuffix(v, " ships to Nowhere") {
				return true
			}
		}
		return false
	}
	for i := 0; !joined(); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("a row written while the App runs never joined: %v", got)
		}
		if err := cl.ProduceSync(t.Context(), order("o4-"+strconv.Itoa(i), "XX")).FirstErr(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		out.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
		cancel()
	}
	if got["o3 ships to "] || len(got) == 0 {
		t.Fatalf("an order without a row joined: %v", got)
	}
	if v, ok, err := gq.Get("XX"); err != nil || !ok || v != "Nowhere" {
		t.Errorf("global store Get(XX) after the row arrived = %q, %v, %v; want Nowhere", v, ok, err)
	}
}

// TestAppPurgesRepartitionTopics counts words re-keyed through a
// repartition topic and checks that, once everything is committed, the
// topic's records below the committed offsets are deleted
// (repartition.purge.interval.ms) and that the counts are whole.
func TestAppPurgesRepartitionTopics(t *testing.T) {
	for _, guarantee := range []string{streams.AtLeastOnce, streams.ExactlyOnce} {
		t.Run(guarantee, func(t *testing.T) {
			srv := brokertest.Start(t)
			cl, adm := newAdmin(t, srv.Addr)
			createTopic(t, adm, "lines", 2)
			createTopic(t, adm, "word-counts", 1)
			b := streams.NewBuilder()
			words := streams.StreamOf(b, "lines", serde.String(), serde.String())
			streams.Count(streams.GroupBy(words, func(_, v string) string { return v }, streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))).
				ToStream().To("word-counts", serde.String(), serde.Int64())
			topo, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			const appID, n = "purge", 300
			var recs []*kgo.Record
			for i := range n {
				recs = append(recs, &kgo.Record{Topic: "lines", Key: []byte(strconv.Itoa(i)), Value: []byte("w" + strconv.Itoa(i%3))})
			}
			if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			startApp(t, topo, streams.Config{ApplicationID: appID, BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(),
				ProcessingGuarantee: guarantee, CommitInterval: 50 * time.Millisecond, RepartitionPurgeInterval: time.Millisecond, CacheMaxBytes: -1})

			rep := topo.RepartitionTopics(appID)
			if len(rep) != 1 {
				t.Fatalf("repartition topics %v, want one", rep)
			}
			// Every record of the repartition topic is eventually consumed,
			// committed and deleted: each partition's start offset reaches
			// the group's committed offset, which reaches the end (under
			// exactly_once_v2 the last transaction's commit marker may
			// follow the committed offset).
			slack := int64(0)
			if guarantee == streams.ExactlyOnce {
				slack = 1
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				starts, err1 := adm.ListStartOffsets(t.Context(), rep[0])
				ends, err2 := adm.ListEndOffsets(t.Context(), rep[0])
				committed, err3 := adm.FetchOffsets(t.Context(), appID)
				done, total := err1 == nil && err2 == nil && err3 == nil, int64(0)
				var state []string
				if done {
					ends.Each(func(e kadm.ListedOffset) {
						s, _ := starts.Lookup(e.Topic, e.Partition)
						c, _ := committed.Lookup(e.Topic, e.Partition)
						total += e.Offset
						state = append(state, fmt.Sprintf("p%d start %d committed %d end %d", e.Partition, s.Offset, c.At, e.Offset))
						done = done && s.Offset == c.At && c.At >= e.Offset-slack
					})
				}
				if done && total >= n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("repartition topic %s not purged: %v (errors %v, %v, %v)", rep[0], state, err1, err2, err3)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Purging lost nothing: the last count of each word is n/3.
			out, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("word-counts"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			last := map[string]int64{}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			for (last["w0"] < n/3 || last["w1"] < n/3 || last["w2"] < n/3) && ctx.Err() == nil {
				out.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					v, _ := serde.Int64().Deserialize("", r.Value)
					last[string(r.Key)] = v
				})
			}
			if len(last) != 3 || last["w0"] != n/3 || last["w1"] != n/3 || last["w2"] != n/3 {
				t.Errorf("final counts %v, want %d for each of w0, w1, w2", last, n/3)
			}
		})
	}
}
