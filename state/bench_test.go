package state

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	benchKeyLen   = 16
	benchValueLen = 100
)

func benchKey(i int) []byte {
	k := make([]byte, benchKeyLen)
	binary.BigEndian.PutUint64(k[8:], uint64(i)*0x9e3779b97f4a7c15) // scattered
	return k
}

// BenchmarkKeyValue measures Put and Get on both implementations beside the
// limit for the same bytes: a buffered sequential write to one file.
func BenchmarkKeyValue(b *testing.B) {
	value := make([]byte, benchValueLen)
	for _, im := range impls {
		b.Run("put/"+im.name, func(b *testing.B) {
			s, err := OpenKeyValue(KeyValueConfig{Name: "bench", Dir: filepath.Join(b.TempDir(), "kv"), InMemory: im.inMemory})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(benchKeyLen + benchValueLen)
			b.ResetTimer()
			for i := range b.N {
				if err := s.Put(benchKey(i), value); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("put/rawfile", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		w := bufio.NewWriterSize(f, 64<<10)
		b.SetBytes(benchKeyLen + benchValueLen)
		b.ResetTimer()
		for i := range b.N {
			w.Write(benchKey(i))
			w.Write(value)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	})
	const preload = 100_000
	for _, im := range impls {
		b.Run("get/"+im.name, func(b *testing.B) {
			s, err := OpenKeyValue(KeyValueConfig{Name: "bench", Dir: filepath.Join(b.TempDir(), "kv"), InMemory: im.inMemory})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ents := make([]KeyValue[[]byte, []byte], 0, 1000)
			for i := range preload {
				ents = append(ents, KeyValue[[]byte, []byte]{benchKey(i), value})
				if len(ents) == cap(ents) {
					s.PutAll(ents)
					ents = ents[:0]
				}
			}
			b.SetBytes(benchKeyLen + benchValueLen)
			b.ResetTimer()
			for i := range b.N {
				v, err := s.Get(benchKey(i % preload))
				if err != nil || len(v) != benchValueLen {
					b.Fatalf("get %d: %d bytes, %v", i, len(v), err)
				}
			}
		})
	}
}

// BenchmarkWindowPut measures window puts across segments.
func BenchmarkWindowPut(b *testing.B) {
	value := make([]byte, benchValueLen)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			w, err := OpenWindow(WindowConfig{Name: "bench", Dir: filepath.Join(b.TempDir(), "w"), InMemory: im.inMemory,
				Retention: time.Hour, WindowSize: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			b.SetBytes(benchKeyLen + windowSuffixLen + benchValueLen)
			b.ResetTimer()
			for i := range b.N {
				if err := w.Put(benchKey(i%1000), value, int64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
