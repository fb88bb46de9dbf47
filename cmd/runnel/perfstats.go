package main

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
	"time"
)

// mib is the megabyte of Kafka's perf tools (1024*1024 bytes).
const mib = 1024 * 1024

// latencyHistogram counts latencies in log-linear buckets of microseconds:
// exact below 128µs, then 64 buckets per power of two, so any percentile is
// within 1/64 (1.6%) of the true sample while memory stays fixed (about
// 30 KiB) however many records are measured.
type latencyHistogram struct {
	counts [128 + 57*64]int64
	total  int64
}

// histogramSubBits is log2 of the exact range; each power of two above it
// is split into 2^(histogramSubBits-1) buckets.
const histogramSubBits = 7

func histogramIndex(us int64) int {
	if us < 1<<histogramSubBits {
		return int(max(us, 0))
	}
	shift := bits.Len64(uint64(us)) - histogramSubBits
	return 1<<histogramSubBits + (shift-1)*(1<<(histogramSubBits-1)) + int(us>>shift) - 1<<(histogramSubBits-1)
}

// histogramValue is the midpoint of bucket i in microseconds.
func histogramValue(i int) int64 {
	if i < 1<<histogramSubBits {
		return int64(i)
	}
	j := i - 1<<histogramSubBits
	shift := j/(1<<(histogramSubBits-1)) + 1
	m := int64(j%(1<<(histogramSubBits-1)) + 1<<(histogramSubBits-1))
	lo := m << shift
	return lo + (int64(1)<<shift)/2
}

func (h *latencyHistogram) record(d time.Duration) {
	h.counts[histogramIndex(d.Microseconds())]++
	h.total++
}

// percentile returns the latency below which a fraction q of the samples
// fall, picked as Kafka's perf tool does: the sample at index q*count of the
// sorted samples.
func (h *latencyHistogram) percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(q * float64(h.total))
	if rank >= h.total {
		rank = h.total - 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return time.Duration(histogramValue(i)) * time.Microsecond
		}
	}
	return 0
}

// perfWindow is the activity of one reporting interval.
type perfWindow struct {
	start          time.Time
	count, bytes   int64
	latSum, latMax time.Duration
}

// progressLine renders a window as kafka-producer-perf-test prints it every
// reporting interval.
func (w perfWindow) progressLine(now time.Time) string {
	elapsed := now.Sub(w.start).Seconds()
	if elapsed <= 0 {
		elapsed = 1e-9
	}
	avg := 0.0
	if w.count > 0 {
		avg = ms(w.latSum) / float64(w.count)
	}
	return fmt.Sprintf("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.",
		w.count, float64(w.count)/elapsed, float64(w.bytes)/elapsed/mib, avg, ms(w.latMax))
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// produceStats accumulates acknowledged records. record is called from
// franz-go's promise goroutines; everything is guarded by mu, which is never
// held while writing output.
type produceStats struct {
	mu      sync.Mutex
	start   time.Time
	count   int64
	bytes   int64
	latSum  time.Duration
	latMax  time.Duration
	hist    latencyHistogram
	current perfWindow
}

func newProduceStats(now time.Time) *produceStats {
	return &produceStats{start: now, current: perfWindow{start: now}}
}

// record adds one acknowledged record of size bytes.
func (s *produceStats) record(latency time.Duration, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(size)
	s.latSum += latency
	s.latMax = max(s.latMax, latency)
	s.hist.record(latency)
	w := &s.current
	w.count++
	w.bytes += int64(size)
	w.latSum += latency
	w.latMax = max(w.latMax, latency)
}

// takeWindow returns the current window and starts a new one at now.
func (s *produceStats) takeWindow(now time.Time) perfWindow {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.current
	s.current = perfWindow{start: now}
	return w
}

// summary renders kafka-producer-perf-test's final line.
func (s *produceStats) summary(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := now.Sub(s.start).Seconds()
	if elapsed <= 0 {
		elapsed = 1e-9
	}
	avg := 0.0
	if s.count > 0 {
		avg = ms(s.latSum) / float64(s.count)
	}
	pct := func(q float64) int64 { return s.hist.percentile(q).Milliseconds() }
	return fmt.Sprintf("%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
		s.count, float64(s.count)/elapsed, float64(s.bytes)/elapsed/mib, avg, ms(s.latMax),
		pct(0.5), pct(0.95), pct(0.99), pct(0.999))
}

// reportEvery calls report every interval until ctx is done. It is the one
// goroutine that prints progress; its caller waits for it.
func reportEvery(ctx context.Context, interval time.Duration, report func(now time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			report(now)
		}
	}
}

// throttler paces sends to a target rate, as Kafka's ThroughputThrottler:
// the n-th record is not sent before start + n/perSec.
type throttler struct {
	perSec float64 // <= 0: no limit
	start  time.Time
}

// wait blocks until record number sent (counting from 0) may go.
func (t *throttler) wait(ctx context.Context, sent int64) error {
	if t.perSec <= 0 {
		return nil
	}
	due := t.start.Add(time.Duration(float64(sent) / t.perSec * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// rawDiskWrite writes n bytes sequentially to a new file in dir, fsyncs it
// and removes it, returning how long the write and fsync took: the
// reference a perf figure is printed beside.
func rawDiskWrite(ctx context.Context, dir string, n int64) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "runnel-perf-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("disk reference: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, mib)
	for i := range buf {
		buf[i] = 'A' + byte(i%26)
	}
	start := time.Now()
	for left := n; left > 0; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		chunk := buf[:min(int64(len(buf)), left)]
		if _, err := f.Write(chunk); err != nil {
			return 0, fmt.Errorf("disk reference: %w", err)
		}
		left -= int64(len(chunk))
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("disk reference: %w", err)
	}
	d := time.Since(start)
	return d, f.Close()
}

// printDiskReference measures and prints the raw sequential write rate of
// the same number of bytes in dir; an empty dir skips it.
func printDiskReference(ctx context.Context, w io.Writer, dir string, n int64) error {
	if dir == "" || n <= 0 {
		return nil
	}
	d, err := rawDiskWrite(ctx, dir, n)
	if err != nil {
		return err
	}
	secs := max(d.Seconds(), 1e-9)
	fmt.Fprintf(w, "raw disk write of the same %.2f MB: %.1f MB/sec\n", float64(n)/mib, float64(n)/mib/secs)
	return nil
}
