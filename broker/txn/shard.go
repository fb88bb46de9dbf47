package txn

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"
)

// Marker retry backoff: the first retry waits markerBackoffMin, each next
// one twice as long, up to markerBackoffMax.
const (
	markerBackoffMin = 100 * time.Millisecond
	markerBackoffMax = 10 * time.Second
)

// shardConfig is what a shard needs of the coordinator's configuration.
type shardConfig struct {
	idExpiration   time.Duration // transactional.id.expiration.ms
	abortInterval  time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
	expireInterval time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms
	valueVersion   int16         // the __transaction_state value version written
	// newProducerID hands out a producer ID no one has had.
	newProducerID func() (int64, error)
	log           *slog.Logger
}

// kv is one record for __transaction_state; a nil value is a tombstone.
type kv struct {
	key, value []byte
}

// write is records to append as one batch, and what to do once the append
// has succeeded or failed.
type write struct {
	records []kv
	done    func(err error)
}

// markerJob is the markers of one transaction to write, and what to do
// with the MarkerWriter's answer.
type markerJob struct {
	id               string
	producerID       int64
	epoch            int16
	coordinatorEpoch int32
	commit           bool
	partitions       []TopicPartition
	done             func(err error)
}

// stage is where a transaction being completed is.
type stage uint8

const (
	stageNone         stage = iota
	stageMarkers            // markers handed to the MarkerWriter
	stageMarkersWait        // waiting to retry markers
	stageComplete           // Complete* record being written
	stageCompleteWait       // waiting to retry the Complete* record
	stageFenced             // a newer coordinator completes it
)

// txnMeta is one transactional ID's state (Kafka's TransactionMetadata).
type txnMeta struct {
	id             string
	producerID     int64
	lastProducerID int64 // the producer ID before the last rotation (KIP-360)
	nextProducerID int64 // kept as read; Runnel does not use it
	epoch          int16 // -1 until the first InitProducerId is written
	lastEpoch      int16 // the epoch before a KIP-360 bump, -1 for none
	timeoutMs      int32
	state          State
	partitions     map[TopicPartition]struct{}
	startMs        int64 // -1 until a transaction starts
	updateMs       int64
	clientVersion  int16 // kept as read

	// pending is set while a record for the ID is being written; requests
	// are answered CONCURRENT_TRANSACTIONS meanwhile.
	pending      bool
	pendingState State
	stage        stage
	backoff      time.Duration
}

// transit is the state a record for a transactional ID carries, applied
// to the txnMeta once the record is written (Kafka's TxnTransitMetadata).
type transit struct {
	producerID, lastProducerID int64
	epoch, lastEpoch           int16
	timeoutMs                  int32
	state                      State
	partitions                 []TopicPartition
	startMs, updateMs          int64
}

func (m *txnMeta) transit() transit {
	return transit{
		producerID: m.producerID, lastProducerID: m.lastProducerID,
		epoch: m.epoch, lastEpoch: m.lastEpoch, timeoutMs: m.timeoutMs,
		state: m.state, partitions: m.sortedPartitions(),
		startMs: m.startMs, updateMs: m.updateMs,
	}
}

func (m *txnMeta) apply(t transit) {
	m.producerID, m.lastProducerID = t.producerID, t.lastProducerID
	m.epoch, m.lastEpoch = t.epoch, t.lastEpoch
	m.timeoutMs, m.state = t.timeoutMs, t.state
	m.partitions = make(map[TopicPartition]struct{}, len(t.partitions))
	for _, tp := range t.partitions {
		m.partitions[tp] = struct{}{}
	}
	m.startMs, m.updateMs = t.startMs, t.updateMs
}

func (m *txnMeta) sortedPartitions() []TopicPartition {
	return slices.SortedFunc(maps.Keys(m.partitions), compareTP)
}

func (m *txnMeta) preparing() bool { return m.state == PrepareCommit || m.state == PrepareAbort }

// epochExhausted reports whether a producer ID has run out of epochs: the
// last one is kept so that the coordinator can always fence.
func epochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }

