package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// txnBatch builds a transactional producer batch of n records.
func txnBatch(t testing.TB, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	return batchWith(t, record.BuilderOptions{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true}, n, 4, 1000)
}

// appendMarker writes a transaction marker as the coordinator does.
func appendMarker(l *Log, pid int64, epoch int16, coordinatorEpoch int32, typ record.ControlType) (AppendInfo, error) {
	return l.Append(record.ControlBatch(pid, epoch, coordinatorEpoch, typ, 2000), AppendOptions{Origin: OriginCoordinator})
}

func mustMarker(t testing.TB, l *Log, pid int64, epoch int16, coordinatorEpoch int32, typ record.ControlType) AppendInfo {
	t.Helper()
	info, err := appendMarker(l, pid, epoch, coordinatorEpoch, typ)
	if err != nil {
		t.Fatalf("%s marker for producer %d: %v", typ, pid, err)
	}
	return info
}

// firstUnstable returns FirstUnstableOffset as one value, -1 for none.
func firstUnstable(l *Log) int64 {
	if f, ok := l.FirstUnstableOffset(); ok {
		return f
	}
	return -1
}

// txnStep is one append of a transaction scenario.
type txnStep struct {
	kind  string // "data" (idempotent), "txn" (transactional), "commit", "abort"
	pid   int64
	epoch int16
	coord int32 // coordinator epoch of a marker
	n     int   // records of a data batch
	want  error
	// fuo is the first unstable offset expected after the step, as an
	// index into the steps (the offset of that step's first record), or
	// -1 for none.
	fuo int
}

