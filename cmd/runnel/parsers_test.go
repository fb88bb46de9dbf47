package main

import (
	"strings"
	"testing"
)

func TestLineFormatParse(t *testing.T) {
	tests := []struct {
		name    string
		props   []keyValue
		line    string
		key     *string
		value   *string
		headers string // k=v pairs joined by ";", nil values as k=<nil>
		wantErr string
	}{
		{"value only", nil, "a\tb", nil, ptr("a\tb"), "", ""},
		{"key", []keyValue{{"parse.key", "true"}}, "k\tv\tw", ptr("k"), ptr("v\tw"), "", ""},
		{"custom separator", []keyValue{{"parse.key", "true"}, {"key.separator", "::"}}, "k::v", ptr("k"), ptr("v"), "", ""},
		{"empty key and value", []keyValue{{"parse.key", "true"}}, "\t", ptr(""), ptr(""), "", ""},
		{"missing separator", []keyValue{{"parse.key", "true"}}, "kv", nil, nil, "", "no key separator found on line number 7: 'kv'"},
		{"ignore error", []keyValue{{"parse.key", "true"}, {"ignore.error", "true"}}, "kv", nil, ptr("kv"), "", ""},
		{"headers key value", []keyValue{{"parse.headers", "true"}, {"parse.key", "true"}}, "h1:v1,h2:\tk\tv", ptr("k"), ptr("v"), "h1=v1;h2=", ""},
		{"trailing header separator", []keyValue{{"parse.headers", "true"}}, "h1:v1,\tv", nil, ptr("v"), "h1=v1", ""},
		{"null marker", []keyValue{{"parse.headers", "true"}, {"parse.key", "true"}, {"null.marker", "NULL"}}, "h:NULL\tNULL\tNULL", nil, nil, "h=<nil>", ""},
		{"null headers", []keyValue{{"parse.headers", "true"}, {"null.marker", "-"}}, "-\tv", nil, ptr("v"), "", ""},
		{"bad header pair", []keyValue{{"parse.headers", "true"}}, "h\tv", nil, nil, "", "no header key separator found in pair 'h' on line number 7"},
		{"null header key", []keyValue{{"parse.headers", "true"}, {"null.marker", "N"}}, "N:v\tv", nil, nil, "", "header keys should not be equal to the null marker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newLineFormat(tc.props)
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.parse(tc.line, 7)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bstr(r.Key), sstr(tc.key); got != want {
				t.Errorf("key = %s, want %s", got, want)
			}
			if got, want := bstr(r.Value), sstr(tc.value); got != want {
				t.Errorf("value = %s, want %s", got, want)
			}
			var hs []string
			for _, h := range r.Headers {
				hs = append(hs, h.Key+"="+strings.Trim(bstr(h.Value), `"`))
			}
			if got := strings.Join(hs, ";"); got != tc.headers {
				t.Errorf("headers = %q, want %q", got, tc.headers)
			}
		})
	}
}

func TestLineFormatRejectsAmbiguousSeparators(t *testing.T) {
	for _, props := range [][]keyValue{
		{{"headers.delimiter", ","}},
		{{"headers.separator", ":"}},
		{{"null.marker", "\t"}},
		{{"key.separator", ""}},
		{{"parse.key", "maybe"}},
		{{"parse.kee", "true"}},
	} {
		if _, err := newLineFormat(props); err == nil {
			t.Errorf("%v accepted", props)
		} else if !strings.Contains(err.Error(), props[0].Key) {
			t.Errorf("%v: error %q does not name the property", props, err)
		}
	}
}

func ptr(s string) *string { return &s }

func bstr(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return `"` + string(b) + `"`
}

func sstr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return `"` + *s + `"`
}

