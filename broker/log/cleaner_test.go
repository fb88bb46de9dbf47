package log

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// kv is a record to append in the compaction tests; a nil value is a
// tombstone.
type kv struct {
	key   string
	value []byte
}

// noProducer is BuilderOptions for a batch without a producer.
var noProducer = record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}

// appendKV appends one batch of recs, with timestamps ts, ts+1, …, and
// returns the records as the log now holds them.
func appendKV(t testing.TB, l *Log, opts record.BuilderOptions, ts int64, recs ...kv) []record.Record {
	t.Helper()
	bb := record.NewBuilder(opts)
	for i, r := range recs {
		bb.Add(record.Record{Offset: int64(i), Timestamp: ts + int64(i), Key: []byte(r.key), Value: r.value})
	}
	b, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	info, err := l.Append(b, AppendOptions{Now: time.UnixMilli(ts)})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	out := make([]record.Record, len(recs))
	for i, r := range recs {
		out[i] = record.Record{Offset: info.FirstOffset + int64(i), Timestamp: ts + int64(i), Key: []byte(r.key), Value: r.value}
		if info.LogAppendTime >= 0 {
			out[i].Timestamp = info.LogAppendTime
		}
	}
	return out
}

// compacted is what a full clean of everything below fu leaves of all:
// each key's last record below fu (tombstones too, unless dropTombstones),
// and everything from fu on.
func compacted(all []record.Record, fu int64, dropTombstones bool) []record.Record {
	last := map[string]int64{}
	for _, r := range all {
		if r.Offset < fu {
			last[string(r.Key)] = r.Offset
		}
	}
	var out []record.Record
	for _, r := range all {
		if r.Offset >= fu || (last[string(r.Key)] == r.Offset && !(dropTombstones && r.Value == nil)) {
			out = append(out, r)
		}
	}
	return out
}

// sameRecords fails unless got and want hold the same records (offset,
// timestamp, key, value with tombstones told apart from empty values) in
// the same order.
func sameRecords(t testing.TB, got, want []record.Record) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) {
			t.Fatalf("read %d records, want %d; first difference at index %d (got %s, want %s)", len(got), len(want), i, describe(got, i), describe(want, i))
		}
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Timestamp != w.Timestamp || !bytes.Equal(g.Key, w.Key) ||
			!bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) {
			t.Fatalf("record %d: got %s, want %s", i, describe(got, i), describe(want, i))
		}
	}
}

func describe(recs []record.Record, i int) string {
	if i >= len(recs) {
		return "nothing"
	}
	r := recs[i]
	v := fmt.Sprintf("%q", r.Value)
	if r.Value == nil {
		v = "tombstone"
	}
	return fmt.Sprintf("offset %d ts %d key %q value %s", r.Offset, r.Timestamp, r.Key, v)
}

