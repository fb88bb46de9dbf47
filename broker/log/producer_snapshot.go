package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Producer-state snapshot files (see the package documentation for the
// layout).
const (
	snapshotExt   = ".snapshot"
	snapshotMagic = "RNPS"
	// snapshotVersion is the version written. Version 1 (before
	// transactions) lacks the transaction fields and still loads.
	snapshotVersion = 2
	// snapshotHeader is magic, version, CRC and producer count.
	snapshotHeader = 4 + 2 + 4 + 4
	// snapshotEntryFixedV1 is the part of a version 1 entry before its
	// batches; version 2 adds currentTxnFirstOffset and coordinatorEpoch.
	snapshotEntryFixedV1 = 8 + 2 + 8 + 1
	snapshotEntryFixed   = 8 + 2 + 8 + 8 + 4 + 1
	snapshotBatchSize    = 4 + 4 + 8 + 8 + 8
)

var snapshotCRC = crc32.MakeTable(crc32.Castagnoli)

// snapshotFileName is the name of the snapshot of the state before offset.
func snapshotFileName(offset int64) string {
	return fmt.Sprintf("%020d%s", offset, snapshotExt)
}

// parseSnapshotFileName returns the offset of a snapshot file name.
func parseSnapshotFileName(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, snapshotExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// encodeSnapshot serializes ps in the snapshot format.
func encodeSnapshot(ps producers) []byte {
	list := ps.list()
	size := snapshotHeader
	for _, p := range list {
		size += snapshotEntryFixed + len(p.Batches)*snapshotBatchSize
	}
	buf := make([]byte, 0, size)
	buf = append(buf, snapshotMagic...)
	buf = binary.BigEndian.AppendUint16(buf, snapshotVersion)
	buf = binary.BigEndian.AppendUint32(buf, 0) // CRC, filled in below
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(list)))
	for _, p := range list {
		buf = binary.BigEndian.AppendUint64(buf, uint64(p.ProducerID))
		buf = binary.BigEndian.AppendUint16(buf, uint16(p.Epoch))
		buf = binary.BigEndian.AppendUint64(buf, uint64(p.LastTimestamp))
		buf = binary.BigEndian.AppendUint64(buf, uint64(p.CurrentTxnFirstOffset))
		buf = binary.BigEndian.AppendUint32(buf, uint32(p.CoordinatorEpoch))
		buf = append(buf, byte(len(p.Batches)))
		for _, b := range p.Batches {
			buf = binary.BigEndian.AppendUint32(buf, uint32(b.FirstSequence))
			buf = binary.BigEndian.AppendUint32(buf, uint32(b.LastSequence))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.FirstOffset))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.LastOffset))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.Timestamp))
		}
	}
	binary.BigEndian.PutUint32(buf[6:], crc32.Checksum(buf[10:], snapshotCRC))
	return buf
}

