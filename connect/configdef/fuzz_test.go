package configdef

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseValue checks that parsing any string as any type either fails
// with an error naming the key, or yields a value of the type's Go type that
// formats back (ValueString) to a string parsing to the same value.
func FuzzParseValue(f *testing.F) {
	types := []Type{Boolean, String, Int, Short, Long, Double, List, Class, Password}
	f.Add("42", uint8(2))
	f.Add(" true ", uint8(0))
	f.Add("a, b ,c", uint8(6))
	f.Add("1e308", uint8(5))
	f.Add("-1e400", uint8(5))
	f.Add("NaN", uint8(5))
	f.Add("4.9E-324", uint8(5))
	f.Fuzz(func(t *testing.T, s string, ti uint8) {
		typ := types[int(ti)%len(types)]
		v, err := ParseValue("fuzz.key", s, typ)
		if err != nil {
			if !strings.Contains(err.Error(), "configuration fuzz.key") {
				t.Fatalf("error %q does not name the key", err)
			}
			return
		}
		want := map[Type]string{Boolean: "bool", String: "string", Int: "int32", Short: "int16",
			Long: "int64", Double: "float64", List: "[]string", Class: "string", Password: "configdef.Secret"}[typ]
		if got := fmt.Sprintf("%T", v); got != want {
			t.Fatalf("ParseValue(%q, %s) gave %s, want %s", s, typ, got, want)
		}
		if typ == Password || typ == List {
			return // hidden, or ambiguous with embedded commas
		}
		str := ValueString(v, typ)
		again, err := ParseValue("fuzz.key", *str, typ)
		if f, ok := v.(float64); ok && err == nil && math.IsNaN(f) && math.IsNaN(again.(float64)) {
			return // NaN equals nothing, not even itself
		}
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("%q parsed to %#v, formatted %q, reparsed to %#v (%v)", s, v, *str, again, err)
		}
	})
}