// newTestCleaner returns a Cleaner with small buffers, so that tests
// exercise buffer growth and flushing.
func newTestCleaner(t testing.TB, cfg CleanerConfig) *Cleaner {
	t.Helper()
	if cfg.IOBufferSize == 0 {
		cfg.IOBufferSize = 8 << 10
	}
	if cfg.DedupeBufferSize == 0 {
		cfg.DedupeBufferSize = 1 << 20
	}
	c, err := NewCleaner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustClean cleans l as of now and checks the invariants of every clean.
func mustClean(t testing.TB, c *Cleaner, l *Log, firstDirty int64, now time.Time) CleanResult {
	t.Helper()
	res, err := c.Clean(t.Context(), l, firstDirty, now)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	checkBatches(t, l)
	return res
}

// readBatches returns copies of every batch of the log, empty ones
// included, in order.
func readBatches(t testing.TB, l *Log) []record.Batch {
	t.Helper()
	var out []record.Batch
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		res, err := l.Read(off, 1<<20, math.MaxInt64, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if res.Size == 0 {
			break
		}
		buf, err := res.ReadInto(nil)
		if err != nil {
			t.Fatal(err)
		}
		for len(buf) > 0 {
			b, rest, err := record.Next(buf)
			if err != nil {
				t.Fatalf("Read(%d): %v", off, err)
			}
			out = append(out, slices.Clone(b))
			off = b.NextOffset()
			buf = rest
		}
	}
	return out
}

// readLog returns every record of the log from its start. Unlike readAll
// it accepts a log that ends in a gap (compaction removed the last
// records of the closed segments and the active one is empty): Read finds
// no batch there.
func readLog(t testing.TB, l *Log) []record.Record {
	t.Helper()
	var out []record.Record
	for _, b := range readBatches(t, l) {
		recs, err := b.DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	return out
}

// checkBatches asserts what every clean must leave: valid batches whose
// offsets only increase.
func checkBatches(t testing.TB, l *Log) {
	t.Helper()
	next := int64(-1)
	for _, b := range readBatches(t, l) {
		if err := b.Validate(); err != nil {
			t.Fatalf("batch at offset %d: %v", b.BaseOffset(), err)
		}
		if b.BaseOffset() < next {
			t.Fatalf("batch at offset %d follows one ending at %d", b.BaseOffset(), next-1)
		}
		next = b.NextOffset()
	}
}

// checkReads asserts that a consumer fetching from any offset of the log
// gets the first record of want at or after it next, and that a consumer
// fetching from the offset OffsetForTimestamp gives for a record's
// timestamp gets that record (or the first with a timestamp as large).
// (For a LogAppendTime batch OffsetForTimestamp answers the batch's base
// offset, which compaction may have left without a record.)
func checkReads(t testing.TB, l *Log, want []record.Record) {
	t.Helper()
	for o := l.LogStartOffset(); o < l.LogEndOffset(); o++ {
		i, _ := slices.BinarySearchFunc(want, o, func(r record.Record, o int64) int { return int(r.Offset - o) })
		got, ok := firstRecordFrom(t, l, o)
		switch {
		case i == len(want) && ok:
			t.Fatalf("fetch from %d: got offset %d, want nothing", o, got.Offset)
		case i < len(want) && (!ok || got.Offset != want[i].Offset || !bytes.Equal(got.Value, want[i].Value)):
			t.Fatalf("fetch from %d: got %v %d, want offset %d", o, ok, got.Offset, want[i].Offset)
		}
	}
	for _, r := range want {
		j := slices.IndexFunc(want, func(w record.Record) bool { return w.Timestamp >= r.Timestamp })
		off, ts, found, err := l.OffsetForTimestamp(r.Timestamp)
		if err != nil || !found || ts != want[j].Timestamp || off > want[j].Offset {
			t.Fatalf("OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d", r.Timestamp, off, ts, found, err, want[j].Offset, want[j].Timestamp)
		}
		if got, ok := firstRecordFrom(t, l, off); !ok || got.Offset != want[j].Offset {
			t.Fatalf("OffsetForTimestamp(%d) = %d: fetching from there gives offset %d, want %d", r.Timestamp, off, got.Offset, want[j].Offset)
		}
	}
}

// firstRecordFrom fetches like a consumer from offset o until it meets a
// record at or after o.
func firstRecordFrom(t testing.TB, l *Log, o int64) (record.Record, bool) {
	t.Helper()
	for off := o; off < l.LogEndOffset(); {
		res, err := l.Read(off, 1, math.MaxInt64, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if res.Size == 0 {
			return record.Record{}, false
		}
		buf, err := res.ReadInto(nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := record.Next(buf)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := b.DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Offset >= o {
				return r, true
			}
		}
		if b.NextOffset() <= off {
			t.Fatalf("Read(%d) returned a batch ending at %d", off, b.LastOffset())
		}
		off = b.NextOffset()
	}
	return record.Record{}, false
}

// segmentFiles returns the contents of the .log files of the segments
// from base on.
func segmentFiles(t testing.TB, l *Log, from int64) map[int64][]byte {
	t.Helper()
	out := map[int64][]byte{}
	l.mu.RLock()
	segs := l.segments
	l.mu.RUnlock()
	for _, s := range segs {
		if s.base >= from {
			data, err := os.ReadFile(s.path(logExt))
			if err != nil {
				t.Fatal(err)
			}
			out[s.base] = data
		}
	}
	return out
}

func TestCleanKeepsLatestValuePerKey(t *testing.T) {
	cases := []struct {
		name         string
		segmentBytes int64
		keys         int
		codec        record.Compression
		appendTime   bool
	}{
		{"small segments", 600, 7, record.CompressionNone, false},
		{"many keys", 4000, 120, record.CompressionNone, false},
		{"one key", 500, 1, record.CompressionNone, false},
		{"compressed", 1500, 30, record.CompressionZstd, false},
		{"LogAppendTime", 900, 15, record.CompressionLZ4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Compact: true, SegmentBytes: tc.segmentBytes, IndexIntervalBytes: 100, LogAppendTime: tc.appendTime}
			l := mustOpen(t, t.TempDir(), cfg, OpenOptions{})
			defer func() { l.Close() }()
			rng := rand.New(rand.NewPCG(1, uint64(tc.keys)))
			var all []record.Record
			ts := int64(1_000_000)
			write := func(batches int) {
				for range batches {
					n := 1 + rng.IntN(5)
					recs := make([]kv, n)
					for i := range recs {
						recs[i] = kv{fmt.Sprintf("key-%d", rng.IntN(tc.keys)), fmt.Appendf(nil, "value %d of %d", i, ts)}
					}
					opts := noProducer
					opts.Compression = tc.codec
					opts.LogAppendTime = false
					all = append(all, appendKV(t, l, opts, ts, recs...)...)
					ts += int64(n)
				}
			}
			write(150)
			if l.NumSegments() < 5 {
				t.Fatalf("want many segments, have %d", l.NumSegments())
			}
			l.SetHighWatermark(l.LogEndOffset())
			c := newTestCleaner(t, CleanerConfig{})
			before := l.NumSegments()
			res := mustClean(t, c, l, 0, time.UnixMilli(ts))
			fu := l.activeLocked().base
			if res.FirstUncleanableOffset != fu || res.FirstDirtyOffset != fu {
				t.Fatalf("clean covered up to %d, next dirty %d; want the active segment's base %d", res.FirstUncleanableOffset, res.FirstDirtyOffset, fu)
			}
			want := compacted(all, fu, false)
			sameRecords(t, readAll(t, l, 0), want)
			if res.Segments != before-1 || res.RecordsRemoved != int64(len(all)-len(want)) {
				t.Fatalf("rewrote %d segments removing %d records; want %d and %d", res.Segments, res.RecordsRemoved, before-1, len(all)-len(want))
			}
			checkReads(t, l, want)

			// More writes, a second clean from where the first stopped.
			write(100)
			l.SetHighWatermark(l.LogEndOffset())
			res = mustClean(t, c, l, res.FirstDirtyOffset, time.UnixMilli(ts))
			fu = l.activeLocked().base
			want = compacted(all, fu, false)
			sameRecords(t, readAll(t, l, 0), want)
			checkReads(t, l, want)

			// The compacted log reopens the same, after a clean shutdown
			// or a crash.
			dir := l.Dir()
			l.Close()
			for _, opts := range []OpenOptions{{CleanShutdown: true}, {}} {
				l = mustOpen(t, dir, cfg, opts)
				sameRecords(t, readAll(t, l, 0), want)
				checkReads(t, l, want)
				l.Close()
			}
			l = mustOpen(t, dir, cfg, OpenOptions{CleanShutdown: true})
		})
	}
}

func TestCleanTombstones(t *testing.T) {
	for _, codec := range []record.Compression{record.CompressionNone, record.CompressionGzip} {
		t.Run(codec.String(), func(t *testing.T) {
			const retention = 60_000
			l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 400, DeleteRetentionMs: retention}, OpenOptions{})
			defer l.Close()
			opts := noProducer
			opts.Compression = codec
			var all []record.Record
			all = append(all, appendKV(t, l, opts, 1000, kv{"a", val("a1")}, kv{"b", val("b1")}, kv{"c", val("c1")})...)
			all = append(all, appendKV(t, l, opts, 2000, kv{"a", nil}, kv{"b", val("b2")})...)
			all = append(all, appendKV(t, l, opts, 3000, kv{"c", nil})...)
			all = append(all, appendKV(t, l, opts, 4000, kv{"d", nil})...) // a tombstone for a key never written
			for l.NumSegments() < 3 {
				all = append(all, appendKV(t, l, opts, 5000, kv{"filler", val("x")})...)
			}
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			all = append(all, appendKV(t, l, opts, 9000, kv{"active", val("x")})...)
			l.SetHighWatermark(l.LogEndOffset())
			fu := l.activeLocked().base
			c := newTestCleaner(t, CleanerConfig{})

			// The first clean removes what the tombstones delete and
			// stamps their batches with a delete horizon.
			t0 := time.UnixMilli(1_700_000_000_000)
			res := mustClean(t, c, l, 0, t0)
			horizon := t0.UnixMilli() + retention
			if res.DeleteHorizon != horizon {
				t.Fatalf("DeleteHorizon = %d, want %d", res.DeleteHorizon, horizon)
			}
			withTombstones := compacted(all, fu, false)
			sameRecords(t, readAll(t, l, 0), withTombstones)
			for _, b := range readBatches(t, l) {
				recs, _ := b.DecodeRecords()
				tomb := slices.ContainsFunc(recs, func(r record.Record) bool { return r.Value == nil })
				if tomb != b.Attributes().HasDeleteHorizon() || (tomb && b.FirstTimestamp() != horizon) {
					t.Fatalf("batch at %d: tombstones %v, delete horizon %v %d; want the horizon %d exactly on batches with tombstones",
						b.BaseOffset(), tomb, b.Attributes().HasDeleteHorizon(), b.FirstTimestamp(), horizon)
				}
				if b.Attributes().Compression() != codec {
					t.Fatalf("batch at %d rebuilt with %v, want %v", b.BaseOffset(), b.Attributes().Compression(), codec)
				}
			}

			// Within delete.retention.ms a consumer reading from the start
			// still sees them, however often the cleaner runs.
			for _, at := range []time.Time{t0.Add(time.Second), t0.Add(retention*time.Millisecond - time.Millisecond)} {
				res = mustClean(t, c, l, res.FirstDirtyOffset, at)
				sameRecords(t, readAll(t, l, 0), withTombstones)
				if res.DeleteHorizon != horizon {
					t.Fatalf("DeleteHorizon = %d after a later clean, want %d", res.DeleteHorizon, horizon)
				}
			}
			// Once the horizon passes, they go.
			res = mustClean(t, c, l, res.FirstDirtyOffset, time.UnixMilli(horizon))
			want := compacted(all, fu, true)
			sameRecords(t, readAll(t, l, 0), want)
			if res.DeleteHorizon != -1 {
				t.Fatalf("DeleteHorizon = %d with no tombstone left, want -1", res.DeleteHorizon)
			}
			checkReads(t, l, want)
		})
	}
}

