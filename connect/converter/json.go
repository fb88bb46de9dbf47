package converter

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// JsonConverter configuration keys.
const (
	SchemasEnableConfig          = "schemas.enable"
	SchemasCacheSizeConfig       = "schemas.cache.size"
	DecimalFormatConfig          = "decimal.format"
	ReplaceNullWithDefaultConfig = "replace.null.with.default"
)

// JSON is Kafka's JsonConverter. The zero value is not ready: use NewJSON,
// then Configure.
type JSON struct {
	schemasEnabled         bool // schemas.enable
	decimalNumeric         bool // decimal.format=NUMERIC
	replaceNullWithDefault bool // replace.null.with.default
}

var _ connector.Converter = (*JSON)(nil)

// NewJSON returns a JsonConverter with Kafka's defaults: schemas.enable=true,
// decimal.format=BASE64, replace.null.with.default=true.
func NewJSON() *JSON {
	return &JSON{schemasEnabled: true, replaceNullWithDefault: true}
}

// Version implements the plugin version.
func (*JSON) Version() string { return Version }

// ConfigDef declares JsonConverter's keys.
func (*JSON) ConfigDef() *configdef.Def {
	return configdef.New().Define(typeKey()).
		Define(configdef.Key{Name: SchemasEnableConfig, Type: configdef.Boolean, Default: true,
			Importance: configdef.High, Group: "Schemas", OrderInGroup: 0, Width: configdef.WidthMedium,
			DisplayName:   "Enable Schemas",
			Documentation: "Write and expect the {\"schema\":…,\"payload\":…} envelope around every key or value."}).
		Define(configdef.Key{Name: SchemasCacheSizeConfig, Type: configdef.Int, Default: 1000,
			Importance: configdef.High, Group: "Schemas", OrderInGroup: 1, Width: configdef.WidthMedium,
			DisplayName:   "Schema Cache Size",
			Documentation: "How many schemas the converter may keep cached."}).
		Define(configdef.Key{Name: DecimalFormatConfig, Type: configdef.String, Default: "BASE64",
			Validator:  configdef.CaseInsensitiveValidString("BASE64", "NUMERIC"),
			Importance: configdef.Low, Group: "Serialization", OrderInGroup: 0, Width: configdef.WidthMedium,
			DisplayName: "Decimal Format",
			Documentation: "How Decimal values are written: BASE64 (their unscaled bytes) or NUMERIC (a JSON " +
				"number); either case."}).
		Define(configdef.Key{Name: ReplaceNullWithDefaultConfig, Type: configdef.Boolean, Default: true,
			Importance: configdef.Low, Group: "Serialization", OrderInGroup: 1, Width: configdef.WidthMedium,
			DisplayName: "Replace null with default",
			Documentation: "When true, a null value whose schema has a default is written and read as that " +
				"default; when false it stays null."})
}

// Configure reads schemas.enable, decimal.format and
// replace.null.with.default; an invalid value is an error naming its key.
func (c *JSON) Configure(props map[string]string, isKey bool) error {
	parsed, err := c.ConfigDef().Parse(withType(props, isKey))
	if err != nil {
		return err
	}
	c.schemasEnabled = parsed[SchemasEnableConfig].(bool)
	c.decimalNumeric = strings.EqualFold(parsed[DecimalFormatConfig].(string), "NUMERIC")
	c.replaceNullWithDefault = parsed[ReplaceNullWithDefaultConfig].(bool)
	return nil
}

