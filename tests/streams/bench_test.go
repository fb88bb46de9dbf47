package streams

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkThroughput runs four consumers of the same input on the same
// runnel server process, each from its start to its last output:
//
//   - kgo-pipe: a franz-go group consumer producing every record it reads,
//     a bare consume-produce loop with no framework, writing every
//     record (the stateless app writes half);
//   - streams-map-filter: a stateless Streams app (Filter, MapValues, To)
//     keeping half the records;
//   - streams-count: a per-key Count whose every update goes to the
//     store's changelog;
//   - goka-count: goka's counter (Input, Persist), whose every update goes
//     to the group table (LevelDB storage, goka's default, as the
//     Streams store).
//
// Each reports records/s of input. Startup (group join) is included.
// RUNNEL_STREAMS_BENCH_RECORDS sets the input size (default 200000).
// Run with -benchtime=1x.
func BenchmarkThroughput(b *testing.B) {
	n := 200_000
	if v := os.Getenv("RUNNEL_STREAMS_BENCH_RECORDS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	srv := startServer(b)
	createTopics(b, srv.Addr, 4, "bench-in")
	cl := newClient(b, srv.Addr, kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100000))
	kept := 0
	value := []byte(strings.Repeat("v", 64))
	for i := range n {
		if i%2 == 0 {
			kept++
		}
		cl.Produce(context.Background(), &kgo.Record{Topic: "bench-in", Key: []byte("k" + strconv.Itoa(i%1000) + "-" + strconv.Itoa(i%2)), Value: value}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	// A short metadata age: franz-go answers metadata requests from a
	// cache younger than it, which would hide new topics for seconds.
	adm := kadm.NewClient(newClient(b, srv.Addr, kgo.MetadataMinAge(10*time.Millisecond)))
	run := 0
	measure := func(b *testing.B, start func(id string) (stop func()), doneTopic func(id string) string, want int) {
		var elapsed time.Duration
		for b.Loop() {
			run++
			id := b.Name()[strings.LastIndex(b.Name(), "/")+1:] + "-" + strconv.Itoa(run)
			began := time.Now()
			stop := start(id)
			topic := doneTopic(id)
			deadline := began.Add(5 * time.Minute)
			for {
				// Ask for offsets once the topic exists.
				if topics, err := adm.ListTopics(context.Background(), topic); err != nil || !topics.Has(topic) {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				if listed, err := adm.ListEndOffsets(context.Background(), topic); err == nil {
					var got int64
					listed.Each(func(o kadm.ListedOffset) { got += o.Offset })
					if got >= int64(want) {
						break
					}
				}
				if time.Now().After(deadline) {
					b.Fatalf("%s: output incomplete after 5 minutes", id)
				}
				time.Sleep(20 * time.Millisecond)
			}
			elapsed += time.Since(began)
			stop()
		}
		b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "records/s")
	}

	b.Run("kgo-pipe", func(b *testing.B) {
		measure(b, func(id string) func() {
			createTopics(b, srv.Addr, 4, id+"-out")
			c, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumerGroup(id), kgo.ConsumeTopics("bench-in"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ProducerLinger(5*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					fs := c.PollRecords(ctx, 1000)
					fs.EachRecord(func(r *kgo.Record) {
						c.Produce(ctx, &kgo.Record{Topic: id + "-out", Key: r.Key, Value: r.Value}, nil)
					})
				}
			}()
			return func() { cancel(); <-done; c.Close() }
		}, func(id string) string { return id + "-out" }, n)
	})

	b.Run("streams-map-filter", func(b *testing.B) {
		measure(b, func(id string) func() {
			createTopics(b, srv.Addr, 4, id+"-out")
			bld := streams.NewBuilder()
			s := streams.StreamOf(bld, "bench-in", serde.String(), serde.String())
			streams.MapValues(s.Filter(func(k, _ string) bool { return strings.HasSuffix(k, "-0") }),
				func(_, v string) string { return strings.ToUpper(v) }).To(id+"-out", serde.String(), serde.String())
			return startBenchApp(b, bld, id, srv.Addr)
		}, func(id string) string { return id + "-out" }, kept)
	})

	b.Run("streams-count", func(b *testing.B) {
		measure(b, func(id string) func() {
			bld := streams.NewBuilder()
			streams.Count(streams.GroupByKey(streams.StreamOf(bld, "bench-in", serde.String(), serde.String())), streams.Materialized("counts"))
			return startBenchApp(b, bld, id, srv.Addr)
		}, func(id string) string { return streams.ChangelogTopic(id, "counts") }, n)
	})

	b.Run("goka-count", func(b *testing.B) {
		measure(b, func(id string) func() {
			cfg := goka.DefaultConfig()
			cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
			tmc := goka.NewTopicManagerConfig()
			tmc.Table.Replication, tmc.Stream.Replication = 1, 1
			graph := goka.DefineGroup(goka.Group(id),
				goka.Input("bench-in", new(codec.String), func(ctx goka.Context, _ any) {
					n, _ := ctx.Value().(int64)
					ctx.SetValue(n + 1)
				}),
				goka.Persist(new(codec.Int64)))
			p, err := goka.NewProcessor([]string{srv.Addr}, graph,
				goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(cfg, tmc)),
				goka.WithProducerBuilder(goka.ProducerBuilderWithConfig(cfg)),
				goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(cfg)),
				goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(cfg)),
				goka.WithStorageBuilder(storage.DefaultBuilder(b.TempDir())))
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			return func() {
				cancel()
				if err := <-done; err != nil {
					b.Logf("goka: %v", err)
				}
			}
		}, func(id string) string { return string(goka.GroupTable(goka.Group(id))) }, n)
	})
}

// startBenchApp runs a Streams app (at_least_once, commit.interval.ms
// 100, no record cache: every update is written to the changelog, as goka
// writes every update to its table) until the returned stop is called.
func startBenchApp(b *testing.B, bld *streams.Builder, id, addr string) func() {
	topo, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	app, err := streams.NewApp(topo, streams.Config{ApplicationID: id, BootstrapServers: []string{addr}, StateDir: b.TempDir(), CommitInterval: 100 * time.Millisecond, CacheMaxBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	return func() {
		app.Close()
		if err := <-done; err != nil {
			b.Errorf("%s: %v", id, err)
		}
	}
}
