package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestValidateDynamic(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value *string
		class error    // nil: accepted
		want  []string // words the message must contain besides the key
	}{
		{"cluster retention", "log.retention.ms", ptr("3600000"), nil, nil},
		{"unlimited retention", "log.retention.ms", ptr("-1"), nil, nil},
		{"delete", "log.retention.ms", nil, nil, nil},
		{"list", "log.cleanup.policy", ptr("compact, delete"), nil, nil},
		{"per-listener limit", "listener.name.plaintext.max.connections", ptr("10"), nil, nil},
		{"per-listener keystore", "listener.name.plaintext.ssl.keystore.password", ptr("secret"), nil, nil},
		{"listeners", "listeners", ptr("PLAINTEXT://127.0.0.1:9093"), nil, nil},
		{"delete a read-only key", "node.id", nil, nil, nil},

		{"node.id", "node.id", ptr("5"), ErrInvalid, []string{"read-only", `"5"`}},
		{"log.dirs", "log.dirs", ptr("/tmp/x"), ErrInvalid, []string{"read-only"}},
		{"hours synonym", "log.retention.hours", ptr("1"), ErrInvalid, []string{"read-only"}},
		{"keystore without listener", "ssl.keystore.location", ptr("/k.jks"), ErrInvalid, []string{"read-only", "listener.name.<listener>.ssl.keystore.location"}},
		{"typo", "log.retention.msx", ptr("1"), ErrUnknown, []string{"did you mean log.retention.ms?"}},
		{"topic key", "retention.ms", ptr("1"), ErrUnknown, []string{"log.retention.ms"}},
		{"unknown delete", "no.such.config", nil, ErrUnknown, nil},
		{"unknown listener base", "listener.name.plaintext.no.such", ptr("1"), ErrUnknown, nil},
		{"not a number", "log.retention.ms", ptr("an hour"), ErrInvalid, []string{`"an hour"`, "LONG"}},
		{"zero retention", "log.retention.ms", ptr("0"), ErrInvalid, []string{"-1 (unlimited) or at least 1 ms"}},
		{"zero roll", "log.roll.ms", ptr("0"), ErrInvalid, []string{"at least 1 ms"}},
		{"negative jitter", "log.roll.jitter.ms", ptr("-1"), ErrInvalid, []string{"at least 0"}},
		{"range", "min.insync.replicas", ptr("0"), ErrInvalid, []string{"at least 1"}},
		{"enum", "log.cleanup.policy", ptr("shred"), ErrInvalid, []string{"one of compact, delete"}},
		{"per-listener range", "listener.name.plaintext.max.connections", ptr("-1"), ErrInvalid, []string{"at least 0"}},
		{"bad listeners", "listeners", ptr("localhost:9092"), ErrInvalid, []string{"NAME://host:port"}},
		{"wildcard advertised", "advertised.listeners", ptr("PLAINTEXT://0.0.0.0:9092"), ErrInvalid, []string{"non-routable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateDynamic(tt.key, tt.value)
			if tt.class == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.class) {
				t.Fatalf("got %v, want %v", err, tt.class)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("error %v does not name %s", err, tt.key)
			}
			for _, w := range append(tt.want, tt.key) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err, w)
				}
			}
		})
	}
	// Every config Describe calls writable can be set dynamically, the
	// keystore settings per listener; every read-only one cannot.
	for _, e := range mustParse(t, nil).Describe() {
		v := e.Value
		if e.Null {
			v = "x"
		}
		key := e.Name
		if slices.Contains(listenerOnlyConfigs, key) {
			key = "listener.name.plaintext." + key
		}
		err := ValidateDynamic(key, &v)
		switch {
		case e.ReadOnly && !errors.Is(err, ErrInvalid):
			t.Errorf("%s is read-only but ValidateDynamic gave %v", key, err)
		case !e.ReadOnly && errors.Is(err, ErrInvalid) && strings.Contains(err.Error(), "read-only"):
			t.Errorf("%s is dynamic but ValidateDynamic gave %v", key, err)
		}
	}
}

