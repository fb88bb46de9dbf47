package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecompressedSizeCapped(t *testing.T) {
	const limit = 1 << 20
	zeros := make([]byte, limit+1)
	type body struct {
		codec Compression
		data  []byte
	}
	bodies := map[string]body{"raw snappy": {CompressionSnappy, s2.EncodeSnappy(nil, zeros)}}
	for _, c := range allCodecs[1:] {
		data, err := compress(c, nil, zeros)
		if err != nil {
			t.Fatal(err)
		}
		bodies[c.String()] = body{c, data}
	}
	// A streaming zstd writer, as Java's producer uses, does not declare
	// the content size up front.
	var stream bytes.Buffer
	zw, err := zstd.NewWriter(&stream, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(zeros)
	zw.Close()
	var h zstd.Header
	if err := h.Decode(stream.Bytes()); err != nil || h.HasFCS {
		t.Fatalf("streamed zstd frame: header %+v, %v; want no content size", h, err)
	}
	bodies["zstd streamed"] = body{CompressionZstd, stream.Bytes()}

	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = decompressLimit(b.codec, nil, b.data, limit) })
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than") {
				t.Fatalf("decompress of %d bytes past a %d-byte cap: %v, want ErrCorrupt", len(zeros), limit, err)
			}
			// Whatever the codec's growth pattern, memory stays within a
			// small multiple of the cap (plus a codec's fixed state).
			if max := uint64(3*limit + 256<<10); n > max {
				t.Fatalf("allocated %d bytes, want at most %d", n, max)
			}
			// One byte less fits.
			got, err := decompressLimit(b.codec, nil, b.data, limit+1)
			if err != nil || len(got) != limit+1 {
				t.Fatalf("at the cap: %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestMaxDecompressedSizeEnforced(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 128 MiB")
	}
	// Gzip members concatenate, so 129 copies of a 1 MiB member are a
	// 129 MiB stream made cheaply.
	member, _ := compress(CompressionGzip, nil, make([]byte, 1<<20))
	var gz []byte
	for range MaxDecompressedSize>>20 + 1 {
		gz = append(gz, member...)
	}
	// A zstd frame of RLE blocks of 128 KiB each: 4 bytes per block.
	rleFrame := func(blocks int) []byte {
		f := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58} // magic, no content size, 2 MiB window
		for i := range blocks {
			bh := uint32(128<<10<<3 | 1<<1) // size, RLE
			if i == blocks-1 {
				bh |= 1 // last
			}
			f = append(f, byte(bh), byte(bh>>8), byte(bh>>16), 'z')
		}
		return f
	}
	if got, err := decompress(CompressionZstd, nil, rleFrame(3)); err != nil || !bytes.Equal(got, bytes.Repeat([]byte("z"), 3<<17)) {
		t.Fatalf("hand-made RLE frame: %d bytes, %v", len(got), err)
	}
	zs := rleFrame(MaxDecompressedSize>>17 + 1)
	for _, tc := range []struct {
		codec Compression
		body  []byte
	}{{CompressionGzip, gz}, {CompressionZstd, zs}} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			b := rawBatch(t, CompressionNone, 1, 0, nil)
			b = append(b, tc.body...)
			binary.BigEndian.PutUint16(b[offAttributes:], uint16(tc.codec))
			setField32(b, offLength, int32(len(b)-LogOverhead))
			var err error
			n := allocated(func() { err = b.Validate() })
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than") {
				t.Fatalf("Validate of a %d-byte batch past the cap: %v, want ErrCorrupt", len(b), err)
			}
			if max := uint64(3 * MaxDecompressedSize); n > max {
				t.Fatalf("allocated %d bytes, want at most %d", n, max)
			}
		})
	}
}

