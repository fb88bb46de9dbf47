package transforms

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// ReplaceField is Kafka's ReplaceField$Key / ReplaceField$Value: it drops
// fields (exclude), keeps only some (include) and renames others (renames,
// "old:new" pairs). The deprecated names blacklist and whitelist are
// accepted for exclude and include. A null key or value passes through.
type ReplaceField struct {
	side
	exclude, include []string
	renames          map[string]string
	reverse          map[string]string
	replaceNull      bool
	cache            schemaCache
}

// Version implements the plugin version.
func (*ReplaceField) Version() string { return Version }

// ConfigDef declares exclude, include, renames and replace.null.with.default.
func (*ReplaceField) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "exclude", Type: configdef.List, Default: "", Importance: configdef.Medium,
			Documentation: "Names of fields to drop; a field listed here is dropped even if include lists it."}).
		Define(configdef.Key{Name: "include", Type: configdef.List, Default: "", Importance: configdef.Medium,
			Documentation: "Names of the only fields to keep; empty keeps every field."}).
		Define(configdef.Key{Name: "renames", Type: configdef.List, Default: "", Importance: configdef.Medium,
			Validator: configdef.ValidatorFunc(func(name string, v any) error {
				_, err := parseRenames(v.([]string))
				return err
			}),
			Documentation: "Comma-separated old:new pairs of fields to rename."}).
		Define(configdef.Key{Name: "blacklist", Type: configdef.List, Default: nil, Internal: true,
			Documentation: "Old name of exclude."}).
		Define(configdef.Key{Name: "whitelist", Type: configdef.List, Default: nil, Internal: true,
			Documentation: "Old name of include."}).
		Define(replaceNullKey())
}

// parseRenames splits "old:new" pairs as Kafka does (String.split(":"),
// which drops trailing empty parts) and rejects anything but two parts.
func parseRenames(pairs []string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		parts := strings.Split(pair, ":")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) != 2 {
			return nil, configdef.Invalid("renames", pairs, "Invalid rename mapping: %s", pair)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

// Configure reads the configuration.
func (t *ReplaceField) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.exclude, t.include = p["exclude"].([]string), p["include"].([]string)
	if l, ok := p["blacklist"].([]string); ok && len(t.exclude) == 0 {
		t.exclude = l
	}
	if l, ok := p["whitelist"].([]string); ok && len(t.include) == 0 {
		t.include = l
	}
	t.renames, _ = parseRenames(p["renames"].([]string))
	t.reverse = make(map[string]string, len(t.renames))
	for k, v := range t.renames {
		t.reverse[v] = k
	}
	t.replaceNull = p["replace.null.with.default"].(bool)
	return nil
}

func (t *ReplaceField) keep(name string) bool {
	return !slices.Contains(t.exclude, name) && (len(t.include) == 0 || slices.Contains(t.include, name))
}

