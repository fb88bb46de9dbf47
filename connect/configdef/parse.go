package configdef

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// Error is a configuration error naming the key at fault. Its message has
// Kafka's ConfigException wording ("Invalid value x for configuration y: …").
type Error struct {
	Name string
	// Value is the offending value; nil for a missing key.
	Value any
	// Message explains the problem.
	Message string
	// Missing is set for a required key without value.
	Missing bool
}

// Invalid returns an *Error for key name with a bad value; validators use it.
func Invalid(name string, value any, format string, args ...any) *Error {
	return &Error{Name: name, Value: value, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Missing {
		return fmt.Sprintf("Missing required configuration %q which has no default value.", e.Name)
	}
	msg := fmt.Sprintf("Invalid value %s for configuration %s", formatValue(e.Value), e.Name)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap makes every Error match ErrInvalidConfig.
func (e *Error) Unwrap() error { return ErrInvalidConfig }

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	case float64:
		return javaDouble(v)
	}
	return fmt.Sprint(v)
}

var commaWithWhitespace = regexp.MustCompile(`\s*,\s*`)

// ParseValue parses the string s as a value of type t, the way Kafka's
// ConfigDef.parseType does: surrounding whitespace is trimmed; BOOLEAN is
// "true" or "false" in any case; INT, SHORT and LONG are decimal integers in
// range; DOUBLE is a decimal or scientific number; LIST splits on commas
// with surrounding whitespace ("" is the empty list). The error names name.
func ParseValue(name, s string, t Type) (any, error) {
	trimmed := strings.TrimSpace(s)
	notNumber := func() error { return Invalid(name, s, "Not a number of type %s", t) }
	switch t {
	case Boolean:
		switch strings.ToLower(trimmed) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, Invalid(name, s, "Expected value to be either true or false")
	case String, Class:
		return trimmed, nil
	case Password:
		return Secret(trimmed), nil
	case Int, Short, Long:
		bits := map[Type]int{Int: 32, Short: 16, Long: 64}[t]
		// Java's parseInt accepts a leading '+' or '-' and decimal digits only.
		if trimmed == "" || strings.ContainsAny(trimmed, "_xXoObB") {
			return nil, notNumber()
		}
		n, err := strconv.ParseInt(trimmed, 10, bits)
		if err != nil {
			return nil, notNumber()
		}
		switch t {
		case Int:
			return int32(n), nil
		case Short:
			return int16(n), nil
		}
		return n, nil
	case Double:
		if !javaDoubleSyntax.MatchString(trimmed) {
			return nil, notNumber()
		}
		f, err := strconv.ParseFloat(strings.TrimRight(trimmed, "dDfF"), 64)
		if err != nil && !isRangeErr(err) {
			return nil, notNumber()
		}
		return f, nil
	case List:
		if trimmed == "" {
			return []string{}, nil
		}
		return commaWithWhitespace.Split(trimmed, -1), nil
	}
	return nil, Invalid(name, s, "unknown type %s", t)
}

// javaDoubleSyntax accepts what Java's Double.parseDouble does for decimal
// input (no hexadecimal floats): optional sign, digits with an optional
// fraction, an optional exponent, an optional d/f suffix, or NaN/Infinity.
var javaDoubleSyntax = regexp.MustCompile(`^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?))$`)

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// ParseType converts v, a string or a Go value, to the parsed value of type t.
// Strings go through ParseValue; Go integers are range-checked into the
// type's width; []string is accepted for LIST.
func ParseType(name string, v any, t Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return ParseValue(name, s, t)
	}
	rv := reflect.ValueOf(v)
	switch t {
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case String, Class:
		if s, ok := v.(fmt.Stringer); ok && t == Class {
			return s.String(), nil
		}
	case Password:
		if s, ok := v.(Secret); ok {
			return s, nil
		}
	case Int, Short, Long:
		var n int64
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n = rv.Int()
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			n = int64(rv.Uint())
		default:
			return nil, Invalid(name, v, "Expected value to be a %s, but it was a %T", typeWords(t), v)
		}
		switch t {
		case Int:
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, Invalid(name, v, "Not a number of type %s", t)
			}
			return int32(n), nil
		case Short:
			if n < math.MinInt16 || n > math.MaxInt16 {
				return nil, Invalid(name, v, "Not a number of type %s", t)
			}
			return int16(n), nil
		}
		return n, nil
	case Double:
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			return rv.Float(), nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return float64(rv.Int()), nil
		}
	case List:
		if l, ok := v.([]string); ok {
			return l, nil
		}
		return nil, Invalid(name, v, "Expected a comma separated list.")
	}
	return nil, Invalid(name, v, "Expected value to be a %s, but it was a %T", typeWords(t), v)
}

