package log

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

func TestAppendReadAcrossSegments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "orders-0")
	l := mustOpen(t, dir, Config{SegmentBytes: 4096}, OpenOptions{})
	defer l.Close()
	var want int64
	for i := range 40 {
		info := mustAppend(t, l, batch(t, 10, 50, int64(1000+i)))
		if info.FirstOffset != want || info.LastOffset != want+9 || info.NumRecords != 10 {
			t.Fatalf("append %d: got offsets %d..%d (%d records), want %d..%d", i, info.FirstOffset, info.LastOffset, info.NumRecords, want, want+9)
		}
		want += 10
	}
	if n := l.NumSegments(); n < 4 {
		t.Fatalf("NumSegments = %d, want several (segment.bytes=4096)", n)
	}
	if l.LogEndOffset() != want {
		t.Fatalf("LogEndOffset = %d, want %d", l.LogEndOffset(), want)
	}
	checkOffsets(t, readAll(t, l, 0), 0, want)

	// Every offset, read on its own, comes back in the batch holding it,
	// including the last offset of each segment and the first of the next.
	for off := int64(0); off < want; off++ {
		res, err := l.Read(off, 1, math.MaxInt64, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.FirstOffset != off/10*10 {
			t.Fatalf("Read(%d).FirstOffset = %d, want %d", off, res.FirstOffset, off/10*10)
		}
	}
	var size int64
	for _, s := range l.segments {
		if s.size.Load() > 4096 {
			t.Errorf("segment %d has %d bytes, above segment.bytes", s.base, s.size.Load())
		}
		size += s.size.Load()
	}
	if l.Size() != size {
		t.Errorf("Size = %d, want %d", l.Size(), size)
	}
	if _, ok := res0(t, l).File.(*os.File); !ok {
		t.Errorf("ReadResult.File is %T on the OS file system, want *os.File", res0(t, l).File)
	}
}

func res0(t *testing.T, l *Log) ReadResult {
	t.Helper()
	res, err := l.Read(0, 1<<20, math.MaxInt64, true)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tenBatches opens a log holding 10 batches of 10 records (offsets 0..99).
func tenBatches(t *testing.T, cfg Config) (*Log, []int) {
	t.Helper()
	l := mustOpen(t, t.TempDir(), cfg, OpenOptions{})
	t.Cleanup(func() { l.Close() })
	var sizes []int
	for i := range 10 {
		b := batch(t, 10, 20, int64(i*10))
		sizes = append(sizes, len(b))
		mustAppend(t, l, b)
	}
	return l, sizes
}

func TestRead(t *testing.T) {
	l, sizes := tenBatches(t, Config{})
	sz := sizes[0] // all batches have the same size
	for _, s := range sizes {
		if s != sz {
			t.Fatalf("test batches differ in size")
		}
	}
	tests := []struct {
		name        string
		offset      int64
		maxBytes    int
		maxOffset   int64
		minOne      bool
		wantFirst   int64
		wantBatches int
	}{
		{"from start", 0, 1 << 20, math.MaxInt64, false, 0, 10},
		{"inside a batch returns that batch", 15, 1 << 20, math.MaxInt64, false, 10, 9},
		{"last offset of a batch", 19, 1 << 20, math.MaxInt64, false, 10, 9},
		{"maxBytes cuts at a batch boundary", 0, 2*sz + sz/2, math.MaxInt64, false, 0, 2},
		{"maxOffset excludes batches starting at or above it", 0, 1 << 20, 30, false, 0, 3},
		{"maxOffset inside a batch keeps that batch", 0, 1 << 20, 25, false, 0, 3},
		{"offset at maxOffset is empty", 30, 1 << 20, 30, false, -1, 0},
		{"first batch larger than maxBytes without minOne", 0, sz - 1, math.MaxInt64, false, -1, 0},
		{"first batch larger than maxBytes with minOne", 0, sz - 1, math.MaxInt64, true, 0, 1},
		{"minOne still respects maxOffset", 40, 1, 40, true, -1, 0},
		{"zero maxBytes with minOne", 50, 0, math.MaxInt64, true, 50, 1},
		{"log end offset is empty", 100, 1 << 20, math.MaxInt64, true, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := l.Read(tt.offset, tt.maxBytes, tt.maxOffset, tt.minOne)
			if err != nil {
				t.Fatal(err)
			}
			if res.FirstOffset != tt.wantFirst || res.Size != tt.wantBatches*sz {
				t.Fatalf("got first offset %d, %d bytes; want %d, %d batches (%d bytes)", res.FirstOffset, res.Size, tt.wantFirst, tt.wantBatches, tt.wantBatches*sz)
			}
			buf, err := res.ReadInto([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf, []byte("prefix")) || len(buf) != 6+res.Size {
				t.Fatalf("ReadInto appended %d bytes, want %d", len(buf)-6, res.Size)
			}
			buf = buf[6:]
			for i := range tt.wantBatches {
				b, rest, err := record.Next(buf)
				if err != nil || b.ValidateHeader() != nil {
					t.Fatalf("batch %d not whole: %v", i, err)
				}
				if want := tt.wantFirst + int64(i*10); b.BaseOffset() != want {
					t.Fatalf("batch %d has base offset %d, want %d", i, b.BaseOffset(), want)
				}
				buf = rest
			}
		})
	}
}

func TestReadOutOfRange(t *testing.T) {
	l, _ := tenBatches(t, Config{SegmentBytes: 1000})
	l.SetHighWatermark(100)
	if err := l.DeleteRecordsBefore(35); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{-1, 0, 34, 101, math.MaxInt64} {
		if _, err := l.Read(off, 1<<20, math.MaxInt64, true); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Errorf("Read(%d) error = %v, want ErrOffsetOutOfRange", off, err)
		}
	}
	res, err := l.Read(35, 1<<20, math.MaxInt64, true)
	if err != nil || res.FirstOffset != 30 {
		t.Errorf("Read(35) = first offset %d, %v; want the batch at 30", res.FirstOffset, err)
	}
}

