package config

import (
	"reflect"
	"strings"
	"testing"
)

// noDefault marks a configuration whose Kafka default is null.
const noDefault = "<null>"

// kafkaBrokerDefaults and kafkaTopicDefaults are Apache Kafka's definitions
// (name and default as DescribeConfigs renders it), transcribed separately
// from the tables under test so that a slip in either shows up: the broker
// configurations of Kafka 3.9 and 4.0 without ZooKeeper's, and the topic
// configurations of 3.9. Values changed in 4.0 are listed in kafka4Changes.
var kafkaBrokerDefaults = map[string]string{
	"connections.max.reauth.ms":                            "0",
	"sasl.server.max.receive.size":                         "524288",
	"security.providers":                                   noDefault,
	"principal.builder.class":                              "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder",
	"ssl.client.auth":                                      "none",
	"ssl.principal.mapping.rules":                          "DEFAULT",
	"ssl.allow.dn.changes":                                 "false",
	"ssl.allow.san.changes":                                "false",
	"ssl.protocol":                                         "TLSv1.3",
	"ssl.provider":                                         noDefault,
	"ssl.enabled.protocols":                                "TLSv1.2,TLSv1.3",
	"ssl.keystore.type":                                    "JKS",
	"ssl.keystore.location":                                noDefault,
	"ssl.keystore.password":                                noDefault,
	"ssl.key.password":                                     noDefault,
	"ssl.keystore.key":                                     noDefault,
	"ssl.keystore.certificate.chain":                       noDefault,
	"ssl.truststore.type":                                  "JKS",
	"ssl.truststore.location":                              noDefault,
	"ssl.truststore.password":                              noDefault,
	"ssl.truststore.certificates":                          noDefault,
	"ssl.keymanager.algorithm":                             "SunX509",
	"ssl.trustmanager.algorithm":                           "PKIX",
	"ssl.endpoint.identification.algorithm":                "https",
	"ssl.secure.random.implementation":                     noDefault,
	"ssl.cipher.suites":                                    "",
	"ssl.engine.factory.class":                             noDefault,
	"sasl.mechanism.inter.broker.protocol":                 "GSSAPI",
	"sasl.enabled.mechanisms":                              "GSSAPI",
	"sasl.server.callback.handler.class":                   noDefault,
	"sasl.kerberos.principal.to.local.rules":               "DEFAULT",
	"sasl.jaas.config":                                     noDefault,
	"sasl.client.callback.handler.class":                   noDefault,
	"sasl.login.class":                                     noDefault,
	"sasl.login.callback.handler.class":                    noDefault,
	"sasl.kerberos.service.name":                           noDefault,
	"sasl.kerberos.kinit.cmd":                              "/usr/bin/kinit",
	"sasl.kerberos.ticket.renew.window.factor":             "0.8",
	"sasl.kerberos.ticket.renew.jitter":                    "0.05",
	"sasl.kerberos.min.time.before.relogin":                "60000",
	"sasl.login.refresh.window.factor":                     "0.8",
	"sasl.login.refresh.window.jitter":                     "0.05",
	"sasl.login.refresh.min.period.seconds":                "60",
	"sasl.login.refresh.buffer.seconds":                    "300",
	"sasl.login.connect.timeout.ms":                        noDefault,
	"sasl.login.read.timeout.ms":                           noDefault,
	"sasl.login.retry.backoff.max.ms":                      "10000",
	"sasl.login.retry.backoff.ms":                          "100",
	"sasl.oauthbearer.scope.claim.name":                    "scope",
	"sasl.oauthbearer.sub.claim.name":                      "sub",
	"sasl.oauthbearer.token.endpoint.url":                  noDefault,
	"sasl.oauthbearer.jwks.endpoint.url":                   noDefault,
	"sasl.oauthbearer.jwks.endpoint.refresh.ms":            "3600000",
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms":      "100",
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms":  "10000",
	"sasl.oauthbearer.clock.skew.seconds":                  "30",
	"sasl.oauthbearer.expected.audience":                   noDefault,
	"sasl.oauthbearer.expected.issuer":                     noDefault,
	"group.min.session.timeout.ms":                         "6000",
	"group.max.session.timeout.ms":                         "1800000",
	"group.initial.rebalance.delay.ms":                     "3000",
	"group.max.size":                                       "2147483647",
	"group.coordinator.rebalance.protocols":                "classic,consumer",
	"group.coordinator.threads":                            "1",
	"group.coordinator.append.linger.ms":                   "10",
	"group.coordinator.new.enable":                         "true",
	"offset.metadata.max.bytes":                            "4096",
	"offsets.load.buffer.size":                             "5242880",
	"offsets.topic.replication.factor":                     "3",
	"offsets.topic.num.partitions":                         "50",
	"offsets.topic.segment.bytes":                          "104857600",
	"offsets.topic.compression.codec":                      "0",
	"offsets.retention.minutes":                            "10080",
	"offsets.retention.check.interval.ms":                  "600000",
	"offsets.commit.timeout.ms":                            "5000",
	"group.consumer.session.timeout.ms":                    "45000",
	"group.consumer.min.session.timeout.ms":                "45000",
	"group.consumer.max.session.timeout.ms":                "60000",
	"group.consumer.heartbeat.interval.ms":                 "5000",
	"group.consumer.min.heartbeat.interval.ms":             "5000",
	"group.consumer.max.heartbeat.interval.ms":             "15000",
	"group.consumer.max.size":                              "2147483647",
	"group.consumer.assignors":                             "org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor",
	"group.consumer.migration.policy":                      "bidirectional",
	"group.share.session.timeout.ms":                       "45000",
	"group.share.min.session.timeout.ms":                   "45000",
	"group.share.max.session.timeout.ms":                   "60000",
	"group.share.heartbeat.interval.ms":                    "5000",
	"group.share.min.heartbeat.interval.ms":                "5000",
	"group.share.max.heartbeat.interval.ms":                "15000",
	"group.share.max.size":                                 "200",
	"group.share.enable":                                   "false",
	"share.fetch.max.fetch.records":                        "2147483647",
	"group.share.delivery.count.limit":                     "5",
	"group.share.record.lock.duration.ms":                  "30000",
	"group.share.min.record.lock.duration.ms":              "15000",
	"group.share.max.record.lock.duration.ms":              "60000",
	"group.share.max.groups":                               "10",
	"group.share.partition.max.record.locks":               "200",
	"share.fetch.purgatory.purge.interval.requests":        "1000",
	"controller.quorum.voters":                             "",
	"controller.quorum.bootstrap.servers":                  "",
	"controller.quorum.election.timeout.ms":                "1000",
	"controller.quorum.fetch.timeout.ms":                   "2000",
	"controller.quorum.election.backoff.max.ms":            "1000",
	"controller.quorum.append.linger.ms":                   "25",
	"controller.quorum.request.timeout.ms":                 "2000",
	"controller.quorum.retry.backoff.ms":                   "20",
	"password.encoder.secret":                              noDefault,
	"password.encoder.old.secret":                          noDefault,
	"password.encoder.keyfactory.algorithm":                noDefault,
	"password.encoder.cipher.algorithm":                    "AES/CBC/PKCS5Padding",
	"password.encoder.key.length":                          "128",
	"password.encoder.iterations":                          "4096",
	"quota.window.num":                                     "11",
	"replication.quota.window.num":                         "11",
	"alter.log.dirs.replication.quota.window.num":          "11",
	"controller.quota.window.num":                          "11",
	"quota.window.size.seconds":                            "1",
	"replication.quota.window.size.seconds":                "1",
	"alter.log.dirs.replication.quota.window.size.seconds": "1",
	"controller.quota.window.size.seconds":                 "1",
	"client.quota.callback.class":                          noDefault,
	"leader.replication.throttled.rate":                    "9223372036854775807",
	"follower.replication.throttled.rate":                  "9223372036854775807",
	"replica.alter.log.dirs.io.max.bytes.per.second":       "9223372036854775807",
	"listeners":                                                   "PLAINTEXT://:9092",
	"advertised.listeners":                                        noDefault,
	"listener.security.protocol.map":                              "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
	"control.plane.listener.name":                                 noDefault,
	"socket.send.buffer.bytes":                                    "102400",
	"socket.receive.buffer.bytes":                                 "102400",
	"socket.request.max.bytes":                                    "104857600",
	"socket.listen.backlog.size":                                  "50",
	"max.connections.per.ip":                                      "2147483647",
	"max.connections.per.ip.overrides":                            "",
	"max.connections":                                             "2147483647",
	"max.connection.creation.rate":                                "2147483647",
	"connections.max.idle.ms":                                     "600000",
	"connection.failed.authentication.delay.ms":                   "100",
	"queued.max.requests":                                         "500",
	"queued.max.request.bytes":                                    "-1",
	"num.network.threads":                                         "3",
	"delegation.token.secret.key":                                 noDefault,
	"delegation.token.max.lifetime.ms":                            "604800000",
	"delegation.token.expiry.time.ms":                             "86400000",
	"delegation.token.expiry.check.interval.ms":                   "3600000",
	"metadata.log.max.record.bytes.between.snapshots":             "20971520",
	"metadata.log.max.snapshot.interval.ms":                       "3600000",
	"process.roles":                                               "",
	"node.id":                                                     "-1",
	"initial.broker.registration.timeout.ms":                      "60000",
	"broker.heartbeat.interval.ms":                                "2000",
	"broker.session.timeout.ms":                                   "9000",
	"controller.listener.names":                                   noDefault,
	"sasl.mechanism.controller.protocol":                          "GSSAPI",
	"metadata.log.dir":                                            noDefault,
	"metadata.log.segment.bytes":                                  "1073741824",
	"metadata.log.segment.min.bytes":                              "8388608",
	"metadata.log.segment.ms":                                     "604800000",
	"metadata.max.retention.bytes":                                "104857600",
	"metadata.max.retention.ms":                                   "604800000",
	"metadata.max.idle.interval.ms":                               "500",
	"server.max.startup.time.ms":                                  "9223372036854775807",
	"eligible.leader.replicas.enable":                             "false",
	"controller.socket.timeout.ms":                                "30000",
	"default.replication.factor":                                  "1",
	"replica.lag.time.max.ms":                                     "30000",
	"replica.socket.timeout.ms":                                   "30000",
	"replica.socket.receive.buffer.bytes":                         "65536",
	"replica.fetch.max.bytes":                                     "1048576",
	"replica.fetch.wait.max.ms":                                   "500",
	"replica.fetch.backoff.ms":                                    "1000",
	"replica.fetch.min.bytes":                                     "1",
	"replica.fetch.response.max.bytes":                            "10485760",
	"num.replica.fetchers":                                        "1",
	"replica.high.watermark.checkpoint.interval.ms":               "5000",
	"fetch.purgatory.purge.interval.requests":                     "1000",
	"producer.purgatory.purge.interval.requests":                  "1000",
	"delete.records.purgatory.purge.interval.requests":            "1",
	"auto.leader.rebalance.enable":                                "true",
	"leader.imbalance.per.broker.percentage":                      "10",
	"leader.imbalance.check.interval.seconds":                     "300",
	"unclean.leader.election.interval.ms":                         "300000",
	"unclean.leader.election.enable":                              "false",
	"security.inter.broker.protocol":                              "PLAINTEXT",
	"inter.broker.protocol.version":                               "3.9-IV0",
	"inter.broker.listener.name":                                  noDefault,
	"replica.selector.class":                                      noDefault,
	"broker.id.generation.enable":                                 "true",
	"reserved.broker.max.id":                                      "1000",
	"broker.id":                                                   "-1",
	"message.max.bytes":                                           "1048588",
	"num.io.threads":                                              "8",
	"num.replica.alter.log.dirs.threads":                          noDefault,
	"background.threads":                                          "10",
	"request.timeout.ms":                                          "30000",
	"socket.connection.setup.timeout.ms":                          "10000",
	"socket.connection.setup.timeout.max.ms":                      "30000",
	"authorizer.class.name":                                       "",
	"early.start.listeners":                                       noDefault,
	"broker.rack":                                                 noDefault,
	"controlled.shutdown.max.retries":                             "3",
	"controlled.shutdown.retry.backoff.ms":                        "5000",
	"controlled.shutdown.enable":                                  "true",
	"delete.topic.enable":                                         "true",
	"compression.type":                                            "producer",
	"compression.gzip.level":                                      "-1",
	"compression.lz4.level":                                       "9",
	"compression.zstd.level":                                      "3",
	"max.incremental.fetch.session.cache.slots":                   "1000",
	"fetch.max.bytes":                                             "57671680",
	"max.request.partition.size.limit":                            "2000",
	"unstable.api.versions.enable":                                "false",
	"unstable.feature.versions.enable":                            "false",
	"share.coordinator.state.topic.num.partitions":                "50",
	"share.coordinator.state.topic.replication.factor":            "3",
	"share.coordinator.state.topic.min.isr":                       "2",
	"share.coordinator.state.topic.segment.bytes":                 "104857600",
	"share.coordinator.threads":                                   "1",
	"share.coordinator.snapshot.update.records.per.snapshot":      "500",
	"share.coordinator.load.buffer.size":                          "5242880",
	"share.coordinator.state.topic.compression.codec":             "0",
	"share.coordinator.append.linger.ms":                          "10",
	"share.coordinator.write.timeout.ms":                          "5000",
	"metrics.num.samples":                                         "2",
	"metrics.sample.window.ms":                                    "30000",
	"metric.reporters":                                            "org.apache.kafka.common.metrics.JmxReporter",
	"metrics.recording.level":                                     "INFO",
	"kafka.metrics.reporters":                                     "",
	"kafka.metrics.polling.interval.secs":                         "10",
	"telemetry.max.bytes":                                         "1048576",
	"remote.log.storage.system.enable":                            "false",
	"remote.log.storage.manager.impl.prefix":                      "rsm.config.",
	"remote.log.metadata.manager.impl.prefix":                     "rlmm.config.",
	"remote.log.storage.manager.class.name":                       noDefault,
	"remote.log.storage.manager.class.path":                       noDefault,
	"remote.log.metadata.manager.class.name":                      "org.apache.kafka.server.log.remote.metadata.storage.TopicBasedRemoteLogMetadataManager",
	"remote.log.metadata.manager.class.path":                      noDefault,
	"remote.log.metadata.manager.listener.name":                   noDefault,
	"remote.log.metadata.custom.metadata.max.bytes":               "128",
	"remote.log.index.file.cache.total.size.bytes":                "1073741824",
	"remote.log.manager.thread.pool.size":                         "10",
	"remote.log.manager.copier.thread.pool.size":                  "-1",
	"remote.log.manager.expiration.thread.pool.size":              "-1",
	"remote.log.manager.task.interval.ms":                         "30000",
	"remote.log.manager.task.retry.backoff.ms":                    "500",
	"remote.log.manager.task.retry.backoff.max.ms":                "30000",
	"remote.log.manager.task.retry.jitter":                        "0.2",
	"remote.log.reader.threads":                                   "10",
	"remote.log.reader.max.pending.tasks":                         "100",
	"log.local.retention.ms":                                      "-2",
	"log.local.retention.bytes":                                   "-2",
	"remote.log.manager.copy.max.bytes.per.second":                "9223372036854775807",
	"remote.log.manager.copy.quota.window.num":                    "11",
	"remote.log.manager.copy.quota.window.size.seconds":           "1",
	"remote.log.manager.fetch.max.bytes.per.second":               "9223372036854775807",
	"remote.log.manager.fetch.quota.window.num":                   "11",
	"remote.log.manager.fetch.quota.window.size.seconds":          "1",
	"remote.fetch.max.wait.ms":                                    "500",
	"remote.list.offsets.request.timeout.ms":                      "30000",
	"log.cleaner.threads":                                         "1",
	"log.cleaner.io.max.bytes.per.second":                         "1.7976931348623157E308",
	"log.cleaner.dedupe.buffer.size":                              "134217728",
	"log.cleaner.io.buffer.size":                                  "524288",
	"log.cleaner.io.buffer.load.factor":                           "0.9",
	"log.cleaner.backoff.ms":                                      "15000",
	"log.cleaner.min.cleanable.ratio":                             "0.5",
	"log.cleaner.enable":                                          "true",
	"log.cleaner.delete.retention.ms":                             "86400000",
	"log.cleaner.min.compaction.lag.ms":                           "0",
	"log.cleaner.max.compaction.lag.ms":                           "9223372036854775807",
	"num.partitions":                                              "1",
	"log.dir":                                                     "/tmp/kafka-logs",
	"log.dirs":                                                    noDefault,
	"log.segment.bytes":                                           "1073741824",
	"log.roll.ms":                                                 noDefault,
	"log.roll.hours":                                              "168",
	"log.roll.jitter.ms":                                          noDefault,
	"log.roll.jitter.hours":                                       "0",
	"log.retention.ms":                                            noDefault,
	"log.retention.minutes":                                       noDefault,
	"log.retention.hours":                                         "168",
	"log.retention.bytes":                                         "-1",
	"log.retention.check.interval.ms":                             "300000",
	"log.cleanup.policy":                                          "delete",
	"log.index.size.max.bytes":                                    "10485760",
	"log.index.interval.bytes":                                    "4096",
	"log.flush.interval.messages":                                 "9223372036854775807",
	"log.segment.delete.delay.ms":                                 "60000",
	"log.flush.scheduler.interval.ms":                             "9223372036854775807",
	"log.flush.interval.ms":                                       noDefault,
	"log.flush.offset.checkpoint.interval.ms":                     "60000",
	"log.flush.start.offset.checkpoint.interval.ms":               "60000",
	"log.preallocate":                                             "false",
	"num.recovery.threads.per.data.dir":                           "1",
	"auto.create.topics.enable":                                   "true",
	"min.insync.replicas":                                         "1",
	"log.message.format.version":                                  "3.0-IV1",
	"log.message.timestamp.type":                                  "CreateTime",
	"log.message.timestamp.difference.max.ms":                     "9223372036854775807",
	"log.message.timestamp.before.max.ms":                         "9223372036854775807",
	"log.message.timestamp.after.max.ms":                          "9223372036854775807",
	"create.topic.policy.class.name":                              noDefault,
	"alter.config.policy.class.name":                              noDefault,
	"log.message.downconversion.enable":                           "true",
	"log.dir.failure.timeout.ms":                                  "30000",
	"log.initial.task.delay.ms":                                   "30000",
	"transaction.state.log.min.isr":                               "2",
	"transaction.state.log.load.buffer.size":                      "5242880",
	"transaction.state.log.replication.factor":                    "3",
	"transaction.state.log.num.partitions":                        "50",
	"transaction.state.log.segment.bytes":                         "104857600",
	"transaction.partition.verification.enable":                   "true",
	"producer.id.expiration.ms":                                   "86400000",
	"producer.id.expiration.check.interval.ms":                    "600000",
	"transactional.id.expiration.ms":                              "604800000",
	"transaction.max.timeout.ms":                                  "900000",
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": "10000",
	"transaction.remove.expired.transaction.cleanup.interval.ms":  "3600000",
	"offsets.commit.required.acks":                                "-1",
	"delegation.token.master.key":                                 noDefault,
	"auto.include.jmx.reporter":                                   "true",
}