// shard holds the transactional IDs of one __transaction_state partition.
// It is a state machine: it never blocks on I/O, starts goroutines or
// reads a clock (the one exception: newProducerID may wait for the
// controller when a block of producer IDs runs out). Every entry point
// runs inside run, which sets the time and fires the deadlines that have
// passed; appends go to an outbox (takeWrites), marker writes to another
// (takeMarkers), and their outcome comes back through their done
// functions, which the caller must also invoke inside run.
type shard struct {
	cfg     shardConfig
	log     *slog.Logger
	now     time.Time
	epoch   int32 // the coordinator epoch: the partition's leader epoch
	txns    map[string]*txnMeta
	timers  timers
	writes  []write
	markers []markerJob
}

func newShard(cfg shardConfig, coordinatorEpoch int32) *shard {
	s := &shard{cfg: cfg, log: cfg.log, epoch: coordinatorEpoch, txns: map[string]*txnMeta{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// run executes fn at now and then fires every deadline due by now.
func (s *shard) run(now time.Time, fn func()) {
	if now.After(s.now) {
		s.now = now
	}
	if fn != nil {
		fn()
	}
	for {
		key, ok := s.timers.Pop(s.now)
		if !ok {
			return
		}
		s.fire(key)
	}
}

func (s *shard) nowMs() int64 { return s.now.UnixMilli() }

// next is the earliest deadline, when the shard wants run called again.
func (s *shard) next() (time.Time, bool) { return s.timers.Next() }

// takeWrites returns and clears the append outbox. The writes must be
// appended in order.
func (s *shard) takeWrites() []write {
	w := s.writes
	s.writes = nil
	return w
}

// takeMarkers returns and clears the marker outbox. The jobs may run
// concurrently.
func (s *shard) takeMarkers() []markerJob {
	m := s.markers
	s.markers = nil
	return m
}

// start schedules the periodic checks; the loader calls it once the
// partition is replayed.
func (s *shard) start() {
	if s.cfg.abortInterval > 0 {
		s.timers.Set(timerKey{kind: timerAbort}, s.now.Add(s.cfg.abortInterval))
	}
	if s.cfg.expireInterval > 0 {
		s.timers.Set(timerKey{kind: timerExpire}, s.now.Add(s.cfg.expireInterval))
	}
}

func (s *shard) fire(key timerKey) {
	switch key.kind {
	case timerAbort:
		s.abortTimedOut()
		s.timers.Set(key, s.now.Add(s.cfg.abortInterval))
	case timerExpire:
		s.expireIDs()
		s.timers.Set(key, s.now.Add(s.cfg.expireInterval))
	case timerRetry:
		m := s.txns[key.id]
		if m == nil {
			return
		}
		switch m.stage {
		case stageMarkersWait:
			s.sendMarkers(m)
		case stageCompleteWait:
			s.complete(m)
		}
	}
}

// value is the record value of t for m.
func (s *shard) value(m *txnMeta, t transit) []byte {
	v := Value{
		Version:    s.cfg.valueVersion,
		ProducerID: t.producerID, ProducerEpoch: t.epoch,
		PreviousProducerID: -1, NextProducerID: m.nextProducerID,
		TimeoutMs: t.timeoutMs, State: t.state, Partitions: t.partitions,
		LastUpdateTimestamp: t.updateMs, StartTimestamp: t.startMs,
		ClientTransactionVersion: m.clientVersion,
	}
	if t.lastProducerID != t.producerID {
		v.PreviousProducerID = t.lastProducerID
	}
	return v.AppendTo(nil)
}

// persist writes t for m and applies it once written; done gets the
// outcome. Requests for the ID are answered CONCURRENT_TRANSACTIONS
// meanwhile.
func (s *shard) persist(m *txnMeta, t transit, done func(error)) {
	m.pending, m.pendingState = true, t.state
	rec := kv{key: AppendKey(nil, m.id), value: s.value(m, t)}
	s.writes = append(s.writes, write{records: []kv{rec}, done: func(err error) {
		m.pending = false
		if err != nil {
			done(writeError(err))
			return
		}
		m.apply(t)
		done(nil)
	}})
}

// writeError maps a failed __transaction_state write to the error the
// client sees, as Kafka's TransactionStateManager maps it.
func writeError(err error) error {
	if errors.Is(err, errWriteTimeout) {
		return fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err)
	}
	return err
}

// pidEpoch is a producer ID and epoch a client says it has (KIP-360).
type pidEpoch struct {
	producerID int64
	epoch      int16
}

// initProducerID handles InitProducerId for a transactional ID; done gets
// the producer ID and epoch to use. timeoutMs is already validated.
func (s *shard) initProducerID(id string, timeoutMs int32, expected *pidEpoch, done func(int64, int16, error)) {
	fail := func(err error) { done(-1, -1, err) }
	m := s.txns[id]
	if m == nil {
		pid, err := s.cfg.newProducerID()
		if err != nil {
			fail(fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err))
			return
		}
		m = &txnMeta{
			id: id, producerID: pid, lastProducerID: -1, nextProducerID: -1,
			epoch: -1, lastEpoch: -1, timeoutMs: timeoutMs, state: Empty,
			partitions: map[TopicPartition]struct{}{}, startMs: -1, updateMs: s.nowMs(),
		}
		s.txns[id] = m
	}
	if m.pending {
		fail(ErrConcurrentTransactions)
		return
	}
	if expected != nil && m.epoch != -1 && expected.producerID != m.producerID &&
		(expected.producerID != m.lastProducerID || !epochExhausted(expected.epoch)) {
		fail(fmt.Errorf("%w: producer id %d is not the current %d", ErrProducerFenced, expected.producerID, m.producerID))
		return
	}
	switch m.state {
	case PrepareCommit, PrepareAbort:
		fail(ErrConcurrentTransactions)
	case Ongoing:
		// Abort the transaction with a bumped epoch, fencing its producer,
		// and have the client retry: the retry bumps the epoch again (or
		// rotates the producer ID when that exhausted the epochs).
		s.fenceAndAbort(m, func(err error) {
			if err == nil {
				err = ErrConcurrentTransactions
			}
			fail(err)
		})
	case Empty, CompleteCommit, CompleteAbort:
		t := m.transit()
		t.lastProducerID = m.producerID
		if epochExhausted(m.epoch) && (expected == nil || expected.epoch == m.epoch) {
			pid, err := s.cfg.newProducerID()
			if err != nil {
				fail(fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err))
				return
			}
			t.producerID, t.epoch, t.lastEpoch = pid, 0, -1
			if expected != nil {
				t.lastEpoch = m.epoch
			}
		} else {
			switch {
			case expected == nil:
				t.epoch, t.lastEpoch = m.epoch+1, -1
			case m.epoch == -1 || expected.epoch == m.epoch:
				t.epoch, t.lastEpoch = m.epoch+1, m.epoch
			case expected.epoch == m.lastEpoch:
				// A retry of a bump whose answer was lost: the same epoch.
			default:
				fail(fmt.Errorf("%w: epoch %d is neither the current %d nor the previous %d", ErrProducerFenced, expected.epoch, m.epoch, m.lastEpoch))
				return
			}
		}
		t.state, t.timeoutMs, t.partitions, t.startMs, t.updateMs = Empty, timeoutMs, nil, -1, s.nowMs()
		s.persist(m, t, func(err error) {
			if err != nil {
				fail(err)
				return
			}
			s.log.Info("initialized transactional id", "transactional_id", id, "producer_id", t.producerID, "producer_epoch", t.epoch)
			done(t.producerID, t.epoch, nil)
		})
	default:
		fail(fmt.Errorf("%w: %s", ErrInvalidTxnState, m.state))
	}
}

