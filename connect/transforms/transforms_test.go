package transforms

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// newT returns the configured transformation of a class name or alias.
func newT(t *testing.T, class string, props map[string]string) connector.Transformation {
	t.Helper()
	for _, p := range Transformations() {
		if p.Class == class || slicesContains(p.Aliases, class) {
			tf := p.New()
			if err := tf.Configure(props); err != nil {
				t.Fatalf("Configure(%s, %v): %v", class, props, err)
			}
			return tf
		}
	}
	t.Fatalf("no transformation %s", class)
	return nil
}

func slicesContains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

var (
	personSchema = data.StructBuilder().Name("person").Version(1).
		Field("name", data.Required(data.TypeString)).
		Field("age", data.Optional(data.TypeInt32)).
		Field("city", data.NewBuilder(data.TypeString).Optional().Default("Oslo").MustBuild()).
		MustBuild()
)

func person(name string, age any) *data.Struct {
	s := data.NewStruct(personSchema).MustPut("name", name)
	if age != nil {
		s.MustPut("age", age)
	}
	return s
}

func valueRecord(schema *data.Schema, v any) connector.Record {
	p := int32(3)
	ts := int64(1700000000000)
	return connector.Record{Topic: "orders", Partition: &p, Timestamp: &ts,
		KeySchema: data.Optional(data.TypeString), Key: "k1", ValueSchema: schema, Value: v}
}

// structFields returns a struct's field values by name (with defaults).
func structFields(st *data.Struct) map[string]any {
	out := map[string]any{}
	for _, f := range st.Schema().Fields {
		out[f.Name] = st.GetRaw(f.Name)
	}
	return out
}

func TestPluginTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Transformations() {
		if seen[p.Class] {
			t.Errorf("duplicate class %s", p.Class)
		}
		seen[p.Class] = true
		tf := p.New()
		if tf.ConfigDef() == nil {
			t.Errorf("%s has no ConfigDef", p.Class)
		}
	}
	for _, want := range []string{
		"org.apache.kafka.connect.transforms.InsertField$Value", "org.apache.kafka.connect.transforms.InsertField$Key",
		"org.apache.kafka.connect.transforms.ReplaceField$Value", "org.apache.kafka.connect.transforms.MaskField$Key",
		"org.apache.kafka.connect.transforms.ValueToKey", "org.apache.kafka.connect.transforms.ExtractField$Key",
		"org.apache.kafka.connect.transforms.HoistField$Value", "org.apache.kafka.connect.transforms.Cast$Value",
		"org.apache.kafka.connect.transforms.RegexRouter", "org.apache.kafka.connect.transforms.TimestampRouter",
		"org.apache.kafka.connect.transforms.Filter",
	} {
		if !seen[want] {
			t.Errorf("missing %s", want)
		}
	}
	var preds []string
	for _, p := range Predicates() {
		preds = append(preds, p.Class)
		if p.New().ConfigDef() == nil {
			t.Errorf("%s has no ConfigDef", p.Class)
		}
	}
	if !reflect.DeepEqual(preds, []string{
		"org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"}) {
		t.Errorf("predicates = %v", preds)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		class string
		props map[string]string
		key   string
	}{
		{"InsertField$Value", map[string]string{"static.field": "s"}, "static.value"},
		{"ReplaceField$Value", map[string]string{"renames": "a:b,c"}, "renames"},
		{"MaskField$Value", map[string]string{}, "fields"},
		{"MaskField$Value", map[string]string{"fields": "a", "replacement": ""}, "replacement"},
		{"ValueToKey", map[string]string{"fields": ""}, "fields"},
		{"ExtractField$Value", map[string]string{}, "field"},
		{"ExtractField$Value", map[string]string{"field": "`a.b", "field.syntax.version": "v2"}, "field"},
		{"ExtractField$Value", map[string]string{"field": "a", "field.syntax.version": "V3"}, "field.syntax.version"},
		{"HoistField$Key", map[string]string{}, "field"},
		{"Cast$Value", map[string]string{"spec": "a:int128"}, "spec"},
		{"Cast$Value", map[string]string{"spec": "a:bytes"}, "spec"},
		{"Cast$Value", map[string]string{"spec": "int32,a:int8"}, "spec"},
		{"RegexRouter", map[string]string{"regex": "(", "replacement": "x"}, "regex"},
		{"RegexRouter", map[string]string{"regex": "(a)", "replacement": "$2"}, "replacement"},
		{"TimestampRouter", map[string]string{"timestamp.format": "yyyy-QQ"}, "timestamp.format"},
	}
	for _, tc := range tests {
		var tf connector.Transformation
		for _, p := range Transformations() {
			if slicesContains(p.Aliases, tc.class) {
				tf = p.New()
			}
		}
		err := tf.Configure(tc.props)
		if err == nil || !errors.Is(err, configdef.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s %v: err = %v, want one naming %s", tc.class, tc.props, err, tc.key)
		}
	}
}

