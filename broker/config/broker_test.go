package config

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func mustParse(t *testing.T, props map[string]string) *Broker {
	t.Helper()
	b, err := ParseBroker(props)
	if err != nil {
		t.Fatalf("ParseBroker(%q): %v", props, err)
	}
	return b
}

func TestParseBrokerDefaults(t *testing.T) {
	b := mustParse(t, nil)
	if b.NodeID != 1 || !slices.Equal(b.ProcessRoles, []string{"broker", "controller"}) {
		t.Errorf("node %d roles %v, want 1 [broker controller]", b.NodeID, b.ProcessRoles)
	}
	want := []Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}}
	if !slices.Equal(b.Listeners, want) || !slices.Equal(b.AdvertisedListeners, want) {
		t.Errorf("listeners %v advertised %v, want %v", b.Listeners, b.AdvertisedListeners, want)
	}
	if b.InterBrokerListenerName != "PLAINTEXT" {
		t.Errorf("inter-broker listener %q", b.InterBrokerListenerName)
	}
	if !slices.Equal(b.LogDirs, []string{"./runnel-data"}) || b.MetadataLogDir != "./runnel-data" {
		t.Errorf("log dirs %v, metadata %q", b.LogDirs, b.MetadataLogDir)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"NumPartitions", b.NumPartitions, int32(1)},
		{"DefaultReplicationFactor", b.DefaultReplicationFactor, int16(1)},
		{"MinInsyncReplicas", b.MinInsyncReplicas, int32(1)},
		{"AutoCreateTopicsEnable", b.AutoCreateTopicsEnable, true},
		{"DeleteTopicEnable", b.DeleteTopicEnable, true},
		{"UncleanLeaderElectionEnable", b.UncleanLeaderElectionEnable, false},
		{"MessageMaxBytes", b.MessageMaxBytes, int32(1048588)},
		{"LogRetentionMs", b.LogRetentionMs, int64(168 * 3600 * 1000)},
		{"LogRetentionBytes", b.LogRetentionBytes, int64(-1)},
		{"LogSegmentBytes", b.LogSegmentBytes, int32(1 << 30)},
		{"LogRollMs", b.LogRollMs, int64(168 * 3600 * 1000)},
		{"LogRollJitterMs", b.LogRollJitterMs, int64(0)},
		{"LogFlushIntervalMessages", b.LogFlushIntervalMessages, int64(1<<63 - 1)},
		{"LogFlushIntervalMs", b.LogFlushIntervalMs, int64(1<<63 - 1)},
		{"LogRetentionCheckIntervalMs", b.LogRetentionCheckIntervalMs, int64(300000)},
		{"LogCleanupPolicy", strings.Join(b.LogCleanupPolicy, ","), "delete"},
		{"LogCleanerEnable", b.LogCleanerEnable, true},
		{"LogCleanerMinCleanableRatio", b.LogCleanerMinCleanableRatio, 0.5},
		{"LogMessageTimestampType", b.LogMessageTimestampType, "CreateTime"},
		{"NumRecoveryThreadsPerDataDir", b.NumRecoveryThreadsPerDataDir, 2},
		{"OffsetsTopicNumPartitions", b.OffsetsTopicNumPartitions, int32(50)},
		{"OffsetsTopicReplicationFactor", b.OffsetsTopicReplicationFactor, int16(1)},
		{"OffsetsRetentionMinutes", b.OffsetsRetentionMinutes, int32(10080)},
		{"TransactionStateLogNumPartitions", b.TransactionStateLogNumPartitions, int32(50)},
		{"TransactionMaxTimeoutMs", b.TransactionMaxTimeoutMs, int32(900000)},
		{"GroupInitialRebalanceDelayMs", b.GroupInitialRebalanceDelayMs, int32(3000)},
		{"GroupMinSessionTimeoutMs", b.GroupMinSessionTimeoutMs, int32(6000)},
		{"GroupMaxSessionTimeoutMs", b.GroupMaxSessionTimeoutMs, int32(1800000)},
		{"GroupMaxSize", b.GroupMaxSize, int32(1<<31 - 1)},
		{"SocketRequestMaxBytes", b.SocketRequestMaxBytes, int32(104857600)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(b.Connect) != 0 {
		t.Errorf("Connect = %v, want empty", b.Connect)
	}
}

