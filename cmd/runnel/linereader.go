package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lineFormat is how runnel produce splits an input line into headers, key
// and value. Its properties are those of Kafka's LineMessageReader, given
// with --property:
//
//	parse.key=false           the line holds a key before key.separator
//	key.separator=\t          separates key from value
//	parse.headers=false       the line starts with headers before headers.delimiter
//	headers.delimiter=\t      separates the headers from the key (or value)
//	headers.separator=,       separates one header from the next
//	headers.key.separator=:   separates a header's key from its value
//	ignore.error=false        a line missing a separator is kept as best it can be
//	null.marker=              a key, value or header value equal to it is null
//
// With both parse.headers and parse.key a line reads "h1:v1,h2:v2\tkey\tvalue".
type lineFormat struct {
	parseKey            bool
	keySeparator        string
	parseHeaders        bool
	headersDelimiter    string
	headersSeparator    string
	headersKeySeparator string
	ignoreError         bool
	nullMarker          string
	hasNullMarker       bool
}

// newLineFormat builds a lineFormat from --property pairs. An unknown
// property, a bad boolean or separators that would make lines ambiguous are
// errors naming the property.
func newLineFormat(props []keyValue) (*lineFormat, error) {
	f := &lineFormat{
		keySeparator:        "\t",
		headersDelimiter:    "\t",
		headersSeparator:    ",",
		headersKeySeparator: ":",
	}
	boolProp := func(k, v string) (bool, error) {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Errorf("invalid value %q for property %s: want true or false", v, k)
		}
		return b, nil
	}
	for _, kv := range props {
		var err error
		switch kv.Key {
		case "parse.key":
			f.parseKey, err = boolProp(kv.Key, kv.Value)
		case "parse.headers":
			f.parseHeaders, err = boolProp(kv.Key, kv.Value)
		case "ignore.error":
			f.ignoreError, err = boolProp(kv.Key, kv.Value)
		case "key.separator":
			f.keySeparator = kv.Value
		case "headers.delimiter":
			f.headersDelimiter = kv.Value
		case "headers.separator":
			f.headersSeparator = kv.Value
		case "headers.key.separator":
			f.headersKeySeparator = kv.Value
		case "null.marker":
			f.nullMarker, f.hasNullMarker = kv.Value, true
		default:
			return nil, fmt.Errorf("unknown property %q (want parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error or null.marker)", kv.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	for name, v := range map[string]string{
		"key.separator": f.keySeparator, "headers.delimiter": f.headersDelimiter,
		"headers.separator": f.headersSeparator, "headers.key.separator": f.headersKeySeparator,
	} {
		if v == "" {
			return nil, fmt.Errorf("property %s may not be empty", name)
		}
	}
	distinct := []struct {
		a, b   string
		va, vb string
	}{
		{"headers.delimiter", "headers.separator", f.headersDelimiter, f.headersSeparator},
		{"headers.delimiter", "headers.key.separator", f.headersDelimiter, f.headersKeySeparator},
		{"headers.separator", "headers.key.separator", f.headersSeparator, f.headersKeySeparator},
	}
	if f.hasNullMarker {
		distinct = append(distinct,
			struct{ a, b, va, vb string }{"null.marker", "key.separator", f.nullMarker, f.keySeparator},
			struct{ a, b, va, vb string }{"null.marker", "headers.separator", f.nullMarker, f.headersSeparator},
			struct{ a, b, va, vb string }{"null.marker", "headers.delimiter", f.nullMarker, f.headersDelimiter},
			struct{ a, b, va, vb string }{"null.marker", "headers.key.separator", f.nullMarker, f.headersKeySeparator},
		)
	}
	for _, d := range distinct {
		if d.va == d.vb {
			return nil, fmt.Errorf("%s and %s may not be equal", d.a, d.b)
		}
	}
	return f, nil
}

// isNull reports whether s is the null marker.
func (f *lineFormat) isNull(s string) bool { return f.hasNullMarker && s == f.nullMarker }

// bytesOrNil returns s as bytes, or nil when it is the null marker.
func (f *lineFormat) bytesOrNil(s string) []byte {
	if f.isNull(s) {
		return nil
	}
	return []byte(s)
}

// parse turns one input line (without its line ending) into a record.
// lineNo counts from 1 and appears in errors.
func (f *lineFormat) parse(line string, lineNo int) (*kgo.Record, error) {
	rest := line
	var headers *string
	if f.parseHeaders {
		h, after, ok := strings.Cut(rest, f.headersDelimiter)
		switch {
		case ok:
			headers, rest = &h, after
		case !f.ignoreError:
			return nil, fmt.Errorf("no headers delimiter found on line number %d: '%s'", lineNo, line)
		}
	}
	r := &kgo.Record{}
	if f.parseKey {
		k, after, ok := strings.Cut(rest, f.keySeparator)
		switch {
		case ok:
			r.Key, rest = f.bytesOrNil(k), after
		case !f.ignoreError:
			return nil, fmt.Errorf("no key separator found on line number %d: '%s'", lineNo, line)
		}
	}
	r.Value = f.bytesOrNil(rest)
	if headers != nil && !f.isNull(*headers) {
		pairs := strings.Split(*headers, f.headersSeparator)
		// Like Java's String.split, trailing empty pairs are dropped.
		for len(pairs) > 1 && pairs[len(pairs)-1] == "" {
			pairs = pairs[:len(pairs)-1]
		}
		for _, pair := range pairs {
			k, v, ok := strings.Cut(pair, f.headersKeySeparator)
			if !ok {
				if !f.ignoreError {
					return nil, fmt.Errorf("no header key separator found in pair '%s' on line number %d", pair, lineNo)
				}
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: pair})
				continue
			}
			if f.isNull(k) {
				return nil, fmt.Errorf("header keys should not be equal to the null marker '%s' as they can't be null", f.nullMarker)
			}
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: f.bytesOrNil(v)})
		}
	}
	return r, nil
}