func TestInsertField(t *testing.T) {
	props := map[string]string{"topic.field": "topic!", "partition.field": "part", "timestamp.field": "ts",
		"static.field": "src", "static.value": "web"}
	tf := newT(t, "InsertField$Value", props)

	// With a schema.
	out, keep, err := tf.Apply(valueRecord(personSchema, person("Ada", int32(36))))
	if err != nil || !keep {
		t.Fatal(err)
	}
	st := out.Value.(*data.Struct)
	want := map[string]any{"name": "Ada", "age": int32(36), "city": "Oslo", "topic": "orders", "part": int32(3),
		"ts": time.UnixMilli(1700000000000).UTC(), "src": "web"}
	if got := structFields(st); !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v\nwant %v", got, want)
	}
	if f, _ := out.ValueSchema.Field("topic"); f.Schema.Optional {
		t.Errorf("topic! inserted as optional")
	}
	if f, _ := out.ValueSchema.Field("ts"); f.Schema.Name != data.TimestampName || !f.Schema.Optional {
		t.Errorf("ts schema = %+v", f.Schema)
	}
	if out.ValueSchema.Name != "person" || out.Key != "k1" {
		t.Errorf("schema name or key lost: %v %v", out.ValueSchema, out.Key)
	}

	// Schemaless.
	out, _, err = tf.Apply(valueRecord(nil, map[string]any{"a": int64(1)}))
	if err != nil {
		t.Fatal(err)
	}
	wantMap := map[string]any{"a": int64(1), "topic": "orders", "part": int32(3), "ts": int64(1700000000000), "src": "web"}
	if !reflect.DeepEqual(out.Value, wantMap) {
		t.Errorf("schemaless = %v", out.Value)
	}

	// Tombstones pass; non-maps fail naming the purpose.
	if out, _, err := tf.Apply(valueRecord(nil, nil)); err != nil || out.Value != nil {
		t.Errorf("tombstone: %v %v", out.Value, err)
	}
	if _, _, err := tf.Apply(valueRecord(nil, "x")); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "field insertion") {
		t.Errorf("string value: err = %v", err)
	}

	// offset.field needs a sink record.
	off := newT(t, "InsertField$Key", map[string]string{"offset.field": "off"})
	r := connector.Record{Topic: "t", Key: map[string]any{}}
	if _, _, err := off.Apply(r); !errors.Is(err, ErrData) {
		t.Errorf("offset on a source record: err = %v", err)
	}
	o := int64(42)
	r.Offset = &o
	if out, _, err := off.Apply(r); err != nil || out.Key.(map[string]any)["off"] != int64(42) {
		t.Errorf("offset insert = %v, %v", out.Key, err)
	}
}