var kafkaTopicDefaults = map[string]string{
	"segment.bytes":                           "1073741824",
	"segment.ms":                              "604800000",
	"segment.jitter.ms":                       "0",
	"segment.index.bytes":                     "10485760",
	"flush.messages":                          "9223372036854775807",
	"flush.ms":                                "9223372036854775807",
	"retention.bytes":                         "-1",
	"retention.ms":                            "604800000",
	"max.message.bytes":                       "1048588",
	"index.interval.bytes":                    "4096",
	"delete.retention.ms":                     "86400000",
	"min.compaction.lag.ms":                   "0",
	"max.compaction.lag.ms":                   "9223372036854775807",
	"file.delete.delay.ms":                    "60000",
	"min.cleanable.dirty.ratio":               "0.5",
	"cleanup.policy":                          "delete",
	"unclean.leader.election.enable":          "false",
	"min.insync.replicas":                     "1",
	"compression.type":                        "producer",
	"compression.gzip.level":                  "-1",
	"compression.lz4.level":                   "9",
	"compression.zstd.level":                  "3",
	"preallocate":                             "false",
	"message.format.version":                  "3.0-IV1",
	"message.timestamp.type":                  "CreateTime",
	"message.timestamp.difference.max.ms":     "9223372036854775807",
	"message.timestamp.before.max.ms":         "9223372036854775807",
	"message.timestamp.after.max.ms":          "9223372036854775807",
	"leader.replication.throttled.replicas":   "",
	"follower.replication.throttled.replicas": "",
	"message.downconversion.enable":           "true",
	"remote.storage.enable":                   "false",
	"local.retention.ms":                      "-2",
	"local.retention.bytes":                   "-2",
	"remote.log.copy.disable":                 "false",
	"remote.log.delete.on.disable":            "false",
}