func typeWords(t Type) string {
	switch t {
	case Int:
		return "32-bit integer"
	case Short:
		return "16-bit integer (short)"
	case Long:
		return "64-bit integer (long)"
	case Double:
		return "double"
	case Boolean:
		return "boolean"
	}
	return "string"
}

// Parse parses props against d: every defined key gets its parsed value, its
// default, or an error if it is required and missing; validators run on the
// result. Keys d does not define are ignored. The first error, in definition
// order, is returned as an *Error naming the key.
func (d *Def) Parse(props map[string]string) (map[string]any, error) {
	for _, k := range d.keys {
		for _, dep := range k.Dependents {
			if _, ok := d.index[dep]; !ok {
				return nil, fmt.Errorf("%w: %s is referred in the dependents, but not defined", ErrInvalidConfig, dep)
			}
		}
	}
	out := make(map[string]any, len(d.keys))
	for _, k := range d.keys {
		v, err := d.parseKey(k, props)
		if err != nil {
			return nil, err
		}
		out[k.Name] = v
	}
	return out, nil
}

func (d *Def) parseKey(k Key, props map[string]string) (any, error) {
	var v any
	if s, ok := props[k.Name]; ok {
		p, err := ParseValue(k.Name, s, k.Type)
		if err != nil {
			return nil, err
		}
		v = p
	} else if k.Required() {
		return nil, &Error{Name: k.Name, Missing: true}
	} else {
		v = k.Default
	}
	if k.Validator != nil {
		if err := k.Validator.Validate(k.Name, v); err != nil {
			return v, err
		}
	}
	return v, nil
}

// Decode parses props (see Parse) and stores the values in the struct out
// points to. Fields name their key with a `config:"key.name"` tag; fields
// without a tag, and keys without a field, are left alone. Besides the
// parsed types, a LONG or INT key decodes into a time.Duration field as
// milliseconds (Kafka's *.ms keys), a PASSWORD into a string field, and a
// CLASS or STRING into a string-kinded type.
func (d *Def) Decode(props map[string]string, out any) error {
	parsed, err := d.Parse(props)
	if err != nil {
		return err
	}
	return DecodeParsed(parsed, out)
}

// DecodeParsed stores already parsed values into out (see Decode).
func DecodeParsed(parsed map[string]any, out any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		TagName:    "config",
		Result:     out,
		DecodeHook: decodeHook,
		// Every field named by a tag must come from a defined key, so a
		// typo in a tag fails loudly instead of silently keeping zero.
		ErrorUnset: true,
		Squash:     true,
	})
	if err != nil {
		return fmt.Errorf("configdef: decode: %w", err)
	}
	if err := dec.Decode(parsed); err != nil {
		return fmt.Errorf("configdef: decode: %w", err)
	}
	return nil
}

var durationType = reflect.TypeFor[time.Duration]()

func decodeHook(from, to reflect.Type, v any) (any, error) {
	if to == durationType {
		switch n := v.(type) {
		case int64:
			return time.Duration(n) * time.Millisecond, nil
		case int32:
			return time.Duration(n) * time.Millisecond, nil
		}
	}
	if s, ok := v.(Secret); ok && to.Kind() == reflect.String && to != reflect.TypeFor[Secret]() {
		return s.Value(), nil
	}
	return v, nil
}
