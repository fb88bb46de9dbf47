package transforms

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
)

// regexValidator checks that a key's value compiles as a regular expression. Runnel's regular expressions are
// Go's RE2 syntax, which covers Java's except backreferences and lookaround.
func regexValidator() configdef.Validator {
	return configdef.ValidatorFunc(func(name string, v any) error {
		s, _ := v.(string)
		if _, err := regexp.Compile(s); err != nil {
			return configdef.Invalid(name, v, "Invalid regex: %v", err)
		}
		return nil
	})
}

// RegexRouter is Kafka's RegexRouter: when the whole topic matches regex,
// the topic becomes the first match replaced by replacement, in which $1 and
// ${name} refer to groups and \$ is a literal dollar (Java's Matcher syntax).
type RegexRouter struct {
	whole, find *regexp.Regexp
	replacement string
}

// Version implements the plugin version.
func (*RegexRouter) Version() string { return Version }

// ConfigDef declares regex and replacement.
func (*RegexRouter) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "regex", Type: configdef.String, Default: configdef.NoDefault,
			Validator: regexValidator(), Importance: configdef.High, Documentation: "Regular expression the whole topic name must match for the record to be rerouted."}).
		Define(configdef.Key{Name: "replacement", Type: configdef.String, Default: configdef.NoDefault,
			Importance: configdef.High, Documentation: "New topic name; $1 or ${name} insert a group of the match."})
}

// Configure reads the configuration.
func (t *RegexRouter) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	re := p["regex"].(string)
	t.find = regexp.MustCompile(re)
	t.whole = regexp.MustCompile(`^(?:` + re + `)$`)
	t.replacement = p["replacement"].(string)
	if _, err := expandJava(t.find, t.replacement, "", nil); err != nil {
		return configdef.Invalid("replacement", t.replacement, "%v", err)
	}
	return nil
}

// Apply reroutes the record when its topic matches.
func (t *RegexRouter) Apply(r connector.Record) (connector.Record, bool, error) {
	if !t.whole.MatchString(r.Topic) {
		return r, true, nil
	}
	m := t.find.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return r, true, nil
	}
	rep, err := expandJava(t.find, t.replacement, r.Topic, m)
	if err != nil {
		return r, false, fmt.Errorf("%w: %w", ErrData, err)
	}
	r.Topic = r.Topic[:m[0]] + rep + r.Topic[m[1]:]
	return r, true, nil
}

