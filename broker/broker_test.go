package broker_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/broker/record"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, addr, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	resp, err := adm.CreateTopic(t.Context(), partitions, 1, configs, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
}

// produce sends n records "key-i"/"value-i" and returns them per partition
// in acknowledged order.
func produce(t *testing.T, cl *kgo.Client, topic string, from, n int) map[int32][]string {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", i), Value: fmt.Appendf(nil, "value-%d", i)})
	}
	results := cl.ProduceSync(t.Context(), recs...)
	if err := results.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	got := map[int32][]string{}
	for _, r := range results {
		got[r.Record.Partition] = append(got[r.Record.Partition], string(r.Record.Value))
	}
	return got
}

// consumeAll reads every partition of topic from the start until it has
// want records in total, and returns the values per partition in offset
// order, failing on a gap or a duplicate offset.
func consumeAll(t *testing.T, addr, topic string, want int) map[int32][]string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	got := map[int32][]string{}
	next := map[int32]int64{}
	total := 0
	for total < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before timing out", total, want)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d, expected %d", r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			total++
		})
	}
	return got
}

func sameRecords(t *testing.T, produced, consumed map[int32][]string) {
	t.Helper()
	for p, want := range produced {
		got := consumed[p]
		if len(got) != len(want) {
			t.Fatalf("partition %d: consumed %d records, produced %d", p, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("partition %d record %d: got %q, want %q", p, i, got[i], want[i])
			}
		}
	}
	for p := range consumed {
		if _, ok := produced[p]; !ok {
			t.Fatalf("partition %d: consumed records nobody produced", p)
		}
	}
}

func merge(into, from map[int32][]string) {
	for p, v := range from {
		into[p] = append(into[p], v...)
	}
}

func TestProduceConsumeEveryCodecAndAcks(t *testing.T) {
	srv := brokertest.Start(t)
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	acks := map[string]kgo.Acks{"acks0": kgo.NoAck(), "acks1": kgo.LeaderAck(), "acksall": kgo.AllISRAcks()}
	for cname, codec := range codecs {
		for aname, ack := range acks {
			t.Run(cname+"/"+aname, func(t *testing.T) {
				topic := "t-" + cname + "-" + aname
				createTopic(t, srv.Addr, topic, 3, nil)
				cl := newClient(t, srv.Addr, kgo.ProducerBatchCompression(codec), kgo.RequiredAcks(ack),
					kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
				const n = 2000
				produced := produce(t, cl, topic, 0, n)
				sameRecords(t, produced, consumeAll(t, srv.Addr, topic, n))
			})
		}
	}
}

// TestRestartAndCrash writes 100k records over several partitions,
// restarts cleanly, writes more, crashes (no flush, no clean marker),
// restarts, and reads every acknowledged record back exactly once in order.
func TestRestartAndCrash(t *testing.T) {
	srv := brokertest.Start(t, "log.segment.bytes=1048576")
	const topic = "durable"
	createTopic(t, srv.Addr, topic, 6, nil)
	produced := map[int32][]string{}
	write := func(from, n int) {
		cl := newClient(t, srv.Addr, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
			kgo.ProducerLinger(5*time.Millisecond))
		merge(produced, produce(t, cl, topic, from, n))
		cl.Close()
	}
	write(0, 100_000)
	srv.Restart()
	sameRecords(t, produced, consumeAll(t, srv.Addr, topic, 100_000))

	write(100_000, 20_000)
	srv.Crash()
	srv.Restart()
	sameRecords(t, produced, consumeAll(t, srv.Addr, topic, 120_000))
	// Appends continue at the right offsets after recovery.
	write(120_000, 1_000)
	sameRecords(t, produced, consumeAll(t, srv.Addr, topic, 121_000))
}

// rawRequest sends one request on a fresh connection and decodes the reply.
func rawRequest(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	cl := newClient(t, addr)
	resp, err := cl.Request(t.Context(), req)
	if err != nil {
		t.Fatalf("%T: %v", req, err)
	}
	return resp
}

func produceRaw(t *testing.T, addr, topic string, records []byte) *kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	cl := newClient(t, addr)
	resp, err := req.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return &resp.Topics[0].Partitions[0]
}

