package server_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/broker/record"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cuttingConn closes its connection right after its n-th write went out:
// the broker gets the request, the client never sees the answer.
type cuttingConn struct {
	net.Conn
	left int
}

func (c *cuttingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.left--
	if c.left == 0 {
		c.Conn.Close()
	}
	return n, err
}

// TestIdempotentProduceSurvivesCutConnections produces with franz-go's
// default (idempotent) producer while the first connections are cut right
// after a request went out, so that batches the broker wrote are retried.
// Every record must come back exactly once and in order.
func TestIdempotentProduceSurvivesCutConnections(t *testing.T) {
	srv := startServer(t)
	const topic, n = "exactly-once", 3000
	_, adm := srv.clients(t)
	mustCreate(t, adm, 1, nil, topic)

	var dials atomic.Int32
	var cuts atomic.Int32
	dialer := func(ctx context.Context, network, host string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, host)
		if err != nil {
			return nil, err
		}
		// The first 8 connections are cut after a few writes each; the
		// ones after stay up, so the test ends.
		if i := dials.Add(1); i <= 8 {
			cuts.Add(1)
			return &cuttingConn{Conn: nc, left: 3 + int(i)%4}, nil
		}
		return nc, nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(srv.addr),
		kgo.Dialer(dialer),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(time.Millisecond),
		kgo.MaxBufferedRecords(200),
		kgo.ProducerBatchMaxBytes(2000),
		kgo.RecordRetries(1000),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for i := range n {
		wg.Add(1)
		cl.Produce(t.Context(), &kgo.Record{Value: []byte(strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d records failed, first: %v", len(failed), failed[0])
	}
	if cuts.Load() == 0 {
		t.Fatal("no connection was cut")
	}

	got := consumeAll(t, srv.addr, topic, n)
	for i, v := range got {
		if v != strconv.Itoa(i) {
			t.Fatalf("record %d is %q, want %d (every record once, in order)", i, v, i)
		}
	}
}

// consumeAll reads the values of partition 0 of topic from the start until
// the high watermark, expecting want records.
func consumeAll(t *testing.T, addr, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, adm := (testServer{addr: addr}).clients(t)
	ends, err := adm.ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	if end.Offset != int64(want) {
		t.Fatalf("the partition ends at offset %d, want %d (records written twice or lost)", end.Offset, want)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var vals []string
	for len(vals) < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d records: %v", len(vals), err)
		}
		fs.EachRecord(func(r *kgo.Record) { vals = append(vals, string(r.Value)) })
	}
	return vals
}

// rawProduce sends one idempotent batch of values at produce v9 and returns
// the partition's answer.
func rawProduce(t *testing.T, c *rawClient, topic string, pid int64, epoch int16, seq int32, values ...string) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	bb := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq})
	for i, v := range values {
		bb.Add(record.Record{Offset: int64(i), Timestamp: 1000, Value: []byte(v)})
	}
	b, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := do[*kmsg.ProduceResponse](c, req)
	return resp.Topics[0].Partitions[0]
}

func initProducerID(t *testing.T, c *rawClient, version int16, txnID *string) *kmsg.InitProducerIDResponse {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(version)
	req.TransactionalID = txnID
	req.ProducerID, req.ProducerEpoch = -1, -1
	req.TransactionTimeoutMillis = 60000
	return do[*kmsg.InitProducerIDResponse](c, req)
}

func TestInitProducerIDAndSequenceErrors(t *testing.T) {
	bt := brokertest.Start(t)
	srv := testServer{addr: bt.Addr}
	const topic = "raw-idem"
	_, adm := srv.clients(t)
	mustCreate(t, adm, 1, nil, topic)
	c := dialRaw(t, srv.addr)

	seen := map[int64]bool{}
	for v := int16(0); v <= 4; v++ {
		r := initProducerID(t, c, v, nil)
		if r.ErrorCode != 0 || r.ProducerEpoch != 0 || r.ProducerID < 0 || seen[r.ProducerID] {
			t.Fatalf("InitProducerID v%d: code %s, id %d epoch %d (seen %v)", v, codeName(r.ErrorCode), r.ProducerID, r.ProducerEpoch, seen)
		}
		seen[r.ProducerID] = true
	}
	// No node coordinates a transactional ID before __transaction_state
	// exists (FindCoordinator creates it).
	if r := initProducerID(t, c, 4, strp("tx")); r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("transactional InitProducerID before FindCoordinator: %s", codeName(r.ErrorCode))
	}
	pid := initProducerID(t, c, 4, nil).ProducerID

	first := rawProduce(t, c, topic, pid, 0, 0, "a", "b")
	if first.ErrorCode != 0 {
		t.Fatalf("first batch: %s", codeName(first.ErrorCode))
	}
	second := rawProduce(t, c, topic, pid, 0, 2, "c")
	tests := []struct {
		name       string
		epoch      int16
		seq        int32
		values     []string
		wantCode   int16
		wantOffset int64
	}{
		{"duplicate of the first batch", 0, 0, []string{"a", "b"}, 0, first.BaseOffset},
		{"duplicate of the second batch", 0, 2, []string{"c"}, 0, second.BaseOffset},
		{"gap", 0, 5, []string{"x"}, kerr.OutOfOrderSequenceNumber.Code, -1},
		{"in order", 0, 3, []string{"d"}, 0, second.BaseOffset + 1},
		{"new epoch", 1, 0, []string{"e"}, 0, second.BaseOffset + 2},
		{"fenced epoch", 0, 4, []string{"y"}, kerr.InvalidProducerEpoch.Code, -1},
	}
	for _, tt := range tests {
		got := rawProduce(t, c, topic, pid, tt.epoch, tt.seq, tt.values...)
		if got.ErrorCode != tt.wantCode || got.BaseOffset != tt.wantOffset {
			t.Fatalf("%s: code %s base offset %d, want %s at %d", tt.name, codeName(got.ErrorCode), got.BaseOffset, codeName(tt.wantCode), tt.wantOffset)
		}
	}
	if got := consumeAll(t, srv.addr, topic, 5); fmt.Sprint(got) != "[a b c d e]" {
		t.Fatalf("the partition holds %v", got)
	}

	// Producer IDs never repeat across a restart.
	bt.Restart()
	c = dialRaw(t, bt.Addr)
	if r := initProducerID(t, c, 4, nil); r.ErrorCode != 0 || seen[r.ProducerID] || r.ProducerID == pid {
		t.Fatalf("after a restart: code %s, id %d was given before", codeName(r.ErrorCode), r.ProducerID)
	}
}