func TestRoll(t *testing.T) {
	b := batch(t, 5, 100, 0)
	sz := int64(len(b))
	tests := []struct {
		name    string
		cfg     Config
		appends func(t *testing.T, l *Log)
		want    []int64 // segment base offsets
	}{
		{
			name: "segment.bytes",
			cfg:  Config{SegmentBytes: 3 * sz},
			appends: func(t *testing.T, l *Log) {
				for range 7 {
					mustAppend(t, l, batch(t, 5, 100, 0))
				}
			},
			want: []int64{0, 15, 30},
		},
		{
			name: "segment.ms from the first batch's timestamp",
			cfg:  Config{SegmentMs: 1000},
			appends: func(t *testing.T, l *Log) {
				for _, ts := range []int64{10_000, 10_500, 11_000, 11_001, 11_500, 12_002} {
					mustAppend(t, l, batch(t, 1, 10, ts))
				}
			},
			want: []int64{0, 3, 5},
		},
		{
			name: "segment.ms with LogAppendTime uses the append time",
			cfg:  Config{SegmentMs: 1000, LogAppendTime: true},
			appends: func(t *testing.T, l *Log) {
				start := time.UnixMilli(1_000_000)
				for _, d := range []time.Duration{0, 999 * time.Millisecond, 1001 * time.Millisecond, 1500 * time.Millisecond} {
					if _, err := l.Append(batch(t, 1, 10, 0), AppendOptions{Now: start.Add(d)}); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []int64{0, 2},
		},
		{
			name: "index full",
			cfg:  Config{SegmentIndexBytes: 3 * offsetEntrySize, IndexIntervalBytes: 1},
			appends: func(t *testing.T, l *Log) {
				// Entries from the second batch on; the time index
				// (2 entries) fills first: rolls after batches 3, 6, ….
				for i := range 7 {
					mustAppend(t, l, batch(t, 1, 10, int64(i)))
				}
			},
			want: []int64{0, 3, 6},
		},
		{
			name: "explicit Roll",
			cfg:  Config{},
			appends: func(t *testing.T, l *Log) {
				mustAppend(t, l, batch(t, 4, 10, 0))
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
				if err := l.Roll(); err != nil { // empty active segment: no-op
					t.Fatal(err)
				}
				mustAppend(t, l, batch(t, 4, 10, 0))
			},
			want: []int64{0, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), tt.cfg, OpenOptions{})
			defer l.Close()
			tt.appends(t, l)
			var got []int64
			for _, s := range l.segments {
				got = append(got, s.base)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("segments %v, want %v", got, tt.want)
			}
			checkOffsets(t, readAll(t, l, 0), 0, l.LogEndOffset())
			for _, base := range tt.want {
				if _, err := os.Stat(filepath.Join(l.Dir(), segmentFileName(base, logExt, ""))); err != nil {
					t.Errorf("segment file: %v", err)
				}
			}
		})
	}
}