// check validates a client's producer ID and epoch for id.
func (s *shard) check(id string, pid int64, epoch int16) (*txnMeta, error) {
	m := s.txns[id]
	switch {
	case m == nil:
		return nil, ErrInvalidProducerIDMapping
	case m.producerID != pid:
		return nil, fmt.Errorf("%w: %s has producer id %d, not %d", ErrInvalidProducerIDMapping, id, m.producerID, pid)
	case m.epoch != epoch:
		return nil, fmt.Errorf("%w: %s is at epoch %d, not %d", ErrProducerFenced, id, m.epoch, epoch)
	}
	return m, nil
}

// addPartitions handles AddPartitionsToTxn and AddOffsetsToTxn.
func (s *shard) addPartitions(id string, pid int64, epoch int16, parts []TopicPartition, done func(error)) {
	m, err := s.check(id, pid, epoch)
	switch {
	case err != nil:
		done(err)
		return
	case m.pending || m.preparing():
		done(ErrConcurrentTransactions)
		return
	}
	if m.state == Ongoing {
		added := false
		for _, tp := range parts {
			if _, ok := m.partitions[tp]; !ok {
				added = true
			}
		}
		if !added {
			done(nil)
			return
		}
	}
	t := m.transit()
	if m.state != Ongoing {
		t.startMs = s.nowMs()
	}
	for _, tp := range parts {
		if _, ok := m.partitions[tp]; !ok {
			t.partitions = append(t.partitions, tp)
		}
	}
	slices.SortFunc(t.partitions, compareTP)
	t.partitions = slices.Compact(t.partitions)
	t.state, t.updateMs = Ongoing, s.nowMs()
	s.persist(m, t, done)
}

