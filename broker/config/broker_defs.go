package config

import (
	"sort"
	"strings"
)

// Short names for the table below.
const (
	tBool   = TypeBoolean
	tStr    = TypeString
	tInt    = TypeInt
	tShort  = TypeShort
	tLong   = TypeLong
	tDouble = TypeDouble
	tList   = TypeList
	tClass  = TypeClass
	tPass   = TypePassword
)

const (
	maxInt  = "2147483647"
	maxLong = "9223372036854775807"
)

// Rules shared by several definitions.
var (
	securityProtocols = oneOf("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
	compressionTypes  = oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
	gzipLevel         = check("between 1 and 9, or -1", func(v any) bool { n, _ := asInt64(v); return n == -1 || (n >= 1 && n <= 9) })
	lz4Level          = between(1, 17)
	zstdLevel         = between(-131072, 22)
	timestampTypes    = oneOf("CreateTime", "LogAppendTime")
	cleanupPolicies   = oneOf("compact", "delete")
	formatVersion     = check("a Kafka version such as 3.0 or 3.0-IV1", func(v any) bool { s, _ := v.(string); return isKafkaVersion(s) })
	codecID           = check("a codec id: 0 (none), 1 (gzip), 2 (snappy), 3 (lz4) or 4 (zstd)", func(v any) bool { n, _ := asInt64(v); return n >= 0 && n <= 4 })
	voterList         = check("entries of the form id@host:port", func(v any) bool { _, err := parseVoters(v.([]string)); return err == "" })
	hostPortList      = check("entries of the form host:port", func(v any) bool {
		for _, s := range v.([]string) {
			if _, _, ok := splitHostPort(s); !ok {
				return false
			}
		}
		return true
	})
	protocolMap = check("entries of the form LISTENER_NAME:PROTOCOL, where PROTOCOL is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", func(v any) bool {
		_, err := parseProtocolMap(v.(string))
		return err == ""
	})
	ipOverrides = check("entries of the form host:count", func(v any) bool { _, ok := parseIPOverrides(v.(string)); return ok })
)

// brokerDefs is every broker configuration Runnel accepts: Apache Kafka's
// broker configurations of 3.9 (KRaft) and 4.x, with Kafka 4's defaults and
// Runnel's single-node defaults (see the package comment). ZooKeeper-mode
// settings are not here: Runnel runs only as a KRaft-style cluster.
var brokerDefs = []def{
	// Node identity and roles.
	{"node.id", tInt, "1", 0, atLeast(0), "The node's id, unique in the cluster, shared by its broker and controller roles. Runnel's single-node default is 1."},
	{"broker.id", tInt, "-1", 0, atLeast(-1), "Old name of node.id; when both are set they must be equal."},
	{"process.roles", tList, "broker,controller", 0, oneOf("broker", "controller"), "The roles this node plays: broker, controller or both (combined mode). Runnel's single-node default is both."},
	{"broker.rack", tStr, "", null, nil, "The rack (or availability zone) of the broker, used to spread replicas across racks."},
	{"broker.id.generation.enable", tBool, "true", 0, nil, "Deprecated ZooKeeper-era setting; accepted and ignored."},
	{"reserved.broker.max.id", tInt, "1000", 0, atLeast(0), "Deprecated ZooKeeper-era setting; accepted and ignored."},
	{"inter.broker.protocol.version", tStr, "3.9-IV0", 0, formatVersion, "Deprecated; the metadata version of a KRaft cluster is a feature level, not this setting. Accepted and ignored."},
	{"eligible.leader.replicas.enable", tBool, "false", 0, nil, "Enables eligible leader replicas (KIP-966)."},
	{"early.start.listeners", tStr, "", null, nil, "Listeners started before the authorizer has loaded its state."},

	// KRaft quorum and metadata log.
	{"controller.quorum.voters", tList, "", 0, voterList, "Static controller quorum as id@host:port entries. Empty means the quorum is found through controller.quorum.bootstrap.servers (or, in Runnel, a single combined node is its own quorum)."},
	{"controller.quorum.bootstrap.servers", tList, "", 0, hostPortList, "Controller endpoints (host:port) used to discover a dynamic quorum."},
	{"controller.quorum.election.timeout.ms", tInt, "1000", 0, nil, "How long a controller waits without hearing from the leader before starting an election."},
	{"controller.quorum.fetch.timeout.ms", tInt, "2000", 0, nil, "How long a follower waits for a successful fetch from the leader before trying to become a candidate."},
	{"controller.quorum.election.backoff.max.ms", tInt, "1000", 0, nil, "Upper bound of the randomized backoff before a new election."},
	{"controller.quorum.append.linger.ms", tInt, "25", 0, nil, "How long the quorum leader waits to batch writes before flushing them."},
	{"controller.quorum.request.timeout.ms", tInt, "2000", 0, nil, "Timeout of one request between quorum members."},
	{"controller.quorum.retry.backoff.ms", tInt, "20", 0, nil, "Pause before retrying a failed request between quorum members."},
	{"controller.listener.names", tStr, "", null, nil, "Comma-separated names of the listeners used by the controller role."},
	{"controller.socket.timeout.ms", tInt, "30000", 0, nil, "Socket timeout of controller-to-broker channels."},
	{"sasl.mechanism.controller.protocol", tStr, "GSSAPI", 0, nil, "SASL mechanism used to talk to controllers."},
	{"initial.broker.registration.timeout.ms", tInt, "60000", 0, nil, "How long a starting broker waits for its registration with the controller quorum."},
	{"broker.heartbeat.interval.ms", tInt, "2000", 0, nil, "Time between a broker's heartbeats to the active controller."},
	{"broker.session.timeout.ms", tInt, "9000", 0, nil, "How long a broker may go without a heartbeat before the controller fences it."},
	{"metadata.log.dir", tStr, "", null, nil, "Directory of the cluster metadata log; defaults to the first log directory."},
	{"metadata.log.segment.bytes", tInt, "1073741824", 0, atLeast(12), "Maximum size of one metadata log segment."},
	{"metadata.log.segment.ms", tLong, "604800000", 0, nil, "Maximum age of the active metadata log segment before it is rolled."},
	{"metadata.log.max.record.bytes.between.snapshots", tLong, "20971520", 0, atLeast(1), "Bytes of new metadata records after which a new snapshot is taken."},
	{"metadata.log.max.snapshot.interval.ms", tLong, "3600000", 0, atLeast(0), "Longest time between metadata snapshots when the log has new records; 0 disables the time trigger."},
	{"metadata.max.retention.bytes", tLong, "104857600", 0, nil, "Metadata log size above which old snapshots and segments are deleted; -1 for no limit."},
	{"metadata.max.retention.ms", tLong, "604800000", 0, nil, "Age after which old metadata snapshots and segments are deleted."},
	{"metadata.max.idle.interval.ms", tInt, "500", 0, atLeast(0), "How often the active controller writes a no-op record so the metadata log keeps moving; 0 disables it."},
	{"metadata.log.segment.min.bytes", tInt, "8388608", internal, atLeast(12), "Lower bound of metadata.log.segment.bytes."},
	{"server.max.startup.time.ms", tLong, maxLong, internal, atLeast(0), "How long a node may take to catch up with the metadata log at startup."},

	// Listeners and sockets.
	{"listeners", tStr, "PLAINTEXT://127.0.0.1:9092", dyn, nil, "Comma-separated NAME://host:port addresses to listen on. An empty host binds the default interface, 0.0.0.0 all IPv4 interfaces, port 0 an ephemeral port. Runnel's default listens on 127.0.0.1:9092."},
	{"advertised.listeners", tStr, "", dyn | null, nil, "Addresses given to clients, if different from listeners. Every name must be a listener name; 0.0.0.0 cannot be advertised."},
	{"listener.security.protocol.map", tStr, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", dyn, protocolMap, "Security protocol of each listener name. Runnel supports only PLAINTEXT for now."},
	{"inter.broker.listener.name", tStr, "", null, nil, "Listener used between brokers; by default the one named after security.inter.broker.protocol."},
	{"security.inter.broker.protocol", tStr, "PLAINTEXT", 0, securityProtocols, "Security protocol between brokers, when inter.broker.listener.name is not set."},
	{"control.plane.listener.name", tStr, "", null, nil, "ZooKeeper-era dedicated controller listener; not supported in KRaft mode."},
	{"num.network.threads", tInt, "3", dyn, atLeast(1), "Threads that read requests from and write responses to the network."},
	{"num.io.threads", tInt, "8", dyn, atLeast(1), "Threads that process requests, including disk I/O."},
	{"background.threads", tInt, "10", dyn, atLeast(1), "Threads for background work such as deleting files."},
	{"socket.send.buffer.bytes", tInt, "102400", 0, nil, "SO_SNDBUF of server sockets; -1 uses the OS default."},
	{"socket.receive.buffer.bytes", tInt, "102400", 0, nil, "SO_RCVBUF of server sockets; -1 uses the OS default."},
	{"socket.request.max.bytes", tInt, "104857600", 0, atLeast(1), "Largest request a client may send."},
	{"socket.listen.backlog.size", tInt, "50", 0, atLeast(1), "Backlog of pending connections on each listening socket."},
	{"socket.connection.setup.timeout.ms", tLong, "10000", 0, nil, "Time the broker, as a client, waits for a connection to be set up."},
	{"socket.connection.setup.timeout.max.ms", tLong, "30000", 0, nil, "Upper bound of the exponentially growing connection setup timeout."},
	{"max.connections", tInt, maxInt, dyn, atLeast(0), "Largest number of connections the broker accepts."},
	{"max.connections.per.ip", tInt, maxInt, dyn, atLeast(0), "Largest number of connections from one IP address."},
	{"max.connections.per.ip.overrides", tStr, "", dyn, ipOverrides, "Per-host or per-IP exceptions to max.connections.per.ip, as host:count pairs."},
	{"max.connection.creation.rate", tInt, maxInt, dyn, atLeast(0), "Largest number of new connections per second the broker accepts."},
	{"connections.max.idle.ms", tLong, "600000", 0, nil, "Idle connections are closed after this long."},
	{"connection.failed.authentication.delay.ms", tInt, "100", 0, atLeast(0), "Delay before closing a connection whose authentication failed."},
	{"connections.max.reauth.ms", tLong, "0", 0, nil, "Longest session before a client must re-authenticate; 0 disables re-authentication."},
	{"queued.max.requests", tInt, "500", 0, atLeast(1), "Requests that may wait for an I/O thread before the network threads stop reading."},
	{"queued.max.request.bytes", tLong, "-1", 0, nil, "Bytes of queued requests before the network threads stop reading; -1 for no limit."},
	{"request.timeout.ms", tInt, "30000", 0, nil, "Time the broker, as a client, waits for a response."},
	{"max.request.partition.size.limit", tInt, "2000", 0, atLeast(1), "Largest number of partitions one request may name."},
	{"fetch.max.bytes", tInt, "57671680", 0, atLeast(1024), "Largest response the broker returns to one fetch request."},
	{"max.incremental.fetch.session.cache.slots", tInt, "1000", 0, atLeast(0), "Incremental fetch sessions kept in memory."},
	{"sasl.server.max.receive.size", tInt, "524288", 0, nil, "Largest SASL authentication message accepted."},

	// Log storage.
	{"log.dir", tStr, "./runnel-data", 0, nil, "Directory holding the log data, used when log.dirs is not set. Runnel's default is ./runnel-data."},
	{"log.dirs", tStr, "", null, nil, "Comma-separated directories holding the log data; overrides log.dir."},
	{"num.partitions", tInt, "1", 0, atLeast(1), "Partitions of a topic created without a count."},
	{"default.replication.factor", tInt, "1", 0, between(1, 32767), "Replication factor of a topic created without one."},
	{"min.insync.replicas", tInt, "1", dyn, atLeast(1), "In-sync replicas that must acknowledge an acks=all write."},
	{"auto.create.topics.enable", tBool, "true", 0, nil, "Create a topic when a client asks for metadata of, or produces to, a topic that does not exist."},
	{"delete.topic.enable", tBool, "true", 0, nil, "Allow DeleteTopics."},
	{"unclean.leader.election.enable", tBool, "false", dyn, nil, "Allow a replica outside the ISR to become leader when no ISR member is left, at the risk of losing acknowledged data."},
	{"message.max.bytes", tInt, "1048588", dyn, atLeast(0), "Largest record batch the broker accepts, after compression."},
	{"log.segment.bytes", tInt, "1073741824", dyn, atLeast(1048576), "Size at which a log segment is rolled."},
	{"log.roll.ms", tLong, "", dyn | null, nil, "Age at which the active segment is rolled; takes precedence over log.roll.hours."},
	{"log.roll.hours", tInt, "168", 0, atLeast(1), "Age in hours at which the active segment is rolled, when log.roll.ms is not set."},
	{"log.roll.jitter.ms", tLong, "", dyn | null, nil, "Largest random amount subtracted from the roll time; takes precedence over log.roll.jitter.hours."},
	{"log.roll.jitter.hours", tInt, "0", 0, atLeast(0), "Roll jitter in hours, when log.roll.jitter.ms is not set."},
	{"log.retention.ms", tLong, "", dyn | null, nil, "How long a log is kept before old segments are deleted; -1 keeps it forever. Takes precedence over log.retention.minutes and log.retention.hours."},
	{"log.retention.minutes", tInt, "", null, nil, "Retention in minutes, when log.retention.ms is not set."},
	{"log.retention.hours", tInt, "168", 0, nil, "Retention in hours, when neither log.retention.ms nor log.retention.minutes is set."},
	{"log.retention.bytes", tLong, "-1", dyn, nil, "Size a partition's log may reach before old segments are deleted; -1 for no limit."},
	{"log.retention.check.interval.ms", tLong, "300000", 0, atLeast(1), "How often logs are checked for segments to delete."},
	{"log.cleanup.policy", tList, "delete", dyn, cleanupPolicies, "What happens to old segments: delete, compact, or both."},
	{"log.index.interval.bytes", tInt, "4096", dyn, atLeast(0), "Bytes between entries of the offset index."},
	{"log.index.size.max.bytes", tInt, "10485760", dyn, atLeast(4), "Largest size of an offset or time index file."},
	{"log.flush.interval.messages", tLong, maxLong, dyn, atLeast(1), "Messages written to a partition before it is flushed to disk."},
	{"log.flush.interval.ms", tLong, "", dyn | null, nil, "Longest time a message stays unflushed; when not set, log.flush.scheduler.interval.ms is used."},
	{"log.flush.scheduler.interval.ms", tLong, maxLong, 0, nil, "How often the flusher checks whether a log needs flushing."},
	{"log.flush.offset.checkpoint.interval.ms", tInt, "60000", 0, atLeast(0), "How often the recovery point checkpoint is written."},
	{"log.flush.start.offset.checkpoint.interval.ms", tInt, "60000", 0, atLeast(0), "How often the log start offset checkpoint is written."},
	{"log.segment.delete.delay.ms", tLong, "60000", dyn, atLeast(0), "Time between marking a segment deleted and removing its files."},
	{"log.preallocate", tBool, "false", dyn, nil, "Preallocate segment files on creation."},
	{"log.message.timestamp.type", tStr, "CreateTime", dyn, timestampTypes, "Whose timestamp a record keeps: the producer's (CreateTime) or the broker's (LogAppendTime)."},
	{"log.message.timestamp.before.max.ms", tLong, maxLong, dyn, atLeast(0), "How far in the past a CreateTime timestamp may be."},
	{"log.message.timestamp.after.max.ms", tLong, "3600000", dyn, atLeast(0), "How far in the future a CreateTime timestamp may be."},
	{"log.message.timestamp.difference.max.ms", tLong, maxLong, dyn, atLeast(0), "Deprecated: largest difference between a CreateTime timestamp and the broker's clock."},
	{"log.message.format.version", tStr, "3.0-IV1", 0, formatVersion, "Deprecated; record batches are always stored in format v2. Accepted and ignored."},
	{"log.message.downconversion.enable", tBool, "true", dyn, nil, "Deprecated: convert batches for consumers of old fetch versions."},
	{"log.dir.failure.timeout.ms", tLong, "30000", 0, atLeast(1), "How long a broker keeps running after a log directory fails before shutting down."},
	{"log.initial.task.delay.ms", tLong, "30000", internal, atLeast(0), "Delay before the first retention and flush checks."},
	{"num.recovery.threads.per.data.dir", tInt, "2", dyn, atLeast(1), "Threads per log directory that recover logs at startup and flush them at shutdown."},
	{"compression.type", tStr, "producer", dyn, compressionTypes, "Compression of stored batches: producer keeps the producer's codec, uncompressed stores them uncompressed."},
	{"compression.gzip.level", tInt, "-1", dyn, gzipLevel, "Gzip level used when the broker compresses; -1 is gzip's default."},
	{"compression.lz4.level", tInt, "9", dyn, lz4Level, "LZ4 level used when the broker compresses."},
	{"compression.zstd.level", tInt, "3", dyn, zstdLevel, "Zstandard level used when the broker compresses."},
	{"create.topic.policy.class.name", tClass, "", null, nil, "Java class validating CreateTopics requests; Runnel cannot load one."},
	{"alter.config.policy.class.name", tClass, "", null, nil, "Java class validating AlterConfigs requests; Runnel cannot load one."},

	// Log cleaner (compaction).
	{"log.cleaner.enable", tBool, "true", 0, nil, "Run the log cleaner, which compacts topics with cleanup.policy=compact."},
	{"log.cleaner.threads", tInt, "1", dyn, atLeast(0), "Cleaner threads."},
	{"log.cleaner.dedupe.buffer.size", tLong, "134217728", dyn, nil, "Memory for de-duplicating keys, shared by all cleaner threads."},
	{"log.cleaner.io.buffer.size", tInt, "524288", dyn, atLeast(0), "Memory for cleaner I/O buffers, shared by all cleaner threads."},
	{"log.cleaner.io.buffer.load.factor", tDouble, "0.9", dyn, nil, "Load factor of the cleaner's de-duplication map."},
	{"log.cleaner.io.max.bytes.per.second", tDouble, "1.7976931348623157E308", dyn, nil, "Throttle on the cleaner's reads and writes."},
	{"log.cleaner.backoff.ms", tLong, "15000", dyn, atLeast(0), "Pause when there is no log to clean."},
	{"log.cleaner.min.cleanable.ratio", tDouble, "0.5", dyn, betweenF(0, 1), "Share of a log that must be uncleaned before it is compacted."},
	{"log.cleaner.delete.retention.ms", tLong, "86400000", dyn, atLeast(0), "How long tombstones are kept in compacted topics."},
	{"log.cleaner.min.compaction.lag.ms", tLong, "0", dyn, atLeast(0), "Youngest a record may be and still be compacted."},
	{"log.cleaner.max.compaction.lag.ms", tLong, maxLong, dyn, atLeast(1), "Oldest an uncompacted record may become before its segment must be compacted."},

	// Replication.
	{"replica.lag.time.max.ms", tLong, "30000", 0, nil, "A follower that has not caught up to the leader's log end for this long leaves the ISR."},
	{"replica.fetch.max.bytes", tInt, "1048576", 0, atLeast(0), "Bytes a follower fetches per partition in one request."},
	{"replica.fetch.response.max.bytes", tInt, "10485760", 0, atLeast(0), "Bytes a follower fetches in one request."},
	{"replica.fetch.wait.max.ms", tInt, "500", 0, nil, "Longest time a follower's fetch waits on the leader for data."},
	{"replica.fetch.min.bytes", tInt, "1", 0, nil, "Bytes a follower's fetch waits for before returning."},
	{"replica.fetch.backoff.ms", tInt, "1000", 0, atLeast(0), "Pause after a follower's fetch fails."},
	{"replica.socket.timeout.ms", tInt, "30000", 0, nil, "Socket timeout of follower fetch connections."},
	{"replica.socket.receive.buffer.bytes", tInt, "65536", 0, nil, "SO_RCVBUF of follower fetch connections."},
	{"replica.high.watermark.checkpoint.interval.ms", tLong, "5000", 0, nil, "How often the high watermark is checkpointed to disk."},
	{"replica.selector.class", tStr, "", null, nil, "Java class choosing which replica serves a consumer's fetch; Runnel cannot load one."},
	{"num.replica.fetchers", tInt, "1", dyn, nil, "Fetcher threads per source broker."},
	{"num.replica.alter.log.dirs.threads", tInt, "", null, nil, "Threads moving replicas between log directories; defaults to num.io.threads."},
	{"fetch.purgatory.purge.interval.requests", tInt, "1000", 0, nil, "Purge interval, in requests, of the delayed-fetch purgatory."},
	{"producer.purgatory.purge.interval.requests", tInt, "1000", 0, nil, "Purge interval, in requests, of the delayed-produce purgatory."},
	{"delete.records.purgatory.purge.interval.requests", tInt, "1", 0, nil, "Purge interval, in requests, of the delete-records purgatory."},
	{"auto.leader.rebalance.enable", tBool, "true", 0, nil, "Periodically move leadership back to preferred replicas."},
	{"leader.imbalance.per.broker.percentage", tInt, "10", 0, nil, "Share of a broker's partitions led elsewhere that triggers a leader rebalance."},
	{"leader.imbalance.check.interval.seconds", tLong, "300", 0, atLeast(1), "How often leader imbalance is checked."},
	{"unclean.leader.election.interval.ms", tLong, "300000", internal, atLeast(1), "How often the controller looks for partitions needing an unclean election."},
	{"controlled.shutdown.enable", tBool, "true", 0, nil, "Move leadership away before a broker shuts down."},
	{"controlled.shutdown.max.retries", tInt, "3", 0, nil, "ZooKeeper-era setting; accepted and ignored."},
	{"controlled.shutdown.retry.backoff.ms", tLong, "5000", 0, nil, "ZooKeeper-era setting; accepted and ignored."},
	{"leader.replication.throttled.rate", tLong, maxLong, dyn, atLeast(0), "Bytes per second a leader may send to throttled followers."},
	{"follower.replication.throttled.rate", tLong, maxLong, dyn, atLeast(0), "Bytes per second a throttled follower may fetch."},
	{"replica.alter.log.dirs.io.max.bytes.per.second", tLong, maxLong, dyn, atLeast(0), "Bytes per second for moving replicas between log directories."},

	// Group coordinator and consumer offsets.
	{"group.min.session.timeout.ms", tInt, "6000", 0, nil, "Shortest session timeout a classic-group member may ask for."},
	{"group.max.session.timeout.ms", tInt, "1800000", 0, nil, "Longest session timeout a classic-group member may ask for."},
	{"group.initial.rebalance.delay.ms", tInt, "3000", 0, nil, "How long the first rebalance of an empty classic group waits for more members."},
	{"group.max.size", tInt, maxInt, 0, atLeast(1), "Largest number of members in a classic group."},
	{"group.coordinator.rebalance.protocols", tList, "classic,consumer", 0, oneOf("classic", "consumer", "share"), "Group protocols the coordinator serves; classic cannot be disabled."},
	{"group.coordinator.threads", tInt, "1", 0, atLeast(1), "Threads of the group coordinator."},
	{"group.coordinator.append.linger.ms", tInt, "10", 0, atLeast(0), "How long the coordinator batches writes to __consumer_offsets."},
	{"group.coordinator.new.enable", tBool, "true", internal, nil, "Use the new group coordinator."},
	{"group.consumer.session.timeout.ms", tInt, "45000", 0, atLeast(1), "Session timeout of consumer-protocol (KIP-848) group members."},
	{"group.consumer.min.session.timeout.ms", tInt, "45000", 0, atLeast(1), "Shortest session timeout of consumer-protocol members."},
	{"group.consumer.max.session.timeout.ms", tInt, "60000", 0, atLeast(1), "Longest session timeout of consumer-protocol members."},
	{"group.consumer.heartbeat.interval.ms", tInt, "5000", 0, atLeast(1), "Heartbeat interval of consumer-protocol members."},
	{"group.consumer.min.heartbeat.interval.ms", tInt, "5000", 0, atLeast(1), "Shortest heartbeat interval of consumer-protocol members."},
	{"group.consumer.max.heartbeat.interval.ms", tInt, "15000", 0, atLeast(1), "Longest heartbeat interval of consumer-protocol members."},
	{"group.consumer.max.size", tInt, maxInt, 0, atLeast(1), "Largest number of members in a consumer-protocol group."},
	{"group.consumer.assignors", tList, "uniform,range", 0, nil, "Server-side assignors of consumer-protocol groups; the first is the default."},
	{"group.consumer.migration.policy", tStr, "bidirectional", 0, oneOfFold("disabled", "downgrade", "upgrade", "bidirectional"), "Whether non-empty groups may convert between the classic and consumer protocols."},
	{"group.share.session.timeout.ms", tInt, "45000", 0, atLeast(1), "Session timeout of share-group members."},
	{"group.share.min.session.timeout.ms", tInt, "45000", 0, atLeast(1), "Shortest session timeout of share-group members."},
	{"group.share.max.session.timeout.ms", tInt, "60000", 0, atLeast(1), "Longest session timeout of share-group members."},
	{"group.share.heartbeat.interval.ms", tInt, "5000", 0, atLeast(1), "Heartbeat interval of share-group members."},
	{"group.share.min.heartbeat.interval.ms", tInt, "5000", 0, atLeast(1), "Shortest heartbeat interval of share-group members."},
	{"group.share.max.heartbeat.interval.ms", tInt, "15000", 0, atLeast(1), "Longest heartbeat interval of share-group members."},
	{"group.share.max.size", tInt, "200", 0, between(10, 1000), "Largest number of members in a share group."},
	{"group.share.delivery.count.limit", tInt, "5", 0, between(2, 10), "Deliveries of a record to a share group before it is archived."},
	{"group.share.record.lock.duration.ms", tInt, "30000", 0, between(1000, 3600000), "How long a share-group member holds a record it was given."},
	{"group.share.min.record.lock.duration.ms", tInt, "15000", 0, between(1000, 30000), "Shortest record lock duration of share groups."},
	{"group.share.max.record.lock.duration.ms", tInt, "60000", 0, between(30000, 3600000), "Longest record lock duration of share groups."},
	{"group.share.max.groups", tShort, "10", 0, between(1, 100), "Largest number of share groups."},
	{"group.share.partition.max.record.locks", tInt, "200", 0, between(100, 10000), "Records of one partition that may be locked by a share group at once."},
	{"group.share.enable", tBool, "false", internal, nil, "Enable share groups (early access)."},
	{"share.fetch.max.fetch.records", tInt, maxInt, internal, nil, "Records returned by one share fetch."},
	{"share.fetch.purgatory.purge.interval.requests", tInt, "1000", 0, nil, "Purge interval, in requests, of the share-fetch purgatory."},
	{"offsets.topic.num.partitions", tInt, "50", 0, atLeast(1), "Partitions of __consumer_offsets; cannot change after it is created."},
	{"offsets.topic.replication.factor", tShort, "1", 0, atLeast(1), "Replication factor of __consumer_offsets. Kafka's default is 3; Runnel's single-node default is 1, as in Kafka's quickstart file."},
	{"offsets.topic.segment.bytes", tInt, "104857600", 0, atLeast(1), "Segment size of __consumer_offsets."},
	{"offsets.topic.compression.codec", tInt, "0", 0, codecID, "Compression of __consumer_offsets batches."},
	{"offsets.load.buffer.size", tInt, "5242880", 0, atLeast(1), "Batch size for reading __consumer_offsets when a coordinator loads."},
	{"offsets.retention.minutes", tInt, "10080", 0, atLeast(1), "How long committed offsets of an empty group are kept."},
	{"offsets.retention.check.interval.ms", tLong, "600000", 0, atLeast(1), "How often expired offsets are looked for."},
	{"offsets.commit.timeout.ms", tInt, "5000", 0, atLeast(1), "How long an offset commit waits for its write to be replicated."},
	{"offsets.commit.required.acks", tShort, "-1", 0, nil, "Removed in Kafka 4.0; accepted for 3.9 files and ignored."},
	{"offset.metadata.max.bytes", tInt, "4096", 0, nil, "Largest metadata string stored with a committed offset."},

	// Share coordinator.
	{"share.coordinator.state.topic.num.partitions", tInt, "50", 0, atLeast(1), "Partitions of __share_group_state."},
	{"share.coordinator.state.topic.replication.factor", tShort, "1", 0, atLeast(1), "Replication factor of __share_group_state. Kafka's default is 3; Runnel's single-node default is 1."},
	{"share.coordinator.state.topic.min.isr", tShort, "1", 0, atLeast(1), "min.insync.replicas of __share_group_state. Kafka's default is 2; Runnel's single-node default is 1."},
	{"share.coordinator.state.topic.segment.bytes", tInt, "104857600", 0, atLeast(1), "Segment size of __share_group_state."},
	{"share.coordinator.state.topic.compression.codec", tInt, "0", 0, codecID, "Compression of __share_group_state batches."},
	{"share.coordinator.threads", tInt, "1", 0, atLeast(1), "Threads of the share coordinator."},
	{"share.coordinator.snapshot.update.records.per.snapshot", tInt, "500", 0, atLeast(0), "Updates written between full snapshots of a share partition's state."},
	{"share.coordinator.load.buffer.size", tInt, "5242880", 0, atLeast(1), "Batch size for reading __share_group_state when the coordinator loads."},
	{"share.coordinator.append.linger.ms", tInt, "10", 0, atLeast(0), "How long the share coordinator batches writes."},
	{"share.coordinator.write.timeout.ms", tInt, "5000", 0, atLeast(1), "How long a share-state write waits for replication."},

	// Transactions and producer ids.
	{"transaction.state.log.num.partitions", tInt, "50", 0, atLeast(1), "Partitions of __transaction_state."},
	{"transaction.state.log.replication.factor", tShort, "1", 0, atLeast(1), "Replication factor of __transaction_state. Kafka's default is 3; Runnel's single-node default is 1."},
	{"transaction.state.log.min.isr", tInt, "1", 0, atLeast(1), "min.insync.replicas of __transaction_state. Kafka's default is 2; Runnel's single-node default is 1."},
	{"transaction.state.log.segment.bytes", tInt, "104857600", 0, atLeast(1), "Segment size of __transaction_state."},
	{"transaction.state.log.load.buffer.size", tInt, "5242880", 0, atLeast(1), "Batch size for reading __transaction_state when a coordinator loads."},
	{"transaction.max.timeout.ms", tInt, "900000", 0, atLeast(1), "Longest transaction timeout a producer may ask for."},
	{"transactional.id.expiration.ms", tInt, "604800000", 0, atLeast(1), "How long a transactional id without transactions is remembered."},
	{"transaction.abort.timed.out.transaction.cleanup.interval.ms", tInt, "10000", 0, atLeast(1), "How often timed-out transactions are aborted."},
	{"transaction.remove.expired.transaction.cleanup.interval.ms", tInt, "3600000", 0, atLeast(1), "How often expired transactional ids are removed."},
	{"transaction.partition.verification.enable", tBool, "true", dyn, nil, "Check that a transactional write's partition was added to the transaction (KIP-890)."},
	{"producer.id.expiration.ms", tInt, "86400000", dyn, atLeast(1), "How long a partition remembers an idle producer id."},
	{"producer.id.expiration.check.interval.ms", tInt, "600000", internal, atLeast(1), "How often expired producer ids are removed."},

	// Quotas.
	{"quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for client quotas."},
	{"quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one client-quota sample."},
	{"replication.quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for replication quotas."},
	{"replication.quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one replication-quota sample."},
	{"alter.log.dirs.replication.quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for log-directory move quotas."},
	{"alter.log.dirs.replication.quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one log-directory move quota sample."},
	{"controller.quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for controller mutation quotas."},
	{"controller.quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one controller mutation quota sample."},
	{"client.quota.callback.class", tClass, "", null, nil, "Java class computing client quotas; Runnel cannot load one."},

	// Metrics.
	{"metrics.num.samples", tInt, "2", 0, atLeast(1), "Samples kept to compute a metric."},
	{"metrics.sample.window.ms", tLong, "30000", 0, atLeast(1), "Length of one metrics sample."},
	{"metrics.recording.level", tStr, "INFO", 0, oneOf("INFO", "DEBUG", "TRACE"), "Most detailed metrics level recorded."},
	{"metric.reporters", tList, "org.apache.kafka.common.metrics.JmxReporter", dyn, nil, "Java metrics reporter classes; Runnel exports Prometheus metrics instead and ignores this."},
	{"kafka.metrics.reporters", tList, "", 0, nil, "Java Yammer metrics reporter classes; ignored."},
	{"kafka.metrics.polling.interval.secs", tInt, "10", 0, atLeast(1), "Polling interval of kafka.metrics.reporters."},
	{"auto.include.jmx.reporter", tBool, "true", 0, nil, "Removed in Kafka 4.0; accepted for 3.9 files and ignored."},
	{"telemetry.max.bytes", tInt, "1048576", 0, atLeast(1), "Largest client telemetry push accepted (KIP-714)."},

	// Security. Runnel serves only PLAINTEXT listeners for now; these are
	// accepted so that existing files load, and act on nothing.
	{"authorizer.class.name", tStr, "", 0, nil, "Java authorizer class. Runnel has no authorizer yet, so this must be empty."},
	{"principal.builder.class", tClass, "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder", dyn, nil, "Java class building principals from connections."},
	{"security.providers", tStr, "", null, nil, "Java security provider creator classes."},
	{"ssl.client.auth", tStr, "none", dyn, oneOf("required", "requested", "none"), "Whether SSL listeners ask clients for certificates."},
	{"ssl.principal.mapping.rules", tStr, "DEFAULT", 0, nil, "Rules mapping certificate names to principals."},
	{"ssl.allow.dn.changes", tBool, "false", 0, nil, "Allow a reloaded keystore to change the certificate's distinguished name."},
	{"ssl.allow.san.changes", tBool, "false", 0, nil, "Allow a reloaded keystore to change the certificate's subject alternative names."},
	{"ssl.protocol", tStr, "TLSv1.3", dyn, nil, "TLS protocol used to create SSL contexts."},
	{"ssl.provider", tStr, "", dyn | null, nil, "Java security provider for SSL."},
	{"ssl.enabled.protocols", tList, "TLSv1.2,TLSv1.3", dyn, nil, "TLS versions enabled on SSL listeners."},
	{"ssl.cipher.suites", tList, "", dyn, nil, "Cipher suites enabled on SSL listeners; empty for all."},
	{"ssl.keystore.type", tStr, "JKS", dyn, nil, "Keystore format."},
	{"ssl.keystore.location", tStr, "", dyn | null, nil, "Keystore file."},
	{"ssl.keystore.password", tPass, "", dyn | null, nil, "Keystore password."},
	{"ssl.key.password", tPass, "", dyn | null, nil, "Private key password."},
	{"ssl.keystore.key", tPass, "", dyn | null, nil, "Private key in PEM form."},
	{"ssl.keystore.certificate.chain", tPass, "", dyn | null, nil, "Certificate chain in PEM form."},
	{"ssl.truststore.type", tStr, "JKS", dyn, nil, "Truststore format."},
	{"ssl.truststore.location", tStr, "", dyn | null, nil, "Truststore file."},
	{"ssl.truststore.password", tPass, "", dyn | null, nil, "Truststore password."},
	{"ssl.truststore.certificates", tPass, "", dyn | null, nil, "Trusted certificates in PEM form."},
	{"ssl.keymanager.algorithm", tStr, "SunX509", dyn, nil, "Key manager algorithm."},
	{"ssl.trustmanager.algorithm", tStr, "PKIX", dyn, nil, "Trust manager algorithm."},
	{"ssl.endpoint.identification.algorithm", tStr, "https", dyn, nil, "Hostname verification algorithm; empty disables it."},
	{"ssl.secure.random.implementation", tStr, "", dyn | null, nil, "SecureRandom implementation for SSL."},
	{"ssl.engine.factory.class", tClass, "", dyn | null, nil, "Java class creating SSL engines."},
	{"sasl.enabled.mechanisms", tList, "GSSAPI", dyn, nil, "SASL mechanisms enabled on SASL listeners."},
	{"sasl.mechanism.inter.broker.protocol", tStr, "GSSAPI", dyn, nil, "SASL mechanism between brokers."},
	{"sasl.jaas.config", tPass, "", dyn | null, nil, "JAAS login configuration."},
	{"sasl.server.callback.handler.class", tClass, "", null, nil, "Java SASL server callback handler class."},
	{"sasl.client.callback.handler.class", tClass, "", null, nil, "Java SASL client callback handler class."},
	{"sasl.login.class", tClass, "", null, nil, "Java SASL login class."},
	{"sasl.login.callback.handler.class", tClass, "", null, nil, "Java SASL login callback handler class."},
	{"sasl.kerberos.service.name", tStr, "", dyn | null, nil, "Kerberos principal name Kafka runs as."},
	{"sasl.kerberos.kinit.cmd", tStr, "/usr/bin/kinit", dyn, nil, "Kerberos kinit command."},
	{"sasl.kerberos.ticket.renew.window.factor", tDouble, "0.8", dyn, nil, "Share of a ticket's lifetime after which it is renewed."},
	{"sasl.kerberos.ticket.renew.jitter", tDouble, "0.05", dyn, nil, "Random jitter added to the renewal time."},
	{"sasl.kerberos.min.time.before.relogin", tLong, "60000", dyn, nil, "Shortest time between login refreshes."},
	{"sasl.kerberos.principal.to.local.rules", tList, "DEFAULT", dyn, nil, "Rules mapping Kerberos principals to short names."},
	{"sasl.login.refresh.window.factor", tDouble, "0.8", dyn, nil, "Share of a credential's lifetime after which it is refreshed."},
	{"sasl.login.refresh.window.jitter", tDouble, "0.05", dyn, nil, "Random jitter added to the refresh time."},
	{"sasl.login.refresh.min.period.seconds", tShort, "60", dyn, nil, "Shortest time between credential refreshes."},
	{"sasl.login.refresh.buffer.seconds", tShort, "300", dyn, nil, "Time kept before expiry when refreshing a credential."},
	{"sasl.login.connect.timeout.ms", tInt, "", null, nil, "Connect timeout of the OAuth login provider."},
	{"sasl.login.read.timeout.ms", tInt, "", null, nil, "Read timeout of the OAuth login provider."},
	{"sasl.login.retry.backoff.ms", tLong, "100", 0, nil, "First pause between OAuth login retries."},
	{"sasl.login.retry.backoff.max.ms", tLong, "10000", 0, nil, "Longest pause between OAuth login retries."},
	{"sasl.oauthbearer.scope.claim.name", tStr, "scope", 0, nil, "JWT claim holding the token's scopes."},
	{"sasl.oauthbearer.sub.claim.name", tStr, "sub", 0, nil, "JWT claim holding the token's subject."},
	{"sasl.oauthbearer.token.endpoint.url", tStr, "", null, nil, "OAuth token endpoint."},
	{"sasl.oauthbearer.jwks.endpoint.url", tStr, "", null, nil, "OAuth JWKS endpoint used to verify tokens."},
	{"sasl.oauthbearer.jwks.endpoint.refresh.ms", tLong, "3600000", 0, nil, "How often the JWKS keys are refreshed."},
	{"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", tLong, "100", 0, nil, "First pause between JWKS retries."},
	{"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", tLong, "10000", 0, nil, "Longest pause between JWKS retries."},
	{"sasl.oauthbearer.clock.skew.seconds", tInt, "30", 0, nil, "Clock difference allowed when checking token times."},
	{"sasl.oauthbearer.expected.audience", tList, "", null, nil, "Audiences a token must name."},
	{"sasl.oauthbearer.expected.issuer", tStr, "", null, nil, "Issuer a token must name."},
	{"delegation.token.secret.key", tPass, "", null, nil, "Secret used to sign delegation tokens; enables them when set."},
	{"delegation.token.master.key", tPass, "", null, nil, "Removed in Kafka 4.0 (use delegation.token.secret.key); accepted for 3.9 files."},
	{"delegation.token.max.lifetime.ms", tLong, "604800000", 0, atLeast(1), "Longest life of a delegation token."},
	{"delegation.token.expiry.time.ms", tLong, "86400000", 0, atLeast(1), "Life of a delegation token before it must be renewed."},
	{"delegation.token.expiry.check.interval.ms", tLong, "3600000", 0, atLeast(1), "How often expired delegation tokens are removed."},
	{"password.encoder.secret", tPass, "", null, nil, "Secret encrypting passwords stored as dynamic configuration."},
	{"password.encoder.old.secret", tPass, "", null, nil, "Previous password.encoder.secret, for rotating it."},
	{"password.encoder.keyfactory.algorithm", tStr, "", null, nil, "SecretKeyFactory algorithm of the password encoder."},
	{"password.encoder.cipher.algorithm", tStr, "AES/CBC/PKCS5Padding", 0, nil, "Cipher of the password encoder."},
	{"password.encoder.key.length", tInt, "128", 0, atLeast(8), "Key length of the password encoder."},
	{"password.encoder.iterations", tInt, "4096", 0, atLeast(1024), "Key derivation iterations of the password encoder."},

	// Tiered storage (KIP-405). Runnel does not tier logs yet.
	{"remote.log.storage.system.enable", tBool, "false", 0, nil, "Enable tiered storage. Runnel does not support it yet, so this must be false."},
	{"remote.log.storage.manager.class.name", tStr, "", null, nonEmpty, "Java RemoteStorageManager class."},
	{"remote.log.storage.manager.class.path", tStr, "", null, nil, "Class path of the RemoteStorageManager."},
	{"remote.log.storage.manager.impl.prefix", tStr, "rsm.config.", 0, nonEmpty, "Prefix of the keys passed to the RemoteStorageManager."},
	{"remote.log.metadata.manager.class.name", tStr, "org.apache.kafka.server.log.remote.metadata.storage.TopicBasedRemoteLogMetadataManager", 0, nonEmpty, "Java RemoteLogMetadataManager class."},
	{"remote.log.metadata.manager.class.path", tStr, "", null, nil, "Class path of the RemoteLogMetadataManager."},
	{"remote.log.metadata.manager.impl.prefix", tStr, "rlmm.config.", 0, nonEmpty, "Prefix of the keys passed to the RemoteLogMetadataManager."},
	{"remote.log.metadata.manager.listener.name", tStr, "", null, nonEmpty, "Listener the RemoteLogMetadataManager's clients connect to."},
	{"remote.log.metadata.custom.metadata.max.bytes", tInt, "128", 0, atLeast(0), "Largest custom metadata a RemoteStorageManager may attach to a segment."},
	{"remote.log.index.file.cache.total.size.bytes", tLong, "1073741824", dyn, atLeast(1), "Disk space for cached remote index files."},
	{"remote.log.manager.thread.pool.size", tInt, "10", 0, atLeast(1), "Threads of the remote log manager's scheduled tasks."},
	{"remote.log.manager.copier.thread.pool.size", tInt, "10", 0, atLeast(1), "Threads copying segments to remote storage."},
	{"remote.log.manager.expiration.thread.pool.size", tInt, "10", 0, atLeast(1), "Threads deleting expired remote segments."},
	{"remote.log.manager.task.interval.ms", tLong, "30000", 0, atLeast(1), "Interval of the remote log manager's tasks."},
	{"remote.log.manager.task.retry.backoff.ms", tLong, "500", internal, atLeast(1), "First pause between remote task retries."},
	{"remote.log.manager.task.retry.backoff.max.ms", tLong, "30000", internal, atLeast(1), "Longest pause between remote task retries."},
	{"remote.log.manager.task.retry.jitter", tDouble, "0.2", internal, betweenF(0, 0.5), "Jitter of remote task retries."},
	{"remote.log.reader.threads", tInt, "10", 0, atLeast(1), "Threads reading from remote storage."},
	{"remote.log.reader.max.pending.tasks", tInt, "100", 0, atLeast(1), "Remote reads that may wait for a reader thread."},
	{"remote.log.manager.copy.max.bytes.per.second", tLong, maxLong, dyn, atLeast(1), "Bytes per second copied to remote storage."},
	{"remote.log.manager.copy.quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for the remote copy quota."},
	{"remote.log.manager.copy.quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one remote copy quota sample."},
	{"remote.log.manager.fetch.max.bytes.per.second", tLong, maxLong, dyn, atLeast(1), "Bytes per second fetched from remote storage."},
	{"remote.log.manager.fetch.quota.window.num", tInt, "11", 0, atLeast(1), "Samples kept for the remote fetch quota."},
	{"remote.log.manager.fetch.quota.window.size.seconds", tInt, "1", 0, atLeast(1), "Length of one remote fetch quota sample."},
	{"remote.fetch.max.wait.ms", tInt, "500", dyn, atLeast(1), "Longest wait for a remote fetch."},
	{"remote.list.offsets.request.timeout.ms", tLong, "30000", dyn, atLeast(1), "Longest wait for a remote ListOffsets lookup."},
	{"log.local.retention.ms", tLong, "-2", dyn, atLeast(-2), "Local retention of tiered topics; -2 uses log.retention.ms."},
	{"log.local.retention.bytes", tLong, "-2", dyn, atLeast(-2), "Local size limit of tiered topics; -2 uses log.retention.bytes."},

	// Internal switches.
	{"unstable.api.versions.enable", tBool, "false", internal, nil, "Advertise unreleased API versions."},
	{"unstable.feature.versions.enable", tBool, "false", internal, nil, "Allow unreleased feature versions."},
}

// brokerIndex maps a name to its definition in brokerDefs.
var brokerIndex = func() map[string]*def {
	m := make(map[string]*def, len(brokerDefs))
	for i := range brokerDefs {
		m[brokerDefs[i].name] = &brokerDefs[i]
	}
	return m
}()

func brokerDef(name string) *def { return brokerIndex[name] }

// brokerSynonymNames lists, most specific first, the broker settings that
// can supply name's value (Kafka's DynamicBrokerConfig.brokerConfigSynonyms).
func brokerSynonymNames(name string) []string {
	switch name {
	case "log.roll.ms", "log.roll.hours":
		return []string{"log.roll.ms", "log.roll.hours"}
	case "log.roll.jitter.ms", "log.roll.jitter.hours":
		return []string{"log.roll.jitter.ms", "log.roll.jitter.hours"}
	case "log.flush.interval.ms":
		return []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}
	case "log.retention.ms", "log.retention.minutes", "log.retention.hours":
		return []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}
	}
	if _, base, ok := splitListenerKey(name); ok {
		return []string{name, base}
	}
	return []string{name}
}

