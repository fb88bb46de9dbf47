// Package connector is Runnel Connect's plugin API: the interfaces a source or
// sink connector, its tasks, a converter, a transformation (SMT) and a
// predicate implement, and the records that flow between them. It follows
// Kafka Connect's org.apache.kafka.connect.{connector,source,sink,storage,
// transforms} API so that a connector's behaviour can be ported one to one.
//
// The runtime (package connect) drives these interfaces: it calls Start, asks
// a connector for TaskConfigs(tasks.max), starts that many tasks, polls source
// tasks and puts records into sink tasks, commits offsets, and calls Stop.
package connector

import (
	"context"
	"errors"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/data"
)

// ErrRetriable marks an error from Poll, Put or PreCommit after which the
// runtime should retry the same call instead of failing the task (Kafka's
// RetriableException). Wrap it: fmt.Errorf("…: %w", connector.ErrRetriable).
var ErrRetriable = errors.New("connector: retriable error")

// Header is one record header with its Connect schema and value.
type Header struct {
	Key    string
	Schema *data.Schema
	Value  any
}

// Record is what converters and transformations see: a topic, an optional
// partition, a key and a value with their schemas, a timestamp and headers.
type Record struct {
	Topic string
	// Partition is nil to let the producer choose.
	Partition   *int32
	KeySchema   *data.Schema
	Key         any
	ValueSchema *data.Schema
	Value       any
	// Timestamp is in milliseconds since the epoch; nil means none.
	Timestamp *int64
	Headers   []Header
	// Offset is the Kafka offset of a record consumed for a sink task (the
	// runtime sets it before the transformations run, and it equals
	// SinkRecord.KafkaOffset); nil for source records. InsertField's
	// offset.field reads it.
	Offset *int64
}

// SourceRecord is a record produced by a source task, with the source
// partition and offset the runtime commits once Kafka has acknowledged it.
type SourceRecord struct {
	Record
	SourcePartition map[string]any
	SourceOffset    map[string]any
}

// SinkRecord is a record consumed from Kafka and given to a sink task.
type SinkRecord struct {
	Record
	KafkaOffset int64
	// TimestampType is "CreateTime", "LogAppendTime" or "NoTimestampType".
	TimestampType string
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Connector is the part common to source and sink connectors: it validates
// and holds the connector configuration and splits the work into tasks.
type Connector interface {
	// Version is the plugin's version string.
	Version() string
	// ConfigDef declares the connector's configuration keys.
	ConfigDef() *configdef.Def
	// Start starts the connector with its configuration.
	Start(ctx ConnectorContext, props map[string]string) error
	// TaskConfigs returns one configuration per task, at most maxTasks.
	TaskConfigs(maxTasks int) ([]map[string]string, error)
	// Stop stops the connector.
	Stop() error
}

// SourceConnector is a connector whose tasks read from an external system
// and produce to Kafka.
type SourceConnector interface {
	Connector
	NewTask() SourceTask
}

// SinkConnector is a connector whose tasks consume from Kafka and write to an
// external system.
type SinkConnector interface {
	Connector
	NewTask() SinkTask
}

// PartitionOffset is one source partition and its offset; a nil Offset
// resets the partition.
type PartitionOffset struct {
	Partition map[string]any
	Offset    map[string]any
}

// SourceOffsetAlterer is optionally implemented by a SourceConnector to check
// the offsets a user writes with PATCH or DELETE /connectors/{c}/offsets
// (KIP-875) before the runtime stores them; config is the connector's
// configuration. An error rejects the request and should say which
// partition or offset field is wrong (Kafka's alterOffsets).
type SourceOffsetAlterer interface {
	AlterOffsets(config map[string]string, offsets []PartitionOffset) error
}

// SinkOffsetAlterer is the sink counterpart of SourceOffsetAlterer; a nil
// offset resets the partition.
type SinkOffsetAlterer interface {
	AlterOffsets(config map[string]string, offsets map[TopicPartition]*int64) error
}

// ConnectorContext lets a connector talk back to the runtime.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs again.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err.
	RaiseError(err error)
}

// SourceTask reads records from an external system.
type SourceTask interface {
	Version() string
	Start(ctx SourceTaskContext, props map[string]string) error
	// Poll returns the next records. It may block until ctx ends or data
	// arrives; nil, nil means nothing yet.
	Poll(ctx context.Context) ([]SourceRecord, error)
	// Commit is called after the runtime has committed source offsets.
	Commit() error
	// CommitRecord is called once Kafka has acknowledged r at offset.
	CommitRecord(r SourceRecord, offset int64) error
	Stop() error
}

// SourceTaskContext gives a source task its configuration and committed offsets.
type SourceTaskContext interface {
	Configs() map[string]string
	Offsets() OffsetReader
}

// OffsetReader reads committed source offsets.
type OffsetReader interface {
	// Offset returns the last committed offset of a source partition, or
	// nil, nil when there is none.
	Offset(partition map[string]any) (map[string]any, error)
}

// SinkTask writes records consumed from Kafka to an external system.
type SinkTask interface {
	Version() string
	Start(ctx SinkTaskContext, props map[string]string) error
	// Open is called when partitions are assigned to the task.
	Open(partitions []TopicPartition) error
	// Put delivers records; the task may buffer them until PreCommit.
	Put(records []SinkRecord) error
	// PreCommit flushes and returns the offsets (of the next record to read)
	// that are safe to commit; returning offsets unchanged is the default.
	PreCommit(offsets map[TopicPartition]int64) (map[TopicPartition]int64, error)
	// Close is called when partitions are revoked.
	Close(partitions []TopicPartition) error
	Stop() error
}

// SinkTaskContext lets a sink task steer its consumer.
type SinkTaskContext interface {
	Configs() map[string]string
	// Offset asks the runtime to rewind or skip the given partitions.
	Offset(offsets map[TopicPartition]int64)
	Pause(partitions ...TopicPartition)
	Resume(partitions ...TopicPartition)
	// RequestCommit asks for an offset commit as soon as possible.
	RequestCommit()
}

// Converter turns Connect data into the bytes of a Kafka record key or value
// and back (key.converter, value.converter).
type Converter interface {
	// Configure sets the converter up; isKey tells a key converter from a
	// value converter.
	Configure(props map[string]string, isKey bool) error
	FromConnectData(topic string, headers []Header, schema *data.Schema, value any) ([]byte, error)
	ToConnectData(topic string, headers []Header, value []byte) (*data.Schema, any, error)
}

// Transformation is a single message transform (SMT) applied to each record.
type Transformation interface {
	Configure(props map[string]string) error
	ConfigDef() *configdef.Def
	// Apply returns the transformed record; keep=false drops it.
	Apply(r Record) (out Record, keep bool, err error)
	Close() error
}

// Predicate decides whether a transformation applies to a record.
type Predicate interface {
	Configure(props map[string]string) error
	ConfigDef() *configdef.Def
	Test(r Record) bool
}