func TestRetention(t *testing.T) {
	day := int64(24 * 3600_000)
	now := time.UnixMilli(100 * day)
	sz := int64(len(batch(t, 10, 10, 0)))
	tests := []struct {
		name        string
		cfg         Config
		hw          int64 // -1: log end offset
		wantDeleted int
	}{
		{"retention.ms deletes old closed segments", Config{RetentionMs: day}, -1, 3},
		{"retention.ms unlimited", Config{RetentionMs: Unlimited}, -1, 0},
		{"high watermark protects segments", Config{RetentionMs: day}, 25, 2},
		{"retention.bytes keeps at least that much", Config{RetentionMs: Unlimited, RetentionBytes: 5 * sz / 2}, -1, 3},
		{"retention.bytes smaller than the active segment", Config{RetentionMs: Unlimited, RetentionBytes: 1}, -1, 5},
		{"compact-only policy keeps old segments", Config{RetentionMs: day, Compact: true}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.FileDeleteDelayMs = 1000
			l := mustOpen(t, t.TempDir(), cfg, OpenOptions{})
			defer l.Close()
			// Five segments of 10 records: the first three 10 days old,
			// the others (and the active one) fresh.
			for i := range 5 {
				ts := now.UnixMilli() - 10*day
				if i >= 3 {
					ts = now.UnixMilli() - 1000
				}
				mustAppend(t, l, batch(t, 10, 10, ts))
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			}
			mustAppend(t, l, batch(t, 10, 10, now.UnixMilli()-20*day)) // active: old but never deleted
			hw := tt.hw
			if hw < 0 {
				hw = l.LogEndOffset()
			}
			l.SetHighWatermark(hw)
			n, err := l.ApplyRetention(now)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantDeleted {
				t.Fatalf("deleted %d segments, want %d", n, tt.wantDeleted)
			}
			if got, want := l.NumSegments(), 6-tt.wantDeleted; got != want {
				t.Fatalf("NumSegments = %d, want %d", got, want)
			}
			wantStart := int64(tt.wantDeleted * 10)
			if l.LogStartOffset() != wantStart {
				t.Fatalf("LogStartOffset = %d, want %d", l.LogStartOffset(), wantStart)
			}
			checkOffsets(t, readAll(t, l, wantStart), wantStart, 60)
			if tt.wantDeleted == 0 {
				return
			}
			// The files wait file.delete.delay.ms as .deleted, then go.
			deleted := filepath.Join(l.Dir(), segmentFileName(0, logExt, deletedSuffix))
			if _, err := os.Stat(deleted); err != nil {
				t.Fatalf("deleted segment not kept for the delay: %v", err)
			}
			if _, err := l.ApplyRetention(now.Add(999 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(deleted); err != nil {
				t.Fatalf("deleted segment removed before the delay: %v", err)
			}
			if _, err := l.ApplyRetention(now.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(deleted); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("deleted segment still there after the delay: %v", err)
			}
		})
	}
}

func TestReadSurvivesDeletion(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{FileDeleteDelayMs: 60_000}, OpenOptions{})
	defer l.Close()
	mustAppend(t, l, batch(t, 10, 10, 0))
	want := res0(t, l)
	wantBytes, _ := want.ReadInto(nil)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, batch(t, 10, 10, 0))
	l.SetHighWatermark(20)
	if err := l.DeleteRecordsBefore(15); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 {
		t.Fatalf("NumSegments = %d, want 1", l.NumSegments())
	}
	got, err := want.ReadInto(nil)
	if err != nil || !bytes.Equal(got, wantBytes) {
		t.Fatalf("a read result of a deleted segment no longer reads back: %v", err)
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	l, _ := tenBatches(t, Config{SegmentBytes: 1000})
	segsBefore := l.NumSegments()
	if err := l.DeleteRecordsBefore(50); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("above the high watermark: err = %v, want ErrOffsetOutOfRange", err)
	}
	l.SetHighWatermark(80)
	if err := l.DeleteRecordsBefore(45); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 45 {
		t.Fatalf("LogStartOffset = %d, want 45", l.LogStartOffset())
	}
	if l.NumSegments() >= segsBefore {
		t.Fatalf("no segment deleted (%d before, %d after)", segsBefore, l.NumSegments())
	}
	if first := l.segments[0].base; first > 45 {
		t.Fatalf("first segment starts at %d, above the log start offset", first)
	}
	checkOffsets(t, readAll(t, l, 45), 45, 100)
	if err := l.DeleteRecordsBefore(10); err != nil { // below: no-op
		t.Fatal(err)
	}
	if l.LogStartOffset() != 45 {
		t.Fatalf("LogStartOffset moved back to %d", l.LogStartOffset())
	}
	// Everything up to the high watermark, active segment included.
	l.SetHighWatermark(100)
	if err := l.DeleteRecordsBefore(100); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 || l.LogStartOffset() != 100 {
		t.Fatalf("NumSegments %d, LogStartOffset %d; want 1, 100", l.NumSegments(), l.LogStartOffset())
	}
	info := mustAppend(t, l, batch(t, 1, 1, 0))
	if info.FirstOffset != 100 || info.LogStartOffset != 100 {
		t.Fatalf("append after deleting everything: %+v", info)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	for _, appendTime := range []bool{false, true} {
		name := "CreateTime"
		if appendTime {
			name = "LogAppendTime"
		}
		t.Run(name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 600, IndexIntervalBytes: 1, LogAppendTime: appendTime}, OpenOptions{})
			defer l.Close()
			// Batch i holds timestamps 1000+100i .. +4 (CreateTime), or is
			// stamped 1000+100i (LogAppendTime).
			for i := range 20 {
				ts := int64(1000 + 100*i)
				if _, err := l.Append(batch(t, 5, 20, ts), AppendOptions{Now: time.UnixMilli(ts)}); err != nil {
					t.Fatal(err)
				}
			}
			if l.NumSegments() < 3 {
				t.Fatalf("want several segments, have %d", l.NumSegments())
			}
			type want struct {
				offset, ts int64
				found      bool
			}
			cases := map[int64]want{
				0:    {0, 1000, true},
				1000: {0, 1000, true},
				1550: {30, 1600, true},
				2900: {95, 2900, true},
				2901: {-1, -1, false},
			}
			if !appendTime {
				cases[1002] = want{2, 1002, true}
				cases[1550] = want{30, 1600, true}
				cases[2904] = want{99, 2904, true}
				cases[2901] = want{96, 2901, true}
				cases[2905] = want{-1, -1, false}
			}
			check := func(l *Log) {
				t.Helper()
				for ts, w := range cases {
					off, got, found, err := l.OffsetForTimestamp(ts)
					if err != nil {
						t.Fatal(err)
					}
					if found != w.found || (found && (off != w.offset || got != w.ts)) {
						t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v; want %d, %d, %v", ts, off, got, found, w.offset, w.ts, w.found)
					}
				}
			}
			check(l)
			// After a clean reopen the closed segments' indexes load lazily.
			dir := l.Dir()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2 := mustOpen(t, dir, Config{SegmentBytes: 600, IndexIntervalBytes: 1, LogAppendTime: appendTime}, OpenOptions{CleanShutdown: true})
			defer l2.Close()
			check(l2)
		})
	}
}

