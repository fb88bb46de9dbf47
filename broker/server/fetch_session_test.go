package server_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sessionClient sends Fetch requests of one version by hand, naming topics
// as that version does (by name up to v12, by topic ID from v13).
type sessionClient struct {
	t       *testing.T
	c       *rawClient
	version int16
	ids     map[string][16]byte
	names   map[[16]byte]string
}

func newSessionClient(t *testing.T, addr string, version int16, topics ...string) *sessionClient {
	t.Helper()
	sc := &sessionClient{t: t, c: dialRaw(t, addr), version: version, ids: map[string][16]byte{}, names: map[[16]byte]string{}}
	for _, topic := range topics {
		mt := topicMeta(t, sc.c, topic)
		if mt == nil {
			t.Fatalf("topic %s not found", topic)
		}
		sc.ids[topic], sc.names[mt.TopicID] = mt.TopicID, topic
	}
	return sc
}

// fetchPart is one partition of a request, at an offset.
type fetchPart struct {
	topic     string
	partition int32
	offset    int64
}

// request builds a Fetch of parts for session id at epoch, forgetting
// the partitions in forget ("topic" → partitions).
func (sc *sessionClient) request(id, epoch, maxWaitMs int32, parts []fetchPart, forget map[string][]int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(sc.version)
	req.ReplicaID = -1
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWaitMs, 1, 1<<20
	req.SessionID, req.SessionEpoch = id, epoch
	for _, p := range parts {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != p.topic {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = p.topic, sc.ids[p.topic]
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.partition, p.offset, 1<<20
		rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	for topic, ps := range forget {
		ft := kmsg.NewFetchRequestForgottenTopic()
		ft.Topic, ft.TopicID, ft.Partitions = topic, sc.ids[topic], ps
		req.ForgottenTopics = append(req.ForgottenTopics, ft)
	}
	return req
}

// partResult is one partition of a response.
type partResult struct {
	err    int16
	hw     int64
	values []string
}

// fetched is a decoded response: its error, session and partitions by
// "topic-partition".
type fetched struct {
	err     int16
	session int32
	parts   map[string]partResult
}

func (f fetched) keys() []string {
	var ks []string
	for k := range f.parts {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (sc *sessionClient) fetch(req *kmsg.FetchRequest) fetched {
	sc.t.Helper()
	resp := do[*kmsg.FetchResponse](sc.c, req)
	out := fetched{err: resp.ErrorCode, session: resp.SessionID, parts: map[string]partResult{}}
	for _, rt := range resp.Topics {
		topic := rt.Topic
		if sc.version >= 13 {
			topic = sc.names[rt.TopicID]
		}
		for _, rp := range rt.Partitions {
			key := fmt.Sprintf("%s-%d", topic, rp.Partition)
			if _, dup := out.parts[key]; dup {
				sc.t.Fatalf("partition %s answered twice", key)
			}
			out.parts[key] = partResult{err: rp.ErrorCode, hw: rp.HighWatermark, values: recordValues(sc.t, rp.RecordBatches)}
		}
	}
	return out
}

// recordValues decodes the values of the records in uncompressed batches.
func recordValues(t *testing.T, b []byte) []string {
	t.Helper()
	var vals []string
	for len(b) >= 12 {
		n := 12 + int(binary.BigEndian.Uint32(b[8:12]))
		if n > len(b) {
			break // a partial batch at the end
		}
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(b[:n]); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if batch.Attributes&0x07 != 0 {
			t.Fatalf("batch compressed (attributes %#x); the test produces uncompressed", batch.Attributes)
		}
		recs := batch.Records
		for range batch.NumRecords {
			l, sz := binary.Varint(recs)
			if sz <= 0 || int(l)+sz > len(recs) {
				t.Fatal("bad record length")
			}
			var r kmsg.Record
			if err := r.ReadFrom(recs[:sz+int(l)]); err != nil {
				t.Fatalf("record: %v", err)
			}
			vals = append(vals, string(r.Value))
			recs = recs[sz+int(l):]
		}
		b = b[n:]
	}
	return vals
}

func uncompressedClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RetryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestFetchSessionLifecycle walks a session through its life at a version
// that names topics (v12) and one that identifies them by ID (v13+): a
// full fetch creates it; incremental fetches answer only what changed and
// wait when nothing did; forgotten partitions leave it; a wrong epoch or
// unknown ID is refused; epoch -1 closes it; a deleted topic keeps
// reporting its error.
func TestFetchSessionLifecycle(t *testing.T) {
	for _, tc := range []struct {
		version   int16
		unknownTP *kerr.Error
	}{
		{12, kerr.UnknownTopicOrPartition},
		{16, kerr.UnknownTopicID},
	} {
		t.Run("v"+strconv.Itoa(int(tc.version)), func(t *testing.T) {
			srv := startServer(t)
			_, adm := srv.clients(t)
			mustCreate(t, adm, 3, nil, "s")
			mustCreate(t, adm, 1, nil, "gone")
			cl := uncompressedClient(t, srv.addr)
			sc := newSessionClient(t, srv.addr, tc.version, "s", "gone")
			all := []fetchPart{{"s", 0, 0}, {"s", 1, 0}, {"s", 2, 0}}

			// A full fetch with epoch 0 creates a session and answers
			// every partition.
			full := sc.fetch(sc.request(0, 0, 0, all, nil))
			if full.err != 0 || full.session == 0 {
				t.Fatalf("full fetch: error %s, session %d; want a new session", codeName(full.err), full.session)
			}
			if got := full.keys(); !slices.Equal(got, []string{"s-0", "s-1", "s-2"}) {
				t.Fatalf("full fetch answered %v", got)
			}
			id := full.session
			epoch := int32(1)
			next := func(maxWait int32, parts []fetchPart, forget map[string][]int32) fetched {
				t.Helper()
				f := sc.fetch(sc.request(id, epoch, maxWait, parts, forget))
				if f.err != 0 || f.session != id {
					t.Fatalf("incremental epoch %d: error %s, session %d; want session %d", epoch, codeName(f.err), f.session, id)
				}
				epoch++
				return f
			}

			// Nothing new: no partitions.
			if f := next(50, nil, nil); len(f.parts) != 0 {
				t.Fatalf("incremental with no new data answered %v", f.keys())
			}

			// The next one long-polls until a record arrives in s-1, and
			// then answers s-1 alone, with its record.
			got := make(chan fetched, 1)
			go func() {
				resp, err := sc.c.try(sc.request(id, epoch, 20000, nil, nil))
				if err != nil {
					t.Error(err)
					close(got)
					return
				}
				r := resp.(*kmsg.FetchResponse)
				f := fetched{err: r.ErrorCode, session: r.SessionID, parts: map[string]partResult{}}
				for _, rt := range r.Topics {
					for _, rp := range rt.Partitions {
						f.parts[fmt.Sprintf("s-%d", rp.Partition)] = partResult{err: rp.ErrorCode, hw: rp.HighWatermark, values: recordValues(t, rp.RecordBatches)}
					}
				}
				got <- f
			}()
			select {
			case f := <-got:
				t.Fatalf("incremental answered %v before any record was produced", f.keys())
			case <-time.After(200 * time.Millisecond):
			}
			produce(t, cl, "s", 1, "one")
			f, ok := <-got
			if !ok {
				t.FailNow()
			}
			epoch++
			if f.err != 0 || !slices.Equal(f.keys(), []string{"s-1"}) || !slices.Equal(f.parts["s-1"].values, []string{"one"}) || f.parts["s-1"].hw != 1 {
				t.Fatalf("after producing to s-1: error %s, partitions %v (%+v); want s-1 with [one]", codeName(f.err), f.keys(), f.parts)
			}

			// The client moves past the record; nothing more to say.
			if f := next(50, []fetchPart{{"s", 1, 1}}, nil); len(f.parts) != 0 {
				t.Fatalf("after advancing s-1: answered %v", f.keys())
			}

			// Forget s-2: records there are not fetched any more, those
			// of s-0 are.
			if f := next(0, nil, map[string][]int32{"s": {2}}); len(f.parts) != 0 {
				t.Fatalf("forgetting s-2 answered %v", f.keys())
			}
			produce(t, cl, "s", 2, "two")
			produce(t, cl, "s", 0, "zero")
			if f := next(0, nil, nil); !slices.Equal(f.keys(), []string{"s-0"}) || !slices.Equal(f.parts["s-0"].values, []string{"zero"}) {
				t.Fatalf("after forgetting s-2 and producing to s-0 and s-2: answered %v (%+v); want s-0 with [zero]", f.keys(), f.parts)
			}

			// A partition added back is answered in full once.
			if f := next(0, []fetchPart{{"s", 0, 1}, {"s", 2, 1}}, nil); !slices.Equal(f.keys(), []string{"s-2"}) || len(f.parts["s-2"].values) != 0 || f.parts["s-2"].hw != 1 {
				t.Fatalf("re-adding s-2 at its end: answered %v (%+v); want s-2 without records", f.keys(), f.parts)
			}

			// Wrong epochs and unknown sessions are refused; the session
			// stays usable.
			for _, bad := range []struct {
				what      string
				id, epoch int32
				want      *kerr.Error
			}{
				{"epoch ahead", id, epoch + 1, kerr.InvalidFetchSessionEpoch},
				{"epoch behind", id, epoch - 1, kerr.InvalidFetchSessionEpoch},
				{"unknown session", id ^ 0x5a5a, 1, kerr.FetchSessionIDNotFound},
				{"no session, epoch 7", 0, 7, kerr.FetchSessionIDNotFound},
			} {
				f := sc.fetch(sc.request(bad.id, bad.epoch, 0, all, nil))
				if f.err != bad.want.Code || len(f.parts) != 0 {
					t.Errorf("%s: error %s with %v, want %s", bad.what, codeName(f.err), f.keys(), bad.want.Message)
				}
			}
			if f := next(0, nil, nil); len(f.parts) != 0 {
				t.Fatalf("after refused requests: answered %v", f.keys())
			}

			// A deleted topic is reported with its error, again and again
			// while the client keeps it in the session.
			next(0, []fetchPart{{"gone", 0, 0}}, nil)
			if _, err := adm.DeleteTopics(t.Context(), "gone"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; {
				f := next(0, nil, nil)
				if f.parts["gone-0"].err == tc.unknownTP.Code {
					if len(f.parts) != 1 {
						t.Fatalf("deleted topic: answered %v, want gone-0 alone", f.keys())
					}
					i++
					continue
				}
				if i > 0 || epoch > 1000 {
					t.Fatalf("deleted topic answered %+v; want %s on every fetch", f.parts, tc.unknownTP.Message)
				}
				time.Sleep(10 * time.Millisecond) // the deletion reaches the broker
			}
			next(0, nil, map[string][]int32{"gone": {0}})

			// Epoch -1 closes the session and answers in full without one.
			closing := sc.fetch(sc.request(id, -1, 0, all, nil))
			if closing.err != 0 || closing.session != 0 || len(closing.parts) != 3 {
				t.Fatalf("closing fetch: error %s, session %d, partitions %v; want a full answer without session", codeName(closing.err), closing.session, closing.keys())
			}
			if f := sc.fetch(sc.request(id, epoch, 0, nil, nil)); f.err != kerr.FetchSessionIDNotFound.Code {
				t.Fatalf("closed session: error %s, want FETCH_SESSION_ID_NOT_FOUND", codeName(f.err))
			}
		})
	}
}

// A session made with topic names cannot be continued with topic IDs, nor
// the other way round.
func TestFetchSessionTopicIDMismatch(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	mustCreate(t, adm, 1, nil, "m")
	v12 := newSessionClient(t, srv.addr, 12, "m")
	v13 := newSessionClient(t, srv.addr, 13, "m")
	for _, tc := range []struct{ from, to *sessionClient }{{v12, v13}, {v13, v12}} {
		full := tc.from.fetch(tc.from.request(0, 0, 0, []fetchPart{{"m", 0, 0}}, nil))
		if full.session == 0 {
			t.Fatal("no session created")
		}
		f := tc.to.fetch(tc.to.request(full.session, 1, 0, nil, nil))
		if f.err != kerr.FetchSessionTopicIDError.Code {
			t.Errorf("v%d session continued at v%d: error %s, want FETCH_SESSION_TOPIC_ID_ERROR", tc.from.version, tc.to.version, codeName(f.err))
		}
	}
}

// The session cache holds max.incremental.fetch.session.cache.slots
// sessions: 0 creates none, and a full cache refuses a new session while
// none of its sessions may be evicted, until one is closed.
func TestFetchSessionCacheSlots(t *testing.T) {
	t.Run("0 turns sessions off", func(t *testing.T) {
		srv := startServer(t, "max.incremental.fetch.session.cache.slots=0")
		_, adm := srv.clients(t)
		mustCreate(t, adm, 1, nil, "z")
		sc := newSessionClient(t, srv.addr, 12, "z")
		for range 3 {
			f := sc.fetch(sc.request(0, 0, 0, []fetchPart{{"z", 0, 0}}, nil))
			if f.err != 0 || f.session != 0 || len(f.parts) != 1 {
				t.Fatalf("full fetch: error %s, session %d, %v; want a full answer without session", codeName(f.err), f.session, f.keys())
			}
		}
	})
	t.Run("full", func(t *testing.T) {
		srv := startServer(t, "max.incremental.fetch.session.cache.slots=1")
		_, adm := srv.clients(t)
		mustCreate(t, adm, 3, nil, "f")
		sc := newSessionClient(t, srv.addr, 13, "f")
		one := []fetchPart{{"f", 0, 0}}
		three := []fetchPart{{"f", 0, 0}, {"f", 1, 0}, {"f", 2, 0}}
		a := sc.fetch(sc.request(0, 0, 0, one, nil)).session
		if a == 0 {
			t.Fatal("first session not created")
		}
		// The cache is full and session a is too young to give way, even
		// to a larger session.
		if b := sc.fetch(sc.request(0, 0, 0, three, nil)); b.session != 0 || len(b.parts) != 3 {
			t.Fatalf("second session: got session %d with %v; want a full answer without session", b.session, b.keys())
		}
		if f := sc.fetch(sc.request(a, 1, 0, nil, nil)); f.err != 0 || f.session != a {
			t.Fatalf("first session after refusal: error %s, session %d", codeName(f.err), f.session)
		}
		// Closing a frees its slot.
		sc.fetch(sc.request(a, -1, 0, one, nil))
		if b := sc.fetch(sc.request(0, 0, 0, three, nil)); b.session == 0 || b.session == a {
			t.Fatalf("session after closing the first: %d, want a new one", b.session)
		}
	})
}

// A franz-go consumer (which fetches with sessions) of a 20-partition
// topic reads every acknowledged record exactly once and in order, while
// the records are produced.
func TestFetchSessionConsumerExactlyOnce(t *testing.T) {
	const partitions, total = 20, 20000
	srv := brokertest.Start(t)
	prod, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	adm := kadm.NewClient(prod)
	if resp, err := adm.CreateTopics(t.Context(), partitions, 1, nil, "many"); err != nil || resp.Error() != nil {
		t.Fatalf("create: %v %v", err, resp.Error())
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("many"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.FetchMaxPartitionBytes(4<<10), kgo.FetchMaxBytes(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()

	// The producer acknowledges records per partition in sequence order.
	var mu sync.Mutex
	acked := make([][]int, partitions)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range total {
			if i > 0 && i%1000 == 0 {
				// Pause after each thousand, so that the consumer's
				// incremental fetches meet records still arriving.
				if err := prod.Flush(ctx); err != nil {
					t.Errorf("flush: %v", err)
					return
				}
			}
			p := int32(i % partitions)
			r := &kgo.Record{Topic: "many", Partition: p, Value: []byte(strconv.Itoa(i))}
			prod.Produce(ctx, r, func(r *kgo.Record, err error) {
				if err != nil {
					t.Errorf("produce %s: %v", r.Value, err)
					return
				}
				n, _ := strconv.Atoi(string(r.Value))
				mu.Lock()
				acked[r.Partition] = append(acked[r.Partition], n)
				mu.Unlock()
			})
		}
		if err := prod.Flush(ctx); err != nil {
			t.Errorf("flush: %v", err)
		}
	})

	got := make([][]int, partitions)
	n := 0
	for n < total && ctx.Err() == nil {
		fs := cons.PollFetches(ctx)
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				t.Errorf("fetch %s-%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			v, _ := strconv.Atoi(string(r.Value))
			got[r.Partition] = append(got[r.Partition], v)
			n++
		})
	}
	wg.Wait()
	for p := range partitions {
		slices.Sort(acked[p]) // acknowledgements may be reported out of order
		if !slices.Equal(got[p], acked[p]) {
			t.Errorf("partition %d: consumed %d records, %d acknowledged; first difference at %d", p, len(got[p]), len(acked[p]), firstDiff(got[p], acked[p]))
		}
	}
	if n != total {
		t.Fatalf("consumed %d records, want %d", n, total)
	}
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