// verifyPartitions answers a verify-only AddPartitionsToTxn: nil for each
// partition in the transaction, ErrTransactionAbortable for the others.
func (s *shard) verifyPartitions(id string, pid int64, epoch int16, parts []TopicPartition) ([]error, error) {
	m, err := s.check(id, pid, epoch)
	if err != nil {
		return nil, err
	}
	if m.preparing() {
		return nil, ErrConcurrentTransactions
	}
	errs := make([]error, len(parts))
	for i, tp := range parts {
		if _, ok := m.partitions[tp]; !ok {
			errs[i] = fmt.Errorf("%w: %s", ErrTransactionAbortable, tp)
		}
	}
	return errs, nil
}

// endTxn handles EndTxn: done is called once the Prepare record is
// written, before the markers.
func (s *shard) endTxn(id string, pid int64, epoch int16, commit bool, done func(error)) {
	m, err := s.check(id, pid, epoch)
	if err != nil {
		done(err)
		return
	}
	if m.pending {
		done(ErrConcurrentTransactions)
		return
	}
	outcome := "abort"
	if commit {
		outcome = "commit"
	}
	invalid := func() {
		done(fmt.Errorf("%w: cannot %s in state %s", ErrInvalidTxnState, outcome, m.state))
	}
	switch m.state {
	case Ongoing:
		t := m.transit()
		t.state, t.updateMs = PrepareAbort, s.nowMs()
		if commit {
			t.state = PrepareCommit
		}
		s.prepare(m, t, done)
	case CompleteCommit, CompleteAbort:
		if commit == (m.state == CompleteCommit) {
			done(nil) // a retry of the request that completed it
		} else {
			invalid()
		}
	case PrepareCommit, PrepareAbort:
		if commit == (m.state == PrepareCommit) {
			done(ErrConcurrentTransactions)
		} else {
			invalid()
		}
	default:
		invalid()
	}
}

// prepare writes the Prepare* transit t and, once written, answers done
// and starts the markers.
func (s *shard) prepare(m *txnMeta, t transit, done func(error)) {
	s.persist(m, t, func(err error) {
		done(err)
		if err == nil {
			s.sendMarkers(m)
		}
	})
}

// fenceAndAbort aborts m's Ongoing transaction with the epoch bumped, so
// that its producer is fenced (Kafka's PrepareEpochFence), as
// InitProducerId and the transaction timeout do.
func (s *shard) fenceAndAbort(m *txnMeta, done func(error)) {
	t := m.transit()
	if t.epoch < math.MaxInt16 {
		t.epoch++
	}
	t.lastEpoch = -1
	t.state, t.updateMs = PrepareAbort, s.nowMs()
	s.prepare(m, t, done)
}

