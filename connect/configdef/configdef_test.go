package configdef

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testDef() *Def {
	return New().
		Define(Key{Name: "topic", Type: String, Default: NoDefault, Importance: High,
			Documentation: "The topic.", Validator: NonEmptyString(), Group: "Common", OrderInGroup: 1}).
		Define(Key{Name: "batch.size", Type: Int, Default: 2000, Importance: Low,
			Documentation: "Batch size.", Validator: AtLeast(1)}).
		Define(Key{Name: "poll.ms", Type: Long, Default: "500", Importance: Low, Documentation: "Poll."}).
		Define(Key{Name: "topics", Type: List, Default: "", Importance: High, Documentation: "Topics."}).
		Define(Key{Name: "enabled", Type: Boolean, Default: true, Importance: Low, Documentation: "On."}).
		Define(Key{Name: "ratio", Type: Double, Default: 0.5, Importance: Low, Documentation: "Ratio."}).
		Define(Key{Name: "secret", Type: Password, Default: nil, Importance: Low, Documentation: "Secret."}).
		Define(Key{Name: "mode", Type: String, Default: "a", Validator: ValidString("a", "b")})
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		want    map[string]any // subset
		wantErr string         // substring; names the key
	}{
		{name: "defaults", props: map[string]string{"topic": "t"},
			want: map[string]any{"topic": "t", "batch.size": int32(2000), "poll.ms": int64(500),
				"topics": []string{}, "enabled": true, "ratio": 0.5, "secret": nil, "mode": "a"}},
		{name: "values trimmed", props: map[string]string{"topic": " t ", "batch.size": " 7 ",
			"topics": " a , b,c ", "enabled": "FALSE", "ratio": "1e3", "secret": "pw"},
			want: map[string]any{"topic": "t", "batch.size": int32(7), "topics": []string{"a", "b", "c"},
				"enabled": false, "ratio": 1000.0, "secret": Secret("pw")}},
		{name: "missing required", props: map[string]string{},
			wantErr: `Missing required configuration "topic" which has no default value.`},
		{name: "bad int", props: map[string]string{"topic": "t", "batch.size": "x"},
			wantErr: "Invalid value x for configuration batch.size: Not a number of type INT"},
		{name: "int overflow", props: map[string]string{"topic": "t", "batch.size": "3000000000"},
			wantErr: "configuration batch.size"},
		{name: "validator range", props: map[string]string{"topic": "t", "batch.size": "0"},
			wantErr: "Invalid value 0 for configuration batch.size: Value must be at least 1"},
		{name: "empty topic", props: map[string]string{"topic": ""},
			wantErr: "Invalid value  for configuration topic: String must be non-empty"},
		{name: "bad bool", props: map[string]string{"topic": "t", "enabled": "yes"},
			wantErr: "configuration enabled: Expected value to be either true or false"},
		{name: "bad enum", props: map[string]string{"topic": "t", "mode": "c"},
			wantErr: "Invalid value c for configuration mode: String must be one of: a, b"},
		{name: "undefined keys ignored", props: map[string]string{"topic": "t", "other": "x"},
			want: map[string]any{"topic": "t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := testDef().Parse(tc.props)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("err %v does not match ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range tc.want {
				if !reflect.DeepEqual(got[k], w) {
					t.Errorf("%s = %#v, want %#v", k, got[k], w)
				}
			}
			if _, ok := got["other"]; ok {
				t.Errorf("undefined key parsed")
			}
		})
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		typ  Type
		want any
		ok   bool
	}{
		{"42", Int, int32(42), true},
		{"+42", Int, int32(42), true},
		{"-2147483648", Int, int32(-2147483648), true},
		{"2147483648", Int, nil, false},
		{"0x10", Int, nil, false},
		{"1_000", Long, nil, false},
		{"32767", Short, int16(32767), true},
		{"32768", Short, nil, false},
		{"9223372036854775807", Long, int64(9223372036854775807), true},
		{"1.5", Double, 1.5, true},
		{".5", Double, 0.5, true},
		{"5.", Double, 5.0, true},
		{"1e-3", Double, 0.001, true},
		{"2d", Double, 2.0, true},
		{"Infinity", Double, nil, true}, // checked below
		{"inf", Double, nil, false},
		{"0x1p3", Double, nil, false},
		{"", Double, nil, false},
		{"True", Boolean, true, true},
		{"", List, []string{}, true},
		{"a,,b", List, []string{"a", "", "b"}, true},
		{" x ", Class, "x", true},
	}
	for _, tc := range tests {
		got, err := ParseValue("k", tc.in, tc.typ)
		if (err == nil) != tc.ok {
			t.Errorf("ParseValue(%q, %s) err = %v, want ok=%v", tc.in, tc.typ, err, tc.ok)
			continue
		}
		if tc.ok && tc.want != nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseValue(%q, %s) = %#v, want %#v", tc.in, tc.typ, got, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "configuration k") {
			t.Errorf("error %q does not name the key", err)
		}
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	vals := testDef().Validate(map[string]string{"batch.size": "0", "enabled": "maybe"})
	byName := map[string]ConfigValue{}
	for _, v := range vals {
		byName[v.Name] = v
	}
	if len(vals) != 8 {
		t.Fatalf("got %d values, want 8", len(vals))
	}
	if e := byName["topic"].Errors; len(e) != 2 || !strings.Contains(e[0], "Missing required configuration \"topic\"") {
		t.Errorf("topic errors = %q", e)
	}
	if e := byName["batch.size"].Errors; len(e) != 1 || !strings.Contains(e[0], "at least 1") {
		t.Errorf("batch.size errors = %q", e)
	}
	if e := byName["enabled"].Errors; len(e) != 1 {
		t.Errorf("enabled errors = %q", e)
	}
	if ErrorCount(vals) != 4 {
		t.Errorf("ErrorCount = %d, want 4", ErrorCount(vals))
	}
}

