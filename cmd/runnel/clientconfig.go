package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/magiconair/properties"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clientRole selects which Kafka client properties apply.
type clientRole int

const (
	roleAdmin clientRole = iota
	roleProducer
	roleConsumer
)

func (r clientRole) String() string {
	switch r {
	case roleProducer:
		return "producer"
	case roleConsumer:
		return "consumer"
	default:
		return "admin"
	}
}

// loadProperties reads a Java .properties file such as the one given to
// --producer.config, --consumer.config or --command-config.
func loadProperties(path string) (map[string]string, error) {
	p, err := properties.LoadFile(path, properties.UTF8)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return p.Map(), nil
}

// clientProps merges a properties file (if any) with key=value overrides
// given on the command line; the command line wins, as in Kafka's tools.
func clientProps(file string, overrides []keyValue) (map[string]string, error) {
	props := map[string]string{}
	if file != "" {
		fp, err := loadProperties(file)
		if err != nil {
			return nil, err
		}
		props = fp
	}
	for _, kv := range overrides {
		props[kv.Key] = kv.Value
	}
	return props, nil
}

// propSetter turns one property value into client options.
type propSetter func(v string) ([]kgo.Opt, error)

// clientOptions translates Kafka client properties into franz-go options
// for role. bootstrap, when not empty, overrides bootstrap.servers. An
// unknown property or a bad value is an error that names the property.
func clientOptions(role clientRole, bootstrap string, props map[string]string, stderr io.Writer) ([]kgo.Opt, error) {
	if bootstrap == "" {
		bootstrap = props["bootstrap.servers"]
	}
	seeds := splitList(bootstrap)
	if len(seeds) == 0 {
		return nil, usagef("--bootstrap-server must be specified")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}

	setters := map[string]propSetter{
		"bootstrap.servers":                  func(string) ([]kgo.Opt, error) { return nil, nil },
		"client.id":                          func(v string) ([]kgo.Opt, error) { return []kgo.Opt{kgo.ClientID(v)}, nil },
		"metadata.max.age.ms":                msOpt(func(d time.Duration) kgo.Opt { return kgo.MetadataMaxAge(d) }),
		"connections.max.idle.ms":            msOpt(func(d time.Duration) kgo.Opt { return kgo.ConnIdleTimeout(d) }),
		"socket.connection.setup.timeout.ms": msOpt(func(d time.Duration) kgo.Opt { return kgo.DialTimeout(d) }),
		"retry.backoff.ms": msOpt(func(d time.Duration) kgo.Opt {
			return kgo.RetryBackoffFn(func(int) time.Duration { return d })
		}),
		"security.protocol": func(v string) ([]kgo.Opt, error) {
			switch strings.ToUpper(v) {
			case "PLAINTEXT":
				return nil, nil
			case "SSL":
				return []kgo.Opt{kgo.DialTLS()}, nil
			}
			return nil, fmt.Errorf("security.protocol %s is not supported (PLAINTEXT or SSL)", v)
		},
	}
	var acks string
	idempotence := ""
	switch role {
	case roleProducer:
		setters["acks"] = func(v string) ([]kgo.Opt, error) {
			a, err := parseAcks(v)
			if err != nil {
				return nil, err
			}
			acks = a
			return nil, nil
		}
		setters["enable.idempotence"] = func(v string) ([]kgo.Opt, error) {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("want true or false")
			}
			idempotence = strconv.FormatBool(b)
			return nil, nil
		}
		setters["linger.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.ProducerLinger(d) })
		setters["batch.size"] = intOpt(1, 1<<30, func(n int) kgo.Opt { return kgo.ProducerBatchMaxBytes(int32(max(n, 512))) })
		setters["max.request.size"] = func(string) ([]kgo.Opt, error) { return nil, nil } // applied below
		setters["compression.type"] = func(v string) ([]kgo.Opt, error) {
			c, err := parseCompression(v)
			if err != nil {
				return nil, err
			}
			return []kgo.Opt{kgo.ProducerBatchCompression(c)}, nil
		}
		setters["retries"] = intOpt(0, 1<<31-1, func(n int) kgo.Opt { return kgo.RecordRetries(n) })
		setters["delivery.timeout.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.RecordDeliveryTimeout(d) })
		setters["request.timeout.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.ProduceRequestTimeout(d) })
		setters["buffer.memory"] = intOpt(1, 1<<62, func(n int) kgo.Opt { return kgo.MaxBufferedBytes(n) })
		setters["max.in.flight.requests.per.connection"] = intOpt(1, 1<<20, func(n int) kgo.Opt { return kgo.MaxProduceRequestsInflightPerBroker(n) })
		// Kafka's producer sends no compression unless asked; franz-go's
		// default prefers snappy.
		if _, ok := props["compression.type"]; !ok {
			opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
		}
		// Kafka's producer gives up on a record after delivery.timeout.ms
		// (two minutes); franz-go's default is to retry forever.
		if _, ok := props["delivery.timeout.ms"]; !ok {
			opts = append(opts, kgo.RecordDeliveryTimeout(2*time.Minute))
		}
		// Kafka's producer may create a topic on first use when the broker
		// allows it (auto.create.topics.enable).
		opts = append(opts, kgo.AllowAutoTopicCreation())
		// A single batch holds at most max.request.size bytes unless
		// batch.size is given (franz-go's batch cap also caps one record).
		if _, ok := props["batch.size"]; !ok {
			if v, ok := props["max.request.size"]; ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 512 || n > 1<<30 {
					return nil, fmt.Errorf("invalid value %q for max.request.size", v)
				}
				opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
			}
		}
	case roleConsumer:
		setters["group.id"] = func(v string) ([]kgo.Opt, error) { return []kgo.Opt{kgo.ConsumerGroup(v)}, nil }
		setters["group.instance.id"] = func(v string) ([]kgo.Opt, error) { return []kgo.Opt{kgo.InstanceID(v)}, nil }
		setters["auto.offset.reset"] = func(v string) ([]kgo.Opt, error) {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "earliest":
				return []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, nil
			case "latest":
				return []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd())}, nil
			case "none":
				return []kgo.Opt{kgo.ConsumeResetOffset(kgo.NoResetOffset())}, nil
			}
			return nil, fmt.Errorf("want earliest, latest or none")
		}
		setters["enable.auto.commit"] = func(v string) ([]kgo.Opt, error) {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("want true or false")
			}
			if !b {
				return []kgo.Opt{kgo.DisableAutoCommit()}, nil
			}
			return nil, nil
		}
		setters["auto.commit.interval.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.AutoCommitInterval(d) })
		setters["isolation.level"] = func(v string) ([]kgo.Opt, error) {
			l, err := parseIsolation(v)
			if err != nil {
				return nil, err
			}
			return []kgo.Opt{kgo.FetchIsolationLevel(l)}, nil
		}
		setters["fetch.min.bytes"] = intOpt(1, 1<<31-1, func(n int) kgo.Opt { return kgo.FetchMinBytes(int32(n)) })
		setters["fetch.max.bytes"] = intOpt(1, 1<<31-1, func(n int) kgo.Opt { return kgo.FetchMaxBytes(int32(n)) })
		setters["fetch.max.wait.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.FetchMaxWait(d) })
		setters["max.partition.fetch.bytes"] = intOpt(1, 1<<31-1, func(n int) kgo.Opt { return kgo.FetchMaxPartitionBytes(int32(n)) })
		setters["session.timeout.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.SessionTimeout(d) })
		setters["heartbeat.interval.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.HeartbeatInterval(d) })
		setters["max.poll.interval.ms"] = msOpt(func(d time.Duration) kgo.Opt { return kgo.RebalanceTimeout(d) })
		setters["client.rack"] = func(v string) ([]kgo.Opt, error) { return []kgo.Opt{kgo.Rack(v)}, nil }
		setters["allow.auto.create.topics"] = func(v string) ([]kgo.Opt, error) {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("want true or false")
			}
			if b {
				return []kgo.Opt{kgo.AllowAutoTopicCreation()}, nil
			}
			return nil, nil
		}
		setters["partition.assignment.strategy"] = func(v string) ([]kgo.Opt, error) {
			bs, err := parseBalancers(v)
			if err != nil {
				return nil, err
			}
			return []kgo.Opt{kgo.Balancers(bs...)}, nil
		}
		// Kafka's consumer starts from the end when no offset is known;
		// franz-go's default is the start.
		if _, ok := props["auto.offset.reset"]; !ok {
			opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		}
	}

	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set, ok := setters[k]
		if !ok {
			if isIgnoredProp(k) {
				fmt.Fprintf(stderr, "WARN: %s property %s is not used by runnel and is ignored\n", role, k)
				continue
			}
			return nil, fmt.Errorf("unknown %s property %q", role, k)
		}
		o, err := set(props[k])
		if err != nil {
			return nil, fmt.Errorf("invalid value %q for %s property %s: %w", props[k], role, k, err)
		}
		opts = append(opts, o...)
	}

	if role == roleProducer {
		if acks == "" {
			acks = "all"
		}
		if acks != "all" {
			if idempotence == "true" {
				return nil, fmt.Errorf("must set acks to all in order to use the idempotent producer (acks=%s, enable.idempotence=true)", acks)
			}
			idempotence = "false"
		}
		opts = append(opts, kgo.RequiredAcks(acksValue(acks)))
		if idempotence == "false" {
			opts = append(opts, kgo.DisableIdempotentWrite())
		}
	}
	return opts, nil
}

