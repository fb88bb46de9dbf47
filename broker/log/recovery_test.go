package log

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/runnel/runnel/broker/record"
)

// copyDir copies the regular files of src into a new directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestCrashCutsTornBatch cuts the last segment at every byte position of
// its last batch (and damages it in other ways), reopens without the clean
// marker and checks that exactly the complete batches survive.
func TestCrashCutsTornBatch(t *testing.T) {
	src := filepath.Join(t.TempDir(), "crash-0")
	cfg := Config{SegmentBytes: 1200, IndexIntervalBytes: 200}
	l := mustOpen(t, src, cfg, OpenOptions{})
	var ends []int64 // next offset after each batch
	for i := range 12 {
		info, err := l.Append(batch(t, 3+i%4, 30+i, int64(1000+i)), AppendOptions{LeaderEpoch: int32(i / 5)})
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, info.LastOffset+1)
	}
	if l.NumSegments() < 3 {
		t.Fatalf("want several segments, have %d", l.NumSegments())
	}
	last := l.activeLocked()
	lastBase, lastSize := last.base, last.size.Load()
	var hdr [record.HeaderSize]byte
	lastBatchPos, _, err := last.find(ends[len(ends)-2], lastSize, &hdr)
	if err != nil {
		t.Fatal(err)
	}
	recoveryPoint := l.RecoveryPoint()
	l.closeFilesForTest() // no clean shutdown: indexes may lag too
	segFile := segmentFileName(lastBase, logExt, "")
	fullEnd, cutEnd := ends[len(ends)-1], ends[len(ends)-2]

	check := func(t *testing.T, dir string, opts OpenOptions, wantEnd int64) {
		t.Helper()
		l := mustOpen(t, dir, cfg, opts)
		defer l.Close()
		if got := l.LogEndOffset(); got != wantEnd {
			t.Fatalf("LogEndOffset = %d, want %d", got, wantEnd)
		}
		recs := readAll(t, l, 0)
		checkOffsets(t, recs, 0, wantEnd)
		for _, r := range recs {
			i := slices.IndexFunc(ends, func(e int64) bool { return r.Offset < e })
			base := int64(0)
			if i > 0 {
				base = ends[i-1]
			}
			if r.Timestamp != int64(1000+i)+r.Offset-base || len(r.Value) != 30+i {
				t.Fatalf("offset %d holds the wrong record (timestamp %d, %d-byte value)", r.Offset, r.Timestamp, len(r.Value))
			}
		}
		if latest, _ := l.LatestEpoch(); latest > 2 {
			t.Fatalf("LatestEpoch %d names an epoch that is not in the log", latest)
		}
		info := mustAppend(t, l, batch(t, 2, 5, 0))
		if info.FirstOffset != wantEnd {
			t.Fatalf("next append at %d, want %d", info.FirstOffset, wantEnd)
		}
		checkOffsets(t, readAll(t, l, 0), 0, wantEnd+2)
	}

	for cut := lastBatchPos; cut <= lastSize; cut++ {
		for _, rp := range []int64{0, recoveryPoint, lastBase} {
			t.Run(fmt.Sprintf("cut at %d recovery point %d", cut, rp), func(t *testing.T) {
				dir := copyDir(t, src)
				if err := os.Truncate(filepath.Join(dir, segFile), cut); err != nil {
					t.Fatal(err)
				}
				want := cutEnd
				if cut == lastSize {
					want = fullEnd
				}
				check(t, dir, OpenOptions{RecoveryPoint: rp}, want)
			})
		}
	}

	damage := []struct {
		name string
		do   func(data []byte) []byte
	}{
		{"flipped byte in the last batch", func(d []byte) []byte { d[lastBatchPos+70] ^= 1; return d }},
		{"zeros after the last batch (preallocation)", func(d []byte) []byte { return append(d, make([]byte, 4096)...) }},
		{"garbage after the last batch", func(d []byte) []byte { return append(d, bytes.Repeat([]byte{0xff}, 100)...) }},
		{"last batch with an earlier offset", func(d []byte) []byte {
			record.Batch(d[lastBatchPos:]).SetBaseOffset(lastBase - 1)
			return d
		}},
	}
	for _, dm := range damage {
		t.Run(dm.name, func(t *testing.T) {
			dir := copyDir(t, src)
			path := filepath.Join(dir, segFile)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, dm.do(data), 0o644); err != nil {
				t.Fatal(err)
			}
			want := cutEnd
			if dm.name == "zeros after the last batch (preallocation)" || dm.name == "garbage after the last batch" {
				want = fullEnd
			}
			check(t, dir, OpenOptions{RecoveryPoint: lastBase}, want)
		})
	}

	t.Run("torn middle segment drops the later ones", func(t *testing.T) {
		dir := copyDir(t, src)
		l := mustOpen(t, copyDir(t, src), cfg, OpenOptions{})
		second := l.segments[1]
		secondBase, secondSize := second.base, second.size.Load()
		l.Close()
		if err := os.Truncate(filepath.Join(dir, segmentFileName(secondBase, logExt, "")), secondSize-1); err != nil {
			t.Fatal(err)
		}
		l2 := mustOpen(t, dir, cfg, OpenOptions{})
		defer l2.Close()
		if l2.NumSegments() != 2 {
			t.Fatalf("NumSegments = %d, want 2", l2.NumSegments())
		}
		checkOffsets(t, readAll(t, l2, 0), 0, l2.LogEndOffset())
		if l2.LogEndOffset() >= lastBase {
			t.Fatalf("LogEndOffset %d: data past the torn segment survived", l2.LogEndOffset())
		}
	})
}

