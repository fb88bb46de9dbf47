package transforms

import (
	"fmt"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// InsertField is Kafka's InsertField$Key / InsertField$Value: it adds the
// record's topic, partition, offset (sink records only), timestamp or a
// static string as fields of a struct or map. A field name ending in '!' is
// a required field in the new schema, one ending in '?' (the default) an
// optional one. A null key or value passes through unchanged.
type InsertField struct {
	side
	topic, partition, offset, timestamp, static *insertion
	staticValue                                 string
	replaceNull                                 bool
	cache                                       schemaCache
}

type insertion struct {
	name     string
	optional bool
}

func parseInsertion(v any) *insertion {
	s, _ := v.(string)
	if v == nil {
		return nil
	}
	switch {
	case strings.HasSuffix(s, "?"):
		return &insertion{name: s[:len(s)-1], optional: true}
	case strings.HasSuffix(s, "!"):
		return &insertion{name: s[:len(s)-1]}
	}
	return &insertion{name: s, optional: true}
}

const optionalityDoc = "End the name with ! for a required field or ? (the default) for an optional one."

// Version implements the plugin version.
func (*InsertField) Version() string { return Version }

// ConfigDef declares topic.field, partition.field, offset.field,
// timestamp.field, static.field, static.value and replace.null.with.default.
func (*InsertField) ConfigDef() *configdef.Def {
	str := func(name, doc string) configdef.Key {
		return configdef.Key{Name: name, Type: configdef.String, Default: nil, Importance: configdef.Medium, Documentation: doc}
	}
	return configdef.New().
		Define(str("topic.field", "Field that receives the topic name. "+optionalityDoc)).
		Define(str("partition.field", "Field that receives the partition. "+optionalityDoc)).
		Define(str("offset.field", "Field that receives the Kafka offset (sink connectors only). "+optionalityDoc)).
		Define(str("timestamp.field", "Field that receives the record timestamp. "+optionalityDoc)).
		Define(str("static.field", "Field that receives static.value. "+optionalityDoc)).
		Define(str("static.value", "Text written into static.field.")).
		Define(replaceNullKey())
}

// Configure reads the configuration; at least one field must be configured.
func (t *InsertField) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.topic = parseInsertion(p["topic.field"])
	t.partition = parseInsertion(p["partition.field"])
	t.offset = parseInsertion(p["offset.field"])
	t.timestamp = parseInsertion(p["timestamp.field"])
	t.static = parseInsertion(p["static.field"])
	t.replaceNull = p["replace.null.with.default"].(bool)
	if t.topic == nil && t.partition == nil && t.offset == nil && t.timestamp == nil && t.static == nil {
		return fmt.Errorf("%w: No field insertion configured", configdef.ErrInvalidConfig)
	}
	if sv, ok := p["static.value"].(string); ok {
		t.staticValue = sv
	} else if t.static != nil {
		return configdef.Invalid("static.value", nil, "No value specified for static field: %s", t.static.name)
	}
	return nil
}

const insertPurpose = "field insertion"

// Apply inserts the configured fields.
func (t *InsertField) Apply(r connector.Record) (connector.Record, bool, error) {
	v := t.value(r)
	if v == nil {
		return r, true, nil
	}
	if t.offset != nil && r.Offset == nil {
		return r, false, fmt.Errorf("%w: only SinkRecord supported for [%s], found a source record", ErrData, insertPurpose)
	}
	if t.schema(r) == nil {
		m, err := requireMap(v, insertPurpose)
		if err != nil {
			return r, false, err
		}
		if t.topic != nil {
			m[t.topic.name] = r.Topic
		}
		if t.partition != nil && r.Partition != nil {
			m[t.partition.name] = *r.Partition
		}
		if t.offset != nil {
			m[t.offset.name] = *r.Offset
		}
		if t.timestamp != nil && r.Timestamp != nil {
			m[t.timestamp.name] = *r.Timestamp
		}
		if t.static != nil {
			m[t.static.name] = t.staticValue
		}
		return t.with(r, nil, m), true, nil
	}
	st, err := requireStruct(v, insertPurpose)
	if err != nil {
		return r, false, err
	}
	schema := t.cache.get(st.Schema())
	if schema == nil {
		if schema, err = t.updatedSchema(st.Schema()); err != nil {
			return r, false, err
		}
		t.cache.put(st.Schema(), schema)
	}
	out := data.NewStruct(schema)
	for _, f := range st.Schema().Fields {
		if err := put(out, f.Name, fieldValue(st, f.Name, t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	sets := []struct {
		ins *insertion
		v   any
		ok  bool
	}{
		{t.topic, r.Topic, true},
		{t.partition, deref(r.Partition), r.Partition != nil},
		{t.offset, deref(r.Offset), true},
		{t.timestamp, timestampValue(r.Timestamp), r.Timestamp != nil},
		{t.static, t.staticValue, true},
	}
	for _, s := range sets {
		if s.ins != nil && s.ok {
			if err := put(out, s.ins.name, s.v); err != nil {
				return r, false, err
			}
		}
	}
	if err := out.Validate(); err != nil {
		return r, false, fmt.Errorf("%w: %w", ErrData, err)
	}
	return t.with(r, schema, out), true, nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func timestampValue(ms *int64) any {
	if ms == nil {
		return nil
	}
	return time.UnixMilli(*ms).UTC()
}

func (t *InsertField) updatedSchema(s *data.Schema) (*data.Schema, error) {
	b := structBuilderFrom(s)
	for _, f := range s.Fields {
		b.Field(f.Name, f.Schema)
	}
	add := func(ins *insertion, base *data.Builder) {
		if ins == nil {
			return
		}
		if ins.optional {
			base.Optional()
		}
		b.Field(ins.name, base.MustBuild())
	}
	add(t.topic, data.NewBuilder(data.TypeString))
	add(t.partition, data.NewBuilder(data.TypeInt32))
	add(t.offset, data.NewBuilder(data.TypeInt64))
	add(t.timestamp, data.TimestampBuilder())
	add(t.static, data.NewBuilder(data.TypeString))
	out, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return out, nil
}

// Close releases nothing.
func (*InsertField) Close() error { return nil }
