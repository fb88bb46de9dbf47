package log

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// pbatch builds an idempotent producer's batch of n records.
func pbatch(t testing.TB, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	return batchWith(t, record.BuilderOptions{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, n, 4, 1000)
}

// step is one append in a sequence-rule scenario.
type step struct {
	pid    int64
	epoch  int16
	seq    int32
	n      int
	origin Origin
	// want: nil for a new append; an error to match; or dupOf >= 0, the
	// index of the earlier step whose offsets a duplicate answers with.
	want  error
	dupOf int
}

func ok(pid int64, epoch int16, seq int32, n int) step {
	return step{pid: pid, epoch: epoch, seq: seq, n: n, dupOf: -1}
}

func fails(pid int64, epoch int16, seq int32, n int, err error) step {
	s := ok(pid, epoch, seq, n)
	s.want = err
	return s
}

func dup(pid int64, epoch int16, seq int32, n int, of int) step {
	s := ok(pid, epoch, seq, n)
	s.dupOf = of
	return s
}

func TestProducerSequenceRules(t *testing.T) {
	six := []step{ok(7, 0, 0, 1), ok(7, 0, 1, 2), ok(7, 0, 3, 1), ok(7, 0, 4, 3), ok(7, 0, 7, 1), ok(7, 0, 8, 2)}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{ok(7, 0, 0, 3), ok(7, 0, 3, 1), ok(7, 0, 4, 2)}},
		{"duplicate of 1st of last 5", append(slices.Clone(six), dup(7, 0, 1, 2, 1), ok(7, 0, 10, 1))},
		{"duplicate of 2nd of last 5", append(slices.Clone(six), dup(7, 0, 3, 1, 2))},
		{"duplicate of 3rd of last 5", append(slices.Clone(six), dup(7, 0, 4, 3, 3))},
		{"duplicate of 4th of last 5", append(slices.Clone(six), dup(7, 0, 7, 1, 4))},
		{"duplicate of 5th of last 5", append(slices.Clone(six), dup(7, 0, 8, 2, 5))},
		{"older than the last 5", append(slices.Clone(six), fails(7, 0, 0, 1, ErrOutOfOrderSequence))},
		{"gap", []step{ok(7, 0, 0, 2), fails(7, 0, 3, 1, ErrOutOfOrderSequence), ok(7, 0, 2, 1)}},
		{"overlap that is no duplicate", []step{ok(7, 0, 0, 2), fails(7, 0, 1, 2, ErrOutOfOrderSequence)}},
		{"wrap at int32 max", []step{ok(7, 0, math.MaxInt32-1, 2), ok(7, 0, 0, 1), dup(7, 0, math.MaxInt32-1, 2, 0)}},
		{"wrap inside a batch", []step{ok(7, 0, math.MaxInt32, 3), ok(7, 0, 2, 1), fails(7, 0, 0, 1, ErrOutOfOrderSequence)}},
		{"epoch bump starts at 0", []step{ok(7, 0, 0, 5), ok(7, 1, 0, 1), ok(7, 1, 1, 1)}},
		{"epoch bump not at 0", []step{ok(7, 0, 0, 5), fails(7, 1, 5, 1, ErrOutOfOrderSequence)}},
		{"old epoch", []step{ok(7, 2, 0, 1), fails(7, 1, 1, 1, ErrInvalidProducerEpoch), fails(7, 1, 0, 1, ErrInvalidProducerEpoch)}},
		{"old epoch's batch is no duplicate after a bump", []step{ok(7, 0, 0, 1), ok(7, 1, 0, 1), fails(7, 0, 0, 1, ErrInvalidProducerEpoch)}},
		{"unknown producer starts anywhere", []step{ok(7, 3, 42, 1), ok(8, 0, 0, 1), ok(7, 3, 43, 1), fails(8, 0, 2, 1, ErrOutOfOrderSequence)}},
		{"producers are independent", []step{ok(7, 0, 0, 1), ok(8, 0, 10, 1), ok(7, 0, 1, 1), dup(8, 0, 10, 1, 1)}},
		{"no sequence with a producer ID", []step{fails(7, 0, -1, 1, ErrInvalidRecord)}},
		{"replication is not checked", []step{
			ok(7, 0, 0, 1),
			{pid: 7, epoch: 0, seq: 9, n: 1, origin: OriginReplication, dupOf: -1},
			ok(7, 0, 10, 1),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
			defer l.Close()
			infos := make([]AppendInfo, len(tt.steps))
			for i, s := range tt.steps {
				b := pbatch(t, s.pid, s.epoch, s.seq, s.n)
				leo := l.LogEndOffset()
				if s.origin == OriginReplication {
					record.Batch(b).SetBaseOffset(leo)
				}
				info, err := l.Append(b, AppendOptions{Origin: s.origin})
				infos[i] = info
				switch {
				case s.want != nil:
					if !errors.Is(err, s.want) {
						t.Fatalf("step %d: got %v, want %v", i, err, s.want)
					}
					if l.LogEndOffset() != leo {
						t.Fatalf("step %d: a refused batch moved the log end offset from %d to %d", i, leo, l.LogEndOffset())
					}
				case err != nil:
					t.Fatalf("step %d: %v", i, err)
				case s.dupOf >= 0:
					orig := infos[s.dupOf]
					if !info.Duplicate || info.FirstOffset != orig.FirstOffset || info.LastOffset != orig.LastOffset {
						t.Fatalf("step %d: got %+v, want a duplicate of offsets %d-%d", i, info, orig.FirstOffset, orig.LastOffset)
					}
					if l.LogEndOffset() != leo {
						t.Fatalf("step %d: a duplicate was written (log end offset %d -> %d)", i, leo, l.LogEndOffset())
					}
				default:
					if info.Duplicate || info.FirstOffset != leo || info.LastOffset != leo+int64(s.n)-1 {
						t.Fatalf("step %d: got %+v, want offsets %d-%d", i, info, leo, leo+int64(s.n)-1)
					}
				}
			}
		})
	}
}

