package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Broker is the validated configuration of one node. Every field's comment
// (and its config tag) names the Kafka property it comes from; fields
// derived from several properties say how. Properties without a field are
// still validated, and Describe lists them.
type Broker struct {
	// Node.
	NodeID       int32    `config:"node.id"`       // node.id (or broker.id; default 1)
	ProcessRoles []string `config:"process.roles"` // process.roles (default broker,controller)
	BrokerRack   string   `config:"broker.rack"`   // broker.rack

	// Listeners. Listeners and AdvertisedListeners are in the order given.
	Listeners []Listener // listeners (default PLAINTEXT://127.0.0.1:9092)
	// AdvertisedListeners are the broker (non-controller) listeners given to
	// clients: advertised.listeners, or listeners when that is not set. An
	// empty host is replaced by this machine's host name, as Kafka does; a
	// 0.0.0.0 host is rejected. Port 0 is left for the server to fill in.
	AdvertisedListeners []Listener
	// AdvertisedControllerListeners are the controller listeners, one per
	// controller.listener.names entry present, taken from
	// advertised.listeners or else listeners.
	AdvertisedControllerListeners []Listener
	// ListenerSecurityProtocolMap maps upper-case listener names to their
	// security protocol (listener.security.protocol.map, plus PLAINTEXT for
	// controller listeners when the map is left at its default, as Kafka
	// does in KRaft mode).
	ListenerSecurityProtocolMap map[string]string
	ControllerListenerNames     []string // controller.listener.names (upper-case)
	// InterBrokerListenerName is inter.broker.listener.name, or else the
	// listener named after security.inter.broker.protocol (PLAINTEXT).
	InterBrokerListenerName              string
	ControllerQuorumVoters               []Voter  // controller.quorum.voters
	ControllerQuorumBootstrapServers     []string `config:"controller.quorum.bootstrap.servers"`       // controller.quorum.bootstrap.servers
	ControllerQuorumElectionTimeoutMs    int32    `config:"controller.quorum.election.timeout.ms"`     // controller.quorum.election.timeout.ms
	ControllerQuorumFetchTimeoutMs       int32    `config:"controller.quorum.fetch.timeout.ms"`        // controller.quorum.fetch.timeout.ms
	ControllerQuorumElectionBackoffMaxMs int32    `config:"controller.quorum.election.backoff.max.ms"` // controller.quorum.election.backoff.max.ms
	ControllerQuorumAppendLingerMs       int32    `config:"controller.quorum.append.linger.ms"`        // controller.quorum.append.linger.ms
	ControllerQuorumRequestTimeoutMs     int32    `config:"controller.quorum.request.timeout.ms"`      // controller.quorum.request.timeout.ms
	ControllerQuorumRetryBackoffMs       int32    `config:"controller.quorum.retry.backoff.ms"`        // controller.quorum.retry.backoff.ms
	BrokerHeartbeatIntervalMs            int32    `config:"broker.heartbeat.interval.ms"`              // broker.heartbeat.interval.ms
	BrokerSessionTimeoutMs               int32    `config:"broker.session.timeout.ms"`                 // broker.session.timeout.ms
	InitialBrokerRegistrationTimeoutMs   int32    `config:"initial.broker.registration.timeout.ms"`    // initial.broker.registration.timeout.ms
	// MetadataLogDir is metadata.log.dir, or else the first of LogDirs.
	MetadataLogDir                            string
	MetadataLogSegmentBytes                   int32 `config:"metadata.log.segment.bytes"`                      // metadata.log.segment.bytes
	MetadataLogSegmentMs                      int64 `config:"metadata.log.segment.ms"`                         // metadata.log.segment.ms
	MetadataLogMaxRecordBytesBetweenSnapshots int64 `config:"metadata.log.max.record.bytes.between.snapshots"` // metadata.log.max.record.bytes.between.snapshots
	MetadataLogMaxSnapshotIntervalMs          int64 `config:"metadata.log.max.snapshot.interval.ms"`           // metadata.log.max.snapshot.interval.ms
	MetadataMaxRetentionBytes                 int64 `config:"metadata.max.retention.bytes"`                    // metadata.max.retention.bytes
	MetadataMaxRetentionMs                    int64 `config:"metadata.max.retention.ms"`                       // metadata.max.retention.ms
	MetadataMaxIdleIntervalMs                 int32 `config:"metadata.max.idle.interval.ms"`                   // metadata.max.idle.interval.ms

	// Network and request handling.
	NumNetworkThreads                     int32            `config:"num.network.threads"`         // num.network.threads
	NumIOThreads                          int32            `config:"num.io.threads"`              // num.io.threads
	BackgroundThreads                     int32            `config:"background.threads"`          // background.threads
	SocketSendBufferBytes                 int32            `config:"socket.send.buffer.bytes"`    // socket.send.buffer.bytes
	SocketReceiveBufferBytes              int32            `config:"socket.receive.buffer.bytes"` // socket.receive.buffer.bytes
	SocketRequestMaxBytes                 int32            `config:"socket.request.max.bytes"`    // socket.request.max.bytes (104857600)
	SocketListenBacklogSize               int32            `config:"socket.listen.backlog.size"`  // socket.listen.backlog.size
	QueuedMaxRequests                     int32            `config:"queued.max.requests"`         // queued.max.requests
	QueuedMaxRequestBytes                 int64            `config:"queued.max.request.bytes"`    // queued.max.request.bytes
	MaxConnections                        int32            `config:"max.connections"`             // max.connections
	MaxConnectionsPerIP                   int32            `config:"max.connections.per.ip"`      // max.connections.per.ip
	MaxConnectionsPerIPOverrides          map[string]int32 // max.connections.per.ip.overrides
	MaxConnectionCreationRate             int32            `config:"max.connection.creation.rate"`              // max.connection.creation.rate
	ConnectionsMaxIdleMs                  int64            `config:"connections.max.idle.ms"`                   // connections.max.idle.ms
	ConnectionFailedAuthenticationDelayMs int32            `config:"connection.failed.authentication.delay.ms"` // connection.failed.authentication.delay.ms
	RequestTimeoutMs                      int32            `config:"request.timeout.ms"`                        // request.timeout.ms
	FetchMaxBytes                         int32            `config:"fetch.max.bytes"`                           // fetch.max.bytes
	MaxIncrementalFetchSessionCacheSlots  int32            `config:"max.incremental.fetch.session.cache.slots"` // max.incremental.fetch.session.cache.slots
	MaxRequestPartitionSizeLimit          int32            `config:"max.request.partition.size.limit"`          // max.request.partition.size.limit

	// Topics and logs.
	LogDirs                     []string // log.dirs, or else log.dir (default ./runnel-data)
	NumPartitions               int32    `config:"num.partitions"`                 // num.partitions (1)
	DefaultReplicationFactor    int16    `config:"default.replication.factor"`     // default.replication.factor (1)
	MinInsyncReplicas           int32    `config:"min.insync.replicas"`            // min.insync.replicas (1)
	AutoCreateTopicsEnable      bool     `config:"auto.create.topics.enable"`      // auto.create.topics.enable (true)
	DeleteTopicEnable           bool     `config:"delete.topic.enable"`            // delete.topic.enable (true)
	UncleanLeaderElectionEnable bool     `config:"unclean.leader.election.enable"` // unclean.leader.election.enable (false)
	MessageMaxBytes             int32    `config:"message.max.bytes"`              // message.max.bytes (1048588)
	// LogRetentionMs is log.retention.ms, else log.retention.minutes, else
	// log.retention.hours (168), in milliseconds; any negative value is -1
	// (no time limit).
	LogRetentionMs    int64
	LogRetentionBytes int64 `config:"log.retention.bytes"` // log.retention.bytes (-1)
	LogSegmentBytes   int32 `config:"log.segment.bytes"`   // log.segment.bytes (1 GiB)
	// LogRollMs is log.roll.ms, else log.roll.hours (168), in milliseconds.
	LogRollMs int64
	// LogRollJitterMs is log.roll.jitter.ms, else log.roll.jitter.hours (0),
	// in milliseconds.
	LogRollJitterMs          int64
	LogIndexIntervalBytes    int32 `config:"log.index.interval.bytes"`    // log.index.interval.bytes
	LogIndexSizeMaxBytes     int32 `config:"log.index.size.max.bytes"`    // log.index.size.max.bytes
	LogFlushIntervalMessages int64 `config:"log.flush.interval.messages"` // log.flush.interval.messages (Long.MAX)
	// LogFlushIntervalMs is log.flush.interval.ms, else
	// log.flush.scheduler.interval.ms.
	LogFlushIntervalMs                      int64
	LogFlushSchedulerIntervalMs             int64    `config:"log.flush.scheduler.interval.ms"`               // log.flush.scheduler.interval.ms
	LogFlushOffsetCheckpointIntervalMs      int64    `config:"log.flush.offset.checkpoint.interval.ms"`       // log.flush.offset.checkpoint.interval.ms
	LogFlushStartOffsetCheckpointIntervalMs int64    `config:"log.flush.start.offset.checkpoint.interval.ms"` // log.flush.start.offset.checkpoint.interval.ms
	LogRetentionCheckIntervalMs             int64    `config:"log.retention.check.interval.ms"`               // log.retention.check.interval.ms (300000)
	LogSegmentDeleteDelayMs                 int64    `config:"log.segment.delete.delay.ms"`                   // log.segment.delete.delay.ms
	LogCleanupPolicy                        []string `config:"log.cleanup.policy"`                            // log.cleanup.policy
	LogMessageTimestampType                 string   `config:"log.message.timestamp.type"`                    // log.message.timestamp.type
	LogMessageTimestampBeforeMaxMs          int64    `config:"log.message.timestamp.before.max.ms"`           // log.message.timestamp.before.max.ms
	LogMessageTimestampAfterMaxMs           int64    `config:"log.message.timestamp.after.max.ms"`            // log.message.timestamp.after.max.ms
	LogPreallocate                          bool     `config:"log.preallocate"`                               // log.preallocate
	LogDirFailureTimeoutMs                  int64    `config:"log.dir.failure.timeout.ms"`                    // log.dir.failure.timeout.ms
	// NumRecoveryThreadsPerDataDir is num.recovery.threads.per.data.dir:
	// Kafka 4's default of 2 (Kafka 3 used 1).
	NumRecoveryThreadsPerDataDir int    `config:"num.recovery.threads.per.data.dir"`
	CompressionType              string `config:"compression.type"`       // compression.type
	CompressionGzipLevel         int32  `config:"compression.gzip.level"` // compression.gzip.level
	CompressionLz4Level          int32  `config:"compression.lz4.level"`  // compression.lz4.level
	CompressionZstdLevel         int32  `config:"compression.zstd.level"` // compression.zstd.level

	// Log cleaner.
	LogCleanerEnable              bool    `config:"log.cleaner.enable"`                  // log.cleaner.enable
	LogCleanerThreads             int32   `config:"log.cleaner.threads"`                 // log.cleaner.threads
	LogCleanerDedupeBufferSize    int64   `config:"log.cleaner.dedupe.buffer.size"`      // log.cleaner.dedupe.buffer.size
	LogCleanerIOBufferSize        int32   `config:"log.cleaner.io.buffer.size"`          // log.cleaner.io.buffer.size
	LogCleanerIOBufferLoadFactor  float64 `config:"log.cleaner.io.buffer.load.factor"`   // log.cleaner.io.buffer.load.factor
	LogCleanerIOMaxBytesPerSecond float64 `config:"log.cleaner.io.max.bytes.per.second"` // log.cleaner.io.max.bytes.per.second
	LogCleanerBackoffMs           int64   `config:"log.cleaner.backoff.ms"`              // log.cleaner.backoff.ms
	LogCleanerMinCleanableRatio   float64 `config:"log.cleaner.min.cleanable.ratio"`     // log.cleaner.min.cleanable.ratio
	LogCleanerDeleteRetentionMs   int64   `config:"log.cleaner.delete.retention.ms"`     // log.cleaner.delete.retention.ms
	LogCleanerMinCompactionLagMs  int64   `config:"log.cleaner.min.compaction.lag.ms"`   // log.cleaner.min.compaction.lag.ms
	LogCleanerMaxCompactionLagMs  int64   `config:"log.cleaner.max.compaction.lag.ms"`   // log.cleaner.max.compaction.lag.ms

	// Replication.
	ReplicaLagTimeMaxMs                         int64 `config:"replica.lag.time.max.ms"`                          // replica.lag.time.max.ms
	ReplicaFetchMaxBytes                        int32 `config:"replica.fetch.max.bytes"`                          // replica.fetch.max.bytes
	ReplicaFetchResponseMaxBytes                int32 `config:"replica.fetch.response.max.bytes"`                 // replica.fetch.response.max.bytes
	ReplicaFetchWaitMaxMs                       int32 `config:"replica.fetch.wait.max.ms"`                        // replica.fetch.wait.max.ms
	ReplicaFetchMinBytes                        int32 `config:"replica.fetch.min.bytes"`                          // replica.fetch.min.bytes
	ReplicaFetchBackoffMs                       int32 `config:"replica.fetch.backoff.ms"`                         // replica.fetch.backoff.ms
	ReplicaSocketTimeoutMs                      int32 `config:"replica.socket.timeout.ms"`                        // replica.socket.timeout.ms
	ReplicaSocketReceiveBufferBytes             int32 `config:"replica.socket.receive.buffer.bytes"`              // replica.socket.receive.buffer.bytes
	ReplicaHighWatermarkCheckpointIntervalMs    int64 `config:"replica.high.watermark.checkpoint.interval.ms"`    // replica.high.watermark.checkpoint.interval.ms
	NumReplicaFetchers                          int32 `config:"num.replica.fetchers"`                             // num.replica.fetchers
	FetchPurgatoryPurgeIntervalRequests         int32 `config:"fetch.purgatory.purge.interval.requests"`          // fetch.purgatory.purge.interval.requests
	ProducerPurgatoryPurgeIntervalRequests      int32 `config:"producer.purgatory.purge.interval.requests"`       // producer.purgatory.purge.interval.requests
	DeleteRecordsPurgatoryPurgeIntervalRequests int32 `config:"delete.records.purgatory.purge.interval.requests"` // delete.records.purgatory.purge.interval.requests
	AutoLeaderRebalanceEnable                   bool  `config:"auto.leader.rebalance.enable"`                     // auto.leader.rebalance.enable
	LeaderImbalancePerBrokerPercentage          int32 `config:"leader.imbalance.per.broker.percentage"`           // leader.imbalance.per.broker.percentage
	LeaderImbalanceCheckIntervalSeconds         int64 `config:"leader.imbalance.check.interval.seconds"`          // leader.imbalance.check.interval.seconds
	ControlledShutdownEnable                    bool  `config:"controlled.shutdown.enable"`                       // controlled.shutdown.enable
	LeaderReplicationThrottledRate              int64 `config:"leader.replication.throttled.rate"`                // leader.replication.throttled.rate
	FollowerReplicationThrottledRate            int64 `config:"follower.replication.throttled.rate"`              // follower.replication.throttled.rate

	// Group coordinator and committed offsets.
	GroupInitialRebalanceDelayMs        int32    `config:"group.initial.rebalance.delay.ms"`         // group.initial.rebalance.delay.ms
	GroupMinSessionTimeoutMs            int32    `config:"group.min.session.timeout.ms"`             // group.min.session.timeout.ms
	GroupMaxSessionTimeoutMs            int32    `config:"group.max.session.timeout.ms"`             // group.max.session.timeout.ms
	GroupMaxSize                        int32    `config:"group.max.size"`                           // group.max.size
	GroupCoordinatorRebalanceProtocols  []string `config:"group.coordinator.rebalance.protocols"`    // group.coordinator.rebalance.protocols
	GroupCoordinatorThreads             int32    `config:"group.coordinator.threads"`                // group.coordinator.threads
	GroupCoordinatorAppendLingerMs      int32    `config:"group.coordinator.append.linger.ms"`       // group.coordinator.append.linger.ms
	GroupConsumerSessionTimeoutMs       int32    `config:"group.consumer.session.timeout.ms"`        // group.consumer.session.timeout.ms
	GroupConsumerMinSessionTimeoutMs    int32    `config:"group.consumer.min.session.timeout.ms"`    // group.consumer.min.session.timeout.ms
	GroupConsumerMaxSessionTimeoutMs    int32    `config:"group.consumer.max.session.timeout.ms"`    // group.consumer.max.session.timeout.ms
	GroupConsumerHeartbeatIntervalMs    int32    `config:"group.consumer.heartbeat.interval.ms"`     // group.consumer.heartbeat.interval.ms
	GroupConsumerMinHeartbeatIntervalMs int32    `config:"group.consumer.min.heartbeat.interval.ms"` // group.consumer.min.heartbeat.interval.ms
	GroupConsumerMaxHeartbeatIntervalMs int32    `config:"group.consumer.max.heartbeat.interval.ms"` // group.consumer.max.heartbeat.interval.ms
	GroupConsumerMaxSize                int32    `config:"group.consumer.max.size"`                  // group.consumer.max.size
	GroupConsumerAssignors              []string `config:"group.consumer.assignors"`                 // group.consumer.assignors
	OffsetsTopicNumPartitions           int32    `config:"offsets.topic.num.partitions"`             // offsets.topic.num.partitions (50)
	// OffsetsTopicReplicationFactor is offsets.topic.replication.factor:
	// 1 by default in Runnel (Kafka: 3), so that one node works unconfigured.
	OffsetsTopicReplicationFactor   int16 `config:"offsets.topic.replication.factor"`
	OffsetsTopicSegmentBytes        int32 `config:"offsets.topic.segment.bytes"`         // offsets.topic.segment.bytes
	OffsetsTopicCompressionCodec    int32 `config:"offsets.topic.compression.codec"`     // offsets.topic.compression.codec
	OffsetsLoadBufferSize           int32 `config:"offsets.load.buffer.size"`            // offsets.load.buffer.size
	OffsetsRetentionMinutes         int32 `config:"offsets.retention.minutes"`           // offsets.retention.minutes (10080)
	OffsetsRetentionCheckIntervalMs int64 `config:"offsets.retention.check.interval.ms"` // offsets.retention.check.interval.ms
	OffsetsCommitTimeoutMs          int32 `config:"offsets.commit.timeout.ms"`           // offsets.commit.timeout.ms
	OffsetMetadataMaxBytes          int32 `config:"offset.metadata.max.bytes"`           // offset.metadata.max.bytes

	// Transactions and producer ids.
	TransactionStateLogNumPartitions int32 `config:"transaction.state.log.num.partitions"` // transaction.state.log.num.partitions (50)
	// TransactionStateLogReplicationFactor is
	// transaction.state.log.replication.factor: 1 by default in Runnel
	// (Kafka: 3).
	TransactionStateLogReplicationFactor int16 `config:"transaction.state.log.replication.factor"`
	// TransactionStateLogMinISR is transaction.state.log.min.isr: 1 by
	// default in Runnel (Kafka: 2).
	TransactionStateLogMinISR                            int32 `config:"transaction.state.log.min.isr"`
	TransactionStateLogSegmentBytes                      int32 `config:"transaction.state.log.segment.bytes"`                         // transaction.state.log.segment.bytes
	TransactionStateLogLoadBufferSize                    int32 `config:"transaction.state.log.load.buffer.size"`                      // transaction.state.log.load.buffer.size
	TransactionMaxTimeoutMs                              int32 `config:"transaction.max.timeout.ms"`                                  // transaction.max.timeout.ms
	TransactionalIDExpirationMs                          int32 `config:"transactional.id.expiration.ms"`                              // transactional.id.expiration.ms
	TransactionAbortTimedOutTransactionCleanupIntervalMs int32 `config:"transaction.abort.timed.out.transaction.cleanup.interval.ms"` // transaction.abort.timed.out.transaction.cleanup.interval.ms
	TransactionRemoveExpiredTransactionCleanupIntervalMs int32 `config:"transaction.remove.expired.transaction.cleanup.interval.ms"`  // transaction.remove.expired.transaction.cleanup.interval.ms
	TransactionPartitionVerificationEnable               bool  `config:"transaction.partition.verification.enable"`                   // transaction.partition.verification.enable
	ProducerIDExpirationMs                               int32 `config:"producer.id.expiration.ms"`                                   // producer.id.expiration.ms
	ProducerIDExpirationCheckIntervalMs                  int32 `config:"producer.id.expiration.check.interval.ms"`                    // producer.id.expiration.check.interval.ms

	// Quotas.
	QuotaWindowNum                    int32 `config:"quota.window.num"`                      // quota.window.num
	QuotaWindowSizeSeconds            int32 `config:"quota.window.size.seconds"`             // quota.window.size.seconds
	ReplicationQuotaWindowNum         int32 `config:"replication.quota.window.num"`          // replication.quota.window.num
	ReplicationQuotaWindowSizeSeconds int32 `config:"replication.quota.window.size.seconds"` // replication.quota.window.size.seconds

	// Connect holds every "connect."-prefixed key with the prefix removed;
	// the Connect worker validates them.
	Connect map[string]string

	props map[string]string // the properties as given, after node.id/broker.id are paired
	vals  map[string]any    // parsed value of every definition, defaults and dynamic configs included; nil for null
	dyn   dynamicLayers     // the dynamic configs laid over props by WithDynamic
}

