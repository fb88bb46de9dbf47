package data

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Errors returned by this package; match them with errors.Is.
var (
	// ErrInvalidValue reports a value that does not fit its schema (Kafka's DataException).
	ErrInvalidValue = errors.New("data: invalid value")
	// ErrInvalidSchema reports a schema that cannot be built (Kafka's SchemaBuilderException).
	ErrInvalidSchema = errors.New("data: invalid schema")
	// ErrNoField reports a field name that a struct schema does not have.
	ErrNoField = errors.New("data: no such field")
)

// Type is a schema type. Its string form is the lower-case name Kafka uses in
// JSON schemas ("int8", "struct", …).
type Type string

// The schema types of Kafka Connect.
const (
	TypeInt8    Type = "int8"
	TypeInt16   Type = "int16"
	TypeInt32   Type = "int32"
	TypeInt64   Type = "int64"
	TypeFloat32 Type = "float32"
	TypeFloat64 Type = "float64"
	TypeBoolean Type = "boolean"
	TypeString  Type = "string"
	TypeBytes   Type = "bytes"
	TypeArray   Type = "array"
	TypeMap     Type = "map"
	TypeStruct  Type = "struct"
)

// Types lists every schema type, primitives first.
func Types() []Type {
	return []Type{TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64,
		TypeBoolean, TypeString, TypeBytes, TypeArray, TypeMap, TypeStruct}
}

// ParseType returns the Type named s, ignoring case ("INT32" and "int32" both
// name TypeInt32), and false for an unknown name.
func ParseType(s string) (Type, bool) {
	t := Type(strings.ToLower(s))
	if slices.Contains(Types(), t) {
		return t, true
	}
	return "", false
}

// IsPrimitive reports whether t is neither an array, a map nor a struct.
func (t Type) IsPrimitive() bool {
	switch t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64,
		TypeBoolean, TypeString, TypeBytes:
		return true
	}
	return false
}

// Schema describes the shape of a key, value or header of a Connect record.
// Build schemas with a Builder; a built Schema must not be modified.
type Schema struct {
	// Type is the schema type.
	Type Type
	// Optional permits a nil value.
	Optional bool
	// Default is the value used for a missing struct field (nil = none).
	Default any
	// Name identifies a named (often logical) schema, e.g. DecimalName.
	Name string
	// Version is the schema version, nil when unset.
	Version *int32
	// Doc is free documentation.
	Doc string
	// Parameters are extra string properties, e.g. the scale of a Decimal.
	Parameters map[string]string
	// Fields are the fields of a struct schema, in order.
	Fields []Field
	// KeySchema is the schema of a map's keys.
	KeySchema *Schema
	// ValueSchema is the schema of a map's values or an array's elements.
	ValueSchema *Schema
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Required returns a required schema of the primitive type t.
func Required(t Type) *Schema { return &Schema{Type: t} }

// Optional returns an optional schema of the primitive type t.
func Optional(t Type) *Schema { return &Schema{Type: t, Optional: true} }

// Field returns the struct field called name.
func (s *Schema) Field(name string) (Field, bool) {
	if s == nil {
		return Field{}, false
	}
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Equal reports whether s and o describe the same schema: same type,
// optionality, default, name, version, doc, parameters and, recursively, the
// same fields, key and value schemas. Two nil schemas are equal.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Optional != o.Optional || s.Name != o.Name || s.Doc != o.Doc {
		return false
	}
	if (s.Version == nil) != (o.Version == nil) || (s.Version != nil && *s.Version != *o.Version) {
		return false
	}
	if len(s.Parameters) != len(o.Parameters) || !maps.Equal(s.Parameters, o.Parameters) {
		return false
	}
	if !ValuesEqual(s.Default, o.Default) {
		return false
	}
	if len(s.Fields) != len(o.Fields) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || s.Fields[i].Index != o.Fields[i].Index ||
			!s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return s.KeySchema.Equal(o.KeySchema) && s.ValueSchema.Equal(o.ValueSchema)
}

// String returns a short description such as "Schema{STRUCT}" or
// "Schema{org.apache.kafka.connect.data.Decimal:BYTES}", as Kafka prints schemas.
func (s *Schema) String() string {
	if s == nil {
		return "Schema{null}"
	}
	if s.Name != "" {
		return fmt.Sprintf("Schema{%s:%s}", s.Name, strings.ToUpper(string(s.Type)))
	}
	return fmt.Sprintf("Schema{%s}", strings.ToUpper(string(s.Type)))
}

// Copy returns a deep copy of s that a Builder-like caller may modify, for
// transformations that derive a schema from another (e.g. making it optional).
func (s *Schema) Copy() *Schema {
	if s == nil {
		return nil
	}
	c := *s
	if s.Version != nil {
		v := *s.Version
		c.Version = &v
	}
	c.Parameters = maps.Clone(s.Parameters)
	if s.Fields != nil {
		c.Fields = make([]Field, len(s.Fields))
		for i, f := range s.Fields {
			c.Fields[i] = Field{Name: f.Name, Index: f.Index, Schema: f.Schema.Copy()}
		}
	}
	c.KeySchema = s.KeySchema.Copy()
	c.ValueSchema = s.ValueSchema.Copy()
	return &c
}
