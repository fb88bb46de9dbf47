package replica

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
)

// txnBatch builds a transactional batch of n records of producer pid.
func txnBatch(t *testing.T, pid int64, seq int32, n int) []byte {
	t.Helper()
	b := record.NewBuilder(record.BuilderOptions{ProducerID: pid, ProducerEpoch: 0, BaseSequence: seq, Transactional: true})
	for i := range n {
		b.Add(record.Record{Offset: int64(i), Timestamp: 1, Value: []byte("t")})
	}
	out, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readBatches returns the base offsets and producer IDs of the batches a
// read returned.
func readBatches(t *testing.T, info ReadInfo) (offsets []int64) {
	t.Helper()
	buf, err := info.ReadInto(nil)
	if err != nil {
		t.Fatal(err)
	}
	for len(buf) > 0 {
		b, rest, err := record.Next(buf)
		if err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, b.BaseOffset())
		buf = rest
	}
	return offsets
}

func woken(w *Watcher) bool {
	select {
	case <-w.C():
		return true
	default:
		return false
	}
}

// TestReadCommitted walks a partition through an open, an aborted and a
// committed transaction and checks what read_committed and
// read_uncommitted reads see at each step, and that a fetch watcher wakes
// when a marker moves the last stable offset.
func TestReadCommitted(t *testing.T) {
	m, _ := newManager(t, 1)
	lead := metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1}
	if err := m.Apply(image(t, map[string][]metadata.Partition{"t": {lead}})); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Get("t", 0)
	appendT := func(b []byte) log.AppendInfo {
		t.Helper()
		info, err := p.Append(b, AcksLeader)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	marker := func(pid int64, typ record.ControlType) log.AppendInfo {
		t.Helper()
		// The follower may lag: do not wait for it to copy the marker.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		info, err := p.AppendInternal(ctx, record.ControlBatch(pid, 0, 0, typ, 1))
		if err != nil && !errors.Is(err, ErrTimeout) {
			t.Fatal(err)
		}
		return info
	}
	caughtUp := func() { p.UpdateFollower(2, p.Log().LogEndOffset()) }

	plain := appendT(oneBatch(t, 2))    // 0-1
	a := appendT(txnBatch(t, 10, 0, 2)) // 2-3, aborted later
	b := appendT(txnBatch(t, 20, 0, 1)) // 4, committed later
	after := appendT(oneBatch(t, 1))    // 5
	caughtUp()
	if lso := p.LastStableOffset(); lso != a.FirstOffset {
		t.Fatalf("LSO %d with transactions open from %d", lso, a.FirstOffset)
	}
	rc, err := p.Read(0, 1<<20, ReadCommitted, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBatches(t, rc); !slices.Equal(got, []int64{plain.FirstOffset}) || rc.LastStableOffset != a.FirstOffset {
		t.Fatalf("read_committed with open transactions: batches %v, LSO %d", got, rc.LastStableOffset)
	}
	if ru, _ := p.Read(0, 1<<20, ReadUncommitted, true); len(readBatches(t, ru)) != 4 || ru.AbortedTransactions != nil {
		t.Fatalf("read_uncommitted sees %v, aborted %v", readBatches(t, ru), ru.AbortedTransactions)
	}

	w := NewWatcher(p)
	defer w.Close()
	abort := marker(10, record.ControlAbort) // 6
	// The follower has not copied the marker: as in Kafka, the aborted
	// transaction stays unstable until the high watermark passes it.
	if lso := p.LastStableOffset(); lso != a.FirstOffset {
		t.Fatalf("LSO %d after an unreplicated abort, want %d", lso, a.FirstOffset)
	}
	woken(w)
	p.UpdateFollower(2, abort.LastOffset+1)
	if !woken(w) {
		t.Fatal("fetch watcher not woken when the abort's replication moved the LSO")
	}
	if lso := p.LastStableOffset(); lso != b.FirstOffset {
		t.Fatalf("LSO %d after the abort was replicated, want %d (b is open)", lso, b.FirstOffset)
	}
	commit := marker(20, record.ControlCommit) // 7
	caughtUp()
	if !woken(w) {
		t.Fatal("fetch watcher not woken when the commit moved the LSO")
	}
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw || hw != commit.LastOffset+1 {
		t.Fatalf("LSO %d, HW %d after the commit, want both %d", lso, hw, commit.LastOffset+1)
	}
	rc, err = p.Read(0, 1<<20, ReadCommitted, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []log.AbortedTxn{{ProducerID: 10, FirstOffset: a.FirstOffset, LastOffset: abort.FirstOffset, LastStableOffset: b.FirstOffset}}
	if !slices.Equal(rc.AbortedTransactions, want) {
		t.Fatalf("aborted transactions %+v, want %+v", rc.AbortedTransactions, want)
	}
	if got := readBatches(t, rc); len(got) != 6 || rc.NextOffset != commit.LastOffset+1 {
		t.Fatalf("read_committed after the markers: batches %v, next offset %d", got, rc.NextOffset)
	}
	// A read past the aborted transaction is not told about it.
	rc, err = p.Read(after.FirstOffset, 1<<20, ReadCommitted, true)
	if err != nil || len(rc.AbortedTransactions) != 1 {
		// The abort marker at 6 lies in range: the entry is still listed.
		t.Fatalf("read from %d: %+v %v", after.FirstOffset, rc.AbortedTransactions, err)
	}
	rc, err = p.Read(commit.FirstOffset, 1<<20, ReadCommitted, true)
	if err != nil || len(rc.AbortedTransactions) != 0 || rc.AbortedTransactions == nil {
		t.Fatalf("read from %d: %+v %v, want an empty list", commit.FirstOffset, rc.AbortedTransactions, err)
	}
}