// FromConnectData writes value (with its schema in an envelope when
// schemas.enable is set). A nil schema and nil value give a nil message.
func (c *JSON) FromConnectData(_ string, _ []connector.Header, schema *data.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	var b []byte
	var err error
	if c.schemasEnabled {
		b = append(b, `{"schema":`...)
		if b, err = c.appendSchema(b, schema); err != nil {
			return nil, err
		}
		b = append(b, `,"payload":`...)
		if b, err = c.appendValue(b, schema, value); err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return c.appendValue(b, schema, value)
}

// ToConnectData reads a message written by FromConnectData (or by Kafka's
// JsonConverter with the same schemas.enable). A nil message is (nil, nil).
func (c *JSON) ToConnectData(_ string, _ []connector.Header, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return nil, nil, nil
	}
	n, err := parseJSON(value)
	if err != nil {
		return nil, nil, fmt.Errorf("converting byte[] to Kafka Connect data failed due to serialization error: %w", err)
	}
	if !c.schemasEnabled {
		v, err := c.toConnect(nil, n)
		return nil, v, err
	}
	if n.kind != jsonObject || n.size() != 2 || n.get("schema") == nil || n.get("payload") == nil {
		return nil, nil, fmt.Errorf("%w: JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields "+
			"and may not contain additional fields. If you are trying to deserialize plain JSON data, "+
			"set schemas.enable=false in your converter configuration.", ErrData)
	}
	schema, err := c.asConnectSchema(n.get("schema"))
	if err != nil {
		return nil, nil, err
	}
	v, err := c.toConnect(schema, n.get("payload"))
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// jsonTypeName maps schema types to the names of Kafka's JSON schemas.
func jsonTypeName(t data.Type) string {
	switch t {
	case data.TypeFloat32:
		return "float"
	case data.TypeFloat64:
		return "double"
	}
	return string(t)
}

// appendSchema writes s in Kafka's JSON schema format: "type", then
// "items" / "keys","values" / "fields", then "optional", "name", "version",
// "doc", "parameters" and "default"; a struct field's schema ends with
// "field".
func (c *JSON) appendSchema(b []byte, s *data.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, `{"type":`...)
	b = appendJSONString(b, jsonTypeName(s.Type))
	switch s.Type {
	case data.TypeArray:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.ValueSchema); err != nil {
			return nil, err
		}
	case data.TypeMap:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.KeySchema); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema); err != nil {
			return nil, err
		}
	case data.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if f.Schema == nil {
				return nil, fmt.Errorf("%w: struct field %q has no schema", ErrData, f.Name)
			}
			if b, err = c.appendSchema(b, f.Schema); err != nil {
				return nil, err
			}
			b = b[:len(b)-1] // reopen the field's schema object to add "field"
			b = append(b, `,"field":`...)
			b = appendJSONString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	default:
		if !s.Type.IsPrimitive() {
			return nil, fmt.Errorf("%w: couldn't translate unsupported schema type %s", ErrData, s)
		}
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
	}
	if s.Version != nil {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(*s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func mismatch(s *data.Schema, v any) error {
	if s == nil {
		return fmt.Errorf("%w: Go type %T does not have corresponding schema type", ErrData, v)
	}
	return fmt.Errorf("%w: invalid type for %s: %T", ErrData, strings.ToUpper(string(s.Type)), v)
}

// appendValue writes v as the JSON of schema s (or, with a nil schema, of
// the type v's Go type implies).
func (c *JSON) appendValue(b []byte, s *data.Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil, s.Optional && (s.Default == nil || !c.replaceNullWithDefault):
			return append(b, "null"...), nil
		case s.Default != nil && c.replaceNullWithDefault:
			return c.appendValue(b, s, s.Default)
		}
		return nil, fmt.Errorf("%w: conversion error: null value for field that is required and has no default value", ErrData)
	}
	if s != nil {
		switch s.Name {
		case data.DecimalName:
			d, ok := v.(data.Decimal)
			if !ok {
				return nil, fmt.Errorf("%w: invalid type for Decimal, expected Decimal but was %T", ErrData, v)
			}
			if c.decimalNumeric {
				return append(b, d.String()...), nil
			}
			scale, err := data.DecimalScale(s)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
			if scale != d.Scale {
				return nil, fmt.Errorf("%w: decimal scale mismatch: schema has %d, value has %d", ErrData, scale, d.Scale)
			}
			return appendJSONBytes(b, data.DecimalToBytes(d)), nil
		case data.DateName, data.TimeName, data.TimestampName:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("%w: invalid type for %s, expected time.Time but was %T", ErrData, s.Name, v)
			}
			var n int64
			switch s.Name {
			case data.DateName:
				d, err := data.DateToDays(t)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrData, err)
				}
				n = int64(d)
			case data.TimeName:
				ms, err := data.TimeToMillis(t)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrData, err)
				}
				n = int64(ms)
			default:
				n = t.UnixMilli()
			}
			return strconv.AppendInt(b, n, 10), nil
		}
	}
	t, err := valueType(s, v)
	if err != nil {
		return nil, err
	}
	switch t {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		n, ok := intValue(t, v)
		if !ok {
			return nil, mismatch(s, v)
		}
		return strconv.AppendInt(b, n, 10), nil
	case data.TypeFloat32:
		f, ok := v.(float32)
		if !ok {
			return nil, mismatch(s, v)
		}
		return appendJSONFloat(b, float64(f), 32), nil
	case data.TypeFloat64:
		f, ok := v.(float64)
		if !ok {
			return nil, mismatch(s, v)
		}
		return appendJSONFloat(b, f, 64), nil
	case data.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return nil, mismatch(s, v)
		}
		return strconv.AppendBool(b, x), nil
	case data.TypeString:
		x, ok := v.(string)
		if !ok {
			return nil, mismatch(s, v)
		}
		return appendJSONString(b, x), nil
	case data.TypeBytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, mismatch(s, v)
		}
		return appendJSONBytes(b, x), nil
	case data.TypeArray:
		l, ok := v.([]any)
		if !ok {
			return nil, mismatch(s, v)
		}
		var elem *data.Schema
		if s != nil {
			elem = s.ValueSchema
		}
		b = append(b, '[')
		for i, e := range l {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendValue(b, elem, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case data.TypeMap:
		return c.appendMap(b, s, v)
	case data.TypeStruct:
		st, ok := v.(*data.Struct)
		if !ok || st == nil {
			return nil, mismatch(s, v)
		}
		if !st.Schema().Equal(s) {
			return nil, fmt.Errorf("%w: mismatching schema", ErrData)
		}
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			if b, err = c.appendValue(b, f.Schema, st.GetRaw(f.Name)); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		return append(b, '}'), nil
	}
	return nil, mismatch(s, v)
}

