package streams

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrConfig is returned (wrapped) for an invalid App configuration; the
// message names the property.
var ErrConfig = errors.New("streams: config")

// Processing guarantees (processing.guarantee).
const (
	AtLeastOnce = "at_least_once"
	ExactlyOnce = "exactly_once_v2"
)

// Config configures an App. Field comments give the Kafka Streams property
// each field stands for; ConfigFromProperties reads them by those names.
type Config struct {
	// ApplicationID names the application: it is the consumer group, the
	// prefix of internal topics and the state directory. Required.
	// application.id
	ApplicationID string
	// BootstrapServers are the host:port pairs of the cluster. Required.
	// bootstrap.servers
	BootstrapServers []string
	// NumStreamThreads is the number of processing threads, each a member of
	// the group with its own consumer and producer (default 1).
	// num.stream.threads
	NumStreamThreads int
	// NumStandbyReplicas is how many standby copies of each stateful task
	// the group keeps, each on another instance, current from the task's
	// changelogs, so that a task moving there restores only the tail
	// (default 0). num.standby.replicas
	NumStandbyReplicas int
	// ProcessingGuarantee is AtLeastOnce (default) or ExactlyOnce.
	// processing.guarantee
	ProcessingGuarantee string
	// CommitInterval is how often offsets are committed (default 30s, or
	// 100ms under exactly_once_v2). commit.interval.ms
	CommitInterval time.Duration
	// StateDir is the root of persistent stores (default: <os temp
	// dir>/runnel-streams; Kafka uses /tmp/kafka-streams). state.dir
	StateDir string
	// CacheMaxBytes bounds the record caches of all threads, divided
	// evenly between them (default 10485760; negative turns caching off,
	// as 0 does in a properties file). Cached stores forward an update
	// per key when the cache flushes (at commit or eviction), not every
	// update. statestore.cache.max.bytes
	CacheMaxBytes int64
	// ReplicationFactor of the internal topics this App creates; -1 (the
	// default) uses the broker's default.replication.factor.
	// replication.factor
	ReplicationFactor int
	// ApplicationServer is this instance's host:port for interactive
	// queries, shared with the group so any instance can tell where a key
	// lives. application.server
	ApplicationServer string
	// TimestampExtractor is the default event-time extractor; nil uses the
	// record timestamp. Records whose event time is negative are dropped,
	// logged and counted (Kafka's LogAndSkipOnInvalidTimestamp).
	// default.timestamp.extractor
	TimestampExtractor TimestampExtractor
	// PollInterval bounds how long a thread waits for records (default
	// 100ms). poll.ms
	PollInterval time.Duration
	// MaxPollRecords bounds the records handled per poll (default 1000).
	// max.poll.records
	MaxPollRecords int
	// RepartitionPurgeInterval is how often, at a commit, the records of
	// repartition topics below the committed offsets are deleted (default
	// 30s; an interval shorter than CommitInterval purges at every
	// commit, as 0 does in a properties file). repartition.purge.interval.ms
	RepartitionPurgeInterval time.Duration
	// WindowChangelogAdditionalRetention is added to a window store's
	// retention for its changelog's retention.ms (default 24h).
	// windowstore.changelog.additional.retention.ms
	WindowChangelogAdditionalRetention time.Duration
	// DeserializationExceptionHandler decides about input records whose
	// key or value cannot be decoded: LogAndFail (the default) stops the
	// thread, LogAndContinue skips them, counting them as dropped.
	// default.deserialization.exception.handler
	DeserializationExceptionHandler DeserializationExceptionHandler
	// Logger receives the App's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the App's metrics; nil registers none.
	Registerer prometheus.Registerer
	// ClientOptions are extra franz-go options given to every client the
	// App creates (TLS, SASL, session timeout, …). They are applied after
	// the App's own and so win; the group, balancer, isolation and
	// transactional options must be left alone.
	ClientOptions []kgo.Opt
}

const (
	defaultCommitIntervalALOS     = 30 * time.Second
	defaultCommitIntervalEOS      = 100 * time.Millisecond
	defaultCacheMaxBytes          = 10 * 1024 * 1024
	defaultWindowChangelogRetains = 24 * time.Hour
	defaultRepartitionPurge       = 30 * time.Second
)