// batch encodes one valid uncompressed batch of n records with values of
// size bytes.
func batch(t *testing.T, n, size int) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	b := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	for i := range n {
		b.Add(record.Record{Offset: int64(i), Timestamp: now, Key: []byte("k"), Value: make([]byte, size)})
	}
	out, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBadInputIsRejectedAndServerKeepsServing(t *testing.T) {
	srv := brokertest.Start(t, "auto.create.topics.enable=false")
	createTopic(t, srv.Addr, "small", 1, map[string]*string{"max.message.bytes": ptr("2000")})
	createTopic(t, srv.Addr, "good", 1, nil)

	// A valid batch is accepted.
	if p := produceRaw(t, srv.Addr, "good", batch(t, 3, 10)); p.ErrorCode != 0 {
		t.Fatalf("valid batch: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	// A bad CRC is CORRUPT_MESSAGE.
	bad := batch(t, 3, 10)
	bad[len(bad)-1] ^= 0xff
	if p := produceRaw(t, srv.Addr, "good", bad); p.ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("bad crc: got %v", kerr.ErrorForCode(p.ErrorCode))
	}
	// A batch over max.message.bytes is MESSAGE_TOO_LARGE.
	if p := produceRaw(t, srv.Addr, "small", batch(t, 1, 5000)); p.ErrorCode != kerr.MessageTooLarge.Code {
		t.Fatalf("oversized: got %v", kerr.ErrorForCode(p.ErrorCode))
	}
	// A truncated batch is CORRUPT_MESSAGE.
	if p := produceRaw(t, srv.Addr, "good", batch(t, 3, 10)[:40]); p.ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("truncated: got %v", kerr.ErrorForCode(p.ErrorCode))
	}
	// An unknown topic with auto-create off is UNKNOWN_TOPIC_OR_PARTITION,
	// and Metadata does not create it.
	if p := produceRaw(t, srv.Addr, "nope", batch(t, 1, 1)); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: got %v", kerr.ErrorForCode(p.ErrorCode))
	}
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = ptr("nope")
	mreq.Topics = append(mreq.Topics, mt)
	mreq.AllowAutoTopicCreation = true
	if m := rawRequest(t, srv.Addr, mreq).(*kmsg.MetadataResponse); m.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata for unknown topic: %v", kerr.ErrorForCode(m.Topics[0].ErrorCode))
	}

	// Garbage frames close only their own connection.
	for _, frame := range [][]byte{
		{0, 0, 0, 2, 0xff, 0xff},                                // too short for a header
		{0x7f, 0xff, 0xff, 0xff},                                // size past socket.request.max.bytes
		{0, 0, 0, 10, 0, 99, 0, 0, 0, 0, 0, 1, 0, 0},            // unknown API key
		{0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0xff, 0xff}, // garbage produce body
	} {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(frame)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if _, err := c.Read(b[:]); err == nil {
			t.Errorf("frame %x: connection stayed open and answered", frame)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("frame %x: connection not closed", frame)
		}
		c.Close()
	}

	// Everything acknowledged is still there and the server still serves.
	cl := newClient(t, srv.Addr, kgo.DisableIdempotentWrite())
	produced := map[int32][]string{0: {"", "", ""}}
	merge(produced, produce(t, cl, "good", 0, 10))
	got := consumeAll(t, srv.Addr, "good", 13)
	if len(got[0]) != 13 {
		t.Fatalf("after bad input: %d records, want 13", len(got[0]))
	}
}

func ptr(s string) *string { return &s }

// A client with franz-go's defaults (idempotent writes requested) produces
// too: without InitProducerID in ApiVersions it writes without a producer ID.
func TestDefaultClientProduces(t *testing.T) {
	srv := brokertest.Start(t)
	cl := newClient(t, srv.Addr, kgo.AllowAutoTopicCreation())
	produced := produce(t, cl, "auto-created", 0, 100)
	sameRecords(t, produced, consumeAll(t, srv.Addr, "auto-created", 100))
}

// Produce v3+ carries exactly one batch per partition; two are INVALID_RECORD
// and nothing of them is appended.
func TestProduceTwoBatchesIsInvalid(t *testing.T) {
	srv := brokertest.Start(t)
	createTopic(t, srv.Addr, "one", 1, nil)
	two := append(batch(t, 1, 1), batch(t, 1, 1)...)
	if p := produceRaw(t, srv.Addr, "one", two); p.ErrorCode != kerr.InvalidRecord.Code {
		t.Fatalf("two batches: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if p := produceRaw(t, srv.Addr, "one", batch(t, 1, 1)); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("next batch: %v at offset %d, want offset 0", kerr.ErrorForCode(p.ErrorCode), p.BaseOffset)
	}
}