func (t *ReplaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

const replacePurpose = "field replacement"

// Apply filters and renames fields.
func (t *ReplaceField) Apply(r connector.Record) (connector.Record, bool, error) {
	v := t.value(r)
	if v == nil {
		return r, true, nil
	}
	if t.schema(r) == nil {
		m, err := requireMap(v, replacePurpose)
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		return t.with(r, nil, out), true, nil
	}
	st, err := requireStruct(v, replacePurpose)
	if err != nil {
		return r, false, err
	}
	schema := t.cache.get(st.Schema())
	if schema == nil {
		b := structBuilderFrom(st.Schema())
		for _, f := range st.Schema().Fields {
			if t.keep(f.Name) {
				b.Field(t.renamed(f.Name), f.Schema)
			}
		}
		if schema, err = b.Build(); err != nil {
			return r, false, fmt.Errorf("%w: %w", ErrData, err)
		}
		t.cache.put(st.Schema(), schema)
	}
	out := data.NewStruct(schema)
	for _, f := range schema.Fields {
		orig := f.Name
		if o, ok := t.reverse[f.Name]; ok {
			orig = o
		}
		if err := put(out, f.Name, fieldValue(st, orig, t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	return t.with(r, schema, out), true, nil
}

// Close releases nothing.
func (*ReplaceField) Close() error { return nil }

// MaskField is Kafka's MaskField$Key / MaskField$Value: it replaces the
// listed fields with the "null value" of their type (0, false, "", an empty
// array or map, the epoch for dates, zero for decimals) or, for numbers and
// strings, with a configured replacement. A null key or value passes
// through (Kafka fails on it).
type MaskField struct {
	side
	fields      []string
	replacement *string
	replaceNull bool
}

// Version implements the plugin version.
func (*MaskField) Version() string { return Version }

// ConfigDef declares fields, replacement and replace.null.with.default.
func (*MaskField) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "fields", Type: configdef.List, Default: configdef.NoDefault,
			Validator: configdef.NonEmptyList(), Importance: configdef.High, Documentation: "Names of the fields whose values are replaced."}).
		Define(configdef.Key{Name: "replacement", Type: configdef.String, Default: nil,
			Validator: configdef.Nullable(configdef.NonEmptyString()), Importance: configdef.Low,
			Documentation: "Value written into every masked field instead of the empty value of its type; only for number and string fields."}).
		Define(replaceNullKey())
}

// Configure reads the configuration.
func (t *MaskField) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.fields = p["fields"].([]string)
	if s, ok := p["replacement"].(string); ok {
		t.replacement = &s
	}
	t.replaceNull = p["replace.null.with.default"].(bool)
	return nil
}

const maskPurpose = "mask fields"

// Apply masks the fields.
func (t *MaskField) Apply(r connector.Record) (connector.Record, bool, error) {
	v := t.value(r)
	if v == nil {
		return r, true, nil
	}
	if t.schema(r) == nil {
		m, err := requireMap(v, maskPurpose)
		if err != nil {
			return r, false, err
		}
		for _, f := range t.fields {
			mv, err := t.masked(f, m[f])
			if err != nil {
				return r, false, err
			}
			m[f] = mv
		}
		return t.with(r, nil, m), true, nil
	}
	st, err := requireStruct(v, maskPurpose)
	if err != nil {
		return r, false, err
	}
	out := data.NewStruct(st.Schema())
	for _, f := range st.Schema().Fields {
		fv := fieldValue(st, f.Name, t.replaceNull)
		if slices.Contains(t.fields, f.Name) {
			if fv, err = t.masked(f.Name, fv); err != nil {
				return r, false, err
			}
		}
		if err := put(out, f.Name, fv); err != nil {
			return r, false, err
		}
	}
	return t.with(r, t.schema(r), out), true, nil
}

func (t *MaskField) masked(field string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replacement != nil {
		return maskWith(field, v, *t.replacement)
	}
	switch x := v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case int:
		return 0, nil
	case float32:
		return float32(0), nil
	case float64:
		return 0.0, nil
	case string:
		return "", nil
	case data.Decimal:
		return data.Decimal{Unscaled: new(big.Int), Scale: x.Scale}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("%w: field %q: cannot mask value of type: %T", ErrData, field, v)
}

func maskWith(field string, v any, repl string) (any, error) {
	bad := func() error {
		return fmt.Errorf("%w: field %q: unable to convert %s to %T", ErrData, field, repl, v)
	}
	parseInt := func(bits int) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(repl), 10, bits)
		if err != nil {
			return 0, bad()
		}
		return n, nil
	}
	switch v.(type) {
	case string:
		return repl, nil
	case int8:
		n, err := parseInt(8)
		return int8(n), err
	case int16:
		n, err := parseInt(16)
		return int16(n), err
	case int32:
		n, err := parseInt(32)
		return int32(n), err
	case int64:
		return parseInt(64)
	case float32:
		f, err := strconv.ParseFloat(strings.TrimSpace(repl), 32)
		if err != nil {
			return nil, bad()
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(repl), 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	case data.Decimal:
		d, err := data.ParseDecimal(repl)
		if err != nil {
			return nil, bad()
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: field %q: cannot mask value of type %T with custom replacement", ErrData, field, v)
}

// Close releases nothing.
func (*MaskField) Close() error { return nil }

// ValueToKey is Kafka's ValueToKey: it replaces the key with a struct (or
// map) of the listed fields of the value.
type ValueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache
}

// Version implements the plugin version.
func (*ValueToKey) Version() string { return Version }

// ConfigDef declares fields and replace.null.with.default.
func (*ValueToKey) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "fields", Type: configdef.List, Default: configdef.NoDefault,
			Validator: configdef.NonEmptyList(), Importance: configdef.High,
			Documentation: "Names of the value fields that make up the new key."}).
		Define(replaceNullKey())
}