func TestOffsetForTimestampRespectsLogStart(t *testing.T) {
	l, _ := tenBatches(t, Config{})
	l.SetHighWatermark(100)
	if err := l.DeleteRecordsBefore(42); err != nil {
		t.Fatal(err)
	}
	off, ts, found, err := l.OffsetForTimestamp(0)
	if err != nil || !found || off != 42 || ts != 42 {
		t.Fatalf("OffsetForTimestamp(0) = %d, %d, %v, %v; want 42, 42", off, ts, found, err)
	}
}

func TestMaxTimestamp(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 300}, OpenOptions{})
	defer l.Close()
	if off, ts, err := l.MaxTimestamp(); err != nil || off != -1 || ts != -1 {
		t.Fatalf("empty log: MaxTimestamp = %d, %d, %v; want -1, -1", off, ts, err)
	}
	mustAppend(t, l, batchTimestamps(t, 5, 9, 7))              // offsets 0-2
	mustAppend(t, l, batchTimestamps(t, 100, 50, 300, 300, 2)) // 3-7: max 300 at offset 5
	mustAppend(t, l, batchTimestamps(t, 10, 20))               // 8-9
	mustAppend(t, l, batchTimestamps(t, 300, 1))               // 10-11: ties do not win
	if l.NumSegments() < 2 {
		t.Fatalf("want several segments, have %d", l.NumSegments())
	}
	check := func(l *Log) {
		t.Helper()
		off, ts, err := l.MaxTimestamp()
		if err != nil || off != 5 || ts != 300 {
			t.Fatalf("MaxTimestamp = %d, %d, %v; want 5, 300", off, ts, err)
		}
	}
	check(l)
	dir := l.Dir()
	l.Close()
	l2 := mustOpen(t, dir, Config{SegmentBytes: 300}, OpenOptions{CleanShutdown: true})
	defer l2.Close()
	check(l2)
	if err := l2.Truncate(4); err != nil {
		t.Fatal(err)
	}
	off, ts, err := l2.MaxTimestamp()
	if err != nil || off != 1 || ts != 9 {
		t.Fatalf("after Truncate(4): MaxTimestamp = %d, %d, %v; want 1, 9", off, ts, err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name   string
		offset int64
		want   int64 // log end offset after
	}{
		{"at a batch boundary in the active segment", 90, 90},
		{"at a batch boundary in an older segment", 30, 30},
		{"at a segment base", 40, 40},
		{"inside a batch drops the batch", 35, 35},
		{"at the log end offset: no-op", 100, 100},
		{"above the log end offset: no-op", 150, 100},
		{"to zero", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, clean := range []bool{true, false} {
				l, _ := tenBatches(t, Config{SegmentBytes: 1000, IndexIntervalBytes: 1})
				l.SetHighWatermark(100)
				if err := l.AssignEpoch(1, 0); err != nil {
					t.Fatal(err)
				}
				if err := l.AssignEpoch(2, 60); err != nil {
					t.Fatal(err)
				}
				if err := l.Truncate(tt.offset); err != nil {
					t.Fatal(err)
				}
				if l.LogEndOffset() != tt.want {
					t.Fatalf("LogEndOffset = %d, want %d", l.LogEndOffset(), tt.want)
				}
				if hw := l.HighWatermark(); hw > tt.want {
					t.Fatalf("HighWatermark %d above the log end offset %d", hw, tt.want)
				}
				// Epoch 1 starts at 0, epoch 2 at 60: entries starting at or
				// after the truncation point go.
				wantEpoch := int32(2)
				switch {
				case tt.want == 0:
					wantEpoch = -1
				case tt.want <= 60:
					wantEpoch = 1
				}
				if e, _ := l.LatestEpoch(); e != wantEpoch {
					t.Fatalf("LatestEpoch = %d, want %d", e, wantEpoch)
				}
				// The next append continues exactly there; what was cut is gone.
				info := mustAppend(t, l, batch(t, 10, 33, 5000))
				if info.FirstOffset != tt.want {
					t.Fatalf("append after truncation got offset %d, want %d", info.FirstOffset, tt.want)
				}
				check := func(l *Log) {
					t.Helper()
					// A batch straddling the truncation point went whole,
					// leaving a gap below the new data (as in Kafka).
					recs := readAll(t, l, 0)
					kept := tt.want / 10 * 10
					if int64(len(recs)) != kept+10 {
						t.Fatalf("read %d records, want %d", len(recs), kept+10)
					}
					checkOffsets(t, recs[:kept], 0, kept)
					checkOffsets(t, recs[kept:], tt.want, tt.want+10)
					for _, r := range recs[kept:] {
						if r.Timestamp < 5000 || len(r.Value) != 33 {
							t.Fatalf("offset %d holds old data after truncation", r.Offset)
						}
					}
				}
				check(l)
				dir := l.Dir()
				if clean {
					l.Close()
				} else {
					l.closeFilesForTest()
				}
				l2 := mustOpen(t, dir, Config{SegmentBytes: 1000, IndexIntervalBytes: 1}, OpenOptions{CleanShutdown: clean})
				check(l2)
				if l2.LogEndOffset() != tt.want+10 {
					t.Fatalf("reopened: LogEndOffset = %d, want %d", l2.LogEndOffset(), tt.want+10)
				}
				l2.Close()
			}
		})
	}
}

