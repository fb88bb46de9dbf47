package converter

import (
	"encoding/base64"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/runnel/runnel/connect/data"
)

// The writers below produce the bytes Jackson writes for Kafka's
// JsonConverter: no whitespace, members in insertion order, strings escaped
// as Jackson escapes them ('"', '\\', control characters, and characters
// beyond the BMP as surrogate pairs; the rest of non-ASCII as UTF-8), bytes as padded standard base64, floats as Java
// prints them and non-finite floats as quoted strings.

const hexDigits = "0123456789ABCDEF"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				// Invalid UTF-8 cannot occur in a Java string; write U+FFFD.
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i += size
				start = i
				continue
			}
			if r > 0xffff {
				// Jackson escapes characters outside the BMP as a UTF-16
				// surrogate pair (\uD83D\uDE00).
				b = append(b, s[start:i]...)
				hi, lo := utf16.EncodeRune(r)
				b = appendUnicodeEscape(b, hi)
				b = appendUnicodeEscape(b, lo)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = appendUnicodeEscape(b, rune(c))
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendUnicodeEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

func appendJSONBytes(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	s := strconv.FormatFloat(f, 'g', -1, bits)
	switch s {
	case "NaN", "+Inf", "-Inf":
		return appendJSONString(b, map[string]string{"NaN": "NaN", "+Inf": "Infinity", "-Inf": "-Infinity"}[s])
	}
	if bits == 32 {
		return append(b, data.FormatFloat32(float32(f))...)
	}
	return append(b, data.FormatFloat64(f)...)
}
