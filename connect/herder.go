package connect

import (
	"context"

	"github.com/runnel/runnel/connect/configdef"
)

// Herder is everything the REST API needs from a Connect cluster: the
// standalone herder in this package and the distributed herder in
// connect/distributed implement it.
//
// Failures are *Error values carrying Kafka's HTTP status (404 for an
// unknown connector or task, 409 for an existing connector or a rebalance
// in progress, 400 for a bad configuration naming the key), or a
// *NotLeaderError when the request must be served by the group's leader;
// the REST layer forwards it there.
type Herder interface {
	// KafkaClusterID is the ID of the Kafka cluster the worker uses.
	KafkaClusterID() string
	// Health returns nil once the worker has started and can serve
	// requests; an *Error with status 503 while it starts.
	Health(ctx context.Context) error

	// Connectors lists the connector names, sorted.
	Connectors(ctx context.Context) ([]string, error)
	// ConnectorInfo returns a connector's configuration and tasks.
	ConnectorInfo(ctx context.Context, name string) (ConnectorInfo, error)
	// ConnectorConfig returns a connector's configuration.
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	// PutConnectorConfig creates or (with allowReplace) reconfigures a
	// connector. initial ("" = STARTED) is the target state of a new
	// connector. created reports whether the connector is new.
	PutConnectorConfig(ctx context.Context, name string, config map[string]string, initial TargetState, allowReplace bool) (info ConnectorInfo, created bool, err error)
	// PatchConnectorConfig applies patch to a connector's configuration:
	// a nil value removes the key.
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error)
	// DeleteConnector stops and removes a connector and its tasks.
	DeleteConnector(ctx context.Context, name string) error

	// ConnectorStatus returns the state of a connector and its tasks.
	ConnectorStatus(ctx context.Context, name string) (ConnectorStateInfo, error)
	// TaskStatus returns the state of one task.
	TaskStatus(ctx context.Context, id TaskID) (TaskState, error)
	// TaskConfigs returns the configuration of each task.
	TaskConfigs(ctx context.Context, name string) ([]TaskInfo, error)

	// RestartConnector restarts the connector instance only.
	RestartConnector(ctx context.Context, name string) error
	// RestartConnectorAndTasks restarts the connector and/or its tasks as
	// the request asks and returns the state with RESTARTING marked.
	RestartConnectorAndTasks(ctx context.Context, req RestartRequest) (ConnectorStateInfo, error)
	// RestartTask restarts one task.
	RestartTask(ctx context.Context, id TaskID) error
	// PauseConnector, ResumeConnector and StopConnector set the target
	// state (PAUSED, STARTED, STOPPED). They are idempotent.
	PauseConnector(ctx context.Context, name string) error
	ResumeConnector(ctx context.Context, name string) error
	StopConnector(ctx context.Context, name string) error

	// ConnectorActiveTopics lists the topics a connector has used since
	// its topics were last reset.
	ConnectorActiveTopics(ctx context.Context, name string) ([]string, error)
	// ResetConnectorActiveTopics forgets them.
	ResetConnectorActiveTopics(ctx context.Context, name string) error

	// ConnectorOffsets returns a connector's committed offsets (KIP-875).
	ConnectorOffsets(ctx context.Context, name string) (ConnectorOffsets, error)
	// AlterConnectorOffsets writes offsets for a STOPPED connector and
	// returns Kafka's confirmation message.
	AlterConnectorOffsets(ctx context.Context, name string, offsets []ConnectorOffset) (string, error)
	// ResetConnectorOffsets removes all offsets of a STOPPED connector.
	ResetConnectorOffsets(ctx context.Context, name string) (string, error)

	// Plugins is the registry of installed plugins.
	Plugins() *Registry
	// ConnectorPluginConfig describes a plugin's configuration keys, for
	// a connector merged with the common connector keys.
	ConnectorPluginConfig(ctx context.Context, plugin string) ([]configdef.KeyInfo, error)
	// ValidateConnectorConfig validates a connector configuration; the
	// result counts the errors and names each key at fault.
	ValidateConnectorConfig(ctx context.Context, config map[string]string) (configdef.Infos, error)

	// Loggers returns the worker's adjustable log levels.
	Loggers() *Loggers
	// SetClusterLoggerLevel sets a logger's level on every worker.
	SetClusterLoggerLevel(ctx context.Context, namespace, level string) error
}
