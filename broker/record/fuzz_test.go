package record

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seeds in testdata/fuzz")

// FuzzNext splits arbitrary bytes into batches and runs every check and
// decoder on each: none may panic, every error must wrap a package
// sentinel, and whatever decodes must re-encode to the same records. An
// input whose framed batches have wrong CRCs is also tried with the CRCs
// made right, so that mutated header fields get past the CRC check.
func FuzzNext(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkBatches(t, data)
		if fixed := fixCRCs(data); !bytes.Equal(fixed, data) {
			checkBatches(t, fixed)
		}
	})
}

// fixCRCs returns a copy of data with the CRC of every batch it frames (up
// to the first one that does not fit) recomputed.
func fixCRCs(data []byte) []byte {
	out := bytes.Clone(data)
	for rest := out; len(rest) >= HeaderSize; {
		size := int64(Batch(rest).Length()) + LogOverhead
		if size < HeaderSize || size > int64(len(rest)) {
			break
		}
		Batch(rest[:size]).UpdateCRC()
		rest = rest[size:]
	}
	return out
}

// checkBatches splits data with Next and runs checkBatch on each batch.
func checkBatches(t *testing.T, data []byte) {
	t.Helper()
	for len(data) > 0 {
		b, rest, err := Next(data)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) {
				t.Fatalf("Next: unexpected error %v", err)
			}
			return
		}
		if len(rest) >= len(data) || len(b)+len(rest) != len(data) {
			t.Fatalf("Next took %d bytes of %d, left %d", len(b), len(data), len(rest))
		}
		checkBatch(t, b)
		data = rest
	}
}

// FuzzDecodeRecords runs the checks and decoders over arbitrary record
// sections behind a well-formed header (right length and CRC), so the
// fuzzer spends its time in the codecs and the record parser.
func FuzzDecodeRecords(f *testing.F) {
	f.Fuzz(func(t *testing.T, attrs int16, count, lastDelta int32, records []byte) {
		b := make(Batch, HeaderSize, HeaderSize+len(records))
		b = append(b, records...)
		writeHeader(b, header{
			baseOffset: 1000, leaderEpoch: 1, attrs: Attributes(attrs), lastOffsetDelta: lastDelta,
			firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_100,
			producerID: 5, producerEpoch: 1, baseSequence: 0, count: count,
		})
		if err := b.ValidateHeader(); err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateHeader: unexpected error %v", err)
			}
		}
		checkBatch(t, b)
	})
}

// checkBatch runs Validate, ValidateProduced and DecodeRecords on b and
// checks that they agree with each other and that decoded records obey
// the rules Validate promises.
func checkBatch(t *testing.T, b Batch) {
	sentinel := func(name string, err error) {
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrBadMagic) {
			t.Fatalf("%s: error %v wraps no sentinel", name, err)
		}
	}
	verr := b.Validate()
	sentinel("Validate", verr)
	perr := b.ValidateProduced()
	sentinel("ValidateProduced", perr)
	recs, derr := b.DecodeRecords()
	sentinel("DecodeRecords", derr)
	if perr == nil && verr != nil {
		t.Fatalf("ValidateProduced passed, Validate failed: %v", verr)
	}
	if verr == nil && derr != nil {
		t.Fatalf("Validate passed, DecodeRecords failed: %v", derr)
	}
	if derr != nil {
		return
	}
	if len(recs) != int(b.NumRecords()) {
		t.Fatalf("%d records, header says %d", len(recs), b.NumRecords())
	}
	for i, r := range recs {
		d := r.Offset - b.BaseOffset()
		if d < 0 || d > int64(b.LastOffsetDelta()) || (i > 0 && r.Offset <= recs[i-1].Offset) {
			if b.BaseOffset() <= math.MaxInt64-math.MaxInt32 { // else offsets wrap
				t.Fatalf("record %d at offset %d breaks the offset rules", i, r.Offset)
			}
		}
		if perr == nil && d != int64(i) {
			t.Fatalf("ValidateProduced passed with record %d at delta %d", i, d)
		}
	}
	if len(recs) == 0 || b.BaseOffset() > math.MaxInt64-math.MaxInt32 {
		return
	}
	// Re-encoding what was decoded gives the same records back.
	opts := BuilderOptions{
		BaseOffset: b.BaseOffset(), PartitionLeaderEpoch: b.PartitionLeaderEpoch(),
		LogAppendTime: b.Attributes().LogAppendTime(), ProducerID: b.ProducerID(),
		ProducerEpoch: b.ProducerEpoch(), BaseSequence: b.BaseSequence(),
	}
	again := build(t, opts, recs)
	recs2, err := again.DecodeRecords()
	if err != nil {
		t.Fatalf("re-encoded batch: %v", err)
	}
	equalRecords(t, recs2, recs)
}

