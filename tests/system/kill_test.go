package system

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/runnel/runnel/tests/internal/proc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runnelBin is the runnel binary built once for this package's tests.
var runnelBin string

func TestMain(m *testing.M) { os.Exit(proc.Main(m, &runnelBin)) }

// startServer runs runnel server on dataDir and port and waits until it
// answers Metadata. It is killed at test cleanup if still running.
func startServer(t *testing.T, dataDir string, port int) *proc.Server {
	t.Helper()
	return proc.StartServer(t, proc.ServerSpec{Bin: runnelBin, DataDir: dataDir, Port: port, Overrides: []string{
		"log.segment.bytes=1048576",
		"connect.listeners=http://127.0.0.1:0",
	}})
}

// Every record acknowledged (acks=1) before a kill -9 is read back, once and
// in order, after the server restarts on the same data, and appends
// continue at the right offsets.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	dataDir := t.TempDir()
	port := proc.FreePort(t)
	srv := startServer(t, dataDir, port)

	const topic, partitions = "kill9", 4
	adm, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(adm).CreateTopic(t.Context(), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	adm.Close()

	acked := map[int32][]string{}
	produce := func(addr string, from, n int) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.LeaderAck()),
			kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
		}
		res := cl.ProduceSync(t.Context(), recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			acked[r.Record.Partition] = append(acked[r.Record.Partition], string(r.Record.Value))
		}
	}
	produce(srv.Addr, 0, 50_000)
	srv.Kill9(t)

	srv = startServer(t, dataDir, port)
	produce(srv.Addr, 50_000, 5_000)
	srv.Kill9(t)

	srv = startServer(t, dataDir, port)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	got := map[int32][]string{}
	next := map[int32]int64{}
	for n := 0; n < 55_000; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 55000 acknowledged records", n)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			n++
		})
	}
	for p, want := range acked {
		if len(got[p]) != len(want) {
			t.Fatalf("partition %d: read %d records, %d were acknowledged", p, len(got[p]), len(want))
		}
		for i := range want {
			if got[p][i] != want[i] {
				t.Fatalf("partition %d offset %d: %q, want %q", p, i, got[p][i], want[i])
			}
		}
	}
}
