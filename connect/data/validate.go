package data

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Validate checks that v is a valid value for schema s: nil only when s is
// optional, a Go value of the schema's type (see the package comment), and,
// for containers, every element, key, value and field in turn. The error
// wraps ErrInvalidValue and names where the bad value sits.
func Validate(s *Schema, v any) error { return validate(s, v, "value") }

func validate(s *Schema, v any, where string) error {
	if s == nil {
		return fmt.Errorf("%w: no schema defined for %s", ErrInvalidValue, where)
	}
	if v == nil {
		if !s.Optional {
			return fmt.Errorf("%w: null used for required %s, schema type: %s",
				ErrInvalidValue, where, strings.ToUpper(string(s.Type)))
		}
		return nil
	}
	if !goTypeFits(s, v) {
		name := ""
		if s.Name != "" {
			name = fmt.Sprintf(" %q", s.Name)
		}
		return fmt.Errorf("%w: Go value of type %T does not fit schema%s with type %s for %s",
			ErrInvalidValue, v, name, strings.ToUpper(string(s.Type)), where)
	}
	switch s.Type {
	case TypeStruct:
		st := v.(*Struct)
		if !st.schema.Equal(s) {
			return fmt.Errorf("%w: struct schemas do not match for %s", ErrInvalidValue, where)
		}
		return st.Validate()
	case TypeArray:
		for _, e := range v.([]any) {
			if err := validate(s.ValueSchema, e, "element of array "+where); err != nil {
				return err
			}
		}
	case TypeMap:
		var err error
		eachMapEntry(v, func(k, e any) bool {
			if err = validate(s.KeySchema, k, "key of map "+where); err != nil {
				return false
			}
			err = validate(s.ValueSchema, e, "value of map "+where)
			return err == nil
		})
		return err
	}
	return nil
}

func goTypeFits(s *Schema, v any) bool {
	switch s.Name {
	case DecimalName:
		_, ok := v.(Decimal)
		return ok
	case DateName, TimeName, TimestampName:
		_, ok := v.(time.Time)
		return ok
	}
	var ok bool
	switch s.Type {
	case TypeInt8:
		_, ok = v.(int8)
	case TypeInt16:
		_, ok = v.(int16)
	case TypeInt32:
		_, ok = v.(int32)
	case TypeInt64:
		_, ok = v.(int64)
	case TypeFloat32:
		_, ok = v.(float32)
	case TypeFloat64:
		_, ok = v.(float64)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString:
		_, ok = v.(string)
	case TypeBytes:
		_, ok = v.([]byte)
	case TypeArray:
		_, ok = v.([]any)
	case TypeMap:
		switch v.(type) {
		case map[any]any, map[string]any:
			ok = true
		}
	case TypeStruct:
		var st *Struct
		st, ok = v.(*Struct)
		ok = ok && st != nil
	}
	return ok
}

// eachMapEntry calls fn for every entry of a map[any]any or map[string]any
// until fn returns false.
func eachMapEntry(m any, fn func(k, v any) bool) {
	switch m := m.(type) {
	case map[any]any:
		for k, v := range m {
			if !fn(k, v) {
				return
			}
		}
	case map[string]any:
		for k, v := range m {
			if !fn(k, v) {
				return
			}
		}
	}
}

// ValuesEqual reports whether two Connect values are equal, comparing
// []byte by content, structs field by field, decimals by value and scale,
// times as instants, and containers element by element. A map[string]any and
// a map[any]any with string keys holding equal entries are equal.
func ValuesEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case []byte:
		bb, ok := b.([]byte)
		return ok && bytes.Equal(a, bb)
	case *Struct:
		bs, ok := b.(*Struct)
		return ok && a.Equal(bs)
	case Decimal:
		bd, ok := b.(Decimal)
		return ok && a.Equal(bd)
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt)
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !ValuesEqual(a[i], bl[i]) {
				return false
			}
		}
		return true
	case map[any]any, map[string]any:
		if mapLen(a) != mapLen(b) || mapLen(b) < 0 {
			return false
		}
		equal := true
		eachMapEntry(a, func(k, v any) bool {
			bv, ok := mapGet(b, k)
			equal = ok && ValuesEqual(v, bv)
			return equal
		})
		return equal
	}
	return reflect.DeepEqual(a, b)
}

func mapLen(m any) int {
	switch m := m.(type) {
	case map[any]any:
		return len(m)
	case map[string]any:
		return len(m)
	}
	return -1
}

func mapGet(m any, k any) (any, bool) {
	switch m := m.(type) {
	case map[any]any:
		if !reflect.TypeOf(k).Comparable() {
			return nil, false
		}
		v, ok := m[k]
		return v, ok
	case map[string]any:
		ks, isStr := k.(string)
		if !isStr {
			return nil, false
		}
		v, ok := m[ks]
		return v, ok
	}
	return nil, false
}
