package configdef

import (
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		v    Validator
		val  any
		want string // "" = valid
	}{
		{"at least ok", AtLeast(1), int32(1), ""},
		{"at least", AtLeast(1), int64(0), "Value must be at least 1"},
		{"between", Between(0, 1.5), 2.0, "Value must be no more than 1.5"},
		{"range nil", AtLeast(0), nil, "Value must be non-null"},
		{"valid string", ValidString("a", "b"), "b", ""},
		{"valid string case", ValidString("a"), "A", "String must be one of: a"},
		{"case insensitive", CaseInsensitiveValidString("none", "all"), "ALL", ""},
		{"valid list", ValidList("x", "y"), []string{"x", "z"}, "Invalid value z"},
		{"non-empty", NonEmptyString(), "", "String must be non-empty"},
		{"non-null", NonNull(), nil, "Value must be non-null"},
		{"non-empty list", NonEmptyList(), []string{}, "Empty list"},
		{"regex", Regex(), "(", "configuration k"},
		{"nullable", Nullable(NonEmptyString()), nil, ""},
		{"all", All(NonEmptyString(), ValidString("a")), "b", "String must be one of: a"},
		{"control chars", NonEmptyStringWithoutControlChars(), "a\x01b\tc", "ASCII chars: 1, 9"},
		{"control chars ok", NonEmptyStringWithoutControlChars(), "abc", ""},
		{"max list", MaxListSize(1), []string{"a", "b"}, "maximum list size of [1]"},
	}
	for _, tc := range tests {
		err := tc.v.Validate("k", tc.val)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "configuration k") {
			t.Errorf("%s: err = %v, want one naming k containing %q", tc.name, err, tc.want)
		}
	}
}
