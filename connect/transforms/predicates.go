package transforms

import (
	"regexp"
	"slices"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
)

// Filter is Kafka's Filter: it drops every record, and is meant to be used
// with a predicate (transforms.<alias>.predicate, .negate).
type Filter struct{}

// Version implements the plugin version.
func (*Filter) Version() string { return Version }

// ConfigDef declares no keys.
func (*Filter) ConfigDef() *configdef.Def { return configdef.New() }

// Configure has nothing to read.
func (*Filter) Configure(map[string]string) error { return nil }

// Apply drops the record.
func (*Filter) Apply(r connector.Record) (connector.Record, bool, error) { return r, false, nil }

// Close releases nothing.
func (*Filter) Close() error { return nil }

// TopicNameMatches is Kafka's TopicNameMatches predicate: true when the
// whole topic name matches pattern.
type TopicNameMatches struct {
	re *regexp.Regexp
}

// Version implements the plugin version.
func (*TopicNameMatches) Version() string { return Version }

// ConfigDef declares pattern.
func (*TopicNameMatches) ConfigDef() *configdef.Def {
	return configdef.New().Define(configdef.Key{Name: "pattern", Type: configdef.String, Default: configdef.NoDefault,
		Validator: configdef.All(configdef.NonEmptyString(), regexValidator()), Importance: configdef.Medium,
		Documentation: "Regular expression the whole topic name must match."})
}

// Configure reads the configuration.
func (p *TopicNameMatches) Configure(props map[string]string) error {
	parsed, err := p.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	p.re = regexp.MustCompile(`^(?:` + parsed["pattern"].(string) + `)$`)
	return nil
}

// Test reports whether the topic matches.
func (p *TopicNameMatches) Test(r connector.Record) bool {
	return r.Topic != "" && p.re.MatchString(r.Topic)
}

// HasHeaderKey is Kafka's HasHeaderKey predicate: true when the record has
// at least one header called name.
type HasHeaderKey struct {
	name string
}

// Version implements the plugin version.
func (*HasHeaderKey) Version() string { return Version }

// ConfigDef declares name.
func (*HasHeaderKey) ConfigDef() *configdef.Def {
	return configdef.New().Define(configdef.Key{Name: "name", Type: configdef.String, Default: configdef.NoDefault,
		Validator: configdef.NonEmptyString(), Importance: configdef.Medium, Documentation: "Header name to look for."})
}

// Configure reads the configuration.
func (p *HasHeaderKey) Configure(props map[string]string) error {
	parsed, err := p.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	p.name = parsed["name"].(string)
	return nil
}

// Test reports whether a header has the name.
func (p *HasHeaderKey) Test(r connector.Record) bool {
	return slices.ContainsFunc(r.Headers, func(h connector.Header) bool { return h.Key == p.name })
}

// RecordIsTombstone is Kafka's RecordIsTombstone predicate: true when the
// record's value is null.
type RecordIsTombstone struct{}

// Version implements the plugin version.
func (*RecordIsTombstone) Version() string { return Version }

// ConfigDef declares no keys.
func (*RecordIsTombstone) ConfigDef() *configdef.Def { return configdef.New() }

// Configure has nothing to read.
func (*RecordIsTombstone) Configure(map[string]string) error { return nil }

// Test reports whether the value is null.
func (*RecordIsTombstone) Test(r connector.Record) bool { return r.Value == nil }
