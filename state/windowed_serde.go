package state

import (
	"fmt"
	"time"

	"github.com/runnel/runnel/streams/serde"
)

// TimeWindowedSerde returns the serde of time-windowed keys in Kafka's format
// key‖windowStart (TimeWindowedSerializer/TimeWindowedDeserializer). The
// window end is not written; Deserialize computes it as start+windowSize,
// clamped to math.MaxInt64.
func TimeWindowedSerde[K any](inner serde.Serde[K], windowSize time.Duration) serde.Serde[Windowed[K]] {
	size := windowSize.Milliseconds()
	return serde.New(
		func(topic string, v Windowed[K]) ([]byte, error) {
			kb, err := inner.Serialize(topic, v.Key)
			if err != nil {
				return nil, err
			}
			return TimeWindowedKey(kb, v.Window.Start), nil
		},
		func(topic string, data []byte) (Windowed[K], error) {
			if data == nil {
				return Windowed[K]{}, nil
			}
			kb, start, err := ParseTimeWindowedKey(data)
			if err != nil {
				return Windowed[K]{}, fmt.Errorf("topic %q: %w", topic, err)
			}
			k, err := inner.Deserialize(topic, kb)
			if err != nil {
				return Windowed[K]{}, err
			}
			return Windowed[K]{Key: k, Window: TimeWindowFor(start, size)}, nil
		})
}

// SessionWindowedSerde returns the serde of session-windowed keys in Kafka's
// format key‖end‖start (SessionWindowedSerializer).
func SessionWindowedSerde[K any](inner serde.Serde[K]) serde.Serde[Windowed[K]] {
	return serde.New(
		func(topic string, v Windowed[K]) ([]byte, error) {
			kb, err := inner.Serialize(topic, v.Key)
			if err != nil {
				return nil, err
			}
			return SessionStoreKey(kb, v.Window), nil
		},
		func(topic string, data []byte) (Windowed[K], error) {
			if data == nil {
				return Windowed[K]{}, nil
			}
			kb, w, err := ParseSessionStoreKey(data)
			if err != nil {
				return Windowed[K]{}, fmt.Errorf("topic %q: %w", topic, err)
			}
			k, err := inner.Deserialize(topic, kb)
			if err != nil {
				return Windowed[K]{}, err
			}
			return Windowed[K]{Key: k, Window: w}, nil
		})
}
