package serde

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// TestKafkaByteFormats checks that the built-ins write the bytes Kafka's
// serializers write, value by value.
func TestKafkaByteFormats(t *testing.T) {
	tests := []struct {
		name string
		ser  func() ([]byte, error)
		want []byte
	}{
		{"string ascii", func() ([]byte, error) { return String().Serialize("t", "abc") }, []byte("abc")},
		{"string utf8", func() ([]byte, error) { return String().Serialize("t", "é€") }, []byte{0xc3, 0xa9, 0xe2, 0x82, 0xac}},
		{"string empty", func() ([]byte, error) { return String().Serialize("t", "") }, []byte{}},
		{"bytes", func() ([]byte, error) { return Bytes().Serialize("t", []byte{0, 1, 0xff}) }, []byte{0, 1, 0xff}},
		{"int32 1", func() ([]byte, error) { return Int32().Serialize("t", 1) }, []byte{0, 0, 0, 1}},
		{"int32 -1", func() ([]byte, error) { return Int32().Serialize("t", -1) }, []byte{0xff, 0xff, 0xff, 0xff}},
		{"int32 min", func() ([]byte, error) { return Int32().Serialize("t", math.MinInt32) }, []byte{0x80, 0, 0, 0}},
		{"int32 0x01020304", func() ([]byte, error) { return Int32().Serialize("t", 0x01020304) }, []byte{1, 2, 3, 4}},
		{"int64 1", func() ([]byte, error) { return Int64().Serialize("t", 1) }, []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{"int64 -2", func() ([]byte, error) { return Int64().Serialize("t", -2) }, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}},
		{"int64 max", func() ([]byte, error) { return Int64().Serialize("t", math.MaxInt64) }, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"float64 1.0", func() ([]byte, error) { return Float64().Serialize("t", 1.0) }, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{"float64 -2.5", func() ([]byte, error) { return Float64().Serialize("t", -2.5) }, []byte{0xc0, 0x04, 0, 0, 0, 0, 0, 0}},
		{"float64 +inf", func() ([]byte, error) { return Float64().Serialize("t", math.Inf(1)) }, []byte{0x7f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{"float64 NaN canonical", func() ([]byte, error) { return Float64().Serialize("t", math.Float64frombits(0xfff0000000000001)) }, []byte{0x7f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{"json struct", func() ([]byte, error) {
			return JSON[struct {
				ID  int    `json:"id"`
				Who string `json:"who"`
			}]().Serialize("t", struct {
				ID  int    `json:"id"`
				Who string `json:"who"`
			}{7, "ann"})
		}, []byte(`{"id":7,"who":"ann"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ser()
			if err != nil {
				t.Fatalf("serialize: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("bytes = % x, want % x", got, tt.want)
			}
		})
	}
}

func roundTrip[T comparable](t *testing.T, s Serde[T], v T) {
	t.Helper()
	b, err := s.Serialize("topic", v)
	if err != nil {
		t.Fatalf("serialize %v: %v", v, err)
	}
	got, err := s.Deserialize("topic", b)
	if err != nil {
		t.Fatalf("deserialize % x: %v", b, err)
	}
	if got != v {
		t.Fatalf("round trip of %v gave %v", v, got)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, v := range []string{"", "a", "héllo wörld", "\x00\x01"} {
		roundTrip(t, String(), v)
	}
	for _, v := range []int32{0, 1, -1, math.MaxInt32, math.MinInt32} {
		roundTrip(t, Int32(), v)
	}
	for _, v := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64} {
		roundTrip(t, Int64(), v)
	}
	for _, v := range []float64{0, -0.5, math.Pi, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(-1)} {
		roundTrip(t, Float64(), v)
	}
	type order struct {
		ID    string
		Total float64
	}
	roundTrip(t, JSON[order](), order{"o-1", 12.5})

	nan, err := Float64().Serialize("t", math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Float64().Deserialize("t", nan); !math.IsNaN(got) {
		t.Fatalf("NaN came back as %v", got)
	}
}

func TestDeserializeErrors(t *testing.T) {
	tests := []struct {
		name    string
		deser   func() error
		wantErr error
	}{
		{"int32 short", func() error { _, err := Int32().Deserialize("t", []byte{1, 2, 3}); return err }, ErrSize},
		{"int32 long", func() error { _, err := Int32().Deserialize("t", make([]byte, 5)); return err }, ErrSize},
		{"int32 empty", func() error { _, err := Int32().Deserialize("t", []byte{}); return err }, ErrSize},
		{"int64 short", func() error { _, err := Int64().Deserialize("t", make([]byte, 4)); return err }, ErrSize},
		{"float64 long", func() error { _, err := Float64().Deserialize("t", make([]byte, 9)); return err }, ErrSize},
		{"json bad", func() error { _, err := JSON[map[string]int]().Deserialize("t", []byte("{")); return err }, ErrJSON},
		{"json unsupported", func() error { _, err := JSON[chan int]().Serialize("t", make(chan int)); return err }, ErrJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.deser()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestNilData checks that nil data (a tombstone that reached a serde) gives
// the zero value without an error, like Kafka's deserializers returning null.
func TestNilData(t *testing.T) {
	if v, err := Int32().Deserialize("t", nil); v != 0 || err != nil {
		t.Errorf("Int32 nil = %v, %v", v, err)
	}
	if v, err := Int64().Deserialize("t", nil); v != 0 || err != nil {
		t.Errorf("Int64 nil = %v, %v", v, err)
	}
	if v, err := Float64().Deserialize("t", nil); v != 0 || err != nil {
		t.Errorf("Float64 nil = %v, %v", v, err)
	}
	if v, err := String().Deserialize("t", nil); v != "" || err != nil {
		t.Errorf("String nil = %q, %v", v, err)
	}
	if v, err := JSON[*int]().Deserialize("t", nil); v != nil || err != nil {
		t.Errorf("JSON nil = %v, %v", v, err)
	}
}

func TestNew(t *testing.T) {
	upper := New(
		func(_ string, v rune) ([]byte, error) { return []byte(string(v)), nil },
		func(_ string, b []byte) (rune, error) { return []rune(string(b))[0], nil },
	)
	roundTrip(t, upper, 'ß')
}

// FuzzDeserialize checks that no input makes a built-in deserializer panic and
// that whatever decodes re-encodes to the same bytes.
func FuzzDeserialize(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, err := Int32().Deserialize("t", data); err == nil && data != nil {
			b, _ := Int32().Serialize("t", v)
			if !bytes.Equal(b, data) {
				t.Fatalf("int32 % x re-encoded as % x", data, b)
			}
		}
		if v, err := Int64().Deserialize("t", data); err == nil && data != nil {
			b, _ := Int64().Serialize("t", v)
			if !bytes.Equal(b, data) {
				t.Fatalf("int64 % x re-encoded as % x", data, b)
			}
		}
		if v, err := Float64().Deserialize("t", data); err == nil && data != nil && !math.IsNaN(v) {
			b, _ := Float64().Serialize("t", v)
			if !bytes.Equal(b, data) {
				t.Fatalf("float64 % x re-encoded as % x", data, b)
			}
		}
		_, _ = JSON[map[string]any]().Deserialize("t", data)
		s, _ := String().Deserialize("t", data)
		if b, _ := String().Serialize("t", s); !bytes.Equal(b, data) {
			t.Fatalf("string % x re-encoded as % x", data, b)
		}
	})
}
