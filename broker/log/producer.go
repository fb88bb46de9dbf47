package log

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/runnel/runnel/broker/record"
)

// producerWindow is how many of a producer's latest batches a partition
// remembers for duplicate detection: Kafka's limit on in-flight requests of
// an idempotent producer (max.in.flight.requests.per.connection <= 5).
const producerWindow = 5

// noProducerID is the producer ID of batches written without idempotence.
const noProducerID = -1

// ProducerBatch is one batch a producer wrote, as the partition remembers
// it for duplicate detection.
type ProducerBatch struct {
	FirstSequence, LastSequence int32
	FirstOffset, LastOffset     int64
	// Timestamp is the batch's maxTimestamp.
	Timestamp int64
}

// ProducerState is what a partition knows about one idempotent producer.
type ProducerState struct {
	ProducerID int64
	Epoch      int16
	// Batches are the producer's latest batches of its current epoch,
	// oldest first, at most five.
	Batches []ProducerBatch
	// LastTimestamp is the maxTimestamp of the producer's latest batch;
	// producer.id.expiration.ms is measured from it, as in Kafka.
	LastTimestamp int64
	// CurrentTxnFirstOffset is the first offset of the producer's ongoing
	// transaction (KIP-98), -1 when it has none. A producer with an
	// ongoing transaction does not expire.
	CurrentTxnFirstOffset int64
	// CoordinatorEpoch is the transaction coordinator epoch of the latest
	// transaction marker written for the producer, -1 before any. A marker
	// from an older coordinator epoch is fenced (ErrCoordinatorFenced).
	CoordinatorEpoch int32
}

// newProducerState returns the state of a producer first seen with epoch.
func newProducerState(pid int64, epoch int16) *ProducerState {
	return &ProducerState{ProducerID: pid, Epoch: epoch, CurrentTxnFirstOffset: -1, CoordinatorEpoch: -1}
}

// LastSequence is the sequence number of the producer's latest record, -1
// when no batch is remembered.
func (p *ProducerState) LastSequence() int32 {
	if len(p.Batches) == 0 {
		return -1
	}
	return p.Batches[len(p.Batches)-1].LastSequence
}

func (p *ProducerState) clone() *ProducerState {
	c := *p
	c.Batches = slices.Clone(p.Batches)
	return &c
}

// duplicate returns the remembered batch with b's sequence range, if any.
func (p *ProducerState) duplicate(b record.Batch) (ProducerBatch, bool) {
	if b.ProducerEpoch() != p.Epoch {
		return ProducerBatch{}, false
	}
	first, last := b.BaseSequence(), b.LastSequence()
	for _, pb := range p.Batches {
		if pb.FirstSequence == first && pb.LastSequence == last {
			return pb, true
		}
	}
	return ProducerBatch{}, false
}

// add records batch b (offsets assigned) as the producer's latest.
func (p *ProducerState) add(b record.Batch) {
	if b.ProducerEpoch() != p.Epoch {
		p.Epoch = b.ProducerEpoch()
		p.Batches = p.Batches[:0]
	}
	if len(p.Batches) == producerWindow {
		p.Batches = append(p.Batches[:0], p.Batches[1:]...)
	}
	p.Batches = append(p.Batches, ProducerBatch{
		FirstSequence: b.BaseSequence(),
		LastSequence:  b.LastSequence(),
		FirstOffset:   b.BaseOffset(),
		LastOffset:    b.LastOffset(),
		Timestamp:     b.MaxTimestamp(),
	})
	p.LastTimestamp = b.MaxTimestamp()
}

// nextSequence is the sequence number that follows seq: int32 max wraps to
// 0, as producers wrap.
func nextSequence(seq int32) int32 {
	if seq == math.MaxInt32 {
		return 0
	}
	return seq + 1
}

// producers is a partition's producer state: every idempotent producer
// seen in the log and not expired, by producer ID. The Log guards it with
// its append lock.
type producers map[int64]*ProducerState

// appendCheck is the outcome of checking one append against the producer
// state: the updated entries to install once the bytes are written and the
// transactions the append starts and ends, in offset order; or the
// duplicate batch to answer with instead of writing.
type appendCheck struct {
	updates   map[int64]*ProducerState
	events    []txnEvent
	duplicate *ProducerBatch
}

// txnEvent is a transaction starting (marker -1) or ending (at the
// marker's offset) for a producer.
type txnEvent struct {
	pid   int64
	first int64 // the transaction's first offset
	// marker is the offset of the marker that ends the transaction, -1
	// for a start.
	marker int64
	abort  bool
}

