package log

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// benchLogBytes is the size of the log BenchmarkClean compacts.
const benchLogBytes = 32 << 20

// compactedTemplate writes a log of about benchLogBytes in 16 KiB batches
// of records with 100-byte values over keys keys (written in turn, so
// each key has benchLogBytes/(keys×~120) versions), rolls it and closes
// it. It returns its directory and the size of its closed segments.
func compactedTemplate(b *testing.B, keys int, codec record.Compression) (string, int64) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "bench-0")
	cfg := Config{Compact: true, SegmentBytes: 8 << 20}
	l := mustOpen(b, dir, cfg, OpenOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]byte, 1<<20) // random: a codec saves little, as on real data
	for i := range values {
		values[i] = byte(rng.Uint32())
	}
	k := 0
	for l.Size() < benchLogBytes {
		bb := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Compression: codec})
		for i := range 130 { // about 16 KiB uncompressed
			v := rng.IntN(len(values) - 100)
			bb.Add(record.Record{Offset: int64(i), Timestamp: int64(k), Key: fmt.Appendf(nil, "key-%08d", k%keys), Value: values[v : v+100]})
			k++
		}
		batch, err := bb.Build()
		if err != nil {
			b.Fatal(err)
		}
		mustAppend(b, l, batch)
	}
	if err := l.Roll(); err != nil {
		b.Fatal(err)
	}
	size := l.Size()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, size
}

// BenchmarkClean compacts a 32 MiB log (8 MiB segments, random 100-byte
// values) from scratch: with
// many versions per key (most records go) and with unique keys (every
// record stays, the most writing). Beside each, raw-read-write reads the
// same segment files sequentially and writes their bytes to new files
// with an fsync per file: the limit for a clean that rewrites all it
// reads. Both report MB/s of log bytes.
func BenchmarkClean(b *testing.B) {
	cases := []struct {
		name  string
		keys  int
		codec record.Compression
	}{
		{"14-versions-per-key", 20_000, record.CompressionNone},
		{"unique-keys", 1 << 30, record.CompressionNone},
		{"14-versions-per-key-lz4", 20_000, record.CompressionLZ4},
	}
	for _, tc := range cases {
		template, size := compactedTemplate(b, tc.keys, tc.codec)
		b.Run(tc.name+"/clean", func(b *testing.B) {
			c, err := NewCleaner(CleanerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			var res CleanResult
			for range b.N {
				b.StopTimer()
				dir := copyDir(b, template)
				l := mustOpen(b, dir, Config{Compact: true, SegmentBytes: 8 << 20, FileDeleteDelayMs: -1}, OpenOptions{CleanShutdown: true})
				l.SetHighWatermark(l.LogEndOffset())
				b.StartTimer()
				if res, err = c.Clean(b.Context(), l, 0, time.Now()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				l.Close()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(res.BytesWritten)/float64(size)*100, "%written")
		})
		b.Run(tc.name+"/raw-read-write", func(b *testing.B) {
			b.SetBytes(size)
			entries, err := os.ReadDir(template)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 256<<10)
			for range b.N {
				b.StopTimer()
				out := b.TempDir()
				b.StartTimer()
				for _, e := range entries {
					if filepath.Ext(e.Name()) != logExt {
						continue
					}
					rawCopy(b, filepath.Join(template, e.Name()), filepath.Join(out, e.Name()), buf)
				}
			}
		})
	}
}

// rawCopy copies the file src to dst with sequential reads and writes and
// fsyncs dst.
func rawCopy(b *testing.B, src, dst string, buf []byte) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, buf); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
