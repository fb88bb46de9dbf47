package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkLineFormatParse measures the console producer's line parsing
// beside its limit: copying the same line's bytes once.
func BenchmarkLineFormatParse(b *testing.B) {
	line := "h1:v1,h2:v2\tuser-42\t" + strings.Repeat("x", 200)
	f, err := newLineFormat([]keyValue{{"parse.key", "true"}, {"parse.headers", "true"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if _, err := f.parse(line, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limit-copy", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			_ = []byte(line)
		}
	})
}

// BenchmarkRecordFormatter measures the console consumer's output formatting
// beside its limit: writing the same output bytes to the same buffer.
func BenchmarkRecordFormatter(b *testing.B) {
	f, err := newRecordFormatter([]keyValue{{"print.key", "true"}, {"print.timestamp", "true"}, {"print.partition", "true"}, {"print.offset", "true"}})
	if err != nil {
		b.Fatal(err)
	}
	r := &kgo.Record{Key: []byte("user-42"), Value: bytes.Repeat([]byte("x"), 200), Timestamp: time.UnixMilli(1700000000000), Partition: 3, Offset: 123456}
	var out bytes.Buffer
	if err := f.write(&out, r); err != nil {
		b.Fatal(err)
	}
	want := out.Bytes()
	b.Run("format", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			out.Reset()
			if err := f.write(&out, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limit-write", func(b *testing.B) {
		b.SetBytes(int64(len(want)))
		var sink bytes.Buffer
		for b.Loop() {
			sink.Reset()
			sink.Write(want)
		}
	})
}