// entrySummary is what a test compares of an Entry.
type entrySummary struct {
	value    string
	source   Source
	synonyms []Synonym
}

func checkEntry(t *testing.T, what string, e Entry, want entrySummary) {
	t.Helper()
	if e.Value != want.value || e.Source != want.source || !slices.Equal(e.Synonyms, want.synonyms) {
		t.Errorf("%s:\n got %q %v %+v\nwant %q %v %+v", what, e.Value, e.Source, e.Synonyms, want.value, want.source, want.synonyms)
	}
}

func TestWithDynamicLayers(t *testing.T) {
	static := mustParse(t, map[string]string{"log.retention.hours": "24", "message.max.bytes": "2000000"})
	const day, hour = int64(86_400_000), "3600000"
	staticHours := []Synonym{syn("log.retention.hours", "24", SourceStaticBroker), syn("log.retention.hours", "168", SourceDefault)}

	tests := []struct {
		name           string
		clusterDefault map[string]string
		perBroker      map[string]string
		overrides      map[string]string // of the topic described
		retentionMs    int64             // Broker.LogRetentionMs and the topic's resolved retention.ms
		brokerEntry    entrySummary      // Describe's log.retention.ms
		topicEntry     entrySummary      // DescribeTopic's retention.ms
	}{
		{"static only", nil, nil, nil, day,
			entrySummary{"", SourceDefault, nil},
			entrySummary{"86400000", SourceStaticBroker, staticHours}},
		{"cluster default", map[string]string{"log.retention.ms": hour}, nil, nil, 3_600_000,
			entrySummary{hour, SourceDynamicDefaultBroker, append([]Synonym{syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)},
			entrySummary{hour, SourceDynamicDefaultBroker, append([]Synonym{syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)}},
		{"per broker beats default", map[string]string{"log.retention.ms": hour}, map[string]string{"log.retention.ms": "60000"}, nil, 60_000,
			entrySummary{"60000", SourceDynamicBroker, append([]Synonym{syn("log.retention.ms", "60000", SourceDynamicBroker),
				syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)},
			entrySummary{"60000", SourceDynamicBroker, append([]Synonym{syn("log.retention.ms", "60000", SourceDynamicBroker),
				syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)}},
		{"per broker alone", nil, map[string]string{"log.retention.ms": "-5"}, nil, -1,
			entrySummary{"-5", SourceDynamicBroker, append([]Synonym{syn("log.retention.ms", "-5", SourceDynamicBroker)}, staticHours...)},
			entrySummary{"-1", SourceDynamicBroker, append([]Synonym{syn("log.retention.ms", "-5", SourceDynamicBroker)}, staticHours...)}},
		{"topic override beats both", map[string]string{"log.retention.ms": hour}, map[string]string{"log.retention.ms": "60000"},
			map[string]string{"retention.ms": "1000"}, 60_000,
			entrySummary{"60000", SourceDynamicBroker, append([]Synonym{syn("log.retention.ms", "60000", SourceDynamicBroker),
				syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)},
			entrySummary{"1000", SourceDynamicTopic, append([]Synonym{syn("retention.ms", "1000", SourceDynamicTopic),
				syn("log.retention.ms", "60000", SourceDynamicBroker), syn("log.retention.ms", hour, SourceDynamicDefaultBroker)}, staticHours...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := static.WithDynamic(tt.clusterDefault, tt.perBroker)
			if err != nil {
				t.Fatal(err)
			}
			if b.LogRetentionMs != tt.retentionMs {
				t.Errorf("LogRetentionMs = %d, want %d", b.LogRetentionMs, tt.retentionMs)
			}
			checkEntry(t, "broker log.retention.ms", find(t, b.Describe(), "log.retention.ms"), tt.brokerEntry)
			checkEntry(t, "topic retention.ms", find(t, DescribeTopic(b, tt.overrides), "retention.ms"), tt.topicEntry)
			tp, err := ResolveTopic(b, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.retentionMs
			if tt.overrides["retention.ms"] != "" {
				want = 1000
			}
			if tp.RetentionMs != want {
				t.Errorf("resolved retention.ms = %d, want %d", tp.RetentionMs, want)
			}
			// log.retention.hours is described on its own synonyms: the
			// dynamic log.retention.ms is more specific and not listed.
			checkEntry(t, "broker log.retention.hours", find(t, b.Describe(), "log.retention.hours"),
				entrySummary{"24", SourceStaticBroker, staticHours})
			// Static settings keep their values and sources.
			if b.MessageMaxBytes != 2000000 || find(t, b.Describe(), "message.max.bytes").Source != SourceStaticBroker {
				t.Errorf("message.max.bytes lost its static value: %d", b.MessageMaxBytes)
			}
		})
	}

	// The static configuration is not changed, and new layers replace the
	// old ones rather than adding to them.
	dyn, err := static.WithDynamic(map[string]string{"log.retention.ms": hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if static.LogRetentionMs != day || find(t, static.Describe(), "log.retention.ms").Source != SourceDefault {
		t.Errorf("WithDynamic changed its receiver: retention %d", static.LogRetentionMs)
	}
	again, err := dyn.WithDynamic(nil, map[string]string{"min.insync.replicas": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if again.LogRetentionMs != day || again.MinInsyncReplicas != 2 {
		t.Errorf("relayered: retention %d min ISR %d, want %d and 2", again.LogRetentionMs, again.MinInsyncReplicas, day)
	}
	if tp, _ := ResolveTopic(again, nil); tp.MinInsyncReplicas != 2 {
		t.Errorf("topic min.insync.replicas = %d, want the dynamic 2", tp.MinInsyncReplicas)
	}
	back, err := dyn.WithDynamic(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if back.LogRetentionMs != day || len(back.DescribeDefaults()) != 0 {
		t.Errorf("without dynamic configs: retention %d, defaults %v", back.LogRetentionMs, back.DescribeDefaults())
	}
}

func TestWithDynamicSynonymsAndListeners(t *testing.T) {
	static := mustParse(t, map[string]string{"log.roll.hours": "2", "listener.name.plaintext.max.connections": "50"})
	b, err := static.WithDynamic(
		map[string]string{"log.roll.ms": "60000", "max.connections": "1000"},
		map[string]string{"listener.name.plaintext.max.connections": "20", "listener.name.plaintext.ssl.key.password": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if b.LogRollMs != 60000 {
		t.Errorf("LogRollMs = %d, want the dynamic log.roll.ms", b.LogRollMs)
	}
	entries := b.Describe()
	checkEntry(t, "log.roll.ms", find(t, entries, "log.roll.ms"), entrySummary{"60000", SourceDynamicDefaultBroker, []Synonym{
		syn("log.roll.ms", "60000", SourceDynamicDefaultBroker), syn("log.roll.hours", "2", SourceStaticBroker), syn("log.roll.hours", "168", SourceDefault)}})
	checkEntry(t, "segment.ms", find(t, DescribeTopic(b, nil), "segment.ms"), entrySummary{"60000", SourceDynamicDefaultBroker, []Synonym{
		syn("log.roll.ms", "60000", SourceDynamicDefaultBroker), syn("log.roll.hours", "2", SourceStaticBroker), syn("log.roll.hours", "168", SourceDefault)}})
	// A per-listener value lists the base config's values too, level by
	// level as Kafka does.
	checkEntry(t, "listener max.connections", find(t, entries, "listener.name.plaintext.max.connections"), entrySummary{"20", SourceDynamicBroker, []Synonym{
		syn("listener.name.plaintext.max.connections", "20", SourceDynamicBroker),
		syn("max.connections", "1000", SourceDynamicDefaultBroker),
		syn("listener.name.plaintext.max.connections", "50", SourceStaticBroker),
		syn("max.connections", "2147483647", SourceDefault)}})
	pw := find(t, entries, "listener.name.plaintext.ssl.key.password")
	if !pw.Null || !pw.Sensitive || pw.Value != "" || pw.Source != SourceDynamicBroker ||
		len(pw.Synonyms) != 1 || !pw.Synonyms[0].Null || pw.Synonyms[0].Value != "" {
		t.Errorf("a dynamic password is reported: %+v", pw)
	}
}

func TestWithDynamicErrors(t *testing.T) {
	static := mustParse(t, map[string]string{"log.cleaner.max.compaction.lag.ms": "1000"})
	tests := []struct {
		name           string
		clusterDefault map[string]string
		perBroker      map[string]string
		key, origin    string
		class          error
		want           string
	}{
		{"read-only default", map[string]string{"node.id": "2"}, nil, "node.id", "dynamic default broker config", ErrInvalid, "read-only"},
		{"unknown per broker", nil, map[string]string{"log.retention": "1"}, "log.retention", "dynamic config of broker 1", ErrUnknown, ""},
		{"bad value", map[string]string{"log.segment.bytes": "1"}, nil, "log.segment.bytes", "dynamic default broker config", ErrInvalid, "at least 1048576"},
		{"listener setting as default", map[string]string{"listeners": "PLAINTEXT://127.0.0.1:9093"}, nil, "listeners", "dynamic default broker config", ErrInvalid, "only for one broker"},
		{"per-listener setting as default", map[string]string{"listener.name.plaintext.ssl.key.password": "x"}, nil, "listener.name.plaintext.ssl.key.password", "dynamic default broker config", ErrInvalid, "only for one broker"},
		{"conflicts with static", nil, map[string]string{"log.cleaner.min.compaction.lag.ms": "5000"}, "log.cleaner.min.compaction.lag.ms", "dynamic config of broker 1", ErrInvalid, "log.cleaner.max.compaction.lag.ms (1000)"},
		{"listener without protocol", nil, map[string]string{"listeners": "OTHER://127.0.0.1:9093"}, "listeners", "dynamic config of broker 1", ErrInvalid, "listener.security.protocol.map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := static.WithDynamic(tt.clusterDefault, tt.perBroker)
			var ce *Error
			if !errors.Is(err, tt.class) || !errors.As(err, &ce) {
				t.Fatalf("got %v, want %v", err, tt.class)
			}
			if ce.Key != tt.key || ce.Origin != tt.origin || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (key %q origin %q), want key %q origin %q and %q", err, ce.Key, ce.Origin, tt.key, tt.origin, tt.want)
			}
		})
	}
	// A listener setting is fine for one broker.
	if _, err := static.WithDynamic(nil, map[string]string{"listeners": "PLAINTEXT://127.0.0.1:9093"}); err != nil {
		t.Errorf("per-broker listeners rejected: %v", err)
	}
}

func TestDescribeDefaults(t *testing.T) {
	static := mustParse(t, map[string]string{"log.retention.ms": "5000"})
	b, err := static.WithDynamic(
		map[string]string{"log.retention.ms": "3600000", "log.cleanup.policy": "compact, delete", "background.threads": "5"},
		map[string]string{"log.retention.ms": "1000", "num.io.threads": "4"})
	if err != nil {
		t.Fatal(err)
	}
	got := b.DescribeDefaults()
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if want := []string{"background.threads", "log.cleanup.policy", "log.retention.ms"}; !slices.Equal(names, want) {
		t.Fatalf("described %v, want %v", names, want)
	}
	// The default's own value and its synonyms from that level down, as
	// given.
	checkEntry(t, "log.retention.ms", got[2], entrySummary{"3600000", SourceDynamicDefaultBroker, []Synonym{
		syn("log.retention.ms", "3600000", SourceDynamicDefaultBroker), syn("log.retention.ms", "5000", SourceStaticBroker),
		syn("log.retention.hours", "168", SourceDefault)}})
	checkEntry(t, "log.cleanup.policy", got[1], entrySummary{"compact, delete", SourceDynamicDefaultBroker, []Synonym{
		syn("log.cleanup.policy", "compact, delete", SourceDynamicDefaultBroker), syn("log.cleanup.policy", "delete", SourceDefault)}})
	if got[1].ReadOnly || got[1].Type != TypeList || got[1].Doc == "" {
		t.Errorf("log.cleanup.policy: %+v", got[1])
	}
}

// FuzzValidateDynamic sets one broker config, picked by index or
// arbitrary, dynamically. ValidateDynamic must not panic; a failure must
// name the key; and WithDynamic must refuse what ValidateDynamic refuses
// and, when it accepts, report the value as this node's dynamic config.
func FuzzValidateDynamic(f *testing.F) {
	keys := append(brokerNames(), "listener.name.plaintext.max.connections", "listener.name.x.ssl.key.password")
	index := func(k string) uint16 { return uint16(slices.Index(keys, k)) }
	f.Add(index("log.retention.ms"), "", "3600000")
	f.Add(index("log.retention.ms"), "", "0")
	f.Add(index("node.id"), "", "2")
	f.Add(index("listeners"), "", "PLAINTEXT://[::1]:0,X://h:1")
	f.Add(index("advertised.listeners"), "", "PLAINTEXT://:0")
	f.Add(index("log.cleaner.min.cleanable.ratio"), "", "0x1p-1")
	f.Add(uint16(0), "listener.name.plaintext.ssl.keystore.location", "/k.jks")
	f.Add(uint16(0), "zookeeper.connect", "h:2181")
	static := defaultBroker()
	f.Fuzz(func(t *testing.T, pick uint16, key, value string) {
		if key == "" {
			key = keys[int(pick)%len(keys)]
		}
		err := ValidateDynamic(key, &value)
		var ce *Error
		if err != nil && (!errors.As(err, &ce) || ce.Key != key) {
			t.Fatalf("ValidateDynamic(%q, %q): %v does not name the key", key, value, err)
		}
		b, werr := static.WithDynamic(nil, map[string]string{key: value})
		if err != nil {
			if werr == nil {
				t.Fatalf("ValidateDynamic refused %s=%q (%v) but WithDynamic accepted it", key, value, err)
			}
			return
		}
		if werr != nil {
			// Only a conflict with other settings may fail here.
			if !errors.As(werr, &ce) || ce.Key == "" {
				t.Fatalf("WithDynamic(%s=%q): %v does not name a key", key, value, werr)
			}
			return
		}
		for _, e := range b.Describe() {
			if e.Name == key && e.Source != SourceDynamicBroker {
				t.Fatalf("%s is reported from %v, not this node's dynamic config", key, e.Source)
			}
		}
	})
}

// The cluster-wide default refuses listener and security settings that a
// single broker may take, as Kafka does.
func TestValidateDynamicFor(t *testing.T) {
	v := "PLAINTEXT://127.0.0.1:9093"
	if err := ValidateDynamicFor("", "listeners", &v); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "listeners") {
		t.Fatalf("cluster default listeners: %v", err)
	}
	if err := ValidateDynamicFor("1", "listeners", &v); err != nil {
		t.Fatalf("per-broker listeners: %v", err)
	}
	ms := "3600000"
	if err := ValidateDynamicFor("", "log.retention.ms", &ms); err != nil {
		t.Fatalf("cluster default log.retention.ms: %v", err)
	}
	if err := ValidateDynamicFor("", "listeners", nil); err != nil {
		t.Fatalf("deleting is always allowed: %v", err)
	}
}