// listenerMechanismConfigs may be given per listener and per SASL
// mechanism: listener.name.<listener>.<mechanism>.<config>.
var listenerMechanismConfigs = []string{"sasl.jaas.config", "sasl.login.callback.handler.class",
	"sasl.login.class", "sasl.server.callback.handler.class", "connections.max.reauth.ms"}

// splitListenerKey splits a per-listener override
// "listener.name.<listener>.<config>" (or
// "listener.name.<listener>.<mechanism>.<config>" for the SASL settings in
// listenerMechanismConfigs) into the lower-case listener name and the base
// configuration name.
func splitListenerKey(key string) (listener, base string, ok bool) {
	rest, found := strings.CutPrefix(key, "listener.name.")
	if !found {
		return "", "", false
	}
	listener, rest, found = strings.Cut(rest, ".")
	if !found || listener == "" || rest == "" {
		return "", "", false
	}
	if brokerDef(rest) != nil {
		return listener, rest, true
	}
	for _, c := range listenerMechanismConfigs {
		if mech, ok := strings.CutSuffix(rest, "."+c); ok && mech != "" && !strings.Contains(mech, ".") {
			return listener, c, true
		}
	}
	return "", "", false
}

// brokerNames returns the names of every listed broker definition, sorted.
func brokerNames() []string {
	names := make([]string, 0, len(brokerDefs))
	for i := range brokerDefs {
		if brokerDefs[i].flags&internal == 0 {
			names = append(names, brokerDefs[i].name)
		}
	}
	sort.Strings(names)
	return names
}
