package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
)

// Config configures a Coordinator. Zero durations and sizes take Kafka's
// defaults.
type Config struct {
	NodeID int32 // node.id
	// Replicas hosts the __transaction_state partitions; Apply loads those
	// this node leads from it.
	Replicas *replica.Manager
	// ProducerIDs hands out producer IDs for new transactional IDs and for
	// those whose epochs ran out. Required.
	ProducerIDs *ProducerIDs
	// Markers writes transaction markers to partition leaders. Required.
	Markers MarkerWriter

	MaxTimeout            time.Duration // transaction.max.timeout.ms (15 min)
	IDExpiration          time.Duration // transactional.id.expiration.ms (7 days)
	AbortTimedOutInterval time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s)
	RemoveExpiredInterval time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms (1 h)
	LoadBufferSize        int           // transaction.state.log.load.buffer.size (5 MiB)
	// WriteTimeout bounds the wait for a __transaction_state write to be
	// replicated (request.timeout.ms, 30 s, as Kafka's coordinator uses).
	WriteTimeout time.Duration

	// The __transaction_state topic, as the server creates it on the
	// first FindCoordinator for a transactional ID (TopicConfigs).
	NumPartitions     int32 // transaction.state.log.num.partitions (50)
	ReplicationFactor int16 // transaction.state.log.replication.factor
	MinISR            int32 // transaction.state.log.min.isr
	SegmentBytes      int32 // transaction.state.log.segment.bytes (100 MiB)

	// ValueVersion is the __transaction_state value version written: 0
	// (the default; Kafka's at transaction.version 0) or 1 (flexible,
	// Kafka's at transaction.version 1 and up). Both are always read.
	ValueVersion int16
	// Logger; nil discards.
	Logger *slog.Logger
}

// ConfigFrom fills a Config from the broker's settings; the caller adds
// Replicas, ProducerIDs, Markers and Logger.
func ConfigFrom(bc *config.Broker) Config {
	ms := func(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
	return Config{
		NodeID:                bc.NodeID,
		MaxTimeout:            ms(bc.TransactionMaxTimeoutMs),
		IDExpiration:          ms(bc.TransactionalIDExpirationMs),
		AbortTimedOutInterval: ms(bc.TransactionAbortTimedOutTransactionCleanupIntervalMs),
		RemoveExpiredInterval: ms(bc.TransactionRemoveExpiredTransactionCleanupIntervalMs),
		LoadBufferSize:        int(bc.TransactionStateLogLoadBufferSize),
		WriteTimeout:          ms(bc.RequestTimeoutMs),
		NumPartitions:         bc.TransactionStateLogNumPartitions,
		ReplicationFactor:     bc.TransactionStateLogReplicationFactor,
		MinISR:                bc.TransactionStateLogMinISR,
		SegmentBytes:          bc.TransactionStateLogSegmentBytes,
	}
}

// TopicConfigs are the topic configs __transaction_state is created
// with: compacted, uncompressed, never elected uncleanly, as Kafka
// creates it.
func (c Config) TopicConfigs() map[string]string {
	return map[string]string{
		"cleanup.policy":                 "compact",
		"compression.type":               "uncompressed",
		"min.insync.replicas":            strconv.Itoa(int(c.MinISR)),
		"segment.bytes":                  strconv.Itoa(int(c.SegmentBytes)),
		"unclean.leader.election.enable": "false",
	}
}

// PartitionLog is one __transaction_state partition as the coordinator
// uses it. ReplicaLog adapts a replica.Partition.
type PartitionLog interface {
	// Append writes one batch and returns once it is committed (below the
	// high watermark) or ctx ends.
	Append(ctx context.Context, batch []byte) error
	// StartOffset is the first offset to replay from.
	StartOffset() int64
	// Read returns whole batches from offset up to the committed end,
	// about maxBytes of them (at least one); none at the end.
	Read(offset int64, maxBytes int) ([]byte, error)
}

// ReplicaLog is the PartitionLog of a hosted replica.
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

// Coordinator is the transaction coordinator of the __transaction_state
// partitions this node leads. Its methods are safe for concurrent use;
// each partition's transactional IDs are owned by that partition's loop
// goroutine.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	shard shardConfig

	mu            sync.Mutex // guards the fields below
	numPartitions int        // of __transaction_state; 0 while it does not exist
	topicID       [16]byte
	parts         map[int32]*partition
	closed        bool
	wg            sync.WaitGroup
}

