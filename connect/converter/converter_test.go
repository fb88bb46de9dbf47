package converter

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/data"
)

func TestStringConverter(t *testing.T) {
	c := NewString()
	if err := c.Configure(nil, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value any
		want  []byte
	}{
		{"string", "héllo", []byte("héllo")},
		{"nil is a null message", nil, nil},
		{"int", int32(5), []byte("5")},
		{"double as Java prints it", 1.0, []byte("1.0")},
		{"struct", data.NewStruct(data.StructBuilder().Field("a", data.Required(data.TypeInt32)).MustBuild()).MustPut("a", int32(1)), []byte("Struct{a=1}")},
	}
	for _, tc := range tests {
		got, err := c.FromConnectData("t", nil, nil, tc.value)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	s, v, err := c.ToConnectData("t", nil, []byte("日本"))
	if err != nil || v != "日本" || !s.Equal(data.Optional(data.TypeString)) {
		t.Errorf("ToConnectData = %v, %v, %v", s, v, err)
	}
	if _, v, _ := c.ToConnectData("t", nil, nil); v != nil {
		t.Errorf("null message read as %v", v)
	}

	latin := NewString()
	if err := latin.Configure(map[string]string{EncodingConfig: "ISO-8859-1"}, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := latin.FromConnectData("t", nil, nil, "é"); !bytes.Equal(b, []byte{0xe9}) {
		t.Errorf("latin1 encode = %x", b)
	}
	if _, v, _ := latin.ToConnectData("t", nil, []byte{0xe9}); v != "é" {
		t.Errorf("latin1 decode = %q", v)
	}
	err = NewString().Configure(map[string]string{EncodingConfig: "EBCDIC"}, false)
	if !errors.Is(err, configdef.ErrInvalidConfig) || !strings.Contains(err.Error(), EncodingConfig) {
		t.Errorf("bad encoding: err = %v", err)
	}
}

func TestByteArrayConverter(t *testing.T) {
	c := NewByteArray()
	if err := c.Configure(map[string]string{}, false); err != nil {
		t.Fatal(err)
	}
	b, err := c.FromConnectData("t", nil, data.Required(data.TypeBytes), []byte{1, 2})
	if err != nil || !bytes.Equal(b, []byte{1, 2}) {
		t.Errorf("FromConnectData = %v, %v", b, err)
	}
	if _, err := c.FromConnectData("t", nil, data.Required(data.TypeString), "x"); !errors.Is(err, ErrData) {
		t.Errorf("string schema accepted: %v", err)
	}
	if _, err := c.FromConnectData("t", nil, nil, "x"); !errors.Is(err, ErrData) {
		t.Errorf("string value accepted: %v", err)
	}
	s, v, err := c.ToConnectData("t", nil, []byte{9})
	if err != nil || !bytes.Equal(v.([]byte), []byte{9}) || s.Type != data.TypeBytes || !s.Optional {
		t.Errorf("ToConnectData = %v, %v, %v", s, v, err)
	}
}

func TestJSONConfigErrors(t *testing.T) {
	for key, val := range map[string]string{
		SchemasEnableConfig:          "yes",
		DecimalFormatConfig:          "HEX",
		ReplaceNullWithDefaultConfig: "1",
		SchemasCacheSizeConfig:       "many",
	} {
		err := NewJSON().Configure(map[string]string{key: val}, false)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: err = %v, want one naming the key", key, val, err)
		}
	}
}

func TestJSONSchemaless(t *testing.T) {
	c := configured(t, map[string]string{"schemas.enable": "false"})
	tests := []struct {
		in   string
		want any
	}{
		{`{"a":1,"b":[true,null,2.5,"x"],"c":{}}`, map[string]any{"a": int64(1),
			"b": []any{true, nil, 2.5, "x"}, "c": map[string]any{}}},
		{`  7 `, int64(7)},
		{`-0.0`, -0.0},
		{`""`, ""},
		{``, nil},
		{`null`, nil},
	}
	for _, tc := range tests {
		s, v, err := c.ToConnectData("t", nil, []byte(tc.in))
		if err != nil || s != nil || !reflect.DeepEqual(v, tc.want) {
			t.Errorf("ToConnectData(%q) = %v, %#v, %v; want %#v", tc.in, s, v, err, tc.want)
		}
	}
	if _, _, err := c.ToConnectData("t", nil, []byte(`12345678901234567890`)); !errors.Is(err, ErrData) {
		t.Errorf("integer beyond int64 accepted: %v", err)
	}
	if s, v, err := c.ToConnectData("t", nil, nil); s != nil || v != nil || err != nil {
		t.Errorf("tombstone = %v, %v, %v", s, v, err)
	}
}

func TestJSONErrors(t *testing.T) {
	c := configured(t, nil)
	bad := []struct {
		name, in, want string
	}{
		{"not an envelope", `{"a":1}`, "schemas.enable"},
		{"trailing garbage", `{"schema":null,"payload":1} x`, "after the JSON value"},
		{"int out of range", `{"schema":{"type":"int8"},"payload":300}`, "out of range"},
		{"string for int", `{"schema":{"type":"int32"},"payload":"1"}`, "STRING"},
		{"string for double", `{"schema":{"type":"double"},"payload":"1.5"}`, "STRING"},
		{"lower-case infinity", `{"schema":{"type":"double"},"payload":"infinity"}`, "STRING"},
		{"struct field", `{"schema":{"type":"struct","fields":[{"field":"a","type":"int32"}]},"payload":{"a":"x"}}`, `field "a"`},
		{"duplicate field", `{"schema":{"type":"struct","fields":[{"field":"a","type":"int32"},{"field":"a","type":"int32"}]},"payload":{}}`, `"a"`},
		{"bad base64", `{"schema":{"type":"bytes"},"payload":"!!"}`, "bytes"},
		{"lone bracket", `[`, "end of input"},
		{"control char", "{\"schema\":null,\"payload\":\"a\x01\"}", "control character"},
		{"deep", strings.Repeat("[", 2000), "nesting"},
	}
	for _, tc := range bad {
		_, _, err := c.ToConnectData("t", nil, []byte(tc.in))
		if err == nil || !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrData containing %q", tc.name, err, tc.want)
		}
	}

	st := data.StructBuilder().Field("a", data.Required(data.TypeInt32)).MustBuild()
	if _, err := c.FromConnectData("t", nil, st, data.NewStruct(st)); err == nil || !strings.Contains(err.Error(), `field "a"`) {
		t.Errorf("required field unset: err = %v", err)
	}
	if _, err := c.FromConnectData("t", nil, data.Required(data.TypeInt32), "x"); !errors.Is(err, ErrData) {
		t.Errorf("string for INT32 accepted: %v", err)
	}
	if _, err := c.FromConnectData("t", nil, nil, data.NewDecimal(1, 1)); !errors.Is(err, ErrData) {
		t.Errorf("schemaless Decimal accepted: %v", err)
	}
}

