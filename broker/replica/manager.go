package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
)

// Logs opens and deletes partition logs; the broker's log manager
// implements it.
type Logs interface {
	// Open returns the partition's log, opening or creating it.
	Open(topic string, partition int32, cfg log.Config) (*log.Log, error)
	// Delete closes and removes the partition's log.
	Delete(topic string, partition int32) error
}

// PartitionConfig is what a topic's effective config means to a replica.
type PartitionConfig struct {
	Log               log.Config
	MinInsyncReplicas int
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	NodeID int32 // node.id
	Logs   Logs
	// TopicConfig resolves a topic's overrides against the broker's
	// defaults. SetTopicConfig replaces it when those change.
	TopicConfig func(overrides map[string]string) (PartitionConfig, error)
	Logger      *slog.Logger
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// Manager holds the partitions this node hosts and keeps them in line with
// the metadata image.
type Manager struct {
	cfg ManagerConfig
	log *slog.Logger

	// applyMu serializes Apply and SetTopicConfig, and guards cfg.TopicConfig,
	// resolverGen and configs; mu guards parts for readers.
	applyMu sync.Mutex
	mu      sync.RWMutex
	parts   map[TopicPartition]*Partition
	// resolverGen counts SetTopicConfig calls; configs records, per topic,
	// the overrides last applied and the resolver generation they were
	// resolved with.
	resolverGen uint64
	configs     map[string]appliedConfig
}

// appliedConfig is what a topic's config was last resolved from.
type appliedConfig struct {
	overrides map[string]string
	gen       uint64
}

// NewManager returns an empty manager.
func NewManager(cfg ManagerConfig) *Manager {
	m := &Manager{cfg: cfg, log: cfg.Logger, parts: map[TopicPartition]*Partition{}, configs: map[string]appliedConfig{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// Get returns a hosted partition, or ErrUnknownTopicOrPartition.
func (m *Manager) Get(topic string, partition int32) (*Partition, error) {
	m.mu.RLock()
	p, ok := m.parts[TopicPartition{topic, partition}]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s-%d", ErrUnknownTopicOrPartition, topic, partition)
	}
	return p, nil
}

// Partitions returns every hosted partition.
func (m *Manager) Partitions() []*Partition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Collect(maps.Values(m.parts))
}

// SetTopicConfig replaces the function that resolves topic configs, for
// when the broker settings behind it change (a dynamic broker config such
// as log.retention.ms was altered). The next Apply re-resolves every
// topic's config with fn and hands it to each hosted partition's log, as
// Kafka reconfigures every log when a broker default changes; topics with
// an override of their own keep it.
func (m *Manager) SetTopicConfig(fn func(overrides map[string]string) (PartitionConfig, error)) {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.cfg.TopicConfig = fn
	m.resolverGen++
}

// Apply reconciles hosted partitions with img: it opens logs for new
// partitions assigned to this node, updates leadership and configs, and
// deletes the logs of partitions that left the image. A topic's config is
// resolved again, and given to its partitions' logs, when its overrides
// changed or SetTopicConfig was called since it was last applied. Errors
// are collected and returned together; the partitions that could be
// applied are, and a topic whose config could not be resolved is tried
// again by the next Apply.
func (m *Manager) Apply(img *metadata.Image) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	var errs []error
	want := map[TopicPartition]bool{}
	for _, name := range img.TopicNames() {
		t := img.Topics[name]
		overrides := t.Configs
		last, seen := m.configs[name]
		configChanged := !seen || last.gen != m.resolverGen || !maps.Equal(last.overrides, overrides)
		var pc PartitionConfig
		var cfgErr error
		if m.cfg.TopicConfig != nil {
			pc, cfgErr = m.cfg.TopicConfig(overrides)
		}
		if cfgErr != nil {
			errs = append(errs, fmt.Errorf("replica: topic %s config: %w", name, cfgErr))
			// Its hosted partitions stay as they are, with the config
			// they have: an unresolvable config is no reason to delete
			// their data.
			for _, mp := range t.Partitions {
				if slices.Contains(mp.Replicas, m.cfg.NodeID) {
					want[TopicPartition{name, mp.Index}] = true
				}
			}
			continue
		}
		for _, mp := range t.Partitions {
			if !slices.Contains(mp.Replicas, m.cfg.NodeID) {
				continue
			}
			tp := TopicPartition{name, mp.Index}
			want[tp] = true
			m.mu.RLock()
			p, ok := m.parts[tp]
			m.mu.RUnlock()
			if ok && p.TopicID != t.ID {
				// Same name, new topic: the old one was deleted and
				// recreated between two images.
				if err := m.remove(tp); err != nil {
					errs = append(errs, err)
				}
				ok = false
			}
			if !ok {
				l, err := m.cfg.Logs.Open(name, mp.Index, pc.Log)
				if err != nil {
					errs = append(errs, fmt.Errorf("replica: open %s: %w", tp, err))
					continue
				}
				p = newPartition(name, t.ID, mp.Index, m.cfg.NodeID, l)
				m.mu.Lock()
				m.parts[tp] = p
				m.mu.Unlock()
			} else if configChanged {
				if err := p.log.SetConfig(pc.Log); err != nil {
					errs = append(errs, fmt.Errorf("replica: %s config: %w", tp, err))
				}
			}
			if err := p.update(mp.Leader, mp.LeaderEpoch, mp.Replicas, mp.ISR, pc.MinInsyncReplicas); err != nil {
				errs = append(errs, fmt.Errorf("replica: %s: %w", tp, err))
			}
		}
		m.configs[name] = appliedConfig{overrides: maps.Clone(overrides), gen: m.resolverGen}
	}
	m.mu.RLock()
	var gone []TopicPartition
	for tp := range m.parts {
		if !want[tp] {
			gone = append(gone, tp)
		}
	}
	m.mu.RUnlock()
	for _, tp := range gone {
		if err := m.remove(tp); err != nil {
			errs = append(errs, err)
		}
	}
	for name := range m.configs {
		if img.Topic(name) == nil {
			delete(m.configs, name)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) remove(tp TopicPartition) error {
	m.mu.Lock()
	delete(m.parts, tp)
	m.mu.Unlock()
	if err := m.cfg.Logs.Delete(tp.Topic, tp.Partition); err != nil {
		return fmt.Errorf("replica: delete %s: %w", tp, err)
	}
	m.log.Info("deleted partition", "topic", tp.Topic, "partition", tp.Partition)
	return nil
}