// seedBatches are the FuzzNext seeds: batches of every codec and kind.
func seedBatches(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, c := range allCodecs {
		opts := BuilderOptions{BaseOffset: 10, PartitionLeaderEpoch: 2, Compression: c, ProducerID: 7, ProducerEpoch: 1, BaseSequence: 3}
		b := build(t, opts, sampleRecords(10, 4, 0))
		seeds["batch-"+c.String()] = b
		two := append(append([]byte{}, b...), build(t, noProducer(14, c), sampleRecords(14, 2, 0))...)
		seeds["two-batches-"+c.String()] = two
		py, err := os.ReadFile(filepath.Join("testdata", "golden", "kafka-python-"+c.String()+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if c != CompressionNone { // the uncompressed file is 68 KB
			seeds["kafka-python-"+c.String()] = py
		}
	}
	opts := noProducer(0, CompressionNone)
	opts.LogAppendTime, opts.DeleteHorizon = true, 1_600_000_000_000
	seeds["log-append-time"] = build(t, opts, sampleRecords(0, 3, 0))
	ctl := ControlBatch(7, 1, 4, ControlCommit, 1_700_000_000_000)
	seeds["control"] = ctl
	seeds["empty"] = EmptyBatch(seeds["batch-zstd"])
	seeds["torn"] = append(append([]byte{}, ctl...), seeds["batch-gzip"][:70]...)
	return seeds
}

// seedRecordSections are the FuzzDecodeRecords seeds: the record section
// of a batch of every codec, with its attributes, count and lastOffsetDelta.
func seedRecordSections(t testing.TB) map[string][]any {
	seeds := map[string][]any{}
	for name, buf := range seedBatches(t) {
		if !strings.HasPrefix(name, "batch-") && name != "control" && name != "empty" && name != "log-append-time" {
			continue
		}
		b := Batch(buf)
		seeds[name] = []any{int16(b.Attributes()), b.NumRecords(), b.LastOffsetDelta(), []byte(b.Body())}
	}
	return seeds
}

func writeSeed(t *testing.T, fuzzer, name string, values ...any) {
	var s strings.Builder
	s.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&s, "[]byte(%s)\n", strconv.Quote(string(v)))
		case int16:
			fmt.Fprintf(&s, "int16(%d)\n", v)
		case int32:
			fmt.Fprintf(&s, "int32(%d)\n", v)
		default:
			t.Fatalf("seed value of type %T", v)
		}
	}
	dir := filepath.Join("testdata", "fuzz", fuzzer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFuzzSeeds checks that the checked-in seeds cover every codec (and
// rewrites them with -update-seeds).
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		for name, b := range seedBatches(t) {
			writeSeed(t, "FuzzNext", name, b)
		}
		for name, v := range seedRecordSections(t) {
			writeSeed(t, "FuzzDecodeRecords", name, v...)
		}
	}
	for _, fuzzer := range []string{"FuzzNext", "FuzzDecodeRecords"} {
		entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", fuzzer))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, e := range entries {
			names[e.Name()] = true
		}
		for _, c := range allCodecs {
			if !names["batch-"+c.String()] {
				t.Errorf("%s has no seed batch-%s", fuzzer, c)
			}
		}
	}
}