// sendMarkers hands the markers of m's Prepare* transaction to the
// MarkerWriter, or completes it when no partition is left.
func (s *shard) sendMarkers(m *txnMeta) {
	parts := m.sortedPartitions()
	if len(parts) == 0 {
		s.complete(m)
		return
	}
	m.stage = stageMarkers
	pid, epoch := m.producerID, m.epoch
	s.markers = append(s.markers, markerJob{
		id: m.id, producerID: pid, epoch: epoch, coordinatorEpoch: s.epoch,
		commit: m.state == PrepareCommit, partitions: parts,
		done: func(err error) { s.markersDone(m, pid, epoch, parts, err) },
	})
}

// markersDone takes the MarkerWriter's answer: written partitions leave
// the transaction, deleted ones are dropped, the rest are retried.
func (s *shard) markersDone(m *txnMeta, pid int64, epoch int16, parts []TopicPartition, err error) {
	if s.txns[m.id] != m || m.producerID != pid || m.epoch != epoch || !m.preparing() || m.stage != stageMarkers {
		return
	}
	var failed MarkerErrors
	if err != nil && !errors.As(err, &failed) {
		failed = MarkerErrors{}
		for _, tp := range parts {
			failed[tp] = err
		}
	}
	retry, fenced := false, false
	for _, tp := range parts {
		e, bad := failed[tp]
		switch {
		case !bad:
			delete(m.partitions, tp)
		case errors.Is(e, ErrPartitionDeleted):
			s.log.Info("dropping transaction marker of a deleted partition", "transactional_id", m.id, "topic", tp.Topic, "partition", tp.Partition)
			delete(m.partitions, tp)
		case errors.Is(e, ErrCoordinatorFenced):
			fenced = true
		default:
			retry = true
			s.log.Debug("transaction marker failed; retrying", "transactional_id", m.id, "topic", tp.Topic, "partition", tp.Partition, "err", e)
		}
	}
	switch {
	case fenced:
		s.log.Warn("a newer transaction coordinator completes the transaction", "transactional_id", m.id, "coordinator_epoch", s.epoch)
		m.stage = stageFenced
	case retry:
		s.retryLater(m, stageMarkersWait)
	default:
		m.backoff = 0
		s.complete(m)
	}
}

// retryLater schedules the stage's retry with backoff.
func (s *shard) retryLater(m *txnMeta, st stage) {
	m.stage = st
	if m.backoff == 0 {
		m.backoff = markerBackoffMin
	} else {
		m.backoff = min(2*m.backoff, markerBackoffMax)
	}
	s.timers.Set(timerKey{kind: timerRetry, id: m.id}, s.now.Add(m.backoff))
}

// complete writes the Complete* record of m's Prepare* transaction,
// retrying until it is written or the partition is unloaded.
func (s *shard) complete(m *txnMeta) {
	m.stage = stageComplete
	t := m.transit()
	t.state, t.partitions, t.updateMs = CompleteAbort, nil, s.nowMs()
	if m.state == PrepareCommit {
		t.state = CompleteCommit
	}
	s.persist(m, t, func(err error) {
		switch {
		case err == nil:
			m.stage, m.backoff = stageNone, 0
			s.log.Debug("transaction completed", "transactional_id", m.id, "state", t.state)
		case errors.Is(err, ErrNotCoordinator):
			m.stage = stageNone // the partition is going; its next leader completes it
		default:
			s.log.Warn("writing transaction completion failed; retrying", "transactional_id", m.id, "err", err)
			s.retryLater(m, stageCompleteWait)
		}
	})
}

// abortTimedOut aborts every Ongoing transaction older than its timeout,
// fencing its producer.
func (s *shard) abortTimedOut() {
	now := s.nowMs()
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		if m.state != Ongoing || m.pending || m.startMs+int64(m.timeoutMs) >= now {
			continue
		}
		s.log.Info("aborting timed-out transaction", "transactional_id", id, "producer_id", m.producerID, "producer_epoch", m.epoch)
		s.fenceAndAbort(m, func(err error) {
			if err != nil {
				s.log.Warn("aborting timed-out transaction failed", "transactional_id", id, "err", err)
			}
		})
	}
}

