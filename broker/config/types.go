package config

import (
	"errors"
	"strconv"
	"strings"
)

// Type is a configuration's data type, numbered as Kafka's DescribeConfigs
// response numbers ConfigType.
type Type int8

// Kafka's ConfigType values.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

var typeNames = [...]string{"UNKNOWN", "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD"}

// String returns Kafka's name for t, such as "LONG".
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Source tells where a configuration value came from, numbered as Kafka's
// DescribeConfigs response numbers ConfigSource.
type Source int8

// Kafka's ConfigSource values.
const (
	SourceUnknown              Source = 0
	SourceDynamicTopic         Source = 1 // DYNAMIC_TOPIC_CONFIG: a topic-level override
	SourceDynamicBroker        Source = 2 // DYNAMIC_BROKER_CONFIG
	SourceDynamicDefaultBroker Source = 3 // DYNAMIC_DEFAULT_BROKER_CONFIG
	SourceStaticBroker         Source = 4 // STATIC_BROKER_CONFIG: the properties file or --override
	SourceDefault              Source = 5 // DEFAULT_CONFIG
	SourceDynamicBrokerLogger  Source = 6 // DYNAMIC_BROKER_LOGGER_CONFIG
	SourceClientMetrics        Source = 7 // CLIENT_METRICS_CONFIG
	SourceGroup                Source = 8 // GROUP_CONFIG
)

var sourceNames = [...]string{"UNKNOWN", "DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG",
	"DYNAMIC_DEFAULT_BROKER_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG",
	"DYNAMIC_BROKER_LOGGER_CONFIG", "CLIENT_METRICS_CONFIG", "GROUP_CONFIG"}

// String returns Kafka's name for s, such as "STATIC_BROKER_CONFIG".
func (s Source) String() string {
	if s >= 0 && int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Entry is one configuration as DescribeConfigs reports it.
type Entry struct {
	Name  string
	Value string // the effective value, rendered as Kafka renders it; "" when Null
	// Null is set when the value is null: no value and no default, or a
	// sensitive (PASSWORD) value, which is never reported.
	Null      bool
	Source    Source
	ReadOnly  bool // Kafka cannot change it without a restart
	Sensitive bool
	Type      Type
	Doc       string
	// Synonyms lists every place the value could come from, most specific
	// first, in Kafka's order (topic override, then this broker's dynamic
	// settings, the cluster-wide dynamic defaults, the static broker
	// settings, then defaults).
	Synonyms []Synonym
}

// Synonym is one source of a configuration's value.
type Synonym struct {
	Name   string
	Value  string
	Null   bool // the value is sensitive and not reported
	Source Source
}

// Sentinel errors wrapped by *Error, so that callers can tell the classes
// apart with errors.Is. The server maps both ErrUnknown and ErrInvalid to
// Kafka's INVALID_CONFIG.
var (
	// ErrUnknown is wrapped when a key is not a known configuration.
	ErrUnknown = errors.New("config: unknown configuration")
	// ErrInvalid is wrapped when a value has the wrong type, is out of range,
	// is not one of the allowed values, or conflicts with another setting.
	ErrInvalid = errors.New("config: invalid value")
	// ErrSyntax is wrapped when a properties file or an --override flag
	// cannot be read as key=value pairs.
	ErrSyntax = errors.New("config: malformed properties")
)

// Error describes one configuration that cannot be accepted. It names the
// key and the value, says what was expected and, when known, where the
// setting came from.
type Error struct {
	Key      string // the property name; "" for a line with no key
	Value    string // the offending value as given
	Expected string // what would have been accepted, in words
	Origin   string // "path:line", "--override ..." or "" when unknown
	Err      error  // ErrUnknown, ErrInvalid or ErrSyntax
}

// Error renders e as one line, hiding the value of sensitive keys.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Origin != "" {
		b.WriteString(e.Origin)
		b.WriteString(": ")
	}
	switch {
	case errors.Is(e.Err, ErrUnknown):
		b.WriteString("unknown configuration ")
		b.WriteString(strconv.Quote(e.Key))
	case errors.Is(e.Err, ErrSyntax):
		b.WriteString("malformed ")
		if e.Key != "" {
			b.WriteString("setting " + strconv.Quote(e.Key))
		} else {
			b.WriteString("line")
		}
	default:
		b.WriteString("invalid value ")
		if sensitiveKey(e.Key) {
			b.WriteString("[hidden]")
		} else {
			b.WriteString(strconv.Quote(e.Value))
		}
		b.WriteString(" for ")
		b.WriteString(e.Key)
	}
	if e.Expected != "" {
		b.WriteString(": ")
		b.WriteString(e.Expected)
	}
	return b.String()
}

// Unwrap returns the sentinel class of e.
func (e *Error) Unwrap() error { return e.Err }

func invalid(key, value, expected string) *Error {
	return &Error{Key: key, Value: value, Expected: expected, Err: ErrInvalid}
}

func unknown(key, hint string) *Error {
	return &Error{Key: key, Expected: hint, Err: ErrUnknown}
}

// sensitiveKey reports whether key's value must not be printed: a PASSWORD
// configuration, directly or behind a listener prefix.
func sensitiveKey(key string) bool {
	if d := brokerDef(key); d != nil {
		return d.typ == TypePassword
	}
	if _, base, ok := splitListenerKey(key); ok {
		if d := brokerDef(base); d != nil {
			return d.typ == TypePassword
		}
	}
	return strings.HasSuffix(key, ".password") || strings.HasSuffix(key, "sasl.jaas.config")
}
