package txn

import (
	"fmt"
	"testing"
)

// BenchmarkValue encodes and decodes a __transaction_state value of a
// transaction over 20 partitions of 4 topics (sorted, as the coordinator
// keeps them), beside copying the same bytes: the
// floor any codec of the record pays.
func BenchmarkValue(b *testing.B) {
	v := Value{
		ProducerID: 1000, PreviousProducerID: -1, NextProducerID: -1, ProducerEpoch: 3,
		TimeoutMs: 60000, State: Ongoing, LastUpdateTimestamp: 1700000000123, StartTimestamp: 1700000000000,
	}
	for i := range 20 {
		v.Partitions = append(v.Partitions, TopicPartition{Topic: fmt.Sprintf("topic-%d", i/5), Partition: int32(i)})
	}
	enc := v.AppendTo(nil)
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		dst := make([]byte, len(enc))
		for b.Loop() {
			copy(dst, enc)
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		buf := make([]byte, 0, len(enc))
		for b.Loop() {
			buf = v.AppendTo(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := ParseValue(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
