// Package metadata holds the cluster metadata image every node serves from:
// brokers, topics with their IDs and partitions, and dynamic configs.
//
// An Image is immutable. It changes only by applying Records, the same
// records a controller quorum will replicate: Apply returns a new Image and
// leaves the old one untouched, so readers hold an image for as long as they
// like without locks.
package metadata

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
)

// Errors returned when a record does not fit the image.
var (
	ErrUnknownTopic = errors.New("metadata: unknown topic")
	ErrTopicExists  = errors.New("metadata: topic already exists")
	ErrBadRecord    = errors.New("metadata: bad record")
)

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
}

// Broker is a registered node.
type Broker struct {
	NodeID    int32      `json:"node_id"`
	Endpoints []Endpoint `json:"endpoints"`
	Rack      string     `json:"rack,omitempty"`
}

// Partition is one partition's replica assignment and leadership.
type Partition struct {
	Index          int32   `json:"partition"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	PartitionEpoch int32   `json:"partition_epoch"`
}

// Topic is a topic with its partitions (indexed by partition number) and
// its topic-level config overrides.
type Topic struct {
	Name       string            `json:"name"`
	ID         uuid.UUID         `json:"id"`
	Partitions []Partition       `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// HasPartition reports whether t exists and has partition p.
func (t *Topic) HasPartition(p int32) bool {
	return t != nil && p >= 0 && int(p) < len(t.Partitions)
}

// Image is one consistent view of the cluster metadata.
type Image struct {
	// ClusterID is the cluster's ID in Kafka's format (22 characters,
	// URL-safe base64 of a UUID).
	ClusterID string
	// Offset counts the records applied so far; it orders images.
	Offset int64
	// Brokers by node ID.
	Brokers map[int32]Broker
	// Topics by name and by ID; both maps share the *Topic values.
	Topics     map[string]*Topic
	TopicsByID map[uuid.UUID]*Topic
	// BrokerConfigs are dynamic broker configs by broker ("" = cluster default).
	BrokerConfigs map[string]map[string]string
	// NextProducerID is the first producer ID no broker has been given yet.
	NextProducerID int64
}

// Empty returns the image of a new cluster.
func Empty(clusterID string) *Image {
	return &Image{
		ClusterID:     clusterID,
		Brokers:       map[int32]Broker{},
		Topics:        map[string]*Topic{},
		TopicsByID:    map[uuid.UUID]*Topic{},
		BrokerConfigs: map[string]map[string]string{},
	}
}

// Topic returns the named topic or nil.
func (img *Image) Topic(name string) *Topic { return img.Topics[name] }

// TopicNames returns the topic names in sorted order.
func (img *Image) TopicNames() []string {
	return slices.Sorted(maps.Keys(img.Topics))
}

// Apply returns the image after recs. On error the receiver is unchanged
// and no partial image is returned.
func (img *Image) Apply(recs ...Record) (*Image, error) {
	next := img.clone()
	for i, r := range recs {
		if err := next.apply(r); err != nil {
			return nil, fmt.Errorf("record %d (%s): %w", i, r.Type, err)
		}
		next.Offset++
	}
	return next, nil
}

// clone copies the maps of the image; topics are copied on write by apply.
func (img *Image) clone() *Image {
	next := *img
	next.Brokers = maps.Clone(img.Brokers)
	next.Topics = maps.Clone(img.Topics)
	next.TopicsByID = maps.Clone(img.TopicsByID)
	next.BrokerConfigs = maps.Clone(img.BrokerConfigs)
	return &next
}

// mutableTopic returns a private copy of the topic for modification and
// installs it in both maps.
func (img *Image) mutableTopic(id uuid.UUID) (*Topic, error) {
	t, ok := img.TopicsByID[id]
	if !ok {
		return nil, fmt.Errorf("%w: id %s", ErrUnknownTopic, id)
	}
	c := &Topic{Name: t.Name, ID: t.ID, Partitions: slices.Clone(t.Partitions), Configs: maps.Clone(t.Configs)}
	img.Topics[c.Name] = c
	img.TopicsByID[c.ID] = c
	return c, nil
}

func (img *Image) apply(r Record) error {
	switch r.Type {
	case RecordRegisterBroker:
		if r.Broker == nil {
			return fmt.Errorf("%w: no broker", ErrBadRecord)
		}
		img.Brokers[r.Broker.NodeID] = *r.Broker
	case RecordTopic:
		if r.Topic == nil || r.Topic.Name == "" {
			return fmt.Errorf("%w: no topic", ErrBadRecord)
		}
		if _, ok := img.Topics[r.Topic.Name]; ok {
			return fmt.Errorf("%w: %s", ErrTopicExists, r.Topic.Name)
		}
		t := &Topic{Name: r.Topic.Name, ID: r.Topic.ID}
		img.Topics[t.Name] = t
		img.TopicsByID[t.ID] = t
	case RecordPartition:
		p := r.Partition
		if p == nil {
			return fmt.Errorf("%w: no partition", ErrBadRecord)
		}
		t, err := img.mutableTopic(p.TopicID)
		if err != nil {
			return err
		}
		switch {
		case int(p.Partition.Index) == len(t.Partitions):
			t.Partitions = append(t.Partitions, p.Partition)
		case int(p.Partition.Index) < len(t.Partitions) && p.Partition.Index >= 0:
			t.Partitions[p.Partition.Index] = p.Partition
		default:
			return fmt.Errorf("%w: partition %d of %s leaves a gap after %d partitions",
				ErrBadRecord, p.Partition.Index, t.Name, len(t.Partitions))
		}
	case RecordConfig:
		c := r.Config
		if c == nil {
			return fmt.Errorf("%w: no config", ErrBadRecord)
		}
		switch c.ResourceType {
		case ResourceTopic:
			t, ok := img.Topics[c.ResourceName]
			if !ok {
				return fmt.Errorf("%w: %s", ErrUnknownTopic, c.ResourceName)
			}
			t, err := img.mutableTopic(t.ID)
			if err != nil {
				return err
			}
			t.Configs = setConfig(t.Configs, c)
		case ResourceBroker:
			img.BrokerConfigs[c.ResourceName] = setConfig(maps.Clone(img.BrokerConfigs[c.ResourceName]), c)
		default:
			return fmt.Errorf("%w: config resource type %q", ErrBadRecord, c.ResourceType)
		}
	case RecordRemoveTopic:
		if r.RemoveTopic == nil {
			return fmt.Errorf("%w: no topic id", ErrBadRecord)
		}
		t, ok := img.TopicsByID[r.RemoveTopic.TopicID]
		if !ok {
			return fmt.Errorf("%w: id %s", ErrUnknownTopic, r.RemoveTopic.TopicID)
		}
		delete(img.Topics, t.Name)
		delete(img.TopicsByID, t.ID)
	case RecordProducerIDs:
		if r.ProducerIDs == nil || r.ProducerIDs.NextBlockStart <= img.NextProducerID {
			return fmt.Errorf("%w: producer IDs must move past %d", ErrBadRecord, img.NextProducerID)
		}
		img.NextProducerID = r.ProducerIDs.NextBlockStart
	default:
		return fmt.Errorf("%w: unknown type %q", ErrBadRecord, r.Type)
	}
	return nil
}

func setConfig(m map[string]string, c *ConfigRecord) map[string]string {
	if c.Value == nil {
		delete(m, c.Name)
		return m
	}
	if m == nil {
		m = map[string]string{}
	}
	m[c.Name] = *c.Value
	return m
}