// FuzzLineFormatParse checks that any line either parses or fails with an
// error, and that without null markers the parts join back into the line.
func FuzzLineFormatParse(f *testing.F) {
	f.Add("h1:v1,h2:v2\tkey\tvalue", true, true, "\t")
	f.Add("key:value", true, false, ":")
	f.Fuzz(func(t *testing.T, line string, parseKey, parseHeaders bool, sep string) {
		if strings.Contains(line, "\n") {
			return
		}
		props := []keyValue{{"parse.key", boolString(parseKey)}, {"parse.headers", boolString(parseHeaders)}, {"key.separator", sep}}
		lf, err := newLineFormat(props)
		if err != nil {
			return
		}
		r, err := lf.parse(line, 1)
		if err != nil {
			if !strings.Contains(err.Error(), "line number 1") && !strings.Contains(err.Error(), "null marker") {
				t.Fatalf("error without the line number: %v", err)
			}
			return
		}
		if r.Value == nil {
			t.Fatal("nil value without a null marker")
		}
		rebuilt := string(r.Value)
		if parseKey {
			rebuilt = string(r.Key) + sep + rebuilt
		}
		if !parseHeaders && rebuilt != line {
			t.Fatalf("parts %q do not join back into %q", rebuilt, line)
		}
		if parseHeaders && !strings.HasSuffix(line, rebuilt) {
			t.Fatalf("key and value %q are not the end of %q", rebuilt, line)
		}
	})
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestSplitConfigList(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"a=1", "a=1", ""},
		{"a=1,b=2", "a=1|b=2", ""},
		{"cleanup.policy=[compact,delete],retention.ms=1000", "cleanup.policy=compact,delete|retention.ms=1000", ""},
		{" a = 1 , b=", "a=1|b=", ""},
		{"a=x=y", "a=x=y", ""},
		{"novalue", "", `invalid entity config "novalue"`},
		{"a=1,,b=2", "", `invalid entity config ""`},
		{"a=[1,2", "", "unbalanced brackets"},
		{"a=1]", "", "unbalanced brackets"},
		{"a b=1", "", "invalid character found for config key: a b"},
	}
	for _, tc := range tests {
		kvs, err := splitConfigList(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var got []string
		for _, kv := range kvs {
			got = append(got, kv.Key+"="+kv.Value)
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("%q = %q, want %q", tc.in, strings.Join(got, "|"), tc.want)
		}
	}
}

// FuzzSplitConfigList checks that --add-config parsing never panics and that
// every pair it returns has a clean key.
func FuzzSplitConfigList(f *testing.F) {
	f.Add("cleanup.policy=[compact,delete],retention.ms=1000")
	f.Add("a=")
	f.Fuzz(func(t *testing.T, s string) {
		kvs, err := splitConfigList(s)
		if err != nil {
			return
		}
		if len(kvs) == 0 {
			t.Fatal("no pairs and no error")
		}
		for _, kv := range kvs {
			if kv.Key == "" || strings.ContainsAny(kv.Key, "=,[] \t") {
				t.Fatalf("bad key %q from %q", kv.Key, s)
			}
			if strings.ContainsAny(kv.Value, "[]") {
				t.Fatalf("value %q keeps brackets, from %q", kv.Value, s)
			}
		}
	})
}

func TestExpandMultiValue(t *testing.T) {
	got := expandMultiValue([]string{"--topic", "t", "--producer-props", "a=1", "b=2", "--num-records", "5", "-producer-props", "c=3"}, "producer-props")
	want := "--topic t --producer-props a=1 --producer-props b=2 --num-records 5 -producer-props c=3"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q", strings.Join(got, " "))
	}
}

// FuzzExpandMultiValue checks that expansion only inserts repeats of the
// flag name: every other argument survives, in order.
func FuzzExpandMultiValue(f *testing.F) {
	f.Add("--producer-props a=1 b=2 --topic t")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		got := expandMultiValue(args, "producer-props")
		others := func(list []string) []string {
			var out []string
			for _, a := range list {
				if a != "--producer-props" && a != "-producer-props" {
					out = append(out, a)
				}
			}
			return out
		}
		if strings.Join(others(got), "\x00") != strings.Join(others(args), "\x00") {
			t.Fatalf("expansion changed the arguments: %q -> %q", args, got)
		}
		if len(got) < len(args) {
			t.Fatalf("expansion lost arguments: %q -> %q", args, got)
		}
	})
}

