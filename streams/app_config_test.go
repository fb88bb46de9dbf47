package streams

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigFromProperties(t *testing.T) {
	base := map[string]string{"application.id": "app", "bootstrap.servers": "h1:9092, h2:9092"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name   string
		props  map[string]string
		badKey string // the key the error must name
		check  func(Config) bool
	}{
		{name: "defaults", props: base, check: func(c Config) bool {
			return c.NumStreamThreads == 1 && c.ProcessingGuarantee == AtLeastOnce && c.CommitInterval == 30*time.Second &&
				c.ReplicationFactor == -1 && len(c.BootstrapServers) == 2 && c.BootstrapServers[1] == "h2:9092"
		}},
		{name: "exactly once commits every 100ms", props: with("processing.guarantee", "exactly_once_v2"), check: func(c Config) bool {
			return c.CommitInterval == 100*time.Millisecond
		}},
		{name: "explicit commit interval", props: with("commit.interval.ms", "250"), check: func(c Config) bool {
			return c.CommitInterval == 250*time.Millisecond
		}},
		{name: "extractor by class name", props: with("default.timestamp.extractor", "org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp"), check: func(c Config) bool {
			return c.TimestampExtractor != nil && c.TimestampExtractor("t", nil, nil, -1, 42) == 42
		}},
		{name: "unknown key", props: with("num.stream.thread", "2"), badKey: "num.stream.thread"},
		{name: "bad threads", props: with("num.stream.threads", "zero"), badKey: "num.stream.threads"},
		{name: "bad guarantee", props: with("processing.guarantee", "exactly_once"), badKey: "processing.guarantee"},
		{name: "bad replication", props: with("replication.factor", "0"), badKey: "replication.factor"},
		{name: "bad server", props: with("application.server", "localhost"), badKey: "application.server"},
		{name: "bad extractor", props: with("default.timestamp.extractor", "com.example.Mine"), badKey: "default.timestamp.extractor"},
		{name: "no application id", props: map[string]string{"bootstrap.servers": "h:1"}, badKey: "application.id"},
		{name: "bad application id", props: with("application.id", "a b"), badKey: "application.id"},
		{name: "no servers", props: map[string]string{"application.id": "a"}, badKey: "bootstrap.servers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromProperties(tc.props)
			if err == nil {
				c, err = c.withDefaults()
			}
			if tc.badKey != "" {
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.badKey) {
					t.Fatalf("error %v does not name %s", err, tc.badKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func FuzzConfigFromProperties(f *testing.F) {
	f.Add("num.stream.threads", "3")
	f.Add("commit.interval.ms", "-1")
	f.Add("application.server", "h:99999")
	f.Add("replication.factor", "-1")
	f.Fuzz(func(t *testing.T, k, v string) {
		c, err := ConfigFromProperties(map[string]string{"application.id": "a", "bootstrap.servers": "h:1", k: v})
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v is not ErrConfig", err)
			}
			return
		}
		if _, err := c.withDefaults(); err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("error %v is not ErrConfig", err)
		}
	})
}
