package config

import (
	"math"
	"strconv"
	"strings"
)

// flag marks properties of a definition.
type flag uint8

const (
	null     flag = 1 << iota // no default value (Kafka's null)
	dyn                       // Kafka can change it without a restart (DescribeConfigs readOnly=false)
	internal                  // accepted but not listed by Describe, as Kafka hides internal configs
)

// def is one configuration's definition: Kafka's name, type, default,
// allowed values and a short description.
type def struct {
	name  string
	typ   Type
	dflt  string // the default as Kafka renders it; ignored when flags has null
	flags flag
	rule  rule // extra constraint on the parsed value; nil for none
	doc   string
}

func (d *def) hasDefault() bool { return d.flags&null == 0 }

// rule is a constraint on a parsed value, beyond its type.
type rule interface {
	ok(v any) bool
	String() string // what the rule accepts, as a phrase such as "at least 1"
}

// rangeRule bounds a number. Integer values compare as int64 and doubles as
// float64, so large LONG values keep their precision.
type rangeRule struct {
	lo, hi       int64
	flo, fhi     float64
	hasLo, hasHi bool
	float        bool // bounds are doubles, printed as such
}

func atLeast(n int64) rule { return rangeRule{lo: n, flo: float64(n), hasLo: true} }

func between(lo, hi int64) rule {
	return rangeRule{lo: lo, hi: hi, flo: float64(lo), fhi: float64(hi), hasLo: true, hasHi: true}
}

func betweenF(lo, hi float64) rule {
	return rangeRule{flo: lo, fhi: hi, hasLo: true, hasHi: true, lo: int64(math.Ceil(lo)), hi: int64(math.Floor(hi)), float: true}
}

func (r rangeRule) ok(v any) bool {
	if f, isF := v.(float64); isF {
		return (!r.hasLo || f >= r.flo) && (!r.hasHi || f <= r.fhi)
	}
	n, isInt := asInt64(v)
	if !isInt {
		return false
	}
	return (!r.hasLo || n >= r.lo) && (!r.hasHi || n <= r.hi)
}

func (r rangeRule) String() string {
	lo := strconv.FormatInt(r.lo, 10)
	hi := strconv.FormatInt(r.hi, 10)
	if r.float {
		lo, hi = javaDouble(r.flo), javaDouble(r.fhi)
	}
	switch {
	case r.hasLo && r.hasHi:
		return "between " + lo + " and " + hi
	case r.hasLo:
		return "at least " + lo
	default:
		return "at most " + hi
	}
}

// enumRule accepts a STRING equal to one of its values, or a LIST whose
// items all are.
type enumRule struct {
	vals []string
	fold bool // compare case-insensitively
}

func oneOf(vals ...string) rule     { return enumRule{vals: vals} }
func oneOfFold(vals ...string) rule { return enumRule{vals: vals, fold: true} }

func (r enumRule) has(s string) bool {
	for _, v := range r.vals {
		if s == v || (r.fold && strings.EqualFold(s, v)) {
			return true
		}
	}
	return false
}

func (r enumRule) ok(v any) bool {
	switch x := v.(type) {
	case string:
		return r.has(x)
	case []string:
		for _, s := range x {
			if !r.has(s) {
				return false
			}
		}
		return true
	}
	return false
}

func (r enumRule) String() string {
	s := "one of " + strings.Join(r.vals, ", ")
	if r.fold {
		s += " (any case)"
	}
	return s
}

// funcRule is a constraint written as a function; desc says what it accepts.
type funcRule struct {
	fn   func(v any) bool
	desc string
}

func (r funcRule) ok(v any) bool  { return r.fn(v) }
func (r funcRule) String() string { return r.desc }

func check(desc string, fn func(v any) bool) rule { return funcRule{fn: fn, desc: desc} }

// nonEmpty rejects an empty string (a null value, when allowed, is fine).
var nonEmpty = check("a non-empty string", func(v any) bool { s, _ := v.(string); return s != "" })

// typeDesc describes what a value of type t must look like.
func typeDesc(t Type) string {
	switch t {
	case TypeBoolean:
		return "true or false"
	case TypeInt:
		return "an INT (32-bit integer)"
	case TypeShort:
		return "a SHORT (16-bit integer)"
	case TypeLong:
		return "a LONG (64-bit integer)"
	case TypeDouble:
		return "a DOUBLE (number)"
	case TypeList:
		return "a comma-separated LIST"
	case TypeClass:
		return "a class name"
	}
	return "a STRING"
}

// expected describes every value d accepts.
func (d *def) expected() string {
	s := "expected " + typeDesc(d.typ)
	if d.rule != nil {
		s += " " + d.rule.String()
	}
	return s
}

// parse converts raw to d's Go type (bool, int16, int32, int64, float64,
// string or []string) and checks d's rule, following Kafka's ConfigDef:
// values are trimmed, booleans are case-insensitive, and a LIST is split on
// commas with the items trimmed.
func (d *def) parse(raw string) (any, *Error) {
	v, ok := parseType(d.typ, raw)
	if !ok || (d.rule != nil && !d.rule.ok(v)) {
		return nil, invalid(d.name, raw, d.expected())
	}
	return v, nil
}

func parseType(t Type, raw string) (any, bool) {
	s := strings.TrimSpace(raw)
	switch t {
	case TypeBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, true
		case strings.EqualFold(s, "false"):
			return false, true
		}
		return nil, false
	case TypeShort:
		n, err := strconv.ParseInt(s, 10, 16)
		return int16(n), err == nil
	case TypeInt:
		n, err := strconv.ParseInt(s, 10, 32)
		return int32(n), err == nil
	case TypeLong:
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	case TypeDouble:
		// Java's Double.parseDouble accepts a trailing type suffix.
		if n := len(s); n > 1 && strings.ContainsRune("dDfF", rune(s[n-1])) && !strings.HasPrefix(strings.ToLower(s), "0x") {
			s = s[:n-1]
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	case TypeList:
		return splitList(s), true
	}
	return s, true
}

// splitList splits a trimmed LIST value on commas; "" is the empty list.
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// render formats a parsed value as Kafka's ConfigDef.convertToString does.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case int16, int32, int64, int:
		n, _ := asInt64(x)
		return strconv.FormatInt(n, 10)
	case float64:
		return javaDouble(x)
	case []string:
		return strings.Join(x, ",")
	case string:
		return x
	}
	return ""
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// javaDouble formats f as Java's Double.toString does: plain notation with
// at least one fractional digit for magnitudes in [1e-3, 1e7), otherwise
// "d.dddE±n". Both languages print the shortest digits that round-trip.
func javaDouble(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1.7976931348623157E+308
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-")
	exp = strings.TrimLeft(exp, "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
