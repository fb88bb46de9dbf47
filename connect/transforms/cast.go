package transforms

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// Cast is Kafka's Cast$Key / Cast$Value: it casts fields ("field:type,…")
// or the whole key or value ("type") to int8, int16, int32, int64, float32,
// float64, boolean or string. Numbers narrow as Java's casts do (wrapping
// integers, saturating floats); strings parse as Java's parseInt and
// parseDouble; bytes cast to string as base64; dates to ISO 8601 strings.
// A null key or value passes through.
type Cast struct {
	side
	casts       map[string]data.Type
	order       []string // cast fields in spec order
	whole       data.Type
	replaceNull bool
	cache       schemaCache
}

// Version implements the plugin version.
func (*Cast) Version() string { return Version }

// ConfigDef declares spec and replace.null.with.default.
func (*Cast) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "spec", Type: configdef.List, Default: configdef.NoDefault,
			Validator: configdef.ValidatorFunc(func(name string, v any) error {
				_, _, _, err := parseCastSpec(v.([]string))
				return err
			}),
			Importance: configdef.High,
			Documentation: "What to cast: comma-separated field:type pairs cast fields of a struct or map; a lone " +
				"type casts the whole key or value. Types: int8, int16, int32, int64, float32, float64, boolean, " +
				"string. Bytes may only become strings (base64)."}).
		Define(replaceNullKey())
}

var castOutputTypes = []data.Type{data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64,
	data.TypeFloat32, data.TypeFloat64, data.TypeBoolean, data.TypeString}

func castOutputType(s string, spec []string) (data.Type, error) {
	t, ok := data.ParseType(strings.TrimSpace(s))
	if !ok {
		return "", configdef.Invalid("spec", spec, "Invalid type found in casting spec: %s", strings.TrimSpace(s))
	}
	for _, o := range castOutputTypes {
		if o == t {
			return t, nil
		}
	}
	return "", configdef.Invalid("spec", spec, "Cast transformation does not support casting to %s; supported types are %s",
		strings.ToUpper(string(t)), "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]")
}

func parseCastSpec(spec []string) (map[string]data.Type, []string, data.Type, error) {
	if len(spec) == 0 {
		return nil, nil, "", configdef.Invalid("spec", spec, "Must specify at least one field to cast.")
	}
	casts := make(map[string]data.Type)
	var order []string
	var whole data.Type
	for _, m := range spec {
		parts := strings.Split(m, ":")
		for len(parts) > 1 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		switch len(parts) {
		case 1:
			t, err := castOutputType(parts[0], spec)
			if err != nil {
				return nil, nil, "", err
			}
			whole = t
		case 2:
			t, err := castOutputType(parts[1], spec)
			if err != nil {
				return nil, nil, "", err
			}
			f := strings.TrimSpace(parts[0])
			if _, dup := casts[f]; !dup {
				order = append(order, f)
			}
			casts[f] = t
		default:
			return nil, nil, "", configdef.Invalid("spec", spec, "Invalid cast mapping: %s", m)
		}
	}
	if whole != "" && len(spec) > 1 {
		return nil, nil, "", configdef.Invalid("spec", spec,
			"Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
	}
	return casts, order, whole, nil
}

// Configure reads the configuration.
func (t *Cast) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.casts, t.order, t.whole, _ = parseCastSpec(p["spec"].([]string))
	t.replaceNull = p["replace.null.with.default"].(bool)
	return nil
}

const castPurpose = "cast types"

