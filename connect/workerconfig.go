package connect

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultListener is where a Runnel worker serves its REST API when
// listeners is not set. Kafka listens on http://:8083 (every interface);
// Runnel keeps to loopback unless told otherwise.
const DefaultListener = "http://127.0.0.1:8083"

// WorkerConfig is a Connect worker's configuration, read from
// connect-standalone.properties or connect-distributed.properties with
// Kafka's property names and defaults.
type WorkerConfig struct {
	BootstrapServers []string // bootstrap.servers (localhost:9092)
	KeyConverter     string   // key.converter (required)
	ValueConverter   string   // value.converter (required)
	HeaderConverter  string   // header.converter (org.apache.kafka.connect.storage.SimpleHeaderConverter)

	OffsetFlushInterval   time.Duration // offset.flush.interval.ms (60000)
	OffsetFlushTimeout    time.Duration // offset.flush.timeout.ms (5000)
	TaskShutdownTimeout   time.Duration // task.shutdown.graceful.timeout.ms (5000)
	TopicTrackingEnable   bool          // topic.tracking.enable (true)
	TopicTrackingReset    bool          // topic.tracking.allow.reset (true)
	TopicCreationEnable   bool          // topic.creation.enable (true)
	ClientOverridePolicy  string        // connector.client.config.override.policy (All)
	Listeners             []string      // listeners (http://127.0.0.1:8083 in Runnel)
	AdvertisedHostName    string        // rest.advertised.host.name
	AdvertisedPort        int           // rest.advertised.port (0 = the bound port)
	AdvertisedListener    string        // rest.advertised.listener (http)
	OffsetStorageFilename string        // offset.storage.file.filename (standalone; required there)

	// Distributed mode.
	GroupID                    string        // group.id (required in distributed mode)
	ConfigStorageTopic         string        // config.storage.topic
	ConfigStorageReplication   int16         // config.storage.replication.factor (3; -1 = broker default)
	OffsetStorageTopic         string        // offset.storage.topic
	OffsetStoragePartitions    int32         // offset.storage.partitions (25; -1 = broker default)
	OffsetStorageReplication   int16         // offset.storage.replication.factor (3)
	StatusStorageTopic         string        // status.storage.topic
	StatusStoragePartitions    int32         // status.storage.partitions (5)
	StatusStorageReplication   int16         // status.storage.replication.factor (3)
	SessionTimeout             time.Duration // session.timeout.ms (10000)
	HeartbeatInterval          time.Duration // heartbeat.interval.ms (3000)
	RebalanceTimeout           time.Duration // rebalance.timeout.ms (60000)
	WorkerSyncTimeout          time.Duration // worker.sync.timeout.ms (3000)
	WorkerUnsyncBackoff        time.Duration // worker.unsync.backoff.ms (300000)
	ScheduledRebalanceMaxDelay time.Duration // scheduled.rebalance.max.delay.ms (300000)
	ConnectProtocol            string        // connect.protocol (sessioned)

	// Props is every property as given, for the prefixed groups the worker
	// hands on: key.converter.*, value.converter.*, producer.*, consumer.*,
	// admin.*.
	Props map[string]string
}

// Mode selects which required keys ParseWorkerConfig checks.
type Mode int

// Worker modes.
const (
	ModeStandalone Mode = iota
	ModeDistributed
)

// workerKey is one known worker property: its default ("" = none) and how
// it is applied to a WorkerConfig.
type workerKey struct {
	def   string
	apply func(c *WorkerConfig, v string) error
}

// Prefixes whose keys are passed through to converters and clients.
var workerPrefixes = []string{
	"key.converter.", "value.converter.", "header.converter.",
	"producer.", "consumer.", "admin.", "config.providers.", "listeners.https.",
	"ssl.", "sasl.", "metric.reporters", "metrics.", "client.", "security.",
	"reconnect.", "retry.", "request.timeout.", "socket.", "receive.", "send.",
	"connections.", "inter.worker.", "exactly.once.", "rest.extension.",
	"access.control.", "admin.listeners", "response.http.", "plugin.", "auto.include.jmx.reporter",
	"metadata.",
}