// marker is a parsed transaction marker.
type marker struct {
	typ              record.ControlType
	coordinatorEpoch int32
}

// parseMarker reads the transaction marker of control batch b (whole
// batch bytes). ok is false when b holds no readable marker.
func parseMarker(b record.Batch) (m marker, ok bool, err error) {
	recs, err := b.DecodeRecords()
	if err != nil {
		return marker{}, false, err
	}
	if len(recs) != 1 {
		return marker{}, false, fmt.Errorf("%w: a control batch holds %d records, want 1", record.ErrInvalid, len(recs))
	}
	t, ce, err := record.ParseControlRecord(recs[0])
	if err != nil {
		return marker{}, false, err
	}
	return marker{typ: t, coordinatorEpoch: ce}, true, nil
}

// check runs Kafka's idempotence and transaction rules on the batches of
// one append, whose offsets are already assigned, and returns the state
// the append leads to. Client appends are checked (a batch that is not
// transactional from a producer with a transaction ongoing is
// ErrInvalidTxnState, for coordinators too); coordinator appends have
// their transaction markers checked (an older producer epoch is
// ErrInvalidProducerEpoch, an older coordinator epoch
// ErrCoordinatorFenced); replication appends only update the state (the
// leader checked them). A duplicate of one of a producer's remembered
// batches stops the check: the whole append is the retry of a write that
// already succeeded.
func (ps producers) check(batches []record.Batch, origin Origin) (appendCheck, error) {
	var c appendCheck
	for i, b := range batches {
		pid := b.ProducerID()
		if pid == noProducerID {
			continue
		}
		control := b.Attributes().Control()
		var m marker
		if control {
			var ok bool
			var err error
			m, ok, err = parseMarker(b)
			if !ok {
				if origin == OriginCoordinator {
					return appendCheck{}, fmt.Errorf("%w: batch %d: control batch of producer %d: %w", ErrInvalidRecord, i, pid, err)
				}
				continue // not a transaction marker: nothing to track
			}
		}
		if origin == OriginClient && (pid < 0 || b.ProducerEpoch() < 0 || b.BaseSequence() < 0) {
			return appendCheck{}, fmt.Errorf("%w: batch %d has producer ID %d, epoch %d and base sequence %d", ErrInvalidRecord, i, pid, b.ProducerEpoch(), b.BaseSequence())
		}
		cur, ok := c.updates[pid]
		if !ok {
			if e := ps[pid]; e != nil {
				cur = e.clone()
			}
		}
		switch {
		case control && origin == OriginCoordinator && cur != nil:
			if err := checkMarker(cur, b, m); err != nil {
				return appendCheck{}, fmt.Errorf("batch %d: %w", i, err)
			}
		case !control && origin == OriginClient && cur != nil:
			if dup, ok := cur.duplicate(b); ok {
				return appendCheck{duplicate: &dup}, nil
			}
			if err := checkSequence(cur, b); err != nil {
				return appendCheck{}, fmt.Errorf("batch %d: %w", i, err)
			}
		}
		if !control && origin != OriginReplication && cur != nil && cur.CurrentTxnFirstOffset >= 0 && !b.Attributes().Transactional() {
			return appendCheck{}, fmt.Errorf("%w: batch %d of producer %d is not transactional, and its transaction from offset %d is ongoing",
				ErrInvalidTxnState, i, pid, cur.CurrentTxnFirstOffset)
		}
		if cur == nil {
			// An unknown producer starts fresh with any sequence number: its
			// state may have expired or been removed with old segments
			// (Kafka 2.5 and later accept it too).
			cur = newProducerState(pid, b.ProducerEpoch())
		}
		if ev, ok := cur.step(b, control, m); ok {
			c.events = append(c.events, ev)
		}
		if c.updates == nil {
			c.updates = map[int64]*ProducerState{}
		}
		c.updates[pid] = cur
	}
	return c, nil
}