func val(s string) []byte { return []byte(s) }

func TestCleanMinCompactionLag(t *testing.T) {
	const lag = 10_000
	l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 300, MinCompactionLagMs: lag}, OpenOptions{})
	defer l.Close()
	var all []record.Record
	// Old segments (timestamps around 1 000), then young ones (around
	// 50 000), the same keys in both.
	for i := range 12 {
		all = append(all, appendKV(t, l, noProducer, 1000+int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "old %d", i)})...)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	young := l.activeLocked().base
	for i := range 12 {
		all = append(all, appendKV(t, l, noProducer, 50_000+int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "young %d", i)})...)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	c := newTestCleaner(t, CleanerConfig{})

	// At 55 000 the young segments are younger than the lag: they are
	// neither compacted nor used to compact the old ones.
	now := time.UnixMilli(55_000)
	cb, err := l.Cleanable(0, now)
	if err != nil {
		t.Fatal(err)
	}
	if cb.FirstUncleanableOffset != young {
		t.Fatalf("FirstUncleanableOffset = %d, want %d (the first young segment)", cb.FirstUncleanableOffset, young)
	}
	youngFiles := segmentFiles(t, l, young)
	res := mustClean(t, c, l, 0, now)
	if res.FirstDirtyOffset != young {
		t.Fatalf("FirstDirtyOffset = %d, want %d", res.FirstDirtyOffset, young)
	}
	sameRecords(t, readAll(t, l, 0), compacted(all, young, false))
	for base, data := range segmentFiles(t, l, young) {
		if !bytes.Equal(data, youngFiles[base]) {
			t.Fatalf("segment %d younger than min.compaction.lag.ms was rewritten", base)
		}
	}

	// Later everything closed is old enough.
	now = time.UnixMilli(50_012 + lag + 1)
	mustClean(t, c, l, res.FirstDirtyOffset, now)
	sameRecords(t, readAll(t, l, 0), compacted(all, l.activeLocked().base, false))
}

