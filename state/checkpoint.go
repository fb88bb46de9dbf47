package state

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// CheckpointFile is the name of the checkpoint file in a task directory.
const CheckpointFile = ".checkpoint"

// StoreDir returns the directory of a store: <state.dir>/<application.id>/<task>/<store>,
// where task is Kafka Streams' task id, <subtopology>_<partition>. The
// task's .checkpoint file lives in the task directory, the store's parent.
func StoreDir(stateDir, applicationID, task, store string) string {
	return filepath.Join(stateDir, applicationID, task, store)
}

// TopicPartition names a changelog partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// ReadCheckpoint reads a checkpoint file: the changelog offset up to which
// each store of a task is restored. A missing file reads as no offsets.
// Entries with negative offsets are skipped, as Kafka Streams does.
func ReadCheckpoint(path string) (map[TopicPartition]int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read checkpoint: %w", ErrStore, err)
	}
	offsets, err := ParseCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return offsets, nil
}

// ParseCheckpoint parses the contents of a checkpoint file in Kafka
// Streams' format (OffsetCheckpoint, version 0):
//
//	0
//	<number of entries>
//	<topic> <partition> <offset>
//	...
func ParseCheckpoint(data []byte) (map[TopicPartition]int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), len(data)+1)
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return strings.TrimSuffix(sc.Text(), "\r"), true
	}
	v, ok := next()
	if !ok {
		return nil, fmt.Errorf("%w: checkpoint: empty file", ErrFormat)
	}
	if version, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || version != 0 {
		return nil, fmt.Errorf("%w: checkpoint: unknown version %q", ErrFormat, v)
	}
	c, ok := next()
	if !ok {
		return nil, fmt.Errorf("%w: checkpoint: file ends before the entry count", ErrFormat)
	}
	expected, err := strconv.Atoi(strings.TrimSpace(c))
	if err != nil || expected < 0 {
		return nil, fmt.Errorf("%w: checkpoint: bad entry count %q", ErrFormat, c)
	}
	offsets := map[TopicPartition]int64{}
	found := 0
	for {
		l, ok := next()
		if !ok {
			break
		}
		f := strings.Fields(l)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: checkpoint line %d: malformed %q", ErrFormat, line, l)
		}
		p, err := strconv.ParseInt(f[1], 10, 32)
		if err != nil || p < 0 {
			return nil, fmt.Errorf("%w: checkpoint line %d: bad partition %q", ErrFormat, line, f[1])
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: checkpoint line %d: bad offset %q", ErrFormat, line, f[2])
		}
		tp := TopicPartition{Topic: f[0], Partition: int32(p)}
		if _, dup := offsets[tp]; dup {
			return nil, fmt.Errorf("%w: checkpoint line %d: %s-%d listed twice", ErrFormat, line, tp.Topic, tp.Partition)
		}
		found++
		if off < 0 {
			continue
		}
		offsets[tp] = off
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: checkpoint: %w", ErrFormat, err)
	}
	if found != expected {
		return nil, fmt.Errorf("%w: checkpoint: expected %d entries, found %d", ErrFormat, expected, found)
	}
	return offsets, nil
}

// FormatCheckpoint returns the checkpoint file contents for offsets, entries
// sorted by topic and partition.
func FormatCheckpoint(offsets map[TopicPartition]int64) ([]byte, error) {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp, off := range offsets {
		if off < 0 {
			return nil, fmt.Errorf("%w: checkpoint: negative offset %d for %s-%d", ErrFormat, off, tp.Topic, tp.Partition)
		}
		if tp.Topic == "" || strings.ContainsFunc(tp.Topic, isSpace) {
			return nil, fmt.Errorf("%w: checkpoint: topic %q is empty or has white space", ErrFormat, tp.Topic)
		}
		if tp.Partition < 0 {
			return nil, fmt.Errorf("%w: checkpoint: negative partition %d of %s", ErrFormat, tp.Partition, tp.Topic)
		}
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "0\n%d\n", len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&buf, "%s %d %d\n", tp.Topic, tp.Partition, offsets[tp])
	}
	return buf.Bytes(), nil
}

// isSpace matches the separators ParseCheckpoint splits on.
func isSpace(r rune) bool { return unicode.IsSpace(r) }

// WriteCheckpoint writes offsets to path atomically: to path.tmp, fsynced,
// then renamed over path, and the directory fsynced. As in Kafka Streams, an
// empty map writes nothing.
func WriteCheckpoint(path string, offsets map[TopicPartition]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	data, err := FormatCheckpoint(offsets)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: write checkpoint: %w", ErrStore, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: write checkpoint: %w", ErrStore, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
