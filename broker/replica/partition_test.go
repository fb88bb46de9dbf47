package replica

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
)

type testLogs struct {
	t    *testing.T
	dir  string
	logs map[TopicPartition]*log.Log
}

func (l *testLogs) Open(topic string, partition int32, cfg log.Config) (*log.Log, error) {
	tp := TopicPartition{topic, partition}
	if lg, ok := l.logs[tp]; ok {
		return lg, nil
	}
	lg, err := log.Open(l.dir+"/"+log.DirName(topic, partition), cfg, log.OpenOptions{CleanShutdown: true})
	if err == nil {
		l.logs[tp] = lg
		l.t.Cleanup(func() { lg.Close() })
	}
	return lg, err
}

func (l *testLogs) Delete(topic string, partition int32) error {
	tp := TopicPartition{topic, partition}
	lg, ok := l.logs[tp]
	delete(l.logs, tp)
	if !ok {
		return nil
	}
	return lg.Delete()
}

func newManager(t *testing.T, minISR int) (*Manager, *testLogs) {
	logs := &testLogs{t: t, dir: t.TempDir(), logs: map[TopicPartition]*log.Log{}}
	m := NewManager(ManagerConfig{NodeID: 1, Logs: logs, TopicConfig: func(map[string]string) (PartitionConfig, error) {
		return PartitionConfig{MinInsyncReplicas: minISR}, nil
	}})
	return m, logs
}

func image(t *testing.T, topics map[string][]metadata.Partition) *metadata.Image {
	t.Helper()
	img := metadata.Empty("c")
	for name, parts := range topics {
		id := uuid.NewSHA1(uuid.Nil, []byte(name))
		recs := []metadata.Record{metadata.NewTopic(name, id)}
		for _, p := range parts {
			recs = append(recs, metadata.SetPartition(id, p))
		}
		var err error
		if img, err = img.Apply(recs...); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func oneBatch(t *testing.T, n int) []byte {
	t.Helper()
	b := record.NewBuilder(record.BuilderOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	for i := range n {
		b.Add(record.Record{Offset: int64(i), Timestamp: 1, Value: []byte("v")})
	}
	out, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyCreatesAndDeletesPartitions(t *testing.T) {
	m, logs := newManager(t, 1)
	lead := metadata.Partition{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}
	other := metadata.Partition{Index: 1, Replicas: []int32{2}, ISR: []int32{2}, Leader: 2}
	if err := m.Apply(image(t, map[string][]metadata.Partition{"a": {lead, other}})); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("a", 0); err != nil {
		t.Fatalf("hosted partition: %v", err)
	}
	if _, err := m.Get("a", 1); !errors.Is(err, ErrUnknownTopicOrPartition) {
		t.Fatalf("partition on another node: %v", err)
	}
	if err := m.Apply(image(t, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("a", 0); !errors.Is(err, ErrUnknownTopicOrPartition) || len(logs.logs) != 0 {
		t.Fatalf("deleted topic still hosted: %v, %d logs", err, len(logs.logs))
	}
}

func TestHighWatermarkFollowsISR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newManager(t, 2)
		p3 := metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 4}
		if err := m.Apply(image(t, map[string][]metadata.Partition{"t": {p3}})); err != nil {
			t.Fatal(err)
		}
		p, _ := m.Get("t", 0)
		if e, ok := p.Log().LatestEpoch(); !ok || e != 4 {
			t.Fatalf("leader epoch %d not assigned in the log (%v)", e, ok)
		}
		info, err := p.Append(oneBatch(t, 3), AcksAll)
		if err != nil {
			t.Fatal(err)
		}
		if hw := p.HighWatermark(); hw != 0 {
			t.Fatalf("hw %d before followers caught up", hw)
		}
		// Consumers see nothing above the high watermark.
		if r, err := p.Read(0, 1<<20, ReadUncommitted, true); err != nil || r.Size != 0 {
			t.Fatalf("read above hw: %d bytes, %v", r.Size, err)
		}

		done := make(chan error, 1)
		go func() { done <- p.WaitReplicated(t.Context(), info.LastOffset+1) }()
		synctest.Wait()
		p.UpdateFollower(2, 3)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("acks=all returned while replica 3 lags")
		default:
		}
		p.UpdateFollower(3, 2)
		if hw := p.HighWatermark(); hw != 2 {
			t.Fatalf("hw = %d, want the smallest ISR LEO 2", hw)
		}
		p.UpdateFollower(3, 3)
		if err := <-done; err != nil {
			t.Fatalf("wait: %v", err)
		}
		if r, err := p.Read(0, 1<<20, ReadUncommitted, true); err != nil || r.Size == 0 {
			t.Fatalf("read below hw: %d bytes, %v", r.Size, err)
		}

		// A wait that is not satisfied times out with ErrTimeout.
		info, _ = p.Append(oneBatch(t, 1), AcksAll)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		start := time.Now()
		if err := p.WaitReplicated(ctx, info.LastOffset+1); !errors.Is(err, ErrTimeout) || time.Since(start) != 30*time.Second {
			t.Fatalf("unreplicated wait: %v after %v", err, time.Since(start))
		}

		// Below min.insync.replicas, acks=all is refused before appending;
		// acks=1 still works.
		shrunk := p3
		shrunk.ISR = []int32{1}
		if err := m.Apply(image(t, map[string][]metadata.Partition{"t": {shrunk}})); err != nil {
			t.Fatal(err)
		}
		leo := p.Log().LogEndOffset()
		if _, err := p.Append(oneBatch(t, 1), AcksAll); !errors.Is(err, ErrNotEnoughReplicas) || p.Log().LogEndOffset() != leo {
			t.Fatalf("acks=all below min ISR: %v (leo %d -> %d)", err, leo, p.Log().LogEndOffset())
		}
		if _, err := p.Append(oneBatch(t, 1), AcksLeader); err != nil {
			t.Fatalf("acks=1 below min ISR: %v", err)
		}
	})
}

func TestWatcherWakesOnNewData(t *testing.T) {
	m, _ := newManager(t, 1)
	m.Apply(image(t, map[string][]metadata.Partition{"t": {{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}}}))
	p, _ := m.Get("t", 0)
	w := NewWatcher(p)
	defer w.Close()
	select {
	case <-w.C():
		t.Fatal("woken without data")
	default:
	}
	p.Append(oneBatch(t, 1), AcksLeader)
	select {
	case <-w.C():
	default:
		t.Fatal("not woken by an append")
	}
}

// Node 0 leading at epoch 0 still records the epoch in the log's cache.
func TestEpochAssignedForNodeZero(t *testing.T) {
	logs := &testLogs{t: t, dir: t.TempDir(), logs: map[TopicPartition]*log.Log{}}
	m := NewManager(ManagerConfig{NodeID: 0, Logs: logs})
	if err := m.Apply(image(t, map[string][]metadata.Partition{"t": {{Replicas: []int32{0}, ISR: []int32{0}, Leader: 0}}})); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Get("t", 0)
	if e, ok := p.Log().LatestEpoch(); !ok || e != 0 {
		t.Fatalf("latest epoch %d (%v), want 0", e, ok)
	}
	if !p.IsLeader() {
		t.Fatal("node 0 does not lead")
	}
}