// ParseBroker validates props: an unknown key, a bad value (type, range,
// enum) or a bad combination (e.g. a listener whose security protocol
// Runnel does not support yet — only PLAINTEXT for now; advertised.listeners
// naming a listener not in listeners; duplicate ports) is an *Error whose
// text names the key and the value and what was expected. Keys of Apache
// Kafka's stock server.properties files (3.9 KRaft and 4.x) are accepted,
// as are other known keys Runnel does not act on yet; Describe lists them.
func ParseBroker(props map[string]string) (*Broker, error) {
	b := &Broker{
		props:   make(map[string]string, len(props)),
		vals:    make(map[string]any, len(brokerDefs)),
		Connect: map[string]string{},
	}
	for k, v := range props {
		b.props[k] = v
	}
	// Kafka treats broker.id and node.id as one setting.
	nodeID, hasNode := props["node.id"]
	brokerID, hasBroker := props["broker.id"]
	switch {
	case hasBroker && !hasNode:
		b.props["node.id"] = brokerID
	case hasNode && !hasBroker:
		b.props["broker.id"] = nodeID
	}

	rsmPrefix := pluginPrefix(props, "remote.log.storage.manager.impl.prefix")
	rlmmPrefix := pluginPrefix(props, "remote.log.metadata.manager.impl.prefix")
	keys := make([]string, 0, len(b.props))
	for k := range b.props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := b.props[k]
		if d := brokerDef(k); d != nil {
			v, err := d.parse(raw)
			if err != nil {
				return nil, err
			}
			b.vals[k] = v
			continue
		}
		if name, ok := strings.CutPrefix(k, "connect."); ok && name != "" {
			b.Connect[name] = raw
			continue
		}
		if _, base, ok := splitListenerKey(k); ok {
			if _, err := brokerDef(base).parse(raw); err != nil {
				err.Key = k
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(k, rsmPrefix) || strings.HasPrefix(k, rlmmPrefix) {
			continue // passed to tiered-storage plugins, as in Kafka
		}
		return nil, unknown(k, brokerHint(k))
	}
	for i := range brokerDefs {
		d := &brokerDefs[i]
		if _, set := b.vals[d.name]; !set && d.hasDefault() {
			v, _ := parseType(d.typ, d.dflt)
			b.vals[d.name] = v
		}
	}
	if hasNode && hasBroker {
		if b.vals["node.id"].(int32) != b.vals["broker.id"].(int32) && b.vals["broker.id"].(int32) != -1 {
			return nil, invalid("broker.id", brokerID, "must equal node.id ("+nodeID+") when both are set")
		}
	}
	fill(reflect.ValueOf(b).Elem(), b.vals)
	if err := b.derive(); err != nil {
		return nil, err
	}
	if err := b.checkListeners(); err != nil {
		return nil, err
	}
	if err := b.checkCombinations(); err != nil {
		return nil, err
	}
	return b, nil
}

func pluginPrefix(props map[string]string, key string) string {
	if p := strings.TrimSpace(props[key]); p != "" {
		return p
	}
	return brokerDef(key).dflt
}

// brokerHint suggests what an unknown broker key may have meant.
func brokerHint(k string) string {
	if strings.HasPrefix(k, "zookeeper.") {
		return "ZooKeeper mode is not supported; Runnel runs in KRaft mode (process.roles, controller.quorum.voters)"
	}
	if td := topicIndex[k]; td != nil && len(td.synonyms) > 0 {
		return k + " is a topic-level configuration; its broker-wide default is " + td.synonyms[0]
	}
	if strings.HasPrefix(k, "listener.name.") {
		return "expected listener.name.<listener>.<broker configuration>"
	}
	if s := closest(k, brokerNames()); s != "" {
		return "did you mean " + s + "?"
	}
	return "not a Kafka broker configuration Runnel knows"
}

// closest returns the name within edit distance 2 of k, if any.
func closest(k string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(k, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or max if it is at
// least max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d >= max || -d >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
			rowMin = min(rowMin, c)
		}
		if rowMin >= max {
			return max
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}

// fill sets every field of v tagged `config:"name"` from vals.
func fill(v reflect.Value, vals map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("config")
		if name == "" {
			continue
		}
		x := vals[name]
		if x == nil {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(x.(bool))
		case reflect.String:
			f.SetString(x.(string))
		case reflect.Int, reflect.Int16, reflect.Int32, reflect.Int64:
			n, _ := asInt64(x)
			f.SetInt(n)
		case reflect.Float64:
			f.SetFloat(x.(float64))
		case reflect.Slice:
			f.Set(reflect.ValueOf(slices.Clone(x.([]string))))
		}
	}
}

// derive computes the fields that combine several properties.
func (b *Broker) derive() error {
	v := b.vals
	const minute, hour = int64(60_000), int64(3_600_000)

	// log.retention.ms > log.retention.minutes > log.retention.hours.
	key := "log.retention.ms"
	switch {
	case v["log.retention.ms"] != nil:
		b.LogRetentionMs = v["log.retention.ms"].(int64)
	case v["log.retention.minutes"] != nil:
		key = "log.retention.minutes"
		b.LogRetentionMs = int64(v[key].(int32)) * minute
	default:
		key = "log.retention.hours"
		b.LogRetentionMs = int64(v[key].(int32)) * hour
	}
	if b.LogRetentionMs < 0 {
		b.LogRetentionMs = -1
	}
	if b.LogRetentionMs == 0 {
		return invalid(key, b.raw(key), "retention must be -1 (unlimited) or at least 1 ms")
	}

	key = "log.roll.ms"
	if x := v[key]; x != nil {
		b.LogRollMs = x.(int64)
	} else {
		key = "log.roll.hours"
		b.LogRollMs = int64(v[key].(int32)) * hour
	}
	if b.LogRollMs < 1 {
		return invalid(key, b.raw(key), "the roll time must be at least 1 ms")
	}
	key = "log.roll.jitter.ms"
	if x := v[key]; x != nil {
		b.LogRollJitterMs = x.(int64)
	} else {
		key = "log.roll.jitter.hours"
		b.LogRollJitterMs = int64(v[key].(int32)) * hour
	}
	if b.LogRollJitterMs < 0 {
		return invalid(key, b.raw(key), "the roll jitter must be at least 0")
	}
	if x := v["log.flush.interval.ms"]; x != nil {
		b.LogFlushIntervalMs = x.(int64)
	} else {
		b.LogFlushIntervalMs = b.LogFlushSchedulerIntervalMs
	}

	// log.dirs > log.dir.
	key = "log.dirs"
	dirs := v[key]
	if dirs == nil {
		key = "log.dir"
		dirs = v[key]
	}
	seen := map[string]bool{}
	for _, d := range splitList(strings.TrimSpace(dirs.(string))) {
		if d == "" {
			continue
		}
		c := filepath.Clean(d)
		if seen[c] {
			return invalid(key, b.raw(key), "log directory "+d+" is listed twice")
		}
		seen[c] = true
		b.LogDirs = append(b.LogDirs, d)
	}
	if len(b.LogDirs) == 0 {
		return invalid(key, b.raw(key), "at least one log directory must be given in log.dirs or log.dir")
	}
	b.MetadataLogDir = b.LogDirs[0]
	if x := v["metadata.log.dir"]; x != nil && strings.TrimSpace(x.(string)) != "" {
		b.MetadataLogDir = strings.TrimSpace(x.(string))
	}

	b.MaxConnectionsPerIPOverrides, _ = parseIPOverrides(v["max.connections.per.ip.overrides"].(string))
	b.ControllerQuorumVoters, _ = parseVoters(v["controller.quorum.voters"].([]string))
	return nil
}

// raw returns key's value as given, or its default.
func (b *Broker) raw(key string) string {
	if s, ok := b.props[key]; ok {
		return s
	}
	if d := brokerDef(key); d != nil {
		return d.dflt
	}
	return ""
}

func (b *Broker) hasRole(role string) bool { return slices.Contains(b.ProcessRoles, role) }

// checkListeners parses the listener settings and checks them against each
// other and against the node's roles, as Kafka's KRaft validation does.
func (b *Broker) checkListeners() error {
	roles := map[string]bool{}
	for _, r := range b.ProcessRoles {
		if roles[r] {
			return invalid("process.roles", b.raw("process.roles"), "role "+r+" appears twice")
		}
		roles[r] = true
	}
	if len(roles) == 0 {
		return invalid("process.roles", b.raw("process.roles"), "expected broker, controller or both (Runnel runs only in KRaft mode)")
	}
	if s := b.vals["control.plane.listener.name"]; s != nil {
		return invalid("control.plane.listener.name", s.(string), "not supported in KRaft mode; remove it")
	}

	for _, n := range splitList(strings.TrimSpace(b.raw("controller.listener.names"))) {
		if n != "" {
			b.ControllerListenerNames = append(b.ControllerListenerNames, strings.ToUpper(n))
		}
	}
	listeners, err := parseListeners("listeners", b.raw("listeners"), true)
	if err != nil {
		return err
	}
	b.Listeners = listeners

	protoMap, _ := parseProtocolMap(b.raw("listener.security.protocol.map"))
	if _, explicit := b.props["listener.security.protocol.map"]; !explicit {
		// In KRaft mode Kafka maps controller listeners missing from the
		// default map to PLAINTEXT, unless SSL or SASL is in use.
		secure := func(n string) bool { return n == "SSL" || n == "SASL_PLAINTEXT" || n == "SASL_SSL" }
		usesSecure := slices.ContainsFunc(b.ControllerListenerNames, secure) ||
			slices.ContainsFunc(listeners, func(l Listener) bool { return secure(l.Name) })
		if !usesSecure {
			for _, n := range b.ControllerListenerNames {
				if _, ok := protoMap[n]; !ok {
					protoMap[n] = "PLAINTEXT"
				}
			}
		}
	}
	b.ListenerSecurityProtocolMap = protoMap
	checkProto := func(key string, l Listener) error {
		p, ok := protoMap[l.Name]
		switch {
		case !ok:
			return invalid(key, b.raw(key), "listener "+l.Name+" has no security protocol in listener.security.protocol.map")
		case p != "PLAINTEXT":
			return invalid(key, b.raw(key), "listener "+l.Name+" uses "+p+"; Runnel supports only PLAINTEXT listeners for now")
		}
		return nil
	}
	names := map[string]bool{}
	for _, l := range listeners {
		if err := checkProto("listeners", l); err != nil {
			return err
		}
		names[l.Name] = true
	}
	isController := func(n string) bool { return slices.Contains(b.ControllerListenerNames, n) }

	advKey := "listeners"
	advertised := listeners
	if s := b.vals["advertised.listeners"]; s != nil {
		advKey = "advertised.listeners"
		advertised, err = parseListeners(advKey, s.(string), false)
		if err != nil {
			return err
		}
	}
	for _, l := range advertised {
		if !names[l.Name] && !isController(l.Name) {
			return invalid(advKey, b.raw(advKey), "listener "+l.Name+" is not in listeners ("+listenerNames(listeners)+")")
		}
		if err := checkProto(advKey, l); err != nil {
			return err
		}
		if l.Host == "0.0.0.0" || l.Host == "::" {
			hint := "cannot advertise the non-routable address " + l.Host
			if advKey == "listeners" {
				hint += "; set advertised.listeners to an address clients can reach"
			}
			return invalid(advKey, b.raw(advKey), hint)
		}
		if l.Host == "" {
			l.Host = localHostname()
		}
		if !isController(l.Name) {
			b.AdvertisedListeners = append(b.AdvertisedListeners, l)
		}
	}
	for _, n := range b.ControllerListenerNames {
		i := slices.IndexFunc(advertised, func(l Listener) bool { return l.Name == n })
		if i < 0 {
			if i = slices.IndexFunc(listeners, func(l Listener) bool { return l.Name == n }); i < 0 {
				continue
			}
			if l := listeners[i]; l.Host == "" {
				l.Host = localHostname()
				b.AdvertisedControllerListeners = append(b.AdvertisedControllerListeners, l)
				continue
			}
			b.AdvertisedControllerListeners = append(b.AdvertisedControllerListeners, listeners[i])
			continue
		}
		l := advertised[i]
		if l.Host == "" {
			l.Host = localHostname()
		}
		b.AdvertisedControllerListeners = append(b.AdvertisedControllerListeners, l)
	}

	// Roles.
	voters := b.ControllerQuorumVoters
	hasQuorum := len(voters) > 0 || len(b.ControllerQuorumBootstrapServers) > 0
	isVoter := slices.ContainsFunc(voters, func(v Voter) bool { return v.ID == b.NodeID })
	if roles["controller"] {
		for _, n := range b.ControllerListenerNames {
			if !names[n] {
				return invalid("controller.listener.names", b.raw("controller.listener.names"),
					"controller listener "+n+" must appear in listeners ("+listenerNames(listeners)+") when process.roles includes controller")
			}
		}
		if hasQuorum && len(b.ControllerListenerNames) == 0 {
			return invalid("controller.listener.names", "", "a controller in a multi-node quorum needs a controller listener")
		}
		if len(voters) > 0 && !isVoter {
			return invalid("controller.quorum.voters", b.raw("controller.quorum.voters"),
				"node "+strconv.Itoa(int(b.NodeID))+" has the controller role, so it must be one of the voters")
		}
		if !roles["broker"] {
			for _, l := range listeners {
				if !isController(l.Name) {
					return invalid("listeners", b.raw("listeners"), "listener "+l.Name+
						" is not a controller listener; a controller-only node may only list controller.listener.names")
				}
			}
		}
	}
	if roles["broker"] {
		if !roles["controller"] {
			switch {
			case !hasQuorum:
				return invalid("controller.quorum.bootstrap.servers", "", "a broker-only node needs controller.quorum.bootstrap.servers or controller.quorum.voters")
			case isVoter:
				return invalid("controller.quorum.voters", b.raw("controller.quorum.voters"),
					"node "+strconv.Itoa(int(b.NodeID))+" has only the broker role, so it must not be a voter")
			case len(b.ControllerListenerNames) == 0:
				return invalid("controller.listener.names", "", "a broker-only node needs the name of the controllers' listener")
			}
			for _, n := range b.ControllerListenerNames {
				if names[n] {
					return invalid("controller.listener.names", b.raw("controller.listener.names"),
						"controller listener "+n+" must not appear in listeners of a broker-only node")
				}
				if p, ok := protoMap[n]; !ok || p != "PLAINTEXT" {
					return invalid("controller.listener.names", b.raw("controller.listener.names"),
						"controller listener "+n+" must map to PLAINTEXT in listener.security.protocol.map")
				}
			}
		}
		if len(b.AdvertisedListeners) == 0 {
			return invalid(advKey, b.raw(advKey), "there must be at least one broker listener that is not a controller listener")
		}
		name := "PLAINTEXT"
		if s := b.vals["inter.broker.listener.name"]; s != nil {
			if _, both := b.props["security.inter.broker.protocol"]; both {
				return invalid("inter.broker.listener.name", s.(string), "set only one of inter.broker.listener.name and security.inter.broker.protocol")
			}
			name = strings.ToUpper(strings.TrimSpace(s.(string)))
			if _, ok := protoMap[name]; !ok {
				return invalid("inter.broker.listener.name", s.(string), "listener "+name+" is not in listener.security.protocol.map")
			}
		} else {
			name = b.vals["security.inter.broker.protocol"].(string)
			if name != "PLAINTEXT" {
				return invalid("security.inter.broker.protocol", name, "Runnel supports only PLAINTEXT for now")
			}
		}
		if !slices.ContainsFunc(b.AdvertisedListeners, func(l Listener) bool { return l.Name == name }) {
			key := "inter.broker.listener.name"
			if b.vals[key] == nil {
				key = "security.inter.broker.protocol"
			}
			return invalid(key, b.raw(key), "the inter-broker listener "+name+" must be an advertised broker listener ("+
				listenerNames(b.AdvertisedListeners)+")")
		}
		b.InterBrokerListenerName = name
	}
	return nil
}

func listenerNames(ls []Listener) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return strings.Join(names, ", ")
}

