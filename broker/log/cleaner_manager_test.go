package log

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// captured collects log messages with their attributes.
type captured struct {
	mu   sync.Mutex
	msgs []capturedMsg
}

type capturedMsg struct {
	msg   string
	attrs map[string]string
}

type captureHandler struct {
	c     *captured
	attrs []slog.Attr
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) WithGroup(string) slog.Handler            { return h }
func (h captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return captureHandler{c: h.c, attrs: append(slices.Clone(h.attrs), as...)}
}
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	m := capturedMsg{msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		m.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		m.attrs[a.Key] = a.Value.String()
		return true
	})
	h.c.mu.Lock()
	h.c.msgs = append(h.c.msgs, m)
	h.c.mu.Unlock()
	return nil
}

// cleanedTopics lists the topics of the "cleaned log" messages, in order.
func (c *captured) cleanedTopics() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		if m.msg == "cleaned log" {
			out = append(out, m.attrs["topic"])
		}
	}
	return out
}

func newTestManager(t testing.TB, dirs []string, cfg ManagerConfig, logger *slog.Logger, configs map[string]Config) *Manager {
	t.Helper()
	cfg.Dirs = dirs
	cfg.Logger = logger
	if cfg.CleanerDedupeBufferSize == 0 {
		cfg.CleanerDedupeBufferSize = 1 << 20
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(func(topic string) (Config, error) { return configs[topic], nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

// fill appends n single-record batches cycling over keys keys, rolls, and
// moves the high watermark to the end.
func fill(t testing.TB, l *Log, n, keys int, ts int64) []record.Record {
	t.Helper()
	var all []record.Record
	for i := range n {
		all = append(all, appendKV(t, l, noProducer, ts+int64(i), kv{fmt.Sprint("k", i%keys), fmt.Appendf(nil, "v%d-%d", ts, i)})...)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	return all
}

func readCleanerCheckpoint(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	entries, err := ReadCheckpoint(OS(), filepath.Join(dir, cleanerCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		out[TopicPartition{e.Topic, e.Partition}.String()] = e.Offset
	}
	return out
}

func TestManagerCleanNow(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	configs := map[string]Config{
		"hot":   {Compact: true, SegmentBytes: 300},
		"warm":  {Compact: true, SegmentBytes: 300},
		"calm":  {Compact: true, SegmentBytes: 300, MinCleanableDirtyRatio: 0.9},
		"plain": {SegmentBytes: 300},
	}
	var logs captured
	m := newTestManager(t, dirs, ManagerConfig{CleanerDisabled: true}, slog.New(captureHandler{c: &logs}), configs)
	open := func(topic string) *Log {
		l, err := m.Open(topic, 0, configs[topic])
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	all := map[string][]record.Record{}
	for _, topic := range []string{"hot", "warm", "calm", "plain"} {
		all[topic] = fill(t, open(topic), 40, 4, 1000)
	}

	n, err := m.CleanNow(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("CleanNow = %d, %v; want the 3 compacted logs", n, err)
	}
	for _, topic := range []string{"hot", "warm", "calm"} {
		l, _ := m.Get(topic, 0)
		sameRecords(t, readAll(t, l, 0), compacted(all[topic], l.activeLocked().base, false))
	}
	plain, _ := m.Get("plain", 0)
	sameRecords(t, readAll(t, plain, 0), all["plain"])

	// More writes: hot gets the most, calm too few for its ratio.
	hot, _ := m.Get("hot", 0)
	warm, _ := m.Get("warm", 0)
	calm, _ := m.Get("calm", 0)
	all["warm"] = append(all["warm"], fill(t, warm, 10, 4, 2000)...)
	all["hot"] = append(all["hot"], fill(t, hot, 40, 4, 2000)...)
	fill(t, calm, 3, 4, 2000)
	before := len(logs.cleanedTopics())
	n, err = m.CleanNow(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("second CleanNow = %d, %v; want hot and warm", n, err)
	}
	if got := logs.cleanedTopics()[before:]; !slices.Equal(got, []string{"hot", "warm"}) {
		t.Fatalf("cleaned %v, want the dirtiest first: [hot warm]", got)
	}

	stats := m.CleanerStats()
	if _, ok := stats[TopicPartition{"plain", 0}]; ok {
		t.Fatal("the cleaner keeps stats of a log that is not compacted")
	}
	st := stats[TopicPartition{"hot", 0}]
	if st.Cleans != 2 || st.BytesRead == 0 || st.BytesWritten == 0 || st.RecordsRemoved == 0 || st.LastCleanTime.IsZero() ||
		st.DirtyRatio != 0 || st.FirstDirtyOffset != hot.activeLocked().base || st.Uncleanable {
		t.Fatalf("stats of hot: %+v", st)
	}
	if st := stats[TopicPartition{"calm", 0}]; st.Cleans != 1 || st.DirtyRatio <= 0 || st.DirtyRatio >= 0.9 {
		t.Fatalf("stats of calm: %+v; want one clean and a dirty ratio below 0.9", st)
	}

	// cleaner-offset-checkpoint holds each log's first dirty offset, in
	// the data directory of the log.
	want := map[string]int64{}
	for tp, st := range m.CleanerStats() {
		want[tp.String()] = st.FirstDirtyOffset
	}
	got := map[string]int64{}
	for _, d := range dirs {
		for k, v := range readCleanerCheckpoint(t, d) {
			got[k] = v
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cleaner-offset-checkpoint files hold %v, want %v", got, want)
	}

	// After a restart the checkpoint says nothing is dirty: no clean.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = newTestManager(t, dirs, ManagerConfig{CleanerDisabled: true}, nil, configs)
	defer m.Close()
	if n, err := m.CleanNow(t.Context()); n != 0 || err != nil {
		t.Fatalf("CleanNow after a restart = %d, %v; want nothing to clean", n, err)
	}
	if st := m.CleanerStats()[TopicPartition{"hot", 0}]; st.FirstDirtyOffset != want["hot-0"] {
		t.Fatalf("after a restart hot's first dirty offset is %d, want %d", st.FirstDirtyOffset, want["hot-0"])
	}
	hot, _ = m.Get("hot", 0)
	sameRecords(t, readAll(t, hot, 0), compacted(all["hot"], hot.activeLocked().base, false))
}

func TestManagerMaxCompactionLag(t *testing.T) {
	configs := map[string]Config{"lagging": {Compact: true, SegmentBytes: 300, MinCleanableDirtyRatio: 0.99, MaxCompactionLagMs: 60_000}}
	m := newTestManager(t, []string{t.TempDir()}, ManagerConfig{CleanerDisabled: true}, nil, configs)
	defer m.Close()
	l, err := m.Open("lagging", 0, configs["lagging"])
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixMilli()
	all := fill(t, l, 40, 4, old)
	if n, err := m.CleanNow(t.Context()); n != 1 || err != nil {
		t.Fatalf("CleanNow = %d, %v", n, err)
	}
	// Now only a little is dirty, far below the ratio, but an hour old.
	all = append(all, fill(t, l, 2, 4, old+100)...)
	if cb, _ := l.Cleanable(m.CleanerStats()[TopicPartition{"lagging", 0}].FirstDirtyOffset, time.Now()); cb.DirtyRatio >= 0.99 || !cb.MaxLagExceeded {
		t.Fatalf("Cleanable = %+v; want a low ratio and max.compaction.lag.ms exceeded", cb)
	}
	if n, err := m.CleanNow(t.Context()); n != 1 || err != nil {
		t.Fatalf("CleanNow past max.compaction.lag.ms = %d, %v; want the log cleaned", n, err)
	}
	sameRecords(t, readAll(t, l, 0), compacted(all, l.activeLocked().base, false))
	// Young dirty data below the ratio waits.
	fill(t, l, 2, 4, time.Now().UnixMilli())
	if n, err := m.CleanNow(t.Context()); n != 0 || err != nil {
		t.Fatalf("CleanNow with young dirty data = %d, %v; want none", n, err)
	}
}

func TestManagerTruncationResetsFirstDirtyOffset(t *testing.T) {
	configs := map[string]Config{"t": {Compact: true, SegmentBytes: 300}}
	m := newTestManager(t, []string{t.TempDir()}, ManagerConfig{CleanerDisabled: true}, nil, configs)
	defer m.Close()
	l, err := m.Open("t", 0, configs["t"])
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 60, 5, 1000)
	if n, err := m.CleanNow(t.Context()); n != 1 || err != nil {
		t.Fatalf("CleanNow = %d, %v", n, err)
	}
	// A truncation below the first dirty offset, then new records with
	// the old keys where the cleaner thought all was clean.
	cut := m.CleanerStats()[TopicPartition{"t", 0}].FirstDirtyOffset - 3
	var kept []record.Record
	for _, r := range readAll(t, l, 0) {
		if r.Offset < cut {
			kept = append(kept, r)
		}
	}
	if err := l.Truncate(cut); err != nil {
		t.Fatal(err)
	}
	// The only newer version of kept[0]'s key lands below the old first
	// dirty offset.
	kept = append(kept, appendKV(t, l, noProducer, 5000, kv{string(kept[0].Key), val("after the truncation")})...)
	for i := range 10 {
		kept = append(kept, appendKV(t, l, noProducer, 5001+int64(i), kv{fmt.Sprint("other-", i%4), val("x")})...)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	if n, err := m.CleanNow(t.Context()); n != 1 || err != nil {
		t.Fatalf("CleanNow after the truncation = %d, %v", n, err)
	}
	sameRecords(t, readAll(t, l, 0), compacted(kept, l.activeLocked().base, false))
}

func TestManagerDeleteForgetsCleanerCheckpoint(t *testing.T) {
	dir := t.TempDir()
	configs := map[string]Config{"a": {Compact: true, SegmentBytes: 300}, "b": {Compact: true, SegmentBytes: 300}}
	m := newTestManager(t, []string{dir}, ManagerConfig{CleanerDisabled: true}, nil, configs)
	defer m.Close()
	for _, topic := range []string{"a", "b"} {
		l, err := m.Open(topic, 0, configs[topic])
		if err != nil {
			t.Fatal(err)
		}
		fill(t, l, 20, 3, 0)
	}
	if n, err := m.CleanNow(t.Context()); n != 2 || err != nil {
		t.Fatalf("CleanNow = %d, %v", n, err)
	}
	if got := readCleanerCheckpoint(t, dir); len(got) != 2 {
		t.Fatalf("checkpoint %v, want two entries", got)
	}
	if err := m.Delete("a", 0); err != nil {
		t.Fatal(err)
	}
	if got := readCleanerCheckpoint(t, dir); len(got) != 1 || got["b-0"] == 0 {
		t.Fatalf("checkpoint after deleting a-0: %v, want only b-0", got)
	}
	if _, ok := m.CleanerStats()[TopicPartition{"a", 0}]; ok {
		t.Fatal("the cleaner still knows the deleted log")
	}
}

// TestManagerCleanerThreads runs the cleaner threads on a fake clock: a
// log is cleaned at once, then left alone while nothing is due, and its
// tombstones go when their delete horizon passes, by the cleaner's own
// doing.
func TestManagerCleanerThreads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const retention = 60_000
		configs := map[string]Config{"c": {Compact: true, SegmentBytes: 300, DeleteRetentionMs: retention}}
		m := newTestManager(t, []string{t.TempDir()}, ManagerConfig{CleanerBackoff: 15 * time.Second}, nil, configs)
		l, err := m.Open("c", 0, configs["c"])
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixMilli()
		all := fill(t, l, 30, 3, now)
		all = append(all, appendKV(t, l, noProducer, now+100, kv{"k1", nil})...)
		all = append(all, fill(t, l, 3, 1, now+200)...)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			m.Run(ctx)
			close(done)
		}()
		synctest.Wait()
		tp := TopicPartition{"c", 0}
		if st := m.CleanerStats()[tp]; st.Cleans != 1 {
			t.Fatalf("%d cleans when Run started, want 1", st.Cleans)
		}
		fu := l.activeLocked().base
		sameRecords(t, readAll(t, l, 0), compacted(all, fu, false))

		// Nothing is due for most of delete.retention.ms.
		time.Sleep(retention*time.Millisecond - 5*time.Second)
		synctest.Wait()
		if st := m.CleanerStats()[tp]; st.Cleans != 1 {
			t.Fatalf("%d cleans before the delete horizon, want 1", st.Cleans)
		}
		// Within a backoff after the horizon, the tombstone is gone.
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if st := m.CleanerStats()[tp]; st.Cleans != 2 {
			t.Fatalf("%d cleans after the delete horizon, want 2", st.Cleans)
		}
		sameRecords(t, readAll(t, l, 0), compacted(all, fu, true))

		cancel()
		<-done
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestManagerCloseAndDeleteAbortCleaning stops a slow (throttled) clean
// by closing the Manager and by deleting the log.
func TestManagerCloseAndDeleteAbortCleaning(t *testing.T) {
	for _, how := range []string{"close", "delete"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				configs := map[string]Config{"slow": {Compact: true, SegmentBytes: 1000}}
				m := newTestManager(t, []string{dir}, ManagerConfig{CleanerIOMaxBytesPerSecond: 1000, CleanerIOBufferSize: 4096}, nil, configs)
				l, err := m.Open("slow", 0, configs["slow"])
				if err != nil {
					t.Fatal(err)
				}
				all := fill(t, l, 200, 5, 0)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				done := make(chan struct{})
				go func() {
					m.Run(ctx)
					close(done)
				}()
				// Let the clock run until the cleaner, held back by its
				// throttle, is writing compacted segments.
				for i := 0; ; i++ {
					synctest.Wait()
					entries, _ := os.ReadDir(l.Dir())
					if slices.ContainsFunc(entries, func(e os.DirEntry) bool { return filepath.Ext(e.Name()) == cleanedSuffix }) {
						break
					}
					if i == 1000 {
						t.Fatal("the cleaner never started writing")
					}
					time.Sleep(100 * time.Millisecond)
				}
				switch how {
				case "close":
					if err := m.Close(); err != nil {
						t.Fatal(err)
					}
					cancel()
					<-done
					re := mustOpen(t, l.Dir(), configs["slow"], OpenOptions{CleanShutdown: true})
					defer re.Close()
					sameRecords(t, readAll(t, re, 0), all)
					noLeftovers(t, l.Dir())
				case "delete":
					if err := m.Delete("slow", 0); err != nil {
						t.Fatal(err)
					}
					if _, err := os.Stat(l.Dir()); !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("the deleted log's directory: %v", err)
					}
					cancel()
					<-done
					if err := m.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}

func TestManagerCleanerConfig(t *testing.T) {
	cases := []struct {
		cfg  ManagerConfig
		prop string
	}{
		{ManagerConfig{CleanerDedupeBufferSize: 40}, "log.cleaner.dedupe.buffer.size"},
		{ManagerConfig{CleanerThreads: 4, CleanerDedupeBufferSize: 100}, "log.cleaner.dedupe.buffer.size"},
		{ManagerConfig{CleanerIOBufferSize: -1}, "log.cleaner.io.buffer.size"},
		{ManagerConfig{CleanerThreads: 2, CleanerIOBufferSize: -1}, "log.cleaner.io.buffer.size"},
		{ManagerConfig{CleanerDedupeBufferLoadFactor: 2}, "log.cleaner.io.buffer.load.factor"},
		{ManagerConfig{CleanerIOMaxBytesPerSecond: -5}, "log.cleaner.io.max.bytes.per.second"},
	}
	for _, tc := range cases {
		tc.cfg.Dirs = []string{t.TempDir()}
		_, err := NewManager(tc.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.prop) {
			t.Errorf("NewManager(%+v) = %v, want ErrInvalidConfig naming %s", tc.cfg, err, tc.prop)
		}
	}
}