func TestCleanLeavesActiveSegmentAndAboveHighWatermark(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 300}, OpenOptions{})
	defer l.Close()
	var all []record.Record
	for i := range 60 {
		all = append(all, appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("k", i%4), fmt.Appendf(nil, "v%d", i)})...)
	}
	l.mu.RLock()
	segs := slices.Clone(l.segments)
	l.mu.RUnlock()
	if len(segs) < 6 {
		t.Fatalf("want several segments, have %d", len(segs))
	}
	// The high watermark in the middle of segment 3: segments 3 and later
	// must not change, nor be read to compact the earlier ones.
	hw := segs[3].base + 1
	l.SetHighWatermark(hw)
	untouched := segmentFiles(t, l, segs[3].base)
	c := newTestCleaner(t, CleanerConfig{})
	res := mustClean(t, c, l, 0, time.Now())
	if res.FirstUncleanableOffset != segs[3].base {
		t.Fatalf("FirstUncleanableOffset = %d, want %d", res.FirstUncleanableOffset, segs[3].base)
	}
	after := segmentFiles(t, l, segs[3].base)
	if len(after) != len(untouched) {
		t.Fatalf("%d segments from the high watermark's on, want %d", len(after), len(untouched))
	}
	for base, data := range untouched {
		if !bytes.Equal(after[base], data) {
			t.Fatalf("segment %d, not wholly below the high watermark, changed", base)
		}
	}
	sameRecords(t, readAll(t, l, 0), compacted(all, segs[3].base, false))

	// With the high watermark at the end, the active segment stays as is.
	l.SetHighWatermark(l.LogEndOffset())
	active := l.activeLocked().base
	untouched = segmentFiles(t, l, active)
	mustClean(t, c, l, res.FirstDirtyOffset, time.Now())
	if !bytes.Equal(segmentFiles(t, l, active)[active], untouched[active]) {
		t.Fatal("the active segment changed")
	}
	sameRecords(t, readAll(t, l, 0), compacted(all, active, false))
}

func TestCleanRebuildsBatchesWithTheirCodec(t *testing.T) {
	codecs := []record.Compression{record.CompressionNone, record.CompressionGzip, record.CompressionSnappy, record.CompressionLZ4, record.CompressionZstd}
	for _, codec := range codecs {
		for _, appendTime := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/LogAppendTime=%v", codec, appendTime), func(t *testing.T) {
				l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 4000, LogAppendTime: appendTime}, OpenOptions{})
				defer l.Close()
				var all []record.Record
				var originals []record.Batch
				for i := range 8 {
					opts := record.BuilderOptions{PartitionLeaderEpoch: -1, Compression: codec, ProducerID: 7, ProducerEpoch: 3, BaseSequence: int32(10 * i)}
					recs := make([]kv, 10)
					for j := range recs {
						// Large compressible values, keys repeating across
						// batches: every batch loses some records.
						recs[j] = kv{fmt.Sprint("k", (i*10+j)%13), bytes.Repeat(fmt.Appendf(nil, "%d-%d ", i, j), 40)}
					}
					all = append(all, appendKV(t, l, opts, int64(1000*i), recs...)...)
				}
				originals = readBatches(t, l)
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
				all = append(all, appendKV(t, l, noProducer, 99_000, kv{"last", val("x")})...)
				l.SetHighWatermark(l.LogEndOffset())
				fu := l.activeLocked().base
				mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.Now())
				want := compacted(all, fu, false)
				sameRecords(t, readAll(t, l, 0), want)

				rebuilt := 0
				for _, b := range readBatches(t, l) {
					if b.BaseOffset() >= fu {
						continue
					}
					i := slices.IndexFunc(originals, func(o record.Batch) bool { return o.BaseOffset() == b.BaseOffset() })
					if i < 0 {
						t.Fatalf("batch at offset %d was not in the log before", b.BaseOffset())
					}
					o := originals[i]
					if b.Attributes() != o.Attributes() || b.LastOffsetDelta() != o.LastOffsetDelta() ||
						b.ProducerID() != o.ProducerID() || b.ProducerEpoch() != o.ProducerEpoch() ||
						b.BaseSequence() != o.BaseSequence() || b.PartitionLeaderEpoch() != o.PartitionLeaderEpoch() {
						t.Fatalf("batch at %d: attributes %#x delta %d producer %d/%d/%d epoch %d; was %#x %d %d/%d/%d %d",
							b.BaseOffset(), b.Attributes(), b.LastOffsetDelta(), b.ProducerID(), b.ProducerEpoch(), b.BaseSequence(), b.PartitionLeaderEpoch(),
							o.Attributes(), o.LastOffsetDelta(), o.ProducerID(), o.ProducerEpoch(), o.BaseSequence(), o.PartitionLeaderEpoch())
					}
					if appendTime && b.MaxTimestamp() != o.MaxTimestamp() {
						t.Fatalf("LogAppendTime batch at %d: maxTimestamp %d, was %d", b.BaseOffset(), b.MaxTimestamp(), o.MaxTimestamp())
					}
					if b.NumRecords() < o.NumRecords() {
						rebuilt++
					}
				}
				if rebuilt == 0 {
					t.Fatal("no batch was rebuilt")
				}
			})
		}
	}
}

func TestCleanKeepsLastBatchOfEachProducer(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{Compact: true}, OpenOptions{})
	defer l.Close()
	p1 := func(seq int32) record.BuilderOptions {
		return record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: 1, ProducerEpoch: 5, BaseSequence: seq, Compression: record.CompressionSnappy}
	}
	p2 := record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: 2, ProducerEpoch: 0, BaseSequence: 0}
	appendKV(t, l, p1(0), 1, kv{"a", val("1")}, kv{"b", val("1")})
	p1last := appendKV(t, l, p1(2), 2, kv{"a", val("2")}, kv{"b", val("2")})
	appendKV(t, l, p2, 3, kv{"c", val("1")})
	var all []record.Record
	all = append(all, appendKV(t, l, noProducer, 4, kv{"a", val("3")}, kv{"b", val("3")}, kv{"c", val("3")})...)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	p2.BaseSequence = 1
	all = append(all, appendKV(t, l, p2, 5, kv{"d", val("1")})...) // producer 2's last batch: in the active segment
	l.SetHighWatermark(l.LogEndOffset())
	mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.Now())

	sameRecords(t, readAll(t, l, 0), all)
	batches := readBatches(t, l)
	if len(batches) != 3 {
		t.Fatalf("%d batches after the clean, want 3 (producer 1's last, emptied; the unproduced one; producer 2's last)", len(batches))
	}
	e := batches[0]
	if e.NumRecords() != 0 || e.BaseOffset() != p1last[0].Offset || e.LastOffset() != p1last[1].Offset ||
		e.ProducerID() != 1 || e.ProducerEpoch() != 5 || e.BaseSequence() != 2 || e.LastSequence() != 3 {
		t.Fatalf("producer 1's last batch: %d records, offsets %d-%d, producer %d epoch %d sequences %d-%d; want an empty batch at %d-%d, producer 1 epoch 5 sequences 2-3",
			e.NumRecords(), e.BaseOffset(), e.LastOffset(), e.ProducerID(), e.ProducerEpoch(), e.BaseSequence(), e.LastSequence(), p1last[0].Offset, p1last[1].Offset)
	}
	// A consumer fetching the emptied batch moves past it.
	checkReads(t, l, all)
	// A second clean keeps the empty batch: it is still producer 1's last.
	mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.Now())
	if got := readBatches(t, l); len(got) != 3 || !bytes.Equal(got[0], e) {
		t.Fatalf("the empty batch did not survive a second clean")
	}
}