// isIgnoredProp reports whether k is a Kafka client property that is
// understood but has no equivalent in this client (Java class names, JVM
// buffer sizes). Setting one prints a warning instead of failing, so existing
// .properties files keep working.
func isIgnoredProp(k string) bool {
	return slices.Contains([]string{
		"key.serializer", "value.serializer", "key.deserializer", "value.deserializer",
		"send.buffer.bytes", "receive.buffer.bytes", "max.block.ms", "metadata.max.idle.ms",
		"max.poll.records", "interceptor.classes", "metric.reporters", "check.crcs",
		"exclude.internal.topics", "default.api.timeout.ms", "reconnect.backoff.ms",
		"reconnect.backoff.max.ms", "retry.backoff.max.ms", "client.dns.lookup",
		"partitioner.class", "partitioner.ignore.keys", "partitioner.adaptive.partitioning.enable",
		"auto.include.jmx.reporter", "enable.metrics.push", "compression.gzip.level",
		"compression.lz4.level", "compression.zstd.level",
	}, k)
}

// msOpt parses a non-negative number of milliseconds.
func msOpt(fn func(time.Duration) kgo.Opt) propSetter {
	return func(v string) ([]kgo.Opt, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("want a non-negative number of milliseconds")
		}
		return []kgo.Opt{fn(time.Duration(n) * time.Millisecond)}, nil
	}
}

