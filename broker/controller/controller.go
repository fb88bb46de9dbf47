// Package controller owns changes to the cluster metadata: it validates
// topic, partition and config requests, turns them into metadata records,
// commits them and publishes the resulting image to the node's subscribers.
//
// This is the quorum-of-one controller of a single-node cluster: committing
// means applying the records and persisting the snapshot. The request
// handling above the commit step is what a replicated controller keeps.
package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/metadata"
)

// Errors, matched by the server to Kafka error codes.
var (
	ErrTopicExists              = errors.New("controller: topic already exists")
	ErrUnknownTopic             = errors.New("controller: unknown topic")
	ErrInvalidTopic             = errors.New("controller: invalid topic")
	ErrInvalidPartitions        = errors.New("controller: invalid number of partitions")
	ErrInvalidReplicationFactor = errors.New("controller: invalid replication factor")
	ErrInvalidReplicaAssignment = errors.New("controller: invalid replica assignment")
	ErrInvalidConfig            = errors.New("controller: invalid config")
	ErrTopicDeletionDisabled    = errors.New("controller: topic deletion is disabled")
	ErrInvalidRequest           = errors.New("controller: invalid request")
)

// Internal topic names Kafka reserves for its coordinators.
const (
	ConsumerOffsetsTopic  = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
)

// IsInternal reports whether name is a reserved internal topic.
func IsInternal(name string) bool {
	return name == ConsumerOffsetsTopic || name == TransactionStateTopic
}

// Store persists committed images.
type Store interface {
	Save(*metadata.Image) error
}

// Config configures a Controller.
type Config struct {
	// Image is the committed image to start from (metadata.Empty for a new cluster).
	Image *metadata.Image
	// Store persists every committed image; nil keeps them in memory only.
	Store Store
	// DefaultPartitions is num.partitions.
	DefaultPartitions int32
	// DefaultReplicationFactor is default.replication.factor.
	DefaultReplicationFactor int16
	// DeleteTopicEnable is delete.topic.enable.
	DeleteTopicEnable bool
	// ValidateTopicConfig checks topic-level overrides; its error names the
	// key at fault. Nil accepts everything.
	ValidateTopicConfig func(map[string]string) error
	// ValidateBrokerConfig checks a dynamic config change of broker (a
	// node ID, or "" for the cluster-wide default); value nil deletes.
	// Nil rejects every dynamic broker config.
	ValidateBrokerConfig func(broker, name string, value *string) error
	// Logger; nil discards.
	Logger *slog.Logger
}

// Controller is a single-node metadata controller. Its methods are safe for
// concurrent use; commits are serialized.
type Controller struct {
	cfg Config
	log *slog.Logger
	img atomic.Pointer[metadata.Image]

	// mu serializes commits: validation against the current image, the
	// snapshot write and publication happen in one order for everyone.
	mu   sync.Mutex
	subs []func(*metadata.Image)
}