func TestCleanDuringAppends(t *testing.T) {
	// An unarmed crashFS skips fsyncs, which take most of the time here
	// and have nothing to do with what the test checks.
	l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 16 << 10, FileDeleteDelayMs: 60_000, FS: newCrashFS()}, OpenOptions{})
	defer l.Close()
	const wantCleans = 4
	var (
		mu     sync.Mutex
		all    []record.Record
		cleans atomic.Int32 // cleans that rewrote segments
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		// Until enough cleans overlapped the appends (the bound is a
		// safety net).
		for i := 0; cleans.Load() < wantCleans && i < 200_000; i++ {
			// Updates of hot keys, and now and then a key of its own.
			batch := []kv{{fmt.Sprint("hot-", i%5), fmt.Appendf(nil, "%d", i)}, {fmt.Sprint("hot-", i%7), fmt.Appendf(nil, "%d", i)}}
			if i%10 == 0 {
				batch = append(batch, kv{fmt.Sprint("own-", i/10), fmt.Appendf(nil, "%d", i)})
			}
			recs := appendKV(t, l, noProducer, int64(i), batch...)
			mu.Lock()
			all = append(all, recs...)
			mu.Unlock()
			l.SetHighWatermark(l.LogEndOffset())
		}
	})
	var readErr error
	wg.Go(func() {
		// A reader following the log end meanwhile never misses an own key.
		next := 0
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, r := range readAll(t, l, 0) {
				if bytes.HasPrefix(r.Key, []byte("own-")) {
					if string(r.Key) != fmt.Sprint("own-", next) {
						readErr = fmt.Errorf("read %s, want own-%d", r.Key, next)
						return
					}
					next++
				}
			}
			next = 0
		}
	})
	c := newTestCleaner(t, CleanerConfig{})
	firstDirty := int64(0)
	for {
		select {
		case <-done:
		default:
			res, err := c.Clean(t.Context(), l, firstDirty, time.Now())
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			firstDirty = res.FirstDirtyOffset
			if res.Segments > 0 {
				cleans.Add(1)
			}
			continue
		}
		break
	}
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	mustClean(t, c, l, firstDirty, time.Now())
	sameRecords(t, readAll(t, l, 0), compacted(all, l.activeLocked().base, false))
	if n := cleans.Load(); n < wantCleans {
		t.Fatalf("only %d cleans overlapped the appends", n)
	}
}

func TestCleanCompactDelete(t *testing.T) {
	const retention = 10_000
	cfg := Config{Compact: true, Delete: true, RetentionMs: retention, SegmentBytes: 300, FileDeleteDelayMs: -1}
	l := mustOpen(t, t.TempDir(), cfg, OpenOptions{})
	defer l.Close()
	var all []record.Record
	for i := range 60 {
		all = append(all, appendKV(t, l, noProducer, int64(1000*i), kv{fmt.Sprint("k", i%4), fmt.Appendf(nil, "v%d", i)}, kv{fmt.Sprint("only-", i), val("x")})...)
	}
	l.SetHighWatermark(l.LogEndOffset())
	c := newTestCleaner(t, CleanerConfig{})
	now := time.UnixMilli(45_000 + retention)
	res := mustClean(t, c, l, 0, now)
	// Retention deletes whole segments whose newest record is older than
	// retention.ms, compacted or not.
	if _, err := l.ApplyRetention(now); err != nil {
		t.Fatal(err)
	}
	start := l.LogStartOffset()
	if start == 0 {
		t.Fatal("retention deleted nothing")
	}
	var kept []record.Record
	for _, r := range compacted(all, res.FirstUncleanableOffset, false) {
		if r.Offset >= start {
			kept = append(kept, r)
		}
	}
	sameRecords(t, readAll(t, l, start), kept)
	if ts, err := l.largestTimestamp(l.segments[0]); err != nil || ts <= now.UnixMilli()-retention {
		t.Fatalf("the first segment left has records up to %d (%v), older than retention.ms", ts, err)
	}
	// A first dirty offset below the new log start offset starts the next
	// clean at the log start offset.
	cb, err := l.Cleanable(res.FirstDirtyOffset-1000, now)
	if err != nil || cb.FirstDirtyOffset != start {
		t.Fatalf("Cleanable from below the log start: first dirty %d, %v; want %d", cb.FirstDirtyOffset, err, start)
	}
}

