// This file holds the batch codecs: compressing a Builder's records and
// decompressing a batch's records, with the decompressed size bounded.

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedSize caps the size one batch's records may decompress to.
// Producers cap a batch at batch.size (16 KiB by default) and a request at
// max.request.size (1 MiB), and brokers cap a stored batch at
// message.max.bytes (about 1 MiB by default), so real batches decompress to
// a few MiB; the cap leaves wide room for topics whose max.message.bytes was
// raised, while a decompression bomb costs at most this much memory. A
// batch past the cap is ErrCorrupt.
const MaxDecompressedSize = 128 << 20

const (
	// snappyMaxRatio bounds how many bytes raw snappy can produce per input
	// byte: the densest element, a 3-byte copy, produces 64 bytes.
	snappyMaxRatio = 22
	// xerialBlockSize is how much uncompressed data one xerial block
	// holds, as Kafka's Java client writes it.
	xerialBlockSize = 32 << 10
	// pooledBufferMax is the largest scratch buffer kept for reuse.
	pooledBufferMax = 1 << 20
)

// xerialHeader opens a xerial-framed snappy stream: the magic
// "\x82SNAPPY\x00", then version 1 and minimum compatible version 1 (the
// Java reader rejects a stream asking for a newer reader).
var xerialHeader = [16]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// tooLarge describes records that decompress past limit bytes.
func tooLarge(limit int) error {
	return fmt.Errorf("records decompress to more than %d bytes", limit)
}

// codecSet holds the codec state worth reusing across batches. zstd encoders
// and decoders are expensive to create and safe for concurrent EncodeAll and
// DecodeAll, so one of each serves the whole process; the stream codecs are
// pooled. It is created on first use and holds no state a caller can
// observe, which is why it is the package's one process-wide value: every
// Batch method and Builder would otherwise need a codec argument.
type codecSet struct {
	zenc    *zstd.Encoder
	zdec    *zstd.Decoder
	zerr    error     // why zenc or zdec could not be made
	gzw     sync.Pool // *gzip.Writer
	gzr     sync.Pool // *gzip.Reader
	lzw     sync.Pool // *lz4.Writer
	lzr     sync.Pool // *lz4.Reader
	scratch sync.Pool // *[]byte, decompression buffers for Validate
}

var codecs = sync.OnceValue(newCodecSet)

func newCodecSet() *codecSet {
	c := &codecSet{}
	// Neither starts goroutines: those serve only the streaming APIs,
	// which Runnel does not use.
	c.zenc, c.zerr = zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithZeroFrames(true),
	)
	if c.zerr == nil {
		c.zdec, c.zerr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(MaxDecompressedSize),
			zstd.WithDecoderMaxWindow(MaxDecompressedSize),
			zstd.WithDecodeAllCapLimit(true),
		)
	}
	c.gzw.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		return w
	}
	c.gzr.New = func() any { return new(gzip.Reader) }
	c.lzw.New = func() any {
		w := lz4.NewWriter(nil)
		// Kafka's Java reader handles only independent blocks, which is
		// all this package's lz4 writes; 64 KiB blocks are what the Java
		// producer uses and keep the writer's buffers small.
		_ = w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ConcurrencyOption(1))
		return w
	}
	c.lzr.New = func() any { return lz4.NewReader(nil) }
	return c
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// compress appends src compressed with c to dst.
//
// Snappy is written with xerial framing, the form Kafka's Java producer and
// the Java broker write: every Kafka client reads it (librdkafka, franz-go,
// sarama, kafka-python and kafkajs all detect the xerial magic and also
// accept raw snappy), and its 32 KiB blocks bound what a reader must hold
// to decode one block.
func compress(c Compression, dst, src []byte) ([]byte, error) {
	cs := codecs()
	switch c {
	case CompressionNone:
		return append(dst, src...), nil
	case CompressionGzip:
		w := cs.gzw.Get().(*gzip.Writer)
		defer cs.gzw.Put(w)
		aw := appendWriter{b: dst}
		w.Reset(&aw)
		if _, err := w.Write(src); err != nil {
			return nil, fmt.Errorf("record: gzip: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("record: gzip: %w", err)
		}
		w.Reset(nil)
		return aw.b, nil
	case CompressionSnappy:
		return appendXerial(dst, src), nil
	case CompressionLZ4:
		w := cs.lzw.Get().(*lz4.Writer)
		defer cs.lzw.Put(w)
		aw := appendWriter{b: dst}
		w.Reset(&aw)
		if _, err := w.Write(src); err != nil {
			return nil, fmt.Errorf("record: lz4: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("record: lz4: %w", err)
		}
		w.Reset(nil)
		return aw.b, nil
	case CompressionZstd:
		if cs.zerr != nil {
			return nil, fmt.Errorf("record: zstd: %w", cs.zerr)
		}
		return cs.zenc.EncodeAll(src, dst), nil
	}
	return nil, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, c)
}

// appendXerial appends src as a xerial-framed snappy stream to dst.
func appendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialHeader[:]...)
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = grow(dst, s2.MaxEncodedLen(n), true)
		block := s2.EncodeSnappy(dst[len(dst):cap(dst)], src[:n])
		binary.BigEndian.PutUint32(dst[at:], uint32(len(block)))
		dst = dst[:len(dst)+len(block)]
		src = src[n:]
	}
	return dst
}

