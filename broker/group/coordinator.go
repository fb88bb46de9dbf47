package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/internal/coord"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
)

// Config configures a Coordinator. Zero durations and sizes take Kafka's
// defaults, except InitialRebalanceDelay, where zero means no delay.
type Config struct {
	NodeID int32 // node.id
	// Replicas hosts the __consumer_offsets partitions; Apply loads those
	// this node leads from it.
	Replicas *replica.Manager

	MinSessionTimeout     time.Duration // group.min.session.timeout.ms (6 s)
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms (30 min)
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	MaxSize               int           // group.max.size (unbounded)

	OffsetsRetention              time.Duration      // offsets.retention.minutes (7 days)
	OffsetsRetentionCheckInterval time.Duration      // offsets.retention.check.interval.ms (10 min)
	OffsetMetadataMaxBytes        int                // offset.metadata.max.bytes (4096)
	OffsetsLoadBufferSize         int                // offsets.load.buffer.size (5 MiB)
	OffsetsCommitTimeout          time.Duration      // offsets.commit.timeout.ms (5 s)
	Compression                   record.Compression // offsets.topic.compression.codec

	// NewMemberID makes a member ID from a client or instance ID; nil
	// makes prefix-uuid, as Kafka does.
	NewMemberID func(prefix string) string
	// Logger; nil discards.
	Logger *slog.Logger
}

// ConfigFrom fills a Config from the broker's settings; the caller adds
// Replicas and Logger.
func ConfigFrom(bc *config.Broker) Config {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	return Config{
		NodeID:                        bc.NodeID,
		MinSessionTimeout:             ms(int64(bc.GroupMinSessionTimeoutMs)),
		MaxSessionTimeout:             ms(int64(bc.GroupMaxSessionTimeoutMs)),
		InitialRebalanceDelay:         ms(int64(bc.GroupInitialRebalanceDelayMs)),
		MaxSize:                       int(bc.GroupMaxSize),
		OffsetsRetention:              time.Duration(bc.OffsetsRetentionMinutes) * time.Minute,
		OffsetsRetentionCheckInterval: ms(bc.OffsetsRetentionCheckIntervalMs),
		OffsetMetadataMaxBytes:        int(bc.OffsetMetadataMaxBytes),
		OffsetsLoadBufferSize:         int(bc.OffsetsLoadBufferSize),
		OffsetsCommitTimeout:          ms(int64(bc.OffsetsCommitTimeoutMs)),
		Compression:                   record.Compression(bc.OffsetsTopicCompressionCodec),
	}
}

// PartitionLog is one __consumer_offsets partition as the coordinator uses
// it. ReplicaLog adapts a replica.Partition.
type PartitionLog = coord.Log

// ReplicaLog is the PartitionLog of a hosted replica.
type ReplicaLog = coord.ReplicaLog

// Coordinator serves the groups of the __consumer_offsets partitions this
// node leads. Its methods are safe for concurrent use; each partition's
// groups are owned by that partition's loop goroutine.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	shard shardConfig
	parts *coord.Partitions[*shard]

	mu sync.Mutex // guards topics
	// topics are the topics of the last image applied, by ID, to notice
	// deletions; nil before the first.
	topics map[string][16]byte
}

// partition is one loaded __consumer_offsets partition and its loop.
type partition = coord.Partition[*shard]

// New validates cfg, applies defaults and returns a coordinator that
// serves no partition until Apply or Load.
func New(cfg Config) (*Coordinator, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.MinSessionTimeout, 6*time.Second)
	def(&cfg.MaxSessionTimeout, 30*time.Minute)
	def(&cfg.OffsetsRetention, 7*24*time.Hour)
	def(&cfg.OffsetsRetentionCheckInterval, 10*time.Minute)
	def(&cfg.OffsetsCommitTimeout, 5*time.Second)
	if cfg.InitialRebalanceDelay < 0 {
		cfg.InitialRebalanceDelay = 0
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = math.MaxInt32
	}
	if cfg.OffsetMetadataMaxBytes <= 0 {
		cfg.OffsetMetadataMaxBytes = 4096
	}
	if cfg.OffsetsLoadBufferSize <= 0 {
		cfg.OffsetsLoadBufferSize = 5 << 20
	}
	if cfg.MinSessionTimeout > cfg.MaxSessionTimeout {
		return nil, fmt.Errorf("group: group.min.session.timeout.ms (%v) is above group.max.session.timeout.ms (%v)", cfg.MinSessionTimeout, cfg.MaxSessionTimeout)
	}
	if cfg.Compression < record.CompressionNone || cfg.Compression > record.CompressionZstd {
		return nil, fmt.Errorf("group: offsets.topic.compression.codec %d is not a codec", cfg.Compression)
	}
	if cfg.NewMemberID == nil {
		cfg.NewMemberID = func(prefix string) string { return prefix + "-" + uuid.NewString() }
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.parts = coord.NewPartitions(coord.Config[*shard]{
		Topic:    controller.ConsumerOffsetsTopic,
		Name:     "group coordinator",
		NodeID:   cfg.NodeID,
		Replicas: cfg.Replicas,
		Run:      c.loop,
		Errors: coord.Errors{
			NotCoordinator: ErrNotCoordinator,
			LoadInProgress: ErrCoordinatorLoadInProgress,
			NotAvailable:   ErrCoordinatorNotAvailable,
		},
		Logger: c.log,
	})
	c.shard = shardConfig{
		minSession:       cfg.MinSessionTimeout,
		maxSession:       cfg.MaxSessionTimeout,
		initialDelay:     cfg.InitialRebalanceDelay,
		maxSize:          cfg.MaxSize,
		retention:        cfg.OffsetsRetention,
		retentionCheck:   cfg.OffsetsRetentionCheckInterval,
		metadataMaxBytes: cfg.OffsetMetadataMaxBytes,
		newMemberID:      cfg.NewMemberID,
		log:              c.log,
	}
	return c, nil
}

