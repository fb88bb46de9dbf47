package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t testing.TB, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadJavaSyntax(t *testing.T) {
	tests := []struct {
		name, file string
		want       map[string]string
	}{
		{"separators", "a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng   =   7", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7"}},
		{"only the first separator splits", "a==b\nc:=d\ne = f = g", map[string]string{"a": "=b", "c": "=d", "e": "f = g"}},
		{"comments and blank lines", "# c\n! c\n   # indented comment\n\n \t\na=1", map[string]string{"a": "1"}},
		{"comment marker inside a value", "a=1 # not a comment", map[string]string{"a": "1 # not a comment"}},
		{"key without value", "a\nb=\nc:", map[string]string{"a": "", "b": "", "c": ""}},
		{"trailing whitespace kept", "a=1  ", map[string]string{"a": "1  "}},
		{"value continuation", "a=1,\\\n   2,\\\n\t3", map[string]string{"a": "1,2,3"}},
		{"key continuation", "lis\\\n  teners=x", map[string]string{"listeners": "x"}},
		{"continuation in a CRLF file", "a=1\\\r\n  2\r\nb=3\r\n", map[string]string{"a": "12", "b": "3"}},
		{"CR line endings", "a=1\rb=2\r", map[string]string{"a": "1", "b": "2"}},
		{"even backslashes do not continue", "a=x\\\\\nb=y", map[string]string{"a": `x\`, "b": "y"}},
		{"continued line starting with #", "a=1\\\n#2", map[string]string{"a": "1#2"}},
		{"comment does not continue", "# c\\\na=1", map[string]string{"a": "1"}},
		{"backslash at end of input", "a=1\\", map[string]string{"a": "1"}},
		{"escapes", `a=tab\there\nnl \u00e9 \: \= \\ \q`, map[string]string{"a": "tab\there\nnl é : = \\ q"}},
		{"escaped separators in key", `my\ key\=x = v`, map[string]string{"my key=x": "v"}},
		{"no ${} expansion", "a=${b}\nb=2\nc=${c}", map[string]string{"a": "${b}", "b": "2", "c": "${c}"}},
		{"later wins", "a=1\na=2", map[string]string{"a": "2"}},
		{"byte order mark", "\ufeffa=1", map[string]string{"a": "1"}},
		{"ISO-8859-1 fallback", "a=caf\xe9", map[string]string{"a": "café"}},
		{"empty file", "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(writeFile(t, t.TempDir(), tt.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadOverrides(t *testing.T) {
	path := writeFile(t, t.TempDir(), "a=1\nb=2\n")
	got, err := Load(path, []string{"b=3", "c=x=y", " d =4", "b=5"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "5", "c": "x=y", "d": "4"}
	if !maps.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got, err = Load("", []string{"num.partitions=3"})
	if err != nil || !maps.Equal(got, map[string]string{"num.partitions": "3"}) {
		t.Errorf("Load without a file = %q, %v", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		file      string // "" for no file
		overrides []string
		want      []string // substrings of the error
	}{
		{"missing file", "\x00missing", nil, []string{"nope.properties"}},
		{"empty key", "a=1\n\n=2\n", nil, []string{"server.properties:3", "key"}},
		{"empty key after colon", "a=1\n  :x\n", nil, []string{"server.properties:2"}},
		{"bad unicode escape", "a=1\nb=\\u12zz\n", nil, []string{"server.properties:2", "unicode"}},
		{"bad unicode escape on continued line", "a=1\\\n\\u0", nil, []string{"server.properties:1"}},
		{"override without =", "", []string{"num.partitions"}, []string{`--override "num.partitions"`, "key=value"}},
		{"override without key", "", []string{"=3"}, []string{`--override "=3"`}},
		{"override without value", "", []string{"num.partitions="}, []string{`--override "num.partitions="`, "missing value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			switch tt.file {
			case "\x00missing":
				path = filepath.Join(dir, "nope.properties")
			case "":
			default:
				path = writeFile(t, t.TempDir(), tt.file)
			}
			_, err := Load(path, tt.overrides)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.file != "\x00missing" && !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
		})
	}
}

// FuzzLoad feeds arbitrary file contents to Load. It must not panic, every
// key it returns must be non-empty, a failure must be an *Error that names
// the file, and loading is deterministic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.properties")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"a=1\\\n b", "=x", "\\u00", "k\\", "a\r\n\\\r\n", "#\\\n=", "\xff\xfe=\\u0041"} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "fuzz.properties")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path, nil)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v is not an *Error naming the file", err)
			}
			return
		}
		for k := range got {
			if k == "" {
				t.Fatalf("empty key in %q", got)
			}
		}
		again, err := Load(path, nil)
		if err != nil || !maps.Equal(got, again) {
			t.Fatalf("second load differs: %q, %v; first %q", again, err, got)
		}
	})
}
