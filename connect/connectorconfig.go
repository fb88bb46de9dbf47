package connect

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
)

// Groups of the common connector keys, as Kafka's validation result names them.
const (
	groupCommon     = "Common"
	groupTransforms = "Transforms"
	groupPredicates = "Predicates"
	groupErrors     = "Error Handling"
)

// ConnectorConfig is a connector's common configuration (Kafka's
// ConnectorConfig, SinkConnectorConfig and SourceConnectorConfig keys),
// parsed. The connector's own keys stay in Props.
type ConnectorConfig struct {
	Name            string   // name
	Class           string   // connector.class, as given (class name or alias)
	TasksMax        int      // tasks.max (1)
	TasksMaxEnforce bool     // tasks.max.enforce (true)
	KeyConverter    string   // key.converter ("" = the worker's)
	ValueConverter  string   // value.converter ("" = the worker's)
	HeaderConverter string   // header.converter ("" = the worker's)
	Transforms      []string // transforms (aliases)
	Predicates      []string // predicates (aliases)

	ErrorsRetryTimeout       time.Duration // errors.retry.timeout (0; -1 = forever)
	ErrorsRetryMaxDelay      time.Duration // errors.retry.delay.max.ms (60000)
	ErrorsToleranceAll       bool          // errors.tolerance: all (true) or none (false, the default)
	ErrorsLogEnable          bool          // errors.log.enable (false)
	ErrorsLogIncludeMessages bool          // errors.log.include.messages (false)

	// Sink connectors.
	Topics               []string // topics
	TopicsRegex          string   // topics.regex
	DLQTopic             string   // errors.deadletterqueue.topic.name
	DLQReplicationFactor int16    // errors.deadletterqueue.topic.replication.factor (3)
	DLQContextHeaders    bool     // errors.deadletterqueue.context.headers.enable (false)

	Props map[string]string
}