func TestLengthClaimsAreNotTrusted(t *testing.T) {
	zstdFrame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // magic, single segment, 8-byte content size
	zstdFrame = binary.LittleEndian.AppendUint64(zstdFrame, 100<<20)
	zstdFrame = append(zstdFrame, 0x01, 0x00, 0x00, 0xaa) // a raw block of... nothing useful
	rawSnappy := binary.AppendUvarint(nil, 100<<20)
	rawSnappy = append(rawSnappy, 0x00, 'x')
	xerial := append(xerialHeader[:], 0, 0, 0, byte(len(rawSnappy)))
	xerial = append(xerial, rawSnappy...)
	cases := []struct {
		name  string
		codec Compression
		body  []byte
	}{
		{"zstd content size", CompressionZstd, zstdFrame},
		{"raw snappy decoded length", CompressionSnappy, rawSnappy},
		{"xerial block decoded length", CompressionSnappy, xerial},
		{"xerial header cut short", CompressionSnappy, xerialHeader[:12]},
		{"xerial block past the end", CompressionSnappy, append(xerialHeader[:], 0, 0, 1, 0, 1)},
		{"xerial block length cut short", CompressionSnappy, append(xerialHeader[:], 0, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A batch claiming 2^31-1 records must not preallocate them
			// either.
			b := rawBatch(t, CompressionNone, 1<<31-1, 1<<31-1, nil)
			b = append(b[:HeaderSize:HeaderSize], tc.body...)
			binary.BigEndian.PutUint16(b[offAttributes:], uint16(tc.codec))
			setField32(b, offLength, int32(len(b)-LogOverhead))
			var err error
			n := allocated(func() { _, err = b.DecodeRecords() })
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeRecords = %v, want ErrCorrupt", err)
			}
			if n > 1<<20 {
				t.Fatalf("a %d-byte batch made DecodeRecords allocate %d bytes", len(b), n)
			}
		})
	}
}

func TestGzipConcatenatedMembers(t *testing.T) {
	// Several gzip members in a row are one stream (RFC 1952), as Java's
	// GZIPInputStream reads them.
	records := append(rawRecord(0, 0, []byte("a"), []byte("1")), rawRecord(1, 0, []byte("b"), []byte("2"))...)
	split := len(rawRecord(0, 0, []byte("a"), []byte("1")))
	m1, _ := compress(CompressionGzip, nil, records[:split])
	m2, _ := compress(CompressionGzip, nil, records[split:])
	b := rawBatch(t, CompressionNone, 2, 1, nil)
	b = append(b, append(m1, m2...)...)
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(CompressionGzip))
	setField32(b, offLength, int32(len(b)-LogOverhead))
	recs, err := b.DecodeRecords()
	if err != nil || len(recs) != 2 || string(recs[1].Value) != "2" {
		t.Fatalf("DecodeRecords = %d records, %v", len(recs), err)
	}
}

func TestSnappyFraming(t *testing.T) {
	src := bytes.Repeat([]byte("snappy block content "), 5000) // 105 KB: four blocks
	body, err := compress(CompressionSnappy, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body[:16], xerialHeader[:]) {
		t.Fatalf("snappy output starts % x, want the xerial header", body[:16])
	}
	var blocks int
	var out []byte
	for p := body[16:]; len(p) > 0; blocks++ {
		n := binary.BigEndian.Uint32(p)
		block, err := s2.Decode(nil, p[4:4+n])
		if err != nil {
			t.Fatal(err)
		}
		if len(block) > xerialBlockSize {
			t.Fatalf("block %d holds %d bytes, Java's reader expects at most %d", blocks, len(block), xerialBlockSize)
		}
		out = append(out, block...)
		p = p[4+n:]
	}
	if blocks != 4 || !bytes.Equal(out, src) {
		t.Fatalf("%d blocks, content equal %v", blocks, bytes.Equal(out, src))
	}
	// librdkafka and franz-go write raw snappy: read it too.
	got, err := decompress(CompressionSnappy, nil, s2.EncodeSnappy(nil, src))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("raw snappy: %v", err)
	}
	// A xerial stream of no blocks is empty.
	if got, err := decompress(CompressionSnappy, nil, xerialHeader[:]); err != nil || len(got) != 0 {
		t.Fatalf("empty xerial stream: %d bytes, %v", len(got), err)
	}
}

