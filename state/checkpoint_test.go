package state

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointFile)
	got, err := ReadCheckpoint(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	offsets := map[TopicPartition]int64{
		{"app-counts-changelog", 0}: 1042,
		{"app-counts-changelog", 3}: 0,
		{"app-sums-changelog", 1}:   77,
	}
	if err := WriteCheckpoint(path, offsets); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := "0\n3\napp-counts-changelog 0 1042\napp-counts-changelog 3 0\napp-sums-changelog 1 77\n"
	if string(data) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", data, want)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file left behind: %v", err)
	}
	got, err = ReadCheckpoint(path)
	if err != nil || !maps.Equal(got, offsets) {
		t.Fatalf("read back %v, %v", got, err)
	}
	// Overwrite with fewer entries; an empty map leaves the file alone.
	if err := WriteCheckpoint(path, map[TopicPartition]int64{{"t", 0}: 5}); err != nil {
		t.Fatal(err)
	}
	if err := WriteCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadCheckpoint(path); !maps.Equal(got, map[TopicPartition]int64{{"t", 0}: 5}) {
		t.Fatalf("after overwrite: %v", got)
	}
}

func TestParseCheckpoint(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    map[TopicPartition]int64
		wantErr bool
	}{
		{"kafka file", "0\n2\nt 0 10\nu 1 20\n", map[TopicPartition]int64{{"t", 0}: 10, {"u", 1}: 20}, false},
		{"no entries", "0\n0\n", map[TopicPartition]int64{}, false},
		{"no final newline", "0\n1\nt 0 10", map[TopicPartition]int64{{"t", 0}: 10}, false},
		{"crlf and extra spaces", "0\r\n1\r\nt  0\t10\r\n", map[TopicPartition]int64{{"t", 0}: 10}, false},
		{"negative offset skipped", "0\n2\nt 0 -1\nt 1 4\n", map[TopicPartition]int64{{"t", 1}: 4}, false},
		{"empty", "", nil, true},
		{"unknown version", "1\n0\n", nil, true},
		{"missing count", "0\n", nil, true},
		{"count too high", "0\n2\nt 0 1\n", nil, true},
		{"count too low", "0\n0\nt 0 1\n", nil, true},
		{"two fields", "0\n1\nt 0\n", nil, true},
		{"four fields", "0\n1\nt 0 1 2\n", nil, true},
		{"bad partition", "0\n1\nt x 1\n", nil, true},
		{"partition overflow", "0\n1\nt 2147483648 1\n", nil, true},
		{"bad offset", "0\n1\nt 0 1.5\n", nil, true},
		{"duplicate", "0\n2\nt 0 1\nt 0 2\n", nil, true},
		{"blank line", "0\n1\n\nt 0 1\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCheckpoint([]byte(tt.data))
			if tt.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestReadCheckpointNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), CheckpointFile)
	os.WriteFile(path, []byte("0\n5\n"), 0o644)
	_, err := ReadCheckpoint(path)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want ErrFormat naming %s", err, path)
	}
}

func TestFormatCheckpointRejects(t *testing.T) {
	for _, m := range []map[TopicPartition]int64{
		{{"t", 0}: -1},
		{{"a b", 0}: 1},
		{{"", 0}: 1},
		{{"t", -1}: 1},
	} {
		if _, err := FormatCheckpoint(m); !errors.Is(err, ErrFormat) {
			t.Errorf("FormatCheckpoint(%v) err = %v", m, err)
		}
	}
}

// FuzzParseCheckpoint checks that no input panics and that whatever parses
// formats and parses back to the same offsets.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("0\n2\nt 0 10\nu 1 20\n"))
	f.Add([]byte("0\n0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseCheckpoint(data)
		if err != nil {
			return
		}
		out, err := FormatCheckpoint(m)
		if err != nil {
			t.Fatalf("parsed %v from %q but cannot format it: %v", m, data, err)
		}
		m2, err := ParseCheckpoint(out)
		if err != nil || !maps.Equal(m, m2) {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", data, m, out, m2, err)
		}
	})
}