// TestCleanKeepsSegmentTimesForRetention empties the first segments of a
// compact,delete log by compaction: retention.ms must still find them
// old, as the segments they replace were (Kafka carries the modification
// time over to the cleaned segment).
func TestCleanKeepsSegmentTimesForRetention(t *testing.T) {
	for _, fs := range []FS{nil, newCrashFS()} {
		l := mustOpen(t, t.TempDir(), Config{Compact: true, Delete: true, RetentionMs: 3600_000, SegmentBytes: 300, FileDeleteDelayMs: -1, FS: fs}, OpenOptions{})
		defer l.Close()
		old := time.Now().Add(-48 * time.Hour)
		var all []record.Record
		for i := range 20 {
			all = append(all, appendKV(t, l, noProducer, old.UnixMilli()+int64(i), kv{fmt.Sprint("k", i%2), val("old")})...)
		}
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
		// The same keys again, recent: every old record is superseded.
		all = append(all, appendKV(t, l, noProducer, time.Now().UnixMilli(), kv{"k0", val("new")}, kv{"k1", val("new")})...)
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
		for _, s := range l.segments[:len(l.segments)-2] {
			if err := os.Chtimes(s.path(logExt), old, old); err != nil {
				t.Fatal(err)
			}
		}
		l.SetHighWatermark(l.LogEndOffset())
		res := mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.Now())
		if ts, _ := l.largestTimestamp(l.segments[0]); l.segments[0].size.Load() != 0 || ts > old.Add(time.Minute).UnixMilli() {
			t.Fatalf("first segment after the clean: %d bytes, dated %d; want an empty segment dated like the old ones (%d)", l.segments[0].size.Load(), ts, old.UnixMilli())
		}
		// Every group but the last (the recent records) was emptied.
		if n, err := l.ApplyRetention(time.Now()); err != nil || n != res.Groups-1 {
			t.Fatalf("ApplyRetention deleted %d segments (%v); want the %d emptied ones", n, err, res.Groups-1)
		}
		sameRecords(t, readAll(t, l, l.LogStartOffset()), compacted(all, res.FirstUncleanableOffset, false))
	}
}

func TestCleanWithFullOffsetMap(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 500}, OpenOptions{})
	defer l.Close()
	var all []record.Record
	for i := range 120 {
		all = append(all, appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("k", i%40), fmt.Appendf(nil, "v%d", i)})...)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	fu := l.activeLocked().base
	// A map of 21 slots holds 18 keys: far fewer than the 40 keys.
	c := newTestCleaner(t, CleanerConfig{DedupeBufferSize: 21 * mapSlotSize})
	firstDirty := int64(0)
	passes := 0
	for firstDirty < fu {
		res := mustClean(t, c, l, firstDirty, time.Now())
		if res.FirstDirtyOffset <= firstDirty {
			t.Fatalf("a clean made no progress from %d", firstDirty)
		}
		firstDirty = res.FirstDirtyOffset
		passes++
		// Every latest value survives each partial clean.
		got := readAll(t, l, 0)
		for _, w := range compacted(all, fu, false) {
			if !slices.ContainsFunc(got, func(r record.Record) bool { return r.Offset == w.Offset }) {
				t.Fatalf("after pass %d the latest record of %s (offset %d) is gone", passes, w.Key, w.Offset)
			}
		}
	}
	if passes < 3 {
		t.Fatalf("%d passes, want several with so small a map", passes)
	}
	// A clean over the whole log then has nothing left to remove.
	mustClean(t, c, l, 0, time.Now())
	sameRecords(t, readAll(t, l, 0), compacted(all, fu, false))

	// A map too small for one batch's keys is a configuration error.
	appendKV(t, l, noProducer, 999, kv{"x1", val("1")}, kv{"x2", val("1")}, kv{"x3", val("1")}, kv{"x4", val("1")})
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	tiny := newTestCleaner(t, CleanerConfig{DedupeBufferSize: 4 * mapSlotSize})
	if _, err := tiny.Clean(t.Context(), l, fu, time.Now()); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Clean with a 3-key map and a 4-key batch: %v, want ErrInvalidConfig", err)
	}
}

func TestCleanAbortsWhenTheLogChanges(t *testing.T) {
	build := func(t *testing.T) (*Log, *crashFS, []record.Record) {
		fs := newCrashFS()
		l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 300, FileDeleteDelayMs: -1, FS: fs}, OpenOptions{})
		var all []record.Record
		for i := range 40 {
			all = append(all, appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "v%d", i)})...)
		}
		l.SetHighWatermark(l.LogEndOffset())
		return l, fs, all
	}
	// Each change happens while the first .cleaned segment is created,
	// after the offset map is built and before the swap.
	cases := []struct {
		name   string
		change func(t *testing.T, l *Log) int64 // returns the expected log start offset
	}{
		{"truncation into the segments being compacted, then new data past them", func(t *testing.T, l *Log) int64 {
			s1 := l.segments[1].base
			if err := l.Truncate(s1 - 1); err != nil {
				t.Fatal(err)
			}
			return 0
		}},
		{"retention of the first segment", func(t *testing.T, l *Log) int64 {
			if err := l.DeleteRecordsBefore(l.segments[1].base); err != nil {
				t.Fatal(err)
			}
			return l.segments[0].base
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, fs, all := build(t)
			defer func() { l.Close() }()
			var start int64
			changed := false
			var extra []record.Record
			fs.onOpen = func(name string) {
				if changed || filepath.Ext(name) != cleanedSuffix {
					return
				}
				changed = true
				fs.onOpen = nil
				start = tc.change(t, l)
				// Appends go on and roll, so the log has closed segments
				// where the compacted ones were.
				for i := range 8 {
					extra = append(extra, appendKV(t, l, noProducer, 500+int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "new %d", i)})...)
				}
				l.SetHighWatermark(l.LogEndOffset())
			}
			_, err := newTestCleaner(t, CleanerConfig{}).Clean(t.Context(), l, 0, time.Now())
			if !changed {
				t.Fatal("the clean created no .cleaned segment")
			}
			if !errors.Is(err, ErrCleaningAborted) {
				t.Fatalf("Clean = %v, want ErrCleaningAborted", err)
			}
			var want []record.Record
			for _, r := range all {
				if r.Offset >= start && r.Offset < extra[0].Offset {
					want = append(want, r)
				}
			}
			want = append(want, extra...)
			sameRecords(t, readAll(t, l, l.LogStartOffset()), want)
			dir := l.Dir()
			l.closeFilesForTest()
			l = mustOpen(t, dir, Config{Compact: true, SegmentBytes: 300}, OpenOptions{LogStartOffset: start})
			sameRecords(t, readAll(t, l, l.LogStartOffset()), want)
			noLeftovers(t, dir)
		})
	}
}

