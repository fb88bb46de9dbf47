package converter

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzJSONToConnectData feeds arbitrary bytes to both modes of the JSON
// converter. Whatever reads without error must write and read back to the
// same bytes (the writer's output is canonical).
func FuzzJSONToConnectData(f *testing.F) {
	for _, row := range readGoldenF(f, "json_to_connect.golden") {
		f.Add([]byte(row[1]), true)
	}
	f.Add([]byte(`{"a":[1,2.5e3,"x\u00e9",null,{"b":false}]}`), false)
	f.Fuzz(func(t *testing.T, in []byte, schemas bool) {
		c := NewJSON()
		c.schemasEnabled = schemas
		s, v, err := c.ToConnectData("t", nil, in)
		if err != nil {
			return
		}
		out, err := c.FromConnectData("t", nil, s, v)
		if err != nil && strings.Contains(err.Error(), "decimal scale mismatch") {
			// As in Kafka: a numeric Decimal payload keeps its own scale,
			// which BASE64 output refuses when it differs from the schema's.
			return
		}
		if err != nil {
			t.Fatalf("read %q but cannot write it back: %v", in, err)
		}
		if out == nil {
			return // null value without schema: a tombstone
		}
		s2, v2, err := c.ToConnectData("t", nil, out)
		if err != nil {
			t.Fatalf("cannot read own output %q (from %q): %v", out, in, err)
		}
		again, err := c.FromConnectData("t", nil, s2, v2)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not stable: %q → %q → %q (%v)", in, out, again, err)
		}
	})
}

func readGoldenF(f *testing.F, name string) [][]string {
	f.Helper()
	return readGoldenRows(f, name)
}
