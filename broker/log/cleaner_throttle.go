package log

import (
	"context"
	"sync"
	"time"
)

// throttle holds the cleaners that share it to a number of bytes per
// second (log.cleaner.io.max.bytes.per.second). A nil throttle does not
// limit.
type throttle struct {
	rate float64 // bytes per second

	mu    sync.Mutex
	start time.Time // of the current measuring window
	bytes float64   // counted since start
}

// throttleWindow is how long the throttle averages over before it forgets.
const throttleWindow = time.Second

// newThrottle returns a throttle for rate bytes per second, nil for an
// unlimited rate (0, or Kafka's default of Double.MAX_VALUE).
func newThrottle(rate float64) *throttle {
	if rate <= 0 || rate > 1e300 {
		return nil
	}
	return &throttle{rate: rate}
}

// wait counts n bytes and, when the bytes counted in the current window
// are ahead of the rate, waits until they are not (or ctx ends).
func (t *throttle) wait(ctx context.Context, n int) error {
	if t == nil || n <= 0 {
		return ctx.Err()
	}
	t.mu.Lock()
	now := time.Now()
	if t.start.IsZero() || now.Sub(t.start) > throttleWindow {
		t.start, t.bytes = now, 0
	}
	t.bytes += float64(n)
	ahead := time.Duration(t.bytes/t.rate*float64(time.Second)) - now.Sub(t.start)
	t.mu.Unlock()
	if ahead <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(ahead)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
