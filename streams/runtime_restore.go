package streams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runnel/runnel/state"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// restore brings the logged stores of new tasks up to the end of their
// changelog partitions (the last stable offset under exactly_once_v2),
// from the checkpointed offset or from the start, before the tasks
// process anything, as Kafka Streams' changelog reader does. It reads
// with a consumer of its own, outside the group.
func (t *streamThread) restore(ctx context.Context, tasks []*runTask) error {
	type target struct {
		rt    *runTask
		store string
		end   int64 // offset after the last record to restore
	}
	targets := map[topicPart]*target{}
	var topics []string
	for _, rt := range tasks {
		for s, tp := range rt.changelog {
			targets[tp] = &target{rt: rt, store: s}
			topics = append(topics, tp.topic)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	var ends map[string]map[int32]int64
	{
		listed, err := t.adm.ListEndOffsets(ctx, topics...)
		if t.eos {
			listed, err = t.adm.ListCommittedOffsets(ctx, topics...)
		}
		if err != nil {
			return fmt.Errorf("streams: %s: changelog end offsets: %w", t.name, err)
		}
		ends = map[string]map[int32]int64{}
		var lerr error
		listed.Each(func(o kadm.ListedOffset) {
			if o.Err != nil && lerr == nil {
				lerr = fmt.Errorf("streams: %s: end offset of %s-%d: %w", t.name, o.Topic, o.Partition, o.Err)
			}
			if ends[o.Topic] == nil {
				ends[o.Topic] = map[int32]int64{}
			}
			ends[o.Topic][o.Partition] = o.Offset
		})
		if lerr != nil {
			return lerr
		}
	}
	start := map[string]map[int32]kgo.Offset{}
	var remaining int64
	t.ackMu.Lock()
	for tp, tg := range targets {
		tg.end = ends[tp.topic][tp.partition]
		from := t.acked[tp] + 1 // -1 when there is no checkpoint
		if from >= tg.end {
			delete(targets, tp)
			continue
		}
		if start[tp.topic] == nil {
			start[tp.topic] = map[int32]kgo.Offset{}
		}
		start[tp.topic][tp.partition] = kgo.NewOffset().At(from)
		remaining += tg.end - from
	}
	t.ackMu.Unlock()
	if len(targets) == 0 {
		return nil
	}
	m := t.app.metrics
	m.restoreRemaining.Add(float64(remaining))
	defer m.restoreRemaining.Sub(float64(remaining))
	rc, err := t.changelogConsumer("restore", start)
	if err != nil {
		return err
	}
	defer rc.Close()
	began := time.Now()
	var restored int64
	for len(targets) > 0 {
		fetches := rc.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("streams: %s: restore %s-%d: %w", t.name, topic, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var rerr error
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			tp := topicPart{p.Topic, p.Partition}
			tg, ok := targets[tp]
			if !ok || rerr != nil || len(p.Records) == 0 {
				return
			}
			batch := make([]state.ChangelogRecord, 0, len(p.Records))
			last := int64(-1)
			for _, r := range p.Records {
				last = r.Offset
				if r.Attrs.IsControl() {
					continue
				}
				batch = append(batch, state.ChangelogRecord{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()})
			}
			if len(batch) > 0 {
				if err := tg.rt.task.Restore(tg.store, batch); err != nil {
					rerr = fmt.Errorf("streams: task %s: restore %q: %w", tg.rt.id, tg.store, err)
					return
				}
			}
			restored += int64(len(batch))
			m.restored.Add(float64(len(batch)))
			t.ackMu.Lock()
			t.acked[tp] = max(t.acked[tp], last)
			t.ackMu.Unlock()
			if last >= tg.end-1 {
				delete(targets, tp)
				rc.PauseFetchPartitions(map[string][]int32{tp.topic: {tp.partition}})
			}
		})
		if rerr != nil {
			return rerr
		}
	}
	t.log.Info("restored state stores", "records", restored, "elapsed", time.Since(began).String())
	return nil
}

// changelogConsumer returns a consumer outside the group reading the
// changelog partitions in start from their offsets, with control records
// kept (they take offsets a store's position must pass) and, under
// exactly_once_v2, read_committed. role names it: "<thread>-<role>-consumer".
func (t *streamThread) changelogConsumer(role string, start map[string]map[int32]kgo.Offset) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.ClientID(t.name + "-" + role + "-consumer"),
		kgo.ConsumePartitions(start),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords(),
	}
	if t.eos {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(t.app.clientOpts(opts...)...)
	if err != nil {
		return nil, fmt.Errorf("streams: %s: %s consumer: %w", t.name, role, err)
	}
	return cl, nil
}
