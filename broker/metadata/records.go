package metadata

import "github.com/google/uuid"

// RecordType names a metadata record kind.
type RecordType string

// The record kinds. Their JSON form is what the metadata log stores.
const (
	RecordRegisterBroker RecordType = "register_broker"
	RecordTopic          RecordType = "topic"
	RecordPartition      RecordType = "partition"
	RecordConfig         RecordType = "config"
	RecordRemoveTopic    RecordType = "remove_topic"
)

// Config resource types, as named in ConfigRecord.
const (
	ResourceTopic  = "topic"
	ResourceBroker = "broker"
)

// Record is one change to the image. Exactly one payload field is set,
// matching Type.
type Record struct {
	Type        RecordType         `json:"type"`
	Broker      *Broker            `json:"broker,omitempty"`
	Topic       *TopicRecord       `json:"topic,omitempty"`
	Partition   *PartitionRecord   `json:"partition,omitempty"`
	Config      *ConfigRecord      `json:"config,omitempty"`
	RemoveTopic *RemoveTopicRecord `json:"remove_topic,omitempty"`
}

// TopicRecord creates a topic with no partitions; PartitionRecords follow.
type TopicRecord struct {
	Name string    `json:"name"`
	ID   uuid.UUID `json:"id"`
}

// PartitionRecord creates or replaces one partition of a topic.
type PartitionRecord struct {
	TopicID   uuid.UUID `json:"topic_id"`
	Partition Partition `json:"partition"`
}

// ConfigRecord sets (Value != nil) or deletes (Value == nil) one config of
// a topic or broker. ResourceName "" with ResourceBroker is the
// cluster-wide default.
type ConfigRecord struct {
	ResourceType string  `json:"resource_type"`
	ResourceName string  `json:"resource_name"`
	Name         string  `json:"name"`
	Value        *string `json:"value"`
}

// RemoveTopicRecord deletes a topic and all its partitions.
type RemoveTopicRecord struct {
	TopicID uuid.UUID `json:"topic_id"`
}

// RegisterBroker returns the record registering b.
func RegisterBroker(b Broker) Record { return Record{Type: RecordRegisterBroker, Broker: &b} }

// NewTopic returns the record creating a topic.
func NewTopic(name string, id uuid.UUID) Record {
	return Record{Type: RecordTopic, Topic: &TopicRecord{Name: name, ID: id}}
}

// SetPartition returns the record creating or replacing a partition.
func SetPartition(topicID uuid.UUID, p Partition) Record {
	return Record{Type: RecordPartition, Partition: &PartitionRecord{TopicID: topicID, Partition: p}}
}

// SetConfig returns the record setting (value != nil) or deleting a config.
func SetConfig(resourceType, resourceName, name string, value *string) Record {
	return Record{Type: RecordConfig, Config: &ConfigRecord{ResourceType: resourceType, ResourceName: resourceName, Name: name, Value: value}}
}

// RemoveTopic returns the record deleting a topic.
func RemoveTopic(id uuid.UUID) Record {
	return Record{Type: RecordRemoveTopic, RemoveTopic: &RemoveTopicRecord{TopicID: id}}
}
