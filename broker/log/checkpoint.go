package log

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CheckpointEntry is one line of a partition checkpoint file: the offset
// recorded for one topic partition.
type CheckpointEntry struct {
	Topic     string
	Partition int32
	Offset    int64
}

// checkpointVersion is the only version line Kafka writes.
const checkpointVersion = 0

// maxCheckpointBytes bounds how much of a checkpoint file is read, so that
// a corrupt or foreign file cannot exhaust memory.
const maxCheckpointBytes = 64 << 20

// WriteCheckpoint replaces the checkpoint file at path with entries in
// Kafka's text format (used for recovery-point-offset-checkpoint,
// log-start-offset-checkpoint and replication-offset-checkpoint):
//
//	0                      version
//	2                      number of entries
//	orders 0 1234          topic, partition, offset
//	orders 1 977
//
// The write is atomic: the lines go to path.tmp, which is fsynced and
// renamed over path, and then the directory is fsynced. A reader sees the
// old file or the new one, never a mix.
func WriteCheckpoint(fs FS, path string, entries []CheckpointEntry) error {
	lines := make([]string, len(entries))
	for i, e := range entries {
		if !checkpointTopic(e.Topic) || e.Partition < 0 || e.Offset < 0 {
			return fmt.Errorf("%w: %s: entry %d (%q %d %d) cannot be written", ErrCorruptCheckpoint, path, i, e.Topic, e.Partition, e.Offset)
		}
		lines[i] = e.Topic + " " + strconv.FormatInt(int64(e.Partition), 10) + " " + strconv.FormatInt(e.Offset, 10)
	}
	return writeCheckpointLines(fs, path, lines)
}

// ReadCheckpoint reads a checkpoint file written by WriteCheckpoint (or by
// Kafka). It is strict: a wrong version, a count that disagrees with the
// lines, a malformed or duplicate entry, or trailing content is an error
// wrapping ErrCorruptCheckpoint that names the file and line. A missing
// file is an error satisfying errors.Is(err, fs.ErrNotExist).
func ReadCheckpoint(fs FS, path string) ([]CheckpointEntry, error) {
	lines, err := readCheckpointLines(fs, path)
	if err != nil {
		return nil, err
	}
	type key struct {
		topic     string
		partition int32
	}
	seen := make(map[key]bool, len(lines))
	entries := make([]CheckpointEntry, 0, len(lines))
	for i, line := range lines {
		lineNo := i + 3
		f := strings.Split(line, " ")
		if len(f) != 3 {
			return nil, checkpointErr(path, lineNo, "want \"topic partition offset\", got %q", line)
		}
		if !checkpointTopic(f[0]) {
			return nil, checkpointErr(path, lineNo, "topic %q", f[0])
		}
		p, err := parseNonNegative(f[1], 32)
		if err != nil {
			return nil, checkpointErr(path, lineNo, "partition %q: %v", f[1], err)
		}
		off, err := parseNonNegative(f[2], 64)
		if err != nil {
			return nil, checkpointErr(path, lineNo, "offset %q: %v", f[2], err)
		}
		k := key{f[0], int32(p)}
		if seen[k] {
			return nil, checkpointErr(path, lineNo, "duplicate entry for %s-%d", k.topic, k.partition)
		}
		seen[k] = true
		entries = append(entries, CheckpointEntry{Topic: f[0], Partition: int32(p), Offset: off})
	}
	return entries, nil
}

// checkpointTopic reports whether a topic name can stand in a checkpoint
// line: not empty and without whitespace, so that WriteCheckpoint can write
// whatever ReadCheckpoint accepts.
func checkpointTopic(topic string) bool {
	return topic != "" && !strings.ContainsAny(topic, " \t\r\n\v\f")
}

func checkpointErr(path string, line int, format string, args ...any) error {
	return fmt.Errorf("%w: %s line %d: %s", ErrCorruptCheckpoint, path, line, fmt.Sprintf(format, args...))
}

// parseNonNegative parses a plain decimal number (no sign, no spaces).
func parseNonNegative(s string, bits int) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a non-negative decimal number")
	}
	return strconv.ParseInt(s, 10, bits)
}

// writeCheckpointLines atomically writes the version line, the count line
// and lines.
func writeCheckpointLines(fs FS, path string, lines []string) error {
	var b strings.Builder
	b.WriteString(strconv.Itoa(checkpointVersion))
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(len(lines)))
	b.WriteByte('\n')
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	tmp := path + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: checkpoint %s: %w", ErrStorage, path, err)
	}
	_, err = f.WriteAt([]byte(b.String()), 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, path)
	}
	if err == nil {
		err = fs.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = fs.Remove(tmp)
		return fmt.Errorf("%w: checkpoint %s: %w", ErrStorage, path, err)
	}
	return nil
}

// readCheckpointLines reads a checkpoint file and returns its entry lines
// after checking the version and count lines.
func readCheckpointLines(fs FS, path string) ([]string, error) {
	f, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("log: checkpoint %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, 0, maxCheckpointBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint %s: %w", ErrStorage, path, err)
	}
	if len(data) > maxCheckpointBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorruptCheckpoint, path, maxCheckpointBytes)
	}
	text := string(data)
	if text == "" {
		return nil, checkpointErr(path, 1, "empty file, want a version line")
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, checkpointErr(path, strings.Count(text, "\n")+1, "last line is not terminated (torn write?)")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	v, err := parseNonNegative(lines[0], 32)
	if err != nil || v != checkpointVersion {
		return nil, checkpointErr(path, 1, "version %q, want %d", lines[0], checkpointVersion)
	}
	if len(lines) < 2 {
		return nil, checkpointErr(path, 2, "missing entry count")
	}
	n, err := parseNonNegative(lines[1], 32)
	if err != nil {
		return nil, checkpointErr(path, 2, "entry count %q: %v", lines[1], err)
	}
	got := len(lines) - 2
	if int64(got) < n {
		return nil, checkpointErr(path, len(lines)+1, "file ends after %d of %d entries", got, n)
	}
	if int64(got) > n {
		return nil, checkpointErr(path, int(n)+3, "content after the %d entries the count line announces", n)
	}
	return lines[2:], nil
}
