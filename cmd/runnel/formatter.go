package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormatter prints records as Kafka's DefaultMessageFormatter does.
// Its properties, given with --property, are Kafka's:
//
//	print.timestamp=false  "CreateTime:1700000000000" (or LogAppendTime:, NO_TIMESTAMP)
//	print.partition=false  "Partition:0"
//	print.offset=false     "Offset:42"
//	print.delivery=false   "Delivery:NONE" (delivery counts exist only for share groups)
//	print.headers=false    "k1:v1,k2:v2" or "NO_HEADERS"
//	print.key=false        the key
//	print.value=true       the value
//	key.separator=\t       between fields
//	line.separator=\n      after each record
//	headers.separator=,    between headers
//	null.literal=null      printed for a null key, value or header value
//	key.deserializer, value.deserializer, headers.deserializer
//	                       a Java deserializer class name: String, ByteArray,
//	                       Bytes, Short, Integer, Long, Float or Double
//
// Fields appear in that order, separated by key.separator.
type recordFormatter struct {
	printTimestamp, printPartition, printOffset bool
	printDelivery, printHeaders, printKey       bool
	printValue                                  bool
	keySeparator, lineSeparator                 string
	headersSeparator, nullLiteral               string
	keyDecode, valueDecode, headersDecode       decoder
}

// decoder renders bytes the way a Kafka Deserializer's toString would.
type decoder func([]byte) (string, error)

// newRecordFormatter builds a formatter from --property pairs; an unknown
// property or a bad value is an error naming it.
func newRecordFormatter(props []keyValue) (*recordFormatter, error) {
	f := &recordFormatter{
		printValue:       true,
		keySeparator:     "\t",
		lineSeparator:    "\n",
		headersSeparator: ",",
		nullLiteral:      "null",
	}
	boolean := func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }
	for _, kv := range props {
		var err error
		switch kv.Key {
		case "print.timestamp":
			f.printTimestamp = boolean(kv.Value)
		case "print.partition":
			f.printPartition = boolean(kv.Value)
		case "print.offset":
			f.printOffset = boolean(kv.Value)
		case "print.delivery":
			f.printDelivery = boolean(kv.Value)
		case "print.headers":
			f.printHeaders = boolean(kv.Value)
		case "print.key":
			f.printKey = boolean(kv.Value)
		case "print.value":
			f.printValue = boolean(kv.Value)
		case "key.separator":
			f.keySeparator = kv.Value
		case "line.separator":
			f.lineSeparator = kv.Value
		case "headers.separator":
			f.headersSeparator = kv.Value
		case "null.literal":
			f.nullLiteral = kv.Value
		case "key.deserializer":
			f.keyDecode, err = newDecoder(kv.Value)
		case "value.deserializer":
			f.valueDecode, err = newDecoder(kv.Value)
		case "headers.deserializer":
			f.headersDecode, err = newDecoder(kv.Value)
		default:
			return nil, fmt.Errorf("unknown formatter property %q", kv.Key)
		}
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", kv.Key, err)
		}
	}
	return f, nil
}

// newDecoder maps a Java deserializer class (full or short name).
func newDecoder(class string) (decoder, error) {
	short := class[strings.LastIndex(class, ".")+1:]
	fixed := func(n int, fn func([]byte) string) decoder {
		return func(b []byte) (string, error) {
			if len(b) != n {
				return "", fmt.Errorf("size of data received by %s is not %d", short, n)
			}
			return fn(b), nil
		}
	}
	switch short {
	case "StringDeserializer", "ByteArrayDeserializer", "BytesDeserializer":
		return nil, nil
	case "ShortDeserializer":
		return fixed(2, func(b []byte) string { return strconv.Itoa(int(int16(binary.BigEndian.Uint16(b)))) }), nil
	case "IntegerDeserializer":
		return fixed(4, func(b []byte) string { return strconv.Itoa(int(int32(binary.BigEndian.Uint32(b)))) }), nil
	case "LongDeserializer":
		return fixed(8, func(b []byte) string { return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10) }), nil
	case "FloatDeserializer":
		return fixed(4, func(b []byte) string {
			return javaDouble(float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32)
		}), nil
	case "DoubleDeserializer":
		return fixed(8, func(b []byte) string { return javaDouble(math.Float64frombits(binary.BigEndian.Uint64(b)), 64) }), nil
	}
	return nil, fmt.Errorf("unsupported deserializer %s", class)
}

// javaDouble prints a float roughly as Java's Double.toString does.
func javaDouble(f float64, bits int) string {
	s := strconv.FormatFloat(f, 'f', -1, bits)
	if !strings.ContainsAny(s, ".eEIN") {
		s += ".0"
	}
	return s
}

// field renders bytes through an optional decoder; nil prints null.literal.
func (f *recordFormatter) field(b []byte, dec decoder) (string, error) {
	if b == nil {
		return f.nullLiteral, nil
	}
	if dec == nil {
		return string(b), nil
	}
	return dec(b)
}

// write prints one record.
func (f *recordFormatter) write(w io.Writer, r *kgo.Record) error {
	var fields []string
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			fields = append(fields, "CreateTime:"+strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		case 1:
			fields = append(fields, "LogAppendTime:"+strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		default:
			fields = append(fields, "NO_TIMESTAMP")
		}
	}
	if f.printPartition {
		fields = append(fields, "Partition:"+strconv.Itoa(int(r.Partition)))
	}
	if f.printOffset {
		fields = append(fields, "Offset:"+strconv.FormatInt(r.Offset, 10))
	}
	if f.printDelivery {
		fields = append(fields, "Delivery:NONE")
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			fields = append(fields, "NO_HEADERS")
		} else {
			hs := make([]string, len(r.Headers))
			for i, h := range r.Headers {
				v, err := f.field(h.Value, f.headersDecode)
				if err != nil {
					return fmt.Errorf("header %s: %w", h.Key, err)
				}
				hs[i] = h.Key + ":" + v
			}
			fields = append(fields, strings.Join(hs, f.headersSeparator))
		}
	}
	if f.printKey {
		k, err := f.field(r.Key, f.keyDecode)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		fields = append(fields, k)
	}
	if f.printValue {
		v, err := f.field(r.Value, f.valueDecode)
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		fields = append(fields, v)
	}
	if len(fields) == 0 {
		return nil
	}
	_, err := io.WriteString(w, strings.Join(fields, f.keySeparator)+f.lineSeparator)
	return err
}