// decompress appends the records of a batch compressed with c to dst
// (usually dst[:0] of a scratch buffer, or nil), appending at most
// MaxDecompressedSize bytes. Every error wraps ErrCorrupt.
func decompress(c Compression, dst, src []byte) ([]byte, error) {
	return decompressLimit(c, dst, src, MaxDecompressedSize)
}

// decompressLimit is decompress with the cap as a parameter.
func decompressLimit(c Compression, dst, src []byte, limit int) ([]byte, error) {
	cs := codecs()
	var (
		out []byte
		err error
	)
	switch c {
	case CompressionNone:
		out = append(dst, src...)
	case CompressionGzip:
		r := cs.gzr.Get().(*gzip.Reader)
		defer cs.gzr.Put(r)
		if err = r.Reset(bytes.NewReader(src)); err == nil {
			out, err = readBounded(dst, r, len(src), limit)
		}
	case CompressionSnappy:
		out, err = decodeSnappy(dst, src, limit)
	case CompressionLZ4:
		r := cs.lzr.Get().(*lz4.Reader)
		defer cs.lzr.Put(r)
		r.Reset(bytes.NewReader(src))
		out, err = readBounded(dst, r, len(src), limit)
		r.Reset(nil)
	case CompressionZstd:
		out, err = decodeZstd(cs, dst, src, limit)
	default:
		return nil, fmt.Errorf("%w: unknown compression codec %d", ErrCorrupt, c)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v records: %w", ErrCorrupt, c, err)
	}
	return out, nil
}