func TestDecode(t *testing.T) {
	type cfg struct {
		Topic     string        `config:"topic"`
		BatchSize int           `config:"batch.size"`
		Poll      time.Duration `config:"poll.ms"`
		Topics    []string      `config:"topics"`
		Enabled   bool          `config:"enabled"`
		Ratio     float64       `config:"ratio"`
		Secret    string        `config:"secret"`
	}
	var c cfg
	err := testDef().Decode(map[string]string{"topic": "t", "batch.size": "10", "topics": "a,b", "secret": "pw"}, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := cfg{Topic: "t", BatchSize: 10, Poll: 500 * time.Millisecond, Topics: []string{"a", "b"},
		Enabled: true, Ratio: 0.5, Secret: "pw"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if err := testDef().Decode(map[string]string{}, &c); err == nil || !strings.Contains(err.Error(), `"topic"`) {
		t.Errorf("missing key: err = %v", err)
	}
	type typo struct {
		X string `config:"no.such.key"`
	}
	if err := testDef().Decode(map[string]string{"topic": "t"}, &typo{}); err == nil {
		t.Errorf("tag naming an undefined key decoded without error")
	}
}

func TestDefinePanicsOnDuplicate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on duplicate key")
		}
	}()
	New().Define(Key{Name: "a", Type: String}).Define(Key{Name: "a", Type: String})
}

