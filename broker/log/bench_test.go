package log

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

const benchKeep = 256 << 20 // bytes kept on disk while a benchmark runs

// benchBatches builds 16 KiB batches of records with valueSize-byte
// values.
func benchBatches(b *testing.B, valueSize int) [][]byte {
	b.Helper()
	perBatch := (16 << 10) / (valueSize + 20)
	out := make([][]byte, 16)
	for i := range out {
		out[i] = batch(b, perBatch, valueSize, int64(i))
	}
	return out
}

// BenchmarkAppend appends 16 KiB batches; beside it, raw-write writes the
// same bytes with sequential os.File.Write calls: the limit for the page
// cache copy Append has to make.
func BenchmarkAppend(b *testing.B) {
	for _, vs := range []struct {
		name string
		size int
	}{{"1KB-records", 1000}, {"100B-records", 100}} {
		batches := benchBatches(b, vs.size)
		size := int64(len(batches[0]))
		b.Run(vs.name+"/log", func(b *testing.B) {
			l := mustOpen(b, b.TempDir(), Config{SegmentBytes: 64 << 20, RetentionBytes: benchKeep, FileDeleteDelayMs: -1}, OpenOptions{})
			defer l.Close()
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := l.Append(batches[i%len(batches)], AppendOptions{}); err != nil {
					b.Fatal(err)
				}
				if i%4096 == 4095 {
					l.SetHighWatermark(l.LogEndOffset())
					if _, err := l.ApplyRetention(time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(l.LogEndOffset())/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(vs.name+"/raw-write", func(b *testing.B) {
			w := newRawWriter(b)
			defer w.close()
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				w.write(batches[i%len(batches)])
			}
		})
	}
}

// BenchmarkAppendFsync appends 1 KB-record batches from parallel producers
// with flush.messages=1, so every append waits for an fsync that the group
// commit shares; beside it, raw-write-fsync does one write and one fsync per
// batch from the same number of goroutines.
func BenchmarkAppendFsync(b *testing.B) {
	batches := benchBatches(b, 1000)
	size := int64(len(batches[0]))
	b.Run("log", func(b *testing.B) {
		l := mustOpen(b, b.TempDir(), Config{SegmentBytes: 64 << 20, FlushMessages: 1}, OpenOptions{})
		defer l.Close()
		b.SetBytes(size)
		b.SetParallelism(4)
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				buf := append([]byte(nil), batches[n.Add(1)%int64(len(batches))]...)
				if _, err := l.Append(buf, AppendOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("raw-write-fsync", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(size)
		b.SetParallelism(4)
		var pos atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p := pos.Add(size) - size
				if _, err := f.WriteAt(batches[0], p); err != nil {
					b.Error(err)
					return
				}
				if err := f.Sync(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRead reads 1 MiB of whole batches per call through a 64 MiB log
// (as a fetch does, copying them out with ReadInto); beside it, raw-read
// reads the same amount with os.File.ReadAt from one file of the same
// bytes, and raw-write writes it.
func BenchmarkRead(b *testing.B) {
	batches := benchBatches(b, 1000)
	const total = 64 << 20
	const fetch = 1 << 20
	l := mustOpen(b, b.TempDir(), Config{SegmentBytes: 16 << 20}, OpenOptions{})
	defer l.Close()
	raw, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	var written int64
	for i := 0; written < total; i++ {
		bt := append([]byte(nil), batches[i%len(batches)]...)
		if _, err := l.Append(bt, AppendOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Write(bt); err != nil {
			b.Fatal(err)
		}
		written += int64(len(bt))
	}
	end := l.LogEndOffset()
	buf := make([]byte, 0, 2*fetch)
	b.Run("log", func(b *testing.B) {
		var read int64
		off := int64(0)
		for b.Loop() {
			res, err := l.Read(off, fetch, math.MaxInt64, true)
			if err != nil {
				b.Fatal(err)
			}
			if buf, err = res.ReadInto(buf[:0]); err != nil {
				b.Fatal(err)
			}
			read += int64(len(buf))
			last, _, _ := record.Next(buf[len(buf)-len(batches[0]):])
			off = last.NextOffset()
			if off >= end {
				off = 0
			}
		}
		b.ReportMetric(float64(read)/float64(b.N), "bytes/read")
		b.SetBytes(read / int64(b.N))
	})
	b.Run("raw-read", func(b *testing.B) {
		b.SetBytes(fetch)
		buf := make([]byte, fetch)
		var pos int64
		for b.Loop() {
			if _, err := raw.ReadAt(buf, pos); err != nil {
				b.Fatal(err)
			}
			pos += fetch
			if pos+fetch > written {
				pos = 0
			}
		}
	})
	b.Run("raw-write", func(b *testing.B) {
		w := newRawWriter(b)
		defer w.close()
		b.SetBytes(fetch)
		chunk := make([]byte, fetch)
		for b.Loop() {
			w.write(chunk)
		}
	})
}

// rawWriter writes sequentially with os.File.Write, starting a new file
// every 64 MiB and keeping at most benchKeep bytes, as the log does.
type rawWriter struct {
	b     *testing.B
	dir   string
	f     *os.File
	n     int64
	files []string
}

func newRawWriter(b *testing.B) *rawWriter {
	w := &rawWriter{b: b, dir: b.TempDir()}
	w.next()
	return w
}

func (w *rawWriter) next() {
	if w.f != nil {
		w.f.Close()
	}
	name := filepath.Join(w.dir, fmt.Sprintf("raw-%d", len(w.files)))
	f, err := os.Create(name)
	if err != nil {
		w.b.Fatal(err)
	}
	w.f, w.n = f, 0
	w.files = append(w.files, name)
	if len(w.files)*(64<<20) > benchKeep {
		os.Remove(w.files[0])
		w.files = w.files[1:]
	}
}

func (w *rawWriter) write(p []byte) {
	if w.n+int64(len(p)) > 64<<20 {
		w.next()
	}
	if _, err := w.f.Write(p); err != nil {
		w.b.Fatal(err)
	}
	w.n += int64(len(p))
}

func (w *rawWriter) close() { w.f.Close() }