// valueType is s's type, or the schema type v's Go type implies.
func valueType(s *data.Schema, v any) (data.Type, error) {
	if s != nil {
		return s.Type, nil
	}
	switch v.(type) {
	case int8:
		return data.TypeInt8, nil
	case int16:
		return data.TypeInt16, nil
	case int32:
		return data.TypeInt32, nil
	case int64, int:
		return data.TypeInt64, nil
	case float32:
		return data.TypeFloat32, nil
	case float64:
		return data.TypeFloat64, nil
	case bool:
		return data.TypeBoolean, nil
	case string:
		return data.TypeString, nil
	case []byte:
		return data.TypeBytes, nil
	case []any:
		return data.TypeArray, nil
	case map[string]any, map[any]any:
		return data.TypeMap, nil
	case *data.Struct:
		return data.TypeStruct, nil
	}
	return "", mismatch(nil, v)
}

func intValue(t data.Type, v any) (int64, bool) {
	switch t {
	case data.TypeInt8:
		n, ok := v.(int8)
		return int64(n), ok
	case data.TypeInt16:
		n, ok := v.(int16)
		return int64(n), ok
	case data.TypeInt32:
		n, ok := v.(int32)
		return int64(n), ok
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

type mapEntry struct {
	key, val any
	sortKey  string
}

// appendMap writes a map as a JSON object when its keys are strings (by
// schema, or all of them without one) and as an array of [key, value] pairs
// otherwise. Entries are sorted by key so that output is deterministic.
func (c *JSON) appendMap(b []byte, s *data.Schema, v any) ([]byte, error) {
	var entries []mapEntry
	switch m := v.(type) {
	case map[string]any:
		for k, e := range m {
			entries = append(entries, mapEntry{key: k, val: e})
		}
	case map[any]any:
		for k, e := range m {
			entries = append(entries, mapEntry{key: k, val: e})
		}
	default:
		return nil, mismatch(s, v)
	}
	var keySchema, valSchema *data.Schema
	objectMode := true
	if s != nil {
		keySchema, valSchema = s.KeySchema, s.ValueSchema
		objectMode = keySchema != nil && keySchema.Type == data.TypeString
	} else {
		for _, e := range entries {
			if _, ok := e.key.(string); !ok {
				objectMode = false
				break
			}
		}
	}
	for i := range entries {
		kb, err := c.appendValue(nil, keySchema, entries[i].key)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		entries[i].sortKey = string(kb)
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.sortKey, b.sortKey) })
	var err error
	if objectMode {
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			k, ok := e.key.(string)
			if !ok {
				// A non-string key under a string key schema: write its text,
				// as Jackson's asText of the key node does.
				k = strings.Trim(e.sortKey, `"`)
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if b, err = c.appendValue(b, valSchema, e.val); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	b = append(b, '[')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = append(b, e.sortKey...)
		b = append(b, ',')
		if b, err = c.appendValue(b, valSchema, e.val); err != nil {
			return nil, err
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

// asConnectSchema reads a schema in Kafka's JSON schema format.
func (c *JSON) asConnectSchema(n *jsonNode) (*data.Schema, error) {
	if n.kind == jsonNull {
		return nil, nil
	}
	if n.kind != jsonObject {
		return nil, fmt.Errorf("%w: schema must be a JSON object, found %s", ErrData, n.kind)
	}
	tn := n.get("type")
	if tn == nil || tn.kind != jsonString {
		return nil, fmt.Errorf("%w: schema must contain 'type' field", ErrData)
	}
	var b *data.Builder
	switch tn.text {
	case "boolean", "int8", "int16", "int32", "int64", "bytes", "string":
		b = data.NewBuilder(data.Type(tn.text))
	case "float":
		b = data.NewBuilder(data.TypeFloat32)
	case "double":
		b = data.NewBuilder(data.TypeFloat64)
	case "array":
		items := n.get("items")
		if items == nil || items.kind == jsonNull {
			return nil, fmt.Errorf("%w: array schema did not specify the element type", ErrData)
		}
		elem, err := c.asConnectSchema(items)
		if err != nil {
			return nil, err
		}
		b = data.ArrayBuilder(elem)
	case "map":
		kn, vn := n.get("keys"), n.get("values")
		if kn == nil {
			return nil, fmt.Errorf("%w: map schema did not specify the key type", ErrData)
		}
		if vn == nil {
			return nil, fmt.Errorf("%w: map schema did not specify the value type", ErrData)
		}
		ks, err := c.asConnectSchema(kn)
		if err != nil {
			return nil, err
		}
		vs, err := c.asConnectSchema(vn)
		if err != nil {
			return nil, err
		}
		b = data.MapBuilder(ks, vs)
	case "struct":
		b = data.StructBuilder()
		fields := n.get("fields")
		if fields == nil || fields.kind != jsonArray {
			return nil, fmt.Errorf("%w: struct schema's \"fields\" argument is not an array", ErrData)
		}
		for _, f := range fields.elems {
			if f.kind != jsonObject {
				return nil, fmt.Errorf("%w: struct schema's field is not an object", ErrData)
			}
			name := f.get("field")
			if name == nil || name.kind != jsonString {
				return nil, fmt.Errorf("%w: struct schema's field name not specified properly", ErrData)
			}
			fs, err := c.asConnectSchema(f)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name.text, err)
			}
			if fs == nil {
				return nil, fmt.Errorf("%w: field %q has a null schema", ErrData, name.text)
			}
			b.Field(name.text, fs)
		}
	default:
		return nil, fmt.Errorf("%w: unknown schema type: %s", ErrData, tn.text)
	}
	if o := n.get("optional"); o != nil && o.kind == jsonBool && o.boolean {
		b.Optional()
	}
	if nm := n.get("name"); nm != nil && nm.kind == jsonString {
		b.Name(nm.text)
	}
	if v := n.get("version"); v != nil && v.kind == jsonNumber && v.integer {
		x, ok := new(big.Int).SetString(v.text, 10)
		if ok && x.IsInt64() && x.Int64() >= math.MinInt32 && x.Int64() <= math.MaxInt32 {
			b.Version(int32(x.Int64()))
		}
	}
	if d := n.get("doc"); d != nil && d.kind == jsonString {
		b.Doc(d.text)
	}
	if p := n.get("parameters"); p != nil && p.kind == jsonObject {
		b.Parameters(map[string]string{}) // present, even when empty
		for i, k := range p.keys {
			if p.vals[i].kind != jsonString {
				return nil, fmt.Errorf("%w: schema parameters must have string values", ErrData)
			}
			b.Parameter(k, p.vals[i].text)
		}
	}
	if dn := n.get("default"); dn != nil {
		partial, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrData, err)
		}
		dv, err := c.toConnect(partial, dn)
		if err != nil {
			return nil, fmt.Errorf("schema default: %w", err)
		}
		b.Default(dv)
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return s, nil
}

// toConnect converts a JSON node to the Connect value of schema s, or to a
// schemaless value when s is nil.
func (c *JSON) toConnect(s *data.Schema, n *jsonNode) (any, error) {
	if s == nil {
		return schemaless(n)
	}
	if n == nil || n.kind == jsonNull || n.kind == jsonMissing {
		switch {
		case s.Default != nil && c.replaceNullWithDefault:
			return s.Default, nil
		case s.Optional:
			return nil, nil
		}
		return nil, fmt.Errorf("%w: invalid null value for required %s field", ErrData, strings.ToUpper(string(s.Type)))
	}
	wrong := func() error {
		return fmt.Errorf("%w: invalid JSON %s for schema type %s", ErrData, n.kind, strings.ToUpper(string(s.Type)))
	}
	switch s.Name {
	case data.DecimalName:
		scale, err := data.DecimalScale(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrData, err)
		}
		switch n.kind {
		case jsonNumber:
			d, err := data.ParseDecimal(n.text)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
			return d, nil
		case jsonString:
			raw, err := base64.StdEncoding.DecodeString(n.text)
			if err != nil {
				return nil, fmt.Errorf("%w: invalid bytes for Decimal field: %w", ErrData, err)
			}
			return data.DecimalFromBytes(raw, scale), nil
		}
		return nil, fmt.Errorf("%w: invalid type for Decimal, underlying representation should be numeric or bytes but was %s", ErrData, n.kind)
	case data.DateName, data.TimeName:
		if n.kind != jsonNumber || !n.integer {
			return nil, fmt.Errorf("%w: invalid type for %s, underlying representation should be integer but was %s", ErrData, s.Name, n.kind)
		}
		x, err := strconv.ParseInt(n.text, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: %s out of range: %s", ErrData, s.Name, n.text)
		}
		if s.Name == data.DateName {
			return data.DaysToDate(int32(x)), nil
		}
		return data.MillisToTime(int32(x)), nil
	case data.TimestampName:
		if n.kind != jsonNumber || !n.integer {
			return nil, fmt.Errorf("%w: invalid type for Timestamp, underlying representation should be integral but was %s", ErrData, n.kind)
		}
		x, err := strconv.ParseInt(n.text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: Timestamp out of range: %s", ErrData, n.text)
		}
		return time.UnixMilli(x).UTC(), nil
	}
	switch s.Type {
	case data.TypeBoolean:
		if n.kind != jsonBool {
			return nil, wrong()
		}
		return n.boolean, nil
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		if n.kind != jsonNumber {
			return nil, wrong()
		}
		return jsonInt(s.Type, n)
	case data.TypeFloat32, data.TypeFloat64:
		bits := 64
		if s.Type == data.TypeFloat32 {
			bits = 32
		}
		var f float64
		switch n.kind {
		case jsonNumber:
			var err error
			f, err = strconv.ParseFloat(n.text, bits)
			if err != nil && !isRange(err) {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
		case jsonString:
			// NaN and the infinities, as the writer spells them (JSON
			// numbers cannot hold them): its output reads back.
			var ok bool
			if f, ok = nonFinite(n.text); !ok {
				return nil, wrong()
			}
		default:
			return nil, wrong()
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	case data.TypeString:
		if n.kind != jsonString {
			return nil, wrong()
		}
		return n.text, nil
	case data.TypeBytes:
		if n.kind != jsonString {
			return nil, wrong()
		}
		raw, err := base64.StdEncoding.DecodeString(n.text)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid bytes field: %w", ErrData, err)
		}
		return raw, nil
	case data.TypeArray:
		if n.kind != jsonArray {
			return nil, wrong()
		}
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := c.toConnect(s.ValueSchema, e)
			if err != nil {
				return nil, fmt.Errorf("array element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case data.TypeMap:
		return c.toConnectMap(s, n)
	case data.TypeStruct:
		if n.kind != jsonObject {
			return nil, fmt.Errorf("%w: structs should be encoded as JSON objects, but found %s", ErrData, n.kind)
		}
		st := data.NewStruct(s)
		for _, f := range s.Fields {
			v, err := c.toConnect(f.Schema, n.get(f.Name))
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			if err := st.Put(f.Name, v); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("%w: unknown schema type: %s", ErrData, s.Type)
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// jsonInt converts a JSON number to the Go integer of t. A fraction is
// truncated toward zero, as Jackson's intValue does; a value out of the
// type's range is an error (Java would wrap it around silently).
func jsonInt(t data.Type, n *jsonNode) (any, error) {
	x, ok := new(big.Int).SetString(n.text, 10)
	if !ok {
		f, _, err := big.ParseFloat(n.text, 10, 256, big.ToZero)
		if err != nil {
			return nil, fmt.Errorf("%w: not a number: %s", ErrData, n.text)
		}
		x, _ = f.Int(nil)
	}
	bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[t]
	lim := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	if x.Cmp(lim) >= 0 || x.Cmp(new(big.Int).Neg(lim)) < 0 {
		return nil, fmt.Errorf("%w: %s out of range for %s", ErrData, n.text, strings.ToUpper(string(t)))
	}
	v := x.Int64()
	switch t {
	case data.TypeInt8:
		return int8(v), nil
	case data.TypeInt16:
		return int16(v), nil
	case data.TypeInt32:
		return int32(v), nil
	}
	return v, nil
}

func (c *JSON) toConnectMap(s *data.Schema, n *jsonNode) (any, error) {
	if s.KeySchema != nil && s.KeySchema.Type == data.TypeString {
		if n.kind != jsonObject {
			return nil, fmt.Errorf("%w: maps with string fields should be encoded as JSON objects, but found %s", ErrData, n.kind)
		}
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := c.toConnect(s.ValueSchema, n.vals[i])
			if err != nil {
				return nil, fmt.Errorf("map value %q: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	}
	if n.kind != jsonArray {
		return nil, fmt.Errorf("%w: maps with non-string fields should be encoded as JSON array of tuples, but found %s", ErrData, n.kind)
	}
	out := make(map[any]any, len(n.elems))
	for _, e := range n.elems {
		if e.kind != jsonArray {
			return nil, fmt.Errorf("%w: found invalid map entry instead of array tuple: %s", ErrData, e.kind)
		}
		if len(e.elems) != 2 {
			return nil, fmt.Errorf("%w: found invalid map entry, expected length 2 but found: %d", ErrData, len(e.elems))
		}
		k, err := c.toConnect(s.KeySchema, e.elems[0])
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		if k != nil && !reflect.TypeOf(k).Comparable() {
			return nil, fmt.Errorf("%w: map key of type %T cannot be a Go map key", ErrData, k)
		}
		v, err := c.toConnect(s.ValueSchema, e.elems[1])
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		out[k] = v
	}
	return out, nil
}

// nonFinite returns the float value (NaN or an infinity, which JSON
// numbers cannot hold) that the writer spells as the string s, if any.
func nonFinite(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}

// schemaless converts JSON without a schema: integers to int64, other
// numbers to float64, objects to map[string]any, arrays to []any.
func schemaless(n *jsonNode) (any, error) {
	switch n.kind {
	case jsonMissing, jsonNull:
		return nil, nil
	case jsonBool:
		return n.boolean, nil
	case jsonString:
		return n.text, nil
	case jsonNumber:
		if n.integer {
			return jsonInt(data.TypeInt64, n)
		}
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil && !isRange(err) {
			return nil, fmt.Errorf("%w: %w", ErrData, err)
		}
		return f, nil
	case jsonArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := schemaless(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case jsonObject:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := schemaless(n.vals[i])
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: unknown JSON node %s", ErrData, n.kind)
}
