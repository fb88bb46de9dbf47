package data

import "fmt"

// Builder builds a Schema step by step, as Kafka's SchemaBuilder does. Its
// methods record the first error, which Build returns.
type Builder struct {
	s          Schema
	defaultSet bool
	err        error
}

// NewBuilder starts a schema of type t. Use ArrayBuilder, MapBuilder or
// StructBuilder for container types.
func NewBuilder(t Type) *Builder {
	b := &Builder{s: Schema{Type: t}}
	switch {
	case t == TypeArray || t == TypeMap:
		b.err = fmt.Errorf("%w: use ArrayBuilder or MapBuilder for %s", ErrInvalidSchema, t)
	case !t.IsPrimitive() && t != TypeStruct:
		b.err = fmt.Errorf("%w: unknown type %q", ErrInvalidSchema, string(t))
	}
	return b
}

// StructBuilder starts a struct schema; add fields with Field.
func StructBuilder() *Builder { return &Builder{s: Schema{Type: TypeStruct}} }

// ArrayBuilder starts an array schema whose elements have schema elem.
func ArrayBuilder(elem *Schema) *Builder {
	b := &Builder{s: Schema{Type: TypeArray, ValueSchema: elem}}
	if elem == nil {
		b.err = fmt.Errorf("%w: array needs an element schema", ErrInvalidSchema)
	}
	return b
}

// MapBuilder starts a map schema with the given key and value schemas.
func MapBuilder(key, value *Schema) *Builder {
	b := &Builder{s: Schema{Type: TypeMap, KeySchema: key, ValueSchema: value}}
	if key == nil || value == nil {
		b.err = fmt.Errorf("%w: map needs key and value schemas", ErrInvalidSchema)
	}
	return b
}

// BuilderFrom starts a builder holding a copy of s, to derive a schema.
func BuilderFrom(s *Schema) *Builder {
	c := s.Copy()
	return &Builder{s: *c, defaultSet: c.Default != nil}
}

func (b *Builder) fail(format string, args ...any) *Builder {
	if b.err == nil {
		b.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidSchema}, args...)...)
	}
	return b
}

// Optional lets the schema's value be nil.
func (b *Builder) Optional() *Builder { b.s.Optional = true; return b }

// Required forbids a nil value (the default).
func (b *Builder) Required() *Builder { b.s.Optional = false; return b }

// Name sets the schema name.
func (b *Builder) Name(name string) *Builder { b.s.Name = name; return b }

// Version sets the schema version.
func (b *Builder) Version(v int32) *Builder { b.s.Version = &v; return b }

// Doc sets the schema documentation.
func (b *Builder) Doc(doc string) *Builder { b.s.Doc = doc; return b }

// Parameter sets one schema parameter.
func (b *Builder) Parameter(k, v string) *Builder {
	if b.s.Parameters == nil {
		b.s.Parameters = make(map[string]string)
	}
	b.s.Parameters[k] = v
	return b
}

// Parameters sets several schema parameters.
func (b *Builder) Parameters(p map[string]string) *Builder {
	for k, v := range p {
		b.Parameter(k, v)
	}
	return b
}

// Default sets the default value; Build checks it against the schema.
func (b *Builder) Default(v any) *Builder {
	b.s.Default = v
	b.defaultSet = v != nil
	return b
}

// Field appends a field to a struct schema. Field names must be unique.
func (b *Builder) Field(name string, s *Schema) *Builder {
	if b.s.Type != TypeStruct {
		return b.fail("cannot add field %q to a %s schema", name, b.s.Type)
	}
	if name == "" {
		return b.fail("field name cannot be empty")
	}
	if s == nil {
		return b.fail("field %q has no schema", name)
	}
	if _, dup := b.s.Field(name); dup {
		return b.fail("cannot create field because of field name duplication %q", name)
	}
	b.s.Fields = append(b.s.Fields, Field{Name: name, Index: len(b.s.Fields), Schema: s})
	return b
}

// Build returns the schema, or the first error any step recorded.
func (b *Builder) Build() (*Schema, error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s.Copy()
	if b.defaultSet {
		if err := Validate(s, s.Default); err != nil {
			return nil, fmt.Errorf("%w: invalid default value: %w", ErrInvalidSchema, err)
		}
	}
	return s, nil
}

// MustBuild is Build for schemas known to be valid, such as those written as
// literals in a program; it panics on error.
func (b *Builder) MustBuild() *Schema {
	s, err := b.Build()
	if err != nil {
		panic(err)
	}
	return s
}
