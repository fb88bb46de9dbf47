// Package replica holds each partition's replica state on this node: the
// log, the leader epoch, the in-sync replica set, the log end offsets of
// followers and the high watermark, plus the two waits Kafka calls
// purgatory: a produce with acks=all waits for the high watermark to pass
// its records, and a fetch waits for data or its max wait.
//
// With one replica the high watermark follows the log end offset at once;
// the same code waits for followers when there are several.
package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/log"
)

// Errors, mapped by the server to Kafka error codes.
var (
	ErrUnknownTopicOrPartition = errors.New("replica: unknown topic or partition")
	ErrNotLeader               = errors.New("replica: not the leader for this partition")
	ErrNotEnoughReplicas       = errors.New("replica: fewer in-sync replicas than min.insync.replicas")
	ErrFencedLeaderEpoch       = errors.New("replica: leader epoch is older than the current one")
	ErrUnknownLeaderEpoch      = errors.New("replica: leader epoch is newer than the current one")
	ErrTimeout                 = errors.New("replica: timed out waiting for replication")
)

// Acks values of a produce request.
const (
	AcksNone   = 0
	AcksLeader = 1
	AcksAll    = -1
)

// Isolation levels of a fetch.
const (
	ReadUncommitted = 0
	ReadCommitted   = 1
)

// Partition is one partition replica hosted on this node.
type Partition struct {
	Topic   string
	TopicID uuid.UUID
	Index   int32
	nodeID  int32
	log     *log.Log

	// mu guards the fields below. It is never held across I/O.
	mu          sync.Mutex
	leader      int32
	leaderEpoch int32
	replicas    []int32
	isr         []int32
	minISR      int
	followerLEO map[int32]int64
	hw          int64
	lso         int64 // last stable offset last seen by advanceHW
	hwWaiters   []hwWaiter
	watchers    map[*Watcher]struct{}
}

type hwWaiter struct {
	offset int64
	done   chan struct{}
}

func newPartition(topic string, id uuid.UUID, index, nodeID int32, l *log.Log) *Partition {
	p := &Partition{
		Topic: topic, TopicID: id, Index: index, nodeID: nodeID, log: l,
		followerLEO: map[int32]int64{},
		watchers:    map[*Watcher]struct{}{},
		minISR:      1,
		// No leadership yet: the first update always counts as new, even
		// for node 0 at epoch 0.
		leader:      -1,
		leaderEpoch: -1,
	}
	p.hw = min(l.HighWatermark(), l.LogEndOffset())
	return p
}

// Log returns the partition's log.
func (p *Partition) Log() *log.Log { return p.log }

// State is a consistent snapshot of a partition's replica state.
type State struct {
	Leader         int32
	LeaderEpoch    int32
	Replicas       []int32
	ISR            []int32
	HighWatermark  int64
	LogStartOffset int64
	LogEndOffset   int64
}

// State returns the partition's current state.
func (p *Partition) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return State{
		Leader: p.leader, LeaderEpoch: p.leaderEpoch,
		Replicas: slices.Clone(p.replicas), ISR: slices.Clone(p.isr),
		HighWatermark: p.hw, LogStartOffset: p.log.LogStartOffset(), LogEndOffset: p.log.LogEndOffset(),
	}
}

// IsLeader reports whether this node leads the partition.
func (p *Partition) IsLeader() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leader == p.nodeID
}

// CheckEpoch validates a request's current leader epoch (-1 = not given)
// as Kafka does for Fetch, ListOffsets and OffsetForLeaderEpoch.
func (p *Partition) CheckEpoch(epoch int32) error {
	if epoch < 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case epoch < p.leaderEpoch:
		return fmt.Errorf("%w: request has %d, partition is at %d", ErrFencedLeaderEpoch, epoch, p.leaderEpoch)
	case epoch > p.leaderEpoch:
		return fmt.Errorf("%w: request has %d, partition is at %d", ErrUnknownLeaderEpoch, epoch, p.leaderEpoch)
	}
	return nil
}

