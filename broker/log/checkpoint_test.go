package log

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "recovery-point-offset-checkpoint")
	for _, entries := range [][]CheckpointEntry{
		nil,
		{{"orders", 0, 0}},
		{{"orders", 0, 1234}, {"orders", 1, 977}, {"__consumer_offsets", 49, 1 << 40}, {"a-b.c_d", 3, 7}},
	} {
		if err := WriteCheckpoint(OS(), path, entries); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCheckpoint(OS(), path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, entries) && !(len(got) == 0 && len(entries) == 0) {
			t.Fatalf("read %v, wrote %v", got, entries)
		}
		if _, err := os.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("temporary file left behind: %v", err)
		}
	}
	data, _ := os.ReadFile(path)
	if want := "0\n4\norders 0 1234\norders 1 977\n__consumer_offsets 49 1099511627776\na-b.c_d 3 7\n"; string(data) != want {
		t.Fatalf("file:\n%q\nwant Kafka's format:\n%q", data, want)
	}
	if err := WriteCheckpoint(OS(), path, []CheckpointEntry{{"bad topic", 0, 1}}); err == nil {
		t.Fatal("wrote a topic with a space")
	}
	if _, err := ReadCheckpoint(OS(), filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestCheckpointMalformed(t *testing.T) {
	tests := []struct {
		name string
		text string
		line string // the error must name this line
	}{
		{"empty", "", "line 1"},
		{"wrong version", "1\n0\n", "line 1"},
		{"version not a number", "x\n0\n", "line 1"},
		{"missing count", "0\n", "line 2"},
		{"negative count", "0\n-1\n", "line 2"},
		{"fewer entries than counted", "0\n2\norders 0 1\n", "line 4"},
		{"more entries than counted", "0\n1\norders 0 1\norders 1 2\n", "line 4"},
		{"two fields", "0\n1\norders 0\n", "line 3"},
		{"four fields", "0\n1\norders 0 1 2\n", "line 3"},
		{"bad partition", "0\n2\norders 0 1\norders x 2\n", "line 4"},
		{"negative offset", "0\n1\norders 0 -5\n", "line 3"},
		{"offset overflow", "0\n1\norders 0 99999999999999999999\n", "line 3"},
		{"partition overflow", "0\n1\norders 2147483648 0\n", "line 3"},
		{"double space", "0\n1\norders  0 1\n", "line 3"},
		{"empty topic", "0\n1\n 0 1\n", "line 3"},
		{"carriage return in topic", "0\n2\norders 0 1\norders\r 1 2\n", "line 4"},
		{"tab in topic", "0\n1\nor\tders 0 1\n", "line 3"},
		{"duplicate", "0\n2\norders 0 1\norders 0 2\n", "line 4"},
		{"unterminated last line", "0\n1\norders 0 1", "line 3"},
		{"windows line endings", "0\r\n0\r\n", "line 1"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "cp")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadCheckpoint(OS(), path)
			if !errors.Is(err, ErrCorruptCheckpoint) {
				t.Fatalf("error %v, want ErrCorruptCheckpoint", err)
			}
			if !strings.Contains(err.Error(), path+" "+tt.line+":") {
				t.Fatalf("error %q does not name %s of %s", err, tt.line, path)
			}
		})
	}
}

func TestCheckpointWriteFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp")
	if err := WriteCheckpoint(OS(), path, []CheckpointEntry{{"t", 0, 1}}); err != nil {
		t.Fatal(err)
	}
	for _, plan := range []struct{ write, sync int }{{1, 0}, {0, 1}} {
		ffs := newFaultFS()
		ffs.set(plan.write, plan.sync, false)
		if err := WriteCheckpoint(ffs, path, []CheckpointEntry{{"t", 0, 2}}); !errors.Is(err, ErrStorage) {
			t.Fatalf("write with failure %+v: %v, want ErrStorage", plan, err)
		}
		got, err := ReadCheckpoint(OS(), path)
		if err != nil || len(got) != 1 || got[0].Offset != 1 {
			t.Fatalf("a failed write damaged the old checkpoint: %v, %v", got, err)
		}
	}
}

// FuzzReadCheckpoint: no panic, and whatever parses writes back to a file
// that parses the same.
func FuzzReadCheckpoint(f *testing.F) {
	f.Add([]byte("0\n2\norders 0 1234\norders 1 977\n"))
	f.Add([]byte("0\n0\n"))
	f.Add([]byte("0\n1\n0 5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cp")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		entries, err := ReadCheckpoint(OS(), path)
		if _, eerr := readEpochs(OS(), dir); eerr != nil && !errors.Is(eerr, ErrCorruptCheckpoint) && !errors.Is(eerr, fs.ErrNotExist) {
			t.Fatalf("readEpochs: unexpected error kind: %v", eerr)
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptCheckpoint) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// An unarmed crashFS: no fsyncs, which would make the fuzzing slow.
		if err := WriteCheckpoint(newCrashFS(), path, entries); err != nil {
			t.Fatalf("rewriting parsed entries: %v", err)
		}
		again, err := ReadCheckpoint(OS(), path)
		if err != nil || !slices.Equal(again, entries) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, entries)
		}
	})
}

// FuzzReadEpochs: the leader-epoch checkpoint parser never panics, only
// accepts strictly increasing entries, and what it accepts writes back to
// a file that reads the same.
func FuzzReadEpochs(f *testing.F) {
	f.Add([]byte("0\n2\n0 0\n3 100\n"))
	f.Add([]byte("0\n1\n5 5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, epochCheckpointFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		entries, err := readEpochs(OS(), dir)
		if err != nil {
			if !errors.Is(err, ErrCorruptCheckpoint) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for i := 1; i < len(entries); i++ {
			if entries[i].Epoch <= entries[i-1].Epoch || entries[i].StartOffset <= entries[i-1].StartOffset {
				t.Fatalf("accepted non-increasing entries %v", entries)
			}
		}
		if err := writeEpochs(newCrashFS(), dir, entries); err != nil {
			t.Fatalf("rewriting parsed entries: %v", err)
		}
		again, err := readEpochs(OS(), dir)
		if err != nil || !slices.Equal(again, entries) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, entries)
		}
	})
}
