package transforms

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseFieldPath checks that any V2 field path either parses into at
// least one step or fails with an error naming the field key, and that a
// path without backticks splits exactly on its dots.
func FuzzParseFieldPath(f *testing.F) {
	f.Add("a.b")
	f.Add("`a.b`.c")
	f.Add("`a\\`.b`")
	f.Fuzz(func(t *testing.T, path string) {
		steps, err := parseFieldPath(path)
		if err != nil {
			if !strings.Contains(err.Error(), "configuration field") {
				t.Fatalf("error %q does not name the key", err)
			}
			return
		}
		if len(steps) == 0 {
			t.Fatalf("%q parsed to no steps", path)
		}
		if !strings.Contains(path, "`") && strings.Join(steps, ".") != path {
			t.Fatalf("%q parsed to %q", path, steps)
		}
	})
}

// FuzzSimpleDateFormat checks that any pattern either fails to parse or
// formats without panicking, and that quoted text comes out verbatim.
func FuzzSimpleDateFormat(f *testing.F) {
	f.Add("yyyyMMdd")
	f.Add("yy-M-d'T'HH:mm:ss.SSS a EEE MMM ''")
	f.Fuzz(func(t *testing.T, pattern string) {
		toks, err := parseSimpleDateFormat(pattern)
		if err != nil {
			return
		}
		out := formatSimpleDate(toks, time.UnixMilli(1700000000123).UTC())
		if !strings.ContainsAny(pattern, "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") && out != pattern {
			t.Fatalf("literal pattern %q formatted as %q", pattern, out)
		}
	})
}