// noLeftovers fails if dir holds .cleaned or .swap files.
func noLeftovers(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, _, suffix, ok := parseSegmentFileName(e.Name()); ok && (suffix == cleanedSuffix || suffix == swapSuffix) {
			t.Errorf("leftover file %s", e.Name())
		}
	}
}

func TestCleanable(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 300, MaxCompactionLagMs: 100_000, MinCleanableDirtyRatio: 0.6}, OpenOptions{})
	defer l.Close()
	for i := range 30 {
		appendKV(t, l, noProducer, 1000+int64(i), kv{fmt.Sprint("k", i%3), val("v")})
	}
	l.mu.RLock()
	segs := slices.Clone(l.segments)
	l.mu.RUnlock()
	size := func(from, to int) (n int64) {
		for _, s := range segs[from:to] {
			n += s.size.Load()
		}
		return n
	}
	last := len(segs) - 1
	l.SetHighWatermark(l.LogEndOffset())
	cases := []struct {
		name                  string
		firstDirty            int64
		now                   int64
		wantFirstDirty        int64
		wantClean, wantDirty  int64
		wantLag, wantDue      bool
		wantFirstUncleanable_ int64
	}{
		{"all dirty", 0, 2000, 0, 0, size(0, last), false, true, segs[last].base},
		{"half clean", segs[last/2].base, 2000, segs[last/2].base, size(0, last/2), size(last/2, last), false, size(last/2, last)*10 >= 6*size(0, last), segs[last].base},
		{"all clean", segs[last].base, 2000, segs[last].base, size(0, last), 0, false, false, segs[last].base},
		{"first dirty inside a segment", segs[1].base + 1, 2000, segs[1].base + 1, size(0, 2), size(1, last), false, true, segs[last].base},
		{"past the log end", 1 << 40, 2000, 0, 0, size(0, last), false, true, segs[last].base},
		{"max.compaction.lag.ms passed", segs[last-1].base, 1030 + 100_001, segs[last-1].base, size(0, last-1), size(last-1, last), true, true, segs[last].base},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := l.Cleanable(tc.firstDirty, time.UnixMilli(tc.now))
			if err != nil {
				t.Fatal(err)
			}
			if cb.FirstDirtyOffset != tc.wantFirstDirty || cb.CleanBytes != tc.wantClean || cb.DirtyBytes != tc.wantDirty ||
				cb.MaxLagExceeded != tc.wantLag || cb.Due != tc.wantDue || cb.FirstUncleanableOffset != tc.wantFirstUncleanable_ {
				t.Fatalf("Cleanable = %+v; want first dirty %d, clean %d, dirty %d, lag %v, due %v, uncleanable from %d",
					cb, tc.wantFirstDirty, tc.wantClean, tc.wantDirty, tc.wantLag, tc.wantDue, tc.wantFirstUncleanable_)
			}
		})
	}
}

