package log

import (
	"errors"
	"fmt"
	"slices"

	"github.com/runnel/runnel/broker/record"
)

// Producers returns what the log knows of its idempotent producers, sorted
// by producer ID.
func (l *Log) Producers() []ProducerState {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	return l.producers.list()
}

// loadProducers rebuilds the producer state for a log ending at end, as
// Kafka's ProducerStateManager does on load and truncation: snapshots past
// end, or before the first segment, are deleted; the latest readable
// snapshot at or below trusted (the recovery point) is loaded, and the
// batches after it are replayed (headers, and the marker of each control
// batch). Without such a snapshot the whole log is replayed. The ongoing
// transactions follow the state. The aborted transaction index entries of
// the segments from rebuildFrom on are rebuilt from the replay (trusted
// must then be at most rebuildFrom; math.MaxInt64 rebuilds nothing). The
// caller holds appendMu (or owns the log, in Open).
func (l *Log) loadProducers(trusted, end, rebuildFrom int64) error {
	l.mu.RLock()
	segs := l.segments
	l.mu.RUnlock()
	first := segs[0].base
	if err := removeSnapshots(l.fs, l.dir, func(off int64) bool { return off > end || off < first }); err != nil {
		return err
	}
	offs, err := snapshotOffsets(l.fs, l.dir)
	if err != nil {
		return err
	}
	ps, from := producers{}, first
	for i := len(offs) - 1; i >= 0; i-- {
		if offs[i] > trusted {
			continue
		}
		snap, err := readSnapshot(l.fs, l.dir, offs[i])
		if err != nil {
			if errors.Is(err, ErrStorage) {
				return err
			}
			l.logger.Warn("ignoring unreadable producer snapshot", "offset", offs[i], "err", err)
			continue
		}
		ps, from = snap, offs[i]
		break
	}
	rebuilt := map[*segment][]AbortedTxn{}
	txns := txnListOf(ps, false)
	onEvent := func(s *segment, ev txnEvent) {
		if a, ok := txns.apply(ev); ok && ev.marker >= rebuildFrom {
			rebuilt[s] = append(rebuilt[s], a)
		}
	}
	if err := l.replayProducers(ps, segs, from, end, onEvent); err != nil {
		return err
	}
	for _, s := range segs {
		if s.base < rebuildFrom {
			continue
		}
		if err := s.setAborted(rebuilt[s]); err != nil {
			return err
		}
	}
	l.producers = ps
	l.resetTxns()
	return nil
}

// replayProducers adds to ps every batch whose offsets lie in [from, end),
// passing the transaction events to onEvent with the segment of the batch.
func (l *Log) replayProducers(ps producers, segs []*segment, from, end int64, onEvent func(*segment, txnEvent)) error {
	if from >= end {
		return nil
	}
	var hdr [record.HeaderSize]byte
	var body []byte
	start := floorSegment(segs, from)
	for i := start; i < len(segs); i++ {
		s := segs[i]
		if s.base >= end {
			break
		}
		limit := s.size.Load()
		pos := int64(0)
		if i == start {
			p, _, err := s.find(from, limit, &hdr)
			if err != nil {
				return err
			}
			if p < 0 {
				continue
			}
			pos = p
		}
		for pos < limit {
			b, err := s.header(pos, limit, &hdr)
			if err != nil {
				return err
			}
			if b.BaseOffset() >= end {
				break
			}
			size := int64(b.Size())
			if b.LastOffset() >= from {
				var m marker
				isMarker := false
				if b.Attributes().Control() && b.ProducerID() != noProducerID {
					body = slices.Grow(body[:0], int(size))[:size]
					if _, err := s.log.ReadAt(body, pos); err != nil {
						return fmt.Errorf("%w: reading %s at %d: %w", ErrStorage, s.path(logExt), pos, err)
					}
					m, isMarker, _ = parseMarker(record.Batch(body))
				}
				if ev, ok := ps.update(b, m, isMarker); ok {
					onEvent(s, ev)
				}
			}
			pos += size
		}
	}
	return nil
}