// TestKafkaStockFiles loads the key sets of the server.properties files
// Apache Kafka ships and checks what a broker relies on from them.
func TestKafkaStockFiles(t *testing.T) {
	host := localHostname()
	tests := []struct {
		file        string
		roles       string
		listeners   string
		advertised  string
		controller  string
		interBroker string
		voters      int
		logDir      string
	}{
		{"kafka-4-server.properties", "broker,controller", "PLAINTEXT://:9092,CONTROLLER://:9093",
			"PLAINTEXT://localhost:9092", "CONTROLLER://localhost:9093", "PLAINTEXT", 0, "/tmp/kraft-combined-logs"},
		{"kafka-4-broker.properties", "broker", "PLAINTEXT://localhost:9092",
			"PLAINTEXT://localhost:9092", "", "PLAINTEXT", 0, "/tmp/kraft-broker-logs"},
		{"kafka-4-controller.properties", "controller", "CONTROLLER://:9093",
			"", "CONTROLLER://localhost:9093", "", 0, "/tmp/kraft-controller-logs"},
		{"kafka-3.9-kraft-server.properties", "broker,controller", "PLAINTEXT://:9092,CONTROLLER://:9093",
			"PLAINTEXT://localhost:9092", "CONTROLLER://localhost:9093", "PLAINTEXT", 1, "/tmp/kraft-combined-logs"},
	}
	_ = host
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			props, err := Load("testdata/"+tt.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			b := mustParse(t, props)
			str := func(ls []Listener) string {
				s := make([]string, len(ls))
				for i, l := range ls {
					s[i] = l.String()
				}
				return strings.Join(s, ",")
			}
			if got := strings.Join(b.ProcessRoles, ","); got != tt.roles {
				t.Errorf("roles %q, want %q", got, tt.roles)
			}
			if got := str(b.Listeners); got != tt.listeners {
				t.Errorf("listeners %q, want %q", got, tt.listeners)
			}
			if got := str(b.AdvertisedListeners); got != tt.advertised {
				t.Errorf("advertised %q, want %q", got, tt.advertised)
			}
			if got := str(b.AdvertisedControllerListeners); got != tt.controller {
				t.Errorf("controller listeners %q, want %q", got, tt.controller)
			}
			if b.InterBrokerListenerName != tt.interBroker {
				t.Errorf("inter-broker listener %q, want %q", b.InterBrokerListenerName, tt.interBroker)
			}
			if len(b.ControllerQuorumVoters) != tt.voters {
				t.Errorf("voters %v", b.ControllerQuorumVoters)
			}
			if !slices.Equal(b.LogDirs, []string{tt.logDir}) {
				t.Errorf("log dirs %v", b.LogDirs)
			}
			if b.LogRetentionMs != 7*24*3600*1000 || b.LogSegmentBytes != 1<<30 || b.OffsetsTopicReplicationFactor != 1 {
				t.Errorf("retention %d segment %d offsets RF %d", b.LogRetentionMs, b.LogSegmentBytes, b.OffsetsTopicReplicationFactor)
			}
			if p := b.ListenerSecurityProtocolMap["CONTROLLER"]; p != "PLAINTEXT" {
				t.Errorf("CONTROLLER maps to %q", p)
			}
		})
	}
}