func workerKeys() map[string]workerKey {
	str := func(set func(*WorkerConfig, string)) func(*WorkerConfig, string) error {
		return func(c *WorkerConfig, v string) error { set(c, v); return nil }
	}
	ms := func(set func(*WorkerConfig, time.Duration)) func(*WorkerConfig, string) error {
		return func(c *WorkerConfig, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("expected a non-negative number of milliseconds")
			}
			set(c, time.Duration(n)*time.Millisecond)
			return nil
		}
	}
	boolean := func(set func(*WorkerConfig, bool)) func(*WorkerConfig, string) error {
		return func(c *WorkerConfig, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				set(c, true)
			case "false":
				set(c, false)
			default:
				return fmt.Errorf("expected true or false")
			}
			return nil
		}
	}
	rf := func(set func(*WorkerConfig, int16)) func(*WorkerConfig, string) error {
		return func(c *WorkerConfig, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 16)
			if err != nil || n == 0 || n < -1 {
				return fmt.Errorf("expected a positive replication factor or -1 for the broker default")
			}
			set(c, int16(n))
			return nil
		}
	}
	parts := func(set func(*WorkerConfig, int32)) func(*WorkerConfig, string) error {
		return func(c *WorkerConfig, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
			if err != nil || n == 0 || n < -1 {
				return fmt.Errorf("expected a positive number of partitions or -1 for the broker default")
			}
			set(c, int32(n))
			return nil
		}
	}
	ignore := func(*WorkerConfig, string) error { return nil }
	return map[string]workerKey{
		"bootstrap.servers": {"localhost:9092", func(c *WorkerConfig, v string) error {
			c.BootstrapServers = splitList(v)
			if len(c.BootstrapServers) == 0 {
				return fmt.Errorf("expected a list of host:port")
			}
			return nil
		}},
		"key.converter":                     {"", str(func(c *WorkerConfig, v string) { c.KeyConverter = strings.TrimSpace(v) })},
		"value.converter":                   {"", str(func(c *WorkerConfig, v string) { c.ValueConverter = strings.TrimSpace(v) })},
		"header.converter":                  {"org.apache.kafka.connect.storage.SimpleHeaderConverter", str(func(c *WorkerConfig, v string) { c.HeaderConverter = strings.TrimSpace(v) })},
		"offset.flush.interval.ms":          {"60000", ms(func(c *WorkerConfig, d time.Duration) { c.OffsetFlushInterval = d })},
		"offset.flush.timeout.ms":           {"5000", ms(func(c *WorkerConfig, d time.Duration) { c.OffsetFlushTimeout = d })},
		"task.shutdown.graceful.timeout.ms": {"5000", ms(func(c *WorkerConfig, d time.Duration) { c.TaskShutdownTimeout = d })},
		"topic.tracking.enable":             {"true", boolean(func(c *WorkerConfig, b bool) { c.TopicTrackingEnable = b })},
		"topic.tracking.allow.reset":        {"true", boolean(func(c *WorkerConfig, b bool) { c.TopicTrackingReset = b })},
		"topic.creation.enable":             {"true", boolean(func(c *WorkerConfig, b bool) { c.TopicCreationEnable = b })},
		"connector.client.config.override.policy": {"All", func(c *WorkerConfig, v string) error {
			switch v {
			case "All", "None", "Principal",
				"org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy",
				"org.apache.kafka.connect.connector.policy.NoneConnectorClientConfigOverridePolicy",
				"org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy":
				c.ClientOverridePolicy = v
				return nil
			}
			return fmt.Errorf("expected All, None or Principal")
		}},
		"listeners": {DefaultListener, func(c *WorkerConfig, v string) error {
			c.Listeners = splitList(v)
			for _, l := range c.Listeners {
				u, err := url.Parse(l)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("expected a list of http://HOST:PORT")
				}
				if u.Scheme == "https" {
					return fmt.Errorf("https listeners are not supported")
				}
			}
			if len(c.Listeners) == 0 {
				return fmt.Errorf("expected a list of http://HOST:PORT")
			}
			return nil
		}},
		"rest.advertised.host.name": {"", str(func(c *WorkerConfig, v string) { c.AdvertisedHostName = strings.TrimSpace(v) })},
		"rest.advertised.port": {"", func(c *WorkerConfig, v string) error {
			if v == "" {
				return nil
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("expected a port number")
			}
			c.AdvertisedPort = n
			return nil
		}},
		"rest.advertised.listener":     {"", str(func(c *WorkerConfig, v string) { c.AdvertisedListener = strings.TrimSpace(v) })},
		"offset.storage.file.filename": {"", str(func(c *WorkerConfig, v string) { c.OffsetStorageFilename = v })},
		"plugin.path":                  {"", ignore},
		"plugin.discovery":             {"", ignore},

		"group.id":                          {"", str(func(c *WorkerConfig, v string) { c.GroupID = v })},
		"config.storage.topic":              {"", str(func(c *WorkerConfig, v string) { c.ConfigStorageTopic = v })},
		"config.storage.replication.factor": {"3", rf(func(c *WorkerConfig, n int16) { c.ConfigStorageReplication = n })},
		"offset.storage.topic":              {"", str(func(c *WorkerConfig, v string) { c.OffsetStorageTopic = v })},
		"offset.storage.partitions":         {"25", parts(func(c *WorkerConfig, n int32) { c.OffsetStoragePartitions = n })},
		"offset.storage.replication.factor": {"3", rf(func(c *WorkerConfig, n int16) { c.OffsetStorageReplication = n })},
		"status.storage.topic":              {"", str(func(c *WorkerConfig, v string) { c.StatusStorageTopic = v })},
		"status.storage.partitions":         {"5", parts(func(c *WorkerConfig, n int32) { c.StatusStoragePartitions = n })},
		"status.storage.replication.factor": {"3", rf(func(c *WorkerConfig, n int16) { c.StatusStorageReplication = n })},
		"session.timeout.ms":                {"10000", ms(func(c *WorkerConfig, d time.Duration) { c.SessionTimeout = d })},
		"heartbeat.interval.ms":             {"3000", ms(func(c *WorkerConfig, d time.Duration) { c.HeartbeatInterval = d })},
		"rebalance.timeout.ms":              {"60000", ms(func(c *WorkerConfig, d time.Duration) { c.RebalanceTimeout = d })},
		"worker.sync.timeout.ms":            {"3000", ms(func(c *WorkerConfig, d time.Duration) { c.WorkerSyncTimeout = d })},
		"worker.unsync.backoff.ms":          {"300000", ms(func(c *WorkerConfig, d time.Duration) { c.WorkerUnsyncBackoff = d })},
		"scheduled.rebalance.max.delay.ms":  {"300000", ms(func(c *WorkerConfig, d time.Duration) { c.ScheduledRebalanceMaxDelay = d })},
		"connect.protocol": {"sessioned", func(c *WorkerConfig, v string) error {
			switch v {
			case "eager", "compatible", "sessioned":
				c.ConnectProtocol = v
				return nil
			}
			return fmt.Errorf("expected eager, compatible or sessioned")
		}},
	}
}