// New returns a controller serving cfg.Image.
func New(cfg Config) (*Controller, error) {
	if cfg.Image == nil {
		return nil, fmt.Errorf("controller: no initial image")
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.DefaultReplicationFactor <= 0 {
		cfg.DefaultReplicationFactor = 1
	}
	c := &Controller{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.img.Store(cfg.Image)
	return c, nil
}

// Image returns the latest committed image.
func (c *Controller) Image() *metadata.Image { return c.img.Load() }

// Subscribe registers fn to receive every committed image, in commit order,
// and calls it once with the current image. fn runs inside the commit, so a
// request returns only after every subscriber has seen its result.
func (c *Controller) Subscribe(fn func(*metadata.Image)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
	fn(c.img.Load())
}

// commit applies recs, persists and publishes. Callers hold c.mu.
func (c *Controller) commit(recs []metadata.Record) error {
	if len(recs) == 0 {
		return nil
	}
	next, err := c.img.Load().Apply(recs...)
	if err != nil {
		return err
	}
	if c.cfg.Store != nil {
		if err := c.cfg.Store.Save(next); err != nil {
			return err
		}
	}
	c.img.Store(next)
	for _, fn := range c.subs {
		fn(next)
	}
	return nil
}

// RegisterBroker records (or refreshes) a broker's endpoints.
func (c *Controller) RegisterBroker(b metadata.Broker) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.img.Load().Brokers[b.NodeID]; ok && slices.Equal(old.Endpoints, b.Endpoints) && old.Rack == b.Rack {
		return nil
	}
	return c.commit([]metadata.Record{metadata.RegisterBroker(b)})
}

// AllocateProducerIDs commits a block of n producer IDs for broker and
// returns its first ID: the block is first..first+n-1. Blocks never overlap,
// across controller restarts too, since the next block start is part of
// the committed metadata (Kafka's AllocateProducerIds).
func (c *Controller) AllocateProducerIDs(broker int32, n int64) (first int64, err error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: a block of %d producer IDs", ErrInvalidRequest, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	first = c.img.Load().NextProducerID
	if first > math.MaxInt64-n {
		return 0, fmt.Errorf("%w: producer IDs are exhausted", ErrInvalidRequest)
	}
	if err := c.commit([]metadata.Record{metadata.AllocateProducerIDs(broker, first+n)}); err != nil {
		return 0, err
	}
	return first, nil
}

// TopicSpec is one topic to create.
type TopicSpec struct {
	Name string
	// NumPartitions; -1 takes num.partitions.
	NumPartitions int32
	// ReplicationFactor; -1 takes default.replication.factor.
	ReplicationFactor int16
	// Assignment gives each partition's replicas explicitly (then
	// NumPartitions and ReplicationFactor must be -1).
	Assignment map[int32][]int32
	Configs    map[string]string
	// Internal allows the reserved internal topic names.
	Internal bool
}

// CreatedTopic describes a topic CreateTopics created (or would create).
type CreatedTopic struct {
	ID                uuid.UUID
	NumPartitions     int32
	ReplicationFactor int16
}

// CreateTopics creates each topic independently; errs[i] is spec i's error.
// With validateOnly nothing is committed.
func (c *Controller) CreateTopics(specs []TopicSpec, validateOnly bool) ([]CreatedTopic, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CreatedTopic, len(specs))
	errs := make([]error, len(specs))
	for i, s := range specs {
		recs, created, err := c.createRecords(c.img.Load(), s)
		if err == nil && !validateOnly {
			err = c.commit(recs)
		}
		out[i], errs[i] = created, err
		if err == nil && !validateOnly {
			c.log.Info("created topic", "topic", s.Name, "partitions", created.NumPartitions, "replication_factor", created.ReplicationFactor)
		}
	}
	return out, errs
}

// ValidateTopicName applies Kafka's topic naming rules.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: topic name is empty", ErrInvalidTopic)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name cannot be %q", ErrInvalidTopic, name)
	case len(name) > 249:
		return fmt.Errorf("%w: topic name is %d characters, the limit is 249", ErrInvalidTopic, len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: topic name %q contains %q; only ASCII alphanumerics, '.', '_' and '-' are legal", ErrInvalidTopic, name, r)
		}
	}
	return nil
}

// collisionKey maps '.' to '_': Kafka forbids two topics whose names differ
// only there, since metric names cannot tell them apart.
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