// kafka4Changes are defaults Kafka 4.0 changed from the definitions above
// (KIP-1030 and KIP-848's named assignors).
var kafka4Changes = map[string]string{
	"num.recovery.threads.per.data.dir":              "2",
	"log.message.timestamp.after.max.ms":             "3600000",
	"remote.log.manager.copier.thread.pool.size":     "10",
	"remote.log.manager.expiration.thread.pool.size": "10",
	"group.consumer.assignors":                       "uniform,range",
}

// runnelDefaults are the defaults Runnel chooses differently from Kafka so
// that one node runs with no configuration, as Kafka's quickstart file does.
var runnelDefaults = map[string]string{
	"node.id":                          "1",
	"process.roles":                    "broker,controller",
	"listeners":                        "PLAINTEXT://127.0.0.1:9092",
	"log.dir":                          "./runnel-data",
	"offsets.topic.replication.factor": "1",
	"transaction.state.log.replication.factor":         "1",
	"transaction.state.log.min.isr":                    "1",
	"share.coordinator.state.topic.replication.factor": "1",
	"share.coordinator.state.topic.min.isr":            "1",
}

// runnelExtraBrokerKeys are broker configurations Runnel defines that are
// not in Kafka's static ConfigDef but that Kafka accepts (dynamic broker
// settings that may also be set in the file).
var runnelExtraBrokerKeys = []string{
	"leader.replication.throttled.rate",
	"follower.replication.throttled.rate",
	"replica.alter.log.dirs.io.max.bytes.per.second",
}