// ParseWorkerConfig reads a worker's properties. A bad value, a missing
// required key or an unknown key is an error naming the key; keys of the
// client, converter and REST groups Kafka passes through (producer.*,
// consumer.*, key.converter.*, ssl.*, …) are kept in Props.
func ParseWorkerConfig(props map[string]string, mode Mode) (WorkerConfig, error) {
	c := WorkerConfig{Props: make(map[string]string, len(props))}
	keys := workerKeys()
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, ok := props[k]
		if !ok {
			v = keys[k].def
		}
		if err := keys[k].apply(&c, v); err != nil {
			return WorkerConfig{}, fmt.Errorf("connect: invalid value %q for configuration %s: %v", v, k, err)
		}
	}
	var unknown []string
	for k, v := range props {
		c.Props[k] = v
		if _, ok := keys[k]; ok {
			continue
		}
		if !hasAnyPrefix(k, workerPrefixes) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return WorkerConfig{}, fmt.Errorf("connect: unknown configuration %s", unknown[0])
	}
	required := []string{"key.converter", "value.converter"}
	switch mode {
	case ModeStandalone:
		required = append(required, "offset.storage.file.filename")
	case ModeDistributed:
		required = append(required, "group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic")
	}
	for _, k := range required {
		if strings.TrimSpace(props[k]) == "" {
			return WorkerConfig{}, fmt.Errorf("connect: missing required configuration %q which has no default value", k)
		}
	}
	return c, nil
}

// Prefixed returns the properties under prefix with the prefix removed, as
// Kafka's originalsWithPrefix does (key.converter. → the key converter's
// own settings).
func Prefixed(props map[string]string, prefix string) map[string]string {
	out := make(map[string]string)
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}

// AdvertisedURL is the REST URL other workers reach this one at: the
// advertised listener scheme, host and port, defaulting to those of bound
// (the address the REST server actually listens on).
func (c WorkerConfig) AdvertisedURL(bound string) string {
	scheme := "http"
	if c.AdvertisedListener != "" {
		scheme = strings.ToLower(c.AdvertisedListener)
	}
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		host, port = bound, ""
	}
	if c.AdvertisedHostName != "" {
		host = c.AdvertisedHostName
	}
	if c.AdvertisedPort != 0 {
		port = strconv.Itoa(c.AdvertisedPort)
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func hasAnyPrefix(k string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