func TestDurationPrecedence(t *testing.T) {
	const min, hour = int64(60_000), int64(3_600_000)
	tests := []struct {
		props map[string]string
		field func(*Broker) int64
		want  int64
	}{
		{map[string]string{"log.retention.hours": "24"}, retention, 24 * hour},
		{map[string]string{"log.retention.hours": "24", "log.retention.minutes": "30"}, retention, 30 * min},
		{map[string]string{"log.retention.hours": "24", "log.retention.minutes": "30", "log.retention.ms": "1234"}, retention, 1234},
		{map[string]string{"log.retention.ms": "1234", "log.retention.hours": "24"}, retention, 1234},
		{map[string]string{"log.retention.minutes": "-1"}, retention, -1},
		{map[string]string{"log.retention.hours": "-5"}, retention, -1},
		{map[string]string{"log.retention.ms": "-1", "log.retention.hours": "1"}, retention, -1},
		{map[string]string{"log.roll.hours": "2"}, func(b *Broker) int64 { return b.LogRollMs }, 2 * hour},
		{map[string]string{"log.roll.hours": "2", "log.roll.ms": "500"}, func(b *Broker) int64 { return b.LogRollMs }, 500},
		{map[string]string{"log.roll.jitter.hours": "1"}, func(b *Broker) int64 { return b.LogRollJitterMs }, hour},
		{map[string]string{"log.roll.jitter.hours": "1", "log.roll.jitter.ms": "7"}, func(b *Broker) int64 { return b.LogRollJitterMs }, 7},
		{map[string]string{"log.flush.scheduler.interval.ms": "3000"}, func(b *Broker) int64 { return b.LogFlushIntervalMs }, 3000},
		{map[string]string{"log.flush.scheduler.interval.ms": "3000", "log.flush.interval.ms": "1000"}, func(b *Broker) int64 { return b.LogFlushIntervalMs }, 1000},
		{map[string]string{"broker.id": "7"}, func(b *Broker) int64 { return int64(b.NodeID) }, 7},
		{map[string]string{"node.id": "7", "broker.id": "7"}, func(b *Broker) int64 { return int64(b.NodeID) }, 7},
	}
	for _, tt := range tests {
		if got := tt.field(mustParse(t, tt.props)); got != tt.want {
			t.Errorf("%v: got %d, want %d", tt.props, got, tt.want)
		}
	}
}

func retention(b *Broker) int64 { return b.LogRetentionMs }

func TestLogDirs(t *testing.T) {
	b := mustParse(t, map[string]string{"log.dir": "/a", "log.dirs": " /b , /c "})
	if !slices.Equal(b.LogDirs, []string{"/b", "/c"}) || b.MetadataLogDir != "/b" {
		t.Errorf("log dirs %v metadata %q", b.LogDirs, b.MetadataLogDir)
	}
	b = mustParse(t, map[string]string{"log.dir": "/a", "metadata.log.dir": "/m/"})
	if !slices.Equal(b.LogDirs, []string{"/a"}) || b.MetadataLogDir != "/m/" {
		t.Errorf("log dirs %v metadata %q", b.LogDirs, b.MetadataLogDir)
	}
}

func TestListeners(t *testing.T) {
	b := mustParse(t, map[string]string{
		"listeners":                      "PLAINTEXT://0.0.0.0:9092,internal://[::1]:9092,CONTROLLER://:9093,EPHEMERAL://127.0.0.1:0",
		"advertised.listeners":           "PLAINTEXT://kafka.example:9092,INTERNAL://:19092",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,EPHEMERAL:PLAINTEXT",
		"controller.listener.names":      "controller",
		"inter.broker.listener.name":     "internal",
	})
	wantListeners := []Listener{{"PLAINTEXT", "0.0.0.0", 9092}, {"INTERNAL", "::1", 9092}, {"CONTROLLER", "", 9093}, {"EPHEMERAL", "127.0.0.1", 0}}
	if !slices.Equal(b.Listeners, wantListeners) {
		t.Errorf("listeners %v", b.Listeners)
	}
	wantAdv := []Listener{{"PLAINTEXT", "kafka.example", 9092}, {"INTERNAL", localHostname(), 19092}}
	if !slices.Equal(b.AdvertisedListeners, wantAdv) {
		t.Errorf("advertised %v, want %v", b.AdvertisedListeners, wantAdv)
	}
	if want := []Listener{{"CONTROLLER", localHostname(), 9093}}; !slices.Equal(b.AdvertisedControllerListeners, want) {
		t.Errorf("controller %v, want %v", b.AdvertisedControllerListeners, want)
	}
	if b.InterBrokerListenerName != "INTERNAL" || !slices.Equal(b.ControllerListenerNames, []string{"CONTROLLER"}) {
		t.Errorf("inter-broker %q controller names %v", b.InterBrokerListenerName, b.ControllerListenerNames)
	}
	if got := b.Listeners[1].String(); got != "INTERNAL://[::1]:9092" {
		t.Errorf("String() = %q", got)
	}
	if got := b.Listeners[1].Addr(); got != "[::1]:9092" {
		t.Errorf("Addr() = %q", got)
	}
	// Two listeners on one port are allowed for one IPv4 and one IPv6 address.
	mustParse(t, map[string]string{
		"listeners":                      "PLAINTEXT://127.0.0.1:9092,V6://[::1]:9092",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,V6:PLAINTEXT",
	})
}

