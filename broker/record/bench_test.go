package record

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchRecords are 1000 JSON-ish events of 100-300 bytes with keys and a
// header, about what an activity-tracking producer batches.
func benchRecords() []Record {
	rng := rand.New(rand.NewPCG(1, 2))
	pages := []string{"/", "/search", "/cart", "/checkout", "/product/1234", "/account"}
	recs := make([]Record, 1000)
	for i := range recs {
		user := rng.IntN(50_000)
		recs[i] = Record{
			Offset:    int64(i),
			Timestamp: 1_700_000_000_000 + int64(i*2+rng.IntN(3)),
			Key:       fmt.Appendf(nil, "user-%d", user),
			Value: fmt.Appendf(nil, `{"user":%d,"page":%q,"referrer":%q,"latency_ms":%d,"session":"%016x","agent":"Mozilla/5.0 (X11; Linux x86_64)"}`,
				user, pages[rng.IntN(len(pages))], pages[rng.IntN(len(pages))], rng.IntN(900), rng.Uint64()),
			Headers: []Header{{Key: "source", Value: []byte("web-frontend")}},
		}
	}
	return recs
}

// BenchmarkDecodeRecords measures DecodeRecords and Validate per codec in
// MB/s of uncompressed record bytes. The "limit" sub-benchmark is the
// codec alone decompressing the same bytes into a reused buffer (a copy
// for none): no decoder of these records can beat it.
func BenchmarkDecodeRecords(b *testing.B) {
	recs := benchRecords()
	raw := build(b, noProducer(0, CompressionNone), recs).Body()
	for _, c := range allCodecs {
		batch := build(b, noProducer(0, c), recs)
		b.Run(c.String(), func(b *testing.B) {
			b.Run("DecodeRecords", func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := batch.DecodeRecords(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(batch))/float64(len(raw)), "size-ratio")
			})
			b.Run("Validate", func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if err := batch.Validate(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("limit", func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				buf := make([]byte, 0, len(raw)+1024)
				for b.Loop() {
					if _, err := decompress(c, buf[:0], batch.Body()); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkBuild measures adding 1000 records and building the batch per
// codec, in MB/s of uncompressed record bytes. The "limit" sub-benchmark
// is the codec alone compressing the same record bytes.
func BenchmarkBuild(b *testing.B) {
	recs := benchRecords()
	raw := build(b, noProducer(0, CompressionNone), recs).Body()
	for _, c := range allCodecs {
		b.Run(c.String(), func(b *testing.B) {
			b.Run("Build", func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					bb := NewBuilder(noProducer(0, c))
					for _, r := range recs {
						bb.Add(r)
					}
					if _, err := bb.Build(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("limit", func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				buf := make([]byte, 0, compressBound(c, len(raw)))
				for b.Loop() {
					if _, err := compress(c, buf[:0], raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
