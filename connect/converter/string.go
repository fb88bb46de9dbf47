package converter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// EncodingConfig is StringConverter's converter.encoding key.
const EncodingConfig = "converter.encoding"

// String is Kafka's StringConverter: it writes any value as its string form
// in converter.encoding (UTF-8 by default) and reads every message as an
// optional string.
type String struct {
	latin1 bool
}

var _ connector.Converter = (*String)(nil)

// NewString returns a StringConverter with the default configuration.
func NewString() *String { return &String{} }

// Version implements the plugin version.
func (*String) Version() string { return Version }

// ConfigDef declares converter.type and converter.encoding.
func (*String) ConfigDef() *configdef.Def {
	return configdef.New().Define(typeKey()).Define(configdef.Key{
		Name: EncodingConfig, Type: configdef.String, Default: "UTF-8", Importance: configdef.High,
		Documentation: "Character set of the bytes: UTF-8, ISO-8859-1 or US-ASCII.",
		Validator: configdef.CaseInsensitiveValidString("UTF-8", "UTF8", "ISO-8859-1", "ISO8859_1",
			"latin1", "US-ASCII", "ASCII"),
		Width: configdef.WidthMedium, DisplayName: "Encoding",
	})
}

// Configure reads converter.encoding. UTF-8, ISO-8859-1 and US-ASCII are
// supported; US-ASCII is written like ISO-8859-1.
func (c *String) Configure(props map[string]string, isKey bool) error {
	parsed, err := c.ConfigDef().Parse(withType(props, isKey))
	if err != nil {
		return err
	}
	enc := strings.ToUpper(parsed[EncodingConfig].(string))
	c.latin1 = enc != "UTF-8" && enc != "UTF8"
	return nil
}

// FromConnectData writes value's string form; a nil value is a null message.
func (c *String) FromConnectData(_ string, _ []connector.Header, _ *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s := data.Format(value)
	if !c.latin1 {
		return []byte(s), nil
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?' // what Java writes for an unmappable character
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// ToConnectData reads value as an optional string.
func (c *String) ToConnectData(_ string, _ []connector.Header, value []byte) (*data.Schema, any, error) {
	schema := data.Optional(data.TypeString)
	if value == nil {
		return schema, nil, nil
	}
	if c.latin1 {
		r := make([]rune, len(value))
		for i, b := range value {
			r[i] = rune(b)
		}
		return schema, string(r), nil
	}
	if !utf8.Valid(value) {
		// Java decodes malformed input to U+FFFD; so does this.
		return schema, strings.ToValidUTF8(string(value), "\uFFFD"), nil
	}
	return schema, string(value), nil
}

// ByteArray is Kafka's ByteArrayConverter: it passes bytes through
// unchanged, accepting only a nil or BYTES schema.
type ByteArray struct{}

var _ connector.Converter = (*ByteArray)(nil)

// NewByteArray returns a ByteArrayConverter.
func NewByteArray() *ByteArray { return &ByteArray{} }

// Version implements the plugin version.
func (*ByteArray) Version() string { return Version }

// ConfigDef declares converter.type.
func (*ByteArray) ConfigDef() *configdef.Def { return configdef.New().Define(typeKey()) }

// Configure has nothing to configure beyond converter.type.
func (c *ByteArray) Configure(props map[string]string, isKey bool) error {
	_, err := c.ConfigDef().Parse(withType(props, isKey))
	return err
}

// FromConnectData returns value, which must be []byte (or nil).
func (*ByteArray) FromConnectData(_ string, _ []connector.Header, schema *data.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != data.TypeBytes {
		return nil, fmt.Errorf("%w: invalid schema type for ByteArrayConverter: %s", ErrData, strings.ToUpper(string(schema.Type)))
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: ByteArrayConverter is not compatible with objects of type %T", ErrData, value)
	}
	return b, nil
}

// ToConnectData returns value with an optional BYTES schema.
func (*ByteArray) ToConnectData(_ string, _ []connector.Header, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return data.Optional(data.TypeBytes), nil, nil
	}
	return data.Optional(data.TypeBytes), value, nil
}