// Apply follows a metadata image: it loads the __consumer_offsets
// partitions this node leads and unloads those it no longer leads. The
// broker calls it with every image, after the replicas have applied it.
func (c *Coordinator) Apply(img *metadata.Image) {
	c.mu.Lock()
	var deleted map[string]bool
	for name, tid := range c.topics {
		if t := img.Topic(name); t == nil || t.ID != tid {
			if deleted == nil {
				deleted = map[string]bool{}
			}
			deleted[name] = true
		}
	}
	c.topics = make(map[string][16]byte, len(img.Topics))
	for name, t := range img.Topics {
		c.topics[name] = t.ID
	}
	c.mu.Unlock()
	var kept func(*shard)
	if len(deleted) > 0 {
		// Offsets of deleted topics go, as Kafka removes them when
		// partitions are deleted.
		kept = func(s *shard) { s.removeTopics(deleted) }
	}
	c.parts.Apply(img, kept)
}

// Load starts serving the groups of a partition this node now leads,
// replaying its log first; until the replay is done their requests are
// answered COORDINATOR_LOAD_IN_PROGRESS. A partition already loaded is
// unloaded first.
func (c *Coordinator) Load(index int32, l PartitionLog) { c.parts.Load(index, 0, l) }

// Unload stops serving a partition's groups: requests waiting on them are
// answered NOT_COORDINATOR, as when Kafka's coordinator resigns.
func (c *Coordinator) Unload(index int32) { c.parts.Unload(index) }

// Close unloads every partition and waits for their loops to end.
func (c *Coordinator) Close() error {
	c.parts.Close()
	return nil
}

// SetPartitionCount sets the number of __consumer_offsets partitions, for
// coordinators driven by Load rather than Apply.
func (c *Coordinator) SetPartitionCount(n int) { c.parts.SetCount(n) }

// call runs fn on the shard that owns groupID and waits for the answer fn
// passes to done.
func call[R any](ctx context.Context, c *Coordinator, groupID string, fn func(s *shard, done func(R))) (R, error) {
	p, err := c.parts.Route(groupID)
	if err != nil {
		var zero R
		return zero, err
	}
	return coord.Call(ctx, p, fn)
}

// Join handles a JoinGroup. It may wait for the rebalance to complete.
func (c *Coordinator) Join(ctx context.Context, req JoinRequest) JoinResult {
	if req.Group == "" {
		return JoinResult{Err: ErrInvalidGroupID, MemberID: req.MemberID}
	}
	r, err := call(ctx, c, req.Group, func(s *shard, done func(JoinResult)) { s.join(req, done) })
	if err != nil {
		return JoinResult{Err: err, MemberID: req.MemberID}
	}
	return r
}

// Sync handles a SyncGroup. It may wait for the leader's assignment.
func (c *Coordinator) Sync(ctx context.Context, req SyncRequest) SyncResult {
	if req.Group == "" {
		return SyncResult{Err: ErrInvalidGroupID}
	}
	r, err := call(ctx, c, req.Group, func(s *shard, done func(SyncResult)) { s.sync(req, done) })
	if errors.Is(err, ErrCoordinatorLoadInProgress) {
		// The rebalance in progress was lost with the old coordinator;
		// older clients do not expect the loading error here.
		err = ErrRebalanceInProgress
	}
	if err != nil {
		return SyncResult{Err: err}
	}
	return r
}

