package data

import (
	"errors"
	"testing"
)

// FuzzParseDecimal checks that a parsed decimal prints (as BigDecimal's
// toString and toPlainString) to text that parses back to the same value
// and scale, and survives the two's-complement byte encoding.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.340", "1.23E-7", "7E+2", ".5", "+3."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 {
			return // keep exponents and digit strings small
		}
		d, err := ParseDecimal(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("error %v does not wrap ErrInvalidValue", err)
			}
			return
		}
		if d.Scale > 1000 || d.Scale < -1000 {
			return // PlainString of huge scales is legitimately huge
		}
		for _, text := range []string{d.String(), d.PlainString()} {
			back, err := ParseDecimal(text)
			if err != nil {
				t.Fatalf("%q → %v printed as %q, which does not parse: %v", s, d, text, err)
			}
			if text == d.String() && !back.Equal(d) {
				t.Fatalf("%q → %q → %v/%d, want %v/%d", s, text, back.Unscaled, back.Scale, d.Unscaled, d.Scale)
			}
			if back.Unscaled.Sign() != d.Unscaled.Sign() {
				t.Fatalf("%q: sign lost through %q", s, text)
			}
		}
		if rt := DecimalFromBytes(DecimalToBytes(d), d.Scale); !rt.Equal(d) {
			t.Fatalf("%q: bytes round trip gave %v", s, rt.Unscaled)
		}
	})
}