// partition is one loaded __transaction_state partition and its loop.
type partition struct {
	index  int32
	epoch  int32 // the coordinator epoch: the leader epoch it was loaded at
	log    PartitionLog
	ops    chan func(*shard)
	stop   chan struct{} // closed to unload
	done   chan struct{} // closed when the loop has ended
	loaded atomic.Bool
}

// New validates cfg, applies defaults and returns a coordinator that
// serves no partition until Apply or Load.
func New(cfg Config) (*Coordinator, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.MaxTimeout, 15*time.Minute)
	def(&cfg.IDExpiration, 7*24*time.Hour)
	def(&cfg.AbortTimedOutInterval, 10*time.Second)
	def(&cfg.RemoveExpiredInterval, time.Hour)
	def(&cfg.WriteTimeout, 30*time.Second)
	if cfg.LoadBufferSize <= 0 {
		cfg.LoadBufferSize = 5 << 20
	}
	if cfg.NumPartitions <= 0 {
		cfg.NumPartitions = 50
	}
	if cfg.ReplicationFactor <= 0 {
		cfg.ReplicationFactor = 1
	}
	if cfg.MinISR <= 0 {
		cfg.MinISR = 1
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = 100 << 20
	}
	switch {
	case cfg.ProducerIDs == nil:
		return nil, errors.New("txn: Config.ProducerIDs is required")
	case cfg.Markers == nil:
		return nil, errors.New("txn: Config.Markers is required")
	case cfg.ValueVersion != ValueVersion0 && cfg.ValueVersion != ValueVersion1:
		return nil, fmt.Errorf("txn: __transaction_state value version %d is not 0 or 1", cfg.ValueVersion)
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger, parts: map[int32]*partition{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.shard = shardConfig{
		idExpiration:   cfg.IDExpiration,
		abortInterval:  cfg.AbortTimedOutInterval,
		expireInterval: cfg.RemoveExpiredInterval,
		valueVersion:   cfg.ValueVersion,
		newProducerID:  cfg.ProducerIDs.Next,
		log:            c.log,
	}
	return c, nil
}

// Config returns the coordinator's configuration with defaults applied.
func (c *Coordinator) Config() Config { return c.cfg }

// PartitionFor returns the __transaction_state partition of a
// transactional ID among n: abs(Java hashCode of the ID) modulo n, as
// Kafka places it, so that both agree on the coordinator.
func PartitionFor(transactionalID string, n int) int32 {
	if n <= 0 {
		return 0
	}
	h := javaStringHash(transactionalID)
	if h == -1<<31 {
		h = 0 // Kafka's Utils.abs
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

// Apply follows a metadata image: it loads the __transaction_state
// partitions this node leads, reloads those whose leader epoch changed
// (the coordinator epoch markers carry), and unloads those it no longer
// leads. The broker calls it with every image, after the replicas have
// applied it.
func (c *Coordinator) Apply(img *metadata.Image) {
	t := img.Topic(controller.TransactionStateTopic)
	want := map[int32]int32{} // partition → leader epoch
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	var id [16]byte
	if t != nil {
		id = t.ID
		for _, p := range t.Partitions {
			if p.Leader == c.cfg.NodeID {
				want[p.Index] = p.LeaderEpoch
			}
		}
		c.numPartitions = len(t.Partitions)
	} else {
		c.numPartitions = 0
	}
	recreated := id != c.topicID
	c.topicID = id
	var stopping []*partition
	for idx, p := range c.parts {
		epoch, ok := want[idx]
		if !ok || epoch != p.epoch || recreated || isClosed(p.done) {
			stopping = append(stopping, p)
			close(p.stop)
			delete(c.parts, idx)
		}
	}
	var starting []int32
	for idx := range want {
		if _, ok := c.parts[idx]; !ok {
			starting = append(starting, idx)
		}
	}
	c.mu.Unlock()
	for _, p := range stopping {
		<-p.done
	}
	for _, idx := range starting {
		if c.cfg.Replicas == nil {
			c.log.Error("cannot load transaction coordinator partition: no replica manager", "partition", idx)
			continue
		}
		rp, err := c.cfg.Replicas.Get(controller.TransactionStateTopic, idx)
		if err != nil {
			c.log.Error("cannot load transaction coordinator partition", "partition", idx, "err", err)
			continue
		}
		c.Load(idx, want[idx], ReplicaLog{rp})
	}
}

// Load starts coordinating the transactional IDs of a partition this node
// now leads at leader epoch coordinatorEpoch, replaying its log first;
// until the replay is done their requests are answered
// COORDINATOR_LOAD_IN_PROGRESS. Transactions found half-completed have
// their markers written again. A partition already loaded is unloaded
// first.
func (c *Coordinator) Load(index, coordinatorEpoch int32, l PartitionLog) {
	c.Unload(index)
	p := &partition{
		index: index, epoch: coordinatorEpoch, log: l,
		ops:  make(chan func(*shard), 64),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.parts[index] = p
	c.wg.Go(func() { c.loop(p) })
}

// Unload stops coordinating a partition's transactional IDs: requests
// waiting on them are answered NOT_COORDINATOR and marker writes in
// flight are abandoned, as when Kafka's coordinator resigns; the next
// leader resumes them.
func (c *Coordinator) Unload(index int32) {
	c.mu.Lock()
	p := c.parts[index]
	if p != nil {
		delete(c.parts, index)
		close(p.stop)
	}
	c.mu.Unlock()
	if p != nil {
		<-p.done
	}
}

// Close unloads every partition and waits for their loops to end.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	c.closed = true
	for idx, p := range c.parts {
		close(p.stop)
		delete(c.parts, idx)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// SetPartitionCount sets the number of __transaction_state partitions,
// for coordinators driven by Load rather than Apply.
func (c *Coordinator) SetPartitionCount(n int) {
	c.mu.Lock()
	c.numPartitions = n
	c.mu.Unlock()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// route finds the loaded partition that owns a transactional ID.
func (c *Coordinator) route(id string) (*partition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.numPartitions == 0 {
		return nil, ErrNotCoordinator
	}
	p := c.parts[PartitionFor(id, c.numPartitions)]
	switch {
	case p == nil || isClosed(p.done):
		return nil, ErrNotCoordinator
	case !p.loaded.Load():
		return p, ErrCoordinatorLoadInProgress
	}
	return p, nil
}

// call runs fn on the shard that owns id and waits for the answer fn
// passes to done.
func call[R any](ctx context.Context, c *Coordinator, id string, fn func(s *shard, done func(R))) (R, error) {
	var zero R
	if id == "" {
		return zero, fmt.Errorf("%w: empty transactional id", ErrInvalidRequest)
	}
	p, err := c.route(id)
	if err != nil {
		return zero, err
	}
	return callOn(ctx, p, fn)
}

func callOn[R any](ctx context.Context, p *partition, fn func(s *shard, done func(R))) (R, error) {
	var zero R
	ch := make(chan R, 1)
	op := func(s *shard) {
		fn(s, func(r R) {
			select {
			case ch <- r:
			default: // answered already
			}
		})
	}
	select {
	case p.ops <- op:
	case <-p.done:
		return zero, ErrNotCoordinator
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, ctx.Err())
	}
	select {
	case r := <-ch:
		return r, nil
	case <-p.done:
		select {
		case r := <-ch:
			return r, nil
		default:
			return zero, ErrNotCoordinator
		}
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, ctx.Err())
	}
}

// errResult pairs a call's outcome with its error.
type errResult[T any] struct {
	v   T
	err error
}

// InitProducerID handles InitProducerId for a transactional ID. A new ID
// gets a fresh producer ID at epoch 0; a known one gets its epoch bumped
// (a new producer ID once the epochs run out), fencing older producers.
// An ongoing transaction is aborted first and the answer is
// ErrConcurrentTransactions, so that the client retries once the abort is
// done. producerID and epoch are -1, or what the client last had
// (KIP-360): they must be the current or the previous ones.
func (c *Coordinator) InitProducerID(ctx context.Context, transactionalID string, timeout time.Duration, producerID int64, epoch int16) (int64, int16, error) {
	if (producerID == -1) != (epoch == -1) {
		return -1, -1, fmt.Errorf("%w: producer id %d with epoch %d", ErrInvalidRequest, producerID, epoch)
	}
	if timeout <= 0 || timeout > c.cfg.MaxTimeout {
		return -1, -1, fmt.Errorf("%w: %v (transaction.max.timeout.ms is %v)", ErrInvalidTransactionTimeout, timeout, c.cfg.MaxTimeout)
	}
	var expected *pidEpoch
	if producerID != -1 {
		expected = &pidEpoch{producerID: producerID, epoch: epoch}
	}
	type res struct {
		pid   int64
		epoch int16
	}
	r, err := call(ctx, c, transactionalID, func(s *shard, done func(errResult[res])) {
		s.initProducerID(transactionalID, int32(timeout.Milliseconds()), expected, func(pid int64, epoch int16, err error) {
			done(errResult[res]{res{pid, epoch}, err})
		})
	})
	if err == nil {
		err = r.err
	}
	if err != nil {
		return -1, -1, err
	}
	return r.v.pid, r.v.epoch, nil
}

// AddPartitions handles AddPartitionsToTxn: it adds partitions to the
// producer's transaction, starting one if none is ongoing. Adding
// partitions already in the transaction succeeds without a write.
func (c *Coordinator) AddPartitions(ctx context.Context, transactionalID string, producerID int64, epoch int16, partitions []TopicPartition) error {
	r, err := call(ctx, c, transactionalID, func(s *shard, done func(error)) {
		s.addPartitions(transactionalID, producerID, epoch, partitions, done)
	})
	if err != nil {
		return err
	}
	return r
}

// AddOffsets handles AddOffsetsToTxn: it adds the __consumer_offsets
// partition of the group (groupPartition, which the caller computes) to
// the transaction, so that its transactional offset commits get markers.
func (c *Coordinator) AddOffsets(ctx context.Context, transactionalID string, producerID int64, epoch int16, groupPartition int32) error {
	tp := TopicPartition{Topic: controller.ConsumerOffsetsTopic, Partition: groupPartition}
	return c.AddPartitions(ctx, transactionalID, producerID, epoch, []TopicPartition{tp})
}

// VerifyPartitions handles a verify-only AddPartitionsToTxn (v4+,
// KIP-890 part 1): one error per partition, nil when it is in the
// transaction and ErrTransactionAbortable when not, or one error for
// them all. Nothing changes.
func (c *Coordinator) VerifyPartitions(ctx context.Context, transactionalID string, producerID int64, epoch int16, partitions []TopicPartition) ([]error, error) {
	r, err := call(ctx, c, transactionalID, func(s *shard, done func(errResult[[]error])) {
		errs, err := s.verifyPartitions(transactionalID, producerID, epoch, partitions)
		done(errResult[[]error]{errs, err})
	})
	if err == nil {
		err = r.err
	}
	if err != nil {
		return nil, err
	}
	return r.v, nil
}

// EndTxn handles EndTxn: it decides the outcome of the producer's
// ongoing transaction and returns once that decision (PrepareCommit or
// PrepareAbort) is written; the markers follow, then CompleteCommit or
// CompleteAbort. A retry while the markers are written is answered
// ErrConcurrentTransactions, one after they are succeeds; the other
// outcome is ErrInvalidTxnState.
func (c *Coordinator) EndTxn(ctx context.Context, transactionalID string, producerID int64, epoch int16, commit bool) error {
	r, err := call(ctx, c, transactionalID, func(s *shard, done func(error)) {
		s.endTxn(transactionalID, producerID, epoch, commit, done)
	})
	if err != nil {
		return err
	}
	return r
}

// Describe handles DescribeTransactions: one Description per ID, in
// order.
func (c *Coordinator) Describe(ctx context.Context, ids []string) []Description {
	out := make([]Description, len(ids))
	for i, id := range ids {
		d, err := call(ctx, c, id, func(s *shard, done func(Description)) { done(s.describe(id)) })
		if err != nil {
			d = Description{ID: id, Err: err}
		}
		out[i] = d
	}
	return out
}

// List handles ListTransactions over every loaded partition, sorted by
// transactional ID. While a partition is loading its IDs are missing and
// the error is ErrCoordinatorLoadInProgress, with the IDs of the others.
func (c *Coordinator) List(ctx context.Context, filter ListFilter) ([]Listing, error) {
	c.mu.Lock()
	parts := make([]*partition, 0, len(c.parts))
	for _, p := range c.parts {
		parts = append(parts, p)
	}
	c.mu.Unlock()
	var out []Listing
	var firstErr error
	for _, p := range parts {
		if !p.loaded.Load() {
			firstErr = cmpErr(firstErr, ErrCoordinatorLoadInProgress)
			continue
		}
		ls, err := callOn(ctx, p, func(s *shard, done func([]Listing)) { done(s.list(filter)) })
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		out = append(out, ls...)
	}
	sortListings(out)
	return out, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// loop owns one partition's shard: it replays the log, then serves
// requests, deadlines, write completions and marker results until the
// partition is unloaded.
func (c *Coordinator) loop(p *partition) {
	defer close(p.done)
	sh := newShard(c.shard, p.epoch)
	sh.log = c.log.With("partition", p.index)
	start := time.Now()
	if err := c.replay(p, sh); err != nil {
		if !errors.Is(err, errUnloaded) {
			c.log.Error("loading transaction coordinator partition failed", "partition", p.index, "err", err)
		}
		return
	}
	p.loaded.Store(true)
	level := slog.LevelDebug
	if len(sh.txns) > 0 {
		level = slog.LevelInfo
	}
	sh.log.Log(context.Background(), level, "transaction coordinator partition loaded",
		"transactional_ids", len(sh.txns), "coordinator_epoch", p.epoch, "elapsed", time.Since(start))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := make(chan write)
	results := make(chan error)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(results)
		for w := range jobs {
			results <- c.append(ctx, p, w)
		}
	})
	type markerResult struct {
		job markerJob
		err error
	}
	markerResults := make(chan markerResult)
	var markers sync.WaitGroup
	var queue, inflight []write
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	step := func(fn func()) {
		sh.run(time.Now(), fn)
		queue = append(queue, sh.takeWrites()...)
		for _, j := range sh.takeMarkers() {
			markers.Go(func() {
				err := c.cfg.Markers.WriteMarkers(ctx, j.producerID, j.epoch, j.coordinatorEpoch, j.commit, j.partitions)
				select {
				case markerResults <- markerResult{j, err}:
				case <-ctx.Done():
				}
			})
		}
		if at, ok := sh.next(); ok {
			timer.Reset(time.Until(at))
		} else {
			timer.Stop()
		}
	}
	step(nil)
	for {
		var send chan write
		var next write
		if len(queue) > 0 {
			send, next = jobs, queue[0]
		}
		select {
		case op := <-p.ops:
			step(func() { op(sh) })
		case send <- next:
			inflight = append(inflight, next)
			queue = queue[1:]
		case err := <-results:
			w := inflight[0]
			inflight = inflight[1:]
			step(func() { w.done(err) })
		case r := <-markerResults:
			step(func() { r.job.done(r.err) })
		case <-timer.C:
			step(nil)
		case <-p.stop:
			// Marker writes and writes waiting for replication are
			// abandoned; those not yet handed to the writer fail. Then
			// everyone still waiting is told this node no longer
			// coordinates.
			cancel()
			close(jobs)
			for err := range results {
				w := inflight[0]
				inflight = inflight[1:]
				sh.run(time.Now(), func() { w.done(err) })
			}
			wg.Wait()
			markers.Wait()
			for pending := append(inflight, queue...); len(pending) > 0; pending = sh.takeWrites() {
				for _, w := range pending {
					sh.run(time.Now(), func() { w.done(ErrNotCoordinator) })
				}
			}
			sh.log.Debug("transaction coordinator partition unloaded")
			return
		}
	}
}

var errUnloaded = errors.New("txn: partition unloaded")

// replay rebuilds the shard from the partition's log: the last record
// per transactional ID wins, a tombstone removes the ID, as compaction
// would leave it.
func (c *Coordinator) replay(p *partition, sh *shard) error {
	values := map[string]Value{}
	off := p.log.StartOffset()
	for {
		select {
		case <-p.stop:
			return errUnloaded
		default:
		}
		data, err := p.log.Read(off, c.cfg.LoadBufferSize)
		if err != nil {
			return fmt.Errorf("txn: reading %s-%d at %d: %w", controller.TransactionStateTopic, p.index, off, err)
		}
		if len(data) == 0 {
			break
		}
		for len(data) > 0 {
			b, rest, err := record.Next(data)
			if err != nil {
				return fmt.Errorf("txn: replaying %s-%d at %d: %w", controller.TransactionStateTopic, p.index, off, err)
			}
			data = rest
			off = b.NextOffset()
			if b.Attributes().Control() {
				continue
			}
			recs, err := b.DecodeRecords()
			if err != nil {
				return fmt.Errorf("txn: replaying %s-%d batch at %d: %w", controller.TransactionStateTopic, p.index, b.BaseOffset(), err)
			}
			for _, r := range recs {
				if err := replayRecord(values, r.Key, r.Value); err != nil {
					sh.log.Warn("skipping unreadable record", "offset", r.Offset, "err", err)
				}
			}
		}
	}
	sh.run(time.Now(), func() { sh.load(values) })
	return nil
}

// replayRecord applies one __transaction_state record to values.
func replayRecord(values map[string]Value, key, value []byte) error {
	id, err := ParseKey(key)
	if err != nil {
		return err
	}
	if value == nil {
		delete(values, id)
		return nil
	}
	v, err := ParseValue(value)
	if err != nil {
		return fmt.Errorf("transactional id %q: %w", id, err)
	}
	values[id] = v
	return nil
}

// append encodes a write as one uncompressed batch (Kafka never
// compresses __transaction_state) and appends it, waiting at most
// WriteTimeout for replication. Errors come back as the txn package's:
// ErrNotCoordinator when this node no longer leads the partition,
// ErrCoordinatorNotAvailable when it cannot take writes now.
func (c *Coordinator) append(ctx context.Context, p *partition, w write) error {
	now := time.Now().UnixMilli()
	bb := record.NewBuilder(record.BuilderOptions{
		PartitionLeaderEpoch: -1, Compression: record.CompressionNone,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	})
	for i, r := range w.records {
		bb.Add(record.Record{Offset: int64(i), Timestamp: now, Key: r.key, Value: r.value})
	}
	batch, err := bb.Build()
	if err != nil {
		return fmt.Errorf("txn: encoding records: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WriteTimeout)
	defer cancel()
	err = p.log.Append(ctx, batch)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replica.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", errWriteTimeout, err)
	case errors.Is(err, log.ErrRecordTooLarge):
		return fmt.Errorf("%w: %w", errWriteTooLarge, err)
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, log.ErrStorage), errors.Is(err, log.ErrClosed),
		errors.Is(err, log.ErrCorruptLog), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrNotCoordinator, err)
	case errors.Is(err, replica.ErrUnknownTopicOrPartition), errors.Is(err, replica.ErrNotEnoughReplicas):
		return fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err)
	}
	return fmt.Errorf("txn: writing to %s-%d: %w", controller.TransactionStateTopic, p.index, err)
}
