package data

import (
	"fmt"
	"strings"
)

// Struct is the value of a struct schema: one value per field, by index.
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns an empty Struct of schema s, which must be a struct schema.
func NewStruct(s *Schema) *Struct {
	if s == nil || s.Type != TypeStruct {
		panic(fmt.Sprintf("data: NewStruct on non-struct %v", s))
	}
	return &Struct{schema: s, values: make([]any, len(s.Fields))}
}

// Schema returns the struct's schema.
func (s *Struct) Schema() *Schema { return s.schema }

// Get returns the value of field name: the value put, else the field's
// default, else nil. A name the schema lacks returns nil; use Lookup to tell.
func (s *Struct) Get(name string) any {
	v, _ := s.Lookup(name)
	return v
}

// Lookup is Get that also reports whether the schema has the field.
func (s *Struct) Lookup(name string) (any, bool) {
	f, ok := s.schema.Field(name)
	if !ok {
		return nil, false
	}
	if v := s.values[f.Index]; v != nil {
		return v, true
	}
	return f.Schema.Default, true
}

// GetRaw returns the value put in field name, without applying its default.
func (s *Struct) GetRaw(name string) any {
	f, ok := s.schema.Field(name)
	if !ok {
		return nil
	}
	return s.values[f.Index]
}

// Put sets field name to v after validating v against the field's schema.
func (s *Struct) Put(name string, v any) error {
	f, ok := s.schema.Field(name)
	if !ok {
		return fmt.Errorf("%w: %q is not a valid field name", ErrNoField, name)
	}
	if err := validate(f.Schema, v, "field: \""+name+"\""); err != nil {
		return err
	}
	s.values[f.Index] = v
	return nil
}

// MustPut is Put for values known to fit, returning s for chaining; it panics
// on error.
func (s *Struct) MustPut(name string, v any) *Struct {
	if err := s.Put(name, v); err != nil {
		panic(err)
	}
	return s
}

// Validate checks that every required field without a default has a value.
func (s *Struct) Validate() error {
	for _, f := range s.schema.Fields {
		v := s.values[f.Index]
		if v == nil {
			v = f.Schema.Default
		}
		if err := validate(f.Schema, v, "field: \""+f.Name+"\""); err != nil {
			return err
		}
	}
	return nil
}

// Equal reports whether s and o have equal schemas and field values.
func (s *Struct) Equal(o *Struct) bool {
	if s == nil || o == nil {
		return s == o
	}
	if !s.schema.Equal(o.schema) {
		return false
	}
	for i := range s.values {
		if !ValuesEqual(s.values[i], o.values[i]) {
			return false
		}
	}
	return true
}

// String prints the struct as Kafka does: Struct{a=1,b=x}, skipping nil fields.
func (s *Struct) String() string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for _, f := range s.schema.Fields {
		v := s.values[f.Index]
		if v == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%v", f.Name, v)
	}
	b.WriteByte('}')
	return b.String()
}