// baseConnectorDef declares the keys every connector has.
func baseConnectorDef() *configdef.Def {
	order := 0
	next := func() int { order++; return order }
	errOrder := 0
	nextErr := func() int { errOrder++; return errOrder }
	uniqueAliases := func(kind string) configdef.Validator {
		return configdef.ValidatorFunc(func(name string, v any) error {
			l, _ := v.([]string)
			seen := map[string]bool{}
			for _, a := range l {
				if seen[a] {
					return configdef.Invalid(name, v, "Duplicate alias provided.")
				}
				seen[a] = true
			}
			return nil
		})
	}
	return configdef.New().
		Define(configdef.Key{Name: "name", Type: configdef.String, Default: configdef.NoDefault, Validator: nameValidator(),
			Importance: configdef.High, Documentation: "A name for the connector, unique in the Connect cluster.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthMedium, DisplayName: "Connector name"}).
		Define(configdef.Key{Name: "connector.class", Type: configdef.String, Default: configdef.NoDefault,
			Importance: configdef.High, Documentation: "The connector plugin: its full class name (org.apache.kafka.connect.file.FileStreamSinkConnector) or an alias (FileStreamSinkConnector, FileStreamSink).",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthLong, DisplayName: "Connector class"}).
		Define(configdef.Key{Name: "tasks.max", Type: configdef.Int, Default: 1, Validator: configdef.AtLeast(1),
			Importance: configdef.High, Documentation: "The most tasks the connector may run.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthShort, DisplayName: "Tasks max"}).
		Define(configdef.Key{Name: "tasks.max.enforce", Type: configdef.Boolean, Default: true,
			Importance: configdef.Low, Documentation: "(Deprecated) Whether a connector that generates more than tasks.max tasks fails.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthShort, DisplayName: "Enforce tasks max"}).
		Define(configdef.Key{Name: "key.converter", Type: configdef.Class, Default: nil,
			Importance: configdef.Low, Documentation: "The converter of record keys for this connector; the worker's key.converter when unset.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthShort, DisplayName: "Key converter class"}).
		Define(configdef.Key{Name: "value.converter", Type: configdef.Class, Default: nil,
			Importance: configdef.Low, Documentation: "The converter of record values for this connector; the worker's value.converter when unset.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthShort, DisplayName: "Value converter class"}).
		Define(configdef.Key{Name: "header.converter", Type: configdef.Class, Default: nil,
			Importance: configdef.Low, Documentation: "The converter of record headers for this connector; the worker's header.converter when unset.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthShort, DisplayName: "Header converter class"}).
		Define(configdef.Key{Name: "transforms", Type: configdef.List, Default: "", Validator: uniqueAliases("transformation"),
			Importance: configdef.Low, Documentation: "Aliases of the transformations applied to records, in order.",
			Group: groupTransforms, OrderInGroup: next(), Width: configdef.WidthLong, DisplayName: "Transforms"}).
		Define(configdef.Key{Name: "predicates", Type: configdef.List, Default: "", Validator: uniqueAliases("predicate"),
			Importance: configdef.Low, Documentation: "Aliases of the predicates transformations may refer to.",
			Group: groupPredicates, OrderInGroup: next(), Width: configdef.WidthLong, DisplayName: "Predicates"}).
		Define(configdef.Key{Name: "config.action.reload", Type: configdef.String, Default: "restart", Validator: configdef.ValidString("none", "restart"),
			Importance: configdef.Low, Documentation: "What to do when values from external configuration providers change: none or restart.",
			Group: groupCommon, OrderInGroup: next(), Width: configdef.WidthMedium, DisplayName: "Reload Action"}).
		Define(configdef.Key{Name: "errors.retry.timeout", Type: configdef.Long, Default: 0,
			Importance: configdef.Medium, Documentation: "How long in milliseconds a failed operation is retried; 0 never retries, -1 retries forever.",
			Group: groupErrors, OrderInGroup: nextErr(), Width: configdef.WidthMedium, DisplayName: "Retry Timeout for Errors"}).
		Define(configdef.Key{Name: "errors.retry.delay.max.ms", Type: configdef.Long, Default: 60000,
			Importance: configdef.Medium, Documentation: "The longest wait in milliseconds between two retries.",
			Group: groupErrors, OrderInGroup: nextErr(), Width: configdef.WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors"}).
		Define(configdef.Key{Name: "errors.tolerance", Type: configdef.String, Default: "none", Validator: configdef.ValidString("none", "all"),
			Importance: configdef.Medium, Documentation: "none fails the task on the first conversion or transformation error; all skips the record.",
			Group: groupErrors, OrderInGroup: nextErr(), Width: configdef.WidthShort, DisplayName: "Error Tolerance"}).
		Define(configdef.Key{Name: "errors.log.enable", Type: configdef.Boolean, Default: false,
			Importance: configdef.Medium, Documentation: "Whether every error, tolerated or not, is logged with the failed operation.",
			Group: groupErrors, OrderInGroup: nextErr(), Width: configdef.WidthShort, DisplayName: "Log Errors"}).
		Define(configdef.Key{Name: "errors.log.include.messages", Type: configdef.Boolean, Default: false,
			Importance: configdef.Medium, Documentation: "Whether the logged errors include the record (topic, partition, offset and timestamp for sinks; key, value and headers for sources).",
			Group: groupErrors, OrderInGroup: nextErr(), Width: configdef.WidthShort, DisplayName: "Log Error Details"})
}

// nameValidator rejects an empty connector name or one with ISO control
// characters, as Kafka's nonEmptyStringWithoutControlChars.
func nameValidator() configdef.Validator {
	return configdef.ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		if strings.TrimSpace(s) == "" {
			return configdef.Invalid(name, v, "String may not be empty")
		}
		for _, r := range s {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
				return configdef.Invalid(name, v, "String may not contain control sequences but had the following ASCII chars: %d", r)
			}
		}
		return nil
	})
}

// sinkConnectorDef adds the sink keys.
func sinkConnectorDef() *configdef.Def {
	d := baseConnectorDef()
	d.Define(configdef.Key{Name: "topics", Type: configdef.List, Default: "", Importance: configdef.High,
		Documentation: "The topics to consume; this or topics.regex.", Group: groupCommon, OrderInGroup: 4, Width: configdef.WidthLong, DisplayName: "Topics"})
	d.Define(configdef.Key{Name: "topics.regex", Type: configdef.String, Default: "", Validator: regexValidator(), Importance: configdef.High,
		Documentation: "A regular expression of the topics to consume; this or topics.", Group: groupCommon, OrderInGroup: 4, Width: configdef.WidthLong, DisplayName: "Topics regex"})
	d.Define(configdef.Key{Name: "errors.deadletterqueue.topic.name", Type: configdef.String, Default: "", Importance: configdef.Medium,
		Documentation: "The topic records that fail conversion or transformation are written to when errors.tolerance=all; empty for none.",
		Group:         groupErrors, OrderInGroup: 6, Width: configdef.WidthMedium, DisplayName: "Dead Letter Queue Topic Name"})
	d.Define(configdef.Key{Name: "errors.deadletterqueue.topic.replication.factor", Type: configdef.Short, Default: 3, Importance: configdef.Medium,
		Documentation: "The replication factor of the dead letter queue topic when it is created.",
		Group:         groupErrors, OrderInGroup: 7, Width: configdef.WidthMedium, DisplayName: "Dead Letter Queue Topic Replication Factor"})
	d.Define(configdef.Key{Name: "errors.deadletterqueue.context.headers.enable", Type: configdef.Boolean, Default: false, Importance: configdef.Medium,
		Documentation: "Whether dead letter queue records carry __connect.errors.* headers describing the failure.",
		Group:         groupErrors, OrderInGroup: 8, Width: configdef.WidthMedium, DisplayName: "Enable Error Context Headers"})
	return d
}

func regexValidator() configdef.Validator {
	return configdef.ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		if s == "" {
			return nil
		}
		if _, err := regexp.Compile(s); err != nil {
			return configdef.Invalid(name, v, "%v", err)
		}
		return nil
	})
}

// connectorDef returns the common keys of a connector of kind
// (PluginSource or PluginSink).
func connectorDef(kind string) *configdef.Def {
	if kind == PluginSink {
		return sinkConnectorDef()
	}
	return baseConnectorDef()
}

// enrichedDef adds the keys of each configured transformation and predicate
// (transforms.<alias>.type, .predicate, .negate and the plugin's own keys
// under transforms.<alias>.; predicates.<alias>.type and its keys). Plugins
// that cannot be found are reported by validation of the .type key.
func (r *Registry) enrichedDef(base *configdef.Def, props map[string]string) *configdef.Def {
	d := base
	for _, alias := range splitList(props["transforms"]) {
		prefix := "transforms." + alias + "."
		group := "Transforms: " + alias
		tf := configdef.New().
			Define(configdef.Key{Name: prefix + "type", Type: configdef.Class, Default: configdef.NoDefault, Importance: configdef.High,
				Validator: r.pluginValidator(PluginTransformation), Documentation: "The class of transformation " + alias + ".",
				Group: group, OrderInGroup: 0, Width: configdef.WidthLong, DisplayName: "Transformation type for " + alias}).
			Define(configdef.Key{Name: prefix + "negate", Type: configdef.Boolean, Default: false, Importance: configdef.Medium,
				Documentation: "Whether the predicate's result is inverted.", Group: group, OrderInGroup: 1, Width: configdef.WidthShort, DisplayName: "Negate"}).
			Define(configdef.Key{Name: prefix + "predicate", Type: configdef.String, Default: nil, Importance: configdef.Medium,
				Documentation: "The alias of the predicate that decides whether the transformation applies.", Group: group, OrderInGroup: 2, Width: configdef.WidthMedium, DisplayName: "Predicate"})
		d = d.Merge(tf)
		if t, err := r.NewTransformation(props[prefix+"type"]); err == nil && t.ConfigDef() != nil {
			d = d.Merge(t.ConfigDef().WithPrefix(prefix))
		}
	}
	for _, alias := range splitList(props["predicates"]) {
		prefix := "predicates." + alias + "."
		group := "Predicates: " + alias
		pd := configdef.New().
			Define(configdef.Key{Name: prefix + "type", Type: configdef.Class, Default: configdef.NoDefault, Importance: configdef.High,
				Validator: r.pluginValidator(PluginPredicate), Documentation: "The class of predicate " + alias + ".",
				Group: group, OrderInGroup: 0, Width: configdef.WidthLong, DisplayName: "Predicate type for " + alias})
		d = d.Merge(pd)
		if p, err := r.NewPredicate(props[prefix+"type"]); err == nil && p.ConfigDef() != nil {
			d = d.Merge(p.ConfigDef().WithPrefix(prefix))
		}
	}
	return d
}

// pluginValidator checks that a class key names a registered plugin of kind.
func (r *Registry) pluginValidator(kind string) configdef.Validator {
	return configdef.ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		if s == "" {
			return nil
		}
		if _, k, ok := r.Class(s); !ok || k != kind {
			return configdef.Invalid(name, v, "Class %s could not be found.", s)
		}
		return nil
	})
}

// validateSink adds the sink checks Kafka makes across keys: exactly one of
// topics and topics.regex, and the DLQ topic not among the topics.
func validateSink(props map[string]string, values []configdef.ConfigValue) {
	add := func(name, msg string) {
		for i := range values {
			if values[i].Name == name {
				values[i].Errors = append(values[i].Errors, msg)
				return
			}
		}
	}
	topics, regex := strings.TrimSpace(props["topics"]), strings.TrimSpace(props["topics.regex"])
	switch {
	case topics != "" && regex != "":
		msg := "topics and topics.regex are mutually exclusive options, but both are set."
		add("topics", msg)
		add("topics.regex", msg)
	case topics == "" && regex == "":
		msg := "Must configure one of topics or topics.regex"
		add("topics", msg)
		add("topics.regex", msg)
	}
	if dlq := strings.TrimSpace(props["errors.deadletterqueue.topic.name"]); dlq != "" {
		if slices.Contains(splitList(topics), dlq) {
			add("topics", fmt.Sprintf("The DLQ topic '%s' may not be included in the list of topics ('topics=%s') consumed by the connector", dlq, topics))
		} else if regex != "" {
			if re, err := regexp.Compile(regex); err == nil && re.MatchString(dlq) {
				add("topics.regex", fmt.Sprintf("The DLQ topic '%s' may not be included in the regex matching the topics ('topics.regex=%s') consumed by the connector", dlq, regex))
			}
		}
	}
}

// Validate validates a connector configuration as PUT
// /connector-plugins/{p}/config/validate and connector creation do: the
// common keys, the sink checks, transformations and predicates, and the
// connector's own keys. The result is named by connector.class as given.
func (r *Registry) Validate(props map[string]string) (configdef.Infos, error) {
	class, ok := props["connector.class"]
	if !ok || strings.TrimSpace(class) == "" {
		return configdef.Infos{}, badRequestf("Connector config %s contains no connector type", javaMap(props))
	}
	conn, _, err := r.NewConnector(class)
	if err != nil {
		return configdef.Infos{}, err
	}
	kind := kindOf(conn)
	def := r.enrichedDef(connectorDef(kind), props)
	values := def.Validate(props)
	if kind == PluginSink {
		validateSink(props, values)
	}
	for i, v := range values {
		if v.Name != "key.converter" && v.Name != "value.converter" {
			continue
		}
		if c, ok := props[v.Name]; ok && strings.TrimSpace(c) != "" {
			if _, k, found := r.Class(c); !found || k != PluginConverter {
				values[i].Errors = append(values[i].Errors, fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", c, v.Name, c))
			}
		}
	}
	own := conn.ConfigDef()
	if own != nil {
		for _, v := range own.Validate(props) {
			if _, dup := def.Key(v.Name); !dup {
				values = append(values, v)
			}
		}
		def = def.Merge(own)
	}
	// Kafka names the result by connector.class as given (alias or class).
	return configdef.NewInfos(class, def, values), nil
}

// ConfigErrors turns a validation result with errors into the 400 Kafka
// answers a create or update with; nil when there are none.
func ConfigErrors(infos configdef.Infos) error {
	if infos.ErrorCount == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", infos.ErrorCount)
	for _, c := range infos.Configs {
		if c.Value == nil {
			continue
		}
		for _, e := range c.Value.Errors {
			b.WriteString("\n" + e)
		}
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return badRequestf("%s", b.String())
}

// PluginConfig describes a plugin's keys as GET
// /connector-plugins/{p}/config does: a connector's own keys followed by
// the common connector keys it does not redefine.
func (r *Registry) PluginConfig(name string) ([]configdef.KeyInfo, error) {
	p, ok := r.lookup(name, PluginSource, PluginSink, PluginConverter, PluginTransformation, PluginPredicate)
	if !ok {
		return nil, notFoundf("Unknown plugin %s.", name)
	}
	var def *configdef.Def
	switch p.kind {
	case PluginSource, PluginSink:
		def = configdef.New()
		if own := p.newConn().ConfigDef(); own != nil {
			def = own
		}
		def = def.Merge(connectorDef(p.kind))
	case PluginTransformation:
		def = p.newTf().ConfigDef()
	case PluginPredicate:
		def = p.newPred().ConfigDef()
	}
	if def == nil {
		return []configdef.KeyInfo{}, nil
	}
	return def.KeyInfos(), nil
}

// ParseConnectorConfig parses the common keys of a connector configuration;
// an error names the first bad key.
func (r *Registry) ParseConnectorConfig(props map[string]string) (ConnectorConfig, error) {
	conn, _, err := r.NewConnector(props["connector.class"])
	if err != nil {
		return ConnectorConfig{}, err
	}
	kind := kindOf(conn)
	def := connectorDef(kind)
	parsed, err := def.Parse(props)
	if err != nil {
		return ConnectorConfig{}, badRequestf("%v", err)
	}
	c := ConnectorConfig{
		Name:                     get[string](parsed, "name"),
		Class:                    get[string](parsed, "connector.class"),
		TasksMax:                 int(get[int32](parsed, "tasks.max")),
		TasksMaxEnforce:          get[bool](parsed, "tasks.max.enforce"),
		Transforms:               get[[]string](parsed, "transforms"),
		Predicates:               get[[]string](parsed, "predicates"),
		ErrorsRetryTimeout:       time.Duration(get[int64](parsed, "errors.retry.timeout")) * time.Millisecond,
		ErrorsRetryMaxDelay:      time.Duration(get[int64](parsed, "errors.retry.delay.max.ms")) * time.Millisecond,
		ErrorsToleranceAll:       get[string](parsed, "errors.tolerance") == "all",
		ErrorsLogEnable:          get[bool](parsed, "errors.log.enable"),
		ErrorsLogIncludeMessages: get[bool](parsed, "errors.log.include.messages"),
		Props:                    props,
	}
	if c.ErrorsRetryTimeout < 0 {
		c.ErrorsRetryTimeout = -1
	}
	c.KeyConverter = get[string](parsed, "key.converter")
	c.ValueConverter = get[string](parsed, "value.converter")
	c.HeaderConverter = get[string](parsed, "header.converter")
	if kind == PluginSink {
		c.Topics = get[[]string](parsed, "topics")
		c.TopicsRegex = get[string](parsed, "topics.regex")
		c.DLQTopic = get[string](parsed, "errors.deadletterqueue.topic.name")
		c.DLQReplicationFactor = get[int16](parsed, "errors.deadletterqueue.topic.replication.factor")
		c.DLQContextHeaders = get[bool](parsed, "errors.deadletterqueue.context.headers.enable")
		if len(c.Topics) == 0 && c.TopicsRegex == "" {
			return ConnectorConfig{}, badRequestf("Must configure one of topics or topics.regex")
		}
	}
	return c, nil
}

// get returns parsed[key] as a T, or T's zero value.
func get[T any](parsed map[string]any, key string) T {
	v, _ := parsed[key].(T)
	return v
}

// javaMap prints a map as Java's AbstractMap.toString does, for messages
// Kafka words that way.
func javaMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
