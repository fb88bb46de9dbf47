package streams

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Window is a time interval in milliseconds: [Start, End) for time windows,
// [Start, End] for sessions.
type Window struct {
	Start int64
	End   int64
}

// Windowed is a key with the window its aggregate belongs to: the key type
// of windowed aggregations' results.
type Windowed[K any] struct {
	Key    K
	Window Window
}

// String formats the windowed key as Kafka's Windowed.toString does:
// [key@start/end].
func (w Windowed[K]) String() string {
	return "[" + fmt.Sprint(w.Key) + "@" + strconv.FormatInt(w.Window.Start, 10) + "/" + strconv.FormatInt(w.Window.End, 10) + "]"
}

// TimeWindowedSerde serializes Windowed[K] as Kafka's TimeWindowedSerde:
// the inner key bytes followed by the window start (int64 big-endian).
// The end is not written; Deserialize sets it to start+windowSize (capped
// at the largest int64), so pass the window size of the windows written.
func TimeWindowedSerde[K any](inner Serde[K], windowSize int64) Serde[Windowed[K]] {
	return timeWindowedSerde[K]{inner: inner, size: windowSize}
}

type timeWindowedSerde[K any] struct {
	inner Serde[K]
	size  int64
}

func (s timeWindowedSerde[K]) Serialize(topic string, w Windowed[K]) ([]byte, error) {
	kb, err := s.inner.Serialize(topic, w.Key)
	if err != nil {
		return nil, err
	}
	return be64(kb, w.Window.Start), nil
}

func (s timeWindowedSerde[K]) Deserialize(topic string, data []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(data) < 8 {
		return w, fmt.Errorf("streams: time-windowed key of %d bytes is shorter than its 8-byte timestamp", len(data))
	}
	k, err := s.inner.Deserialize(topic, data[:len(data)-8])
	if err != nil {
		return w, err
	}
	start := int64(binary.BigEndian.Uint64(data[len(data)-8:]))
	end := start + s.size
	if end < start {
		end = math.MaxInt64
	}
	return Windowed[K]{Key: k, Window: Window{Start: start, End: end}}, nil
}

// SessionWindowedSerde serializes Windowed[K] as Kafka's
// SessionWindowedSerde: inner key bytes, window end, window start (both
// int64 big-endian).
func SessionWindowedSerde[K any](inner Serde[K]) Serde[Windowed[K]] {
	return sessionWindowedSerde[K]{inner: inner}
}

type sessionWindowedSerde[K any] struct{ inner Serde[K] }

func (s sessionWindowedSerde[K]) Serialize(topic string, w Windowed[K]) ([]byte, error) {
	kb, err := s.inner.Serialize(topic, w.Key)
	if err != nil {
		return nil, err
	}
	return be64(be64(kb, w.Window.End), w.Window.Start), nil
}

func (s sessionWindowedSerde[K]) Deserialize(topic string, data []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(data) < 16 {
		return w, fmt.Errorf("streams: session-windowed key of %d bytes is shorter than its two 8-byte timestamps", len(data))
	}
	n := len(data) - 16
	k, err := s.inner.Deserialize(topic, data[:n])
	if err != nil {
		return w, err
	}
	end := int64(binary.BigEndian.Uint64(data[n : n+8]))
	start := int64(binary.BigEndian.Uint64(data[n+8:]))
	return Windowed[K]{Key: k, Window: Window{Start: start, End: end}}, nil
}
