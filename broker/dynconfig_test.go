package broker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// described is one config as DescribeConfigs reported it.
type described struct {
	value  string
	source kmsg.ConfigSource
}

func describedConfig(t *testing.T, rcs kadm.ResourceConfigs, err error, key string) (described, []kadm.ConfigSynonym) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe: %+v", rcs)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == key {
			return described{c.MaybeValue(), c.Source}, c.Synonyms
		}
	}
	t.Fatalf("%s is not described", key)
	return described{}, nil
}

func topicRetention(t *testing.T, adm *kadm.Client, topic string) (described, []kadm.ConfigSynonym) {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(t.Context(), topic)
	return describedConfig(t, rcs, err, "retention.ms")
}

func alterBroker(t *testing.T, adm *kadm.Client, op kadm.IncrementalOp, key, value string, broker ...int32) error {
	t.Helper()
	ac := kadm.AlterConfig{Op: op, Name: key}
	if op != kadm.DeleteConfig {
		ac.Value = &value
	}
	resps, err := adm.AlterBrokerConfigs(t.Context(), []kadm.AlterConfig{ac}, broker...)
	if err != nil {
		t.Fatal(err)
	}
	if len(resps) != 1 {
		t.Fatalf("%d responses", len(resps))
	}
	if resps[0].Err != nil {
		return fmt.Errorf("%w: %s", resps[0].Err, resps[0].ErrMessage)
	}
	return nil
}

// TestDynamicBrokerConfigs changes log.retention.ms as kafka-configs.sh
// --entity-type brokers does, at the cluster default and for the broker,
// and checks that DescribeConfigs, the partition logs and a restarted node
// all follow: the broker's value beats the default, which beats the
// properties file, and a topic's own override beats them all.
func TestDynamicBrokerConfigs(t *testing.T) {
	srv := brokertest.Start(t, "log.retention.hours=24")
	adm := kadm.NewClient(newClient(t, srv.Addr))
	createTopic(t, srv.Addr, "plain", 2, nil)
	createTopic(t, srv.Addr, "tuned", 1, map[string]*string{"retention.ms": new("1000")})
	const day, hour, minute = "86400000", "3600000", "60000"

	// Readers of the configuration run throughout, for the race detector.
	ctx, cancel := context.WithCancel(t.Context())
	var readers sync.WaitGroup
	readers.Go(func() {
		for ctx.Err() == nil {
			adm.DescribeTopicConfigs(ctx, "plain")
			adm.DescribeBrokerConfigs(ctx, 1)
		}
	})
	defer readers.Wait()
	defer cancel()

	steps := []struct {
		name    string
		change  func() error // nil: restart the node
		plain   described    // retention.ms of the topic without override
		logMs   int64        // what the logs of plain hold
		broker  described    // log.retention.ms of broker 1
		dflt    string       // log.retention.ms of the cluster default; "" when unset
		created string       // a topic created at this step
	}{
		{"static", func() error { return nil },
			described{day, kmsg.ConfigSourceStaticBrokerConfig}, 86_400_000, described{"", kmsg.ConfigSourceDefaultConfig}, "", ""},
		{"cluster default", func() error { return alterBroker(t, adm, kadm.SetConfig, "log.retention.ms", hour) },
			described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, 3_600_000, described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, hour, "later"},
		{"broker beats default", func() error { return alterBroker(t, adm, kadm.SetConfig, "log.retention.ms", minute, 1) },
			described{minute, kmsg.ConfigSourceDynamicBrokerConfig}, 60_000, described{minute, kmsg.ConfigSourceDynamicBrokerConfig}, hour, ""},
		{"broker value deleted", func() error { return alterBroker(t, adm, kadm.DeleteConfig, "log.retention.ms", "", 1) },
			described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, 3_600_000, described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, hour, ""},
		{"restart", nil,
			described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, 3_600_000, described{hour, kmsg.ConfigSourceDynamicDefaultBrokerConfig}, hour, ""},
		{"default deleted", func() error { return alterBroker(t, adm, kadm.DeleteConfig, "log.retention.ms", "") },
			described{day, kmsg.ConfigSourceStaticBrokerConfig}, 86_400_000, described{"", kmsg.ConfigSourceDefaultConfig}, "", ""},
	}
	partitions := map[string]int32{"plain": 2, "later": 1}
	var created []string
	for _, s := range steps {
		if s.change == nil {
			cancel()
			readers.Wait()
			srv.Restart()
			adm = kadm.NewClient(newClient(t, srv.Addr))
		} else if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.created != "" {
			createTopic(t, srv.Addr, s.created, 1, nil)
			created = append(created, s.created)
		}
		for _, topic := range append([]string{"plain"}, created...) {
			got, syns := topicRetention(t, adm, topic)
			if got != s.plain {
				t.Errorf("%s: %s retention.ms = %+v, want %+v", s.name, topic, got, s.plain)
			}
			if len(syns) == 0 || syns[0].Source != s.plain.source || syns[len(syns)-1].Key != "log.retention.hours" ||
				syns[len(syns)-1].Source != kmsg.ConfigSourceDefaultConfig {
				t.Errorf("%s: %s synonyms %+v", s.name, topic, syns)
			}
			for p := range partitions[topic] {
				l, err := srv.Broker().PartitionLog(topic, p)
				if err != nil {
					t.Fatal(err)
				}
				if ms := l.Config().RetentionMs; ms != s.logMs {
					t.Errorf("%s: %s-%d log retention %d, want %d", s.name, topic, p, ms, s.logMs)
				}
			}
		}
		// The topic's own override is untouched by any broker setting.
		if got, _ := topicRetention(t, adm, "tuned"); got != (described{"1000", kmsg.ConfigSourceDynamicTopicConfig}) {
			t.Errorf("%s: tuned retention.ms = %+v", s.name, got)
		}
		if l, err := srv.Broker().PartitionLog("tuned", 0); err != nil || l.Config().RetentionMs != 1000 {
			t.Errorf("%s: tuned log retention %v %v, want 1000", s.name, l.Config().RetentionMs, err)
		}

		rcs, err := adm.DescribeBrokerConfigs(t.Context(), 1)
		if got, _ := describedConfig(t, rcs, err, "log.retention.ms"); got != s.broker {
			t.Errorf("%s: broker 1 log.retention.ms = %+v, want %+v", s.name, got, s.broker)
		}
		rcs, err = adm.DescribeBrokerConfigs(t.Context())
		if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
			t.Fatalf("%s: describe cluster default: %v %+v", s.name, err, rcs)
		}
		var dflt string
		for _, c := range rcs[0].Configs {
			if c.Key == "log.retention.ms" && c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig {
				dflt = c.MaybeValue()
			}
		}
		if dflt != s.dflt || (s.dflt == "") != (len(rcs[0].Configs) == 0) {
			t.Errorf("%s: cluster default lists %+v, want log.retention.ms=%q only", s.name, rcs[0].Configs, s.dflt)
		}
	}
}