// TestAcknowledgedSurvivesCrash appends with flush.messages=1, injecting a
// failure at the Nth write or fsync, then crashes (dropping everything not
// fsynced) and reopens from the recovery point the log reported: every
// acknowledged record must be there, with its content.
func TestAcknowledgedSurvivesCrash(t *testing.T) {
	for _, kind := range []string{"write", "short write", "fsync"} {
		for n := 1; n <= 40; n += 3 {
			t.Run(fmt.Sprintf("%s %d", kind, n), func(t *testing.T) {
				ffs := newFaultFS()
				synced := ffs.trackSyncs()
				dir := filepath.Join(t.TempDir(), "acks-0")
				cfg := Config{FS: ffs, FlushMessages: 1, SegmentBytes: 1500, IndexIntervalBytes: 100}
				l := mustOpen(t, dir, cfg, OpenOptions{})
				switch kind {
				case "write":
					ffs.set(n, 0, false)
				case "short write":
					ffs.set(n, 0, true)
				case "fsync":
					ffs.set(0, n, false)
				}
				acked := map[int64]int{} // offset -> value size
				failures := 0
				for i := range 25 {
					info, err := l.Append(batch(t, 4, 20+i, int64(i)), AppendOptions{LeaderEpoch: 1})
					if err != nil {
						if !errors.Is(err, ErrStorage) {
							t.Fatalf("append %d: %v, want ErrStorage", i, err)
						}
						failures++
						continue
					}
					for o := info.FirstOffset; o <= info.LastOffset; o++ {
						acked[o] = 20 + i
					}
				}
				if failures == 0 {
					t.Fatalf("the injected %s failure never surfaced", kind)
				}
				rp := l.RecoveryPoint()
				l.closeFilesForTest()
				synced.crash(t)

				l2 := mustOpen(t, dir, Config{SegmentBytes: 1500}, OpenOptions{RecoveryPoint: rp})
				defer l2.Close()
				recs := readAll(t, l2, 0)
				got := map[int64]int{}
				for i, r := range recs {
					if i > 0 && r.Offset <= recs[i-1].Offset {
						t.Fatalf("offsets out of order: %d after %d", r.Offset, recs[i-1].Offset)
					}
					got[r.Offset] = len(r.Value)
				}
				for o, size := range acked {
					if g, ok := got[o]; !ok || g != size {
						t.Fatalf("acknowledged offset %d lost after the crash (have %v)", o, ok)
					}
				}
				info := mustAppend(t, l2, batch(t, 1, 1, 0))
				if info.FirstOffset != l2.LogEndOffset()-1 || (len(recs) > 0 && info.FirstOffset <= recs[len(recs)-1].Offset) {
					t.Fatalf("append after recovery at %d", info.FirstOffset)
				}
			})
		}
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	ffs := newFaultFS()
	l := mustOpen(t, t.TempDir(), Config{FS: ffs}, OpenOptions{})
	defer l.Close()
	mustAppend(t, l, batch(t, 5, 10, 0))
	size := l.Size()
	ffs.set(1, 0, true)
	if _, err := l.Append(batch(t, 5, 10, 0), AppendOptions{}); !errors.Is(err, ErrStorage) || !errors.Is(err, errInjected) {
		t.Fatalf("Append = %v, want the injected ErrStorage", err)
	}
	if l.LogEndOffset() != 5 || l.Size() != size {
		t.Fatalf("failed append left end %d size %d; want 5 %d", l.LogEndOffset(), l.Size(), size)
	}
	fi, err := l.activeLocked().log.Stat()
	if err != nil || fi.Size() != size {
		t.Fatalf("segment file is %d bytes, want %d (cut back)", fi.Size(), size)
	}
	info := mustAppend(t, l, batch(t, 5, 10, 0))
	if info.FirstOffset != 5 {
		t.Fatalf("next append at %d, want 5", info.FirstOffset)
	}
	checkOffsets(t, readAll(t, l, 0), 0, 10)
}

func TestFsyncFailureFailsTheLog(t *testing.T) {
	ffs := newFaultFS()
	l := mustOpen(t, t.TempDir(), Config{FS: ffs, FlushMessages: 1}, OpenOptions{})
	mustAppend(t, l, batch(t, 5, 10, 0))
	ffs.set(0, 1, false)
	if _, err := l.Append(batch(t, 5, 10, 0), AppendOptions{}); !errors.Is(err, ErrStorage) {
		t.Fatalf("Append = %v, want ErrStorage", err)
	}
	for name, op := range map[string]func() error{
		"Append":   func() error { _, err := l.Append(batch(t, 1, 1, 0), AppendOptions{}); return err },
		"Flush":    l.Flush,
		"Roll":     l.Roll,
		"Truncate": func() error { return l.Truncate(1) },
	} {
		if err := op(); !errors.Is(err, ErrStorage) {
			t.Errorf("%s after a failed fsync = %v, want ErrStorage", name, err)
		}
	}
	// Reads of what is there still work.
	checkOffsets(t, readAll(t, l, 0)[:5], 0, 5)
	if l.RecoveryPoint() != 5 {
		t.Fatalf("RecoveryPoint = %d, want 5 (the failed fsync covers nothing)", l.RecoveryPoint())
	}
	l.Close()
}

func TestSwapRecovery(t *testing.T) {
	cfg := Config{FileDeleteDelayMs: 60_000}
	build := func(t *testing.T) (*Log, []byte) {
		l := mustOpen(t, filepath.Join(t.TempDir(), "compacted-0"), cfg, OpenOptions{})
		for range 4 {
			mustAppend(t, l, batch(t, 5, 10, 0))
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
		}
		mustAppend(t, l, batch(t, 5, 10, 0))
		// The "compacted" replacement of segments 0 and 5: their batches,
		// with the first record of each gone (an offset gap), in one segment.
		var out []byte
		for _, base := range []int64{0, 5} {
			bb := record.NewBuilder(record.BuilderOptions{BaseOffset: base, PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
			for i := int64(1); i < 5; i++ {
				bb.Add(record.Record{Offset: base + i, Key: []byte("k"), Value: []byte("compacted")})
			}
			b, err := bb.Build()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
		}
		return l, out
	}
	checkCompacted := func(t *testing.T, l *Log) {
		t.Helper()
		recs := readAll(t, l, 0)
		if len(recs) != 8+15 || recs[0].Offset != 1 || string(recs[0].Value) != "compacted" || recs[8].Offset != 10 {
			t.Fatalf("after compaction: %d records, first %d %q", len(recs), recs[0].Offset, recs[0].Value)
		}
		if l.NumSegments() != 4 {
			t.Fatalf("NumSegments = %d, want 4", l.NumSegments())
		}
	}

	t.Run("replace", func(t *testing.T) {
		l, data := build(t)
		defer l.Close()
		repl, err := l.newCleanedSegment(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := repl.appendBatches(data); err != nil {
			t.Fatal(err)
		}
		if err := repl.seal(); err != nil {
			t.Fatal(err)
		}
		if err := l.replaceSegments(repl, slices.Clone(l.segments[:2])); err != nil {
			t.Fatal(err)
		}
		checkCompacted(t, l)
		for _, name := range []string{segmentFileName(0, logExt, ""), segmentFileName(0, logExt, deletedSuffix), segmentFileName(5, logExt, deletedSuffix)} {
			if _, err := os.Stat(filepath.Join(l.Dir(), name)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		dir := l.Dir()
		l.Close()
		l2 := mustOpen(t, dir, cfg, OpenOptions{CleanShutdown: true})
		defer l2.Close()
		checkCompacted(t, l2)
	})

	// Crashes at each step of replaceSegments, simulated by leaving the
	// files as that step leaves them.
	steps := []struct {
		name      string
		suffix    string // of the replacement's files
		compacted bool
	}{
		{"crash while writing the .cleaned files", cleanedSuffix, false},
		{"crash after the rename to .swap", swapSuffix, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			l, data := build(t)
			dir := l.Dir()
			l.Close()
			if err := os.WriteFile(filepath.Join(dir, segmentFileName(0, logExt, st.suffix)), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, segmentFileName(0, indexExt, st.suffix)), []byte{1, 2}, 0o644); err != nil {
				t.Fatal(err)
			}
			l2 := mustOpen(t, dir, cfg, OpenOptions{})
			defer l2.Close()
			if st.compacted {
				checkCompacted(t, l2)
			} else {
				checkOffsets(t, readAll(t, l2, 0), 0, 25)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if _, _, suffix, ok := parseSegmentFileName(e.Name()); ok && suffix != "" {
					t.Errorf("leftover file %s", e.Name())
				}
			}
		})
	}

	t.Run("swap of an unfinished multi-segment compaction", func(t *testing.T) {
		l, data := build(t)
		dir := l.Dir()
		l.Close()
		// .cleaned at 0 still exists: the .swap at 10 must not win.
		os.WriteFile(filepath.Join(dir, segmentFileName(0, logExt, cleanedSuffix)), data, 0o644)
		os.WriteFile(filepath.Join(dir, segmentFileName(10, logExt, swapSuffix)), []byte("x"), 0o644)
		l2 := mustOpen(t, dir, cfg, OpenOptions{})
		defer l2.Close()
		checkOffsets(t, readAll(t, l2, 0), 0, 25)
	})
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{}, OpenOptions{})
	mustAppend(t, l, batch(t, 3, 3, 0))
	l.Close()
	leftovers := []string{
		segmentFileName(77, logExt, deletedSuffix),
		segmentFileName(77, indexExt, deletedSuffix),
		segmentFileName(99, indexExt, ""),     // orphan index
		segmentFileName(99, timeIndexExt, ""), // orphan index
		epochCheckpointFile + ".tmp",
	}
	for _, name := range leftovers {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "partition.metadata"), []byte("keep"), 0o644)
	l2 := mustOpen(t, dir, Config{}, OpenOptions{CleanShutdown: true})
	defer l2.Close()
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "partition.metadata")); err != nil {
		t.Errorf("a file that is not the log's was touched: %v", err)
	}
	checkOffsets(t, readAll(t, l2, 0), 0, 3)
}

