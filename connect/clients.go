package connect

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka client settings for a task's producer and consumer come from the
// worker's producer.* and consumer.* keys, overridden per connector by
// producer.override.* and consumer.override.* (when
// connector.client.config.override.policy allows it). The keys franz-go has
// an equivalent for are mapped; others are ignored with a debug log line.

// clientProps merges the worker's prefix.* settings with the connector's
// prefix.override.* ones.
func clientProps(worker WorkerConfig, connProps map[string]string, prefix string) map[string]string {
	out := Prefixed(worker.Props, prefix+".")
	if worker.ClientOverridePolicy != "None" && !strings.HasSuffix(worker.ClientOverridePolicy, "NoneConnectorClientConfigOverridePolicy") {
		for k, v := range Prefixed(connProps, prefix+".override.") {
			out[k] = v
		}
	}
	return out
}

func parseMs(key, v string) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("connect: invalid value %q for %s: expected milliseconds", v, key)
	}
	return time.Duration(n) * time.Millisecond, nil
}

func parseInt(key, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("connect: invalid value %q for %s: expected a non-negative integer", v, key)
	}
	return n, nil
}

// commonOpts maps the settings producers and consumers share.
func commonOpts(props map[string]string, seeds []string, log *slog.Logger) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	for k, v := range props {
		switch k {
		case "bootstrap.servers":
			opts = append(opts, kgo.SeedBrokers(splitList(v)...))
		case "client.id":
			opts = append(opts, kgo.ClientID(v))
		case "security.protocol":
			if !strings.EqualFold(v, "PLAINTEXT") {
				return nil, fmt.Errorf("connect: security.protocol %s is not supported", v)
			}
		case "request.timeout.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.RequestTimeoutOverhead(d))
		case "metadata.max.age.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.MetadataMaxAge(d))
		}
	}
	return opts, nil
}

// producerOpts returns the kgo options of a source task's (or DLQ)
// producer. Connect's defaults: acks=all, idempotent, topics created on
// first use as the Java producer's metadata requests allow.
func producerOpts(props map[string]string, seeds []string, clientID string, log *slog.Logger) ([]kgo.Opt, error) {
	opts, err := commonOpts(props, seeds, log)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ClientID(clientID), kgo.AllowAutoTopicCreation(), kgo.RequiredAcks(kgo.AllISRAcks()))
	idempotent := true
	for k, v := range props {
		switch k {
		case "bootstrap.servers", "client.id", "security.protocol", "request.timeout.ms", "metadata.max.age.ms":
		case "acks":
			switch strings.ToLower(v) {
			case "all", "-1":
				opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
			case "1":
				opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
				idempotent = false
			case "0":
				opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
				idempotent = false
			default:
				return nil, fmt.Errorf("connect: invalid value %q for acks", v)
			}
		case "enable.idempotence":
			if strings.EqualFold(v, "false") {
				idempotent = false
			}
		case "linger.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.ProducerLinger(d))
		case "batch.size", "max.request.size":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
			}
		case "compression.type":
			var c kgo.CompressionCodec
			switch strings.ToLower(v) {
			case "none":
				c = kgo.NoCompression()
			case "gzip":
				c = kgo.GzipCompression()
			case "snappy":
				c = kgo.SnappyCompression()
			case "lz4":
				c = kgo.Lz4Compression()
			case "zstd":
				c = kgo.ZstdCompression()
			default:
				return nil, fmt.Errorf("connect: invalid value %q for compression.type", v)
			}
			opts = append(opts, kgo.ProducerBatchCompression(c))
		case "delivery.timeout.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.RecordDeliveryTimeout(d))
		case "retries":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.RecordRetries(n))
		case "max.in.flight.requests.per.connection":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(n))
			}
		default:
			log.Debug("producer setting has no franz-go equivalent; ignored", "key", k)
		}
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	return opts, nil
}

// consumerSettings are the settings a sink task's loop applies itself.
type consumerSettings struct {
	group          string
	maxPollRecords int
}

// consumerOpts returns the kgo options of a sink task's consumer: group
// connect-<name> (consumer.override.group.id wins), no auto commit, reset
// to the earliest offset, as Kafka's worker sets.
func consumerOpts(props map[string]string, seeds []string, clientID, connector string, log *slog.Logger) ([]kgo.Opt, consumerSettings, error) {
	s := consumerSettings{group: "connect-" + connector, maxPollRecords: 500}
	opts, err := commonOpts(props, seeds, log)
	if err != nil {
		return nil, s, err
	}
	opts = append(opts, kgo.ClientID(clientID), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for k, v := range props {
		switch k {
		case "bootstrap.servers", "client.id", "security.protocol", "request.timeout.ms", "metadata.max.age.ms":
		case "group.id":
			s.group = v
		case "auto.offset.reset":
			switch strings.ToLower(v) {
			case "earliest":
				opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			case "latest":
				opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
			case "none":
				opts = append(opts, kgo.ConsumeResetOffset(kgo.NoResetOffset()))
			default:
				return nil, s, fmt.Errorf("connect: invalid value %q for auto.offset.reset", v)
			}
		case "max.poll.records":
			n, err := parseInt(k, v)
			if err != nil || n == 0 {
				return nil, s, fmt.Errorf("connect: invalid value %q for max.poll.records", v)
			}
			s.maxPollRecords = n
		case "session.timeout.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.SessionTimeout(d))
		case "heartbeat.interval.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.HeartbeatInterval(d))
		case "max.poll.interval.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.RebalanceTimeout(d))
		case "fetch.max.bytes":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.FetchMaxBytes(int32(n)))
		case "fetch.min.bytes":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.FetchMinBytes(int32(n)))
		case "fetch.max.wait.ms":
			d, err := parseMs(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.FetchMaxWait(d))
		case "max.partition.fetch.bytes":
			n, err := parseInt(k, v)
			if err != nil {
				return nil, s, err
			}
			opts = append(opts, kgo.FetchMaxPartitionBytes(int32(n)))
		case "isolation.level":
			switch strings.ToLower(v) {
			case "read_committed":
				opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
			case "read_uncommitted":
				opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
			default:
				return nil, s, fmt.Errorf("connect: invalid value %q for isolation.level", v)
			}
		case "partition.assignment.strategy":
			var bs []kgo.GroupBalancer
			for _, name := range splitList(v) {
				switch name[strings.LastIndexByte(name, '.')+1:] {
				case "RangeAssignor":
					bs = append(bs, kgo.RangeBalancer())
				case "RoundRobinAssignor":
					bs = append(bs, kgo.RoundRobinBalancer())
				case "StickyAssignor":
					bs = append(bs, kgo.StickyBalancer())
				case "CooperativeStickyAssignor":
					bs = append(bs, kgo.CooperativeStickyBalancer())
				default:
					return nil, s, fmt.Errorf("connect: invalid value %q for partition.assignment.strategy", v)
				}
			}
			opts = append(opts, kgo.Balancers(bs...))
		default:
			log.Debug("consumer setting has no franz-go equivalent; ignored", "key", k)
		}
	}
	return opts, s, nil
}
