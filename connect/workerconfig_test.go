package connect

import (
	"strings"
	"testing"
	"time"
)

func TestParseWorkerConfig(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{
			"key.converter":                "org.apache.kafka.connect.json.JsonConverter",
			"value.converter":              "org.apache.kafka.connect.json.JsonConverter",
			"offset.storage.file.filename": "/tmp/connect.offsets",
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<unset>" {
				delete(m, kv[i])
				continue
			}
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		props   map[string]string
		mode    Mode
		wantErr string // substring naming the key
		check   func(t *testing.T, c WorkerConfig)
	}{
		{name: "defaults", props: base(), check: func(t *testing.T, c WorkerConfig) {
			if c.OffsetFlushInterval != time.Minute || c.OffsetFlushTimeout != 5*time.Second || c.TaskShutdownTimeout != 5*time.Second {
				t.Errorf("timeouts = %v %v %v", c.OffsetFlushInterval, c.OffsetFlushTimeout, c.TaskShutdownTimeout)
			}
			if len(c.BootstrapServers) != 1 || c.BootstrapServers[0] != "localhost:9092" {
				t.Errorf("bootstrap.servers = %v", c.BootstrapServers)
			}
			if len(c.Listeners) != 1 || c.Listeners[0] != "http://127.0.0.1:8083" {
				t.Errorf("listeners = %v", c.Listeners)
			}
			if !c.TopicTrackingEnable || !c.TopicTrackingReset || c.HeaderConverter != "org.apache.kafka.connect.storage.SimpleHeaderConverter" {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "values", props: base("offset.flush.interval.ms", "10000", "bootstrap.servers", "a:1, b:2", "key.converter.schemas.enable", "false",
			"producer.linger.ms", "5", "plugin.path", "/opt/plugins", "listeners", "http://0.0.0.0:9999"), check: func(t *testing.T, c WorkerConfig) {
			if c.OffsetFlushInterval != 10*time.Second || len(c.BootstrapServers) != 2 || c.BootstrapServers[1] != "b:2" {
				t.Errorf("got %+v", c)
			}
			if p := Prefixed(c.Props, "key.converter."); p["schemas.enable"] != "false" || len(p) != 1 {
				t.Errorf("key.converter.* = %v", p)
			}
			if c.AdvertisedURL("0.0.0.0:9999") != "http://0.0.0.0:9999/" {
				t.Errorf("advertised URL = %s", c.AdvertisedURL("0.0.0.0:9999"))
			}
		}},
		{name: "advertised", props: base("rest.advertised.host.name", "worker1", "rest.advertised.port", "8084"), check: func(t *testing.T, c WorkerConfig) {
			if got := c.AdvertisedURL("127.0.0.1:8083"); got != "http://worker1:8084/" {
				t.Errorf("advertised URL = %s", got)
			}
		}},
		{name: "missing key.converter", props: base("key.converter", "<unset>"), wantErr: `"key.converter"`},
		{name: "missing offsets file", props: base("offset.storage.file.filename", "<unset>"), wantErr: "offset.storage.file.filename"},
		{name: "distributed needs group.id", props: base(), mode: ModeDistributed, wantErr: `"group.id"`},
		{name: "bad interval", props: base("offset.flush.interval.ms", "soon"), wantErr: "offset.flush.interval.ms"},
		{name: "bad boolean", props: base("topic.tracking.enable", "yes"), wantErr: "topic.tracking.enable"},
		{name: "bad listener", props: base("listeners", "tcp://x"), wantErr: "listeners"},
		{name: "bad replication", props: base("config.storage.replication.factor", "0"), wantErr: "config.storage.replication.factor"},
		{name: "unknown key", props: base("offset.flush.intervall.ms", "1"), wantErr: "offset.flush.intervall.ms"},
		{name: "distributed", props: base("group.id", "g", "config.storage.topic", "c", "offset.storage.topic", "o", "status.storage.topic", "s"), mode: ModeDistributed,
			check: func(t *testing.T, c WorkerConfig) {
				if c.GroupID != "g" || c.OffsetStoragePartitions != 25 || c.StatusStoragePartitions != 5 || c.SessionTimeout != 10*time.Second || c.ConnectProtocol != "sessioned" {
					t.Errorf("got %+v", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseWorkerConfig(tt.props, tt.mode)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