func TestBrokerDefaultsMatchKafka(t *testing.T) {
	for name, want := range kafkaBrokerDefaults {
		if v, ok := kafka4Changes[name]; ok {
			want = v
		}
		if v, ok := runnelDefaults[name]; ok {
			want = v
		}
		d := brokerDef(name)
		if d == nil {
			t.Errorf("%s: Kafka broker configuration missing from the table", name)
			continue
		}
		got := d.dflt
		if !d.hasDefault() {
			got = noDefault
		}
		if got != want {
			t.Errorf("%s: default %q, want %q", name, got, want)
		}
	}
	for i := range brokerDefs {
		name := brokerDefs[i].name
		if _, ok := kafkaBrokerDefaults[name]; !ok && !contains(runnelExtraBrokerKeys, name) {
			t.Errorf("%s: in the table but not a Kafka broker configuration", name)
		}
	}
}

func TestTopicDefaultsMatchKafka(t *testing.T) {
	for name, want := range kafkaTopicDefaults {
		if name == "message.timestamp.after.max.ms" {
			want = "3600000" // Kafka 4.0 (KIP-1030)
		}
		d := topicIndex[name]
		if d == nil {
			t.Errorf("%s: Kafka topic configuration missing from the table", name)
			continue
		}
		if d.dflt != want {
			t.Errorf("%s: default %q, want %q", name, d.dflt, want)
		}
	}
	if len(topicDefs) != len(kafkaTopicDefaults) {
		t.Errorf("table has %d topic configurations, Kafka %d", len(topicDefs), len(kafkaTopicDefaults))
	}
}

