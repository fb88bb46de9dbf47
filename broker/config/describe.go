package config

import (
	"sort"
	"strings"
)

// Describe returns every broker configuration, sorted by name, as
// DescribeConfigs reports them for this node: the value (null when unset
// without a default, or sensitive), the source (DYNAMIC_BROKER_CONFIG or
// DYNAMIC_DEFAULT_BROKER_CONFIG for a dynamic value laid over by
// WithDynamic, STATIC_BROKER_CONFIG for a value from the file or
// --override, else DEFAULT_CONFIG), read-only as in Kafka (true unless
// Kafka can change it dynamically), and synonyms in Kafka's order.
// Per-listener overrides (listener.name.*) that were set are listed too;
// connect.* keys, internal settings and plugin pass-through keys are not.
func (b *Broker) Describe() []Entry {
	names := brokerNames()
	seen := map[string]bool{}
	for _, l := range b.layers() {
		for k := range l.m {
			if _, _, ok := splitListenerKey(k); ok && !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	out := make([]Entry, 0, len(names))
	for _, name := range names {
		out = append(out, b.describeBroker(name))
	}
	return out
}

func (b *Broker) describeBroker(name string) Entry {
	d := brokerDef(name)
	if d == nil {
		_, base, _ := splitListenerKey(name)
		d = brokerDef(base)
	}
	e := Entry{Name: name, Type: d.typ, Sensitive: d.typ == TypePassword, ReadOnly: d.flags&dyn == 0, Doc: d.doc}
	if raw, set := b.given(name); set {
		v, _ := parseType(d.typ, raw)
		e.Value = render(v)
	} else if v := b.vals[name]; v != nil {
		e.Value = render(v)
	} else {
		e.Null = true
	}
	if e.Sensitive {
		e.Value, e.Null = "", true
	}
	e.Synonyms = b.brokerSynonyms(brokerSynonymNames(name), e.Sensitive)
	// Kafka drops the more specific synonyms before the described name
	// itself: log.retention.hours does not list log.retention.ms.
	i := 0
	for i < len(e.Synonyms) && e.Synonyms[i].Name != name {
		i++
	}
	e.Synonyms = e.Synonyms[i:]
	e.Source = SourceDefault
	if len(e.Synonyms) > 0 {
		e.Source = e.Synonyms[0].Source
	}
	return e
}

// brokerSynonyms lists, for each source from most to least specific (this
// node's dynamic configs, the cluster-wide dynamic defaults, the
// properties given, then defaults), the names among names that have a
// value there. Values are reported as given, not normalised, as Kafka does.
func (b *Broker) brokerSynonyms(names []string, sensitive bool) []Synonym {
	var out []Synonym
	for _, l := range b.layers() {
		for _, n := range names {
			if raw, set := l.m[n]; set {
				out = append(out, Synonym{Name: n, Value: raw, Source: l.source})
			}
		}
	}
	for _, n := range names {
		if d := brokerDef(n); d != nil && d.hasDefault() {
			out = append(out, Synonym{Name: n, Value: d.dflt, Source: SourceDefault})
		}
	}
	if sensitive {
		for i := range out {
			out[i].Value, out[i].Null = "", true
		}
	}
	return out
}

// DescribeTopic returns every topic configuration, sorted by name, as
// DescribeConfigs reports them for a topic with the given overrides on
// broker b (nil for a broker with default settings): the effective value,
// its source (DYNAMIC_TOPIC_CONFIG for an override; DYNAMIC_BROKER_CONFIG,
// DYNAMIC_DEFAULT_BROKER_CONFIG or STATIC_BROKER_CONFIG when a broker
// setting supplies it, dynamically or from the properties; else
// DEFAULT_CONFIG) and its synonyms, most specific first: the override, then
// the broker synonyms set at each level from this node's dynamic configs
// down to the properties, then each broker synonym's default.
//
// Unlike Kafka, a topic whose retention comes from log.retention.hours (or
// minutes) reports that synonym as its source: Kafka lists only synonyms
// from log.retention.ms on, which hides where the value came from.
// Overrides that fail validation are reported as given.
func DescribeTopic(b *Broker, overrides map[string]string) []Entry {
	if b == nil {
		b = defaultBroker()
	}
	out := make([]Entry, 0, len(topicDefs))
	for _, name := range topicNames() {
		d := topicIndex[name]
		e := Entry{Name: name, Type: d.typ, Doc: d.doc}
		raw, set := overrides[name]
		v, err := d.parse(raw)
		switch {
		case set && err == nil:
			e.Value = render(v)
		case set:
			e.Value = strings.TrimSpace(raw)
		default:
			e.Value = render(b.topicDefault(d))
		}
		if set {
			e.Synonyms = append(e.Synonyms, Synonym{Name: name, Value: e.Value, Source: SourceDynamicTopic})
		}
		e.Synonyms = append(e.Synonyms, b.brokerSynonyms(d.synonyms, false)...)
		e.Source = SourceDefault
		if len(e.Synonyms) > 0 {
			e.Source = e.Synonyms[0].Source
		}
		out = append(out, e)
	}
	return out
}
