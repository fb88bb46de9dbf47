package log

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEpochCacheEndOffsetFor(t *testing.T) {
	c := epochCache{entries: []EpochEntry{{1, 0}, {2, 50}, {5, 80}}}
	const leo = 100
	tests := []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{-1, -1, -1}, // undefined epoch
		{0, 0, 0},    // older than every entry: its end is the first start
		{1, 1, 50},   // ends where epoch 2 starts
		{2, 2, 80},   // ends where epoch 5 starts
		{3, 2, 80},   // unknown epoch between 2 and 5: largest below it
		{4, 2, 80},   //
		{5, 5, leo},  // latest: the log end offset
		{6, -1, -1},  // newer than the latest
		{1 << 30, -1, -1},
	}
	for _, tt := range tests {
		e, end := c.endOffsetFor(tt.epoch, leo)
		if e != tt.wantEpoch || end != tt.wantEnd {
			t.Errorf("endOffsetFor(%d) = %d, %d; want %d, %d", tt.epoch, e, end, tt.wantEpoch, tt.wantEnd)
		}
	}
	var empty epochCache
	if e, end := empty.endOffsetFor(3, leo); e != -1 || end != -1 {
		t.Errorf("empty cache: %d, %d", e, end)
	}
}

func TestEpochCacheAssign(t *testing.T) {
	tests := []struct {
		name    string
		start   []EpochEntry
		epoch   int32
		offset  int64
		changed bool
		want    []EpochEntry
	}{
		{"first", nil, 3, 10, true, []EpochEntry{{3, 10}}},
		{"new epoch", []EpochEntry{{3, 10}}, 4, 20, true, []EpochEntry{{3, 10}, {4, 20}}},
		{"same epoch later offset", []EpochEntry{{3, 10}}, 3, 20, false, []EpochEntry{{3, 10}}},
		{"same epoch earlier offset", []EpochEntry{{3, 10}}, 3, 5, true, []EpochEntry{{3, 5}}},
		{"older epoch drops newer", []EpochEntry{{3, 10}, {4, 20}}, 2, 30, true, []EpochEntry{{2, 30}}},
		{"earlier offset drops later", []EpochEntry{{3, 10}, {4, 20}}, 5, 15, true, []EpochEntry{{3, 10}, {5, 15}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := epochCache{entries: slices.Clone(tt.start)}
			if got := c.assign(tt.epoch, tt.offset); got != tt.changed {
				t.Fatalf("changed = %v, want %v", got, tt.changed)
			}
			if !slices.Equal(c.entries, tt.want) {
				t.Fatalf("entries %v, want %v", c.entries, tt.want)
			}
		})
	}
}

func TestEpochCacheTruncate(t *testing.T) {
	base := []EpochEntry{{1, 0}, {2, 50}, {5, 80}}
	tests := []struct {
		name      string
		fromStart bool
		offset    int64
		want      []EpochEntry
	}{
		{"end inside the last epoch", false, 90, base},
		{"end at an epoch start", false, 80, base[:2]},
		{"end inside an earlier epoch", false, 60, base[:2]},
		{"end at zero", false, 0, nil},
		{"start inside an epoch", true, 60, []EpochEntry{{2, 60}, {5, 80}}},
		{"start at an epoch start", true, 50, []EpochEntry{{2, 50}, {5, 80}}},
		{"start at zero", true, 0, base},
		{"start past the last start", true, 95, []EpochEntry{{5, 95}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := epochCache{entries: slices.Clone(base)}
			if tt.fromStart {
				c.truncateFromStart(tt.offset)
			} else {
				c.truncateFromEnd(tt.offset)
			}
			if !slices.Equal(c.entries, tt.want) {
				t.Fatalf("entries %v, want %v", c.entries, tt.want)
			}
		})
	}
}

