package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/internal/coord"
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
type PartitionLog = coord.Log

// ReplicaLog is the PartitionLog of a hosted replica.
type ReplicaLog = coord.ReplicaLog

// Coordinator is the transaction coordinator of the __transaction_state
// partitions this node leads. Its methods are safe for concurrent use;
// each partition's transactional IDs are owned by that partition's loop
// goroutine.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	shard shardConfig
	parts *coord.Partitions[*shard]
}

// partition is one loaded __transaction_state partition and its loop;
// its Epoch is the coordinator epoch, the leader epoch it was loaded at.
type partition = coord.Partition[*shard]

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
	c := &Coordinator{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.parts = coord.NewPartitions(coord.Config[*shard]{
		Topic:    controller.TransactionStateTopic,
		Name:     "transaction coordinator",
		NodeID:   cfg.NodeID,
		Replicas: cfg.Replicas,
		// The coordinator epoch that markers carry is the leader epoch.
		ReloadOnEpochChange: true,
		Run:                 c.loop,
		Errors: coord.Errors{
			NotCoordinator: ErrNotCoordinator,
			LoadInProgress: ErrCoordinatorLoadInProgress,
			NotAvailable:   ErrCoordinatorNotAvailable,
		},
		Logger: c.log,
	})
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
	return coord.PartitionFor(transactionalID, n)
}

// Apply follows a metadata image: it loads the __transaction_state
// partitions this node leads, reloads those whose leader epoch changed
// (the coordinator epoch markers carry), and unloads those it no longer
// leads. The broker calls it with every image, after the replicas have
// applied it.
func (c *Coordinator) Apply(img *metadata.Image) { c.parts.Apply(img, nil) }

// Load starts coordinating the transactional IDs of a partition this node
// now leads at leader epoch coordinatorEpoch, replaying its log first;
// until the replay is done their requests are answered
// COORDINATOR_LOAD_IN_PROGRESS. Transactions found half-completed have
// their markers written again. A partition already loaded is unloaded
// first.
func (c *Coordinator) Load(index, coordinatorEpoch int32, l PartitionLog) {
	c.parts.Load(index, coordinatorEpoch, l)
}

// Unload stops coordinating a partition's transactional IDs: requests
// waiting on them are answered NOT_COORDINATOR and marker writes in
// flight are abandoned, as when Kafka's coordinator resigns; the next
// leader resumes them.
func (c *Coordinator) Unload(index int32) { c.parts.Unload(index) }

// Close unloads every partition and waits for their loops to end.
func (c *Coordinator) Close() error {
	c.parts.Close()
	return nil
}

// SetPartitionCount sets the number of __transaction_state partitions,
// for coordinators driven by Load rather than Apply.
func (c *Coordinator) SetPartitionCount(n int) { c.parts.SetCount(n) }

// call runs fn on the shard that owns id and waits for the answer fn
// passes to done.
func call[R any](ctx context.Context, c *Coordinator, id string, fn func(s *shard, done func(R))) (R, error) {
	var zero R
	if id == "" {
		return zero, fmt.Errorf("%w: empty transactional id", ErrInvalidRequest)
	}
	p, err := c.parts.Route(id)
	if err != nil {
		return zero, err
	}
	return coord.Call(ctx, p, fn)
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
	out, err := coord.Gather(ctx, c.parts, func(s *shard) []Listing { return s.list(filter) })
	sortListings(out)
	return out, err
}

// loop owns one partition's shard: it replays the log, then serves
// requests, deadlines, write completions and marker results until the
// partition is unloaded.
func (c *Coordinator) loop(p *partition) {
	sh := newShard(c.shard, p.Epoch)
	sh.log = c.log.With("partition", p.Index)
	start := time.Now()
	if err := c.replay(p, sh); err != nil {
		if !errors.Is(err, coord.ErrUnloaded) {
			c.log.Error("loading transaction coordinator partition failed", "partition", p.Index, "err", err)
		}
		return
	}
	p.SetLoaded()
	level := slog.LevelDebug
	if len(sh.txns) > 0 {
		level = slog.LevelInfo
	}
	sh.log.Log(context.Background(), level, "transaction coordinator partition loaded",
		"transactional_ids", len(sh.txns), "coordinator_epoch", p.Epoch, "elapsed", time.Since(start))
	// Marker writes in flight when the partition is unloaded are
	// abandoned; the next leader resumes them.
	coord.Serve(p, sh, machine{c, p, sh})
	sh.log.Debug("transaction coordinator partition unloaded")
}

// machine is a partition's shard as its loop drives it.
type machine struct {
	c  *Coordinator
	p  *partition
	sh *shard
}

// Step runs fn in the shard and hands its writes and marker jobs to the
// loop.
func (m machine) Step(now time.Time, fn func()) coord.Effects {
	m.sh.run(now, fn)
	var e coord.Effects
	for _, w := range m.sh.takeWrites() {
		e.Writes = append(e.Writes, coord.Write{
			Append: func(ctx context.Context) error { return m.c.append(ctx, m.p, w) },
			Done:   w.done,
		})
	}
	for _, j := range m.sh.takeMarkers() {
		e.Tasks = append(e.Tasks, func(ctx context.Context) func() {
			err := m.c.cfg.Markers.WriteMarkers(ctx, j.producerID, j.epoch, j.coordinatorEpoch, j.commit, j.partitions)
			return func() { j.done(err) }
		})
	}
	e.Next, _ = m.sh.next()
	return e
}

// replay rebuilds the shard from the partition's log: the last record
// per transactional ID wins, a tombstone removes the ID, as compaction
// would leave it.
func (c *Coordinator) replay(p *partition, sh *shard) error {
	values := map[string]Value{}
	err := coord.Replay(p, c.cfg.LoadBufferSize, func(b record.Batch) error {
		if b.Attributes().Control() {
			return nil
		}
		recs, err := b.DecodeRecords()
		if err != nil {
			return fmt.Errorf("replaying %s-%d batch at %d: %w", controller.TransactionStateTopic, p.Index, b.BaseOffset(), err)
		}
		for _, r := range recs {
			if err := replayRecord(values, r.Key, r.Value); err != nil {
				sh.log.Warn("skipping unreadable record", "offset", r.Offset, "err", err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, coord.ErrUnloaded) {
			return err
		}
		return fmt.Errorf("txn: %w", err)
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
	err = p.Log.Append(ctx, batch)
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
	return fmt.Errorf("txn: writing to %s-%d: %w", controller.TransactionStateTopic, p.Index, err)
}
