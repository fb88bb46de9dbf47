package log

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

var errCrashed = errors.New("crashed")

// crashFS passes everything to the OS file system until its budget of
// mutations (creating or truncating a file on open, writes, truncations,
// fsyncs, renames, removals) is spent; from then on every mutation fails,
// as if the process had died at that point: nothing after it reaches the
// disk. It simulates a crash of the process, not of the machine: what was
// written stays in the page cache, so fsyncs are counted but not done
// (which keeps a test that crashes at every step fast). onOpen, when set,
// sees the name of every file opened, before it is.
type crashFS struct {
	FS
	mu     sync.Mutex
	budget int // mutations allowed after arm; -1 for no limit
	ops    int // mutations done since arm
	onOpen func(name string)
}

func newCrashFS() *crashFS { return &crashFS{FS: OS(), budget: -1} }

// arm restarts the count of mutations and allows budget more (-1: any).
func (f *crashFS) arm(budget int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget, f.ops = budget, 0
}

func (f *crashFS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// mutate accounts for one mutation, or fails it once the budget is spent.
func (f *crashFS) mutate() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.budget >= 0 && f.ops >= f.budget {
		return errCrashed
	}
	f.ops++
	return nil
}

func (f *crashFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f.mu.Lock()
	hook := f.onOpen
	f.mu.Unlock()
	if hook != nil {
		hook(name)
	}
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err := f.mutate(); err != nil {
			return nil, err
		}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &crashFile{File: file, fs: f}, nil
}

func (f *crashFS) Remove(name string) error {
	if err := f.mutate(); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

func (f *crashFS) Rename(from, to string) error {
	if err := f.mutate(); err != nil {
		return err
	}
	return f.FS.Rename(from, to)
}

func (f *crashFS) SyncDir(name string) error { return f.mutate() }

func (f *crashFS) Chtimes(name string, atime, mtime time.Time) error {
	if err := f.mutate(); err != nil {
		return err
	}
	return os.Chtimes(name, atime, mtime)
}

type crashFile struct {
	File
	fs *crashFS
}

func (f *crashFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.mutate(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *crashFile) Truncate(size int64) error {
	if err := f.fs.mutate(); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *crashFile) Sync() error { return f.fs.mutate() }

// TestCleanCrashAtEveryStep stops a clean after each of its file system
// operations in turn (writing the .cleaned files, sealing them, each rename
// to .swap, the directory fsyncs, each rename of an old segment to
// .deleted or its removal, each rename of the new segment to its final
// name), reopens the directory as after a crash, and checks that every
// group of segments the clean rewrites comes back either as it was or as
// the clean made it: no record lost, none doubled, none resurrected from
// the other version.
func TestCleanCrashAtEveryStep(t *testing.T) {
	datasets := []struct {
		name string
		// strict: every segment keeps records of its own, so each group
		// comes back wholly old or wholly new.
		strict bool
		write  func(t *testing.T, l *Log) []record.Record
	}{
		{"every segment keeps records", true, func(t *testing.T, l *Log) []record.Record {
			var all []record.Record
			for i := range 16 {
				all = append(all, appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "v%d", i)}, kv{fmt.Sprint("own-", i), val("x")})...)
			}
			return all
		}},
		{"whole segments are emptied", false, func(t *testing.T, l *Log) []record.Record {
			var all []record.Record
			for i := range 24 {
				all = append(all, appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("k", i%3), fmt.Appendf(nil, "v%d", i)})...)
			}
			return all
		}},
	}
	for _, ds := range datasets {
		for _, delay := range []int64{60_000, -1} {
			t.Run(fmt.Sprintf("%s/file.delete.delay.ms=%d", ds.name, delay), func(t *testing.T) {
				cfg := Config{Compact: true, SegmentBytes: 350, IndexIntervalBytes: 60, FileDeleteDelayMs: delay}
				template := filepath.Join(t.TempDir(), "orders-0")
				l := mustOpen(t, template, cfg, OpenOptions{})
				old := ds.write(t, l)
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
				old = append(old, appendKV(t, l, noProducer, 100, kv{"active", val("x")})...)
				hw := l.LogEndOffset()
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				// Compaction groups segments by segment.bytes: raised now,
				// two old segments make one new one.
				cfg.SegmentBytes = 800
				now := time.UnixMilli(10_000)

				open := func(t *testing.T) (*Log, *crashFS) {
					fs := newCrashFS()
					c := cfg
					c.FS = fs
					l := mustOpen(t, copyDir(t, template), c, OpenOptions{CleanShutdown: true})
					l.SetHighWatermark(hw)
					return l, fs
				}
				// The clean without a crash: what "new" looks like, and how
				// many operations it takes.
				ref, fs := open(t)
				fs.arm(-1)
				res := mustClean(t, newTestCleaner(t, CleanerConfig{}), ref, 0, now)
				total := fs.count()
				want := readAll(t, ref, 0)
				if res.Groups < 2 || res.Segments < 2*res.Groups-1 || res.RecordsRemoved == 0 {
					t.Fatalf("the clean rewrote %d segments into %d removing %d records; want several groups of two", res.Segments, res.Groups, res.RecordsRemoved)
				}
				var bounds []int64 // group boundaries: [bounds[i], bounds[i+1])
				for _, s := range ref.segments[:res.Groups] {
					bounds = append(bounds, s.base)
				}
				bounds = append(bounds, res.FirstUncleanableOffset, hw)
				ref.Close()
				t.Logf("crashing after each of the %d file system operations of a clean of %d segments into %d", total, res.Segments, res.Groups)

				for n := range total {
					l, fs := open(t)
					dir := l.Dir()
					fs.arm(n)
					if _, err := newTestCleaner(t, CleanerConfig{}).Clean(t.Context(), l, 0, now); err == nil {
						t.Fatalf("crash after %d of %d operations: Clean did not fail", n, total)
					}
					l.closeFilesForTest()

					rc := cfg
					rc.FS = newCrashFS()
					re := mustOpen(t, dir, rc, OpenOptions{})
					re.SetHighWatermark(hw)
					got := readAll(t, re, 0)
					checkCrashOutcome(t, n, got, old, want, bounds, ds.strict)
					noLeftovers(t, dir)
					// The recovered log compacts to the same result.
					mustClean(t, newTestCleaner(t, CleanerConfig{}), re, 0, now)
					sameRecords(t, readAll(t, re, 0), want)
					re.Close()
				}
			})
		}
	}
}