func TestTransactionStateRules(t *testing.T) {
	data := func(kind string, pid int64, n, fuo int) txnStep {
		return txnStep{kind: kind, pid: pid, n: n, fuo: fuo}
	}
	mark := func(kind string, pid int64, epoch int16, coord int32, fuo int, want error) txnStep {
		return txnStep{kind: kind, pid: pid, epoch: epoch, coord: coord, fuo: fuo, want: want}
	}
	tests := []struct {
		name  string
		steps []txnStep
		// aborted are the expected index entries: step indexes of the
		// first batch and of the marker, and of the LSO (-1 = marker+1).
		aborted [][3]int
	}{
		{
			name:  "commit ends the transaction",
			steps: []txnStep{data("txn", 1, 2, 0), data("txn", 1, 1, 0), mark("commit", 1, 0, 0, -1, nil)},
		},
		{
			name:    "abort ends it and is indexed",
			steps:   []txnStep{data("txn", 1, 2, 0), mark("abort", 1, 0, 0, -1, nil)},
			aborted: [][3]int{{0, 1, -1}},
		},
		{
			name: "interleaved transactions: the earliest bounds the LSO",
			steps: []txnStep{
				data("txn", 1, 2, 0), data("txn", 2, 1, 0), data("data", 3, 1, 0),
				mark("commit", 1, 0, 0, 1, nil), data("txn", 1, 1, 1), mark("abort", 2, 0, 0, 4, nil), mark("abort", 1, 0, 0, -1, nil),
			},
			aborted: [][3]int{{1, 5, 4}, {4, 6, -1}},
		},
		{
			name:  "a marker without a transaction changes nothing",
			steps: []txnStep{mark("commit", 4, 0, 0, -1, nil), data("txn", 4, 1, 1), mark("abort", 5, 0, 0, 1, nil), mark("commit", 4, 0, 0, -1, nil), mark("commit", 4, 0, 0, -1, nil)},
		},
		{
			name:    "older coordinator epoch is fenced",
			steps:   []txnStep{data("txn", 1, 1, 0), mark("commit", 1, 0, 5, -1, nil), data("txn", 1, 1, 2), mark("abort", 1, 0, 4, 2, ErrCoordinatorFenced), mark("abort", 1, 0, 5, -1, nil)},
			aborted: [][3]int{{2, 4, -1}},
		},
		{
			name:    "older producer epoch is fenced",
			steps:   []txnStep{data("txn", 1, 1, 0), mark("abort", 1, 1, 0, -1, nil), mark("commit", 1, 0, 0, -1, ErrInvalidProducerEpoch)},
			aborted: [][3]int{{0, 1, -1}},
		},
		{
			name:  "a plain batch during the producer's transaction is refused",
			steps: []txnStep{data("txn", 1, 1, 0), {kind: "data", pid: 1, n: 1, fuo: 0, want: ErrInvalidTxnState}, mark("commit", 1, 0, 0, -1, nil), data("data", 1, 1, -1)},
		},
		{
			name:  "plain idempotent batches start nothing",
			steps: []txnStep{data("data", 1, 3, -1), data("data", 2, 1, -1), data("txn", 3, 1, 2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
			defer l.Close()
			offsets := make([]int64, len(tt.steps))
			seqs := map[int64]int32{}
			for i, s := range tt.steps {
				var info AppendInfo
				var err error
				switch s.kind {
				case "data", "txn":
					b := pbatch(t, s.pid, 0, seqs[s.pid], s.n)
					if s.kind == "txn" {
						b = txnBatch(t, s.pid, 0, seqs[s.pid], s.n)
					}
					info, err = l.Append(b, AppendOptions{})
					if err == nil {
						seqs[s.pid] += int32(s.n)
					}
				case "commit":
					info, err = appendMarker(l, s.pid, s.epoch, s.coord, record.ControlCommit)
				case "abort":
					info, err = appendMarker(l, s.pid, s.epoch, s.coord, record.ControlAbort)
				}
				if s.want != nil {
					if !errors.Is(err, s.want) {
						t.Fatalf("step %d: %v, want %v", i, err, s.want)
					}
					offsets[i] = -1
				} else if err != nil {
					t.Fatalf("step %d: %v", i, err)
				} else {
					offsets[i] = info.FirstOffset
				}
				// Ended transactions stay unstable until the high watermark
				// passes their marker.
				l.SetHighWatermark(l.LogEndOffset())
				want := int64(-1)
				if s.fuo >= 0 {
					want = offsets[s.fuo]
				}
				if got := firstUnstable(l); got != want {
					t.Fatalf("step %d: first unstable offset %d, want %d", i, got, want)
				}
			}
			var want []AbortedTxn
			for _, a := range tt.aborted {
				e := AbortedTxn{ProducerID: tt.steps[a[0]].pid, FirstOffset: offsets[a[0]], LastOffset: offsets[a[1]], LastStableOffset: offsets[a[1]] + 1}
				if a[2] >= 0 {
					e.LastStableOffset = offsets[a[2]]
				}
				want = append(want, e)
			}
			if got := l.AbortedTransactions(0, l.LogEndOffset()); !slices.Equal(got, want) {
				t.Fatalf("aborted transactions %+v, want %+v", got, want)
			}
		})
	}
}

// TestEndedTransactionStableOnceReplicated checks that, as in Kafka, a
// transaction a marker ended still holds the first unstable offset back
// until the high watermark passes the marker.
func TestEndedTransactionStableOnceReplicated(t *testing.T) {
	for _, typ := range []record.ControlType{record.ControlCommit, record.ControlAbort} {
		t.Run(typ.String(), func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
			defer l.Close()
			a := mustAppend(t, l, txnBatch(t, 1, 0, 0, 2)).FirstOffset
			b := mustAppend(t, l, txnBatch(t, 2, 0, 0, 1)).FirstOffset
			ma := mustMarker(t, l, 1, 0, 0, typ).FirstOffset
			mb := mustMarker(t, l, 2, 0, 0, typ).FirstOffset
			steps := []struct {
				hw, want int64
			}{
				{0, a},
				{ma, a},     // the marker itself is not replicated yet
				{ma + 1, b}, // a is stable, b's marker is not replicated
				{mb, b},
				{mb + 1, -1}, // both stable
			}
			for _, s := range steps {
				l.SetHighWatermark(s.hw)
				if got := firstUnstable(l); got != s.want {
					t.Fatalf("high watermark %d: first unstable offset %d, want %d", s.hw, got, s.want)
				}
			}
			// The aborted entries' last stable offsets only count the
			// transactions still ongoing at their marker.
			if typ == record.ControlAbort {
				want := []AbortedTxn{
					{ProducerID: 1, FirstOffset: a, LastOffset: ma, LastStableOffset: b},
					{ProducerID: 2, FirstOffset: b, LastOffset: mb, LastStableOffset: mb + 1},
				}
				if got := l.AbortedTransactions(0, l.LogEndOffset()); !slices.Equal(got, want) {
					t.Fatalf("aborted transactions %+v, want %+v", got, want)
				}
			}
		})
	}
}