// closeFilesForTest closes the files without flushing, finishing indexes
// or anything else Close does: what a crash (of the process, not the OS)
// leaves behind.
func (l *Log) closeFilesForTest() {
	l.bg.Wait()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	for _, s := range l.segments {
		s.close()
	}
	for _, d := range l.doomed {
		d.seg.close()
	}
}

func TestTruncateFullyAndStartAt(t *testing.T) {
	l, _ := tenBatches(t, Config{SegmentBytes: 1000})
	if err := l.AssignEpoch(3, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFullyAndStartAt(500); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 500 || l.LogEndOffset() != 500 || l.NumSegments() != 1 || l.HighWatermark() != 500 {
		t.Fatalf("start %d end %d segments %d hw %d", l.LogStartOffset(), l.LogEndOffset(), l.NumSegments(), l.HighWatermark())
	}
	if _, ok := l.LatestEpoch(); ok {
		t.Fatal("epoch cache not cleared")
	}
	info := mustAppend(t, l, batch(t, 3, 1, 0))
	if info.FirstOffset != 500 {
		t.Fatalf("FirstOffset = %d, want 500", info.FirstOffset)
	}
	// Starting again at the same base offset as an existing segment.
	if err := l.TruncateFullyAndStartAt(500); err != nil {
		t.Fatal(err)
	}
	dir := l.Dir()
	l.Close()
	l2 := mustOpen(t, dir, Config{}, OpenOptions{LogStartOffset: 500})
	defer l2.Close()
	if l2.LogEndOffset() != 500 || l2.LogStartOffset() != 500 {
		t.Fatalf("reopened: start %d end %d, want 500 500", l2.LogStartOffset(), l2.LogEndOffset())
	}
}

func TestReopenAfterCleanClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events-7")
	cfg := Config{SegmentBytes: 2000, IndexIntervalBytes: 100}
	l := mustOpen(t, dir, cfg, OpenOptions{})
	for i := range 30 {
		if _, err := l.Append(batch(t, 7, 30, int64(i)), AppendOptions{LeaderEpoch: int32(i / 10)}); err != nil {
			t.Fatal(err)
		}
	}
	segs, size, epochs := l.NumSegments(), l.Size(), l.Epochs()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := l.Append(batch(t, 1, 1, 0), AppendOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	l2 := mustOpen(t, dir, cfg, OpenOptions{CleanShutdown: true})
	defer l2.Close()
	if l2.LogEndOffset() != 210 || l2.RecoveryPoint() != 210 || l2.NumSegments() != segs || l2.Size() != size {
		t.Fatalf("reopened: end %d recovery %d segments %d size %d; want 210 210 %d %d",
			l2.LogEndOffset(), l2.RecoveryPoint(), l2.NumSegments(), l2.Size(), segs, size)
	}
	if got := l2.Epochs(); !slices.Equal(got, epochs) || len(got) != 3 {
		t.Fatalf("epochs %v, want %v (3 entries)", got, epochs)
	}
	checkOffsets(t, readAll(t, l2, 0), 0, 210)
	info := mustAppend(t, l2, batch(t, 1, 1, 0))
	if info.FirstOffset != 210 {
		t.Fatalf("next append at %d, want 210", info.FirstOffset)
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 1000, IndexIntervalBytes: 1}
	l := mustOpen(t, dir, cfg, OpenOptions{})
	for i := range 10 {
		mustAppend(t, l, batch(t, 10, 20, int64(i)))
	}
	l.Close()
	// A torn index on a closed segment and on the active one, and a
	// missing one.
	entries, _ := os.ReadDir(dir)
	var idx []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), indexExt) {
			idx = append(idx, filepath.Join(dir, e.Name()))
		}
	}
	if len(idx) < 3 {
		t.Fatalf("want at least 3 segments, have %d", len(idx))
	}
	if err := os.WriteFile(idx[0], []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(idx[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idx[len(idx)-1], []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, dir, cfg, OpenOptions{CleanShutdown: true})
	defer l2.Close()
	checkOffsets(t, readAll(t, l2, 0), 0, 100)
	for off := int64(0); off < 100; off++ {
		res, err := l2.Read(off, 1, math.MaxInt64, true)
		if err != nil || res.FirstOffset != off/10*10 {
			t.Fatalf("Read(%d) = %d, %v", off, res.FirstOffset, err)
		}
	}
	mustAppend(t, l2, batch(t, 1, 1, 0))
}

func TestAppendValidation(t *testing.T) {
	corrupt := batch(t, 3, 10, 0)
	corrupt[len(corrupt)-1] ^= 0xff
	control := record.ControlBatch(7, 0, 1, record.ControlCommit, 0)
	nullKey := func() []byte {
		bb := record.NewBuilder(record.BuilderOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
		bb.Add(record.Record{Offset: 0, Key: []byte("a"), Value: []byte("x")})
		bb.Add(record.Record{Offset: 1, Value: []byte("no key")})
		b, err := bb.Build()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	big := batch(t, 1, 2000, 0)
	tests := []struct {
		name   string
		cfg    Config
		data   []byte
		origin Origin
		want   error
	}{
		{"corrupt CRC", Config{}, corrupt, OriginClient, record.ErrCorrupt},
		{"corrupt CRC from a follower", Config{}, corrupt, OriginReplication, ErrInvalidRecord},
		{"control batch from a client", Config{}, control, OriginClient, ErrInvalidRecord},
		{"control batch from the coordinator", Config{}, control, OriginCoordinator, nil},
		{"null key on a compacted topic", Config{Compact: true}, nullKey, OriginClient, ErrInvalidRecord},
		{"null key on a deleting topic", Config{}, nullKey, OriginClient, nil},
		{"batch over max.message.bytes", Config{MaxMessageBytes: 1000}, big, OriginClient, ErrRecordTooLarge},
		{"follower batch over max.message.bytes", Config{MaxMessageBytes: 1000}, big, OriginReplication, nil},
		{"append over segment.bytes", Config{SegmentBytes: 1000}, big, OriginClient, ErrRecordTooLarge},
		{"no batch", Config{}, nil, OriginClient, ErrInvalidRecord},
		{"partial batch from a client", Config{}, batch(t, 3, 10, 0)[:70], OriginClient, ErrInvalidRecord},
		{"whole batch then garbage", Config{}, append(batch(t, 3, 10, 0), 1, 2, 3), OriginClient, ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), tt.cfg, OpenOptions{})
			defer l.Close()
			_, err := l.Append(slices.Clone(tt.data), AppendOptions{Origin: tt.origin})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Append error = %v, want %v", err, tt.want)
			}
			if l.LogEndOffset() != 0 || l.Size() != 0 {
				t.Fatalf("a rejected append left data: end %d, %d bytes", l.LogEndOffset(), l.Size())
			}
		})
	}
}

