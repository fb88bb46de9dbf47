// Package transforms holds Runnel Connect's single message transforms (SMTs)
// and predicates, with Kafka's class names so that connector configurations
// written for Kafka work unchanged:
//
//	transforms=addSource,route
//	transforms.addSource.type=org.apache.kafka.connect.transforms.InsertField$Value
//	transforms.addSource.static.field=source
//	transforms.addSource.static.value=web
//	transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
//	transforms.route.regex=(.*)-raw
//	transforms.route.replacement=$1
//
// Transformations that work on the key or the value come as a $Key and a
// $Value class. Each works on records with a schema (a *data.Struct value)
// and on schemaless records (a map[string]any value), as in Kafka. Plugins
// lists the constructors by class name; the runtime's Registry loads it.
// The runtime also applies a transformation's predicate and its negate flag.
package transforms

import (
	"errors"

	"github.com/runnel/runnel/connect/connector"
)

// ErrData is wrapped by every error a transformation returns for a record
// it cannot transform (Kafka's DataException).
var ErrData = errors.New("transforms: data error")

// Version is the version the transformations report as plugins.
const Version = "3.9.0"

const (
	classPrefix     = "org.apache.kafka.connect.transforms."
	predicatePrefix = "org.apache.kafka.connect.transforms.predicates."
)

// Transformation describes one transformation class.
type Transformation struct {
	// Class is Kafka's class name, e.g.
	// org.apache.kafka.connect.transforms.InsertField$Value.
	Class string
	// Aliases are shorter names also accepted, e.g. InsertField$Value.
	Aliases []string
	// New returns an unconfigured instance.
	New func() connector.Transformation
}

// Predicate describes one predicate class.
type Predicate struct {
	Class   string
	Aliases []string
	New     func() connector.Predicate
}

func keyValue(name string, newT func(side) connector.Transformation) []Transformation {
	return []Transformation{
		{Class: classPrefix + name + "$Key", Aliases: []string{name + "$Key"},
			New: func() connector.Transformation { return newT(keySide) }},
		{Class: classPrefix + name + "$Value", Aliases: []string{name + "$Value"},
			New: func() connector.Transformation { return newT(valueSide) }},
	}
}

// Transformations returns every transformation class, for the runtime's
// Registry.
func Transformations() []Transformation {
	var out []Transformation
	out = append(out, keyValue("InsertField", func(s side) connector.Transformation { return &InsertField{side: s} })...)
	out = append(out, keyValue("ReplaceField", func(s side) connector.Transformation { return &ReplaceField{side: s} })...)
	out = append(out, keyValue("MaskField", func(s side) connector.Transformation { return &MaskField{side: s} })...)
	out = append(out, keyValue("ExtractField", func(s side) connector.Transformation { return &ExtractField{side: s} })...)
	out = append(out, keyValue("HoistField", func(s side) connector.Transformation { return &HoistField{side: s} })...)
	out = append(out, keyValue("Cast", func(s side) connector.Transformation { return &Cast{side: s} })...)
	out = append(out,
		Transformation{Class: classPrefix + "ValueToKey", Aliases: []string{"ValueToKey"},
			New: func() connector.Transformation { return &ValueToKey{} }},
		Transformation{Class: classPrefix + "RegexRouter", Aliases: []string{"RegexRouter"},
			New: func() connector.Transformation { return &RegexRouter{} }},
		Transformation{Class: classPrefix + "TimestampRouter", Aliases: []string{"TimestampRouter"},
			New: func() connector.Transformation { return &TimestampRouter{} }},
		Transformation{Class: classPrefix + "Filter", Aliases: []string{"Filter"},
			New: func() connector.Transformation { return &Filter{} }},
	)
	return out
}

// Predicates returns every predicate class, for the runtime's Registry.
func Predicates() []Predicate {
	return []Predicate{
		{Class: predicatePrefix + "TopicNameMatches", Aliases: []string{"TopicNameMatches"},
			New: func() connector.Predicate { return &TopicNameMatches{} }},
		{Class: predicatePrefix + "HasHeaderKey", Aliases: []string{"HasHeaderKey"},
			New: func() connector.Predicate { return &HasHeaderKey{} }},
		{Class: predicatePrefix + "RecordIsTombstone", Aliases: []string{"RecordIsTombstone"},
			New: func() connector.Predicate { return &RecordIsTombstone{} }},
	}
}
