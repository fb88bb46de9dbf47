package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/runnel/runnel/broker/brokertest"
)

// TestSaramaProduceConsume checks the sarama calls goka makes without a
// consumer group: topic creation and config description through the
// cluster admin, a synchronous producer and partition consumers. Every
// acknowledged record must come back from its partition at its offset, in
// order, with its key, value, headers and timestamp.
func TestSaramaProduceConsume(t *testing.T) {
	srv := brokertest.Start(t)
	tests := []struct {
		name        string
		version     sarama.KafkaVersion
		compression sarama.CompressionCodec
	}{
		{"goka default: 2.0, snappy", sarama.V2_0_0_0, sarama.CompressionSnappy},
		{"2.0, uncompressed", sarama.V2_0_0_0, sarama.CompressionNone},
		{"2.0, gzip", sarama.V2_0_0_0, sarama.CompressionGZIP},
		{"2.0, lz4", sarama.V2_0_0_0, sarama.CompressionLZ4},
		{"sarama default: 2.1, zstd", sarama.DefaultVersion, sarama.CompressionZSTD},
		{"3.9, snappy", sarama.V3_9_0_0, sarama.CompressionSnappy},
		{"newest sarama knows, lz4", sarama.MaxVersion, sarama.CompressionLZ4},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topic := fmt.Sprintf("sarama-%d", i)
			const partitions = 3
			cfg := sarama.NewConfig()
			cfg.Version = tc.version
			cfg.ClientID = "runnel-sarama-test"
			cfg.Producer.Compression = tc.compression
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Return.Successes = true
			cfg.Producer.Partitioner = sarama.NewHashPartitioner
			cfg.Consumer.Return.Errors = true
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()

			admin, err := sarama.NewClusterAdmin([]string{srv.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			compact := "compact"
			if err := admin.CreateTopic(topic, &sarama.TopicDetail{
				NumPartitions:     partitions,
				ReplicationFactor: 1,
				ConfigEntries:     map[string]*string{"cleanup.policy": &compact},
			}, false); err != nil {
				t.Fatalf("CreateTopic %s: %v", topic, err)
			}
			entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
			if err != nil {
				t.Fatalf("DescribeConfig %s: %v", topic, err)
			}
			var policy string
			for _, e := range entries {
				if e.Name == "cleanup.policy" {
					policy = e.Value
				}
			}
			if policy != "compact" {
				t.Errorf("cleanup.policy of %s = %q, want compact", topic, policy)
			}

			producer, err := sarama.NewSyncProducer([]string{srv.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer producer.Close()
			ts := time.UnixMilli(1_700_000_000_000)
			type acked struct {
				offset     int64
				key, value string
			}
			sent := map[int32][]acked{}
			const n = 60
			for j := range n {
				msg := &sarama.ProducerMessage{
					Topic:     topic,
					Key:       sarama.StringEncoder(fmt.Sprintf("key-%d", j%11)),
					Value:     sarama.StringEncoder(fmt.Sprintf("value-%d", j)),
					Headers:   []sarama.RecordHeader{{Key: []byte("seq"), Value: fmt.Appendf(nil, "%d", j)}},
					Timestamp: ts.Add(time.Duration(j) * time.Millisecond),
				}
				p, off, err := producer.SendMessage(msg)
				if err != nil {
					t.Fatalf("SendMessage %d: %v", j, err)
				}
				sent[p] = append(sent[p], acked{off, fmt.Sprintf("key-%d", j%11), fmt.Sprintf("value-%d", j)})
			}

			consumer, err := sarama.NewConsumer([]string{srv.Addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer consumer.Close()
			got := 0
			for p := range int32(partitions) {
				pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
				if err != nil {
					t.Fatalf("ConsumePartition %s/%d: %v", topic, p, err)
				}
				if hw := pc.HighWaterMarkOffset(); len(sent[p]) > 0 && hw != 0 && hw != sent[p][len(sent[p])-1].offset+1 {
					t.Errorf("partition %d: high watermark %d, want %d", p, hw, sent[p][len(sent[p])-1].offset+1)
				}
				for _, want := range sent[p] {
					select {
					case m := <-pc.Messages():
						if m.Offset != want.offset || string(m.Key) != want.key || string(m.Value) != want.value {
							t.Fatalf("partition %d: got offset %d %s=%s, want offset %d %s=%s",
								p, m.Offset, m.Key, m.Value, want.offset, want.key, want.value)
						}
						var seq int
						if _, err := fmt.Sscanf(want.value, "value-%d", &seq); err != nil {
							t.Fatal(err)
						}
						if len(m.Headers) != 1 || string(m.Headers[0].Key) != "seq" || string(m.Headers[0].Value) != fmt.Sprint(seq) {
							t.Errorf("partition %d offset %d: headers %v, want seq=%d", p, m.Offset, m.Headers, seq)
						}
						if wantTS := ts.Add(time.Duration(seq) * time.Millisecond); !m.Timestamp.Equal(wantTS) {
							t.Errorf("partition %d offset %d: timestamp %v, want %v", p, m.Offset, m.Timestamp, wantTS)
						}
						got++
					case err := <-pc.Errors():
						t.Fatalf("partition %d: %v", p, err)
					case <-ctx.Done():
						t.Fatalf("partition %d: waiting for offset %d: %v", p, want.offset, ctx.Err())
					}
				}
				if err := pc.Close(); err != nil {
					t.Errorf("partition %d: close: %v", p, err)
				}
			}
			if got != n {
				t.Errorf("read back %d records, want %d", got, n)
			}
		})
	}
}

// groupLog records what the members of one consumer group received.
type groupLog struct {
	mu     sync.Mutex
	got    map[int32]map[int64]string // partition → offset → value
	dups   int                        // records delivered more than once
	claims map[string][]int32         // member → partitions of its latest session
	gens   map[string]int32           // member → generation of its latest session
}

func newGroupLog() *groupLog {
	return &groupLog{got: map[int32]map[int64]string{}, claims: map[string][]int32{}, gens: map[string]int32{}}
}

// assignment returns the partitions claimed in the members' latest
// sessions, sorted, and whether those sessions all belong to one
// generation that has every one of the members.
func (l *groupLog) assignment(members int) ([]int32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var claimed []int32
	gens := map[int32]bool{}
	for name, ps := range l.claims {
		claimed = append(claimed, ps...)
		gens[l.gens[name]] = true
	}
	slices.Sort(claimed)
	return claimed, len(l.claims) == members && len(gens) == 1
}

// member is one sarama consumer-group member's handler.
type member struct {
	name  string
	topic string
	log   *groupLog
}

func (m member) Setup(s sarama.ConsumerGroupSession) error {
	m.log.mu.Lock()
	defer m.log.mu.Unlock()
	m.log.claims[m.name] = slices.Clone(s.Claims()[m.topic])
	m.log.gens[m.name] = s.GenerationID()
	return nil
}

func (m member) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m member) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for {
		select {
		case msg, ok := <-c.Messages():
			if !ok {
				return nil
			}
			m.log.mu.Lock()
			if m.log.got[msg.Partition] == nil {
				m.log.got[msg.Partition] = map[int64]string{}
			}
			if _, seen := m.log.got[msg.Partition][msg.Offset]; seen {
				m.log.dups++
			}
			m.log.got[msg.Partition][msg.Offset] = string(msg.Value)
			m.log.mu.Unlock()
			s.MarkMessage(msg, "")
		case <-s.Context().Done():
			return nil
		}
	}
}

// runMembers runs one consumer-group member per name until stop is
// called; stop closes them (committing their marked offsets and leaving the
// group) and returns the first error any of them met.
func runMembers(t *testing.T, ctx context.Context, addr, group, topic string, cfg func(name string) *sarama.Config, log *groupLog, names ...string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(names))
	for _, name := range names {
		cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg(name))
		if err != nil {
			cancel()
			t.Fatalf("member %s: %v", name, err)
		}
		wg.Go(func() {
			defer func() {
				if err := cg.Close(); err != nil {
					errs <- fmt.Errorf("member %s: close: %w", name, err)
				}
			}()
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, []string{topic}, member{name, topic, log}); err != nil {
					errs <- fmt.Errorf("member %s: %w", name, err)
					return
				}
			}
		})
		wg.Go(func() {
			for {
				select {
				case err, ok := <-cg.Errors():
					if !ok {
						return
					}
					errs <- fmt.Errorf("member %s: %w", name, err)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		wg.Wait()
		close(errs)
		return <-errs // nil when there was none
	}
	t.Cleanup(func() { stop() })
	return stop
}

// TestSaramaConsumerGroup runs sarama consumer groups against Runnel at
// the protocol versions sarama picks for several Kafka versions (JoinGroup
// v3 to v6: member IDs required from v4, static membership from v5):
// the members split the partitions between them, every produced record
// is received, the group's commits land at the end of every partition, and
// a new member of the group resumes from them, receiving only what was
// produced afterwards.
func TestSaramaConsumerGroup(t *testing.T) {
	srv := brokertest.Start(t)
	tests := []struct {
		name     string
		version  sarama.KafkaVersion
		strategy func() sarama.BalanceStrategy
		members  int
		static   bool // group.instance.id (KIP-345)
	}{
		{"goka's 2.0, range, two members", sarama.V2_0_0_0, sarama.NewBalanceStrategyRange, 2, false},
		{"2.4, round robin, static members", sarama.V2_4_0_0, sarama.NewBalanceStrategyRoundRobin, 2, true},
		{"newest sarama knows, sticky, three members", sarama.MaxVersion, sarama.NewBalanceStrategySticky, 3, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			topic, group := fmt.Sprintf("sarama-group-%d", i), fmt.Sprintf("sarama-group-%d", i)
			const partitions = 4
			cfg := func(name string) *sarama.Config {
				c := sarama.NewConfig()
				c.Version = tc.version
				c.ClientID = "runnel-sarama-test"
				c.Producer.Return.Successes = true
				c.Producer.RequiredAcks = sarama.WaitForAll
				c.Consumer.Return.Errors = true
				c.Consumer.Offsets.Initial = sarama.OffsetOldest
				c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{tc.strategy()}
				c.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
				if tc.static && name != "" {
					c.Consumer.Group.InstanceId = "instance-" + name
					// Static members do not leave the group when they
					// close; the next generation waits for their
					// sessions to expire (KIP-345).
					c.Consumer.Group.Session.Timeout = 6 * time.Second
				}
				return c
			}
			admin, err := sarama.NewClusterAdmin([]string{srv.Addr}, cfg(""))
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
				t.Fatalf("CreateTopic %s: %v", topic, err)
			}
			producer, err := sarama.NewSyncProducer([]string{srv.Addr}, cfg(""))
			if err != nil {
				t.Fatal(err)
			}
			defer producer.Close()
			sent := map[int32]map[int64]string{}
			ends := map[int32]int64{}
			produce := func(from, to int) {
				t.Helper()
				for j := from; j < to; j++ {
					v := fmt.Sprintf("value-%d", j)
					p, off, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(j)), Value: sarama.StringEncoder(v)})
					if err != nil {
						t.Fatalf("SendMessage %d: %v", j, err)
					}
					if sent[p] == nil {
						sent[p] = map[int64]string{}
					}
					sent[p][off] = v
					ends[p] = max(ends[p], off+1)
				}
			}
			// waitFor polls until the members have received want.
			waitFor := func(log *groupLog, want map[int32]map[int64]string) {
				t.Helper()
				tick := time.NewTicker(pollInterval)
				defer tick.Stop()
				for {
					log.mu.Lock()
					done := maps.EqualFunc(log.got, want, maps.Equal)
					n := 0
					for _, offs := range log.got {
						n += len(offs)
					}
					log.mu.Unlock()
					if done {
						return
					}
					select {
					case <-ctx.Done():
						t.Fatalf("members received %d distinct records, want exactly the %d produced: %v", n, len(want), ctx.Err())
					case <-tick.C:
					}
				}
			}

			produce(0, 50)
			first := newGroupLog()
			var names []string
			for m := range tc.members {
				names = append(names, fmt.Sprintf("m%d", m))
			}
			stop := runMembers(t, ctx, srv.Addr, group, topic, cfg, first, names...)
			// The members settle on one generation that splits the
			// partitions between all of them.
			tick := time.NewTicker(pollInterval)
			for {
				claimed, whole := first.assignment(tc.members)
				if whole && slices.Equal(claimed, []int32{0, 1, 2, 3}) {
					break
				}
				select {
				case <-ctx.Done():
					first.mu.Lock()
					t.Fatalf("the members never shared one generation that claims each partition once: claims %v, generations %v: %v", first.claims, first.gens, ctx.Err())
				case <-tick.C:
				}
			}
			tick.Stop()
			produce(50, 100)
			waitFor(first, sent)
			if err := stop(); err != nil {
				t.Fatalf("first generation: %v", err)
			}

			offs, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2, 3}})
			if err != nil {
				t.Fatalf("ListConsumerGroupOffsets: %v", err)
			}
			for p := range int32(partitions) {
				b := offs.GetBlock(topic, p)
				if b == nil || b.Err != sarama.ErrNoError || b.Offset != ends[p] {
					t.Errorf("committed offset of %s/%d: %+v, want %d", topic, p, b, ends[p])
				}
			}

			// A new member resumes from the commits: only the new records.
			before := sent
			sent = map[int32]map[int64]string{}
			produce(100, 130)
			second := newGroupLog()
			stop = runMembers(t, ctx, srv.Addr, group, topic, cfg, second, "late")
			waitFor(second, sent)
			if err := stop(); err != nil {
				t.Fatalf("second generation: %v", err)
			}
			for p, offs := range second.got {
				for off := range offs {
					if _, old := before[p][off]; old {
						t.Errorf("%s/%d offset %d was consumed again after its commit", topic, p, off)
					}
				}
			}
			if second.dups != 0 {
				t.Errorf("a lone member received %d records twice", second.dups)
			}
		})
	}
}
