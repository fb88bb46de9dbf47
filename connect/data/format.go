package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format returns the string form Kafka Connect's Java runtime gives a value
// (its toString), used by StringConverter and by Cast to string: numbers as
// Java prints them (1.0, 1.0E10), Decimal as BigDecimal.toString, arrays as
// [a, b], maps as {k=v} with keys sorted, structs as Struct{f=v}. []byte is
// taken as text, and time.Time prints as Java's Date.toString in UTC.
func Format(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []byte:
		return string(v)
	case float64:
		return FormatFloat64(v)
	case float32:
		return FormatFloat32(v)
	case Decimal:
		return v.String()
	case time.Time:
		return v.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = Format(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any, map[any]any:
		var parts []string
		eachMapEntry(v, func(k, e any) bool {
			parts = append(parts, Format(k)+"="+Format(e))
			return true
		})
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case *Struct:
		return v.String()
	}
	return fmt.Sprint(v)
}

// FormatFloat64 formats f as Java's Double.toString: "1.0", "0.001",
// "1.0E7", "1.5E-4", "NaN", "Infinity".
func FormatFloat64(f float64) string { return javaFloat(f, 64) }

// FormatFloat32 formats f as Java's Float.toString.
func FormatFloat32(f float32) string { return javaFloat(float64(f), 32) }

func javaFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, bits)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
