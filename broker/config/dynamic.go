package config

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// dynamicLayers holds the dynamic configs a Broker was built with by
// WithDynamic, and the static configuration they are laid over.
type dynamicLayers struct {
	clusterDefault map[string]string // resource name ""
	broker         map[string]string // resource name = this node's ID
	static         *Broker           // nil when b is itself static
}

// listenerOnlyConfigs may be changed dynamically only for one listener, as
// listener.name.<listener>.<config>: the keystore and truststore settings
// of Kafka's DynamicSecurityConfigs (SslConfigs.RECONFIGURABLE_CONFIGS).
var listenerOnlyConfigs = []string{
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
	"ssl.keystore.key", "ssl.keystore.certificate.chain",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
}

// clusterLevelListenerConfigs are the listener settings that, unlike the
// others, may also be set as cluster-wide defaults (Kafka's
// ClusterLevelListenerConfigs).
var clusterLevelListenerConfigs = []string{"max.connections", "max.connection.creation.rate", "num.network.threads"}

// perBrokerOnly reports whether name may be set dynamically for one broker
// but not as a cluster-wide default: the listener and security settings
// (Kafka's PerBrokerConfigs), directly or behind a listener prefix, except
// the connection limits and network threads.
func perBrokerOnly(name string) bool {
	base := name
	if _, b, ok := splitListenerKey(name); ok {
		base = b
	}
	if slices.Contains(clusterLevelListenerConfigs, base) {
		return false
	}
	if base != name {
		return true // every other per-listener setting
	}
	switch name {
	case "listeners", "advertised.listeners", "listener.security.protocol.map", "principal.builder.class":
		return true
	}
	return strings.HasPrefix(name, "ssl.") || strings.HasPrefix(name, "sasl.")
}

// ValidateDynamicFor is ValidateDynamic for one broker resource: broker is
// a node ID, or "" for the cluster-wide default, where Kafka refuses the
// listener and security settings it allows only per broker.
func ValidateDynamicFor(broker, name string, value *string) error {
	if err := ValidateDynamic(name, value); err != nil {
		return err
	}
	if broker == "" && value != nil && perBrokerOnly(name) {
		return invalid(name, *value, "a listener or security setting can be set only for one broker, not as the cluster default")
	}
	return nil
}

// ValidateDynamic checks one dynamic broker config as AlterConfigs and
// IncrementalAlterConfigs set it, for one broker or as the cluster
// default: value is the new value, or nil when the config is deleted.
//
// An unknown key is an *Error wrapping ErrUnknown. A config Kafka does not
// let change without a restart (node.id, log.dirs, log.retention.hours,
// ...) is an *Error wrapping ErrInvalid that calls it read-only, as is a
// keystore or truststore setting given without a listener prefix. A value
// of the wrong type, out of range, or one Kafka refuses on its own
// (log.retention.ms=0) is an *Error wrapping ErrInvalid naming the key,
// the value and what was expected. Deleting a known config is always
// allowed: it can only bring back the static value.
//
// Constraints between settings (log.cleaner.min.compaction.lag.ms against
// log.cleaner.max.compaction.lag.ms, listeners against
// listener.security.protocol.map) depend on the rest of the node's
// configuration, and whether a listener or security setting is being set
// as a cluster default, which Kafka refuses, depends on the resource; the
// caller knows neither here, and WithDynamic checks both.
func ValidateDynamic(name string, value *string) error {
	d, err := dynamicDef(name)
	if err != nil {
		return err
	}
	if value == nil {
		return nil
	}
	if e := checkDynamic(name, d, *value); e != nil {
		return e
	}
	return nil
}

// dynamicDef returns the definition of a dynamic config name: a broker
// config, or a per-listener override of one.
func dynamicDef(name string) (*def, *Error) {
	if d := brokerDef(name); d != nil {
		return d, nil
	}
	if _, base, ok := splitListenerKey(name); ok {
		return brokerDef(base), nil
	}
	return nil, unknown(name, brokerHint(name))
}

// checkDynamic checks that name (defined by d) may change dynamically and
// that raw is a valid value for it on its own.
func checkDynamic(name string, d *def, raw string) *Error {
	if d.flags&dyn == 0 {
		return invalid(name, raw, "read-only: Kafka does not allow changing "+name+
			" dynamically; set it in the node's properties and restart it")
	}
	if slices.Contains(listenerOnlyConfigs, name) {
		return invalid(name, raw, "read-only without a listener prefix: Kafka allows changing "+name+
			" dynamically only per listener, as listener.name.<listener>."+name)
	}
	v, err := d.parse(raw)
	if err != nil {
		err.Key = name
		return err
	}
	// The checks ParseBroker makes of these settings on their own, beyond
	// their type and range.
	switch d.name {
	case "log.retention.ms":
		if v.(int64) == 0 {
			return invalid(name, raw, "retention must be -1 (unlimited) or at least 1 ms")
		}
	case "log.roll.ms":
		if v.(int64) < 1 {
			return invalid(name, raw, "the roll time must be at least 1 ms")
		}
	case "log.roll.jitter.ms":
		if v.(int64) < 0 {
			return invalid(name, raw, "the roll jitter must be at least 0")
		}
	case "listeners":
		if _, err := parseListeners(name, raw, true); err != nil {
			return err
		}
	case "advertised.listeners":
		ls, err := parseListeners(name, raw, false)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if l.Host == "0.0.0.0" || l.Host == "::" {
				return invalid(name, raw, "cannot advertise the non-routable address "+l.Host)
			}
		}
	}
	return nil
}