func TestConnectPassthrough(t *testing.T) {
	b := mustParse(t, map[string]string{
		"connect.rest.port":          "8083",
		"connect.group.id":           "runnel-connect",
		"connect.key.converter":      "org.apache.kafka.connect.json.JsonConverter",
		"connect.anything.goes.here": "x",
		"num.partitions":             "3",
	})
	want := map[string]string{"rest.port": "8083", "group.id": "runnel-connect",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "anything.goes.here": "x"}
	if !maps.Equal(b.Connect, want) {
		t.Errorf("Connect = %v, want %v", b.Connect, want)
	}
	for _, e := range b.Describe() {
		if strings.HasPrefix(e.Name, "connect.") {
			t.Errorf("Describe lists %s", e.Name)
		}
	}
}

func TestPerListenerAndPluginKeys(t *testing.T) {
	mustParse(t, map[string]string{
		"listener.name.plaintext.max.connections":                                 "100",
		"listener.name.sasl_ssl.plain.sasl.jaas.config":                           "secret",
		"listener.name.sasl_ssl.scram-sha-256.sasl.server.callback.handler.class": "x.Y",
		"rsm.config.bucket":                 "b",
		"rlmm.config.remote.log.metadata.x": "y",
	})
	mustParse(t, map[string]string{"remote.log.storage.manager.impl.prefix": "tier.", "tier.anything": "1"})
}