func TestClientControlBatchRejected(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer l.Close()
	_, err := l.Append(record.ControlBatch(1, 0, 0, record.ControlCommit, 0), AppendOptions{Origin: OriginClient})
	if !errors.Is(err, ErrInvalidRecord) || !bytes.Contains([]byte(err.Error()), []byte("control")) {
		t.Fatalf("client control batch: %v, want an invalid-record error naming control batches", err)
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("the refused batch was written")
	}
}

func TestOpenTransactionDoesNotExpire(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{ProducerIDExpirationMs: 1000}, OpenOptions{})
	defer l.Close()
	mustAppend(t, l, txnBatch(t, 1, 0, 0, 1)) // maxTimestamp 1000
	mustAppend(t, l, pbatch(t, 2, 0, 0, 1))
	if _, err := l.ApplyRetention(time.UnixMilli(5000)); err != nil {
		t.Fatal(err)
	}
	ps := l.Producers()
	if len(ps) != 1 || ps[0].ProducerID != 1 || ps[0].CurrentTxnFirstOffset != 0 {
		t.Fatalf("after expiration: %+v, want producer 1 with its transaction", ps)
	}
	mustMarker(t, l, 1, 0, 0, record.ControlCommit) // timestamp 2000
	if _, err := l.ApplyRetention(time.UnixMilli(5000)); err != nil {
		t.Fatal(err)
	}
	if ps := l.Producers(); len(ps) != 0 {
		t.Fatalf("after the commit: %+v, want none", ps)
	}
}

// abortedLog builds a log over several segments with aborted, committed
// and open transactions; it returns the expected index entries.
func abortedLog(t *testing.T, dir string, cfg Config) (*Log, []AbortedTxn) {
	t.Helper()
	l := mustOpen(t, dir, cfg, OpenOptions{})
	var want []AbortedTxn
	seqs := map[int64]int32{}
	txn := func(pid int64, n int) int64 {
		info := mustAppend(t, l, txnBatch(t, pid, 0, seqs[pid], n))
		seqs[pid] += int32(n)
		return info.FirstOffset
	}
	for round := range 6 {
		a, b := int64(10+round), int64(20+round)
		fa := txn(a, 3)
		fb := txn(b, 2)
		txn(a, 2)
		mustAppend(t, l, batch(t, 2, 10, 0))
		if round%2 == 0 {
			m := mustMarker(t, l, a, 0, 0, record.ControlAbort)
			want = append(want, AbortedTxn{ProducerID: a, FirstOffset: fa, LastOffset: m.FirstOffset, LastStableOffset: fb})
			m = mustMarker(t, l, b, 0, 0, record.ControlAbort)
			want = append(want, AbortedTxn{ProducerID: b, FirstOffset: fb, LastOffset: m.FirstOffset, LastStableOffset: m.FirstOffset + 1})
		} else {
			mustMarker(t, l, b, 0, 0, record.ControlCommit)
			m := mustMarker(t, l, a, 0, 0, record.ControlAbort)
			want = append(want, AbortedTxn{ProducerID: a, FirstOffset: fa, LastOffset: m.FirstOffset, LastStableOffset: m.FirstOffset + 1})
		}
	}
	txn(99, 2) // left open
	l.SetHighWatermark(l.LogEndOffset())
	if l.NumSegments() < 4 {
		t.Fatalf("want several segments, have %d", l.NumSegments())
	}
	return l, want
}