// expireIDs removes the transactional IDs without a transaction for
// longer than transactional.id.expiration.ms, with one batch of
// tombstones.
func (s *shard) expireIDs() {
	if s.cfg.idExpiration <= 0 {
		return
	}
	cutoff := s.nowMs() - s.cfg.idExpiration.Milliseconds()
	var expired []*txnMeta
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		switch m.state {
		case Empty, CompleteCommit, CompleteAbort:
		default:
			continue
		}
		if m.pending || m.stage != stageNone || m.updateMs > cutoff {
			continue
		}
		expired = append(expired, m)
	}
	if len(expired) == 0 {
		return
	}
	recs := make([]kv, len(expired))
	for i, m := range expired {
		m.pending, m.pendingState = true, Dead
		recs[i] = kv{key: AppendKey(nil, m.id)}
	}
	s.writes = append(s.writes, write{records: recs, done: func(err error) {
		for _, m := range expired {
			m.pending = false
			if err == nil && s.txns[m.id] == m {
				delete(s.txns, m.id)
				s.timers.Cancel(timerKey{kind: timerRetry, id: m.id})
			}
		}
		if err != nil {
			s.log.Warn("removing expired transactional ids failed", "count", len(expired), "err", err)
			return
		}
		s.log.Info("removed expired transactional ids", "count", len(expired))
	}})
}

// describe handles DescribeTransactions for one ID.
func (s *shard) describe(id string) Description {
	m := s.txns[id]
	if m == nil {
		return Description{ID: id, Err: ErrTransactionalIDNotFound}
	}
	d := Description{
		ID: id, State: m.state, ProducerID: m.producerID, ProducerEpoch: m.epoch,
		Timeout: time.Duration(m.timeoutMs) * time.Millisecond, Partitions: m.sortedPartitions(),
	}
	if m.startMs >= 0 {
		d.StartTime = time.UnixMilli(m.startMs)
	}
	return d
}

// list handles ListTransactions.
func (s *shard) list(f ListFilter) []Listing {
	var out []Listing
	now := s.nowMs()
	for _, m := range s.txns {
		if len(f.States) > 0 && !slices.Contains(f.States, m.state) ||
			len(f.ProducerIDs) > 0 && !slices.Contains(f.ProducerIDs, m.producerID) ||
			f.MinDuration > 0 && (m.startMs < 0 || now-m.startMs <= f.MinDuration.Milliseconds()) {
			continue
		}
		out = append(out, Listing{ID: m.id, ProducerID: m.producerID, State: m.state})
	}
	slices.SortFunc(out, func(a, b Listing) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// load installs the state replayed from the log and resumes the
// transactions that were completing: a Prepare* record without its
// Complete* means markers may be missing, so all are written again.
func (s *shard) load(values map[string]Value) {
	for _, id := range slices.Sorted(maps.Keys(values)) {
		v := values[id]
		if v.State == Dead || v.State == PrepareEpochFence {
			s.log.Warn("ignoring transactional id in an unexpected state", "transactional_id", id, "state", v.State)
			continue
		}
		m := &txnMeta{
			id: id, producerID: v.ProducerID, lastProducerID: v.PreviousProducerID, nextProducerID: v.NextProducerID,
			epoch: v.ProducerEpoch, lastEpoch: -1, timeoutMs: v.TimeoutMs, state: v.State,
			partitions: map[TopicPartition]struct{}{}, startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp,
			clientVersion: v.ClientTransactionVersion,
		}
		if m.lastProducerID < 0 {
			m.lastProducerID = m.producerID
		}
		for _, tp := range v.Partitions {
			m.partitions[tp] = struct{}{}
		}
		s.txns[id] = m
		if m.preparing() {
			s.log.Info("resuming transaction markers", "transactional_id", id, "state", m.state, "partitions", len(m.partitions))
			s.sendMarkers(m)
		}
	}
	s.start()
}