func TestOpenStartOffsets(t *testing.T) {
	// An empty directory starts at the checkpointed log start offset.
	l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{LogStartOffset: 1234, RecoveryPoint: 1234})
	defer l.Close()
	if l.LogStartOffset() != 1234 || l.LogEndOffset() != 1234 || l.RecoveryPoint() != 1234 {
		t.Fatalf("start %d end %d recovery %d", l.LogStartOffset(), l.LogEndOffset(), l.RecoveryPoint())
	}
	// A log start offset moved inside a segment by DeleteRecords survives.
	src, _ := tenBatches(t, Config{})
	dir := src.Dir()
	src.Close()
	l2 := mustOpen(t, dir, Config{}, OpenOptions{LogStartOffset: 42, RecoveryPoint: 100, CleanShutdown: true})
	defer l2.Close()
	if l2.LogStartOffset() != 42 {
		t.Fatalf("LogStartOffset = %d, want 42", l2.LogStartOffset())
	}
	if _, err := l2.Read(41, 1, math.MaxInt64, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read below the start offset: %v", err)
	}
}

// FuzzRecover recovers a segment made of arbitrary bytes: no panic, memory
// bounded by the file, and what survives is a valid log that takes appends
// and reopens the same. An input whose framed batches have wrong CRCs is
// also tried with the CRCs made right, so that mutations of the headers
// reach the checks behind the CRC.
func FuzzRecover(f *testing.F) {
	var valid []byte
	for i := range 3 {
		b := batch(f, 2, 5, int64(i))
		record.Batch(b).SetBaseOffset(int64(2 * i))
		valid = append(valid, b...)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRecover(t, data)
		if fixed := fixBatchCRCs(data); !bytes.Equal(fixed, data) {
			checkRecover(t, fixed)
		}
	})
}