func TestReplaceField(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  map[string]any
	}{
		{"exclude", map[string]string{"exclude": "age"}, map[string]any{"name": "Ada", "city": "Oslo"}},
		{"include", map[string]string{"include": "name,age"}, map[string]any{"name": "Ada", "age": int32(36)}},
		{"rename", map[string]string{"renames": "name:full_name,city:town", "exclude": "age"},
			map[string]any{"full_name": "Ada", "town": "Oslo"}},
		{"deprecated blacklist", map[string]string{"blacklist": "age,city"}, map[string]any{"name": "Ada"}},
		{"null default kept null", map[string]string{"include": "city", "replace.null.with.default": "false"},
			map[string]any{"city": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tf := newT(t, "ReplaceField$Value", tc.props)
			out, _, err := tf.Apply(valueRecord(personSchema, person("Ada", int32(36))))
			if err != nil {
				t.Fatal(err)
			}
			if got := structFields(out.Value.(*data.Struct)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("with schema: %v, want %v", got, tc.want)
			}
			m := map[string]any{"name": "Ada", "age": int32(36), "city": "Oslo"}
			out, _, err = tf.Apply(valueRecord(nil, m))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if tc.name == "null default kept null" {
				want = map[string]any{"city": "Oslo"} // maps have no defaults
			}
			if !reflect.DeepEqual(out.Value, want) {
				t.Errorf("schemaless: %v, want %v", out.Value, want)
			}
			if len(m) != 3 {
				t.Errorf("input map modified: %v", m)
			}
		})
	}
}

func TestMaskField(t *testing.T) {
	s := data.StructBuilder().
		Field("i", data.Required(data.TypeInt32)).Field("s", data.Required(data.TypeString)).
		Field("b", data.Required(data.TypeBoolean)).Field("d", data.DecimalBuilder(2).MustBuild()).
		Field("ts", data.TimestampBuilder().MustBuild()).Field("l", data.ArrayBuilder(data.Required(data.TypeInt8)).MustBuild()).
		Field("keep", data.Required(data.TypeString)).MustBuild()
	v := data.NewStruct(s).MustPut("i", int32(7)).MustPut("s", "secret").MustPut("b", true).
		MustPut("d", data.NewDecimal(1234, 2)).MustPut("ts", time.UnixMilli(99).UTC()).MustPut("l", []any{int8(1)}).
		MustPut("keep", "visible")
	tf := newT(t, "MaskField$Value", map[string]string{"fields": "i,s,b,d,ts,l"})
	out, _, err := tf.Apply(valueRecord(s, v))
	if err != nil {
		t.Fatal(err)
	}
	got := structFields(out.Value.(*data.Struct))
	want := map[string]any{"i": int32(0), "s": "", "b": false, "d": data.NewDecimal(0, 2),
		"ts": time.UnixMilli(0).UTC(), "l": []any{}, "keep": "visible"}
	for k, w := range want {
		if !data.ValuesEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}

	repl := newT(t, "MaskField$Value", map[string]string{"fields": "i,s", "replacement": "42"})
	out, _, err = repl.Apply(valueRecord(nil, map[string]any{"i": int64(7), "s": "x", "other": 1.5}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Value, map[string]any{"i": int64(42), "s": "42", "other": 1.5}) {
		t.Errorf("replacement = %v", out.Value)
	}
	_, _, err = repl.Apply(valueRecord(nil, map[string]any{"i": true}))
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), `field "i"`) {
		t.Errorf("bool with replacement: err = %v", err)
	}
	bad := newT(t, "MaskField$Value", map[string]string{"fields": "i", "replacement": "abc"})
	if _, _, err := bad.Apply(valueRecord(nil, map[string]any{"i": int32(1)})); err == nil || !strings.Contains(err.Error(), `field "i"`) {
		t.Errorf("unparsable replacement: err = %v", err)
	}
}

