package streams

import (
	"time"

	"github.com/runnel/runnel/state"
)

// Window is a time interval in milliseconds: [Start, End) for time windows,
// [Start, End] for sessions. It is state.Window.
type Window = state.Window

// Windowed is a key with the window its aggregate belongs to: the key type
// of windowed aggregations' results. It is state.Windowed.
type Windowed[K any] = state.Windowed[K]

// TimeWindowedSerde serializes Windowed[K] as Kafka's TimeWindowedSerde:
// the inner key bytes followed by the window start (int64 big-endian); the
// end is start+windowSize on reading.
func TimeWindowedSerde[K any](inner Serde[K], windowSize time.Duration) Serde[Windowed[K]] {
	return state.TimeWindowedSerde(inner, windowSize)
}

// SessionWindowedSerde serializes Windowed[K] as Kafka's
// SessionWindowedSerde: inner key bytes, window end, window start.
func SessionWindowedSerde[K any](inner Serde[K]) Serde[Windowed[K]] {
	return state.SessionWindowedSerde(inner)
}
