package main

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	produceSummaryRE = regexp.MustCompile(`^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d{2} ms avg latency, \d+\.\d{2} ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$`)
	progressRE       = regexp.MustCompile(`^(\d+) records sent, \d+\.\d records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$`)
	diskRE           = regexp.MustCompile(`^raw disk write of the same (\d+\.\d{2}) MB: \d+\.\d MB/sec$`)
	consumeRowRE     = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, (\d+\.\d{4}), \d+\.\d{4}, (\d+), \d+\.\d{4}, \d+, -?\d+, -?\d+\.\d{4}, -?\d+\.\d{4}$`)
)

func TestPerfProduceThenConsume(t *testing.T) {
	c := newCluster(t)
	c.createTopic("bench", 2)
	r := mustRun(t, "", "perf", "produce", "--bootstrap-server", c.addr, "--topic", "bench",
		"--num-records", "3000", "--record-size", "100", "--throughput", "-1",
		"--producer-props", "acks=1", "linger.ms=2", "--compare-disk", t.TempDir())
	out := lines(r.stdout)
	if len(out) < 2 {
		t.Fatalf("perf produce printed:\n%s", r.stdout)
	}
	for _, l := range out[:len(out)-2] {
		if !progressRE.MatchString(l) {
			t.Errorf("progress line %q does not match", l)
		}
	}
	m := produceSummaryRE.FindStringSubmatch(out[len(out)-2])
	if m == nil {
		t.Fatalf("summary %q does not match kafka-producer-perf-test's format", out[len(out)-2])
	}
	if m[1] != "3000" {
		t.Fatalf("summary counts %s records, want 3000", m[1])
	}
	p := make([]int, 4)
	for i := range p {
		p[i], _ = strconv.Atoi(m[i+2])
	}
	if !slices.IsSorted(p) {
		t.Errorf("percentiles not ordered: %v", p)
	}
	if d := diskRE.FindStringSubmatch(out[len(out)-1]); d == nil || d[1] != "0.29" {
		t.Fatalf("disk reference line %q, want the same 0.29 MB", out[len(out)-1])
	}

	// Every record is on the topic.
	r = mustRun(t, "", "perf", "consume", "--bootstrap-server", c.addr, "--topic", "bench",
		"--messages", "3000", "--timeout", "10000", "--compare-disk", t.TempDir())
	out = lines(r.stdout)
	if len(out) != 3 || out[0] != consumeHeader {
		t.Fatalf("perf consume printed:\n%s", r.stdout)
	}
	row := consumeRowRE.FindStringSubmatch(out[1])
	if row == nil {
		t.Fatalf("row %q does not match kafka-consumer-perf-test's format", out[1])
	}
	if row[2] != "3000" || row[1] != "0.2861" {
		t.Fatalf("consumed %s records, %s MB; want 3000 and 0.2861", row[2], row[1])
	}
	if d := diskRE.FindStringSubmatch(out[2]); d == nil || d[1] != "0.29" {
		t.Fatalf("disk reference line %q", out[2])
	}

	// Asking for more than there is stops after --timeout with Kafka's
	// warning and the records that were there.
	r = mustRun(t, "", "perf", "consume", "--bootstrap-server", c.addr, "--topic", "bench",
		"--messages", "5000", "--timeout", "1000", "--hide-header", "--compare-disk", "")
	out = lines(r.stdout)
	if len(out) != 2 || !strings.HasPrefix(out[0], "WARNING: Exiting before consuming the expected number of messages: timeout (1000 ms) exceeded.") {
		t.Fatalf("perf consume with too few records printed:\n%s", r.stdout)
	}
	if row := consumeRowRE.FindStringSubmatch(out[1]); row == nil || row[2] != "3000" {
		t.Fatalf("row %q, want 3000 records", out[1])
	}
}

func TestPerfErrors(t *testing.T) {
	c := newCluster(t)
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no benchmark", []string{"perf"}, "missing benchmark", 2},
		{"unknown benchmark", []string{"perf", "fly"}, `unknown benchmark "fly"`, 2},
		{"produce without topic", []string{"perf", "produce", "--num-records", "1", "--record-size", "1"}, "--topic", 2},
		{"produce without records", []string{"perf", "produce", "--topic", "a", "--record-size", "1"}, "--num-records", 2},
		{"produce zero throughput", []string{"perf", "produce", "--topic", "a", "--num-records", "1", "--record-size", "1", "--throughput", "0"}, "--throughput", 2},
		{"produce bad props", []string{"perf", "produce", "--bootstrap-server", c.addr, "--topic", "a", "--num-records", "1", "--record-size", "1", "--producer-props", "acks"}, `invalid --producer-props "acks"`, 2},
		{"consume without messages", []string{"perf", "consume", "--topic", "a"}, "--messages", 2},
		{"consume unknown topic", []string{"perf", "consume", "--bootstrap-server", c.addr, "--topic", "nope", "--messages", "1"}, "topic nope does not exist", 1},
		{"consume bad date format", []string{"perf", "consume", "--topic", "a", "--messages", "1", "--date-format", "EEE"}, "--date-format", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", tc.args...)
			assertOneLineError(t, r, tc.want)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
		})
	}
}

func TestLatencyHistogramPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
	}{
		{"sub-millisecond", func() time.Duration { return time.Duration(rng.IntN(1000)) * time.Microsecond }},
		{"exponential", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)) }},
		{"long tail", func() time.Duration {
			if rng.IntN(100) == 0 {
				return time.Duration(rng.IntN(5000)) * time.Millisecond
			}
			return time.Duration(rng.IntN(10_000)) * time.Microsecond
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h latencyHistogram
			samples := make([]time.Duration, 100_000)
			for i := range samples {
				samples[i] = tc.gen().Truncate(time.Microsecond)
				h.record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0.5, 0.95, 0.99, 0.999} {
				exact := samples[int(q*float64(len(samples)))]
				got := h.percentile(q)
				if diff := (got - exact).Abs(); diff > exact/64+time.Microsecond {
					t.Errorf("p%v = %v, exact %v: off by more than 1/64", q*100, got, exact)
				}
			}
		})
	}
}

func TestThrottlerPacesSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		thr := &throttler{perSec: 10, start: start}
		for i := range int64(50) {
			if err := thr.wait(t.Context(), i); err != nil {
				t.Fatal(err)
			}
		}
		// The 50th record goes 49 intervals of 100 ms after the first.
		if got := time.Since(start); got != 4900*time.Millisecond {
			t.Fatalf("50 records at 10/s took %v, want 4.9s", got)
		}
		unlimited := &throttler{perSec: -1, start: time.Now()}
		before := time.Now()
		for i := range int64(1000) {
			unlimited.wait(t.Context(), i) //nolint:errcheck // never fails without a limit
		}
		if time.Since(before) != 0 {
			t.Fatal("an unlimited throttler waited")
		}
	})
}

func TestProgressReportedEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stats := newProduceStats(time.Now())
		var got []string
		done := make(chan struct{})
		ctx, cancel := contextWithCancel(t)
		go func() {
			defer close(done)
			reportEvery(ctx, perfReportInterval, func(now time.Time) {
				got = append(got, stats.takeWindow(now).progressLine(now))
			})
		}()
		// 10 records per second of 1 KiB each, 2 ms latency, for 12 s,
		// half an interval away from the ticks.
		time.Sleep(50 * time.Millisecond)
		for range 120 {
			stats.record(2*time.Millisecond, 1024)
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		<-done
		want := []string{
			"50 records sent, 10.0 records/sec (0.01 MB/sec), 2.0 ms avg latency, 2.0 ms max latency.",
			"50 records sent, 10.0 records/sec (0.01 MB/sec), 2.0 ms avg latency, 2.0 ms max latency.",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("progress lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// 120 records over 12.05 s of the bubble's clock.
		sum := stats.summary(time.Now())
		if m := produceSummaryRE.FindStringSubmatch(sum); m == nil || m[1] != "120" || m[2] != "2" {
			t.Fatalf("summary %q", sum)
		}
		if !strings.HasPrefix(sum, "120 records sent, 9.958506 records/sec (0.01 MB/sec), 2.00 ms avg latency, 2.00 ms max latency") {
			t.Fatalf("summary %q", sum)
		}
	})
}

func TestJavaDateLayout(t *testing.T) {
	ts := time.Date(2024, 3, 11, 10, 22, 1, 113_000_000, time.UTC)
	for f, want := range map[string]string{
		"yyyy-MM-dd HH:mm:ss:SSS": "2024-03-11 10:22:01:113",
		"HH:mm:ss.SSS":            "10:22:01.113",
		"yyyyMMdd":                "20240311",
	} {
		layout, err := javaDateLayout(f)
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		if got := layout(ts); got != want {
			t.Errorf("%q formats as %q, want %q", f, got, want)
		}
	}
	if _, err := javaDateLayout("EEE yyyy"); err == nil {
		t.Error("unsupported letters accepted")
	}
}

func TestConsumeSummaryLine(t *testing.T) {
	layout, _ := javaDateLayout("yyyy-MM-dd HH:mm:ss:SSS")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	got := consumeSummaryLine(layout, start, start.Add(4*time.Second), 10*mib, 20000, time.Second)
	want := "2024-01-01 00:00:00:000, 2024-01-01 00:00:04:000, 10.0000, 2.5000, 20000, 5000.0000, 1000, 3000, 3.3333, 6666.6667"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
