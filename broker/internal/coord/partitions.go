package coord

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/replica"
)

// Log is one partition of a coordinator's internal topic as the
// coordinator uses it. ReplicaLog adapts a replica.Partition.
type Log interface {
	// Append writes one batch and returns once it is committed (below the
	// high watermark) or ctx ends.
	Append(ctx context.Context, batch []byte) error
	// StartOffset is the first offset to replay from.
	StartOffset() int64
	// Read returns whole batches from offset up to the committed end,
	// about maxBytes of them (at least one); none at the end.
	Read(offset int64, maxBytes int) ([]byte, error)
}

// ReplicaLog is the Log of a hosted replica.
type ReplicaLog struct{ P *replica.Partition }

// Append writes batch as a coordinator append and waits for replication.
func (r ReplicaLog) Append(ctx context.Context, batch []byte) error {
	_, err := r.P.AppendInternal(ctx, batch)
	return err
}

// StartOffset is the log start offset.
func (r ReplicaLog) StartOffset() int64 { return r.P.Log().LogStartOffset() }

// Read reads from the log below the high watermark.
func (r ReplicaLog) Read(offset int64, maxBytes int) ([]byte, error) {
	res, err := r.P.Log().Read(offset, maxBytes, r.P.HighWatermark(), true)
	if err != nil || res.Size == 0 {
		return nil, err
	}
	return res.ReadInto(nil)
}

// Errors are the coordinator's own sentinel errors, which Partitions,
// Call and Serve return so that each coordinator's callers see only its
// package's errors.
type Errors struct {
	// NotCoordinator: this node does not (or no longer) own the key's
	// partition.
	NotCoordinator error
	// LoadInProgress: the partition is still being replayed.
	LoadInProgress error
	// NotAvailable: the caller's context ended before an answer; it is
	// wrapped together with the context's error.
	NotAvailable error
}

// Config configures Partitions.
type Config[S any] struct {
	// Topic is the internal topic: __consumer_offsets or
	// __transaction_state.
	Topic string
	// Name names the coordinator in log messages ("group coordinator").
	Name   string
	NodeID int32 // node.id
	// Replicas hosts the topic's partitions; Apply loads those this node
	// leads from it.
	Replicas *replica.Manager
	// ReloadOnEpochChange makes Apply reload a partition whose leader
	// epoch changed, for coordinators whose epoch is the leader epoch.
	ReloadOnEpochChange bool
	// Run is a loaded partition's loop: it replays the partition and then
	// serves it (Serve) until the partition is unloaded. Partitions starts
	// it on a goroutine of its own and marks the partition Done when it
	// returns.
	Run    func(p *Partition[S])
	Errors Errors
	// Logger; nil discards.
	Logger *slog.Logger
}

// Partitions is the registry of the internal topic's partitions a
// coordinator has loaded, each owned by its loop goroutine running a
// state machine of type S. It places keys on partitions, routes calls to
// their loops, and loads and unloads partitions as leadership moves. Its
// methods are safe for concurrent use.
type Partitions[S any] struct {
	cfg Config[S]
	log *slog.Logger

	mu      sync.Mutex // guards the fields below
	count   int        // partitions of the topic; 0 while it does not exist
	topicID [16]byte
	parts   map[int32]*Partition[S]
	closed  bool
	wg      sync.WaitGroup // loops, and the ops Apply posts
}

// Partition is one loaded partition of the internal topic and the channel
// to its loop.
type Partition[S any] struct {
	// Index is the partition's index in the topic.
	Index int32
	// Epoch is the partition's leader epoch when it was loaded.
	Epoch int32
	// Log is the partition's log.
	Log Log

	cfg    *Config[S]
	ops    chan func(S)
	stop   chan struct{} // closed to unload
	done   chan struct{} // closed when the loop has ended
	loaded atomic.Bool
}