// Heartbeat handles a Heartbeat.
func (c *Coordinator) Heartbeat(ctx context.Context, req HeartbeatRequest) error {
	if req.Group == "" {
		return ErrInvalidGroupID
	}
	r, err := call(ctx, c, req.Group, func(s *shard, done func(error)) { done(s.heartbeat(req)) })
	if errors.Is(err, ErrCoordinatorLoadInProgress) {
		return nil // the group is loading: answer blindly, as Kafka does
	}
	if err != nil {
		return err
	}
	return r
}

// Leave handles a LeaveGroup.
func (c *Coordinator) Leave(ctx context.Context, group string, members []LeaveMember) LeaveResult {
	if group == "" {
		return LeaveResult{Err: ErrInvalidGroupID}
	}
	r, err := call(ctx, c, group, func(s *shard, done func(LeaveResult)) { done(s.leave(group, members)) })
	if err != nil {
		return LeaveResult{Err: err}
	}
	return r
}

// CommitOffsets handles an OffsetCommit: one error per offset, in order.
func (c *Coordinator) CommitOffsets(ctx context.Context, req CommitRequest) []error {
	r, err := call(ctx, c, req.Group, func(s *shard, done func([]error)) { s.commit(req, done) })
	if err != nil {
		r = make([]error, len(req.Offsets))
		for i := range r {
			r[i] = err
		}
	}
	return r
}

// CommitTxnOffsets handles a TxnOffsetCommit: one error per offset, in
// order. The offsets count once the transaction commits (CompleteTxn).
func (c *Coordinator) CommitTxnOffsets(ctx context.Context, req TxnCommitRequest) []error {
	var r []error
	var err error
	if req.Group == "" {
		err = ErrInvalidGroupID
	} else {
		r, err = call(ctx, c, req.Group, func(s *shard, done func([]error)) { s.txnCommit(req, done) })
	}
	if err != nil {
		r = make([]error, len(req.Offsets))
		for i := range r {
			r[i] = err
		}
	}
	return r
}

// CompleteTxn tells the coordinator of __consumer_offsets partition index
// that a transaction marker was written there: the producer's pending
// offsets take effect (commit) or are dropped. A partition this node does
// not lead is skipped; it reads the marker when it loads.
func (c *Coordinator) CompleteTxn(ctx context.Context, index int32, producerID int64, commit bool) error {
	p := c.parts.Get(index)
	if p == nil {
		return nil
	}
	_, err := coord.Call(ctx, p, func(s *shard, done func(struct{})) {
		s.completeTxn(producerID, commit)
		done(struct{}{})
	})
	if errors.Is(err, ErrNotCoordinator) {
		return nil
	}
	return err
}

// FetchOffsets handles OffsetFetch for one group: the partitions asked
// for, or every committed one when partitions is nil. With requireStable,
// partitions whose commit is being written fail with
// ErrUnstableOffsetCommit.
func (c *Coordinator) FetchOffsets(ctx context.Context, group string, partitions []TopicPartition, requireStable bool) ([]FetchedOffset, error) {
	return call(ctx, c, group, func(s *shard, done func([]FetchedOffset)) {
		done(s.fetch(group, partitions, requireStable))
	})
}

// DeleteOffsets handles OffsetDelete: an error for the group, or one per
// partition.
func (c *Coordinator) DeleteOffsets(ctx context.Context, group string, partitions []TopicPartition) ([]error, error) {
	if group == "" {
		return nil, ErrInvalidGroupID
	}
	type res struct {
		err  error
		errs []error
	}
	r, err := call(ctx, c, group, func(s *shard, done func(res)) {
		s.deleteOffsets(group, partitions, func(err error, errs []error) { done(res{err, errs}) })
	})
	if err != nil {
		return nil, err
	}
	return r.errs, r.err
}

// DescribeGroup handles DescribeGroups for one group.
func (c *Coordinator) DescribeGroup(ctx context.Context, group string) GroupDescription {
	r, err := call(ctx, c, group, func(s *shard, done func(GroupDescription)) { done(s.describe(group)) })
	if err != nil {
		return GroupDescription{Group: group, Err: err, State: Dead}
	}
	return r
}

// DeleteGroup handles DeleteGroups for one group.
func (c *Coordinator) DeleteGroup(ctx context.Context, group string) error {
	r, err := call(ctx, c, group, func(s *shard, done func(error)) { s.deleteGroup(group, done) })
	if err != nil {
		return err
	}
	return r
}

// ListGroups lists the groups of every loaded partition. While a partition
// is loading its groups are missing and the error is
// ErrCoordinatorLoadInProgress, with the groups of the others.
func (c *Coordinator) ListGroups(ctx context.Context) ([]GroupListing, error) {
	return coord.Gather(ctx, c.parts, (*shard).list)
}

