package connect_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/connect"
)

// BenchmarkSource measures a source task end to end (poll, convert,
// produce, acknowledge, offset commit) beside the limit of the same records
// produced directly with franz-go's idempotent producer to the same broker.
func BenchmarkSource(b *testing.B) {
	br := brokertest.Start(b)
	b.Run("connect", func(b *testing.B) {
		reg := testRegistry(b, &sinkStore{})
		offs := connect.NewMemoryOffsetStore()
		h := newHerder(b, br.Addr, reg, offs)
		defer h.Close()
		ctx := context.Background()
		name := "bench-" + strconv.Itoa(b.N)
		b.ResetTimer()
		config := map[string]string{"name": name, "connector.class": "SeqSource", "topic": name, "count": strconv.Itoa(b.N)}
		if _, _, err := h.PutConnectorConfig(ctx, name, config, "", false); err != nil {
			b.Fatal(err)
		}
		waitFor(b, "all records acknowledged", func() bool {
			o, _ := offs.Offsets(ctx, name)
			return len(o) == 1 && o[0].Offset["seq"] == int64(b.N-1)
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("kgo-direct", func(b *testing.B) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr), kgo.AllowAutoTopicCreation())
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		topic := "direct-" + strconv.Itoa(b.N)
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("v-%d", i))}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
