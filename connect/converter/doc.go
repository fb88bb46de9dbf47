// Package converter holds Runnel Connect's converters: StringConverter,
// ByteArrayConverter and JsonConverter, which turn Connect data (a schema and
// a value, see package data) into the bytes of a Kafka record key or value and
// back. They are chosen by class name with key.converter and value.converter,
// at worker or connector level, and write exactly the bytes Kafka's Java
// converters write, so that Runnel and Java workers can share topics.
//
// JsonConverter follows Kafka's org.apache.kafka.connect.json.JsonConverter:
// with schemas.enable=true (the default) every message is an envelope
// {"schema":{…},"payload":…} whose schema uses Kafka's JSON schema format
// ("type", "optional", "name", "version", "doc", "parameters", "default",
// "items", "keys", "values", "fields" with "field"); with schemas.enable=false
// the message is the bare payload and reads back as schemaless data
// (integers as int64, other numbers as float64, objects as map[string]any).
package converter

import (
	"errors"

	"github.com/runnel/runnel/connect/configdef"
)

// Class names of the converters, as Kafka's configurations name them.
const (
	StringClass    = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayClass = "org.apache.kafka.connect.converters.ByteArrayConverter"
	JSONClass      = "org.apache.kafka.connect.json.JsonConverter"
)

// TypeConfig is the converter.type key every converter defines ("key",
// "value" or "header"); Configure sets it from its isKey argument.
const TypeConfig = "converter.type"

// ErrData is wrapped by every conversion error (Kafka's DataException).
var ErrData = errors.New("converter: data error")

// Version is the version the converters report as plugins.
const Version = "3.9.0"

// typeKey declares converter.type, as Kafka's ConverterConfig does.
func typeKey() configdef.Key {
	return configdef.Key{
		Name: TypeConfig, Type: configdef.String, Default: configdef.NoDefault,
		Validator:     configdef.CaseInsensitiveValidString("key", "value", "header"),
		Importance:    configdef.Low,
		Documentation: "Whether the converter handles keys, values or headers; the runtime sets it.",
	}
}

// withType returns a copy of props with converter.type set from isKey.
func withType(props map[string]string, isKey bool) map[string]string {
	out := make(map[string]string, len(props)+1)
	for k, v := range props {
		out[k] = v
	}
	if isKey {
		out[TypeConfig] = "key"
	} else {
		out[TypeConfig] = "value"
	}
	return out
}
