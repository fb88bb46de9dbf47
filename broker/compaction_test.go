package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A compacted topic, after the cleaner ran, reads from the beginning as the
// latest value of every key, without tombstones older than
// delete.retention.ms, with increasing offsets and gaps where records were
// removed; appends continue after the last offset.
func TestCompactedTopicEndToEnd(t *testing.T) {
	srv := brokertest.Start(t)
	const topic = "compacted"
	createTopic(t, srv.Addr, topic, 1, map[string]*string{
		"cleanup.policy":            ptr("compact"),
		"segment.bytes":             ptr("1048576"),
		"min.cleanable.dirty.ratio": ptr("0.01"),
		"delete.retention.ms":       ptr("1"),
	})
	cl := newClient(t, srv.Addr, kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()))

	latest := map[string]string{}
	var pending []*kgo.Record
	send := func(key string, value *string) {
		r := &kgo.Record{Key: []byte(key)}
		if value != nil {
			r.Value = []byte(*value)
			latest[key] = *value
		} else {
			delete(latest, key)
		}
		pending = append(pending, r)
	}
	// flush produces the pending records in order (one partition, one
	// producer) and waits for every acknowledgement.
	flush := func() {
		if err := cl.ProduceSync(t.Context(), pending...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		pending = pending[:0]
	}
	pad := string(make([]byte, 1000))
	// 40 keys, 30 rounds of updates, every 7th key deleted in round 20.
	for round := range 30 {
		for k := range 40 {
			key := fmt.Sprintf("key-%02d", k)
			if round == 20 && k%7 == 0 {
				send(key, nil)
				continue
			}
			if round > 20 && k%7 == 0 {
				continue
			}
			v := fmt.Sprintf("v%d-%s-%s", round, key, pad)
			send(key, &v)
		}
	}
	// Fill more than a segment so everything above is in closed segments
	// below the high watermark, then clean twice: the first pass sets the
	// tombstones' delete horizon, a later pass past it removes them.
	for i := range 1200 {
		v := fmt.Sprintf("filler-%d-%s", i, pad)
		send("filler", &v)
	}
	flush()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if n, err := srv.Broker().CleanNow(ctx); err != nil || n == 0 {
		t.Fatalf("first clean: %d logs, %v", n, err)
	}
	time.Sleep(5 * time.Millisecond) // past delete.retention.ms=1 of the horizon set above
	v := "last"
	send("filler", &v)
	flush()
	if _, err := srv.Broker().CleanNow(ctx); err != nil {
		t.Fatalf("second clean: %v", err)
	}

	consumer := newClient(t, srv.Addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	seen := map[string]string{}
	tombstones := 0
	var lastOffset int64 = -1
	gaps := 0
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		fs := consumer.PollFetches(pctx)
		pcancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if pctx.Err() == nil {
				t.Fatal(err)
			}
		})
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset <= lastOffset {
				t.Fatalf("offset %d after %d", r.Offset, lastOffset)
			}
			if r.Offset > lastOffset+1 {
				gaps++
			}
			lastOffset = r.Offset
			if r.Value == nil {
				tombstones++
				return
			}
			seen[string(r.Key)] = string(r.Value)
		})
	}
	if gaps == 0 {
		t.Fatal("no offset gaps: nothing was compacted")
	}
	if tombstones != 0 {
		t.Fatalf("%d tombstones survived past delete.retention.ms", tombstones)
	}
	for k, want := range latest {
		if seen[k] != want {
			t.Fatalf("key %s: read %q, latest written %q", k, seen[k], want)
		}
	}
	for k := range seen {
		if _, ok := latest[k]; !ok {
			t.Fatalf("deleted key %s came back", k)
		}
	}
	// The cleaner's work shows in the metrics.
	metric := func(name string) float64 {
		t.Helper()
		mfs, err := srv.Metrics.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "topic" && l.GetValue() == topic {
						if m.GetCounter() != nil {
							return m.GetCounter().GetValue()
						}
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		t.Fatalf("metric %s for %s not exported", name, topic)
		return 0
	}
	if n := metric("runnel_log_cleaner_cleans_total"); n < 2 {
		t.Fatalf("runnel_log_cleaner_cleans_total = %v, want 2 or more", n)
	}
	if n := metric("runnel_log_cleaner_read_bytes_total"); n <= 0 {
		t.Fatalf("runnel_log_cleaner_read_bytes_total = %v", n)
	}
	if n := metric("runnel_log_cleaner_removed_records_total"); n <= 0 {
		t.Fatalf("runnel_log_cleaner_removed_records_total = %v", n)
	}
	if r := metric("runnel_log_cleaner_dirty_ratio"); r < 0 || r > 1 {
		t.Fatalf("runnel_log_cleaner_dirty_ratio = %v", r)
	}
	if leo := metric("runnel_log_end_offset"); leo != float64(lastOffset+1) {
		t.Fatalf("runnel_log_end_offset = %v, want %d", leo, lastOffset+1)
	}

	// Appends continue after the last offset.
	res := cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("after"), Value: []byte("x")})
	if err := res.FirstErr(); err != nil || res[0].Record.Offset <= lastOffset {
		t.Fatalf("append after cleaning: offset %d (last read %d), %v", res[0].Record.Offset, lastOffset, err)
	}
}