func TestDynamicBrokerConfigErrors(t *testing.T) {
	srv := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, srv.Addr))
	tests := []struct {
		name, key, value string
		broker           []int32
		mentions         []string
	}{
		{"node.id per broker", "node.id", "7", []int32{1}, []string{"read-only"}},
		{"log.dirs as default", "log.dirs", "/tmp/elsewhere", nil, []string{"read-only"}},
		{"hours synonym", "log.retention.hours", "1", nil, []string{"read-only"}},
		{"bad value", "log.retention.ms", "an hour", nil, []string{`"an hour"`, "LONG"}},
		{"zero retention", "log.retention.ms", "0", []int32{1}, []string{"at least 1 ms"}},
		{"unknown", "log.retention.msec", "1", nil, nil},
		{"keystore without listener", "ssl.keystore.location", "/k.jks", []int32{1}, []string{"listener.name.<listener>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := alterBroker(t, adm, kadm.SetConfig, tc.key, tc.value, tc.broker...)
			if err == nil || !strings.Contains(err.Error(), kerr.InvalidConfig.Message) {
				t.Fatalf("got %v, want INVALID_CONFIG", err)
			}
			for _, w := range append(tc.mentions, tc.key) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v does not mention %q", err, w)
				}
			}
		})
	}
	// Nothing was stored.
	rcs, err := adm.DescribeBrokerConfigs(t.Context())
	if err != nil || len(rcs) != 1 || len(rcs[0].Configs) != 0 {
		t.Errorf("cluster default after refused changes: %v %+v", err, rcs)
	}
	rcs, err = adm.DescribeBrokerConfigs(t.Context(), 1)
	if err != nil || len(rcs) != 1 {
		t.Fatal(err)
	}
	for _, c := range rcs[0].Configs {
		if c.Source == kmsg.ConfigSourceDynamicBrokerConfig || c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			t.Errorf("refused change stored: %s=%s", c.Key, c.MaybeValue())
		}
	}
}
