package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/runnel/runnel/broker/record"
)

// batch builds a producer batch of n records with values of valueSize
// bytes, keys "k<i>" and timestamps ts, ts+1, ….
func batch(t testing.TB, n, valueSize int, ts int64) []byte {
	t.Helper()
	return batchWith(t, record.BuilderOptions{}, n, valueSize, ts)
}

func batchWith(t testing.TB, opts record.BuilderOptions, n, valueSize int, ts int64) []byte {
	t.Helper()
	if opts.ProducerID == 0 {
		opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = -1, -1, -1
	}
	if opts.PartitionLeaderEpoch == 0 {
		opts.PartitionLeaderEpoch = -1
	}
	bb := record.NewBuilder(opts)
	for i := range n {
		v := make([]byte, valueSize)
		for j := range v {
			v[j] = byte(i + j)
		}
		bb.Add(record.Record{Offset: opts.BaseOffset + int64(i), Timestamp: ts + int64(i), Key: fmt.Appendf(nil, "k%d", i), Value: v})
	}
	b, err := bb.Build()
	if err != nil {
		t.Fatalf("building batch: %v", err)
	}
	return b
}

// batchTimestamps builds a producer batch with one record per timestamp.
func batchTimestamps(t testing.TB, ts ...int64) []byte {
	t.Helper()
	bb := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	for i, x := range ts {
		bb.Add(record.Record{Offset: int64(i), Timestamp: x, Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", x)})
	}
	b, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOpen(t testing.TB, dir string, cfg Config, opts OpenOptions) *Log {
	t.Helper()
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte) AppendInfo {
	t.Helper()
	info, err := l.Append(b, AppendOptions{})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return info
}

// readAll reads every record from offset from to the log end offset,
// checking that batches come back whole and in offset order.
func readAll(t testing.TB, l *Log, from int64) []record.Record {
	t.Helper()
	var out []record.Record
	off := from
	for off < l.LogEndOffset() {
		res, err := l.Read(off, 64<<10, math.MaxInt64, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if res.Size == 0 {
			t.Fatalf("Read(%d) returned nothing below the log end offset %d", off, l.LogEndOffset())
		}
		buf, err := res.ReadInto(nil)
		if err != nil {
			t.Fatalf("ReadInto: %v", err)
		}
		for len(buf) > 0 {
			b, rest, err := record.Next(buf)
			if err != nil {
				t.Fatalf("Read(%d) returned a partial batch: %v", off, err)
			}
			if err := b.Validate(); err != nil {
				t.Fatalf("Read(%d) returned an invalid batch: %v", off, err)
			}
			recs, err := b.DecodeRecords()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Offset >= off {
					out = append(out, r)
				}
			}
			off = b.NextOffset()
			buf = rest
		}
	}
	return out
}

// checkOffsets asserts recs hold exactly offsets from..to-1 in order.
func checkOffsets(t testing.TB, recs []record.Record, from, to int64) {
	t.Helper()
	if int64(len(recs)) != to-from {
		t.Fatalf("read %d records, want %d (offsets %d..%d)", len(recs), to-from, from, to-1)
	}
	for i, r := range recs {
		if r.Offset != from+int64(i) {
			t.Fatalf("record %d has offset %d, want %d", i, r.Offset, from+int64(i))
		}
	}
}

var errInjected = errors.New("injected I/O error")

// faultFS wraps a file system to fail the Nth write or sync, optionally
// after writing part of the bytes, and to count and block syncs.
type faultFS struct {
	FS
	mu          sync.Mutex
	writes      int
	syncs       int
	logSyncs    int // syncs of .log files
	failWriteAt int // 1-based; 0 never
	failSyncAt  int
	shortWrite  bool
	// syncGate, when set, makes each .log fsync wait for a value.
	syncGate chan struct{}
	synced   *syncedFiles
}

func newFaultFS() *faultFS { return &faultFS{FS: OS()} }

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if s := f.synced; s != nil && filepath.Ext(name) == logExt {
		s.mu.Lock()
		if _, ok := s.size[name]; !ok || flag&os.O_TRUNC != 0 {
			s.size[name] = 0
			if fi, err := file.Stat(); err == nil && flag&os.O_TRUNC == 0 {
				s.size[name] = fi.Size() // existed before: durable
			}
		}
		s.mu.Unlock()
	}
	f.mu.Unlock()
	return &faultFile{File: file, fs: f, name: name}, nil
}

// set changes the injection plan, counting from now.
func (f *faultFS) set(failWriteAt, failSyncAt int, short bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes, f.syncs = 0, 0
	f.failWriteAt, f.failSyncAt, f.shortWrite = failWriteAt, failSyncAt, short
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	fail := f.fs.writes == f.fs.failWriteAt
	short := f.fs.shortWrite
	f.fs.mu.Unlock()
	if fail {
		if short && len(p) > 1 {
			n, _ := f.File.WriteAt(p[:len(p)/2], off)
			return n, errInjected
		}
		return 0, errInjected
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.syncs++
	fail := f.fs.syncs == f.fs.failSyncAt
	isLog := filepath.Ext(f.name) == logExt
	if isLog {
		f.fs.logSyncs++
	}
	gate, synced := f.fs.syncGate, f.fs.synced
	f.fs.mu.Unlock()
	if isLog && gate != nil {
		<-gate
	}
	if fail {
		return errInjected
	}
	var size int64 = -1
	if fi, err := f.File.Stat(); err == nil {
		size = fi.Size()
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	if isLog && synced != nil && size >= 0 {
		synced.mu.Lock()
		synced.size[f.name] = size
		synced.mu.Unlock()
	}
	return nil
}

func (f *faultFS) counts() (writes, syncs, logSyncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, f.syncs, f.logSyncs
}

// syncedFiles records, per .log file, the size at its last fsync, so that
// crash can drop what was never made durable.
type syncedFiles struct {
	mu   sync.Mutex
	size map[string]int64
}

// trackSyncs makes f remember the synced size of every .log file.
func (f *faultFS) trackSyncs() *syncedFiles {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synced = &syncedFiles{size: map[string]int64{}}
	return f.synced
}

// crash cuts every tracked .log file that still exists back to the size it
// had at its last fsync (0 if never synced): the worst an OS crash can do
// to file contents.
func (s *syncedFiles) crash(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, size := range s.size {
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		if fi.Size() > size {
			if err := os.Truncate(name, size); err != nil {
				t.Fatal(err)
			}
		}
	}
}
