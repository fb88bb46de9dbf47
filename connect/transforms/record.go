package transforms

import (
	"fmt"
	"maps"
	"sync"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// side selects the part of a record a $Key or $Value transformation works on.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) schema(r connector.Record) *data.Schema {
	if s == keySide {
		return r.KeySchema
	}
	return r.ValueSchema
}

func (s side) value(r connector.Record) any {
	if s == keySide {
		return r.Key
	}
	return r.Value
}

// with returns r with this side's schema and value replaced.
func (s side) with(r connector.Record, schema *data.Schema, v any) connector.Record {
	if s == keySide {
		r.KeySchema, r.Key = schema, v
	} else {
		r.ValueSchema, r.Value = schema, v
	}
	return r
}

// replaceNullKey is the replace.null.with.default key several transforms share.
func replaceNullKey() configdef.Key {
	return configdef.Key{Name: "replace.null.with.default", Type: configdef.Boolean, Default: true,
		Importance: configdef.Medium,
		Documentation: "When true, a null field whose schema has a default is read as that default; when false it " +
			"stays null."}
}

// requireMap returns a copy of v as map[string]any, or an error naming the
// purpose, as Kafka's Requirements.requireMap does.
func requireMap(v any, purpose string) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return maps.Clone(m), nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%w: only maps with string keys supported in absence of schema for [%s], found key of type %T", ErrData, purpose, k)
			}
			out[ks] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: only Map objects supported in absence of schema for [%s], found: %s", ErrData, purpose, typeName(v))
}

// requireStruct returns v as a struct, or an error naming the purpose.
func requireStruct(v any, purpose string) (*data.Struct, error) {
	if st, ok := v.(*data.Struct); ok && st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("%w: only Struct objects supported for [%s], found: %s", ErrData, purpose, typeName(v))
}

func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// structBuilderFrom starts a struct schema with s's name, version, doc and
// parameters (Kafka's SchemaUtil.copySchemaBasics) and optionality.
func structBuilderFrom(s *data.Schema) *data.Builder {
	b := data.StructBuilder().Name(s.Name).Doc(s.Doc).Parameters(s.Parameters)
	if s.Version != nil {
		b.Version(*s.Version)
	}
	if s.Optional {
		b.Optional()
	}
	return b
}

// fieldValue reads a struct field with or without its default, as
// replace.null.with.default asks.
func fieldValue(st *data.Struct, name string, withDefault bool) any {
	if withDefault {
		return st.Get(name)
	}
	return st.GetRaw(name)
}

// put sets a struct field, wrapping a validation error so it names the field.
func put(st *data.Struct, name string, v any) error {
	if err := st.Put(name, v); err != nil {
		return fmt.Errorf("%w: field %q: %w", ErrData, name, err)
	}
	return nil
}

// schemaCache remembers the schema a transformation derived from an input
// schema, as Kafka's transforms do with an LRU cache of 16 entries. Keys are
// schema pointers; a miss only costs a rebuild.
type schemaCache struct {
	mu  sync.Mutex // a transformation may be shared by goroutines
	in  []*data.Schema
	out []*data.Schema
}

func (c *schemaCache) get(in *data.Schema) *data.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.in {
		if s == in {
			return c.out[i]
		}
	}
	return nil
}

func (c *schemaCache) put(in, out *data.Schema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.in) >= 16 {
		c.in, c.out = c.in[1:], c.out[1:]
	}
	c.in = append(c.in, in)
	c.out = append(c.out, out)
}
