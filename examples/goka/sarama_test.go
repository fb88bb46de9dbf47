package main

import (
	"context"
	"fmt"
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