func TestValueToKey(t *testing.T) {
	tf := newT(t, "ValueToKey", map[string]string{"fields": "name,city"})
	out, _, err := tf.Apply(valueRecord(personSchema, person("Ada", nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := structFields(out.Key.(*data.Struct)); !reflect.DeepEqual(got, map[string]any{"name": "Ada", "city": "Oslo"}) {
		t.Errorf("key = %v", got)
	}
	if out.Value == nil || out.ValueSchema != personSchema {
		t.Errorf("value lost")
	}
	out, _, err = tf.Apply(valueRecord(nil, map[string]any{"name": "Ada", "x": 1}))
	if err != nil || !reflect.DeepEqual(out.Key, map[string]any{"name": "Ada", "city": nil}) || out.KeySchema != nil {
		t.Errorf("schemaless key = %v, %v", out.Key, err)
	}
	missing := newT(t, "ValueToKey", map[string]string{"fields": "nope"})
	if _, _, err := missing.Apply(valueRecord(personSchema, person("Ada", nil))); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing field: err = %v", err)
	}
}

func TestExtractAndHoist(t *testing.T) {
	ex := newT(t, "ExtractField$Value", map[string]string{"field": "name"})
	out, _, err := ex.Apply(valueRecord(personSchema, person("Ada", nil)))
	if err != nil || out.Value != "Ada" || out.ValueSchema.Type != data.TypeString {
		t.Errorf("extract = %v %v %v", out.ValueSchema, out.Value, err)
	}
	out, _, err = ex.Apply(valueRecord(nil, map[string]any{"name": "Bo"}))
	if err != nil || out.Value != "Bo" {
		t.Errorf("schemaless extract = %v %v", out.Value, err)
	}
	if out, _, err := ex.Apply(valueRecord(personSchema, nil)); err != nil || out.Value != nil || out.ValueSchema.Type != data.TypeString {
		t.Errorf("null value: %v %v", out.Value, err)
	}
	unknown := newT(t, "ExtractField$Value", map[string]string{"field": "nope"})
	if _, _, err := unknown.Apply(valueRecord(personSchema, person("Ada", nil))); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown field: err = %v", err)
	}

	nested := data.StructBuilder().Field("a.b", personSchema).MustBuild()
	v2 := newT(t, "ExtractField$Value", map[string]string{"field": "`a.b`.name", "field.syntax.version": "V2"})
	out, _, err = v2.Apply(valueRecord(nested, data.NewStruct(nested).MustPut("a.b", person("Cy", nil))))
	if err != nil || out.Value != "Cy" {
		t.Errorf("V2 extract = %v %v", out.Value, err)
	}
	out, _, err = v2.Apply(valueRecord(nil, map[string]any{"a.b": map[string]any{"name": "Di"}}))
	if err != nil || out.Value != "Di" {
		t.Errorf("V2 schemaless extract = %v %v", out.Value, err)
	}

	hoist := newT(t, "HoistField$Key", map[string]string{"field": "id"})
	out, _, err = hoist.Apply(valueRecord(nil, nil))
	if err != nil || out.KeySchema.Type != data.TypeStruct || out.Key.(*data.Struct).Get("id") != "k1" {
		t.Errorf("hoist key = %v %v", out.Key, err)
	}
	r := valueRecord(nil, nil)
	r.KeySchema = nil
	out, _, _ = hoist.Apply(r)
	if !reflect.DeepEqual(out.Key, map[string]any{"id": "k1"}) {
		t.Errorf("schemaless hoist = %v", out.Key)
	}
}

func TestFieldPath(t *testing.T) {
	tests := map[string][]string{
		"a":             {"a"},
		"a.b.c":         {"a", "b", "c"},
		"`a.b`.c":       {"a.b", "c"},
		"a.":            {"a", ""},
		"`a\\`.b`.c":    {"a`.b", "c"},
		"`a`b`.c":       {"a`b", "c"},
		"a.`b.c`":       {"a", "b.c"},
		"":              {""},
		"`x`":           {"x"},
		"plain`tick.ok": {"plain`tick", "ok"},
	}
	for in, want := range tests {
		got, err := parseFieldPath(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseFieldPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseFieldPath("`a.b"); err == nil {
		t.Errorf("unterminated backtick accepted")
	}
}

func TestCast(t *testing.T) {
	s := data.StructBuilder().
		Field("i", data.Required(data.TypeInt64)).Field("f", data.Required(data.TypeFloat64)).
		Field("s", data.Required(data.TypeString)).Field("b", data.Optional(data.TypeBytes)).
		Field("d", data.DecimalBuilder(2).MustBuild()).Field("keep", data.Required(data.TypeBoolean)).
		Field("def", data.NewBuilder(data.TypeInt32).Default(int32(5)).MustBuild()).
		MustBuild()
	v := data.NewStruct(s).MustPut("i", int64(300)).MustPut("f", 1e10).MustPut("s", "-12").
		MustPut("b", []byte("hi")).MustPut("d", data.NewDecimal(-12345, 2)).MustPut("keep", true)
	tf := newT(t, "Cast$Value", map[string]string{"spec": "i:int8, f:int32, s:int16, b:string, d:string, def:string"})
	out, _, err := tf.Apply(valueRecord(s, v))
	if err != nil {
		t.Fatal(err)
	}
	got := structFields(out.Value.(*data.Struct))
	want := map[string]any{"i": int8(44), "f": int32(2147483647), "s": int16(-12), "b": "aGk=", "d": "-123.45",
		"keep": true, "def": "5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cast = %v\nwant %v", got, want)
	}
	if f, _ := out.ValueSchema.Field("def"); f.Schema.Default != "5" || f.Schema.Type != data.TypeString {
		t.Errorf("default not cast: %+v", f.Schema)
	}
	if f, _ := out.ValueSchema.Field("b"); !f.Schema.Optional {
		t.Errorf("optionality lost")
	}

	tests := []struct {
		spec string
		in   any
		want any
	}{
		{"float64", "1e3", 1000.0},
		{"boolean", "TRUE", true},
		{"boolean", int64(0), false},
		{"int32", true, int32(1)},
		{"string", 1.0, "1.0"},
		{"string", float32(1e10), "1.0E10"},
		{"int64", -2.9, int64(-2)},
		{"float32", int64(16777217), float32(16777216)},
	}
	for _, tc := range tests {
		tf := newT(t, "Cast$Value", map[string]string{"spec": tc.spec})
		out, _, err := tf.Apply(valueRecord(nil, tc.in))
		if err != nil || !reflect.DeepEqual(out.Value, tc.want) {
			t.Errorf("cast %#v to %s = %#v, %v; want %#v", tc.in, tc.spec, out.Value, err, tc.want)
		}
	}

	whole := newT(t, "Cast$Key", map[string]string{"spec": "int32"})
	r := valueRecord(nil, nil)
	r.KeySchema, r.Key = data.Required(data.TypeInt64), int64(7)
	out, _, err = whole.Apply(r)
	if err != nil || out.Key != int32(7) || out.KeySchema.Type != data.TypeInt32 {
		t.Errorf("whole key cast = %v %v %v", out.KeySchema, out.Key, err)
	}

	dates := newT(t, "Cast$Value", map[string]string{"spec": "string"})
	for ms, want := range map[int64]string{3_600_000: "01:00:00.000Z", 86_400_000 * 2: "1970-01-03",
		1_700_000_000_123: "2023-11-14T22:13:20.123Z"} {
		out, _, err := dates.Apply(valueRecord(data.TimestampBuilder().MustBuild(), time.UnixMilli(ms).UTC()))
		if err != nil || out.Value != want {
			t.Errorf("timestamp %d to string = %v, %v; want %s", ms, out.Value, err, want)
		}
	}

	errs := newT(t, "Cast$Value", map[string]string{"spec": "n:int8"})
	_, _, err = errs.Apply(valueRecord(nil, map[string]any{"n": "300"}))
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), `field "n"`) {
		t.Errorf("out of range: err = %v", err)
	}
	_, _, err = errs.Apply(valueRecord(nil, map[string]any{"n": []any{1}}))
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), `field "n"`) {
		t.Errorf("array: err = %v", err)
	}
}