// Configure reads the configuration.
func (t *ValueToKey) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.fields = p["fields"].([]string)
	t.replaceNull = p["replace.null.with.default"].(bool)
	return nil
}

const valueToKeyPurpose = "copying fields from value to key"

// Apply builds the key.
func (t *ValueToKey) Apply(r connector.Record) (connector.Record, bool, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, valueToKeyPurpose)
		if err != nil {
			return r, false, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		r.KeySchema, r.Key = nil, key
		return r, true, nil
	}
	st, err := requireStruct(r.Value, valueToKeyPurpose)
	if err != nil {
		return r, false, err
	}
	schema := t.cache.get(st.Schema())
	if schema == nil {
		b := data.StructBuilder()
		for _, name := range t.fields {
			f, ok := st.Schema().Field(name)
			if !ok {
				return r, false, fmt.Errorf("%w: field does not exist: %s", ErrData, name)
			}
			b.Field(name, f.Schema)
		}
		if schema, err = b.Build(); err != nil {
			return r, false, fmt.Errorf("%w: %w", ErrData, err)
		}
		t.cache.put(st.Schema(), schema)
	}
	key := data.NewStruct(schema)
	for _, f := range t.fields {
		if err := put(key, f, fieldValue(st, f, t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	r.KeySchema, r.Key = schema, key
	return r, true, nil
}

// Close releases nothing.
func (*ValueToKey) Close() error { return nil }

// HoistField is Kafka's HoistField$Key / HoistField$Value: it wraps the key
// or value in a struct (or map) with one field.
type HoistField struct {
	side
	field string
	cache schemaCache
}

// Version implements the plugin version.
func (*HoistField) Version() string { return Version }

// ConfigDef declares field.
func (*HoistField) ConfigDef() *configdef.Def {
	return configdef.New().Define(configdef.Key{Name: "field", Type: configdef.String, Default: configdef.NoDefault,
		Importance:    configdef.Medium,
		Documentation: "Name of the one field of the struct or map that wraps the key or value."})
}

// Configure reads the configuration.
func (t *HoistField) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.field = p["field"].(string)
	return nil
}

// Apply wraps the key or value.
func (t *HoistField) Apply(r connector.Record) (connector.Record, bool, error) {
	s, v := t.schema(r), t.value(r)
	if s == nil {
		return t.with(r, nil, map[string]any{t.field: v}), true, nil
	}
	schema := t.cache.get(s)
	if schema == nil {
		var err error
		if schema, err = data.StructBuilder().Field(t.field, s).Build(); err != nil {
			return r, false, fmt.Errorf("%w: %w", ErrData, err)
		}
		t.cache.put(s, schema)
	}
	out := data.NewStruct(schema)
	if err := put(out, t.field, v); err != nil {
		return r, false, err
	}
	return t.with(r, schema, out), true, nil
}

// Close releases nothing.
func (*HoistField) Close() error { return nil }

// ExtractField is Kafka's ExtractField$Key / ExtractField$Value: it replaces
// the key or value with one of its fields. With field.syntax.version=V2 the
// field is a dotted path into nested structs or maps (backticks quote names
// containing dots). A null key or value stays null.
type ExtractField struct {
	side
	path        []string
	original    string
	replaceNull bool
}

// Version implements the plugin version.
func (*ExtractField) Version() string { return Version }

// ConfigDef declares field, field.syntax.version and replace.null.with.default.
func (*ExtractField) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "field", Type: configdef.String, Default: configdef.NoDefault,
			Importance: configdef.Medium, Documentation: "Name (or, with field.syntax.version=V2, dotted path) of the field that replaces the key or value."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

func fieldSyntaxKey() configdef.Key {
	return configdef.Key{Name: "field.syntax.version", Type: configdef.String, Default: "V1",
		Validator: configdef.CaseInsensitiveValidString("V1", "V2"), Importance: configdef.High,
		Documentation: "How field names are read. V1: a name is one top-level field. V2: a name is a dotted path " +
			"into nested structs or maps; wrap a step that itself contains dots in backticks, as in `a.b`.c."}
}

// Configure reads the configuration.
func (t *ExtractField) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.original = p["field"].(string)
	t.replaceNull = p["replace.null.with.default"].(bool)
	if strings.EqualFold(p["field.syntax.version"].(string), "V2") {
		if t.path, err = parseFieldPath(t.original); err != nil {
			return err
		}
	} else {
		t.path = []string{t.original}
	}
	return nil
}