// checkCrashOutcome checks what a crash after n operations left: only
// records of the old log, in order, each once, with every record the
// compacted log keeps; with strict, each group of segments wholly old or
// wholly new.
func checkCrashOutcome(t *testing.T, n int, got, old, want []record.Record, bounds []int64, strict bool) {
	t.Helper()
	byOffset := map[int64]record.Record{}
	for _, r := range old {
		byOffset[r.Offset] = r
	}
	prev := int64(-1)
	seen := map[int64]bool{}
	for _, r := range got {
		o, ok := byOffset[r.Offset]
		if !ok || !bytes.Equal(o.Key, r.Key) || !bytes.Equal(o.Value, r.Value) || (o.Value == nil) != (r.Value == nil) {
			t.Fatalf("crash after %d operations: offset %d (%q) was not in the log", n, r.Offset, r.Key)
		}
		if r.Offset <= prev {
			t.Fatalf("crash after %d operations: offset %d after %d", n, r.Offset, prev)
		}
		prev = r.Offset
		seen[r.Offset] = true
	}
	for _, w := range want {
		if !seen[w.Offset] {
			t.Fatalf("crash after %d operations: lost offset %d (%q), which the compacted log keeps", n, w.Offset, w.Key)
		}
	}
	if !strict {
		return
	}
	in := func(recs []record.Record, from, to int64) []record.Record {
		var out []record.Record
		for _, r := range recs {
			if r.Offset >= from && r.Offset < to {
				out = append(out, r)
			}
		}
		return out
	}
	same := func(a, b []record.Record) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Offset != b[i].Offset {
				return false
			}
		}
		return true
	}
	for i := range len(bounds) - 1 {
		g := in(got, bounds[i], bounds[i+1])
		if !same(g, in(old, bounds[i], bounds[i+1])) && !same(g, in(want, bounds[i], bounds[i+1])) {
			t.Fatalf("crash after %d operations: offsets %d-%d are neither as before the clean nor as after it", n, bounds[i], bounds[i+1]-1)
		}
	}
}
