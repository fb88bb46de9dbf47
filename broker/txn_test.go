package broker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readCommitted reads topic from the beginning with isolation level
// read_committed until want records arrived (or the wait ends) and returns
// the values per partition, in offset order.
func readCommitted(t *testing.T, addr, topic string, want int, wait time.Duration) map[int32][]string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(200*time.Millisecond))
	defer cl.Close()
	got := map[int32][]string{}
	n := 0
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	for n < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			n++
		})
	}
	// Whatever arrives shortly after the expected count is a duplicate or
	// an aborted record leaking through.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	cl.PollFetches(ctx2).EachRecord(func(r *kgo.Record) {
		got[r.Partition] = append(got[r.Partition], string(r.Value))
	})
	return got
}

// A transactional producer commits and aborts alternately; a read_committed
// consumer reads exactly the committed records in order, and a
// read_uncommitted one every record written.
func TestTransactionsCommitAbort(t *testing.T) {
	srv := brokertest.Start(t)
	const topic = "txn-commit-abort"
	createTopic(t, srv.Addr, topic, 2, nil)
	cl := newClient(t, srv.Addr, kgo.TransactionalID("tx-commit-abort"), kgo.DefaultProduceTopic(topic))
	var want []string
	for txn := range 10 {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var batch []string
		for i := range 50 {
			v := fmt.Sprintf("t%02d-%03d", txn, i)
			batch = append(batch, v)
			cl.Produce(t.Context(), &kgo.Record{Value: []byte(v), Partition: int32(i % 2)}, nil)
		}
		commit := txn%3 != 1
		if err := cl.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(t.Context(), kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("end transaction %d (commit=%v): %v", txn, commit, err)
		}
		if commit {
			want = append(want, batch...)
		}
	}
	got := readCommitted(t, srv.Addr, topic, len(want), 20*time.Second)
	var all []string
	for _, vs := range got {
		if !slices.IsSorted(vs) {
			t.Errorf("records out of order: %v", vs)
		}
		all = append(all, vs...)
	}
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("read_committed read %d records, want the %d committed ones", len(all), len(want))
	}
}

// An open transaction holds read_committed readers at its first offset (the
// last stable offset) until it ends; the partition's end offset for
// read_committed ListOffsets is the LSO too.
func TestTransactionsLastStableOffset(t *testing.T) {
	srv := brokertest.Start(t)
	const topic = "txn-lso"
	createTopic(t, srv.Addr, topic, 1, nil)
	plain := newClient(t, srv.Addr, kgo.DefaultProduceTopic(topic))
	if err := plain.ProduceSync(t.Context(), &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	tx := newClient(t, srv.Addr, kgo.TransactionalID("tx-lso"), kgo.DefaultProduceTopic(topic))
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(t.Context(), &kgo.Record{Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := plain.ProduceSync(t.Context(), &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := readCommitted(t, srv.Addr, topic, 2, 2*time.Second)
	if !slices.Equal(got[0], []string{"before"}) {
		t.Fatalf("with a transaction open read_committed read %v, want [before]", got[0])
	}
	if err := tx.EndTransaction(t.Context(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	got = readCommitted(t, srv.Addr, topic, 3, 10*time.Second)
	if !slices.Equal(got[0], []string{"before", "open", "after"}) {
		t.Fatalf("after the commit read_committed read %v, want [before open after]", got[0])
	}
}

// The consume-transform-produce loop of exactly-once processing: a group
// transact session reads an input topic read_committed, writes every record
// transformed to an output topic and commits its offsets in the same
// transaction; every fourth transaction is aborted (and its input read
// again), and the broker restarts in the middle. The output holds every
// input record exactly once, and the group's offsets are at the input's end.
func TestTransactionsExactlyOnceETL(t *testing.T) {
	srv := brokertest.Start(t, "transaction.state.log.num.partitions=3", "offsets.topic.num.partitions=3")
	const in, out, groupID, n = "eos-in", "eos-out", "eos-etl", 3000
	createTopic(t, srv.Addr, in, 3, nil)
	createTopic(t, srv.Addr, out, 3, nil)
	src := newClient(t, srv.Addr, kgo.DefaultProduceTopic(in))
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("v%05d", i))})
	}
	if err := src.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(srv.Addr),
		kgo.TransactionalID("eos-etl-tx"),
		kgo.TransactionTimeout(30*time.Second),
		kgo.ConsumerGroup(groupID),
		kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.DefaultProduceTopic(out),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.RetryTimeout(30*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	done, txns, restarted := 0, 0, false
	for done < n && ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 250)
		if fs.Empty() {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		count := 0
		fs.EachRecord(func(r *kgo.Record) {
			count++
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: []byte(strings.ToUpper(string(r.Value))), Partition: r.Partition}, func(_ *kgo.Record, err error) {
				if err != nil && !errors.Is(err, kerr.OperationNotAttempted) && !errors.Is(err, kgo.ErrAborting) {
					t.Logf("produce: %v", err)
				}
			})
		})
		txns++
		try := kgo.TryCommit
		if txns%4 == 0 {
			try = kgo.TryAbort
		}
		if !restarted && txns == 5 {
			// The broker goes down with this transaction open.
			restarted = true
			srv.Restart()
		}
		committed, err := sess.End(ctx, try)
		if err != nil {
			t.Logf("transaction %d: %v", txns, err)
			continue
		}
		if committed {
			done += count
		}
	}
	if done != n {
		t.Fatalf("committed %d of %d records in %d transactions", done, n, txns)
	}
	if !restarted {
		t.Fatal("the broker was never restarted")
	}
	got := readCommitted(t, srv.Addr, out, n, 30*time.Second)
	var all []string
	for _, vs := range got {
		all = append(all, vs...)
	}
	slices.Sort(all)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("V%05d", i)
	}
	if !slices.Equal(all, want) {
		dups, missing := 0, 0
		seen := map[string]int{}
		for _, v := range all {
			seen[v]++
		}
		for _, v := range want {
			switch seen[v] {
			case 0:
				missing++
			case 1:
			default:
				dups++
			}
		}
		t.Fatalf("output has %d records: %d missing, %d duplicated", len(all), missing, dups)
	}
}