func TestLZ4FrameReadableByJava(t *testing.T) {
	// Kafka's Java reader accepts only LZ4 frame version 1 with
	// independent blocks; 64 KiB blocks are what the Java producer writes.
	var body []byte
	for range 3 { // the writer is pooled: options must survive reuse
		var err error
		if body, err = compress(CompressionLZ4, nil, bytes.Repeat([]byte("lz4 "), 50000)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(body[:4], []byte{0x04, 0x22, 0x4d, 0x18}) {
		t.Fatalf("magic % x", body[:4])
	}
	flg, bd := body[4], body[5]
	if flg>>6 != 1 || flg&0x20 == 0 || flg&0x10 != 0 {
		t.Fatalf("FLG %08b: want version 01, independent blocks, no block checksums", flg)
	}
	if bd>>4&7 != 4 {
		t.Fatalf("BD %08b: want 64 KiB blocks (4)", bd)
	}
}

func TestCodecsLeaveNoGoroutines(t *testing.T) {
	recs := sampleRecords(0, 30, 10)
	before := runtime.NumGoroutine()
	for range 3 {
		for _, c := range allCodecs {
			b := build(t, noProducer(0, c), recs)
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := b.DecodeRecords(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Goroutines of earlier tests may still be ending, so only growth counts.
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

func TestCodecsConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				c := allCodecs[(g+i)%len(allCodecs)]
				recs := sampleRecords(int64(g*1000+i), 1+(g+i)%25, 7)
				bb := NewBuilder(noProducer(recs[0].Offset, c))
				for _, r := range recs {
					bb.Add(r)
				}
				b, err := bb.Build()
				if err == nil {
					err = b.Validate()
				}
				var got []Record
				if err == nil {
					got, err = b.DecodeRecords()
				}
				if err == nil && (len(got) != len(recs) || !bytes.Equal(got[len(got)-1].Value, recs[len(recs)-1].Value)) {
					err = errors.New("records differ")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestZstdFrames(t *testing.T) {
	text := func(n int) []byte {
		var b []byte
		for i := 0; len(b) < n; i++ {
			b = fmt.Appendf(b, "line %d of a log that repeats itself a little, %d\n", i, i*i%977)
		}
		return b[:n]
	}
	one, _ := compress(CompressionZstd, nil, text(1000))
	two, _ := compress(CompressionZstd, nil, text(300_000))
	var stream bytes.Buffer
	zw, err := zstd.NewWriter(&stream, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true), zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(text(700_000))
	zw.Close()
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	cases := []struct {
		name string
		body []byte
		want []byte // nil: must fail
	}{
		{"one frame", one, text(1000)},
		{"two frames", append(append([]byte{}, one...), two...), append(text(1000), text(300_000)...)},
		{"streamed, no content size", stream.Bytes(), text(700_000)},
		{"skippable frame first", append(append([]byte{}, skippable...), one...), text(1000)},
		{"trailing garbage", append(append([]byte{}, one...), 1, 2, 3, 4, 5, 6), nil},
		{"cut short", one[:len(one)-1], nil},
		{"skippable frame cut short", skippable[:9], nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decompress(CompressionZstd, nil, tc.body)
			if tc.want == nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("decompress = %d bytes, %v; want ErrCorrupt", len(got), err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("decompress = %d bytes (want %d), %v", len(got), len(tc.want), err)
			}
			if bound, _ := zstdBound(tc.body, MaxDecompressedSize); bound > len(tc.want)+(128<<10)*(1+len(tc.want)/(128<<10)) {
				t.Fatalf("bound %d for %d bytes is loose", bound, len(tc.want))
			}
		})
	}
}
