package converter

import (
	"encoding/json"
	"testing"

	"github.com/runnel/runnel/connect/data"
)

func benchStruct() (*data.Schema, *data.Struct, map[string]any) {
	s := data.StructBuilder().Name("order").
		Field("id", data.Required(data.TypeInt64)).
		Field("customer", data.Required(data.TypeString)).
		Field("amount", data.Required(data.TypeFloat64)).
		Field("paid", data.Required(data.TypeBoolean)).
		Field("note", data.Optional(data.TypeString)).
		Field("items", data.ArrayBuilder(data.Required(data.TypeString)).MustBuild()).
		MustBuild()
	items := []any{"apple", "pear", "plum"}
	v := data.NewStruct(s).MustPut("id", int64(123456789)).MustPut("customer", "Ada Lovelace").
		MustPut("amount", 99.95).MustPut("paid", true).MustPut("items", items)
	plain := map[string]any{"id": 123456789, "customer": "Ada Lovelace", "amount": 99.95, "paid": true,
		"note": nil, "items": items}
	return s, v, plain
}

// BenchmarkJSON writes and reads a small struct with JsonConverter
// (schemas.enable=false, the bare payload) beside encoding/json marshalling
// and unmarshalling the same payload as a map.
func BenchmarkJSON(b *testing.B) {
	s, v, plain := benchStruct()
	c := NewJSON()
	c.schemasEnabled = false
	payload, err := c.FromConnectData("t", nil, s, v)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("write/limit=encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := json.Marshal(plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write/JsonConverter", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := c.FromConnectData("t", nil, s, v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read/limit=encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			var m any
			if err := json.Unmarshal(payload, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read/JsonConverter", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, _, err := c.ToConnectData("t", nil, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