// Apply casts the fields or the whole key or value.
func (t *Cast) Apply(r connector.Record) (connector.Record, bool, error) {
	s, v := t.schema(r), t.value(r)
	if v == nil {
		return r, true, nil
	}
	if s == nil {
		if t.whole != "" {
			out, err := castValue(nil, v, t.whole)
			if err != nil {
				return r, false, err
			}
			return t.with(r, nil, out), true, nil
		}
		m, err := requireMap(v, castPurpose)
		if err != nil {
			return r, false, err
		}
		for _, f := range t.order {
			out, err := castValue(nil, m[f], t.casts[f])
			if err != nil {
				return r, false, fmt.Errorf("field %q: %w", f, err)
			}
			m[f] = out
		}
		return t.with(r, nil, m), true, nil
	}
	schema := t.cache.get(s)
	if schema == nil {
		var err error
		if schema, err = t.updatedSchema(s); err != nil {
			return r, false, err
		}
		t.cache.put(s, schema)
	}
	if t.whole != "" {
		out, err := castValue(s, v, t.whole)
		if err != nil {
			return r, false, err
		}
		return t.with(r, schema, out), true, nil
	}
	st, err := requireStruct(v, castPurpose)
	if err != nil {
		return r, false, err
	}
	out := data.NewStruct(schema)
	for _, f := range st.Schema().Fields {
		fv := fieldValue(st, f.Name, t.replaceNull)
		if to, ok := t.casts[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, to); err != nil {
				return r, false, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		if err := put(out, f.Name, fv); err != nil {
			return r, false, err
		}
	}
	return t.with(r, schema, out), true, nil
}

func (t *Cast) updatedSchema(s *data.Schema) (*data.Schema, error) {
	var b *data.Builder
	if t.whole != "" {
		b = data.NewBuilder(t.whole)
		// Kafka copies the name, version, doc and parameters; a logical
		// type's name would mislabel the cast value, so it is dropped.
		if !data.IsLogical(s) {
			b.Name(s.Name).Doc(s.Doc).Parameters(s.Parameters)
			if s.Version != nil {
				b.Version(*s.Version)
			}
		}
		if s.Optional {
			b.Optional()
		}
		if s.Default != nil {
			d, err := castValue(s, s.Default, t.whole)
			if err != nil {
				return nil, fmt.Errorf("default value: %w", err)
			}
			b.Default(d)
		}
	} else {
		if s.Type != data.TypeStruct {
			return nil, fmt.Errorf("%w: only Struct objects supported for [%s], found schema type %s", ErrData, castPurpose, s.Type)
		}
		b = structBuilderFrom(s)
		for _, f := range s.Fields {
			to, ok := t.casts[f.Name]
			if !ok {
				b.Field(f.Name, f.Schema)
				continue
			}
			fb := data.NewBuilder(to)
			if f.Schema.Optional {
				fb.Optional()
			}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, to)
				if err != nil {
					return nil, fmt.Errorf("field %q default: %w", f.Name, err)
				}
				fb.Default(d)
			}
			fs, err := fb.Build()
			if err != nil {
				return nil, fmt.Errorf("%w: field %q: %w", ErrData, f.Name, err)
			}
			b.Field(f.Name, fs)
		}
		if s.Default != nil {
			// A struct default would need casting field by field; Kafka
			// fails here too.
			return nil, fmt.Errorf("%w: cannot cast the fields of a struct schema with a default value", ErrData)
		}
	}
	out, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return out, nil
}

// castValue casts v (of schema s, or of the type its Go value implies) to to.
func castValue(s *data.Schema, v any, to data.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var in data.Type
	if s != nil {
		in = s.Type
	} else {
		switch v.(type) {
		case int8:
			in = data.TypeInt8
		case int16:
			in = data.TypeInt16
		case int32:
			in = data.TypeInt32
		case int64, int:
			in = data.TypeInt64
		case float32:
			in = data.TypeFloat32
		case float64:
			in = data.TypeFloat64
		case bool:
			in = data.TypeBoolean
		case string:
			in = data.TypeString
		case []byte:
			in = data.TypeBytes
		default:
			return nil, fmt.Errorf("%w: Cast transformation was passed a value of type %T which is not supported by Connect's data API", ErrData, v)
		}
	}
	if !in.IsPrimitive() {
		return nil, fmt.Errorf("%w: Cast transformation does not support casting from %s; supported types are "+
			"[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]", ErrData, strings.ToUpper(string(in)))
	}
	if to == data.TypeString {
		return castToString(s, v), nil
	}
	// Logical times cast to numbers through their encoded form.
	if tm, ok := v.(time.Time); ok && s != nil {
		switch s.Name {
		case data.DateName:
			d, err := data.DateToDays(tm)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
			v = d
		case data.TimeName:
			ms, err := data.TimeToMillis(tm)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrData, err)
			}
			v = ms
		default:
			v = tm.UnixMilli()
		}
	}
	if _, ok := v.([]byte); ok {
		return nil, fmt.Errorf("%w: unexpected type in Cast transformation: %T (bytes cast only to string)", ErrData, v)
	}
	if str, ok := v.(string); ok {
		return castFromString(str, to)
	}
	if b, ok := v.(bool); ok {
		n := int64(0)
		if b {
			n = 1
		}
		return fromInt(n, to), nil
	}
	switch x := v.(type) {
	case int8:
		return fromInt(int64(x), to), nil
	case int16:
		return fromInt(int64(x), to), nil
	case int32:
		return fromInt(int64(x), to), nil
	case int64:
		return fromInt(x, to), nil
	case int:
		return fromInt(int64(x), to), nil
	case float32:
		return fromFloat(float64(x), to), nil
	case float64:
		return fromFloat(x, to), nil
	case data.Decimal:
		return fromDecimal(x, to), nil
	}
	return nil, fmt.Errorf("%w: unexpected type in Cast transformation: %T", ErrData, v)
}