func TestAppendAssignsOffsetsEpochAndTime(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{LogAppendTime: true}, OpenOptions{})
	defer l.Close()
	mustAppend(t, l, batch(t, 2, 1, 0))
	data := slices.Concat(batch(t, 3, 5, 77), batch(t, 4, 5, 88))
	now := time.UnixMilli(1_700_000_000_000)
	info, err := l.Append(data, AppendOptions{LeaderEpoch: 4, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := AppendInfo{FirstOffset: 2, LastOffset: 8, LogAppendTime: now.UnixMilli(), MaxTimestamp: now.UnixMilli(), NumRecords: 7, Bytes: len(data)}
	if info != want {
		t.Fatalf("AppendInfo = %+v, want %+v", info, want)
	}
	res, err := l.Read(2, 1<<20, math.MaxInt64, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := res.ReadInto(nil)
	for i, base := range []int64{2, 5} {
		b, rest, err := record.Next(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("stored batch %d invalid: %v", i, err)
		}
		if b.BaseOffset() != base || b.PartitionLeaderEpoch() != 4 || !b.Attributes().LogAppendTime() || b.MaxTimestamp() != now.UnixMilli() {
			t.Fatalf("stored batch %d: base %d epoch %d appendTime %v max %d", i, b.BaseOffset(), b.PartitionLeaderEpoch(), b.Attributes().LogAppendTime(), b.MaxTimestamp())
		}
		got = rest
	}
	if e, ok := l.LatestEpoch(); !ok || e != 4 {
		t.Fatalf("LatestEpoch = %d, %v; want 4", e, ok)
	}
	if _, end := l.EndOffsetForEpoch(4); end != 9 {
		t.Fatalf("EndOffsetForEpoch(4) end = %d, want 9", end)
	}
}

func TestReplicationAppend(t *testing.T) {
	leader := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer leader.Close()
	for i := range 5 {
		if _, err := leader.Append(batch(t, 3, 10, int64(i)), AppendOptions{LeaderEpoch: 2}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := leader.Read(0, 1<<20, math.MaxInt64, true)
	if err != nil {
		t.Fatal(err)
	}
	fetched, _ := res.ReadInto(nil)

	follower := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer follower.Close()
	// A fetch response cut in the middle of the fourth batch.
	cut := len(fetched)*3/4 + 3
	info, err := follower.Append(slices.Clone(fetched[:cut]), AppendOptions{Origin: OriginReplication})
	if err != nil {
		t.Fatal(err)
	}
	if info.FirstOffset != 0 || follower.LogEndOffset() != info.LastOffset+1 || info.LastOffset%3 != 2 {
		t.Fatalf("partial fetch: %+v, end %d", info, follower.LogEndOffset())
	}
	// The same batches again do not continue the log.
	if _, err := follower.Append(slices.Clone(fetched), AppendOptions{Origin: OriginReplication}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("re-append of old offsets: %v, want ErrInvalidRecord", err)
	}
	rest, err := leader.Read(follower.LogEndOffset(), 1<<20, math.MaxInt64, true)
	if err != nil {
		t.Fatal(err)
	}
	more, _ := rest.ReadInto(nil)
	if _, err := follower.Append(more, AppendOptions{Origin: OriginReplication}); err != nil {
		t.Fatal(err)
	}
	got, _ := res0(t, follower).ReadInto(nil)
	if !bytes.Equal(got, fetched) {
		t.Fatal("the follower's log differs from the leader's")
	}
	if e, _ := follower.LatestEpoch(); e != 2 {
		t.Fatalf("follower LatestEpoch = %d, want 2 (learned from the batches)", e)
	}
	// A gap (compacted leader) is allowed and continues the log.
	gap := batchWith(t, record.BuilderOptions{BaseOffset: 1000, PartitionLeaderEpoch: 3}, 2, 1, 0)
	if info, err := follower.Append(gap, AppendOptions{Origin: OriginReplication}); err != nil || info.FirstOffset != 1000 {
		t.Fatalf("gap: %+v, %v", info, err)
	}
	if follower.LogEndOffset() != 1002 {
		t.Fatalf("LogEndOffset = %d, want 1002", follower.LogEndOffset())
	}
	if res, err := follower.Read(500, 1<<20, math.MaxInt64, true); err != nil || res.FirstOffset != 1000 {
		t.Fatalf("Read in the gap = %d, %v; want the batch at 1000", res.FirstOffset, err)
	}
}

func TestConfig(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.SegmentBytes != 1<<30 || c.SegmentMs != 7*24*3600_000 || c.RetentionBytes != -1 || c.RetentionMs != 7*24*3600_000 ||
		c.FlushMessages != math.MaxInt64 || c.MaxMessageBytes != 1048588 || !c.Delete || c.Compact || c.MinCleanableDirtyRatio != 0.5 ||
		c.FileDeleteDelayMs != 60_000 || c.SegmentIndexBytes != 10<<20 || c.IndexIntervalBytes != 4096 || c.DeleteRetentionMs != 24*3600_000 {
		t.Fatalf("defaults: %+v", c)
	}
	bad := []struct {
		cfg  Config
		prop string
	}{
		{Config{SegmentBytes: 10}, "segment.bytes"},
		{Config{SegmentBytes: 1 << 31}, "segment.bytes"},
		{Config{SegmentMs: -1}, "segment.ms"},
		{Config{RetentionMs: -2}, "retention.ms"},
		{Config{RetentionBytes: -5}, "retention.bytes"},
		{Config{FlushMessages: -1}, "flush.messages"},
		{Config{SegmentIndexBytes: 3}, "segment.index.bytes"},
		{Config{MinCleanableDirtyRatio: 1.5}, "min.cleanable.dirty.ratio"},
		{Config{FileDeleteDelayMs: -2}, "file.delete.delay.ms"},
	}
	for _, b := range bad {
		_, err := Open(t.TempDir(), b.cfg, OpenOptions{})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), b.prop) {
			t.Errorf("%+v: error %v, want ErrInvalidConfig naming %s", b.cfg, err, b.prop)
		}
	}
	l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer l.Close()
	if err := l.SetConfig(Config{RetentionMs: -7}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetConfig: %v", err)
	}
	if err := l.SetConfig(Config{MaxMessageBytes: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(batch(t, 1, 200, 0), AppendOptions{}); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("after SetConfig: %v, want ErrRecordTooLarge", err)
	}
	if l.Config().FS == nil || l.Config().Logger == nil {
		t.Fatal("SetConfig dropped FS or Logger")
	}
}

func TestConcurrentAppendAndRead(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 8 << 10, FlushMessages: 1}, OpenOptions{})
	defer l.Close()
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range perWriter {
				if _, err := l.Append(batch(t, 5, 40, 0), AppendOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			end := l.LogEndOffset()
			if end == 0 {
				continue
			}
			res, err := l.Read(end-1, 1<<20, math.MaxInt64, true)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := res.ReadInto(nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	total := int64(writers * perWriter * 5)
	checkOffsets(t, readAll(t, l, 0), 0, total)
	if l.RecoveryPoint() != total {
		t.Fatalf("RecoveryPoint = %d after flush.messages=1 appends, want %d", l.RecoveryPoint(), total)
	}
}

func TestDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone-1")
	l, _ := tenBatches(t, Config{})
	_ = l
	l2 := mustOpen(t, dir, Config{}, OpenOptions{})
	mustAppend(t, l2, batch(t, 1, 1, 0))
	if err := l2.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory still there: %v", err)
	}
}

// TestConcurrentRetentionAndRead reads from the start of the log while
// appends roll segments and DeleteRecordsBefore and retention delete them:
// a read either fails with ErrOffsetOutOfRange (the start moved) or
// returns whole, valid batches.
func TestConcurrentRetentionAndRead(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 2000, RetentionBytes: 6000, RetentionMs: Unlimited}, OpenOptions{})
	defer l.Close()
	mustAppend(t, l, batch(t, 5, 20, 0))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 300 {
			if _, err := l.Append(batch(t, 5, 20, 0), AppendOptions{}); err != nil {
				t.Error(err)
				return
			}
			l.SetHighWatermark(l.LogEndOffset())
			if i%7 == 0 {
				if err := l.DeleteRecordsBefore(l.LogStartOffset() + 3); err != nil {
					t.Error(err)
					return
				}
			}
			if _, err := l.ApplyRetention(time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := l.Read(l.LogStartOffset(), 4000, math.MaxInt64, true)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				buf, err := res.ReadInto(nil)
				if err != nil {
					t.Error(err)
					return
				}
				for len(buf) > 0 {
					b, rest, err := record.Next(buf)
					if err != nil || b.ValidateHeader() != nil {
						t.Errorf("read returned a damaged batch: %v", err)
						return
					}
					buf = rest
				}
			}
		})
	}
	wg.Wait()
	if l.Size() > 6000+2000 {
		t.Fatalf("Size %d: retention.bytes not applied", l.Size())
	}
}