// NewPartitions returns a registry with no partition loaded.
func NewPartitions[S any](cfg Config[S]) *Partitions[S] {
	r := &Partitions[S]{cfg: cfg, log: cfg.Logger, parts: map[int32]*Partition[S]{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Apply follows a metadata image: it loads the partitions this node leads
// and unloads those it no longer leads, and all of them when the topic
// was deleted or recreated. With ReloadOnEpochChange it reloads those
// whose leader epoch changed. When kept is not nil it is posted to every
// partition that stays loaded, without waiting for it to run.
func (r *Partitions[S]) Apply(img *metadata.Image, kept func(S)) {
	t := img.Topic(r.cfg.Topic)
	want := map[int32]int32{} // partition → leader epoch
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	var id [16]byte
	if t != nil {
		id = t.ID
		for _, p := range t.Partitions {
			if p.Leader == r.cfg.NodeID {
				want[p.Index] = p.LeaderEpoch
			}
		}
		r.count = len(t.Partitions)
	} else {
		r.count = 0
	}
	recreated := id != r.topicID
	r.topicID = id
	var stopping []*Partition[S]
	for idx, p := range r.parts {
		epoch, ok := want[idx]
		if !ok || recreated || (r.cfg.ReloadOnEpochChange && epoch != p.Epoch) || isClosed(p.done) {
			stopping = append(stopping, p)
			close(p.stop)
			delete(r.parts, idx)
		}
	}
	var starting []int32
	for idx := range want {
		if _, ok := r.parts[idx]; !ok {
			starting = append(starting, idx)
		}
	}
	if kept != nil {
		// The loops run it when they get to it: the controller is waiting
		// for this call.
		for _, p := range r.parts {
			r.wg.Go(func() {
				select {
				case p.ops <- kept:
				case <-p.done:
				}
			})
		}
	}
	r.mu.Unlock()
	for _, p := range stopping {
		<-p.done
	}
	for _, idx := range starting {
		if r.cfg.Replicas == nil {
			r.log.Error("cannot load "+r.cfg.Name+" partition: no replica manager", "partition", idx)
			continue
		}
		rp, err := r.cfg.Replicas.Get(r.cfg.Topic, idx)
		if err != nil {
			r.log.Error("cannot load "+r.cfg.Name+" partition", "partition", idx, "err", err)
			continue
		}
		r.Load(idx, want[idx], ReplicaLog{rp})
	}
}

// Load starts the loop of a partition this node now leads at leader epoch
// epoch. A partition already loaded is unloaded first.
func (r *Partitions[S]) Load(index, epoch int32, l Log) {
	r.Unload(index)
	p := &Partition[S]{
		Index: index, Epoch: epoch, Log: l,
		cfg:  &r.cfg,
		ops:  make(chan func(S), 64),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.parts[index] = p
	r.wg.Go(func() {
		defer close(p.done)
		r.cfg.Run(p)
	})
}

// Unload stops a partition's loop and waits for it to end.
func (r *Partitions[S]) Unload(index int32) {
	r.mu.Lock()
	p := r.parts[index]
	if p != nil {
		delete(r.parts, index)
		close(p.stop)
	}
	r.mu.Unlock()
	if p != nil {
		<-p.done
	}
}

// Close unloads every partition and waits for their loops to end. Loads
// and Applies after it do nothing.
func (r *Partitions[S]) Close() {
	r.mu.Lock()
	r.closed = true
	for idx, p := range r.parts {
		close(p.stop)
		delete(r.parts, idx)
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// SetCount sets the number of partitions of the topic, for coordinators
// driven by Load rather than Apply.
func (r *Partitions[S]) SetCount(n int) {
	r.mu.Lock()
	r.count = n
	r.mu.Unlock()
}

// Get returns the loaded partition index, or nil.
func (r *Partitions[S]) Get(index int32) *Partition[S] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.parts[index]
}

// All returns the loaded partitions, in no particular order.
func (r *Partitions[S]) All() []*Partition[S] {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := make([]*Partition[S], 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	return parts
}

// Route finds the loaded partition that owns key (PartitionFor). The
// error is Errors.NotCoordinator when this node does not lead it, and
// Errors.LoadInProgress, with the partition, while it is being replayed.
func (r *Partitions[S]) Route(key string) (*Partition[S], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.count == 0 {
		return nil, r.cfg.Errors.NotCoordinator
	}
	p := r.parts[PartitionFor(key, r.count)]
	switch {
	case p == nil || isClosed(p.done):
		return nil, r.cfg.Errors.NotCoordinator
	case !p.loaded.Load():
		return p, r.cfg.Errors.LoadInProgress
	}
	return p, nil
}

// Loaded reports whether the partition's log has been replayed.
func (p *Partition[S]) Loaded() bool { return p.loaded.Load() }

// SetLoaded marks the partition's log as replayed: from now on Route
// sends its callers to the loop.
func (p *Partition[S]) SetLoaded() { p.loaded.Store(true) }

// Unloading is closed once the partition is to be unloaded.
func (p *Partition[S]) Unloading() <-chan struct{} { return p.stop }

// Call runs fn in p's loop and waits for the answer fn passes to done,
// which it may do later, from another call to the state machine. Only
// the first answer counts. When the loop ends first the error is
// Errors.NotCoordinator; when ctx ends first, Errors.NotAvailable with
// ctx's error.
func Call[S, R any](ctx context.Context, p *Partition[S], fn func(s S, done func(R))) (R, error) {
	var zero R
	ch := make(chan R, 1)
	op := func(s S) {
		fn(s, func(r R) {
			select {
			case ch <- r:
			default: // answered already
			}
		})
	}
	errs := &p.cfg.Errors
	select {
	case p.ops <- op:
	case <-p.done:
		return zero, errs.NotCoordinator
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", errs.NotAvailable, ctx.Err())
	}
	select {
	case r := <-ch:
		return r, nil
	case <-p.done:
		select {
		case r := <-ch:
			return r, nil
		default:
			return zero, errs.NotCoordinator
		}
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", errs.NotAvailable, ctx.Err())
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// PartitionFor returns the partition of the internal topic that owns key
// (a group ID or a transactional ID) among n: abs(Java hashCode of key)
// modulo n, with Kafka's abs that maps the smallest int32 to 0, so that
// Runnel places keys where Kafka does.
func PartitionFor(key string, n int) int32 {
	if n <= 0 {
		return 0
	}
	h := javaStringHash(key)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % int32(n)
}

// javaStringHash is Java's String.hashCode over the UTF-16 code units of
// s.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// Gather runs fn in the loop of every loaded partition and returns what
// they return, in no particular order. Partitions still being replayed
// are skipped with Errors.LoadInProgress; the first error met comes back
// with the results of the other partitions.
func Gather[S, T any](ctx context.Context, r *Partitions[S], fn func(S) []T) ([]T, error) {
	var out []T
	var firstErr error
	for _, p := range r.All() {
		if !p.Loaded() {
			firstErr = cmp.Or(firstErr, r.cfg.Errors.LoadInProgress)
			continue
		}
		ts, err := Call(ctx, p, func(s S, done func([]T)) { done(fn(s)) })
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		out = append(out, ts...)
	}
	return out, firstErr
}
