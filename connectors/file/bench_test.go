package file

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect/connector"
)

// BenchmarkSource reads a 100k-line file of multi-byte UTF-8 text with the
// source task, beside the limit of reading the same lines with a plain
// bufio.Scanner. Compare the lines/s of the two sub-benchmarks.
func BenchmarkSource(b *testing.B) {
	const lines = 100_000
	path := filepath.Join(b.TempDir(), "in.txt")
	var sb strings.Builder
	for i := range lines {
		fmt.Fprintf(&sb, "line %06d: grüße, 日本語, emoji 😀 and some padding text\n", i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	size := int64(sb.Len())

	b.Run("limit=bufio.Scanner", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			n := 0
			for sc.Scan() {
				_ = sc.Text()
				n++
			}
			f.Close()
			if n != lines {
				b.Fatalf("read %d lines", n)
			}
		}
		b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	})

	b.Run("SourceTask.Poll", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			task := NewSourceTask()
			if err := task.Start(&taskContext{}, map[string]string{"file": path, "topic": "t"}); err != nil {
				b.Fatal(err)
			}
			n := 0
			for n < lines {
				recs, err := task.Poll(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				n += len(recs)
			}
			task.Stop()
		}
		b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	})
}

// BenchmarkSink writes 100k lines through the sink task, beside the limit of
// writing the same bytes with a bufio.Writer and one fsync.
func BenchmarkSink(b *testing.B) {
	const lines = 100_000
	recs := make([]connector.SinkRecord, lines)
	size := 0
	for i := range recs {
		v := fmt.Sprintf("line %06d: grüße, 日本語, emoji 😀 and some padding text", i)
		recs[i] = sinkRecord(v)
		size += len(v) + 1
	}
	b.Run("limit=bufio.Writer", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			f, err := os.Create(filepath.Join(b.TempDir(), "out"))
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(f, 256<<10)
			for _, r := range recs {
				w.WriteString(r.Value.(string))
				w.WriteByte('\n')
			}
			w.Flush()
			f.Sync()
			f.Close()
		}
		b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	})
	b.Run("SinkTask.Put", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			task := NewSinkTask()
			if err := task.Start(nil, map[string]string{"file": filepath.Join(b.TempDir(), "out")}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < lines; i += 2000 {
				if err := task.Put(recs[i : i+2000]); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := task.PreCommit(nil); err != nil {
				b.Fatal(err)
			}
			task.Stop()
		}
		b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	})
}
