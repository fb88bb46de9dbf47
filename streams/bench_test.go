package streams_test

import (
	"strconv"
	"testing"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
)

// discard is a RecordCollector that counts and drops records.
type discard struct{ n int }

func (d *discard) Send(streams.OutputRecord) error { d.n++; return nil }

// BenchmarkTask measures records per second through a task, beside the
// limit measured in the same run: decoding and encoding the same records
// with the same serdes and nothing else.
func BenchmarkTask(b *testing.B) {
	keys := make([][]byte, 1024)
	vals := make([][]byte, 1024)
	for i := range keys {
		keys[i] = []byte("key-" + strconv.Itoa(i%64))
		vals[i] = []byte("value-" + strconv.Itoa(i))
	}
	run := func(b *testing.B, build func(*streams.Builder)) {
		bld := streams.NewBuilder()
		build(bld)
		topo, err := bld.Build()
		if err != nil {
			b.Fatal(err)
		}
		out := &discard{}
		task, err := topo.NewTask(streams.TaskConfig{ID: streams.TaskID{}, ApplicationID: "bench", Collector: out})
		if err != nil {
			b.Fatal(err)
		}
		defer task.Close()
		b.SetBytes(int64(len(keys[0]) + len(vals[0])))
		b.ResetTimer()
		for i := range b.N {
			j := i % len(keys)
			if err := task.Process(streams.InputRecord{Topic: "in", Offset: int64(i), Key: keys[j], Value: vals[j], Timestamp: int64(i)}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	// The limit: the same work written by hand, without the engine —
	// decode, filter, map, encode, hand to the collector.
	b.Run("limit-hand-written", func(b *testing.B) {
		s := serde.String()
		out := &discard{}
		b.SetBytes(int64(len(keys[0]) + len(vals[0])))
		for i := range b.N {
			j := i % len(keys)
			k, err := s.Deserialize("in", keys[j])
			if err != nil {
				b.Fatal(err)
			}
			v, err := s.Deserialize("in", vals[j])
			if err != nil {
				b.Fatal(err)
			}
			if len(v) == 0 {
				continue
			}
			kb, _ := s.Serialize("out", k)
			vb, _ := s.Serialize("out", v)
			_ = out.Send(streams.OutputRecord{Topic: "out", Key: kb, Value: vb, Timestamp: int64(i), Partition: -1})
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("filter-mapvalues-to", func(b *testing.B) {
		run(b, func(bld *streams.Builder) {
			s := streams.StreamOf(bld, "in", serde.String(), serde.String())
			streams.MapValues(s.Filter(func(k, v string) bool { return len(v) > 0 }), func(k, v string) string { return v }).
				To("out", serde.String(), serde.String())
		})
	})
	b.Run("count-in-memory-store", func(b *testing.B) {
		run(b, func(bld *streams.Builder) {
			s := streams.StreamOf(bld, "in", serde.String(), serde.String())
			streams.Count(streams.GroupByKey(s), streams.Materialized("c", streams.InMemory(), streams.WithLogging(false, nil))).
				ToStream().To("out", serde.String(), serde.Int64())
		})
	})
}