func TestInfosJSON(t *testing.T) {
	d := testDef()
	vals := d.Validate(map[string]string{"batch.size": "0", "secret": "pw"})
	vals = append(vals, ConfigValue{Name: "connector.class", Value: "X", Errors: []string{"bad class"}, Visible: true})
	infos := NewInfos("org.example.X", d, vals)
	if infos.ErrorCount != 4 { // topic: missing and empty; batch.size; connector.class
		t.Errorf("error_count = %d, want 4", infos.ErrorCount)
	}
	b, err := json.Marshal(infos)
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Name       string   `json:"name"`
		ErrorCount int      `json:"error_count"`
		Groups     []string `json:"groups"`
		Configs    []struct {
			Definition map[string]any `json:"definition"`
			Value      map[string]any `json:"value"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(generic.Groups, []string{"Common"}) {
		t.Errorf("groups = %v", generic.Groups)
	}
	first := generic.Configs[0]
	if first.Definition != nil || first.Value["name"] != "connector.class" {
		t.Errorf("first config = %+v, want the undefined connector.class value", first)
	}
	topic := generic.Configs[1]
	wantDef := map[string]any{"name": "topic", "type": "STRING", "required": true, "default_value": nil,
		"importance": "HIGH", "documentation": "The topic.", "group": "Common", "order_in_group": 1.0,
		"width": "NONE", "display_name": "topic", "dependents": []any{}}
	if !reflect.DeepEqual(topic.Definition, wantDef) {
		t.Errorf("topic definition = %v\nwant %v", topic.Definition, wantDef)
	}
	bs := generic.Configs[2]
	if bs.Definition["default_value"] != "2000" || bs.Definition["group"] != nil || bs.Definition["order_in_group"] != -1.0 {
		t.Errorf("batch.size definition = %v", bs.Definition)
	}
	if bs.Value["value"] != "0" || len(bs.Value["errors"].([]any)) != 1 {
		t.Errorf("batch.size value = %v", bs.Value)
	}
	secret := generic.Configs[7]
	if secret.Value["value"] != "[hidden]" {
		t.Errorf("password value printed as %v", secret.Value["value"])
	}
	ratio := generic.Configs[6]
	if ratio.Definition["default_value"] != "0.5" {
		t.Errorf("ratio default = %v", ratio.Definition["default_value"])
	}
}

func TestJavaDouble(t *testing.T) {
	for in, want := range map[float64]string{1: "1.0", 0.001: "0.001", 1e7: "1.0E7", 1.5e-4: "1.5E-4",
		123456.75: "123456.75", -2: "-2.0", 0: "0.0"} {
		if got := javaDouble(in); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", in, got, want)
		}
	}
}

type modeRecommender struct{}

func (modeRecommender) ValidValues(name string, parsed map[string]any) []any {
	if parsed["enabled"] == true {
		return []any{"a", "b"}
	}
	return []any{"a"}
}

func (modeRecommender) Visible(name string, parsed map[string]any) bool {
	return parsed["enabled"] == true
}

func TestValidateRecommender(t *testing.T) {
	d := New().
		Define(Key{Name: "enabled", Type: Boolean, Default: false, Dependents: []string{"mode", "missing.dep"}}).
		Define(Key{Name: "mode", Type: String, Default: "a", Recommender: modeRecommender{}})
	vals := d.Validate(map[string]string{"enabled": "true"})
	if len(vals) != 3 {
		t.Fatalf("values = %+v, want enabled, mode and the undefined dependent", vals)
	}
	mode := vals[1]
	if !mode.Visible || len(mode.RecommendedValues) != 2 {
		t.Errorf("mode = %+v", mode)
	}
	if dep := vals[2]; dep.Name != "missing.dep" || dep.Visible || len(dep.Errors) != 1 {
		t.Errorf("undefined dependent = %+v", dep)
	}
	vals = d.Validate(map[string]string{})
	if vals[1].Visible || len(vals[1].RecommendedValues) != 1 {
		t.Errorf("mode with enabled=false = %+v", vals[1])
	}
	vi := NewValueInfo(vals[1], String)
	if vi.Value == nil || *vi.Value != "a" || len(vi.RecommendedValues) != 1 || vi.RecommendedValues[0] != "a" {
		t.Errorf("value info = %+v", vi)
	}
	if _, err := d.Parse(map[string]string{}); err == nil || !strings.Contains(err.Error(), "missing.dep") {
		t.Errorf("Parse with an undefined dependent: err = %v", err)
	}
}
