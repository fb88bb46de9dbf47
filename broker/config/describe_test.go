package config

import (
	"slices"
	"sort"
	"testing"
)

func find(t *testing.T, entries []Entry, name string) Entry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %s", name)
	return Entry{}
}

func syn(name, value string, src Source) Synonym {
	return Synonym{Name: name, Value: value, Source: src}
}

func TestDescribeBroker(t *testing.T) {
	b := mustParse(t, map[string]string{
		"num.partitions":                          "3",
		"log.retention.hours":                     "24",
		"log.cleanup.policy":                      " compact , delete ",
		"ssl.keystore.password":                   "secret",
		"listener.name.plaintext.max.connections": "100",
		"broker.id":                               "5",
	})
	entries := b.Describe()
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	if !sort.StringsAreSorted(names) {
		t.Error("entries are not sorted by name")
	}
	for i := range brokerDefs {
		d := &brokerDefs[i]
		if listed := slices.Contains(names, d.name); listed == (d.flags&internal != 0) {
			t.Errorf("%s: listed %v, internal %v", d.name, listed, d.flags&internal != 0)
		}
	}

	tests := []struct {
		name      string
		value     string
		null      bool
		source    Source
		readOnly  bool
		sensitive bool
		typ       Type
		synonyms  []Synonym
	}{
		{"num.partitions", "3", false, SourceStaticBroker, true, false, TypeInt,
			[]Synonym{syn("num.partitions", "3", SourceStaticBroker), syn("num.partitions", "1", SourceDefault)}},
		{"default.replication.factor", "1", false, SourceDefault, true, false, TypeInt,
			[]Synonym{syn("default.replication.factor", "1", SourceDefault)}},
		// log.retention.ms is unset and has no default: Kafka reports null and,
		// because synonyms before the described name are dropped, none at all.
		{"log.retention.ms", "", true, SourceDefault, false, false, TypeLong, nil},
		{"log.retention.minutes", "", true, SourceDefault, true, false, TypeInt, nil},
		{"log.retention.hours", "24", false, SourceStaticBroker, true, false, TypeInt,
			[]Synonym{syn("log.retention.hours", "24", SourceStaticBroker), syn("log.retention.hours", "168", SourceDefault)}},
		{"log.cleanup.policy", "compact,delete", false, SourceStaticBroker, false, false, TypeList,
			[]Synonym{syn("log.cleanup.policy", " compact , delete ", SourceStaticBroker), syn("log.cleanup.policy", "delete", SourceDefault)}},
		{"ssl.keystore.password", "", true, SourceStaticBroker, false, true, TypePassword,
			[]Synonym{{Name: "ssl.keystore.password", Null: true, Source: SourceStaticBroker}}},
		{"listener.name.plaintext.max.connections", "100", false, SourceStaticBroker, false, false, TypeInt,
			[]Synonym{syn("listener.name.plaintext.max.connections", "100", SourceStaticBroker), syn("max.connections", "2147483647", SourceDefault)}},
		{"node.id", "5", false, SourceStaticBroker, true, false, TypeInt,
			[]Synonym{syn("node.id", "5", SourceStaticBroker), syn("node.id", "1", SourceDefault)}},
		{"log.cleaner.io.max.bytes.per.second", "1.7976931348623157E308", false, SourceDefault, false, false, TypeDouble,
			[]Synonym{syn("log.cleaner.io.max.bytes.per.second", "1.7976931348623157E308", SourceDefault)}},
	}
	for _, tt := range tests {
		e := find(t, entries, tt.name)
		if e.Value != tt.value || e.Null != tt.null || e.Source != tt.source || e.ReadOnly != tt.readOnly ||
			e.Sensitive != tt.sensitive || e.Type != tt.typ || !slices.Equal(e.Synonyms, tt.synonyms) {
			t.Errorf("%s:\n got %+v\nwant value %q null %v %v readOnly %v sensitive %v %v %+v", tt.name, e,
				tt.value, tt.null, tt.source, tt.readOnly, tt.sensitive, tt.typ, tt.synonyms)
		}
		if e.Doc == "" {
			t.Errorf("%s: no documentation", tt.name)
		}
	}

	// With log.retention.ms set too, it comes first and lists the others.
	b = mustParse(t, map[string]string{"log.retention.ms": "1000", "log.retention.hours": "24"})
	e := find(t, b.Describe(), "log.retention.ms")
	want := []Synonym{syn("log.retention.ms", "1000", SourceStaticBroker), syn("log.retention.hours", "24", SourceStaticBroker),
		syn("log.retention.hours", "168", SourceDefault)}
	if e.Value != "1000" || e.Source != SourceStaticBroker || !slices.Equal(e.Synonyms, want) {
		t.Errorf("log.retention.ms: %+v", e)
	}
}

