package converter

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonKind is the kind of a parsed JSON node.
type jsonKind uint8

const (
	jsonMissing jsonKind = iota // no content at all
	jsonNull
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"MISSING", "NULL", "BOOLEAN", "NUMBER", "STRING", "ARRAY", "OBJECT"}[k]
}

// jsonNode is a parsed JSON value. Numbers keep their text, so a decimal
// keeps its scale and an integer its full precision; objects keep their
// member order. It is the reader's counterpart of Jackson's JsonNode.
type jsonNode struct {
	kind    jsonKind
	boolean bool
	text    string // string value, or number text
	integer bool   // number without fraction or exponent
	elems   []*jsonNode
	keys    []string
	vals    []*jsonNode
}

// get returns the member called name; with duplicate names the last wins,
// as with Jackson.
func (n *jsonNode) get(name string) *jsonNode {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == name {
			return n.vals[i]
		}
	}
	return nil
}

// size is the number of distinct members of an object.
func (n *jsonNode) size() int {
	seen := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		seen[k] = true
	}
	return len(seen)
}

const maxJSONDepth = 1000 // Jackson's default maximum nesting depth

// parseJSON parses one JSON document as Kafka's JsonDeserializer reads it:
// strict JSON (RFC 8259) except that integers may have leading zeros
// (Jackson's ALLOW_LEADING_ZEROS_FOR_NUMBERS). Empty input is the missing
// node. Trailing content after the value is an error.
func parseJSON(b []byte) (*jsonNode, error) {
	p := &jsonParser{b: b}
	p.space()
	if p.i == len(b) {
		return &jsonNode{kind: jsonMissing}, nil
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(b) {
		return nil, p.errorf("unexpected content after the JSON value")
	}
	return n, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: invalid JSON at byte %d: %s", ErrData, p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*jsonNode, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nesting deeper than %d", maxJSONDepth)
	}
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jsonNode{kind: jsonString, text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case p.literal("true"):
		return &jsonNode{kind: jsonBool, boolean: true}, nil
	case p.literal("false"):
		return &jsonNode{kind: jsonBool}, nil
	case p.literal("null"):
		return &jsonNode{kind: jsonNull}, nil
	}
	return nil, p.errorf("unexpected character %q", p.b[p.i])
}

func (p *jsonParser) literal(word string) bool {
	if len(p.b)-p.i >= len(word) && string(p.b[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) object(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: jsonObject}
	p.i++ // {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.errorf("expected a member name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, k)
		n.vals = append(n.vals, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end of object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return n, nil
		default:
			return nil, p.errorf("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: jsonArray}
	p.i++ // [
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, p.errorf("unexpected end of array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return n, nil
		default:
			return nil, p.errorf("expected ',' or ']'")
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *jsonParser) number() (*jsonNode, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && isDigit(p.b[p.i]) {
		p.i++
	}
	if p.i == digits {
		return nil, p.errorf("expected a digit")
	}
	integer := true
	if p.i < len(p.b) && p.b[p.i] == '.' {
		integer = false
		p.i++
		frac := p.i
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
		if p.i == frac {
			return nil, p.errorf("expected a digit after '.'")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		exp := p.i
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
		if p.i == exp {
			return nil, p.errorf("expected a digit in the exponent")
		}
	}
	return &jsonNode{kind: jsonNumber, text: string(p.b[start:p.i]), integer: integer}, nil
}

func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	var out []byte
	start := p.i
	for {
		if p.i >= len(p.b) {
			return "", p.errorf("unterminated string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			out = append(out, p.b[start:p.i]...)
			p.i++
			if !utf8.Valid(out) {
				return "", p.errorf("invalid UTF-8 in string")
			}
			return string(out), nil
		case c < 0x20:
			return "", p.errorf("unescaped control character in string")
		case c == '\\':
			out = append(out, p.b[start:p.i]...)
			p.i++
			if p.i >= len(p.b) {
				return "", p.errorf("unterminated escape")
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(utf8.RuneError)
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						lo, err := p.hex4()
						if err != nil {
							return "", err
						}
						if r2 = utf16.DecodeRune(r, lo); r2 == utf8.RuneError {
							p.i = save // not a pair: keep the second escape
						}
					}
					r = r2 // a lone surrogate becomes U+FFFD
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", p.errorf("invalid escape '\\%c'", e)
			}
			start = p.i
		default:
			p.i++
		}
	}
}

func (p *jsonParser) hex4() (rune, error) {
	if len(p.b)-p.i < 4 {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.i += 4
	return rune(v), nil
}