// TestParseBrokerErrors checks that every class of error names the key and
// the value and says what was expected.
func TestParseBrokerErrors(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		class error
		key   string
		want  []string // substrings of the message
	}{
		{"unknown key", map[string]string{"no.such.key": "1"}, ErrUnknown, "no.such.key", []string{`"no.such.key"`}},
		{"misspelt key", map[string]string{"log.retention.hour": "1"}, ErrUnknown, "log.retention.hour", []string{"did you mean log.retention.hours"}},
		{"topic key at broker level", map[string]string{"retention.ms": "1"}, ErrUnknown, "retention.ms", []string{"topic-level", "log.retention.ms"}},
		{"zookeeper", map[string]string{"zookeeper.connect": "localhost:2181"}, ErrUnknown, "zookeeper.connect", []string{"KRaft"}},
		{"unknown per-listener key", map[string]string{"listener.name.x.bogus": "1"}, ErrUnknown, "listener.name.x.bogus", nil},
		{"not an int", map[string]string{"num.partitions": "abc"}, ErrInvalid, "num.partitions", []string{`"abc"`, "INT"}},
		{"int overflow", map[string]string{"num.partitions": "2147483648"}, ErrInvalid, "num.partitions", []string{"INT"}},
		{"not a long", map[string]string{"log.retention.ms": "7d"}, ErrInvalid, "log.retention.ms", []string{`"7d"`, "LONG"}},
		{"not a short", map[string]string{"offsets.topic.replication.factor": "40000"}, ErrInvalid, "offsets.topic.replication.factor", []string{"SHORT"}},
		{"not a boolean", map[string]string{"auto.create.topics.enable": "yes"}, ErrInvalid, "auto.create.topics.enable", []string{`"yes"`, "true or false"}},
		{"not a double", map[string]string{"log.cleaner.min.cleanable.ratio": "half"}, ErrInvalid, "log.cleaner.min.cleanable.ratio", []string{"DOUBLE"}},
		{"below range", map[string]string{"num.partitions": "0"}, ErrInvalid, "num.partitions", []string{`"0"`, "at least 1"}},
		{"above range", map[string]string{"log.cleaner.min.cleanable.ratio": "1.5"}, ErrInvalid, "log.cleaner.min.cleanable.ratio", []string{"between 0.0 and 1.0"}},
		{"segment below 1 MiB", map[string]string{"log.segment.bytes": "1024"}, ErrInvalid, "log.segment.bytes", []string{"at least 1048576"}},
		{"enum", map[string]string{"log.message.timestamp.type": "createtime"}, ErrInvalid, "log.message.timestamp.type", []string{"CreateTime, LogAppendTime"}},
		{"list enum", map[string]string{"log.cleanup.policy": "delete,compress"}, ErrInvalid, "log.cleanup.policy", []string{"compact, delete"}},
		{"per-listener value", map[string]string{"listener.name.plaintext.max.connections": "many"}, ErrInvalid, "listener.name.plaintext.max.connections", []string{"INT"}},
		{"zero retention", map[string]string{"log.retention.ms": "0"}, ErrInvalid, "log.retention.ms", []string{"-1"}},
		{"zero retention from hours", map[string]string{"log.retention.hours": "0"}, ErrInvalid, "log.retention.hours", nil},
		{"node.id and broker.id differ", map[string]string{"node.id": "1", "broker.id": "2"}, ErrInvalid, "broker.id", []string{"node.id"}},
		{"SSL listener", map[string]string{"listeners": "SSL://:9093"}, ErrInvalid, "listeners", []string{"SSL", "only PLAINTEXT"}},
		{"SASL via map", map[string]string{"listeners": "CLIENT://:9093,PLAINTEXT://:9092", "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,PLAINTEXT:PLAINTEXT"}, ErrInvalid, "listeners", []string{"CLIENT", "SASL_PLAINTEXT"}},
		{"listener without protocol", map[string]string{"listeners": "CLIENT://:9093"}, ErrInvalid, "listeners", []string{"CLIENT", "listener.security.protocol.map"}},
		{"malformed listener", map[string]string{"listeners": "PLAINTEXT:9092"}, ErrInvalid, "listeners", []string{"NAME://host:port"}},
		{"port out of range", map[string]string{"listeners": "PLAINTEXT://:70000"}, ErrInvalid, "listeners", []string{"65535"}},
		{"duplicate ports", map[string]string{"listeners": "PLAINTEXT://:9092,OTHER://:9092", "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT"}, ErrInvalid, "listeners", []string{"port 9092"}},
		{"duplicate names", map[string]string{"listeners": "PLAINTEXT://:9092,plaintext://:9093"}, ErrInvalid, "listeners", []string{"twice"}},
		{"advertised unknown listener", map[string]string{"advertised.listeners": "EXTERNAL://h:9092", "listener.security.protocol.map": "EXTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT"}, ErrInvalid, "advertised.listeners", []string{"EXTERNAL", "not in listeners"}},
		{"advertised 0.0.0.0", map[string]string{"advertised.listeners": "PLAINTEXT://0.0.0.0:9092"}, ErrInvalid, "advertised.listeners", []string{"0.0.0.0"}},
		{"listening on 0.0.0.0 without advertised", map[string]string{"listeners": "PLAINTEXT://0.0.0.0:9092"}, ErrInvalid, "listeners", []string{"advertised.listeners"}},
		{"bad protocol map", map[string]string{"listener.security.protocol.map": "PLAINTEXT:TLS"}, ErrInvalid, "listener.security.protocol.map", []string{"PLAINTEXT:TLS"}},
		{"inter-broker listener not advertised", map[string]string{"inter.broker.listener.name": "OTHER", "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT"}, ErrInvalid, "inter.broker.listener.name", []string{"OTHER"}},
		{"both inter-broker settings", map[string]string{"inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"}, ErrInvalid, "inter.broker.listener.name", []string{"only one"}},
		{"empty roles", map[string]string{"process.roles": ""}, ErrInvalid, "process.roles", []string{"KRaft"}},
		{"unknown role", map[string]string{"process.roles": "broker,zookeeper"}, ErrInvalid, "process.roles", []string{"broker, controller"}},
		{"duplicate role", map[string]string{"process.roles": "broker,broker"}, ErrInvalid, "process.roles", []string{"twice"}},
		{"broker-only without quorum", map[string]string{"process.roles": "broker"}, ErrInvalid, "controller.quorum.bootstrap.servers", nil},
		{"broker-only without controller listener name", map[string]string{"process.roles": "broker", "controller.quorum.bootstrap.servers": "c:9093"}, ErrInvalid, "controller.listener.names", nil},
		{"broker-only voter", map[string]string{"process.roles": "broker", "controller.quorum.voters": "1@c:9093", "controller.listener.names": "CONTROLLER"}, ErrInvalid, "controller.quorum.voters", []string{"must not be a voter"}},
		{"controller not a voter", map[string]string{"node.id": "4", "controller.quorum.voters": "1@c:9093", "controller.listener.names": "CONTROLLER", "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"}, ErrInvalid, "controller.quorum.voters", []string{"node 4"}},
		{"controller listener missing", map[string]string{"controller.listener.names": "CONTROLLER"}, ErrInvalid, "controller.listener.names", []string{"CONTROLLER", "listeners"}},
		{"controller-only with a broker listener", map[string]string{"process.roles": "controller", "controller.listener.names": "CONTROLLER", "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"}, ErrInvalid, "listeners", []string{"PLAINTEXT"}},
		{"malformed voters", map[string]string{"controller.quorum.voters": "one@c:9093"}, ErrInvalid, "controller.quorum.voters", []string{"id@host:port"}},
		{"control plane listener", map[string]string{"control.plane.listener.name": "CONTROLLER"}, ErrInvalid, "control.plane.listener.name", []string{"KRaft"}},
		{"authorizer", map[string]string{"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"}, ErrInvalid, "authorizer.class.name", []string{"StandardAuthorizer", "no authorizer"}},
		{"tiered storage", map[string]string{"remote.log.storage.system.enable": "true"}, ErrInvalid, "remote.log.storage.system.enable", []string{"tiered"}},
		{"classic protocol disabled", map[string]string{"group.coordinator.rebalance.protocols": "consumer"}, ErrInvalid, "group.coordinator.rebalance.protocols", []string{"classic"}},
		{"queued bytes below request size", map[string]string{"queued.max.request.bytes": "1000"}, ErrInvalid, "queued.max.request.bytes", []string{"socket.request.max.bytes"}},
		{"fetch wait above lag", map[string]string{"replica.fetch.wait.max.ms": "40000", "replica.socket.timeout.ms": "50000"}, ErrInvalid, "replica.fetch.wait.max.ms", []string{"replica.lag.time.max.ms"}},
		{"session timeouts out of order", map[string]string{"group.consumer.session.timeout.ms": "90000"}, ErrInvalid, "group.consumer.session.timeout.ms", []string{"group.consumer.max.session.timeout.ms"}},
		{"dedupe buffer too small", map[string]string{"log.cleaner.dedupe.buffer.size": "1000000"}, ErrInvalid, "log.cleaner.dedupe.buffer.size", []string{"1 MiB"}},
		{"duplicate log dirs", map[string]string{"log.dirs": "/a,/a/"}, ErrInvalid, "log.dirs", []string{"twice"}},
		{"no log dirs", map[string]string{"log.dirs": " , "}, ErrInvalid, "log.dirs", []string{"at least one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBroker(tt.props)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("error %v does not wrap %v", err, tt.class)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("error %v: key %q, want %q", err, ce.Key, tt.key)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.key) {
				t.Errorf("message %q does not name %s", msg, tt.key)
			}
			if v, ok := tt.props[tt.key]; ok && v != "" && tt.class == ErrInvalid && !strings.Contains(msg, v) {
				t.Errorf("message %q does not quote the value %q", msg, v)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestErrorHidesSecrets(t *testing.T) {
	err := invalid("listener.name.x.plain.sasl.jaas.config", "password=hunter2", "because")
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message %q shows a secret", err)
	}
	err = invalid("ssl.keystore.password", "hunter2", "because")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "ssl.keystore.password") {
		t.Errorf("message %q", err)
	}
}

func TestValueSyntax(t *testing.T) {
	b := mustParse(t, map[string]string{
		"auto.create.topics.enable":         " FALSE ",
		"num.partitions":                    " +12 ",
		"log.cleaner.io.buffer.load.factor": "0.75d",
		"log.cleanup.policy":                " compact , delete ",
		"log.retention.bytes":               "-1",
		"group.consumer.migration.policy":   "UPGRADE",
	})
	if b.AutoCreateTopicsEnable || b.NumPartitions != 12 || b.LogCleanerIOBufferLoadFactor != 0.75 ||
		!slices.Equal(b.LogCleanupPolicy, []string{"compact", "delete"}) {
		t.Errorf("parsed %v %d %v %q", b.AutoCreateTopicsEnable, b.NumPartitions, b.LogCleanerIOBufferLoadFactor, b.LogCleanupPolicy)
	}
	for _, bad := range []string{"NaN", "Infinity", "1e400", ""} {
		if _, err := ParseBroker(map[string]string{"log.cleaner.io.buffer.load.factor": bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q accepted as a DOUBLE: %v", bad, err)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	tests := map[float64]string{
		0: "0.0", 0.5: "0.5", 1: "1.0", 0.001: "0.001", 0.0001: "1.0E-4", 1234567: "1234567.0",
		1e7: "1.0E7", 1.7976931348623157e308: "1.7976931348623157E308", -2.5e-5: "-2.5E-5", 2147483647: "2.147483647E9",
	}
	for f, want := range tests {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

// FuzzParseBroker sets one known key (picked by index, so that every
// validator is reached) or an arbitrary key to an arbitrary value.
// ParseBroker must not panic, a failure must be an *Error naming a key, and
// a success must describe every configuration.
func FuzzParseBroker(f *testing.F) {
	keys := append(brokerNames(), "listener.name.x.sasl.jaas.config", "listener.name.x.max.connections", "connect.x")
	index := func(k string) uint16 { return uint16(slices.Index(keys, k)) }
	f.Add(index("listeners"), "", "PLAINTEXT://[::1]:0,X://h:1")
	f.Add(index("controller.quorum.voters"), "", "1@[::1]:9093,2@h:1")
	f.Add(index("advertised.listeners"), "", "PLAINTEXT://:0")
	f.Add(index("listener.security.protocol.map"), "", "plaintext:plaintext,X:SSL")
	f.Add(index("log.retention.minutes"), "", "-2147483648")
	f.Add(index("max.connections.per.ip.overrides"), "", "[::1]:5,h:0")
	f.Add(index("log.cleaner.min.cleanable.ratio"), "", "0x1p-1")
	f.Add(uint16(0), "zookeeper.connect", "h:2181")
	f.Fuzz(func(t *testing.T, pick uint16, key, value string) {
		if key == "" {
			key = keys[int(pick)%len(keys)]
		}
		b, err := ParseBroker(map[string]string{key: value})
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("ParseBroker(%q=%q): %v", key, value, err)
			}
			return
		}
		if len(b.Describe()) < len(brokerNames()) {
			t.Fatal("Describe lost entries")
		}
	})
}
