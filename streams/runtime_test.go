package streams

import (
	"context"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestExactlyOnceAbortRebuildsState aborts a transaction that changed a
// store and wrote output, and checks that the thread rebuilds the store
// from the changelog: the aborted update is gone from the store, never
// visible to read_committed consumers, and counting resumes exactly.
func TestExactlyOnceAbortRebuildsState(t *testing.T) {
	srv := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, tp := range []string{"words", "counts-out"} {
		if _, err := adm.CreateTopic(t.Context(), 1, 1, nil, tp); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBuilder()
	Count(GroupByKey(StreamOf(b, "words", serde.String(), serde.String())), Materialized("counts")).
		ToStream().To("counts-out", serde.String(), serde.Int64())
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	produce := func(n int) {
		for range n {
			if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "words", Key: []byte("a"), Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(10)
	app, err := NewApp(topo, Config{ApplicationID: "abort", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(),
		ProcessingGuarantee: ExactlyOnce, CacheMaxBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	defer func() {
		app.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	out, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("counts-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var seen []int64
	readUntil := func(last int64) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		for len(seen) == 0 || seen[len(seen)-1] < last {
			fs := out.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("output %v, waiting for %d", seen, last)
			}
			fs.EachRecord(func(r *kgo.Record) {
				v, _ := serde.Int64().Deserialize("", r.Value)
				seen = append(seen, v)
			})
		}
	}
	readUntil(10)

	th := app.threadList()[0]
	th.mu.Lock()
	if !th.txnOpen {
		if err := th.sess.Begin(); err != nil {
			t.Fatal(err)
		}
		th.txnOpen = true
	}
	var rt *runTask
	for _, x := range th.tasks {
		rt = x
	}
	if err := rt.task.Process(InputRecord{Topic: "words", Partition: 0, Offset: 1 << 40, Key: []byte("a"), Value: []byte("x"), Timestamp: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if err := rt.task.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := th.sess.End(t.Context(), kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	th.txnOpen = false
	err = th.rebuild(t.Context())
	th.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	q, err := QueryKeyValue[string, int64](app, "counts")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok, err := q.Get("a"); err != nil || !ok || n != 10 {
		t.Fatalf("after the abort the store holds %d, %v, %v; want the committed 10", n, ok, err)
	}
	produce(2)
	readUntil(12)
	for i, v := range seen {
		if v != int64(i+1) {
			t.Fatalf("committed output %v: update %d is %d", seen, i, v)
		}
	}
}
