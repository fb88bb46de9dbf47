// Package config holds Runnel's configuration vocabulary, which is Apache
// Kafka's: the broker properties read from a .properties file and --override
// flags at startup, and the topic-level properties that CreateTopics,
// AlterConfigs and IncrementalAlterConfigs carry.
//
// The package knows every property's name, type, default, valid values and
// documentation (one table per scope, in broker_defs.go and topic_defs.go),
// parses and validates values the way Kafka's ConfigDef does, and reports
// them the way DescribeConfigs does: each with its value, source and
// synonyms. It opens no sockets and writes no logs.
//
// # Reading configuration
//
// Load reads a .properties file with Java's rules (separators "=", ":" or
// whitespace, "#" and "!" comments, backslash line continuations and
// escapes; no ${...} expansion) and applies --override key=value pairs.
// ParseBroker turns the resulting map into a validated *Broker. An unknown
// key, a value of the wrong type or outside its range, or a combination
// Runnel cannot run (a non-PLAINTEXT listener, advertised.listeners naming a
// listener that does not exist, two listeners on one port) is an *Error that
// names the key and the value; it wraps ErrUnknown or ErrInvalid.
//
// Keys that Kafka accepts but Runnel does not act on yet (thread-pool sizes,
// SASL and SSL settings of unused listeners, quota windows, ...) are
// accepted, so Kafka's stock server.properties files work unchanged, and
// they are listed by Describe.
//
// # Topic configuration
//
// ValidateTopic checks topic-level overrides, ResolveTopic computes a
// topic's effective values (override, else the broker's value, else Kafka's
// default) and DescribeTopic reports them with DYNAMIC_TOPIC_CONFIG,
// STATIC_BROKER_CONFIG and DEFAULT_CONFIG sources and their broker synonyms
// (retention.ms ← log.retention.ms, log.retention.minutes,
// log.retention.hours; segment.bytes ← log.segment.bytes; ...).
//
// # Dynamic broker configuration
//
// Kafka lets an administrator change some broker settings without a
// restart, with AlterConfigs or IncrementalAlterConfigs on a BROKER
// resource (kafka-configs.sh --entity-type brokers). The values live in
// the cluster metadata at two levels: the cluster-wide default (resource
// name "") and one broker (its node ID). ValidateDynamic checks one such
// change; WithDynamic lays both levels over a node's static configuration.
// A node's value of a setting is then, from most to least specific, its
// own dynamic value (DYNAMIC_BROKER_CONFIG), the cluster default
// (DYNAMIC_DEFAULT_BROKER_CONFIG), its properties (STATIC_BROKER_CONFIG)
// and Kafka's default (DEFAULT_CONFIG); Describe, DescribeDefaults and
// DescribeTopic report those sources.
//
// Which settings may change is Kafka's list; Describe calls the others
// read-only. Keystore and truststore settings may change only per
// listener (listener.name.<listener>.ssl.keystore.location), and listener
// and security settings only per broker, not as cluster defaults, as in
// Kafka (WithDynamic refuses them there). Runnel
// acts at once on the settings that supply topic defaults
// (log.retention.ms, log.segment.bytes, log.cleanup.policy,
// message.max.bytes, min.insync.replicas, ...): every topic without an
// override of its own takes the new value. The others (thread pools,
// connection limits, SSL and SASL settings, listeners) are stored and
// reported as Kafka does but change nothing in a running node yet.
//
// # Runnel's defaults
//
// Defaults are Kafka 4's, except where a default exists to make a single
// node work with no configuration at all, as Kafka's quickstart file does:
// node.id=1, process.roles=broker,controller,
// listeners=PLAINTEXT://127.0.0.1:9092, log.dir=./runnel-data, and a
// replication factor (and min ISR) of 1 for the internal topics
// (offsets.topic.replication.factor, transaction.state.log.replication.factor,
// transaction.state.log.min.isr and their share-coordinator counterparts).
package config
