// Package configdef declares, parses, validates and decodes the configuration
// of Runnel Connect plugins, as Kafka's ConfigDef does for Java plugins.
//
// A plugin declares its keys in a Def (name, type, default, importance,
// documentation, validator, group, …). The runtime uses the Def three ways:
// Parse turns string properties into typed values or an error naming the bad
// key; Validate reports every key's value and errors for
// PUT /connector-plugins/{plugin}/config/validate; and Decode fills a typed Go
// struct through github.com/go-viper/mapstructure/v2. KeyInfos and NewInfos
// produce the JSON bodies of Kafka's REST API (ConfigKeyInfo, ConfigInfos).
package configdef

import (
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidConfig is wrapped by every configuration error (Kafka's ConfigException).
var ErrInvalidConfig = errors.New("configdef: invalid configuration")

// Type is the type of a configuration value. Its string form is Kafka's
// ConfigDef.Type name, used in the REST API.
type Type string

// Configuration types and the Go type of their parsed values.
const (
	Boolean  Type = "BOOLEAN"  // bool
	String   Type = "STRING"   // string
	Int      Type = "INT"      // int32
	Short    Type = "SHORT"    // int16
	Long     Type = "LONG"     // int64
	Double   Type = "DOUBLE"   // float64
	List     Type = "LIST"     // []string
	Class    Type = "CLASS"    // string (a plugin class name or alias)
	Password Type = "PASSWORD" // Secret
)

// Importance tells users how much a key matters.
type Importance string

// Importance levels, as Kafka names them.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// Width is the display width hint of a key in a UI.
type Width string

// Widths, as Kafka names them; the zero Width means WidthNone.
const (
	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

type noDefault string

// NoDefault as a Key's Default makes the key required: Parse fails when it
// is missing. (A nil Default means the default value is null.)
const NoDefault noDefault = "configdef: no default"

// Secret is the parsed value of a PASSWORD key. It prints as "[hidden]" so
// that it never reaches a log; Value returns the secret itself.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[hidden]" }

// Value returns the secret.
func (s Secret) Value() string { return string(s) }

// Validator checks a parsed value (nil when unset without default).
type Validator interface {
	// Validate returns an error for a bad value; use Invalid to build it so
	// that it names the key.
	Validate(name string, value any) error
}

// Recommender suggests values for a key and decides whether it is visible,
// given the values parsed so far (Kafka's ConfigDef.Recommender).
type Recommender interface {
	ValidValues(name string, parsed map[string]any) []any
	Visible(name string, parsed map[string]any) bool
}

// Key declares one configuration key.
type Key struct {
	Name string
	Type Type
	// Default is the value used when the key is absent: a value of the Go
	// type for Type, a string to be parsed as the key's Type, nil for
	// null, or NoDefault for a required key.
	Default       any
	Importance    Importance
	Documentation string
	Validator     Validator
	Recommender   Recommender
	Group         string
	OrderInGroup  int
	Width         Width
	// DisplayName defaults to Name.
	DisplayName string
	// Dependents are keys whose recommendations depend on this one.
	Dependents []string
	// Internal keys are parsed but left out of KeyInfos and validation
	// results (Kafka's internalConfig).
	Internal bool
}

// Required reports whether the key has no default.
func (k Key) Required() bool { return k.Default == any(NoDefault) }

// Def is an ordered set of Keys. The zero Def is empty and ready to use.
type Def struct {
	keys  []Key
	index map[string]int
}

// New returns an empty Def.
func New() *Def { return &Def{} }

// Define adds k and returns d for chaining. Defining a name twice, or a
// default that does not parse as the key's type, is a programming error and
// panics, as Kafka's ConfigDef throws.
func (d *Def) Define(k Key) *Def {
	if d.index == nil {
		d.index = make(map[string]int)
	}
	if _, dup := d.index[k.Name]; dup {
		panic(fmt.Sprintf("configdef: configuration %s is defined twice", k.Name))
	}
	if k.Importance == "" {
		k.Importance = Medium
	}
	if k.Width == "" {
		k.Width = WidthNone
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	if k.Group == "" && k.OrderInGroup == 0 {
		k.OrderInGroup = -1
	}
	if k.Default != any(NoDefault) && k.Default != nil {
		v, err := ParseType(k.Name, k.Default, k.Type)
		if err != nil {
			panic(fmt.Sprintf("configdef: invalid default for %s: %v", k.Name, err))
		}
		k.Default = v
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	return d
}

// Keys returns the keys in definition order.
func (d *Def) Keys() []Key { return slices.Clone(d.keys) }

// Key returns the key called name.
func (d *Def) Key(name string) (Key, bool) {
	if d == nil {
		return Key{}, false
	}
	i, ok := d.index[name]
	if !ok {
		return Key{}, false
	}
	return d.keys[i], true
}

// Names returns the key names in definition order.
func (d *Def) Names() []string {
	names := make([]string, len(d.keys))
	for i, k := range d.keys {
		names[i] = k.Name
	}
	return names
}

// Groups returns the distinct non-empty groups in order of first definition.
func (d *Def) Groups() []string {
	var groups []string
	for _, k := range d.keys {
		if k.Group != "" && !slices.Contains(groups, k.Group) {
			groups = append(groups, k.Group)
		}
	}
	return groups
}

// Merge returns a new Def with d's keys followed by those of o that d lacks.
func (d *Def) Merge(o *Def) *Def {
	m := New()
	for _, k := range d.keys {
		m.Define(k)
	}
	if o != nil {
		for _, k := range o.keys {
			if _, dup := m.index[k.Name]; !dup {
				m.Define(k)
			}
		}
	}
	return m
}

// WithPrefix returns a new Def whose key names (and dependents) carry prefix,
// as the runtime declares "transforms.<alias>." keys.
func (d *Def) WithPrefix(prefix string) *Def {
	m := New()
	for _, k := range d.keys {
		k.Name = prefix + k.Name
		if k.DisplayName != "" {
			k.DisplayName = prefix + k.DisplayName
		}
		deps := make([]string, len(k.Dependents))
		for i, dep := range k.Dependents {
			deps[i] = prefix + dep
		}
		k.Dependents = deps
		m.Define(k)
	}
	return m
}