func TestAbortedTransactionsRange(t *testing.T) {
	l, all := abortedLog(t, t.TempDir(), Config{SegmentBytes: 700})
	defer l.Close()
	overlapping := func(from, upper int64) []AbortedTxn {
		var out []AbortedTxn
		for _, e := range all {
			if from < upper && e.LastOffset >= from && e.FirstOffset < upper {
				out = append(out, e)
			}
		}
		return out
	}
	leo := l.LogEndOffset()
	for from := int64(0); from <= leo; from++ {
		for _, upper := range []int64{from, from + 1, from + 5, from + 17, leo} {
			want := overlapping(from, upper)
			got := l.AbortedTransactions(from, upper)
			if !slices.Equal(got, want) {
				t.Fatalf("AbortedTransactions(%d, %d) = %+v, want %+v", from, upper, got, want)
			}
		}
	}
}

// segmentEntries reads every .txnindex file of dir, by segment base.
func segmentEntries(t *testing.T, dir string) map[int64][]AbortedTxn {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]AbortedTxn{}
	for _, e := range entries {
		base, ext, suffix, ok := parseSegmentFileName(e.Name())
		if !ok || ext != txnIndexExt || suffix != "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		list, err := decodeTxnIndex(data)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[base] = list
	}
	return out
}

// checkIndexFiles asserts every entry is in the file of the segment holding
// its marker, in Kafka's 34-byte format.
func checkIndexFiles(t *testing.T, l *Log, want []AbortedTxn) {
	t.Helper()
	files := segmentEntries(t, l.Dir())
	var got []AbortedTxn
	for _, base := range slices.Sorted(maps.Keys(files)) {
		for _, e := range files[base] {
			l.mu.RLock()
			segs := l.segments
			l.mu.RUnlock()
			if s := segs[floorSegment(segs, e.LastOffset)]; s.base != base {
				t.Fatalf("entry %+v is in segment %d's file, its marker in segment %d", e, base, s.base)
			}
		}
		got = append(got, files[base]...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf(".txnindex files hold %+v, want %+v", got, want)
	}
}

func TestTxnIndexFileFormat(t *testing.T) {
	want := AbortedTxn{ProducerID: 0x0102030405060708, FirstOffset: 17, LastOffset: 42, LastStableOffset: 43}
	got := encodeTxnIndex([]AbortedTxn{want})
	exp := []byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 43}
	if !bytes.Equal(got, exp) {
		t.Fatalf("encoded %x, want %x", got, exp)
	}
	dec, err := decodeTxnIndex(exp)
	if err != nil || len(dec) != 1 || dec[0] != want {
		t.Fatalf("decoded %+v %v", dec, err)
	}
}

