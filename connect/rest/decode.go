package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Request bodies are decoded by hand from a json.Decoder token stream so
// that every complaint names the field at fault, and so that scalars are
// accepted where Kafka (Jackson) coerces them: a config value may be a
// string, a number or a boolean ("tasks.max": 1 is "1"), or null.

// errBody is wrapped by every body decoding error.
var errBody = errors.New("rest: bad request body")

func bodyErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBody}, args...)...)
}

// createRequest is the body of POST /connectors.
type createRequest struct {
	Name         *string
	Config       map[string]*string
	InitialState *string
}

func newDecoder(body []byte) *json.Decoder {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	return d
}

// decodeCreateRequest decodes {"name":..,"config":{..},"initial_state":..}.
// Unknown fields are ignored, as Kafka ignores them.
func decodeCreateRequest(body []byte) (createRequest, error) {
	var req createRequest
	d := newDecoder(body)
	err := decodeObject(d, "request body", func(key string) error {
		switch key {
		case "name":
			s, err := decodeScalar(d, "name")
			req.Name = s
			return err
		case "config":
			m, err := decodeStringMap(d, "config")
			req.Config = m
			return err
		case "initial_state":
			s, err := decodeScalar(d, "initial_state")
			req.InitialState = s
			return err
		}
		return skipValue(d)
	})
	if err != nil {
		return req, err
	}
	return req, expectEOF(d)
}

// decodeConfigBody decodes a body that is one JSON object of config values.
func decodeConfigBody(body []byte) (map[string]*string, error) {
	d := newDecoder(body)
	m, err := decodeStringMap(d, "request body")
	if err != nil {
		return nil, err
	}
	return m, expectEOF(d)
}

// offsetsBody is the body of PATCH /connectors/{c}/offsets.
type offsetsBody struct {
	Offsets []offsetEntry
}

type offsetEntry struct {
	Partition map[string]any
	Offset    map[string]any // nil = reset this partition
}

// decodeOffsets decodes {"offsets":[{"partition":{..},"offset":{..}|null}]}.
func decodeOffsets(body []byte) (offsetsBody, error) {
	var out offsetsBody
	d := newDecoder(body)
	err := decodeObject(d, "request body", func(key string) error {
		if key != "offsets" {
			return skipValue(d)
		}
		tok, err := d.Token()
		if err != nil {
			return bodyErrorf("offsets: %v", syntaxErr(err))
		}
		if tok == nil {
			out.Offsets = nil
			return nil
		}
		if tok != json.Delim('[') {
			return bodyErrorf("offsets: expected an array, got %s", tokenWord(tok))
		}
		for i := 0; d.More(); i++ {
			var e offsetEntry
			field := fmt.Sprintf("offsets[%d]", i)
			err := decodeObject(d, field, func(key string) error {
				switch key {
				case "partition":
					m, err := decodeAnyObject(d, field+".partition")
					e.Partition = m
					return err
				case "offset":
					m, err := decodeAnyObject(d, field+".offset")
					e.Offset = m
					return err
				}
				return skipValue(d)
			})
			if err != nil {
				return err
			}
			out.Offsets = append(out.Offsets, e)
		}
		if _, err := d.Token(); err != nil {
			return bodyErrorf("offsets: %v", syntaxErr(err))
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, expectEOF(d)
}

// decodeObject reads a JSON object (or null, treated as empty), calling
// field for each key with the decoder positioned at its value.
func decodeObject(d *json.Decoder, what string, field func(key string) error) error {
	_, err := decodeObjectOrNull(d, what, field)
	return err
}

// decodeObjectOrNull is decodeObject reporting whether the value was an
// object (true) or null (false).
func decodeObjectOrNull(d *json.Decoder, what string, field func(key string) error) (bool, error) {
	tok, err := d.Token()
	if err != nil {
		return false, bodyErrorf("%s: %v", what, syntaxErr(err))
	}
	if tok == nil {
		return false, nil
	}
	if tok != json.Delim('{') {
		return false, bodyErrorf("%s: expected a JSON object, got %s", what, tokenWord(tok))
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return true, bodyErrorf("%s: %v", what, syntaxErr(err))
		}
		key, ok := tok.(string)
		if !ok {
			return true, bodyErrorf("%s: expected a field name, got %s", what, tokenWord(tok))
		}
		if err := field(key); err != nil {
			return true, err
		}
	}
	if _, err := d.Token(); err != nil {
		return true, bodyErrorf("%s: %v", what, syntaxErr(err))
	}
	return true, nil
}

// decodeStringMap reads an object whose values are scalars, as strings;
// null values stay nil. A JSON null for the whole object gives a nil map.
func decodeStringMap(d *json.Decoder, what string) (map[string]*string, error) {
	m := make(map[string]*string)
	present, err := decodeObjectOrNull(d, what, func(key string) error {
		s, err := decodeScalar(d, what+"."+key)
		m[key] = s
		return err
	})
	if !present {
		m = nil
	}
	return m, err
}

// decodeScalar reads a string, number or boolean as a string, or null.
func decodeScalar(d *json.Decoder, what string) (*string, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, bodyErrorf("%s: %v", what, syntaxErr(err))
	}
	var s string
	switch v := tok.(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case json.Number:
		s = v.String()
	case bool:
		s = fmt.Sprint(v)
	default:
		return nil, bodyErrorf("%s: expected a string, got %s", what, tokenWord(tok))
	}
	return &s, nil
}

// decodeAnyObject reads a JSON object of any values, or null (nil).
func decodeAnyObject(d *json.Decoder, what string) (map[string]any, error) {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return nil, bodyErrorf("%s: %v", what, syntaxErr(err))
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, bodyErrorf("%s: expected a JSON object, got %s", what, valueWord(raw))
	}
	inner := json.NewDecoder(bytes.NewReader(raw))
	inner.UseNumber()
	var m map[string]any
	if err := inner.Decode(&m); err != nil {
		return nil, bodyErrorf("%s: %v", what, syntaxErr(err))
	}
	return m, nil
}

func skipValue(d *json.Decoder) error {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return bodyErrorf("%v", syntaxErr(err))
	}
	return nil
}

// expectEOF rejects trailing data after the body's one value.
func expectEOF(d *json.Decoder) error {
	if _, err := d.Token(); err != io.EOF {
		if err != nil {
			return bodyErrorf("%v", syntaxErr(err))
		}
		return bodyErrorf("unexpected data after the JSON value")
	}
	return nil
}

func syntaxErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func tokenWord(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

func valueWord(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}
