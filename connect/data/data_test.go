package data

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func personSchema(t *testing.T) *Schema {
	t.Helper()
	s, err := StructBuilder().Name("person").
		Field("name", Required(TypeString)).
		Field("age", Optional(TypeInt32)).
		Field("tags", ArrayBuilder(Required(TypeString)).Optional().MustBuild()).
		Field("country", NewBuilder(TypeString).Default("NO").MustBuild()).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuilderErrors(t *testing.T) {
	tests := []struct {
		name string
		b    *Builder
		want string
	}{
		{"duplicate field", StructBuilder().Field("a", Required(TypeInt8)).Field("a", Required(TypeInt8)), `"a"`},
		{"field on primitive", NewBuilder(TypeInt32).Field("a", Required(TypeInt8)), `"a"`},
		{"bad default", NewBuilder(TypeInt32).Default("x"), "default"},
		{"array without element", ArrayBuilder(nil), "element"},
		{"unknown type", NewBuilder("int128"), "int128"},
	}
	for _, tc := range tests {
		_, err := tc.b.Build()
		if err == nil || !errors.Is(err, ErrInvalidSchema) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrInvalidSchema naming %s", tc.name, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ps := personSchema(t)
	good := NewStruct(ps).MustPut("name", "Ada").MustPut("tags", []any{"x"})
	missing := NewStruct(ps)
	tests := []struct {
		name   string
		schema *Schema
		value  any
		want   string // "" = valid; else a substring of the error
	}{
		{"int32", Required(TypeInt32), int32(1), ""},
		{"int as int32", Required(TypeInt32), 1, "int"},
		{"null required", Required(TypeString), nil, "null used for required value"},
		{"null optional", Optional(TypeString), nil, ""},
		{"bytes", Required(TypeBytes), []byte("x"), ""},
		{"struct", ps, good, ""},
		{"struct missing field", ps, missing, `field: "name"`},
		{"array element", ArrayBuilder(Required(TypeInt64)).MustBuild(), []any{int64(1), "x"}, "element of array"},
		{"map string keys", MapBuilder(Required(TypeString), Required(TypeInt32)).MustBuild(),
			map[string]any{"a": int32(1)}, ""},
		{"map bad value", MapBuilder(Required(TypeString), Required(TypeInt32)).MustBuild(),
			map[any]any{"a": "b"}, "value of map"},
		{"decimal", DecimalBuilder(2).MustBuild(), NewDecimal(123, 2), ""},
		{"decimal as bytes", DecimalBuilder(2).MustBuild(), []byte{1}, DecimalName},
		{"timestamp", TimestampBuilder().MustBuild(), time.UnixMilli(5), ""},
	}
	for _, tc := range tests {
		err := Validate(tc.schema, tc.value)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", tc.name, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrInvalidValue containing %q", tc.name, err, tc.want)
		}
	}
}

func TestStruct(t *testing.T) {
	ps := personSchema(t)
	s := NewStruct(ps)
	if err := s.Put("age", "ten"); err == nil || !strings.Contains(err.Error(), `field: "age"`) {
		t.Errorf("Put wrong type: err = %v", err)
	}
	if err := s.Put("nope", 1); !errors.Is(err, ErrNoField) {
		t.Errorf("Put unknown field: err = %v", err)
	}
	s.MustPut("name", "Ada")
	if s.Get("country") != "NO" || s.GetRaw("country") != nil {
		t.Errorf("default not applied by Get or applied by GetRaw")
	}
	if s.String() != "Struct{name=Ada}" {
		t.Errorf("String = %q", s.String())
	}
	o := NewStruct(personSchema(t)).MustPut("name", "Ada")
	if !s.Equal(o) || !ValuesEqual(s, o) {
		t.Errorf("equal structs not equal")
	}
	o.MustPut("age", int32(3))
	if s.Equal(o) {
		t.Errorf("different structs equal")
	}
}

func TestDecimalBytes(t *testing.T) {
	// Expected bytes are Java's BigInteger.toByteArray of the unscaled value.
	tests := []struct {
		unscaled string
		want     []byte
	}{
		{"0", []byte{0}},
		{"1", []byte{1}},
		{"127", []byte{0x7f}},
		{"128", []byte{0, 0x80}},
		{"255", []byte{0, 0xff}},
		{"-1", []byte{0xff}},
		{"-128", []byte{0x80}},
		{"-129", []byte{0xff, 0x7f}},
		{"-256", []byte{0xff, 0x00}},
		{"156", []byte{0, 0x9c}},
		{"-32768", []byte{0x80, 0x00}},
		{"-32769", []byte{0xff, 0x7f, 0xff}},
	}
	for _, tc := range tests {
		u, _ := new(big.Int).SetString(tc.unscaled, 10)
		got := DecimalToBytes(Decimal{Unscaled: u, Scale: 2})
		if !bytes.Equal(got, tc.want) {
			t.Errorf("DecimalToBytes(%s) = %x, want %x", tc.unscaled, got, tc.want)
		}
		back := DecimalFromBytes(got, 2)
		if back.Unscaled.Cmp(u) != 0 {
			t.Errorf("round trip of %s = %s", tc.unscaled, back.Unscaled)
		}
	}
}

func TestDecimalString(t *testing.T) {
	for _, tc := range []struct {
		d    Decimal
		want string
	}{
		{NewDecimal(1234, 2), "12.34"},
		{NewDecimal(-5, 3), "-0.005"},
		{NewDecimal(7, 0), "7"},
		{NewDecimal(7, -2), "7E+2"},
		{NewDecimal(1, 8), "1E-8"},
		{NewDecimal(-123, 9), "-1.23E-7"},
		{NewDecimal(123, 8), "0.00000123"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%v.String() = %q, want %q", tc.d.Unscaled, got, tc.want)
		}
		p, err := ParseDecimal(tc.want)
		if err != nil || !p.Equal(tc.d) {
			t.Errorf("ParseDecimal(%q) = %v, %v", tc.want, p, err)
		}
	}
	if _, err := ParseDecimal("1.2.3"); err == nil {
		t.Errorf("ParseDecimal accepted 1.2.3")
	}
}

func TestDateTime(t *testing.T) {
	d := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	days, err := DateToDays(d)
	if err != nil || !DaysToDate(days).Equal(d) {
		t.Errorf("date round trip: %d %v", days, err)
	}
	if _, err := DateToDays(d.Add(time.Hour)); err == nil {
		t.Errorf("DateToDays accepted a time of day")
	}
	ms, err := TimeToMillis(time.UnixMilli(3_600_001))
	if err != nil || ms != 3_600_001 {
		t.Errorf("TimeToMillis = %d, %v", ms, err)
	}
	if _, err := TimeToMillis(d); err == nil {
		t.Errorf("TimeToMillis accepted a date")
	}
}

func TestSchemaEqualAndCopy(t *testing.T) {
	a := personSchema(t)
	b := a.Copy()
	if !a.Equal(b) {
		t.Fatal("copy not equal")
	}
	b.Fields[1].Schema.Optional = false
	if a.Equal(b) || !a.Fields[1].Schema.Optional {
		t.Errorf("copy shares field schemas or Equal ignores optionality")
	}
}