// intOpt parses an integer in [lo, hi].
func intOpt(lo, hi int, fn func(int) kgo.Opt) propSetter {
	return func(v string) ([]kgo.Opt, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return []kgo.Opt{fn(n)}, nil
	}
}

// parseAcks normalises an acks value to "0", "1" or "all".
func parseAcks(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "0":
		return "0", nil
	case "1":
		return "1", nil
	case "-1", "all":
		return "all", nil
	}
	return "", fmt.Errorf("acks must be one of 0, 1, -1 or all")
}

func acksValue(a string) kgo.Acks {
	switch a {
	case "0":
		return kgo.NoAck()
	case "1":
		return kgo.LeaderAck()
	default:
		return kgo.AllISRAcks()
	}
}

// parseCompression maps Kafka's compression.type names to a codec.
func parseCompression(v string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression type must be one of none, gzip, snappy, lz4 or zstd")
}

// parseIsolation maps Kafka's isolation.level names.
func parseIsolation(v string) (kgo.IsolationLevel, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "read_uncommitted":
		return kgo.ReadUncommitted(), nil
	case "read_committed":
		return kgo.ReadCommitted(), nil
	}
	return kgo.IsolationLevel{}, fmt.Errorf("isolation level must be read_committed or read_uncommitted")
}

// parseBalancers maps partition.assignment.strategy, which names Java
// assignor classes (or their short names), to group balancers.
func parseBalancers(v string) ([]kgo.GroupBalancer, error) {
	var out []kgo.GroupBalancer
	for _, name := range splitList(v) {
		short := name[strings.LastIndex(name, ".")+1:]
		switch strings.ToLower(short) {
		case "rangeassignor", "range":
			out = append(out, kgo.RangeBalancer())
		case "roundrobinassignor", "roundrobin":
			out = append(out, kgo.RoundRobinBalancer())
		case "stickyassignor", "sticky":
			out = append(out, kgo.StickyBalancer())
		case "cooperativestickyassignor", "cooperative-sticky":
			out = append(out, kgo.CooperativeStickyBalancer())
		default:
			return nil, fmt.Errorf("unknown assignor %s", name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no assignor given")
	}
	return out, nil
}

// newClient builds a franz-go client for role from the bootstrap flag, an
// optional properties file and key=value overrides; extra options come last
// and win.
func newClient(role clientRole, bootstrap, file string, overrides []keyValue, stderr io.Writer, extra ...kgo.Opt) (*kgo.Client, error) {
	props, err := clientProps(file, overrides)
	if err != nil {
		return nil, err
	}
	opts, err := clientOptions(role, bootstrap, props, stderr)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("creating %s client: %w", role, err)
	}
	return cl, nil
}