func TestGroupSegments(t *testing.T) {
	// seg makes a segment with size bytes of log and n entries in each
	// index.
	seg := func(base, size int64, n int) *segment {
		s := &segment{base: base}
		s.size.Store(size)
		s.offIdx = &index{n: n}
		s.timeIdx = &index{n: n}
		s.indexed.Store(true)
		return s
	}
	cases := []struct {
		name                    string
		segs                    []*segment
		maxBytes, maxIndexBytes int64
		want                    [][2]int
	}{
		{"all fit", []*segment{seg(0, 100, 1), seg(10, 100, 1), seg(20, 100, 1), seg(30, 0, 0)}, 1000, 1000, [][2]int{{0, 3}}},
		{"by size", []*segment{seg(0, 400, 1), seg(10, 400, 1), seg(20, 400, 1), seg(30, 0, 0)}, 1000, 1000, [][2]int{{0, 2}, {2, 3}}},
		{"a segment too large alone", []*segment{seg(0, 2000, 1), seg(10, 100, 1), seg(20, 0, 0)}, 1000, 1000, [][2]int{{0, 1}, {1, 2}}},
		{"by time index size", []*segment{seg(0, 10, 40), seg(10, 10, 40), seg(20, 10, 40), seg(30, 0, 0)}, 1000, 1000, [][2]int{{0, 2}, {2, 3}}},
		{"by offset range", []*segment{seg(0, 10, 1), seg(math.MaxInt32-5, 10, 1), seg(math.MaxInt32+10, 10, 1), seg(math.MaxInt32+20, 0, 0)}, 1000, 1000, [][2]int{{0, 1}, {1, 3}}},
		{"an empty segment ignores the offset range", []*segment{seg(0, 10, 1), seg(5, 0, 0), seg(math.MaxInt32+10, 0, 0)}, 1000, 1000, [][2]int{{0, 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := groupSegments(tc.segs, tc.maxBytes, tc.maxIndexBytes); !slices.Equal(got, tc.want) {
				t.Fatalf("groupSegments = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOffsetMap(t *testing.T) {
	m := newOffsetMap(100*mapSlotSize, 0.5)
	m.reset(0)
	if m.get([]byte("a")) != -1 {
		t.Fatal("an empty map has a key")
	}
	for i := range 50 {
		if !m.put(fmt.Appendf(nil, "key-%d", i), int64(i)) {
			t.Fatalf("put %d failed below the load factor", i)
		}
	}
	if m.put([]byte("one too many"), 99) {
		t.Fatal("put succeeded past the load factor")
	}
	if !m.put([]byte("key-7"), 1000) {
		t.Fatal("updating a key failed in a full map")
	}
	for i := range 50 {
		want := int64(i)
		if i == 7 {
			want = 1000
		}
		if got := m.get(fmt.Appendf(nil, "key-%d", i)); got != want {
			t.Fatalf("get(key-%d) = %d, want %d", i, got, want)
		}
	}
	if m.get([]byte("key-50")) != -1 || m.get(nil) != -1 {
		t.Fatal("a key never put is found")
	}
	m.reset(10)
	if m.get([]byte("key-1")) != -1 || m.latest != 9 || !m.room(50) {
		t.Fatal("reset left the map non-empty")
	}
}

func TestCleanerConfig(t *testing.T) {
	cases := []struct {
		cfg  CleanerConfig
		prop string
	}{
		{CleanerConfig{DedupeBufferSize: 10}, "log.cleaner.dedupe.buffer.size"},
		{CleanerConfig{DedupeBufferLoadFactor: 1.5}, "log.cleaner.io.buffer.load.factor"},
		{CleanerConfig{DedupeBufferLoadFactor: -1}, "log.cleaner.io.buffer.load.factor"},
		{CleanerConfig{IOBufferSize: -1}, "log.cleaner.io.buffer.size"},
		{CleanerConfig{MaxIOBytesPerSecond: math.NaN()}, "log.cleaner.io.max.bytes.per.second"},
	}
	for _, tc := range cases {
		_, err := NewCleaner(tc.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !bytes.Contains([]byte(err.Error()), []byte(tc.prop)) {
			t.Errorf("NewCleaner(%+v) = %v, want ErrInvalidConfig naming %s", tc.cfg, err, tc.prop)
		}
	}
	l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer l.Close()
	if _, err := newTestCleaner(t, CleanerConfig{}).Clean(t.Context(), l, 0, time.Now()); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("cleaning a log with cleanup.policy=delete: %v, want ErrInvalidConfig", err)
	}
}

// FuzzClean runs a script of appends, tombstones, rolls and cleans at
// advancing times (with an offset map that may be tiny) and checks every
// clean against a model: no key's latest value is lost, a key whose
// tombstone is gone has no record left, nothing appears that was not
// written, offsets only increase; and at the end, once every tombstone's
// delete horizon has passed, the log is exactly the model compacted.
//
// Each script byte is one step: its low 3 bits choose the kind (0-4 append
// a value, 5 a tombstone, 6 roll, 7 clean), the rest the key (of 8) or, for
// a clean, how far the clock moves first. The first byte chooses the codec
// and the size of the offset map.
func FuzzClean(f *testing.F) {
	f.Add([]byte{0, 0, 8, 16, 5, 6, 7, 24, 13, 6, 0, 7, 0xff})
	f.Add([]byte{0x13, 5, 13, 21, 6, 7, 0, 8, 6, 0x87, 6})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 || len(script) > 400 {
			return
		}
		const retention = 1000
		codec := record.Compression(script[0] % 5)
		mapBytes := int64(1 << 20)
		if script[0]&0x10 != 0 {
			mapBytes = 6 * mapSlotSize // five keys
		}
		// An unarmed crashFS: no fsyncs, which would make the fuzzing slow.
		l := mustOpen(t, t.TempDir(), Config{Compact: true, SegmentBytes: 400, IndexIntervalBytes: 50, DeleteRetentionMs: retention, FS: newCrashFS()}, OpenOptions{})
		defer l.Close()
		c := newTestCleaner(t, CleanerConfig{DedupeBufferSize: mapBytes, IOBufferSize: 256})
		opts := noProducer
		opts.Compression = codec
		var all []record.Record
		now := int64(1_000_000)
		firstDirty := int64(0)
		for i, b := range script[1:] {
			key := fmt.Sprint("k", b>>3&7)
			switch b & 7 {
			case 5:
				all = append(all, appendKV(t, l, opts, now, kv{key, nil})...)
			case 6:
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			case 7:
				now += int64(b>>3) * retention / 8
				l.SetHighWatermark(l.LogEndOffset())
				res, err := c.Clean(t.Context(), l, firstDirty, time.UnixMilli(now))
				if err != nil {
					if errors.Is(err, ErrInvalidConfig) {
						continue // a batch with more keys than the tiny map holds
					}
					t.Fatal(err)
				}
				firstDirty = res.FirstDirtyOffset
				checkBatches(t, l)
				checkAgainstModel(t, readLog(t, l), all)
			default:
				all = append(all, appendKV(t, l, opts, now, kv{key, fmt.Appendf(nil, "step %d", i)})...)
			}
		}
		// Stamp every tombstone, then clean once their horizons passed.
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
		l.SetHighWatermark(l.LogEndOffset())
		big := newTestCleaner(t, CleanerConfig{})
		mustClean(t, big, l, 0, time.UnixMilli(now))
		mustClean(t, big, l, 0, time.UnixMilli(now+retention))
		sameRecords(t, readLog(t, l), compacted(all, l.LogEndOffset(), true))
	})
}

// checkAgainstModel checks got, the records of a log compacted any number
// of times, against all, the records appended.
func checkAgainstModel(t *testing.T, got, all []record.Record) {
	t.Helper()
	latest := map[string]record.Record{}
	byOffset := map[int64]record.Record{}
	for _, r := range all {
		latest[string(r.Key)] = r
		byOffset[r.Offset] = r
	}
	present := map[string]bool{}
	prev := int64(-1)
	for _, r := range got {
		w, ok := byOffset[r.Offset]
		if !ok || !bytes.Equal(w.Key, r.Key) || !bytes.Equal(w.Value, r.Value) || (w.Value == nil) != (r.Value == nil) {
			t.Fatalf("offset %d (%q) was never written", r.Offset, r.Key)
		}
		if r.Offset <= prev {
			t.Fatalf("offset %d after %d", r.Offset, prev)
		}
		prev = r.Offset
		present[string(r.Key)] = true
	}
	for key, l := range latest {
		i := slices.IndexFunc(got, func(r record.Record) bool { return r.Offset == l.Offset })
		switch {
		case l.Value != nil && i < 0:
			t.Fatalf("the latest value of %s (offset %d) is gone", key, l.Offset)
		case l.Value == nil && i < 0 && present[key]:
			t.Fatalf("the tombstone of %s (offset %d) is gone but older records of it remain", key, l.Offset)
		}
	}
}