func TestTxnIndexSurvivesRestart(t *testing.T) {
	tests := []struct {
		name string
		opts func(l *Log) OpenOptions
		// damage changes the directory before the reopen.
		damage func(t *testing.T, dir string)
	}{
		{"clean shutdown", func(*Log) OpenOptions { return OpenOptions{CleanShutdown: true} }, nil},
		{"crash, everything re-read", func(*Log) OpenOptions { return OpenOptions{} }, removeAllSnapshots},
		{"crash, snapshot at the recovery point", func(l *Log) OpenOptions { return OpenOptions{RecoveryPoint: l.segments[2].base} }, nil},
		{"index files lost", func(*Log) OpenOptions { return OpenOptions{} }, func(t *testing.T, dir string) {
			removeAllSnapshots(t, dir)
			removeExt(t, dir, txnIndexExt)
		}},
		{"corrupt index file after a clean shutdown", func(*Log) OpenOptions { return OpenOptions{CleanShutdown: true} }, func(t *testing.T, dir string) {
			for base := range segmentEntries(t, dir) {
				name := filepath.Join(dir, segmentFileName(base, txnIndexExt, ""))
				if err := os.WriteFile(name, []byte("not an index"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{SegmentBytes: 700}
			l, want := abortedLog(t, dir, cfg)
			checkIndexFiles(t, l, want)
			opts := tt.opts(l)
			fuo := firstUnstable(l)
			leo := l.LogEndOffset()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.damage != nil {
				tt.damage(t, dir)
			}
			l = mustOpen(t, dir, cfg, opts)
			defer l.Close()
			if got := l.AbortedTransactions(0, leo); !slices.Equal(got, want) {
				t.Fatalf("after reopening: %+v, want %+v", got, want)
			}
			checkIndexFiles(t, l, want)
			if got := firstUnstable(l); got != fuo {
				t.Fatalf("first unstable offset %d after reopening, want %d", got, fuo)
			}
		})
	}
}

func removeAllSnapshots(t *testing.T, dir string) { t.Helper(); removeExt(t, dir, snapshotExt) }

func removeExt(t *testing.T, dir, ext string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ext {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTxnIndexTruncation(t *testing.T) {
	dir := t.TempDir()
	l, all := abortedLog(t, dir, Config{SegmentBytes: 700})
	defer l.Close()
	for i := len(all) - 1; i >= 0; i-- {
		// Cut at the marker: the transaction becomes ongoing again.
		cut := all[i].LastOffset
		if err := l.Truncate(cut); err != nil {
			t.Fatal(err)
		}
		if got := l.AbortedTransactions(0, cut+1); !slices.Equal(got, all[:i]) {
			t.Fatalf("after truncating to %d: %+v, want %+v", cut, got, all[:i])
		}
		checkIndexFiles(t, l, all[:i])
		if f := firstUnstable(l); f < 0 || f > all[i].FirstOffset {
			t.Fatalf("after truncating to %d: first unstable offset %d, want at most %d", cut, f, all[i].FirstOffset)
		}
	}
	// The aborted transaction can be aborted again, with the same entry.
	e := all[0]
	if err := l.Truncate(e.LastOffset); err != nil {
		t.Fatal(err)
	}
	m := mustMarker(t, l, e.ProducerID, 0, 0, record.ControlAbort)
	if got := l.AbortedTransactions(0, l.LogEndOffset()); len(got) != 1 || got[0].FirstOffset != e.FirstOffset || got[0].LastOffset != m.FirstOffset {
		t.Fatalf("aborted again: %+v, want first offset %d, marker %d", got, e.FirstOffset, m.FirstOffset)
	}
	if err := l.TruncateFullyAndStartAt(1000); err != nil {
		t.Fatal(err)
	}
	if got := l.AbortedTransactions(0, 2000); len(got) != 0 || firstUnstable(l) != -1 || len(segmentEntries(t, dir)) != 0 {
		t.Fatalf("after a full truncation: %+v, first unstable %d", got, firstUnstable(l))
	}
}

func TestTxnIndexRetention(t *testing.T) {
	dir := t.TempDir()
	l, all := abortedLog(t, dir, Config{SegmentBytes: 700, FileDeleteDelayMs: -1})
	defer l.Close()
	l.SetHighWatermark(l.LogEndOffset())
	l.mu.RLock()
	cutBase := l.segments[2].base
	l.mu.RUnlock()
	if err := l.DeleteRecordsBefore(cutBase); err != nil {
		t.Fatal(err)
	}
	var kept []AbortedTxn
	for _, e := range all {
		if e.LastOffset >= cutBase {
			kept = append(kept, e)
		}
	}
	checkIndexFiles(t, l, kept)
	if got := l.AbortedTransactions(cutBase, l.LogEndOffset()); !slices.Equal(got, kept) {
		t.Fatalf("after retention: %+v, want %+v", got, kept)
	}
	// The open transaction started before the log start offset would
	// still bound the LSO, never below the log start.
	if f := firstUnstable(l); f < l.LogStartOffset() {
		t.Fatalf("first unstable offset %d below the log start offset %d", f, l.LogStartOffset())
	}
}

// encodeSnapshotV1 writes ps in the version 1 layout (before transactions).
func encodeSnapshotV1(ps producers) []byte {
	buf := []byte(snapshotMagic)
	buf = binary.BigEndian.AppendUint16(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	list := ps.list()
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(list)))
	for _, p := range list {
		buf = binary.BigEndian.AppendUint64(buf, uint64(p.ProducerID))
		buf = binary.BigEndian.AppendUint16(buf, uint16(p.Epoch))
		buf = binary.BigEndian.AppendUint64(buf, uint64(p.LastTimestamp))
		buf = append(buf, byte(len(p.Batches)))
		for _, b := range p.Batches {
			buf = binary.BigEndian.AppendUint32(buf, uint32(b.FirstSequence))
			buf = binary.BigEndian.AppendUint32(buf, uint32(b.LastSequence))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.FirstOffset))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.LastOffset))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.Timestamp))
		}
	}
	binary.BigEndian.PutUint32(buf[6:], crcOf(buf[10:]))
	return buf
}

