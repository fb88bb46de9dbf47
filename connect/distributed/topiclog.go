package distributed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrTopic reports an internal topic that cannot be used: it could not be
// created, or it exists without cleanup.policy=compact.
var ErrTopic = errors.New("distributed: internal topic")

// topicSpec is how an internal topic is created when it does not exist.
type topicSpec struct {
	Topic             string
	Partitions        int32
	ReplicationFactor int16 // -1 = the broker's default.replication.factor
}

// topicLog is Runnel's KafkaBasedLog: it reads one compacted topic from
// the beginning and keeps tailing it, handing every record to apply in
// offset order on its one reading goroutine, and writes to it with
// acks=all.
type topicLog struct {
	spec  topicSpec
	cl    *kgo.Client
	adm   *kadm.Client
	log   *slog.Logger
	apply func(*kgo.Record)

	mu      sync.Mutex
	pos     map[int32]int64 // next offset to apply, per partition
	changed chan struct{}   // closed and replaced when pos advances
	readErr error           // set when reading stopped for good

	cancel context.CancelFunc
	done   chan struct{}
}

// openTopicLog creates the topic if absent, starts reading it from the
// beginning and returns once everything up to its end offsets at open has
// been applied. opts carry the bootstrap servers and client settings.
func openTopicLog(ctx context.Context, opts []kgo.Opt, spec topicSpec, logger *slog.Logger, apply func(*kgo.Record)) (*topicLog, error) {
	all := append([]kgo.Opt{}, opts...)
	all = append(all,
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, as Java's producer
		kgo.ProducerLinger(0),
	)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrTopic, spec.Topic, err)
	}
	l := &topicLog{
		spec:    spec,
		cl:      cl,
		adm:     kadm.NewClient(cl),
		log:     logger,
		apply:   apply,
		pos:     map[int32]int64{},
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := l.ensureTopic(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	// Consume only once the topic exists, so the first metadata load
	// already sees its partitions.
	cl.AddConsumeTopics(spec.Topic)
	rctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.read(rctx)
	if err := l.readToEnd(ctx); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// ensureTopic creates the topic compacted, or checks that the existing
// one is compacted (Kafka refuses a deleting internal topic too: its
// records would expire).
func (l *topicLog) ensureTopic(ctx context.Context) error {
	t := l.spec.Topic
	resp, err := l.adm.CreateTopic(ctx, l.spec.Partitions, l.spec.ReplicationFactor,
		map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, t)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		l.log.Info("created internal topic", "topic", t, "partitions", l.spec.Partitions)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		return fmt.Errorf("%w %s: creating: %v", ErrTopic, t, err)
	}
	rcs, err := l.adm.DescribeTopicConfigs(ctx, t)
	if err != nil {
		return fmt.Errorf("%w %s: describing: %v", ErrTopic, t, err)
	}
	rc, err := rcs.On(t, nil)
	if err != nil {
		return fmt.Errorf("%w %s: describing: %v", ErrTopic, t, err)
	}
	if rc.Err != nil {
		return fmt.Errorf("%w %s: describing: %v", ErrTopic, t, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil && *c.Value != "compact" {
			return fmt.Errorf("%w %s: cleanup.policy is %q; it must be compact so that connector state is never deleted", ErrTopic, t, *c.Value)
		}
	}
	return nil
}

func (l *topicLog) read(ctx context.Context) {
	defer close(l.done)
	for {
		fs := l.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			l.log.Warn("reading internal topic", "topic", topic, "partition", p, "err", err)
		})
		if fs.IsClientClosed() {
			l.mu.Lock()
			l.readErr = fmt.Errorf("%w %s: client closed", ErrTopic, l.spec.Topic)
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
			return
		}
		advanced := map[int32]int64{}
		fs.EachRecord(func(r *kgo.Record) {
			l.apply(r)
			advanced[r.Partition] = r.Offset + 1
		})
		if len(advanced) == 0 {
			continue
		}
		l.mu.Lock()
		for p, o := range advanced {
			if o > l.pos[p] {
				l.pos[p] = o
			}
		}
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// readToEnd waits until every record written before the call has been
// applied.
func (l *topicLog) readToEnd(ctx context.Context) error {
	want, err := l.endOffsets(ctx)
	if err != nil {
		return err
	}
	for {
		l.mu.Lock()
		caught := true
		for p, end := range want {
			if l.pos[p] < end {
				caught = false
			}
		}
		ch, rerr := l.changed, l.readErr
		l.mu.Unlock()
		if caught {
			return nil
		}
		if rerr != nil {
			return rerr
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w %s: reading to the end: %w", ErrTopic, l.spec.Topic, context.Cause(ctx))
		}
	}
}

// endOffsets lists the topic's end offsets, retrying while its partitions
// have no leader yet (just after creation or during a leader change).
func (l *topicLog) endOffsets(ctx context.Context) (map[int32]int64, error) {
	for {
		ends, err := l.adm.ListEndOffsets(ctx, l.spec.Topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			want := map[int32]int64{}
			ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
			if len(want) > 0 {
				return want, nil
			}
			err = kerr.UnknownTopicOrPartition
		}
		if !kerr.IsRetriable(err) {
			return nil, fmt.Errorf("%w %s: end offsets: %v", ErrTopic, l.spec.Topic, err)
		}
		sleep(ctx, 100*time.Millisecond)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w %s: end offsets: %v: %w", ErrTopic, l.spec.Topic, err, context.Cause(ctx))
		}
	}
}

// send writes records in order and waits for all of them to be
// acknowledged by every in-sync replica. A nil value is a tombstone.
func (l *topicLog) send(ctx context.Context, kvs ...keyValue) error {
	rs := make([]*kgo.Record, len(kvs))
	for i, kv := range kvs {
		rs[i] = &kgo.Record{Topic: l.spec.Topic, Key: kv.key, Value: kv.value}
	}
	if err := l.cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("%w %s: writing: %w", ErrTopic, l.spec.Topic, err)
	}
	return nil
}

type keyValue struct{ key, value []byte }

func kv(key string, value []byte) keyValue { return keyValue{[]byte(key), value} }

func (l *topicLog) close() {
	l.cancel()
	<-l.done
	l.cl.Close()
}
