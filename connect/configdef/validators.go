package configdef

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ValidatorFunc adapts a function to the Validator interface.
type ValidatorFunc func(name string, value any) error

// Validate calls f.
func (f ValidatorFunc) Validate(name string, value any) error { return f(name, value) }

// RangeValidator accepts numbers within [Min, Max]; a nil bound is open.
// A nil value is rejected ("Value must be non-null").
type RangeValidator struct {
	Min, Max *float64
}

// AtLeast accepts numbers >= min.
func AtLeast(min float64) RangeValidator { return RangeValidator{Min: &min} }

// Between accepts numbers in [min, max].
func Between(min, max float64) RangeValidator { return RangeValidator{Min: &min, Max: &max} }

// Validate implements Validator.
func (r RangeValidator) Validate(name string, v any) error {
	if v == nil {
		return Invalid(name, nil, "Value must be non-null")
	}
	f, ok := asFloat(v)
	if !ok {
		return Invalid(name, v, "Value must be a number")
	}
	if r.Min != nil && f < *r.Min {
		return Invalid(name, v, "Value must be at least %s", trimFloat(*r.Min))
	}
	if r.Max != nil && f > *r.Max {
		return Invalid(name, v, "Value must be no more than %s", trimFloat(*r.Max))
	}
	return nil
}

func (r RangeValidator) String() string {
	switch {
	case r.Min == nil && r.Max == nil:
		return "[...]"
	case r.Min == nil:
		return "[...," + trimFloat(*r.Max) + "]"
	case r.Max == nil:
		return "[" + trimFloat(*r.Min) + ",...]"
	}
	return "[" + trimFloat(*r.Min) + ",...," + trimFloat(*r.Max) + "]"
}

func trimFloat(f float64) string { return fmt.Sprintf("%v", f) }

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// ValidString accepts one of the given strings exactly (case-sensitive).
func ValidString(values ...string) Validator {
	return ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		if v == nil || !slices.Contains(values, s) {
			return Invalid(name, v, "String must be one of: %s", strings.Join(values, ", "))
		}
		return nil
	})
}

// CaseInsensitiveValidString accepts one of the given strings in any case.
func CaseInsensitiveValidString(values ...string) Validator {
	return ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		for _, ok := range values {
			if v != nil && strings.EqualFold(ok, s) {
				return nil
			}
		}
		return Invalid(name, v, "String must be one of (case insensitive): %s", strings.Join(values, ", "))
	})
}

// ValidList accepts a list whose every entry is one of the given strings.
func ValidList(values ...string) Validator {
	return ValidatorFunc(func(name string, v any) error {
		l, ok := v.([]string)
		if !ok {
			return Invalid(name, v, "Value must be a list")
		}
		for _, e := range l {
			if !slices.Contains(values, e) {
				return Invalid(name, e, "String must be one of: %s", strings.Join(values, ", "))
			}
		}
		return nil
	})
}

// NonEmptyString rejects a nil or empty string.
func NonEmptyString() Validator {
	return ValidatorFunc(func(name string, v any) error {
		s, ok := v.(string)
		if !ok || s == "" {
			return Invalid(name, v, "String must be non-empty")
		}
		return nil
	})
}

// NonNull rejects a nil value.
func NonNull() Validator {
	return ValidatorFunc(func(name string, v any) error {
		if v == nil {
			return Invalid(name, nil, "Value must be non-null")
		}
		return nil
	})
}

// NonEmptyList rejects a nil or empty list.
func NonEmptyList() Validator {
	return ValidatorFunc(func(name string, v any) error {
		l, ok := v.([]string)
		if !ok || len(l) == 0 {
			return Invalid(name, v, "Empty list")
		}
		return nil
	})
}

// Regex accepts a string that compiles as a regular expression (or nil).
func Regex() Validator {
	return ValidatorFunc(func(name string, v any) error {
		if v == nil {
			return nil
		}
		s, _ := v.(string)
		if _, err := regexp.Compile(s); err != nil {
			return Invalid(name, v, "%v", err)
		}
		return nil
	})
}

// Nullable runs inner only on non-nil values.
func Nullable(inner Validator) Validator {
	return ValidatorFunc(func(name string, v any) error {
		if v == nil {
			return nil
		}
		return inner.Validate(name, v)
	})
}

// All runs every validator and returns the first error.
func All(vs ...Validator) Validator {
	return ValidatorFunc(func(name string, v any) error {
		for _, val := range vs {
			if err := val.Validate(name, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// NonEmptyStringWithoutControlChars rejects an empty string and one
// containing ASCII control characters (Kafka's validator of the same name;
// nil is accepted).
func NonEmptyStringWithoutControlChars() Validator {
	return ValidatorFunc(func(name string, v any) error {
		if v == nil {
			return nil
		}
		s, _ := v.(string)
		if s == "" {
			return Invalid(name, v, "String may not be empty")
		}
		var bad []string
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				bad = append(bad, fmt.Sprint(int(r)))
			}
		}
		if len(bad) > 0 {
			return Invalid(name, v, "String may not contain control sequences but had the following ASCII chars: %s",
				strings.Join(bad, ", "))
		}
		return nil
	})
}

// MaxListSize rejects a list longer than n.
func MaxListSize(n int) Validator {
	return ValidatorFunc(func(name string, v any) error {
		if l, ok := v.([]string); ok && len(l) > n {
			return Invalid(name, v, "exceeds maximum list size of [%d].", n)
		}
		return nil
	})
}