// TestDefinitionsConsistent checks the tables against themselves: every
// default parses as its type and satisfies its rule, names are unique,
// every definition is documented, and every synonym names a broker
// configuration of the same type.
func TestDefinitionsConsistent(t *testing.T) {
	seen := map[string]bool{}
	all := append([]def{}, brokerDefs...)
	for i := range topicDefs {
		all = append(all, topicDefs[i].def)
	}
	for i, d := range all {
		if i < len(brokerDefs) {
			if seen[d.name] {
				t.Errorf("%s: defined twice", d.name)
			}
			seen[d.name] = true
		}
		if strings.TrimSpace(d.doc) == "" {
			t.Errorf("%s: no documentation", d.name)
		}
		if !d.hasDefault() {
			continue
		}
		if _, err := d.parse(d.dflt); err != nil {
			t.Errorf("%s: default %q does not validate: %v", d.name, d.dflt, err)
		}
	}
	for i := range topicDefs {
		td := &topicDefs[i]
		for _, s := range td.synonyms {
			bd := brokerDef(s)
			if bd == nil {
				t.Errorf("%s: synonym %s is not a broker configuration", td.name, s)
				continue
			}
			if s == td.synonyms[0] && bd.typ != td.typ && !strings.HasSuffix(s, ".ms") {
				t.Errorf("%s: type %v, but its broker synonym %s is %v", td.name, td.typ, s, bd.typ)
			}
		}
	}
}