// timestampExtractorByName returns the built-in extractor named by a Kafka
// class name (or its simple name): FailOnInvalidTimestamp (the default;
// Runnel drops and counts negative timestamps instead of failing),
// LogAndSkipOnInvalidTimestamp, UsePartitionTimeOnInvalidTimestamp or
// WallclockTimestampExtractor.
func timestampExtractorByName(name string, now func() int64) (TimestampExtractor, bool) {
	simple := name[strings.LastIndex(name, ".")+1:]
	switch simple {
	case "FailOnInvalidTimestamp":
		return nil, true
	case "LogAndSkipOnInvalidTimestamp":
		return func(_ string, _, _ any, ts, _ int64) int64 { return ts }, true
	case "UsePartitionTimeOnInvalidTimestamp":
		return func(_ string, _, _ any, ts, partitionTime int64) int64 {
			if ts < 0 {
				return partitionTime
			}
			return ts
		}, true
	case "WallclockTimestampExtractor":
		return func(string, any, any, int64, int64) int64 { return now() }, true
	}
	return nil, false
}

// streamsProps are the properties ConfigFromProperties knows. Those marked
// false are accepted for compatibility with Kafka Streams property files
// and have no effect.
var streamsProps = map[string]bool{
	"application.id":                                true,
	"bootstrap.servers":                             true,
	"num.stream.threads":                            true,
	"processing.guarantee":                          true,
	"commit.interval.ms":                            true,
	"state.dir":                                     true,
	"statestore.cache.max.bytes":                    true,
	"cache.max.bytes.buffering":                     true,
	"replication.factor":                            true,
	"application.server":                            true,
	"default.timestamp.extractor":                   true,
	"poll.ms":                                       true,
	"max.poll.records":                              true,
	"windowstore.changelog.additional.retention.ms": true,
	"repartition.purge.interval.ms":                 true,
	"client.id":                                     false,
	"default.key.serde":                             false,
	"default.value.serde":                           false,
	"num.standby.replicas":                          true,
	"topology.optimization":                         false,
	"default.deserialization.exception.handler":     true,
	"deserialization.exception.handler":             true,
	"default.production.exception.handler":          false,
}

