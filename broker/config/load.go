package config

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/magiconair/properties"
)

// Load reads a .properties file (path "" = none) and applies overrides
// ("key=value", from repeated --override flags; later wins). Errors name the
// file and line or the override.
//
// The file is read with java.util.Properties' rules: "=", ":" or whitespace
// between key and value, "#" and "!" comment lines, a backslash at the end
// of a line continuing it on the next (leading whitespace of the next line
// dropped), and backslash escapes including \uXXXX. "${...}" is not
// expanded. A file that is not valid UTF-8 is read as ISO-8859-1, as Java
// does. Later settings of a key replace earlier ones.
func Load(path string, overrides []string) (map[string]string, error) {
	props := make(map[string]string)
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := parseProperties(data, path, props); err != nil {
			return nil, err
		}
	}
	for _, o := range overrides {
		key, value, ok := strings.Cut(o, "=")
		origin := "--override " + strconv.Quote(o)
		switch {
		case !ok:
			return nil, &Error{Key: strings.TrimSpace(o), Origin: origin, Expected: "expected key=value", Err: ErrSyntax}
		case strings.TrimSpace(key) == "":
			return nil, &Error{Origin: origin, Expected: "expected a key before '='", Err: ErrSyntax}
		case value == "":
			// Kafka's command line rejects "key=" too.
			return nil, &Error{Key: key, Origin: origin, Expected: "missing value after '='", Err: ErrSyntax}
		}
		props[strings.TrimSpace(key)] = value
	}
	return props, nil
}

// parseProperties adds the settings in data to props. It splits data into
// logical lines itself (joining continuations, dropping comments and blank
// lines) and hands each logical line to the properties library, which
// splits key from value and decodes escapes. Doing the line handling here
// keeps Java's continuation rules for keys and CRLF files, gives every error
// its line number, and never feeds the library input it cannot finish
// reading.
func parseProperties(data []byte, name string, props map[string]string) error {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	text := string(data)
	if !utf8.Valid(data) {
		text = latin1(data)
	}
	loader := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	for _, ll := range logicalLines(text) {
		origin := name + ":" + strconv.Itoa(ll.line)
		if ll.text[0] == '=' || ll.text[0] == ':' {
			return &Error{Origin: origin, Expected: "expected a key before '" + ll.text[:1] + "'", Err: ErrSyntax}
		}
		p, err := loader.LoadBytes([]byte(ll.text))
		if err != nil {
			msg := err.Error()
			if i := strings.Index(msg, ": Line 1: "); i >= 0 {
				msg = msg[i+len(": Line 1: "):]
			}
			return &Error{Origin: origin, Expected: msg, Err: ErrSyntax}
		}
		for _, k := range p.Keys() {
			v, _ := p.Get(k)
			props[k] = v
		}
	}
	return nil
}

// logicalLine is one key/value line after continuations are joined; line is
// the 1-based number of the natural line it starts on.
type logicalLine struct {
	text string
	line int
}

// logicalLines implements the line reading of java.util.Properties.load:
// natural lines end at \n, \r or \r\n; leading spaces, tabs and form feeds
// are skipped; blank lines and lines starting with # or ! are ignored; a
// line ending in an odd number of backslashes continues on the next one.
func logicalLines(s string) []logicalLine {
	var (
		out    []logicalLine
		cur    strings.Builder
		start  int
		lineNo int
		cont   bool
	)
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\n' && s[j] != '\r' {
			j++
		}
		natural := s[i:j]
		lineNo++
		if j < len(s) && s[j] == '\r' && j+1 < len(s) && s[j+1] == '\n' {
			j++
		}
		i = j + 1
		natural = strings.TrimLeft(natural, " \t\f")
		if !cont {
			if natural == "" || natural[0] == '#' || natural[0] == '!' {
				continue
			}
			start = lineNo
			cur.Reset()
		}
		if trailingBackslashes(natural)%2 == 1 {
			cur.WriteString(natural[:len(natural)-1])
			cont = true
			continue
		}
		cur.WriteString(natural)
		cont = false
		if cur.Len() > 0 {
			out = append(out, logicalLine{text: cur.String(), line: start})
		}
	}
	if cont && cur.Len() > 0 {
		out = append(out, logicalLine{text: cur.String(), line: start})
	}
	return out
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

// latin1 decodes ISO-8859-1 bytes.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