func TestParseKeyValues(t *testing.T) {
	kvs, err := parseKeyValues("property", []string{"a=1", "b=x=y", "c="})
	if err != nil || len(kvs) != 3 || kvs[1].Value != "x=y" || kvs[2].Value != "" {
		t.Fatalf("got %v, %v", kvs, err)
	}
	if _, err := parseKeyValues("property", []string{"=1"}); err == nil || !strings.Contains(err.Error(), `--property "=1"`) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestClientOptionsNamesBadProperty(t *testing.T) {
	tests := []struct {
		role  clientRole
		props map[string]string
		want  string
	}{
		{roleProducer, map[string]string{"lingr.ms": "5"}, `unknown producer property "lingr.ms"`},
		{roleProducer, map[string]string{"linger.ms": "soon"}, "linger.ms"},
		{roleProducer, map[string]string{"acks": "1", "enable.idempotence": "true"}, "idempotent"},
		{roleProducer, map[string]string{"compression.type": "brotli"}, "compression.type"},
		{roleConsumer, map[string]string{"auto.offset.reset": "middle"}, "auto.offset.reset"},
		{roleConsumer, map[string]string{"partition.assignment.strategy": "FairAssignor"}, "partition.assignment.strategy"},
		{roleConsumer, map[string]string{"acks": "1"}, `unknown consumer property "acks"`},
		{roleAdmin, map[string]string{"security.protocol": "SASL_SSL"}, "security.protocol"},
	}
	for _, tc := range tests {
		var warn strings.Builder
		_, err := clientOptions(tc.role, "127.0.0.1:9092", tc.props, &warn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: err = %v, want it to name %q", tc.role, tc.props, err, tc.want)
		}
	}
	var warn strings.Builder
	if _, err := clientOptions(roleProducer, "127.0.0.1:9092", map[string]string{"key.serializer": "x", "acks": "all", "linger.ms": "5"}, &warn); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "key.serializer") {
		t.Errorf("no warning for an ignored property: %q", warn.String())
	}
	if _, err := clientOptions(roleAdmin, "", map[string]string{}, &warn); err == nil {
		t.Error("no bootstrap accepted")
	}
}

func TestRecordFormatterDeserializers(t *testing.T) {
	tests := []struct {
		class string
		in    []byte
		want  string
	}{
		{"org.apache.kafka.common.serialization.StringDeserializer", []byte("hi"), "hi"},
		{"org.apache.kafka.common.serialization.LongDeserializer", []byte{0, 0, 0, 0, 0, 0, 1, 0}, "256"},
		{"IntegerDeserializer", []byte{0xff, 0xff, 0xff, 0xfe}, "-2"},
		{"ShortDeserializer", []byte{0, 7}, "7"},
		{"DoubleDeserializer", []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, "1.5"},
		{"FloatDeserializer", []byte{0x40, 0, 0, 0}, "2.0"},
	}
	for _, tc := range tests {
		dec, err := newDecoder(tc.class)
		if err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		f := &recordFormatter{nullLiteral: "null"}
		got, err := f.field(tc.in, dec)
		if err != nil || got != tc.want {
			t.Errorf("%s(%v) = %q, %v; want %q", tc.class, tc.in, got, err, tc.want)
		}
	}
	if dec, _ := newDecoder("LongDeserializer"); dec != nil {
		if _, err := dec([]byte{1}); err == nil {
			t.Error("short input accepted by LongDeserializer")
		}
	}
	if _, err := newDecoder("com.example.AvroDeserializer"); err == nil {
		t.Error("unknown deserializer accepted")
	}
}