// loop owns one partition's shard: it replays the log, then serves
// requests, deadlines and write completions until the partition is
// unloaded.
func (c *Coordinator) loop(p *partition) {
	sh := newShard(c.shard)
	sh.log = c.log.With("partition", p.Index)
	start := time.Now()
	if err := c.replay(p, sh); err != nil {
		if !errors.Is(err, coord.ErrUnloaded) {
			c.log.Error("loading group coordinator partition failed", "partition", p.Index, "err", err)
		}
		return
	}
	p.SetLoaded()
	level := slog.LevelDebug
	if len(sh.groups) > 0 {
		level = slog.LevelInfo
	}
	sh.log.Log(context.Background(), level, "group coordinator partition loaded", "groups", len(sh.groups), "elapsed", time.Since(start))
	coord.Serve(p, sh, machine{c, p, sh})
	sh.run(time.Now(), sh.unload)
	sh.log.Debug("group coordinator partition unloaded")
}

// machine is a partition's shard as its loop drives it.
type machine struct {
	c  *Coordinator
	p  *partition
	sh *shard
}

// Step runs fn in the shard and hands its writes to the loop.
func (m machine) Step(now time.Time, fn func()) coord.Effects {
	m.sh.run(now, fn)
	var e coord.Effects
	for _, w := range m.sh.takeWrites() {
		e.Writes = append(e.Writes, coord.Write{
			Append: func(ctx context.Context) error { return m.c.append(ctx, m.p, w) },
			Done:   w.done,
		})
	}
	e.Next, _ = m.sh.next()
	return e
}

// replay rebuilds the shard from the partition's log.
func (c *Coordinator) replay(p *partition, sh *shard) error {
	l := newLoader()
	err := coord.Replay(p, c.cfg.OffsetsLoadBufferSize, func(b record.Batch) error {
		recs, err := b.DecodeRecords()
		if err != nil {
			return fmt.Errorf("replaying %s-%d batch at %d: %w", controller.ConsumerOffsetsTopic, p.Index, b.BaseOffset(), err)
		}
		if b.Attributes().Control() {
			// A transaction marker ends the producer's transaction.
			if len(recs) > 0 {
				if t, _, err := record.ParseControlRecord(recs[0]); err == nil && (t == record.ControlCommit || t == record.ControlAbort) {
					l.endTxn(b.ProducerID(), t == record.ControlCommit)
				}
			}
			return nil
		}
		pid := int64(-1)
		if b.Attributes().Transactional() {
			pid = b.ProducerID()
		}
		for _, r := range recs {
			if err := l.apply(pid, r.Key, r.Value); err != nil {
				sh.log.Warn("skipping unreadable record", "offset", r.Offset, "err", err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, coord.ErrUnloaded) {
			return err
		}
		return fmt.Errorf("group: %w", err)
	}
	sh.run(time.Now(), func() { l.finish(sh) })
	return nil
}

// append encodes a write as one batch and appends it, waiting at most
// offsets.commit.timeout.ms for replication. Errors come back as the
// group package's: ErrNotCoordinator when this node no longer leads the
// partition, ErrCoordinatorNotAvailable when it cannot take writes now.
func (c *Coordinator) append(ctx context.Context, p *partition, w write) error {
	now := time.Now().UnixMilli()
	opts := record.BuilderOptions{
		PartitionLeaderEpoch: -1, Compression: c.cfg.Compression,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	if w.txn != nil {
		opts.ProducerID, opts.ProducerEpoch, opts.Transactional = w.txn.id, w.txn.epoch, true
	}
	bb := record.NewBuilder(opts)
	for i, r := range w.records {
		bb.Add(record.Record{Offset: int64(i), Timestamp: now, Key: r.key, Value: r.value})
	}
	batch, err := bb.Build()
	if err != nil {
		return fmt.Errorf("group: encoding records: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.OffsetsCommitTimeout)
	defer cancel()
	err = p.Log.Append(ctx, batch)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replica.ErrTimeout):
		return fmt.Errorf("%w: %w", errWriteTimeout, err)
	case errors.Is(err, log.ErrRecordTooLarge):
		return fmt.Errorf("%w: %w", errWriteTooLarge, err)
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, log.ErrStorage), errors.Is(err, log.ErrClosed),
		errors.Is(err, log.ErrCorruptLog):
		return fmt.Errorf("%w: %w", ErrNotCoordinator, err)
	case errors.Is(err, replica.ErrUnknownTopicOrPartition), errors.Is(err, replica.ErrNotEnoughReplicas):
		return fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err)
	}
	return fmt.Errorf("group: writing to %s-%d: %w", controller.ConsumerOffsetsTopic, p.Index, err)
}