// decodeSnapshot parses a snapshot of version 1 or 2; any inconsistency
// (size, CRC, counts, producers not in increasing ID order as they are
// written, batches out of order, transaction fields out of range) is
// ErrCorruptCheckpoint. Version 1 entries have no transaction
// ongoing and no coordinator epoch.
func decodeSnapshot(data []byte) (producers, error) {
	bad := func(format string, args ...any) (producers, error) {
		return nil, fmt.Errorf("%w: producer snapshot: %s", ErrCorruptCheckpoint, fmt.Sprintf(format, args...))
	}
	if len(data) < snapshotHeader || string(data[:4]) != snapshotMagic {
		return bad("no snapshot header")
	}
	version := binary.BigEndian.Uint16(data[4:])
	fixed := snapshotEntryFixed
	switch version {
	case 1:
		fixed = snapshotEntryFixedV1
	case snapshotVersion:
	default:
		return bad("version %d", version)
	}
	if want, got := binary.BigEndian.Uint32(data[6:]), crc32.Checksum(data[10:], snapshotCRC); want != got {
		return bad("CRC %08x, computed %08x", want, got)
	}
	n := binary.BigEndian.Uint32(data[10:])
	rest := data[snapshotHeader:]
	ps := make(producers, min(int(n), len(rest)/fixed))
	prev := int64(-1)
	for i := range n {
		if len(rest) < fixed {
			return bad("entry %d is cut short", i)
		}
		p := newProducerState(int64(binary.BigEndian.Uint64(rest)), int16(binary.BigEndian.Uint16(rest[8:])))
		p.LastTimestamp = int64(binary.BigEndian.Uint64(rest[10:]))
		if version >= 2 {
			p.CurrentTxnFirstOffset = int64(binary.BigEndian.Uint64(rest[18:]))
			p.CoordinatorEpoch = int32(binary.BigEndian.Uint32(rest[26:]))
			if p.CurrentTxnFirstOffset < -1 || p.CoordinatorEpoch < -1 {
				return bad("entry %d has transaction first offset %d and coordinator epoch %d", i, p.CurrentTxnFirstOffset, p.CoordinatorEpoch)
			}
		}
		nb := int(rest[fixed-1])
		rest = rest[fixed:]
		if nb > producerWindow || len(rest) < nb*snapshotBatchSize {
			return bad("entry %d has %d batches", i, nb)
		}
		if p.ProducerID <= prev {
			return bad("entry %d has producer ID %d after %d", i, p.ProducerID, prev)
		}
		prev = p.ProducerID
		for range nb {
			b := ProducerBatch{
				FirstSequence: int32(binary.BigEndian.Uint32(rest)),
				LastSequence:  int32(binary.BigEndian.Uint32(rest[4:])),
				FirstOffset:   int64(binary.BigEndian.Uint64(rest[8:])),
				LastOffset:    int64(binary.BigEndian.Uint64(rest[16:])),
				Timestamp:     int64(binary.BigEndian.Uint64(rest[24:])),
			}
			rest = rest[snapshotBatchSize:]
			if b.FirstOffset < 0 || b.LastOffset < b.FirstOffset ||
				(len(p.Batches) > 0 && b.FirstOffset <= p.Batches[len(p.Batches)-1].LastOffset) {
				return bad("producer %d has batch offsets %d-%d out of order", p.ProducerID, b.FirstOffset, b.LastOffset)
			}
			p.Batches = append(p.Batches, b)
		}
		ps[p.ProducerID] = p
	}
	if len(rest) != 0 {
		return bad("%d bytes after the last entry", len(rest))
	}
	return ps, nil
}

// snapshotOffsets lists the offsets of the snapshot files in dir, sorted.
func snapshotOffsets(fs FS, dir string) ([]int64, error) {
	entries, err := fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrStorage, dir, err)
	}
	var offs []int64
	for _, e := range entries {
		if off, ok := parseSnapshotFileName(e.Name()); ok && !e.IsDir() {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	return offs, nil
}

// writeSnapshot writes the snapshot of ps as the state before offset. It is
// written under a temporary name and renamed; it is not fsynced (a torn
// snapshot fails its CRC after a crash and is ignored, the state then
// being rebuilt from the log).
func writeSnapshot(fs FS, dir string, offset int64, ps producers) error {
	data := encodeSnapshot(ps)
	name := filepath.Join(dir, snapshotFileName(offset))
	tmp := name + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	_, werr := f.WriteAt(data, 0)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = fs.Rename(tmp, name)
	}
	if werr != nil {
		fs.Remove(tmp)
		return fmt.Errorf("%w: writing %s: %w", ErrStorage, name, werr)
	}
	return nil
}

// readSnapshot reads the snapshot file of offset.
func readSnapshot(fs FS, dir string, offset int64) (producers, error) {
	name := filepath.Join(dir, snapshotFileName(offset))
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrStorage, name, err)
	}
	ps, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ps, nil
}

// removeSnapshots deletes the snapshot files whose offset satisfies drop.
func removeSnapshots(fs FS, dir string, drop func(offset int64) bool) error {
	offs, err := snapshotOffsets(fs, dir)
	if err != nil {
		return err
	}
	for _, off := range offs {
		if !drop(off) {
			continue
		}
		if err := fs.Remove(filepath.Join(dir, snapshotFileName(off))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: removing producer snapshot %d: %w", ErrStorage, off, err)
		}
	}
	return nil
}