// TestJSONNonFiniteFloats checks that NaN and the infinities, which the
// writer puts in strings, read back as the floats they stand for, and that
// a number beyond the float's range reads as an infinity and then writes
// and reads back the same.
func TestJSONNonFiniteFloats(t *testing.T) {
	c := configured(t, nil)
	tests := []struct {
		name, in, out string
		want          any
	}{
		{"nan", `{"schema":{"type":"double"},"payload":"NaN"}`, `"NaN"`, math.NaN()},
		{"infinity", `{"schema":{"type":"double"},"payload":"Infinity"}`, `"Infinity"`, math.Inf(1)},
		{"minus infinity", `{"schema":{"type":"float"},"payload":"-Infinity"}`, `"-Infinity"`, float32(math.Inf(-1))},
		{"double overflow", `{"schema":{"type":"double"},"payload":1e700}`, `"Infinity"`, math.Inf(1)},
		{"float overflow", `{"schema":{"type":"float"},"payload":-1e50}`, `"-Infinity"`, float32(math.Inf(-1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, v, err := c.ToConnectData("t", nil, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(v) != fmt.Sprint(tc.want) || reflect.TypeOf(v) != reflect.TypeOf(tc.want) {
				t.Fatalf("read %v (%T), want %v (%T)", v, v, tc.want, tc.want)
			}
			out, err := c.FromConnectData("t", nil, s, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte(`"payload":`+tc.out)) {
				t.Fatalf("wrote %s, want payload %s", out, tc.out)
			}
			_, again, err := c.ToConnectData("t", nil, out)
			if err != nil || fmt.Sprint(again) != fmt.Sprint(v) {
				t.Fatalf("own output %s read back as %v, %v", out, again, err)
			}
		})
	}
}

func TestJSONReplaceNullWithDefaultOff(t *testing.T) {
	c := configured(t, map[string]string{"replace.null.with.default": "false"})
	s := data.NewBuilder(data.TypeInt32).Optional().Default(int32(42)).MustBuild()
	b, err := c.FromConnectData("t", nil, s, nil)
	if err != nil || string(b) != `{"schema":{"type":"int32","optional":true,"default":42},"payload":null}` {
		t.Errorf("FromConnectData = %s, %v", b, err)
	}
	_, v, err := c.ToConnectData("t", nil, b)
	if err != nil || v != nil {
		t.Errorf("ToConnectData = %v, %v; want nil", v, err)
	}
}

func TestConfigDefsMatchKafka(t *testing.T) {
	checkConfigGolden(t, map[string]*configdef.Def{
		JSONClass:   NewJSON().ConfigDef(),
		StringClass: NewString().ConfigDef(),
	})
}