// TestStructTags checks that every tagged field of Broker and Topic names a
// definition whose parsed value fits the field.
func TestStructTags(t *testing.T) {
	check := func(typ reflect.Type, lookup func(string) *def) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name := f.Tag.Get("config")
			if name == "" {
				continue
			}
			d := lookup(name)
			if d == nil {
				t.Errorf("%s.%s: tag names unknown configuration %q", typ.Name(), f.Name, name)
				continue
			}
			want := map[Type][]reflect.Kind{
				TypeBoolean: {reflect.Bool}, TypeString: {reflect.String}, TypeClass: {reflect.String},
				TypeInt: {reflect.Int32, reflect.Int64, reflect.Int, reflect.Int16}, TypeShort: {reflect.Int16, reflect.Int32},
				TypeLong: {reflect.Int64}, TypeDouble: {reflect.Float64}, TypeList: {reflect.Slice},
			}[d.typ]
			if !contains(want, f.Type.Kind()) {
				t.Errorf("%s.%s: %v field for %s, a %v", typ.Name(), f.Name, f.Type.Kind(), name, d.typ)
			}
		}
	}
	check(reflect.TypeOf(Broker{}), brokerDef)
	check(reflect.TypeOf(Topic{}), func(n string) *def {
		if td := topicIndex[n]; td != nil {
			return &td.def
		}
		return nil
	})
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