func TestProducerIDMinusOneUntouched(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{}, OpenOptions{})
	defer l.Close()
	b := batch(t, 2, 4, 1000)
	mustAppend(t, l, b)
	if info := mustAppend(t, l, batch(t, 2, 4, 1000)); info.Duplicate || info.FirstOffset != 2 {
		t.Fatalf("second plain batch: %+v", info)
	}
	if ps := l.Producers(); len(ps) != 0 {
		t.Fatalf("producers = %+v, want none", ps)
	}
}

// fillProducers appends batches of three producers over several segments
// and returns the batches.
func fillProducers(t *testing.T, l *Log) [][]byte {
	t.Helper()
	seqs := map[int64]int32{}
	var all [][]byte
	for i := range 20 {
		pid := int64(i%3 + 1)
		b := batchWith(t, record.BuilderOptions{ProducerID: pid, ProducerEpoch: int16(pid), BaseSequence: seqs[pid]}, i%4+1, 10, int64(1000+i))
		seqs[pid] += int32(i%4 + 1)
		mustAppend(t, l, b)
		all = append(all, b)
	}
	return all
}

func TestProducerSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 400}
	l := mustOpen(t, dir, cfg, OpenOptions{})
	fillProducers(t, l)
	want := l.Producers()
	if len(want) != 3 || l.NumSegments() < 3 {
		t.Fatalf("setup: %d producers, %d segments", len(want), l.NumSegments())
	}
	leo := l.LogEndOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotFileName(leo))); err != nil {
		t.Fatalf("no snapshot at the log end after close: %v", err)
	}
	ps, err := readSnapshot(OS(), dir, leo)
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.list(); !equalStates(got, want) {
		t.Fatalf("snapshot holds %+v, want %+v", got, want)
	}
	for _, opts := range []OpenOptions{{CleanShutdown: true}, {RecoveryPoint: 0}} {
		l := mustOpen(t, dir, cfg, opts)
		if got := l.Producers(); !equalStates(got, want) {
			t.Fatalf("%+v: reopened state %+v, want %+v", opts, got, want)
		}
		l.Close()
	}
}

func equalStates(a, b []ProducerState) bool {
	return slices.EqualFunc(a, b, func(x, y ProducerState) bool {
		return x.ProducerID == y.ProducerID && x.Epoch == y.Epoch && x.LastTimestamp == y.LastTimestamp && slices.Equal(x.Batches, y.Batches)
	})
}

// TestProducerRecoveryTornTail cuts the last batch at every byte, as a
// crash can leave it, and checks the reopened log knows the producers as
// they were before that batch: the next batch of its producer continues
// from there, and a retry of the lost batch is written again, not taken for
// a duplicate.
func TestProducerRecoveryTornTail(t *testing.T) {
	src := t.TempDir()
	cfg := Config{SegmentBytes: 400}
	l := mustOpen(t, src, cfg, OpenOptions{})
	all := fillProducers(t, l)
	last := record.Batch(all[len(all)-1])
	before := l.LogEndOffset() - int64(last.NumRecords())
	segs := l.NumSegments()
	// A snapshot from a roll, at or below the recovery point.
	offs, err := snapshotOffsets(OS(), src)
	if err != nil || len(offs) == 0 {
		t.Fatalf("no roll snapshots: %v %v", offs, err)
	}
	recoveryPoint := offs[len(offs)-1]
	if err := l.Truncate(before); err != nil {
		t.Fatal(err)
	}
	want := l.Producers()
	mustAppend(t, l, all[len(all)-1])
	full := l.Producers()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l2 := mustOpen(t, src, cfg, OpenOptions{CleanShutdown: true}); l2.NumSegments() != segs {
		t.Fatalf("segments changed: %d, want %d", l2.NumSegments(), segs)
	} else {
		l2.Close()
	}
	lastSeg := lastSegmentFile(t, src)
	size := fileSize(t, filepath.Join(src, lastSeg))
	for cut := int64(0); cut <= int64(len(last)); cut++ {
		dir := copyDir(t, src)
		os.Remove(filepath.Join(dir, snapshotFileName(before+int64(last.NumRecords())))) // the close's snapshot: a crash leaves none
		if err := os.Truncate(filepath.Join(dir, lastSeg), size-cut); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir, cfg, OpenOptions{RecoveryPoint: recoveryPoint})
		exp := want
		if cut == 0 {
			exp = full
		}
		if got := l.Producers(); !equalStates(got, exp) {
			l.Close()
			t.Fatalf("cut %d: state %+v, want %+v", cut, got, exp)
		}
		if cut > 0 {
			info, err := l.Append(slices.Clone(all[len(all)-1]), AppendOptions{})
			if err != nil || info.Duplicate || info.FirstOffset != before {
				l.Close()
				t.Fatalf("cut %d: retrying the lost batch: %+v %v", cut, info, err)
			}
		}
		l.Close()
	}
}