// fixBatchCRCs returns a copy of data with the CRC of every batch it
// frames (up to the first one that does not fit) recomputed.
func fixBatchCRCs(data []byte) []byte {
	out := bytes.Clone(data)
	for rest := out; len(rest) >= record.HeaderSize; {
		size := int64(record.Batch(rest).Length()) + record.LogOverhead
		if size < record.HeaderSize || size > int64(len(rest)) {
			break
		}
		record.Batch(rest[:size]).UpdateCRC()
		rest = rest[size:]
	}
	return out
}

// checkRecover opens a log whose only segment holds data and checks what
// recovery kept (see FuzzRecover).
func checkRecover(t *testing.T, data []byte) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segmentFileName(0, logExt, "")), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// An unarmed crashFS: no fsyncs, which would make the fuzzing slow.
	l, err := Open(dir, Config{IndexIntervalBytes: 1, FS: newCrashFS()}, OpenOptions{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	end := l.LogEndOffset()
	if l.Size() > int64(len(data)) {
		t.Fatalf("recovered %d bytes out of %d", l.Size(), len(data))
	}
	var got []byte
	for off := int64(0); off < end; {
		res, err := l.Read(off, math.MaxInt32, math.MaxInt64, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Size == 0 {
			break
		}
		buf, err := res.ReadInto(nil)
		if err != nil {
			t.Fatal(err)
		}
		for rest := buf; len(rest) > 0; {
			b, r, err := record.Next(rest)
			if err != nil || b.ValidateHeader() != nil {
				t.Fatalf("recovered log holds an invalid batch at %d: %v", off, err)
			}
			off = b.NextOffset()
			rest = r
		}
		got = append(got, buf...)
	}
	if !bytes.Equal(got, data[:len(got)]) {
		t.Fatal("recovery changed the bytes it kept")
	}
	info, err := l.Append(batch(t, 1, 1, 0), AppendOptions{})
	if err != nil || info.FirstOffset != end {
		t.Fatalf("append after recovery: %+v, %v (end %d)", info, err, end)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, Config{FS: newCrashFS()}, OpenOptions{CleanShutdown: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.LogEndOffset() != end+1 {
		t.Fatalf("reopened at %d, want %d", l2.LogEndOffset(), end+1)
	}
}

var _ = io.EOF