func TestRouters(t *testing.T) {
	rr := newT(t, "RegexRouter", map[string]string{"regex": `(?P<base>.*)-(raw|v\d)`, "replacement": `$1_${base}\$$2`})
	out, _, _ := rr.Apply(connector.Record{Topic: "orders-raw"})
	if out.Topic != "orders_orders$raw" {
		t.Errorf("RegexRouter topic = %q", out.Topic)
	}
	out, _, _ = rr.Apply(connector.Record{Topic: "orders-rawx"})
	if out.Topic != "orders-rawx" {
		t.Errorf("partial match rerouted to %q", out.Topic)
	}
	multi := newT(t, "RegexRouter", map[string]string{"regex": `(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)`, "replacement": `$11$1`})
	if out, _, _ := multi.Apply(connector.Record{Topic: "abcdefghijk"}); out.Topic != "ka" {
		t.Errorf("$11 = %q", out.Topic)
	}

	tr := newT(t, "TimestampRouter", map[string]string{})
	ts := time.Date(2024, 2, 29, 23, 59, 58, 7e6, time.UTC).UnixMilli()
	out, _, err := tr.Apply(connector.Record{Topic: "logs", Timestamp: &ts})
	if err != nil || out.Topic != "logs-20240229" {
		t.Errorf("TimestampRouter = %q, %v", out.Topic, err)
	}
	custom := newT(t, "TimestampRouter", map[string]string{"topic.format": "${timestamp}.${topic}",
		"timestamp.format": "yy-M-d'T'HH:mm:ss.SSS a EEE MMM ''"})
	out, _, _ = custom.Apply(connector.Record{Topic: "x", Timestamp: &ts})
	if out.Topic != "24-2-29T23:59:58.007 PM Thu Feb '.x" {
		t.Errorf("custom TimestampRouter = %q", out.Topic)
	}
	if _, _, err := tr.Apply(connector.Record{Topic: "logs"}); !errors.Is(err, ErrData) {
		t.Errorf("missing timestamp: err = %v", err)
	}
}

