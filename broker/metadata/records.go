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
	RecordProducerIDs    RecordType = "producer_ids"
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
	ProducerIDs *ProducerIDsRecord `json:"producer_ids,omitempty"`
}

// ProducerIDsRecord hands a block of producer IDs to a broker: the IDs from
// the previous next block start up to NextBlockStart-1 are taken, so that no
// ID is ever given out twice, across restarts too (Kafka's
// ProducerIdsRecord).
type ProducerIDsRecord struct {
	BrokerID       int32 `json:"broker_id"`
	NextBlockStart int64 `json:"next_block_start"`
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

// AllocateProducerIDs returns the record that gives broker the producer IDs
// below nextBlockStart not given out before.
func AllocateProducerIDs(broker int32, nextBlockStart int64) Record {
	return Record{Type: RecordProducerIDs, ProducerIDs: &ProducerIDsRecord{BrokerID: broker, NextBlockStart: nextBlockStart}}
}