func TestDescribeTopic(t *testing.T) {
	plain := mustParse(t, nil)
	tuned := mustParse(t, map[string]string{"log.retention.hours": "24", "log.flush.scheduler.interval.ms": "5000"})
	tests := []struct {
		name      string
		broker    *Broker
		overrides map[string]string
		config    string
		value     string
		source    Source
		synonyms  []Synonym
	}{
		{"default", plain, nil, "retention.ms", "604800000", SourceDefault,
			[]Synonym{syn("log.retention.hours", "168", SourceDefault)}},
		{"nil broker", nil, nil, "segment.bytes", "1073741824", SourceDefault,
			[]Synonym{syn("log.segment.bytes", "1073741824", SourceDefault)}},
		{"broker hours", tuned, nil, "retention.ms", "86400000", SourceStaticBroker,
			[]Synonym{syn("log.retention.hours", "24", SourceStaticBroker), syn("log.retention.hours", "168", SourceDefault)}},
		{"override", tuned, map[string]string{"retention.ms": " 1000 "}, "retention.ms", "1000", SourceDynamicTopic,
			[]Synonym{syn("retention.ms", "1000", SourceDynamicTopic), syn("log.retention.hours", "24", SourceStaticBroker),
				syn("log.retention.hours", "168", SourceDefault)}},
		{"second synonym", tuned, nil, "flush.ms", "5000", SourceStaticBroker,
			[]Synonym{syn("log.flush.scheduler.interval.ms", "5000", SourceStaticBroker),
				syn("log.flush.scheduler.interval.ms", maxLong, SourceDefault)}},
		{"no broker synonym", plain, nil, "remote.storage.enable", "false", SourceDefault, nil},
		{"override without broker synonym", plain, map[string]string{"leader.replication.throttled.replicas": "0:1, 1:2"},
			"leader.replication.throttled.replicas", "0:1,1:2", SourceDynamicTopic,
			[]Synonym{syn("leader.replication.throttled.replicas", "0:1,1:2", SourceDynamicTopic)}},
		{"double", plain, map[string]string{"min.cleanable.dirty.ratio": ".50"}, "min.cleanable.dirty.ratio", "0.5", SourceDynamicTopic,
			[]Synonym{syn("min.cleanable.dirty.ratio", "0.5", SourceDynamicTopic), syn("log.cleaner.min.cleanable.ratio", "0.5", SourceDefault)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := DescribeTopic(tt.broker, tt.overrides)
			if len(entries) != len(topicDefs) {
				t.Errorf("%d entries, want %d", len(entries), len(topicDefs))
			}
			if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name }) {
				t.Error("entries are not sorted")
			}
			e := find(t, entries, tt.config)
			if e.Value != tt.value || e.Source != tt.source || !slices.Equal(e.Synonyms, tt.synonyms) ||
				e.ReadOnly || e.Sensitive || e.Null || e.Type != topicIndex[tt.config].typ || e.Doc == "" {
				t.Errorf("got %+v\nwant value %q %v %+v", e, tt.value, tt.source, tt.synonyms)
			}
		})
	}
}

// TestDescribeTopicMatchesResolve checks that DescribeTopic reports the
// values ResolveTopic computes.
func TestDescribeTopicMatchesResolve(t *testing.T) {
	b := mustParse(t, map[string]string{"log.retention.minutes": "90", "log.roll.hours": "3", "log.segment.bytes": "2097152"})
	tp, err := ResolveTopic(b, map[string]string{"segment.jitter.ms": "17"})
	if err != nil {
		t.Fatal(err)
	}
	entries := DescribeTopic(b, map[string]string{"segment.jitter.ms": "17"})
	for name, want := range map[string]any{"retention.ms": tp.RetentionMs, "segment.ms": tp.SegmentMs,
		"segment.bytes": tp.SegmentBytes, "segment.jitter.ms": tp.SegmentJitterMs} {
		if got := find(t, entries, name).Value; got != render(want) {
			t.Errorf("%s: described %s, resolved %v", name, got, want)
		}
	}
	if tp.RetentionMs != 90*60_000 || tp.SegmentMs != 3*3_600_000 {
		t.Errorf("retention %d segment.ms %d", tp.RetentionMs, tp.SegmentMs)
	}
}