// update installs new leadership from the metadata image.
func (p *Partition) update(leader, epoch int32, replicas, isr []int32, minISR int) error {
	p.mu.Lock()
	newEpoch := epoch != p.leaderEpoch || leader != p.leader
	p.leader, p.leaderEpoch = leader, epoch
	p.replicas, p.isr = slices.Clone(replicas), slices.Clone(isr)
	p.minISR = max(minISR, 1)
	p.mu.Unlock()
	if newEpoch && leader == p.nodeID {
		if latest, ok := p.log.LatestEpoch(); !ok || latest < epoch {
			if err := p.log.AssignEpoch(epoch, p.log.LogEndOffset()); err != nil {
				return err
			}
		}
	}
	p.advanceHW()
	return nil
}

// Append writes records from a producer. With acks=all it first checks the
// ISR against min.insync.replicas; the caller then waits for replication
// with WaitReplicated, after appending to every partition of the request.
func (p *Partition) Append(records []byte, acks int16) (log.AppendInfo, error) {
	p.mu.Lock()
	if p.leader != p.nodeID {
		p.mu.Unlock()
		return log.AppendInfo{}, ErrNotLeader
	}
	epoch := p.leaderEpoch
	if acks == AcksAll && len(p.isr) < p.minISR {
		n, want := len(p.isr), p.minISR
		p.mu.Unlock()
		return log.AppendInfo{}, fmt.Errorf("%w: %d in sync, min.insync.replicas=%d", ErrNotEnoughReplicas, n, want)
	}
	p.mu.Unlock()
	info, err := p.log.Append(records, log.AppendOptions{Origin: log.OriginClient, LeaderEpoch: epoch})
	if err != nil {
		return info, err
	}
	p.advanceHW()
	return info, nil
}

// WaitReplicated waits until the high watermark reaches offset (the purgatory
// of acks=all produce requests) or ctx ends with ErrTimeout.
func (p *Partition) WaitReplicated(ctx context.Context, offset int64) error {
	return p.waitHW(ctx, offset)
}

// AppendInternal writes batches from a coordinator on this node (offsets,
// transaction markers): control batches allowed, acknowledged when the
// high watermark passes them.
func (p *Partition) AppendInternal(ctx context.Context, records []byte) (log.AppendInfo, error) {
	p.mu.Lock()
	if p.leader != p.nodeID {
		p.mu.Unlock()
		return log.AppendInfo{}, ErrNotLeader
	}
	epoch := p.leaderEpoch
	p.mu.Unlock()
	info, err := p.log.Append(records, log.AppendOptions{Origin: log.OriginCoordinator, LeaderEpoch: epoch})
	if err != nil {
		return info, err
	}
	p.advanceHW()
	return info, p.waitHW(ctx, info.LastOffset+1)
}

// UpdateFollower records a follower's log end offset, as its fetch from
// the leader reports it, and advances the high watermark when the ISR has
// caught up.
func (p *Partition) UpdateFollower(replicaID int32, leo int64) {
	p.mu.Lock()
	p.followerLEO[replicaID] = leo
	p.mu.Unlock()
	p.advanceHW()
}

// advanceHW recomputes the high watermark as the smallest log end offset
// in the ISR, wakes acks=all waiters when it moves, and wakes fetch
// watchers when it or the last stable offset moves (a transaction marker
// moves the last stable offset even when the high watermark stays).
func (p *Partition) advanceHW() {
	leo := p.log.LogEndOffset()
	p.mu.Lock()
	if p.leader != p.nodeID {
		p.mu.Unlock()
		return
	}
	hw := leo
	for _, r := range p.isr {
		if r == p.nodeID {
			continue
		}
		if f, ok := p.followerLEO[r]; !ok || f < hw {
			hw = max(f, 0)
		}
	}
	var wake []chan struct{}
	hwMoved := hw > p.hw
	if hwMoved {
		p.hw = hw
		p.hwWaiters = slices.DeleteFunc(p.hwWaiters, func(w hwWaiter) bool {
			if w.offset <= hw {
				wake = append(wake, w.done)
				return true
			}
			return false
		})
	}
	p.mu.Unlock()
	if hwMoved {
		p.log.SetHighWatermark(hw)
	}
	for _, c := range wake {
		close(c)
	}
	lso := p.LastStableOffset()
	p.mu.Lock()
	lsoMoved := lso != p.lso
	p.lso = lso
	var watchers []*Watcher
	if hwMoved || lsoMoved {
		watchers = make([]*Watcher, 0, len(p.watchers))
		for w := range p.watchers {
			watchers = append(watchers, w)
		}
	}
	p.mu.Unlock()
	for _, w := range watchers {
		w.notify()
	}
}