func crcOf(b []byte) uint32 {
	return crc32.Checksum(b, snapshotCRC)
}

func TestSnapshotVersion1Loads(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{}, OpenOptions{})
	mustAppend(t, l, pbatch(t, 3, 1, 0, 2))
	mustAppend(t, l, pbatch(t, 4, 0, 5, 1))
	want := l.Producers()
	leo := l.LogEndOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, snapshotFileName(leo))
	if err := os.WriteFile(name, encodeSnapshotV1(producersOf(want)), 0o644); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, Config{}, OpenOptions{CleanShutdown: true})
	defer l.Close()
	got := l.Producers()
	if !equalStates(got, want) {
		t.Fatalf("version 1 snapshot loaded as %+v, want %+v", got, want)
	}
	for _, p := range got {
		if p.CurrentTxnFirstOffset != -1 || p.CoordinatorEpoch != -1 {
			t.Fatalf("version 1 entry %+v has transaction fields", p)
		}
	}
	// The state is used: the next sequence continues, a retry is a duplicate.
	if info, err := l.Append(pbatch(t, 3, 1, 0, 2), AppendOptions{}); err != nil || !info.Duplicate {
		t.Fatalf("retry after loading a version 1 snapshot: %+v %v", info, err)
	}
}

func producersOf(list []ProducerState) producers {
	ps := producers{}
	for _, p := range list {
		ps[p.ProducerID] = p.clone()
	}
	return ps
}

