package group

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
)

// offsetsPartition opens a __consumer_offsets partition led by this node
// in a temporary directory.
func offsetsPartition(b *testing.B) *replica.Partition {
	b.Helper()
	logs, err := log.NewManager(log.ManagerConfig{Dirs: []string{b.TempDir()}})
	if err != nil {
		b.Fatal(err)
	}
	if err := logs.Load(func(string) (log.Config, error) { return log.Config{}, nil }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logs.Close() })
	rm := replica.NewManager(replica.ManagerConfig{
		NodeID: 1, Logs: logs,
		TopicConfig: func(map[string]string) (replica.PartitionConfig, error) {
			return replica.PartitionConfig{Log: log.Config{Compact: true}, MinInsyncReplicas: 1}, nil
		},
	})
	id := uuid.New()
	img, err := metadata.Empty("bench").Apply(
		metadata.NewTopic(controller.ConsumerOffsetsTopic, id),
		metadata.SetPartition(id, metadata.Partition{Index: 0, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}),
	)
	if err != nil {
		b.Fatal(err)
	}
	if err := rm.Apply(img); err != nil {
		b.Fatal(err)
	}
	p, err := rm.Get(controller.ConsumerOffsetsTopic, 0)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCommitOffsets commits one offset per operation through the
// coordinator (request to the partition's loop, validation, record
// encoding, append, replication wait, answer) beside the limit under it:
// appending the same record batch straight to the same kind of partition.
func BenchmarkCommitOffsets(b *testing.B) {
	commit := func(i int) CommitRequest {
		return CommitRequest{Group: "bench", Generation: -1, Retention: -1, Offsets: []OffsetCommit{{
			TopicPartition: TopicPartition{"orders", int32(i % 12)}, Offset: int64(i), LeaderEpoch: 1, Metadata: "", CommitTimestamp: -1,
		}}}
	}
	b.Run("coordinator", func(b *testing.B) {
		p := offsetsPartition(b)
		c, err := New(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.SetPartitionCount(1)
		c.Load(0, ReplicaLog{P: p})
		ctx := context.Background()
		for c.CommitOffsets(ctx, commit(0))[0] != nil {
			time.Sleep(time.Millisecond) // loading
		}
		for i := 0; b.Loop(); i++ {
			if err := c.CommitOffsets(ctx, commit(i))[0]; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-append", func(b *testing.B) {
		p := offsetsPartition(b)
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			req := commit(i)
			oc := req.Offsets[0]
			v := OffsetValue{Version: 3, Offset: oc.Offset, LeaderEpoch: oc.LeaderEpoch, CommitTimestamp: time.Now().UnixMilli()}
			bb := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
			bb.Add(record.Record{Timestamp: v.CommitTimestamp, Key: OffsetKey(req.Group, oc.Topic, oc.Partition).AppendTo(nil), Value: v.AppendTo(nil)})
			batch, err := bb.Build()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.AppendInternal(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