// checkMarker checks a transaction marker the coordinator writes for the
// known producer p, as Kafka does: an older producer epoch is fenced, and
// so is an older coordinator epoch (a coordinator that lost its
// transactional IDs to a newer one).
func checkMarker(p *ProducerState, b record.Batch, m marker) error {
	if e := b.ProducerEpoch(); e < p.Epoch {
		return fmt.Errorf("%w: %s marker for producer %d has epoch %d, the partition knows epoch %d", ErrInvalidProducerEpoch, m.typ, p.ProducerID, e, p.Epoch)
	}
	if m.coordinatorEpoch < p.CoordinatorEpoch {
		return fmt.Errorf("%w: %s marker for producer %d has coordinator epoch %d, the partition knows coordinator epoch %d", ErrCoordinatorFenced, m.typ, p.ProducerID, m.coordinatorEpoch, p.CoordinatorEpoch)
	}
	return nil
}

// step moves p past batch b (offsets assigned; m is its marker when
// control) and reports the transaction event it makes: a transactional
// batch with no transaction ongoing starts one at its base offset, a
// marker ends the ongoing one. A marker with no transaction ongoing ends
// nothing (the coordinator may write a marker twice) but, like every
// marker, records the coordinator epoch and bumps the producer epoch if
// newer.
func (p *ProducerState) step(b record.Batch, control bool, m marker) (txnEvent, bool) {
	if !control {
		p.add(b)
		if b.Attributes().Transactional() && p.CurrentTxnFirstOffset < 0 {
			p.CurrentTxnFirstOffset = b.BaseOffset()
			return txnEvent{pid: p.ProducerID, first: b.BaseOffset(), marker: -1}, true
		}
		return txnEvent{}, false
	}
	if e := b.ProducerEpoch(); e > p.Epoch {
		p.Epoch = e
		p.Batches = p.Batches[:0]
	}
	p.CoordinatorEpoch = m.coordinatorEpoch
	p.LastTimestamp = b.MaxTimestamp()
	first := p.CurrentTxnFirstOffset
	if first < 0 {
		return txnEvent{}, false
	}
	p.CurrentTxnFirstOffset = -1
	return txnEvent{pid: p.ProducerID, first: first, marker: b.BaseOffset(), abort: m.typ == record.ControlAbort}, true
}

// checkSequence checks batch b of a known producer p that is not a
// duplicate: an older epoch is fenced, a newer one must start at sequence
// 0, the same one must continue right after the last sequence.
func checkSequence(p *ProducerState, b record.Batch) error {
	epoch, seq := b.ProducerEpoch(), b.BaseSequence()
	switch {
	case epoch < p.Epoch:
		return fmt.Errorf("%w: producer %d has epoch %d, the partition knows epoch %d", ErrInvalidProducerEpoch, p.ProducerID, epoch, p.Epoch)
	case epoch > p.Epoch:
		if seq != 0 {
			return fmt.Errorf("%w: producer %d starts epoch %d at sequence %d, not 0", ErrOutOfOrderSequence, p.ProducerID, epoch, seq)
		}
	case len(p.Batches) > 0:
		if want := nextSequence(p.LastSequence()); seq != want {
			return fmt.Errorf("%w: producer %d epoch %d sent sequence %d, expected %d", ErrOutOfOrderSequence, p.ProducerID, epoch, seq, want)
		}
	}
	return nil
}

// apply installs the updated entries of a written append.
func (ps producers) apply(c appendCheck) {
	maps.Copy(ps, c.updates)
}

// update adds a batch read back from the log (recovery, rebuild after
// truncation) without checks, and reports the transaction event it makes.
// m is the batch's marker when it is a control batch; ok says whether it
// holds one.
func (ps producers) update(b record.Batch, m marker, isMarker bool) (txnEvent, bool) {
	pid := b.ProducerID()
	control := b.Attributes().Control()
	if pid == noProducerID || (control && !isMarker) {
		return txnEvent{}, false
	}
	e := ps[pid]
	if e == nil {
		e = newProducerState(pid, b.ProducerEpoch())
		ps[pid] = e
	}
	return e.step(b, control, m)
}

// expire removes the producers whose latest batch is more than
// expirationMs older than nowMs, and returns how many it removed. As in
// Kafka, a producer with an ongoing transaction stays: its transaction
// holds the last stable offset back until a marker ends it.
func (ps producers) expire(nowMs, expirationMs int64) int {
	n := 0
	for pid, e := range ps {
		if e.CurrentTxnFirstOffset < 0 && nowMs-e.LastTimestamp >= expirationMs {
			delete(ps, pid)
			n++
		}
	}
	return n
}

// list returns copies of the entries sorted by producer ID.
func (ps producers) list() []ProducerState {
	out := make([]ProducerState, 0, len(ps))
	for _, pid := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, *ps[pid].clone())
	}
	return out
}