// TestOpenTransactionSurvivesRestart opens a transaction, restarts (with
// a snapshot from the close, and after a crash that re-reads the log), and
// checks the last stable offset is where it was; the marker that then
// arrives ends the transaction that began before the restart.
func TestOpenTransactionSurvivesRestart(t *testing.T) {
	tests := []struct {
		name   string
		opts   OpenOptions
		damage func(t *testing.T, dir string)
	}{
		{"clean shutdown", OpenOptions{CleanShutdown: true}, nil},
		{"crash with a roll snapshot", OpenOptions{RecoveryPoint: 0}, nil},
		{"crash without snapshots", OpenOptions{}, removeAllSnapshots},
	}
	for _, tt := range tests {
		for _, typ := range []record.ControlType{record.ControlCommit, record.ControlAbort} {
			t.Run(tt.name+"/"+typ.String(), func(t *testing.T) {
				dir := t.TempDir()
				cfg := Config{SegmentBytes: 400}
				l := mustOpen(t, dir, cfg, OpenOptions{})
				mustAppend(t, l, batch(t, 3, 10, 0))
				first := mustAppend(t, l, txnBatch(t, 7, 2, 0, 3)).FirstOffset
				for i := range 6 {
					mustAppend(t, l, batch(t, 3, 10, 0))
					mustAppend(t, l, txnBatch(t, 7, 2, int32(3+i), 1))
				}
				if l.NumSegments() < 2 {
					t.Fatalf("want a roll, have %d segments", l.NumSegments())
				}
				if got := firstUnstable(l); got != first {
					t.Fatalf("first unstable offset %d, want %d", got, first)
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if tt.damage != nil {
					tt.damage(t, dir)
				}
				l = mustOpen(t, dir, cfg, tt.opts)
				defer l.Close()
				if got := firstUnstable(l); got != first {
					t.Fatalf("first unstable offset %d after the restart, want %d", got, first)
				}
				m := mustMarker(t, l, 7, 2, 1, typ)
				l.SetHighWatermark(l.LogEndOffset())
				if got := firstUnstable(l); got != -1 {
					t.Fatalf("first unstable offset %d after the marker, want none", got)
				}
				var want []AbortedTxn
				if typ == record.ControlAbort {
					want = []AbortedTxn{{ProducerID: 7, FirstOffset: first, LastOffset: m.FirstOffset, LastStableOffset: m.FirstOffset + 1}}
				}
				if got := l.AbortedTransactions(0, l.LogEndOffset()); !slices.Equal(got, want) {
					t.Fatalf("aborted transactions %+v, want %+v", got, want)
				}
				// The coordinator epoch survived too: an older one is fenced.
				if _, err := appendMarker(l, 7, 2, 0, typ); !errors.Is(err, ErrCoordinatorFenced) {
					t.Fatalf("marker from an older coordinator epoch: %v, want fenced", err)
				}
			})
		}
	}
}

// FuzzDecodeTxnIndex checks that any bytes either decode into entries that
// encode back to the same bytes, or are refused with errCorruptIndex;
// never a panic. Seeds are in testdata/fuzz.
func FuzzDecodeTxnIndex(f *testing.F) {
	f.Add(encodeTxnIndex([]AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 4, LastStableOffset: 5}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decodeTxnIndex(data)
		if err != nil {
			if !errors.Is(err, errCorruptIndex) {
				t.Fatalf("error %v is not errCorruptIndex", err)
			}
			return
		}
		if again := encodeTxnIndex(entries); !bytes.Equal(again, data) {
			t.Fatalf("decoded %x, re-encoded as %x", data, again)
		}
	})
}