func (p *Partition) waitHW(ctx context.Context, offset int64) error {
	p.mu.Lock()
	if p.hw >= offset {
		p.mu.Unlock()
		return nil
	}
	w := hwWaiter{offset: offset, done: make(chan struct{})}
	p.hwWaiters = append(p.hwWaiters, w)
	p.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		p.hwWaiters = slices.DeleteFunc(p.hwWaiters, func(x hwWaiter) bool { return x.done == w.done })
		p.mu.Unlock()
		return fmt.Errorf("%w: high watermark did not reach %d", ErrTimeout, offset)
	}
}

// HighWatermark returns the high watermark.
func (p *Partition) HighWatermark() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hw
}

// LastStableOffset is the offset below which every transaction is
// decided (KIP-98): the first offset of the earliest ongoing transaction,
// or the high watermark when that is lower or no transaction is ongoing.
// read_committed consumers read up to it; ListOffsets answers LATEST with
// it for them. It is cheap enough to call on every fetch.
func (p *Partition) LastStableOffset() int64 {
	hw := p.HighWatermark()
	if f, ok := p.log.FirstUnstableOffset(); ok && f < hw {
		return f
	}
	return hw
}

// ReadInfo is the result of a consumer read.
type ReadInfo struct {
	log.ReadResult
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	// AbortedTransactions are, for a read_committed read, the aborted
	// transactions overlapping the returned batches (the fetch response's
	// abortedTransactions: producer ID and first offset of each), so the
	// consumer can drop their records; nil for read_uncommitted. Empty
	// (not nil) for a read_committed read that returned nothing.
	AbortedTransactions []log.AbortedTxn
}

// Read returns whole batches from offset, bounded by the high watermark
// (read_uncommitted) or the last stable offset (read_committed). A
// read_committed read also returns the aborted transactions that overlap
// the batches it returns.
func (p *Partition) Read(offset int64, maxBytes int, isolation int8, minOneBatch bool) (ReadInfo, error) {
	p.mu.Lock()
	hw := p.hw
	leader := p.leader == p.nodeID
	p.mu.Unlock()
	if !leader {
		return ReadInfo{}, ErrNotLeader
	}
	lso := hw
	if f, ok := p.log.FirstUnstableOffset(); ok && f < hw {
		lso = f
	}
	bound := hw
	info := ReadInfo{HighWatermark: hw, LastStableOffset: lso, LogStartOffset: p.log.LogStartOffset()}
	if isolation == ReadCommitted {
		bound = lso
		info.AbortedTransactions = []log.AbortedTxn{}
	}
	if offset > hw && offset <= p.log.LogEndOffset() {
		// Offsets above the high watermark exist but are not yet readable:
		// Kafka answers with an empty result, not OFFSET_OUT_OF_RANGE.
		return info, nil
	}
	res, err := p.log.Read(offset, maxBytes, bound, minOneBatch)
	if err != nil {
		return info, err
	}
	info.ReadResult = res
	if isolation == ReadCommitted && res.Size > 0 {
		info.AbortedTransactions = p.log.AbortedTransactions(offset, min(res.NextOffset, lso))
	}
	return info, nil
}

// Watcher is woken when any partition it watches gets new readable data.
// It serves delayed fetches: register, read, wait, unregister.
type Watcher struct {
	c     chan struct{}
	parts []*Partition
}

// NewWatcher returns a watcher of parts.
func NewWatcher(parts ...*Partition) *Watcher {
	w := &Watcher{c: make(chan struct{}, 1), parts: parts}
	for _, p := range parts {
		p.mu.Lock()
		p.watchers[w] = struct{}{}
		p.mu.Unlock()
	}
	return w
}

// C is signalled (level-triggered, at most one pending) on new data.
func (w *Watcher) C() <-chan struct{} { return w.c }

func (w *Watcher) notify() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// Close unregisters the watcher.
func (w *Watcher) Close() {
	for _, p := range w.parts {
		p.mu.Lock()
		delete(p.watchers, w)
		p.mu.Unlock()
	}
}