func TestEpochPersistence(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{SegmentBytes: 1000}, OpenOptions{})
	for i := range 10 {
		if _, err := l.Append(batch(t, 10, 20, 0), AppendOptions{LeaderEpoch: int32(i / 3)}); err != nil {
			t.Fatal(err)
		}
	}
	want := []EpochEntry{{0, 0}, {1, 30}, {2, 60}, {3, 90}}
	if got := l.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if err := l.AssignEpoch(7, 100); err != nil {
		t.Fatal(err)
	}
	if err := l.AssignEpoch(-1, 100); err == nil {
		t.Fatal("AssignEpoch(-1) accepted")
	}
	if _, err := l.Append(batch(t, 10, 20, 0), AppendOptions{LeaderEpoch: 7}); err != nil {
		t.Fatal(err)
	}
	want = append(want, EpochEntry{7, 100})
	data, err := os.ReadFile(filepath.Join(dir, epochCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, wantText := string(data), "0\n5\n0 0\n1 30\n2 60\n3 90\n7 100\n"; got != wantText {
		t.Fatalf("leader-epoch-checkpoint:\n%s\nwant:\n%s", got, wantText)
	}
	l.Close()

	l2 := mustOpen(t, dir, Config{SegmentBytes: 1000}, OpenOptions{CleanShutdown: true})
	if got := l2.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("after reopen: epochs %v, want %v", got, want)
	}
	if e, end := l2.EndOffsetForEpoch(2); e != 2 || end != 90 {
		t.Fatalf("EndOffsetForEpoch(2) = %d, %d; want 2, 90", e, end)
	}
	if e, end := l2.EndOffsetForEpoch(7); e != 7 || end != 110 {
		t.Fatalf("EndOffsetForEpoch(7) = %d, %d; want 7, 110", e, end)
	}
	// Truncation takes the epochs along, on disk too.
	l2.SetHighWatermark(110)
	if err := l2.Truncate(65); err != nil {
		t.Fatal(err)
	}
	want = []EpochEntry{{0, 0}, {1, 30}, {2, 60}}
	if got := l2.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("after Truncate(65): %v, want %v", got, want)
	}
	if err := l2.DeleteRecordsBefore(40); err != nil {
		t.Fatal(err)
	}
	want = []EpochEntry{{1, 40}, {2, 60}}
	if got := l2.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("after DeleteRecordsBefore(40): %v, want %v", got, want)
	}
	l2.Close()
	got, err := readEpochs(OS(), dir)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("on disk: %v, %v; want %v", got, err, want)
	}
}

func TestEpochsRecoveredFromLog(t *testing.T) {
	// A checkpoint that lags the log (the crash came before it was written)
	// learns the newer epochs from the batches recovery re-reads; one that
	// runs ahead of the recovered log is cut back.
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{}, OpenOptions{})
	for i := range 4 {
		if _, err := l.Append(batch(t, 5, 5, 0), AppendOptions{LeaderEpoch: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	l.closeFilesForTest()
	if err := writeEpochs(OS(), dir, []EpochEntry{{0, 0}, {1, 5}, {9, 500}}); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, dir, Config{}, OpenOptions{})
	defer l2.Close()
	want := []EpochEntry{{0, 0}, {1, 5}}
	if got := l2.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if err := writeEpochs(OS(), dir, []EpochEntry{{0, 0}}); err != nil {
		t.Fatal(err)
	}
	l2.closeFilesForTest()
	l3 := mustOpen(t, dir, Config{}, OpenOptions{})
	defer l3.Close()
	want = []EpochEntry{{0, 0}, {1, 5}, {2, 10}, {3, 15}}
	if got := l3.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
}

func TestCorruptEpochCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, epochCheckpointFile), []byte("0\n2\n1 0\n1 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Config{}, OpenOptions{})
	if !errors.Is(err, ErrCorruptCheckpoint) {
		t.Fatalf("Open = %v, want ErrCorruptCheckpoint", err)
	}
}

func TestEpochAtLogEndDroppedOnReopen(t *testing.T) {
	// As in Kafka, an epoch assigned at the log end offset with no batch
	// behind it does not survive a reopen: the cache is cut to the log.
	dir := t.TempDir()
	l := mustOpen(t, dir, Config{}, OpenOptions{})
	mustAppend(t, l, batch(t, 5, 1, 0))
	if err := l.AssignEpoch(3, 5); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l2 := mustOpen(t, dir, Config{}, OpenOptions{CleanShutdown: true})
	defer l2.Close()
	if got, want := l2.Epochs(), []EpochEntry{{0, 0}}; !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
}