// ConfigFromProperties reads a Config from Kafka Streams properties. An
// unknown key or a bad value is an error naming the key.
func ConfigFromProperties(props map[string]string) (Config, error) {
	var c Config
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bad := func(k, why string) error { return fmt.Errorf("%w: %s: %s", ErrConfig, k, why) }
	for _, k := range keys {
		v := strings.TrimSpace(props[k])
		if _, ok := streamsProps[k]; !ok {
			return Config{}, fmt.Errorf("%w: unknown property %q", ErrConfig, k)
		}
		atoi := func(lo int64) (int64, error) {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < lo {
				return 0, bad(k, fmt.Sprintf("%q is not an integer of at least %d", v, lo))
			}
			return n, nil
		}
		switch k {
		case "application.id":
			c.ApplicationID = v
		case "bootstrap.servers":
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.BootstrapServers = append(c.BootstrapServers, s)
				}
			}
		case "num.stream.threads":
			n, err := atoi(1)
			if err != nil {
				return Config{}, err
			}
			c.NumStreamThreads = int(n)
		case "num.standby.replicas":
			n, err := atoi(0)
			if err != nil {
				return Config{}, err
			}
			c.NumStandbyReplicas = int(n)
		case "processing.guarantee":
			c.ProcessingGuarantee = v
		case "commit.interval.ms":
			n, err := atoi(0)
			if err != nil {
				return Config{}, err
			}
			c.CommitInterval = time.Duration(n) * time.Millisecond
		case "state.dir":
			c.StateDir = v
		case "statestore.cache.max.bytes", "cache.max.bytes.buffering":
			n, err := atoi(0)
			if err != nil {
				return Config{}, err
			}
			c.CacheMaxBytes = n
			if n == 0 {
				c.CacheMaxBytes = -1 // caching off
			}
		case "replication.factor":
			n, err := strconv.Atoi(v)
			if err != nil || (n < 1 && n != -1) {
				return Config{}, bad(k, fmt.Sprintf("%q is neither -1 nor a positive integer", v))
			}
			c.ReplicationFactor = n
		case "application.server":
			c.ApplicationServer = v
		case "default.timestamp.extractor":
			x, ok := timestampExtractorByName(v, func() int64 { return time.Now().UnixMilli() })
			if !ok {
				return Config{}, bad(k, fmt.Sprintf("unknown extractor %q", v))
			}
			c.TimestampExtractor = x
		case "default.deserialization.exception.handler", "deserialization.exception.handler":
			h, ok := DeserializationHandlerByName(v)
			if !ok {
				return Config{}, bad(k, fmt.Sprintf("unknown handler %q (LogAndFailExceptionHandler or LogAndContinueExceptionHandler)", v))
			}
			c.DeserializationExceptionHandler = h
		case "poll.ms":
			n, err := atoi(1)
			if err != nil {
				return Config{}, err
			}
			c.PollInterval = time.Duration(n) * time.Millisecond
		case "max.poll.records":
			n, err := atoi(1)
			if err != nil {
				return Config{}, err
			}
			c.MaxPollRecords = int(n)
		case "repartition.purge.interval.ms":
			n, err := atoi(0)
			if err != nil {
				return Config{}, err
			}
			c.RepartitionPurgeInterval = max(time.Duration(n)*time.Millisecond, time.Millisecond)
		case "windowstore.changelog.additional.retention.ms":
			n, err := atoi(0)
			if err != nil {
				return Config{}, err
			}
			c.WindowChangelogAdditionalRetention = time.Duration(n) * time.Millisecond
		}
	}
	return c, nil
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	bad := func(k, why string) error { return fmt.Errorf("%w: %s: %s", ErrConfig, k, why) }
	if c.ApplicationID == "" {
		return c, bad("application.id", "required")
	}
	if strings.ContainsFunc(c.ApplicationID, func(r rune) bool {
		return !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return c, bad("application.id", fmt.Sprintf("%q may hold only ASCII letters, digits, '.', '_' and '-'", c.ApplicationID))
	}
	if len(c.BootstrapServers) == 0 {
		return c, bad("bootstrap.servers", "required")
	}
	switch c.ProcessingGuarantee {
	case "":
		c.ProcessingGuarantee = AtLeastOnce
	case AtLeastOnce, ExactlyOnce:
	default:
		return c, bad("processing.guarantee", fmt.Sprintf("%q is neither %s nor %s", c.ProcessingGuarantee, AtLeastOnce, ExactlyOnce))
	}
	if c.NumStreamThreads == 0 {
		c.NumStreamThreads = 1
	}
	if c.NumStreamThreads < 0 {
		return c, bad("num.stream.threads", "must be positive")
	}
	if c.NumStandbyReplicas < 0 {
		return c, bad("num.standby.replicas", "must not be negative")
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = defaultCommitIntervalALOS
		if c.ProcessingGuarantee == ExactlyOnce {
			c.CommitInterval = defaultCommitIntervalEOS
		}
	}
	if c.CommitInterval < 0 {
		return c, bad("commit.interval.ms", "must not be negative")
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(os.TempDir(), "runnel-streams")
	}
	if c.CacheMaxBytes == 0 {
		c.CacheMaxBytes = defaultCacheMaxBytes
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = -1
	}
	if c.ApplicationServer != "" {
		if _, _, err := splitHostPort(c.ApplicationServer); err != nil {
			return c, bad("application.server", err.Error())
		}
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = 1000
	}
	if c.RepartitionPurgeInterval <= 0 {
		c.RepartitionPurgeInterval = defaultRepartitionPurge
	}
	if c.WindowChangelogAdditionalRetention == 0 {
		c.WindowChangelogAdditionalRetention = defaultWindowChangelogRetains
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// splitHostPort parses host:port as application.server expects it.
func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return "", 0, fmt.Errorf("%q is not host:port", s)
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has no valid port", s)
	}
	return s[:i], port, nil
}