// expandJava expands a java.util.regex.Matcher replacement string: $n (the
// longest group number that exists), ${name}, and \x for a literal x. With a
// nil match it only checks the syntax.
func expandJava(re *regexp.Regexp, repl, src string, m []int) (string, error) {
	var b strings.Builder
	group := func(i int) {
		if m != nil && m[2*i] >= 0 {
			b.WriteString(src[m[2*i]:m[2*i+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i == len(repl) {
				return "", fmt.Errorf("character to be escaped is missing")
			}
			b.WriteByte(repl[i])
		case '$':
			i++
			if i == len(repl) {
				return "", fmt.Errorf("illegal group reference: group index is missing")
			}
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return "", fmt.Errorf("named capturing group is missing trailing '}'")
				}
				name := repl[i+1 : i+end]
				idx := re.SubexpIndex(name)
				if idx < 0 {
					return "", fmt.Errorf("no group with name {%s}", name)
				}
				group(idx)
				i += end
				continue
			}
			if repl[i] < '0' || repl[i] > '9' {
				return "", fmt.Errorf("illegal group reference")
			}
			n := int(repl[i] - '0')
			if n > re.NumSubexp() {
				return "", fmt.Errorf("no group %d", n)
			}
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				next := n*10 + int(repl[i+1]-'0')
				if next > re.NumSubexp() {
					break
				}
				n = next
				i++
			}
			group(n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Close releases nothing.
func (*RegexRouter) Close() error { return nil }

// TimestampRouter is Kafka's TimestampRouter: it sets the topic to
// topic.format with ${topic} and ${timestamp} replaced, the timestamp
// formatted in UTC by timestamp.format (java.text.SimpleDateFormat syntax).
type TimestampRouter struct {
	topicFormat string
	layout      []dateToken
}

// Version implements the plugin version.
func (*TimestampRouter) Version() string { return Version }

// ConfigDef declares topic.format and timestamp.format.
func (*TimestampRouter) ConfigDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "topic.format", Type: configdef.String, Default: "${topic}-${timestamp}",
			Importance: configdef.High,
			Documentation: "New topic name, in which ${topic} stands for the old topic name and ${timestamp} for " +
				"the formatted record timestamp."}).
		Define(configdef.Key{Name: "timestamp.format", Type: configdef.String, Default: "yyyyMMdd",
			Importance: configdef.High,
			Validator: configdef.ValidatorFunc(func(name string, v any) error {
				_, err := parseSimpleDateFormat(v.(string))
				if err != nil {
					return configdef.Invalid(name, v, "%v", err)
				}
				return nil
			}),
			Documentation: "How ${timestamp} is written, in java.text.SimpleDateFormat pattern letters, in UTC."})
}

// Configure reads the configuration.
func (t *TimestampRouter) Configure(props map[string]string) error {
	p, err := t.ConfigDef().Parse(props)
	if err != nil {
		return err
	}
	t.topicFormat = p["topic.format"].(string)
	t.layout, _ = parseSimpleDateFormat(p["timestamp.format"].(string))
	return nil
}

// Apply reroutes the record by its timestamp.
func (t *TimestampRouter) Apply(r connector.Record) (connector.Record, bool, error) {
	if r.Timestamp == nil {
		return r, false, fmt.Errorf("%w: timestamp missing on record for topic %s", ErrData, r.Topic)
	}
	ts := formatSimpleDate(t.layout, time.UnixMilli(*r.Timestamp).UTC())
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", ts)
	return r, true, nil
}

// Close releases nothing.
func (*TimestampRouter) Close() error { return nil }

// dateToken is one piece of a SimpleDateFormat pattern: a run of one
// pattern letter, or literal text.
type dateToken struct {
	letter  byte
	count   int
	literal string
}

// parseSimpleDateFormat splits a java.text.SimpleDateFormat pattern. Text in
// single quotes is literal (” is a quote); every other ASCII letter is a
// pattern letter, of which G y Y M L d H k K h m s S E u a D F z Z X are
// supported.
func parseSimpleDateFormat(p string) ([]dateToken, error) {
	var toks []dateToken
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				toks = append(toks, dateToken{literal: "'"})
				i += 2
				continue
			}
			end := i + 1
			var lit strings.Builder
			for {
				if end >= len(p) {
					return nil, fmt.Errorf("unterminated quote in date format %q", p)
				}
				if p[end] == '\'' {
					if end+1 < len(p) && p[end+1] == '\'' {
						lit.WriteByte('\'')
						end += 2
						continue
					}
					break
				}
				lit.WriteByte(p[end])
				end++
			}
			toks = append(toks, dateToken{literal: lit.String()})
			i = end + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("GyYMLdHkKhmsSEuaDFzZX", rune(c)) {
				return nil, fmt.Errorf("illegal pattern character '%c' in date format %q", c, p)
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			toks = append(toks, dateToken{letter: c, count: n})
			i += n
		default:
			toks = append(toks, dateToken{literal: p[i : i+1]})
			i++
		}
	}
	return toks, nil
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// formatSimpleDate formats t (in UTC) by a parsed SimpleDateFormat pattern.
func formatSimpleDate(toks []dateToken, t time.Time) string {
	var b strings.Builder
	for _, tok := range toks {
		if tok.letter == 0 {
			b.WriteString(tok.literal)
			continue
		}
		n := tok.count
		switch tok.letter {
		case 'G':
			b.WriteString("AD")
		case 'y', 'Y':
			if n == 2 {
				b.WriteString(pad(t.Year()%100, 2))
			} else {
				b.WriteString(pad(t.Year(), n))
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(pad(int(t.Month()), n))
			}
		case 'd':
			b.WriteString(pad(t.Day(), n))
		case 'H':
			b.WriteString(pad(t.Hour(), n))
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b.WriteString(pad(h, n))
		case 'K':
			b.WriteString(pad(t.Hour()%12, n))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, n))
		case 'm':
			b.WriteString(pad(t.Minute(), n))
		case 's':
			b.WriteString(pad(t.Second(), n))
		case 'S':
			b.WriteString(pad(t.Nanosecond()/1e6, n))
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(pad(wd, n))
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'D':
			b.WriteString(pad(t.YearDay(), n))
		case 'F':
			b.WriteString(pad((t.Day()-1)/7+1, n))
		case 'z':
			if n >= 4 {
				b.WriteString("Coordinated Universal Time")
			} else {
				b.WriteString("UTC")
			}
		case 'Z':
			b.WriteString("+0000")
		case 'X':
			b.WriteString("Z")
		}
	}
	return b.String()
}