func TestFilterAndPredicates(t *testing.T) {
	f := newT(t, "Filter", nil)
	if _, keep, err := f.Apply(connector.Record{Topic: "t"}); keep || err != nil {
		t.Errorf("Filter kept the record")
	}
	preds := map[string]connector.Predicate{}
	for _, p := range Predicates() {
		preds[p.Aliases[0]] = p.New()
	}
	if err := preds["TopicNameMatches"].Configure(map[string]string{"pattern": "log-.*"}); err != nil {
		t.Fatal(err)
	}
	if err := preds["HasHeaderKey"].Configure(map[string]string{"name": "trace"}); err != nil {
		t.Fatal(err)
	}
	if err := preds["TopicNameMatches"].Configure(map[string]string{"pattern": "("}); err == nil || !strings.Contains(err.Error(), "pattern") {
		t.Errorf("bad pattern: err = %v", err)
	}
	_ = preds["TopicNameMatches"].Configure(map[string]string{"pattern": "log-.*"})
	tests := []struct {
		pred string
		r    connector.Record
		want bool
	}{
		{"TopicNameMatches", connector.Record{Topic: "log-a"}, true},
		{"TopicNameMatches", connector.Record{Topic: "xlog-a"}, false},
		{"HasHeaderKey", connector.Record{Headers: []connector.Header{{Key: "trace", Value: "1"}}}, true},
		{"HasHeaderKey", connector.Record{Headers: []connector.Header{{Key: "other"}}}, false},
		{"RecordIsTombstone", connector.Record{Key: "k"}, true},
		{"RecordIsTombstone", connector.Record{Value: "v"}, false},
	}
	for _, tc := range tests {
		if got := preds[tc.pred].Test(tc.r); got != tc.want {
			t.Errorf("%s(%+v) = %v", tc.pred, tc.r, got)
		}
	}
}

func TestConfigDefsMatchKafka(t *testing.T) {
	defs := map[string]*configdef.Def{}
	for _, p := range Transformations() {
		if !strings.HasSuffix(p.Class, "$Key") {
			defs[p.Class] = p.New().ConfigDef()
		}
	}
	for _, p := range Predicates() {
		defs[p.Class] = p.New().ConfigDef()
	}
	checkConfigGolden(t, defs)
}