// fromInt narrows or widens an integer as Java's primitive casts do.
func fromInt(n int64, to data.Type) any {
	switch to {
	case data.TypeInt8:
		return int8(n)
	case data.TypeInt16:
		return int16(n)
	case data.TypeInt32:
		return int32(n)
	case data.TypeInt64:
		return n
	case data.TypeFloat32:
		return float32(n)
	case data.TypeFloat64:
		return float64(n)
	}
	return n != 0 // boolean
}

// javaLong converts a float to int64 as Java's (long) cast does: NaN is 0,
// out-of-range values saturate.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// javaInt converts a float to int32 as Java's (int) cast does.
func javaInt(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

func fromFloat(f float64, to data.Type) any {
	switch to {
	case data.TypeInt8:
		return int8(javaInt(f)) // Number.byteValue: (byte)(int)d
	case data.TypeInt16:
		return int16(javaInt(f))
	case data.TypeInt32:
		return javaInt(f)
	case data.TypeInt64:
		return javaLong(f)
	case data.TypeFloat32:
		return float32(f)
	case data.TypeFloat64:
		return f
	}
	return javaLong(f) != 0
}

func fromDecimal(d data.Decimal, to data.Type) any {
	switch to {
	case data.TypeFloat32:
		return float32(d.Float64())
	case data.TypeFloat64:
		return d.Float64()
	}
	// BigDecimal's intValue/longValue: drop the fraction, keep the low bits.
	i := new(big.Int).Set(d.Unscaled)
	if d.Scale > 0 {
		i.Quo(i, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
	} else if d.Scale < 0 {
		i.Mul(i, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil))
	}
	low := new(big.Int).And(i, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	return fromInt(int64(low), to)
}

var javaFloatSyntax = regexp.MustCompile(`^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?))$`)

func castFromString(s string, to data.Type) (any, error) {
	outOfRange := func() error {
		return fmt.Errorf("%w: value (%s) was out of range for requested data type", ErrData, s)
	}
	switch to {
	case data.TypeBoolean:
		return strings.EqualFold(s, "true"), nil
	case data.TypeFloat32, data.TypeFloat64:
		trimmed := strings.TrimSpace(s)
		if !javaFloatSyntax.MatchString(trimmed) {
			return nil, outOfRange()
		}
		bits := 64
		if to == data.TypeFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(strings.TrimRight(trimmed, "dDfF"), bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return nil, outOfRange()
			}
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	}
	// Java's parseInt family: an optional sign and decimal digits, no spaces.
	bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[to]
	if s == "" || strings.ContainsAny(s, " _xXoObB") {
		return nil, outOfRange()
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return nil, outOfRange()
	}
	return fromInt(n, to), nil
}

// castToString formats v as Kafka's Cast does: dates in ISO 8601 (a date,
// a time of day or a timestamp, by value), bytes in base64, everything else
// as Java's toString.
func castToString(s *data.Schema, v any) string {
	switch x := v.(type) {
	case time.Time:
		ms := x.UnixMilli()
		u := x.UTC()
		switch {
		case ms < 24*60*60*1000: // as Kafka: before the second day (and before the epoch) is a time
			return u.Format("15:04:05.000Z")
		case ms%(24*60*60*1000) == 0:
			return u.Format("2006-01-02")
		}
		return u.Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return data.Format(v)
}

// Close releases nothing.
func (*Cast) Close() error { return nil }