// checkCombinations checks settings that constrain each other, as Kafka's
// KafkaConfig and GroupCoordinatorConfig do, and rejects features Runnel
// does not have yet rather than silently ignoring them.
func (b *Broker) checkCombinations() error {
	v := b.vals
	i64 := func(k string) int64 { n, _ := asInt64(v[k]); return n }
	if s := strings.TrimSpace(v["authorizer.class.name"].(string)); s != "" {
		return invalid("authorizer.class.name", s, "Runnel has no authorizer yet; remove it rather than run without the access control it promises")
	}
	if v["remote.log.storage.system.enable"].(bool) {
		return invalid("remote.log.storage.system.enable", b.raw("remote.log.storage.system.enable"), "Runnel does not support tiered storage yet")
	}
	if !slices.Contains(b.GroupCoordinatorRebalanceProtocols, "classic") {
		return invalid("group.coordinator.rebalance.protocols", b.raw("group.coordinator.rebalance.protocols"), "the classic protocol cannot be disabled")
	}
	if t := i64("log.cleaner.threads"); t > 0 && i64("log.cleaner.dedupe.buffer.size")/t <= 1024*1024 {
		return invalid("log.cleaner.dedupe.buffer.size", b.raw("log.cleaner.dedupe.buffer.size"), "must be more than 1 MiB per cleaner thread")
	}
	if i64("replica.fetch.wait.max.ms") > i64("replica.socket.timeout.ms") {
		return invalid("replica.socket.timeout.ms", b.raw("replica.socket.timeout.ms"), "must be at least replica.fetch.wait.max.ms ("+b.raw("replica.fetch.wait.max.ms")+")")
	}
	if i64("replica.fetch.wait.max.ms") > i64("replica.lag.time.max.ms") {
		return invalid("replica.fetch.wait.max.ms", b.raw("replica.fetch.wait.max.ms"), "must be at most replica.lag.time.max.ms ("+b.raw("replica.lag.time.max.ms")+")")
	}
	if q := i64("queued.max.request.bytes"); q > 0 && q < i64("socket.request.max.bytes") {
		return invalid("queued.max.request.bytes", b.raw("queued.max.request.bytes"), "must be -1 or at least socket.request.max.bytes ("+b.raw("socket.request.max.bytes")+")")
	}
	if i64("max.connections.per.ip") == 0 && len(b.MaxConnectionsPerIPOverrides) == 0 {
		return invalid("max.connections.per.ip", "0", "may be 0 only when max.connections.per.ip.overrides is set")
	}
	if idle := i64("connections.max.idle.ms"); idle >= 0 && i64("connection.failed.authentication.delay.ms") >= idle {
		return invalid("connection.failed.authentication.delay.ms", b.raw("connection.failed.authentication.delay.ms"), "must be less than connections.max.idle.ms ("+b.raw("connections.max.idle.ms")+")")
	}
	if b.LogCleanerMinCompactionLagMs > b.LogCleanerMaxCompactionLagMs {
		return invalid("log.cleaner.min.compaction.lag.ms", b.raw("log.cleaner.min.compaction.lag.ms"), "must not exceed log.cleaner.max.compaction.lag.ms ("+b.raw("log.cleaner.max.compaction.lag.ms")+")")
	}
	ordered := [][]string{
		{"group.min.session.timeout.ms", "group.max.session.timeout.ms"},
		{"group.consumer.min.session.timeout.ms", "group.consumer.session.timeout.ms", "group.consumer.max.session.timeout.ms"},
		{"group.consumer.min.heartbeat.interval.ms", "group.consumer.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms"},
		{"group.share.min.session.timeout.ms", "group.share.session.timeout.ms", "group.share.max.session.timeout.ms"},
		{"group.share.min.heartbeat.interval.ms", "group.share.heartbeat.interval.ms", "group.share.max.heartbeat.interval.ms"},
		{"group.share.min.record.lock.duration.ms", "group.share.record.lock.duration.ms", "group.share.max.record.lock.duration.ms"},
		{"group.consumer.heartbeat.interval.ms", "group.consumer.session.timeout.ms"},
		{"group.share.heartbeat.interval.ms", "group.share.session.timeout.ms"},
	}
	for _, keys := range ordered {
		for j := 1; j < len(keys); j++ {
			lo, hi := keys[j-1], keys[j]
			if i64(lo) > i64(hi) {
				key, other, word := lo, hi, "at most"
				if _, set := b.props[lo]; !set {
					key, other, word = hi, lo, "at least"
				}
				return invalid(key, b.raw(key), "must be "+word+" "+other+" ("+b.raw(other)+")")
			}
		}
	}
	return nil
}