// parseFieldPath splits a V2 field path on dots; a step wrapped in
// backticks may contain dots, and \` inside it is a literal backtick (KIP-821).
func parseFieldPath(path string) ([]string, error) {
	var steps []string
	i := 0
	for i < len(path) {
		if path[i] != '`' {
			j := strings.IndexByte(path[i:], '.')
			if j < 0 {
				steps = append(steps, path[i:])
				i = len(path)
				break
			}
			steps = append(steps, path[i:i+j])
			i += j + 1
			continue
		}
		open := i
		i++
		start := i
		var field strings.Builder
		for {
			j := strings.IndexByte(path[i:], '`')
			if j < 0 {
				return nil, incompleteBacktick(path, open)
			}
			i += j
			escaped := path[i-1] == '\\'
			if i >= len(path)-1 { // closing backtick at the end
				if escaped {
					return nil, incompleteBacktick(path, open)
				}
				field.WriteString(path[start:i])
				steps = append(steps, field.String())
				i++
				break
			}
			if path[i+1] != '.' {
				i++
				continue
			}
			if escaped {
				field.WriteString(path[start : i-1])
				field.WriteByte('`')
				i++
				start = i
				continue
			}
			field.WriteString(path[start:i])
			steps = append(steps, field.String())
			i += 2
			break
		}
	}
	if path != "" && path[len(path)-1] == '.' {
		steps = append(steps, "")
	}
	if len(steps) == 0 {
		steps = []string{""}
	}
	return steps, nil
}

func incompleteBacktick(path string, at int) error {
	return configdef.Invalid("field", path, "Incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, at)
}

const extractPurpose = "field extraction"

// Apply extracts the field.
func (t *ExtractField) Apply(r connector.Record) (connector.Record, bool, error) {
	s, v := t.schema(r), t.value(r)
	last := t.path[len(t.path)-1]
	if s == nil {
		if v == nil {
			return t.with(r, nil, nil), true, nil
		}
		m, err := requireMap(v, extractPurpose)
		if err != nil {
			return r, false, err
		}
		for _, step := range t.path[:len(t.path)-1] {
			if m[step] == nil {
				return t.with(r, nil, nil), true, nil
			}
			if m, err = requireMap(m[step], "nested field access"); err != nil {
				return r, false, err
			}
		}
		return t.with(r, nil, m[last]), true, nil
	}
	fs := s
	for _, step := range t.path {
		f, ok := fs.Field(step)
		if !ok {
			return r, false, fmt.Errorf("%w: unknown field: %s", ErrData, t.original)
		}
		fs = f.Schema
	}
	if v == nil {
		return t.with(r, fs, nil), true, nil
	}
	st, err := requireStruct(v, extractPurpose)
	if err != nil {
		return r, false, err
	}
	for _, step := range t.path[:len(t.path)-1] {
		sub := st.Get(step)
		if sub == nil {
			return t.with(r, fs, nil), true, nil
		}
		if st, err = requireStruct(sub, "nested field access"); err != nil {
			return r, false, err
		}
	}
	return t.with(r, fs, fieldValue(st, last, t.replaceNull)), true, nil
}

// Close releases nothing.
func (*ExtractField) Close() error { return nil }