// readBounded reads r to its end, appending to dst, and fails once more
// than limit bytes came out. It grows dst by doubling from a guess based on
// the compressed size, never from a length the stream claims.
func readBounded(dst []byte, r io.Reader, compressedLen, limit int) ([]byte, error) {
	end := len(dst) + limit // the most dst may hold
	if cap(dst)-len(dst) < 512 {
		dst = grow(dst, min(max(4*compressedLen, 512), limit+1), false)
	}
	for {
		if len(dst) == cap(dst) {
			dst = grow(dst, min(cap(dst), end+1-len(dst)), false)
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > end {
			return nil, tooLarge(limit)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeSnappy decodes xerial-framed or raw snappy, appending at most
// limit bytes to dst.
func decodeSnappy(dst, src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialHeader[:8]) {
		n, err := snappyDecodedLen(0, src, limit)
		if err != nil {
			return nil, err
		}
		return decodeSnappyBlock(grow(dst, n, false), src, n)
	}
	if len(src) < len(xerialHeader) {
		return nil, errors.New("xerial header cut short")
	}
	src = src[len(xerialHeader):]
	// Check every block's framing and claim first, so that dst grows
	// once rather than block by block.
	total := 0
	for p := src; len(p) > 0; {
		if len(p) < 4 {
			return nil, fmt.Errorf("xerial block length cut short (%d bytes)", len(p))
		}
		n := binary.BigEndian.Uint32(p)
		p = p[4:]
		if uint64(n) > uint64(len(p)) {
			return nil, fmt.Errorf("xerial block of %d bytes, only %d left", n, len(p))
		}
		l, err := snappyDecodedLen(total, p[:n], limit)
		if err != nil {
			return nil, err
		}
		total += l
		p = p[n:]
	}
	dst = grow(dst, total, false)
	for len(src) > 0 {
		n := binary.BigEndian.Uint32(src)
		block := src[4 : 4+n]
		l, _ := s2.DecodedLen(block)
		var err error
		if dst, err = decodeSnappyBlock(dst, block, l); err != nil {
			return nil, err
		}
		src = src[4+n:]
	}
	return dst, nil
}

// snappyDecodedLen returns the decoded length a raw snappy block claims,
// after checking the claim against what snappy can produce from the block
// and against the room left under limit after used bytes.
func snappyDecodedLen(used int, block []byte, limit int) (int, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return 0, err
	}
	if n > snappyMaxRatio*len(block)+16 {
		return 0, fmt.Errorf("snappy block of %d bytes claims %d decoded bytes", len(block), n)
	}
	if used+n > limit {
		return 0, tooLarge(limit)
	}
	return n, nil
}

// decodeSnappyBlock appends the n bytes raw snappy block decodes to onto
// dst, which has room for them.
func decodeSnappyBlock(dst, block []byte, n int) ([]byte, error) {
	if _, err := s2.Decode(dst[len(dst):len(dst)+n], block); err != nil {
		return nil, err
	}
	return dst[:len(dst)+n], nil
}

// decodeZstd decodes zstd frames into a buffer sized by zstdBound, with
// the decoder held to that buffer (WithDecodeAllCapLimit), so that nothing
// is allocated from a claim the input cannot back and nothing grows while
// decoding.
func decodeZstd(cs *codecSet, dst, src []byte, limit int) ([]byte, error) {
	if cs.zerr != nil {
		return nil, cs.zerr
	}
	bound, err := zstdBound(src, limit)
	if err != nil {
		return nil, err
	}
	// A little slack lets the decoder use its fast copy loops to the end.
	return cs.zdec.DecodeAll(src, grow(dst, bound+64, false))
}

// zstdBound returns an upper bound on the size src decodes to, read from
// its frame and block headers alone: raw and RLE blocks state their size, a
// compressed block produces at most 128 KiB, and a frame's declared content
// size, when smaller, is binding (the decoder fails a frame that outgrows
// it). Every frame must be complete. A bound above limit is an error.
// For real streams the bound exceeds the output by at most a block per
// frame; for any input it is at most 32768 times its size (the densest
// block, RLE, is a 3-byte header and 1 byte that expand to 128 KiB).
func zstdBound(src []byte, limit int) (int, error) {
	const maxBlock = 128 << 10
	var total uint64
	for len(src) > 0 {
		var h zstd.Header
		if err := h.Decode(src); err != nil {
			return 0, err
		}
		if h.Skippable {
			n := uint64(h.HeaderSize) + uint64(h.SkippableSize)
			if n > uint64(len(src)) {
				return 0, errors.New("zstd skippable frame cut short")
			}
			src = src[n:]
			continue
		}
		p := src[h.HeaderSize:]
		var frame uint64
		for last := false; !last; {
			if len(p) < 3 {
				return 0, errors.New("zstd block header cut short")
			}
			bh := uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16
			p = p[3:]
			last = bh&1 == 1
			size := uint64(bh >> 3)
			switch bh >> 1 & 3 {
			case 0: // raw
				if size > uint64(len(p)) {
					return 0, errors.New("zstd raw block cut short")
				}
				frame += size
				p = p[size:]
			case 1: // RLE: one byte repeated size times
				if len(p) < 1 {
					return 0, errors.New("zstd RLE block cut short")
				}
				frame += size
				p = p[1:]
			case 2: // compressed
				if size > uint64(len(p)) {
					return 0, errors.New("zstd compressed block cut short")
				}
				frame += maxBlock
				p = p[size:]
			default:
				return 0, errors.New("zstd reserved block type")
			}
			if frame > uint64(limit) && (!h.HasFCS || h.FrameContentSize > uint64(limit)) {
				return 0, tooLarge(limit)
			}
		}
		if h.HasCheckSum {
			if len(p) < 4 {
				return 0, errors.New("zstd checksum cut short")
			}
			p = p[4:]
		}
		if h.HasFCS {
			frame = min(frame, h.FrameContentSize)
		}
		if total += frame; total > uint64(limit) {
			return 0, tooLarge(limit)
		}
		src = p
	}
	return int(total), nil
}

// grow returns b with room for n more bytes. Unless double is set it
// allocates exactly that much: the callers that know their final size, or
// grow in their own doubling steps, should not pay for append's rounding
// or, under the race detector, for a temporary as large as the growth.
func grow(b []byte, n int, double bool) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := len(b) + n
	if double {
		c = max(c, 2*cap(b))
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// getScratch returns a reusable buffer for data that does not outlive a
// call; putScratch gives it back.
func getScratch() *[]byte {
	if p, ok := codecs().scratch.Get().(*[]byte); ok {
		return p
	}
	return new([]byte)
}

func putScratch(p *[]byte, used []byte) {
	if cap(used) > pooledBufferMax {
		return
	}
	*p = used[:0]
	codecs().scratch.Put(p)
}