// WithDynamic returns the configuration of this node with dynamic broker
// configs laid over b's static properties: clusterDefault (the configs of
// resource name "") over the properties, and perBroker (those of this
// node's ID) over both. Dynamic layers b already has are replaced, not
// added to. Derived settings follow the merged values as they follow the
// properties: a dynamic log.retention.ms beats a static
// log.retention.hours.
//
// Describe and DescribeTopic of the result report each value's source and
// its synonyms in Kafka's order: DYNAMIC_BROKER_CONFIG,
// DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG.
//
// Every dynamic config must pass ValidateDynamic; a listener or security
// setting must not be a cluster default; and the merged configuration must
// pass ParseBroker. Otherwise the *Error names the first key at fault and,
// for a dynamic one, which level it came from. With both maps empty the
// result is b's static configuration.
func (b *Broker) WithDynamic(clusterDefault, perBroker map[string]string) (*Broker, error) {
	static := b
	if b.dyn.static != nil {
		static = b.dyn.static
	}
	if len(clusterDefault) == 0 && len(perBroker) == 0 {
		return static, nil
	}
	defaultOrigin := "dynamic default broker config"
	brokerOrigin := "dynamic config of broker " + strconv.Itoa(int(static.NodeID))
	layers := []struct {
		m         map[string]string
		origin    string
		perBroker bool
	}{{clusterDefault, defaultOrigin, false}, {perBroker, brokerOrigin, true}}
	merged := maps.Clone(static.props)
	for _, l := range layers {
		for _, k := range slices.Sorted(maps.Keys(l.m)) {
			d, err := dynamicDef(k)
			if err == nil {
				err = checkDynamic(k, d, l.m[k])
			}
			if err == nil && !l.perBroker && perBrokerOnly(k) {
				err = invalid(k, l.m[k], "a listener or security setting can be set only for one broker, not as the cluster default")
			}
			if err != nil {
				err.Origin = l.origin
				return nil, err
			}
			merged[k] = l.m[k]
		}
	}
	nb, err := ParseBroker(merged)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			if hasKey(perBroker, ce.Key) {
				ce.Origin = brokerOrigin
			} else if hasKey(clusterDefault, ce.Key) {
				ce.Origin = defaultOrigin
			}
		}
		return nil, err
	}
	nb.props = static.props
	nb.dyn = dynamicLayers{clusterDefault: maps.Clone(clusterDefault), broker: maps.Clone(perBroker), static: static}
	return nb, nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// DescribeDefaults returns the cluster-wide dynamic broker configs b was
// built with, sorted by name, as DescribeConfigs reports them for the
// default broker resource (the empty name): each with the value as it was
// set, source DYNAMIC_DEFAULT_BROKER_CONFIG, and synonyms from that level
// down (this node's own dynamic values are not among them). Sensitive
// values are null.
func (b *Broker) DescribeDefaults() []Entry {
	out := make([]Entry, 0, len(b.dyn.clusterDefault))
	for _, name := range slices.Sorted(maps.Keys(b.dyn.clusterDefault)) {
		e := b.describeBroker(name)
		e.Synonyms = slices.DeleteFunc(e.Synonyms, func(s Synonym) bool { return s.Source == SourceDynamicBroker })
		e.Value, e.Null = b.dyn.clusterDefault[name], false
		if e.Sensitive {
			e.Value, e.Null = "", true
		}
		e.Source = SourceDynamicDefaultBroker
		out = append(out, e)
	}
	return out
}

// configLayer is one level a broker setting can be given at.
type configLayer struct {
	m      map[string]string
	source Source
}

// layers returns the levels b's settings were given at, most specific
// first: this node's dynamic configs, the cluster-wide dynamic defaults,
// the static properties. Kafka's defaults come after them all.
func (b *Broker) layers() []configLayer {
	return []configLayer{
		{b.dyn.broker, SourceDynamicBroker},
		{b.dyn.clusterDefault, SourceDynamicDefaultBroker},
		{b.props, SourceStaticBroker},
	}
}

// given returns the value name was given at its most specific level, and
// whether it was given at all.
func (b *Broker) given(name string) (string, bool) {
	for _, l := range b.layers() {
		if v, ok := l.m[name]; ok {
			return v, true
		}
	}
	return "", false
}
