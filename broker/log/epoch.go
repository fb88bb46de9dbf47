package log

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// epochCheckpointFile is the leader-epoch cache's file in the partition
// directory.
const epochCheckpointFile = "leader-epoch-checkpoint"

// EpochEntry says that leader epoch Epoch wrote its first batch at
// StartOffset.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is the leader-epoch cache: entries strictly increasing in both
// epoch and start offset. It is plain data; the Log guards it and persists
// it with persistEpochs.
type epochCache struct {
	entries []EpochEntry
}

// assign records that epoch starts at start. It drops entries that would
// no longer be monotonic (an equal or higher epoch, or an equal or later
// start offset), as Kafka's LeaderEpochFileCache does, and reports whether
// anything changed.
func (c *epochCache) assign(epoch int32, start int64) bool {
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if last.Epoch == epoch && last.StartOffset <= start {
			return false
		}
	}
	c.entries = slices.DeleteFunc(c.entries, func(e EpochEntry) bool {
		return e.Epoch >= epoch || e.StartOffset >= start
	})
	c.entries = append(c.entries, EpochEntry{epoch, start})
	return true
}

// truncateFromEnd drops entries starting at or after end (the log was
// truncated to end).
func (c *epochCache) truncateFromEnd(end int64) bool {
	n := len(c.entries)
	c.entries = slices.DeleteFunc(c.entries, func(e EpochEntry) bool { return e.StartOffset >= end })
	return len(c.entries) != n
}

// truncateFromStart drops entries wholly below start (the log start offset
// moved to start). The last such entry survives with its start moved up to
// start, because its epoch still covers the offsets from start on.
func (c *epochCache) truncateFromStart(start int64) bool {
	i := 0
	for i < len(c.entries) && c.entries[i].StartOffset <= start {
		i++
	}
	if i == 0 || (i == 1 && c.entries[0].StartOffset == start) {
		return false
	}
	kept := EpochEntry{c.entries[i-1].Epoch, start}
	c.entries = append([]EpochEntry{kept}, c.entries[i:]...)
	return true
}

// latest returns the newest epoch.
func (c *epochCache) latest() (int32, bool) {
	if len(c.entries) == 0 {
		return -1, false
	}
	return c.entries[len(c.entries)-1].Epoch, true
}

// endOffsetFor answers OffsetForLeaderEpoch for a log whose end offset is
// leo: the largest epoch <= requested and the offset where the epoch after
// it starts (leo for the latest epoch). An unknown or too-new epoch gives
// (-1, -1); an epoch older than every entry gives (requested, first start).
func (c *epochCache) endOffsetFor(epoch int32, leo int64) (int32, int64) {
	if epoch < 0 || len(c.entries) == 0 {
		return -1, -1
	}
	last := c.entries[len(c.entries)-1]
	if epoch == last.Epoch {
		return epoch, leo
	}
	// higher is the first entry with an epoch above the requested one.
	higher := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].Epoch > epoch })
	if higher == len(c.entries) {
		return -1, -1
	}
	if higher == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
}

// writeEpochs persists entries to dir/leader-epoch-checkpoint in Kafka's
// format (version 0, count, "epoch startOffset" lines).
func writeEpochs(fs FS, dir string, entries []EpochEntry) error {
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = strconv.FormatInt(int64(e.Epoch), 10) + " " + strconv.FormatInt(e.StartOffset, 10)
	}
	return writeCheckpointLines(fs, filepath.Join(dir, epochCheckpointFile), lines)
}

// readEpochs reads dir/leader-epoch-checkpoint; a missing file is an empty
// cache. Entries must be strictly increasing in epoch and start offset.
func readEpochs(fs FS, dir string) ([]EpochEntry, error) {
	path := filepath.Join(dir, epochCheckpointFile)
	lines, err := readCheckpointLines(fs, path)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries := make([]EpochEntry, 0, len(lines))
	for i, line := range lines {
		lineNo := i + 3
		f := strings.Split(line, " ")
		if len(f) != 2 {
			return nil, checkpointErr(path, lineNo, "want \"epoch startOffset\", got %q", line)
		}
		ep, err := parseNonNegative(f[0], 32)
		if err != nil {
			return nil, checkpointErr(path, lineNo, "epoch %q: %v", f[0], err)
		}
		off, err := parseNonNegative(f[1], 64)
		if err != nil {
			return nil, checkpointErr(path, lineNo, "start offset %q: %v", f[1], err)
		}
		if n := len(entries); n > 0 && (entries[n-1].Epoch >= int32(ep) || entries[n-1].StartOffset >= off) {
			return nil, checkpointErr(path, lineNo, "entry %d %d does not follow %d %d", ep, off, entries[n-1].Epoch, entries[n-1].StartOffset)
		}
		entries = append(entries, EpochEntry{int32(ep), off})
	}
	return entries, nil
}

// String formats the entry as it appears in the checkpoint file.
func (e EpochEntry) String() string { return fmt.Sprintf("%d %d", e.Epoch, e.StartOffset) }