// TestCorruptTxnIndexNamesFile checks that loading a damaged index file
// fails with an error naming it (Open then rebuilds it, see
// TestTxnIndexSurvivesRestart).
func TestCorruptTxnIndexNamesFile(t *testing.T) {
	good := encodeTxnIndex([]AbortedTxn{
		{ProducerID: 1, FirstOffset: 0, LastOffset: 4, LastStableOffset: 5},
		{ProducerID: 2, FirstOffset: 3, LastOffset: 9, LastStableOffset: 10},
	})
	tests := []struct {
		name string
		data []byte
	}{
		{"torn entry", good[:len(good)-3]},
		{"bad version", append([]byte{0, 1}, good[2:]...)},
		{"markers out of order", append(slices.Clone(good[txnEntrySize:]), good[:txnEntrySize]...)},
		{"first after last", encodeTxnIndex([]AbortedTxn{{ProducerID: 1, FirstOffset: 9, LastOffset: 4, LastStableOffset: 5}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newSegment(OS(), dir, 0, "", &Config{})
			if err := os.WriteFile(s.path(txnIndexExt), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := s.loadTxnIndex()
			if !errors.Is(err, errCorruptIndex) || !bytes.Contains([]byte(err.Error()), []byte(s.path(txnIndexExt))) {
				t.Fatalf("loading: %v, want a corrupt-index error naming %s", err, s.path(txnIndexExt))
			}
		})
	}
}

// TestTornAbortMarker cuts the last batch, an ABORT marker, at every byte
// position as a crash can leave it, reopens without the clean-shutdown
// marker and checks the transaction: aborted with its index entry when the
// marker survived whole, open again (holding the last stable offset back,
// no entry) when it did not; the marker can then be written again.
func TestTornAbortMarker(t *testing.T) {
	src := t.TempDir()
	cfg := Config{SegmentBytes: 400}
	l := mustOpen(t, src, cfg, OpenOptions{})
	for i := range 8 {
		mustAppend(t, l, batch(t, 2, 10, int64(i)))
	}
	first := mustAppend(t, l, txnBatch(t, 5, 0, 0, 2)).FirstOffset
	mustAppend(t, l, batch(t, 2, 10, 9))
	recoveryPoint := l.LogEndOffset()
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	m := mustMarker(t, l, 5, 0, 0, record.ControlAbort).FirstOffset
	want := []AbortedTxn{{ProducerID: 5, FirstOffset: first, LastOffset: m, LastStableOffset: m + 1}}
	markerSize := int64(len(record.ControlBatch(5, 0, 0, record.ControlAbort, 2000)))
	l.closeFilesForTest()
	lastSeg := lastSegmentFile(t, src)
	size := fileSize(t, filepath.Join(src, lastSeg))
	for cut := int64(0); cut <= markerSize; cut++ {
		dir := copyDir(t, src)
		if err := os.Truncate(filepath.Join(dir, lastSeg), size-cut); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir, cfg, OpenOptions{RecoveryPoint: recoveryPoint})
		l.SetHighWatermark(l.LogEndOffset())
		got := l.AbortedTransactions(0, l.LogEndOffset())
		if cut == 0 {
			if !slices.Equal(got, want) || firstUnstable(l) != -1 {
				l.Close()
				t.Fatalf("whole marker: entries %+v, first unstable %d; want %+v and none", got, firstUnstable(l), want)
			}
			checkIndexFiles(t, l, want)
			l.Close()
			continue
		}
		if len(got) != 0 || firstUnstable(l) != first {
			l.Close()
			t.Fatalf("marker cut by %d bytes: entries %+v, first unstable %d; want none and %d", cut, got, firstUnstable(l), first)
		}
		checkIndexFiles(t, l, nil)
		again := mustMarker(t, l, 5, 0, 0, record.ControlAbort).FirstOffset
		l.SetHighWatermark(l.LogEndOffset())
		if got := l.AbortedTransactions(0, l.LogEndOffset()); len(got) != 1 || got[0].FirstOffset != first || got[0].LastOffset != again || firstUnstable(l) != -1 {
			l.Close()
			t.Fatalf("marker cut by %d bytes, written again: %+v", cut, got)
		}
		l.Close()
	}
}

// BenchmarkReadCommittedBounds measures what a read_committed fetch adds
// to a read_uncommitted one: FirstUnstableOffset and AbortedTransactions
// over a log of 200 segments with an aborted transaction in every fourth.
// Beside them, high-watermark reads HighWatermark, all a read_uncommitted
// fetch asks: the limit.
func BenchmarkReadCommittedBounds(b *testing.B) {
	l := mustOpen(b, b.TempDir(), Config{}, OpenOptions{})
	defer l.Close()
	for i := range 200 {
		pid := int64(i + 1)
		mustAppend(b, l, txnBatch(b, pid, 0, 0, 2))
		typ := record.ControlCommit
		if i%4 == 0 {
			typ = record.ControlAbort
		}
		mustMarker(b, l, pid, 0, 0, typ)
		if err := l.Roll(); err != nil {
			b.Fatal(err)
		}
	}
	mustAppend(b, l, txnBatch(b, 999, 0, 0, 1)) // one open transaction
	l.SetHighWatermark(l.LogEndOffset())
	leo := l.LogEndOffset()
	b.Run("high-watermark", func(b *testing.B) {
		for b.Loop() {
			_ = l.HighWatermark()
		}
	})
	b.Run("first-unstable-offset", func(b *testing.B) {
		for b.Loop() {
			if _, ok := l.FirstUnstableOffset(); !ok {
				b.Fatal("no open transaction")
			}
		}
	})
	for _, tc := range []struct {
		name     string
		from, to int64
	}{{"aborted-near-end", leo - 20, leo}, {"aborted-whole-log", 0, leo}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(l.AbortedTransactions(tc.from, tc.to))
			}
			b.ReportMetric(float64(n), "entries")
		})
	}
}
