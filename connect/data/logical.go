package data

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Names and parameters of Kafka Connect's logical types.
const (
	// DecimalName names an arbitrary-precision decimal stored as the
	// big-endian two's-complement bytes of its unscaled value (TypeBytes).
	DecimalName = "org.apache.kafka.connect.data.Decimal"
	// DecimalScaleParam is the schema parameter holding a Decimal's scale.
	DecimalScaleParam = "scale"
	// DateName names a date stored as days since the Unix epoch (TypeInt32).
	DateName = "org.apache.kafka.connect.data.Date"
	// TimeName names a time of day stored as milliseconds since midnight (TypeInt32).
	TimeName = "org.apache.kafka.connect.data.Time"
	// TimestampName names an instant stored as milliseconds since the Unix epoch (TypeInt64).
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
)

const msPerDay = 24 * 60 * 60 * 1000

// Decimal is the Go value of a Decimal logical type: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// NewDecimal returns unscaled × 10^-scale.
func NewDecimal(unscaled int64, scale int32) Decimal {
	return Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// ParseDecimal parses a decimal string as Java's new BigDecimal(String)
// does, keeping its scale: "-12.340" has scale 3, "1.23E-7" has scale 9,
// "7E+2" has scale -2.
func ParseDecimal(s string) (Decimal, error) {
	bad := func() (Decimal, error) {
		return Decimal{}, fmt.Errorf("%w: not a decimal: %q", ErrInvalidValue, s)
	}
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return bad()
		}
		mant, exp = s[:i], e
	}
	sign := ""
	if mant != "" && (mant[0] == '+' || mant[0] == '-') {
		sign, mant = mant[:1], mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return bad()
	}
	u, ok := new(big.Int).SetString(sign+digits, 10)
	if !ok {
		return bad()
	}
	scale := int64(len(frac)) - exp
	if scale < math.MinInt32 || scale > math.MaxInt32 {
		return bad()
	}
	return Decimal{Unscaled: u, Scale: int32(scale)}, nil
}

// String formats d as Java's BigDecimal.toString: plain notation ("-12.340")
// unless the scale is negative or the number very small, then scientific
// ("1.2E+3", "1E-7").
func (d Decimal) String() string {
	u := d.unscaled()
	digits := new(big.Int).Abs(u).String()
	adjusted := int64(len(digits)-1) - int64(d.Scale)
	if d.Scale >= 0 && adjusted >= -6 {
		return d.PlainString()
	}
	s := digits[:1]
	if len(digits) > 1 {
		s += "." + digits[1:]
	}
	s += "E"
	if adjusted > 0 {
		s += "+"
	}
	s += strconv.FormatInt(adjusted, 10)
	if u.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// PlainString formats d without an exponent, as BigDecimal.toPlainString.
func (d Decimal) PlainString() string {
	u := d.unscaled()
	if d.Scale <= 0 {
		s := u.String()
		if u.Sign() != 0 {
			s += strings.Repeat("0", int(-d.Scale))
		}
		return s
	}
	digits := new(big.Int).Abs(u).String()
	if len(digits) <= int(d.Scale) {
		digits = strings.Repeat("0", int(d.Scale)-len(digits)+1) + digits
	}
	p := len(digits) - int(d.Scale)
	out := digits[:p] + "." + digits[p:]
	if u.Sign() < 0 {
		out = "-" + out
	}
	return out
}

func (d Decimal) unscaled() *big.Int {
	if d.Unscaled == nil {
		return new(big.Int)
	}
	return d.Unscaled
}

// Float64 returns d as the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.PlainString(), 64)
	return f
}

// Equal reports whether d and o have the same unscaled value and scale.
func (d Decimal) Equal(o Decimal) bool {
	a, b := d.Unscaled, o.Unscaled
	if a == nil {
		a = new(big.Int)
	}
	if b == nil {
		b = new(big.Int)
	}
	return d.Scale == o.Scale && a.Cmp(b) == 0
}

// DecimalBuilder starts a Decimal schema with the given scale.
func DecimalBuilder(scale int32) *Builder {
	return NewBuilder(TypeBytes).Name(DecimalName).Version(1).
		Parameter(DecimalScaleParam, strconv.Itoa(int(scale)))
}

// DateBuilder starts a Date schema.
func DateBuilder() *Builder { return NewBuilder(TypeInt32).Name(DateName).Version(1) }

// TimeBuilder starts a Time schema.
func TimeBuilder() *Builder { return NewBuilder(TypeInt32).Name(TimeName).Version(1) }

// TimestampBuilder starts a Timestamp schema.
func TimestampBuilder() *Builder { return NewBuilder(TypeInt64).Name(TimestampName).Version(1) }

// DecimalScale returns the scale of a Decimal schema.
func DecimalScale(s *Schema) (int32, error) {
	p, ok := s.Parameters[DecimalScaleParam]
	if !ok {
		return 0, fmt.Errorf("%w: decimal schema without %q parameter", ErrInvalidSchema, DecimalScaleParam)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: decimal scale %q: %w", ErrInvalidSchema, p, err)
	}
	return int32(n), nil
}

// DecimalToBytes encodes d's unscaled value as big-endian two's complement,
// the minimal form Java's BigInteger.toByteArray produces (and Kafka writes).
func DecimalToBytes(d Decimal) []byte {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	// Java's length: bitLength/8 + 1, where a negative number's bitLength is
	// that of its complement (-u-1).
	bits := u.BitLen()
	if u.Sign() < 0 {
		bits = new(big.Int).Sub(new(big.Int).Neg(u), big.NewInt(1)).BitLen()
	}
	n := bits/8 + 1
	v := new(big.Int).Set(u)
	if u.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return v.FillBytes(make([]byte, n))
}

// DecimalFromBytes decodes big-endian two's-complement bytes with the given scale.
func DecimalFromBytes(b []byte, scale int32) Decimal {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return Decimal{Unscaled: u, Scale: scale}
}

// DateToDays converts a date (which must be midnight UTC) to days since the epoch.
func DateToDays(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms%msPerDay != 0 {
		return 0, fmt.Errorf("%w: Kafka Connect Date type should not have any time fields set to non-zero values", ErrInvalidValue)
	}
	return int32(ms / msPerDay), nil
}

// DaysToDate converts days since the epoch to a UTC time.Time.
func DaysToDate(days int32) time.Time { return time.UnixMilli(int64(days) * msPerDay).UTC() }

// TimeToMillis converts a time of day on 1970-01-01 UTC to milliseconds since midnight.
func TimeToMillis(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms < 0 || ms >= msPerDay {
		return 0, fmt.Errorf("%w: Kafka Connect Time type should not have any date fields set to non-zero values", ErrInvalidValue)
	}
	return int32(ms), nil
}

// MillisToTime converts milliseconds since midnight to a time on 1970-01-01 UTC.
func MillisToTime(ms int32) time.Time { return time.UnixMilli(int64(ms)).UTC() }

// IsLogical reports whether s names one of the logical types.
func IsLogical(s *Schema) bool {
	if s == nil {
		return false
	}
	switch s.Name {
	case DecimalName, DateName, TimeName, TimestampName:
		return true
	}
	return false
}