func lastSegmentFile(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == logExt {
			last = e.Name()
		}
	}
	return last
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestProducerStateAfterTruncate(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 400}, OpenOptions{})
	defer l.Close()
	var infos []AppendInfo
	for i := range 12 {
		infos = append(infos, mustAppend(t, l, pbatch(t, 5, 0, int32(i), 1)))
	}
	if err := l.Truncate(infos[8].FirstOffset); err != nil {
		t.Fatal(err)
	}
	// Sequence 8 was cut: it is the next one expected, not a duplicate.
	if _, err := l.Append(pbatch(t, 5, 0, 9, 1), AppendOptions{}); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("sequence 9 after truncation: %v, want out of order", err)
	}
	info, err := l.Append(pbatch(t, 5, 0, 8, 1), AppendOptions{})
	if err != nil || info.Duplicate || info.FirstOffset != infos[8].FirstOffset {
		t.Fatalf("sequence 8 after truncation: %+v %v", info, err)
	}
	if info, err := l.Append(pbatch(t, 5, 0, 7, 1), AppendOptions{}); err != nil || !info.Duplicate || info.FirstOffset != infos[7].FirstOffset {
		t.Fatalf("sequence 7 after truncation: %+v %v, want a duplicate at %d", info, err, infos[7].FirstOffset)
	}
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if ps := l.Producers(); len(ps) != 0 {
		t.Fatalf("after a full truncation: %+v", ps)
	}
}

func TestProducerSnapshotsFollowLogStart(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{SegmentBytes: 400, FileDeleteDelayMs: -1}, OpenOptions{})
	defer l.Close()
	fillProducers(t, l)
	l.SetHighWatermark(l.LogEndOffset())
	offs, _ := snapshotOffsets(OS(), dir)
	if len(offs) < 2 {
		t.Fatalf("snapshots %v", offs)
	}
	if err := l.DeleteRecordsBefore(offs[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApplyRetention(time.UnixMilli(0)); err != nil {
		t.Fatal(err)
	}
	after, _ := snapshotOffsets(OS(), dir)
	first := l.LogStartOffset()
	for _, off := range after {
		if off < first {
			t.Fatalf("snapshot %d kept below the first segment %d (%v)", off, first, after)
		}
	}
	if len(after) == 0 {
		t.Fatalf("every snapshot went")
	}
}

func TestProducerExpiration(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{ProducerIDExpirationMs: 1000}, OpenOptions{})
	defer l.Close()
	// Record timestamps are 1000, 1001, …: the batch's maxTimestamp is 1001.
	mustAppend(t, l, pbatch(t, 9, 0, 0, 2))
	mustAppend(t, l, pbatch(t, 10, 0, 0, 1)) // maxTimestamp 1000
	tests := []struct {
		now  int64
		want []int64
	}{
		{1999, []int64{9, 10}},
		{2000, []int64{9}},
		{2001, nil},
	}
	for _, tt := range tests {
		if _, err := l.ApplyRetention(time.UnixMilli(tt.now)); err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, p := range l.Producers() {
			got = append(got, p.ProducerID)
		}
		if !slices.Equal(got, tt.want) {
			t.Fatalf("at %d: producers %v, want %v", tt.now, got, tt.want)
		}
	}
	// Forgotten, producer 9 starts afresh at any sequence.
	if _, err := l.Append(pbatch(t, 9, 0, 17, 1), AppendOptions{}); err != nil {
		t.Fatalf("expired producer: %v", err)
	}
}

func TestProducerExpirationConfig(t *testing.T) {
	if _, err := Open(t.TempDir(), Config{ProducerIDExpirationMs: -5}, OpenOptions{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative producer.id.expiration.ms: %v", err)
	}
}
