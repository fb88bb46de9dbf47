package coord

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	type tag struct {
		tag  uint64
		data string
	}
	tests := []struct {
		name    string
		in      string // hex
		read    func(r *Reader) []any
		want    []any
		tags    []tag
		wantErr error // nil: no error; errAny: any error
		rest    int   // bytes left after a successful read
	}{
		{"integers", "ff 0102 fffffffe 0000000000000100 07", func(r *Reader) []any {
			return []any{r.Int8(), r.Int16(), r.Int32(), r.Int64()}
		}, []any{int8(-1), int16(0x0102), int32(-2), int64(256)}, nil, nil, 1},
		{"uvarint", "ac02 00", func(r *Reader) []any { return []any{r.Uvarint(), r.Uvarint()} }, []any{uint64(300), uint64(0)}, nil, nil, 0},
		{"short int32", "000001", func(r *Reader) []any { return []any{r.Int32()} }, []any{int32(0)}, nil, ErrShort, 0},
		{"reads after an error are zero", "00 0102", func(r *Reader) []any {
			return []any{r.Int16(), r.Int16(), r.Int8()}
		}, []any{int16(1), int16(0), int8(0)}, nil, ErrShort, 0},
		{"bad uvarint", "ffffffffffffffffffff01", func(r *Reader) []any { return []any{r.Uvarint()} }, []any{uint64(0)}, nil, errAny, 0},
		{"take negative", "00", func(r *Reader) []any { return []any{r.Take(-1) == nil} }, []any{true}, nil, ErrShort, 0},
		{"no tags", "00 aa", func(r *Reader) []any { r.SkipTags(); return nil }, nil, nil, nil, 1},
		{"two tags", "02 00 02 abcd 05 00", func(r *Reader) []any { return nil }, nil, []tag{{0, "abcd"}, {5, ""}}, nil, 0},
		{"tag longer than input", "01 00 05 abcd", func(r *Reader) []any { return nil }, nil, []tag{}, ErrShort, 0},
		{"more tags than bytes", "05 0000", func(r *Reader) []any { return nil }, nil, []tag{}, errAny, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(strings.ReplaceAll(tt.in, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			r := &Reader{B: b}
			got := tt.read(r)
			if tt.tags != nil {
				var tags []tag
				r.Tags(func(n uint64, data []byte) { tags = append(tags, tag{n, hex.EncodeToString(data)}) })
				if tt.wantErr == nil && !slices.Equal(tags, tt.tags) {
					t.Errorf("tags %v, want %v", tags, tt.tags)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("read %v, want %v", got, tt.want)
			}
			switch {
			case tt.wantErr == nil && r.Err != nil:
				t.Fatalf("error %v", r.Err)
			case tt.wantErr == errAny && r.Err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(r.Err, tt.wantErr):
				t.Fatalf("error %v, want %v", r.Err, tt.wantErr)
			case tt.wantErr != nil && len(r.B) != 0:
				t.Errorf("%d bytes left after an error", len(r.B))
			case tt.wantErr == nil && len(r.B) != tt.rest:
				t.Errorf("%d bytes left, want %d", len(r.B), tt.rest)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestReaderTakeCapped checks that a taken slice cannot be appended to
// over the input that follows it.
func TestReaderTakeCapped(t *testing.T) {
	r := &Reader{B: []byte{1, 2, 3, 4}}
	p := r.Take(2)
	_ = append(p, 9)
	if r.B[0] != 3 {
		t.Fatalf("appending to a taken slice overwrote the input: %v", r.B)
	}
}

// FuzzReader reads fields in an order the input chooses: no input makes
// it panic, consume more than it has, or read anything after an error.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, ops, in []byte) {
		r := &Reader{B: in}
		for _, op := range ops {
			before := len(r.B)
			failed := r.Err != nil
			var zero bool
			switch op % 7 {
			case 0:
				zero = r.Int8() == 0
			case 1:
				zero = r.Int16() == 0
			case 2:
				zero = r.Int32() == 0
			case 3:
				zero = r.Int64() == 0
			case 4:
				zero = r.Uvarint() == 0
			case 5:
				zero = r.Take(int(op/7)) == nil
			case 6:
				n := 0
				r.Tags(func(uint64, []byte) { n++ })
				zero = n == 0
			}
			if len(r.B) > before {
				t.Fatalf("op %d grew the input from %d to %d bytes", op, before, len(r.B))
			}
			if failed && !zero {
				t.Fatalf("op %d read a value after the error %v", op, r.Err)
			}
			if r.Err != nil && len(r.B) != 0 {
				t.Fatalf("%d bytes left after the error %v", len(r.B), r.Err)
			}
		}
	})
}