func (c *Controller) createRecords(img *metadata.Image, s TopicSpec) ([]metadata.Record, CreatedTopic, error) {
	if err := ValidateTopicName(s.Name); err != nil {
		return nil, CreatedTopic{}, err
	}
	if IsInternal(s.Name) && !s.Internal {
		return nil, CreatedTopic{}, fmt.Errorf("%w: %s is reserved for internal use", ErrInvalidTopic, s.Name)
	}
	if img.Topic(s.Name) != nil {
		return nil, CreatedTopic{}, fmt.Errorf("%w: %s", ErrTopicExists, s.Name)
	}
	ck := collisionKey(s.Name)
	for name := range img.Topics {
		if collisionKey(name) == ck {
			return nil, CreatedTopic{}, fmt.Errorf("%w: %s collides with existing topic %s (names differ only in '.' and '_')", ErrInvalidTopic, s.Name, name)
		}
	}
	if c.cfg.ValidateTopicConfig != nil {
		if err := c.cfg.ValidateTopicConfig(s.Configs); err != nil {
			return nil, CreatedTopic{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	var assignment [][]int32
	if len(s.Assignment) > 0 {
		if s.NumPartitions != -1 || s.ReplicationFactor != -1 {
			return nil, CreatedTopic{}, fmt.Errorf("%w: both a replica assignment and numPartitions/replicationFactor were given", ErrInvalidRequest)
		}
		var err error
		if assignment, err = checkAssignment(img, s.Assignment, 0); err != nil {
			return nil, CreatedTopic{}, err
		}
	} else {
		n, rf := s.NumPartitions, s.ReplicationFactor
		if n == -1 {
			n = c.cfg.DefaultPartitions
		}
		if rf == -1 {
			rf = c.cfg.DefaultReplicationFactor
		}
		if n <= 0 {
			return nil, CreatedTopic{}, fmt.Errorf("%w: %d; it must be larger than 0", ErrInvalidPartitions, n)
		}
		if rf <= 0 {
			return nil, CreatedTopic{}, fmt.Errorf("%w: %d; it must be larger than 0", ErrInvalidReplicationFactor, rf)
		}
		var err error
		if assignment, err = assign(img, 0, n, rf); err != nil {
			return nil, CreatedTopic{}, err
		}
	}
	id := uuid.New()
	recs := []metadata.Record{metadata.NewTopic(s.Name, id)}
	recs = append(recs, partitionRecords(id, 0, assignment)...)
	for _, k := range slices.Sorted(maps.Keys(s.Configs)) {
		v := s.Configs[k]
		recs = append(recs, metadata.SetConfig(metadata.ResourceTopic, s.Name, k, &v))
	}
	return recs, CreatedTopic{ID: id, NumPartitions: int32(len(assignment)), ReplicationFactor: int16(len(assignment[0]))}, nil
}

func partitionRecords(id uuid.UUID, first int32, assignment [][]int32) []metadata.Record {
	recs := make([]metadata.Record, 0, len(assignment))
	for i, replicas := range assignment {
		recs = append(recs, metadata.SetPartition(id, metadata.Partition{
			Index:    first + int32(i),
			Replicas: replicas,
			ISR:      slices.Clone(replicas),
			Leader:   replicas[0],
		}))
	}
	return recs
}

// assign spreads n partitions (numbered from first) with rf replicas over
// the registered brokers round-robin from a random start, as Kafka does
// without racks: partition p's replicas are consecutive brokers.
func assign(img *metadata.Image, first, n int32, rf int16) ([][]int32, error) {
	brokers := slices.Sorted(maps.Keys(img.Brokers))
	if int(rf) > len(brokers) {
		return nil, fmt.Errorf("%w: replication factor %d is larger than the %d available brokers", ErrInvalidReplicationFactor, rf, len(brokers))
	}
	start := 0
	if len(brokers) > 1 {
		start = rand.IntN(len(brokers))
	}
	out := make([][]int32, n)
	for p := range n {
		replicas := make([]int32, rf)
		for r := range int(rf) {
			replicas[r] = brokers[(start+int(first+p)+r)%len(brokers)]
		}
		out[p] = replicas
	}
	return out, nil
}

// checkAssignment validates an explicit assignment for partitions
// first..first+len-1: contiguous, same size, no duplicates, known brokers.
func checkAssignment(img *metadata.Image, a map[int32][]int32, first int32) ([][]int32, error) {
	out := make([][]int32, len(a))
	for p, replicas := range a {
		i := p - first
		if i < 0 || int(i) >= len(a) {
			return nil, fmt.Errorf("%w: partitions must be numbered consecutively from %d; got partition %d", ErrInvalidReplicaAssignment, first, p)
		}
		if len(replicas) == 0 {
			return nil, fmt.Errorf("%w: partition %d has no replicas", ErrInvalidReplicaAssignment, p)
		}
		seen := map[int32]bool{}
		for _, b := range replicas {
			if seen[b] {
				return nil, fmt.Errorf("%w: partition %d lists broker %d twice", ErrInvalidReplicaAssignment, p, b)
			}
			seen[b] = true
			if _, ok := img.Brokers[b]; !ok {
				return nil, fmt.Errorf("%w: partition %d names unknown broker %d", ErrInvalidReplicaAssignment, p, b)
			}
		}
		out[i] = slices.Clone(replicas)
	}
	for i := range out {
		if len(out[i]) != len(out[0]) {
			return nil, fmt.Errorf("%w: partitions have different replication factors", ErrInvalidReplicaAssignment)
		}
	}
	return out, nil
}

// DeleteTopic deletes a topic by name (or by id when name is "").
func (c *Controller) DeleteTopic(name string, id uuid.UUID) (deleted *metadata.Topic, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cfg.DeleteTopicEnable {
		return nil, ErrTopicDeletionDisabled
	}
	img := c.img.Load()
	t := img.Topic(name)
	if name == "" {
		t = img.TopicsByID[id]
	}
	if t == nil {
		if name == "" {
			return nil, fmt.Errorf("%w: id %s", ErrUnknownTopic, id)
		}
		return nil, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	if IsInternal(t.Name) {
		return nil, fmt.Errorf("%w: internal topic %s cannot be deleted", ErrInvalidTopic, t.Name)
	}
	if err := c.commit([]metadata.Record{metadata.RemoveTopic(t.ID)}); err != nil {
		return nil, err
	}
	c.log.Info("deleted topic", "topic", t.Name)
	return t, nil
}

// CreatePartitions grows a topic to count partitions. assignment, when
// given, lists the new partitions' replicas.
func (c *Controller) CreatePartitions(topic string, count int32, assignment [][]int32, validateOnly bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	img := c.img.Load()
	t := img.Topic(topic)
	if t == nil {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	have := int32(len(t.Partitions))
	if count <= have {
		return fmt.Errorf("%w: topic %s has %d partitions; the new count %d must be larger", ErrInvalidPartitions, topic, have, count)
	}
	var a [][]int32
	if len(assignment) > 0 {
		if int32(len(assignment)) != count-have {
			return fmt.Errorf("%w: %d assignments for %d new partitions", ErrInvalidReplicaAssignment, len(assignment), count-have)
		}
		m := map[int32][]int32{}
		for i, r := range assignment {
			m[have+int32(i)] = r
		}
		var err error
		if a, err = checkAssignment(img, m, have); err != nil {
			return err
		}
		if len(a[0]) != len(t.Partitions[0].Replicas) {
			return fmt.Errorf("%w: new partitions have %d replicas, the topic has %d", ErrInvalidReplicaAssignment, len(a[0]), len(t.Partitions[0].Replicas))
		}
	} else {
		var err error
		if a, err = assign(img, have, count-have, int16(len(t.Partitions[0].Replicas))); err != nil {
			return err
		}
	}
	if validateOnly {
		return nil
	}
	return c.commit(partitionRecords(t.ID, have, a))
}

// ConfigOp is one change to a resource's configs.
type ConfigOp struct {
	Name string
	// Op is the IncrementalAlterConfigs operation.
	Op OpType
	// Value is the new value for Set, the list items for Append/Subtract.
	Value *string
}

// OpType is an IncrementalAlterConfigs operation (Kafka's numbering).
type OpType int8

const (
	OpSet      OpType = 0
	OpDelete   OpType = 1
	OpAppend   OpType = 2
	OpSubtract OpType = 3
)

// AlterTopicConfigs changes a topic's configs. With replace (the legacy
// AlterConfigs API) ops are the complete new set of overrides.
func (c *Controller) AlterTopicConfigs(topic string, ops []ConfigOp, replace, validateOnly bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.img.Load().Topic(topic)
	if t == nil {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	next := maps.Clone(t.Configs)
	if next == nil || replace {
		next = map[string]string{}
	}
	if err := applyOps(next, ops); err != nil {
		return err
	}
	if c.cfg.ValidateTopicConfig != nil {
		if err := c.cfg.ValidateTopicConfig(next); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if validateOnly {
		return nil
	}
	return c.commit(diffRecords(metadata.ResourceTopic, topic, t.Configs, next))
}

// AlterBrokerConfigs changes dynamic broker configs of broker (or "" for
// the cluster default).
func (c *Controller) AlterBrokerConfigs(broker string, ops []ConfigOp, replace, validateOnly bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.img.Load().BrokerConfigs[broker]
	next := maps.Clone(cur)
	if next == nil || replace {
		next = map[string]string{}
	}
	if err := applyOps(next, ops); err != nil {
		return err
	}
	for _, op := range ops {
		var v *string
		if s, ok := next[op.Name]; ok {
			v = &s
		}
		if c.cfg.ValidateBrokerConfig == nil {
			return fmt.Errorf("%w: %s cannot be updated dynamically", ErrInvalidConfig, op.Name)
		}
		if err := c.cfg.ValidateBrokerConfig(broker, op.Name, v); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if validateOnly {
		return nil
	}
	return c.commit(diffRecords(metadata.ResourceBroker, broker, cur, next))
}

func applyOps(m map[string]string, ops []ConfigOp) error {
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return fmt.Errorf("%w: %s appears more than once", ErrInvalidRequest, op.Name)
		}
		seen[op.Name] = true
		switch op.Op {
		case OpSet:
			if op.Value == nil {
				return fmt.Errorf("%w: %s: null value", ErrInvalidConfig, op.Name)
			}
			m[op.Name] = *op.Value
		case OpDelete:
			delete(m, op.Name)
		case OpAppend, OpSubtract:
			if op.Value == nil {
				return fmt.Errorf("%w: %s: null value", ErrInvalidConfig, op.Name)
			}
			items := splitList(m[op.Name])
			for _, v := range splitList(*op.Value) {
				has := slices.Contains(items, v)
				if op.Op == OpAppend && !has {
					items = append(items, v)
				} else if op.Op == OpSubtract && has {
					items = slices.DeleteFunc(items, func(s string) bool { return s == v })
				}
			}
			m[op.Name] = strings.Join(items, ",")
		default:
			return fmt.Errorf("%w: %s: unknown operation %d", ErrInvalidRequest, op.Name, op.Op)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func diffRecords(resType, name string, old, next map[string]string) []metadata.Record {
	var recs []metadata.Record
	for _, k := range slices.Sorted(maps.Keys(old)) {
		if _, ok := next[k]; !ok {
			recs = append(recs, metadata.SetConfig(resType, name, k, nil))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if ov, ok := old[k]; !ok || ov != next[k] {
			v := next[k]
			recs = append(recs, metadata.SetConfig(resType, name, k, &v))
		}
	}
	return recs
}
