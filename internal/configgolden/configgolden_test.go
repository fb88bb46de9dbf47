package configgolden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
)

// recorder is a testing.TB that keeps what Compare reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCompare(t *testing.T) {
	const header = "# class\tname\ttype\trequired\tdefault\timportance\tgroup\torder\twidth\tdisplay\n"
	source := configdef.New().
		Define(configdef.Key{Name: "file", Type: configdef.String, Importance: configdef.High}).
		Define(configdef.Key{Name: "topic", Type: configdef.String, Default: configdef.NoDefault, Importance: configdef.High}).
		Define(configdef.Key{Name: "batch.size", Type: configdef.Int, Default: 2000, Importance: configdef.Low})
	good := header +
		"Src\tfile\tSTRING\tfalse\tnull\tHIGH\tnull\t-1\tNONE\tfile\n" +
		"\n" +
		"Src\ttopic\tSTRING\ttrue\tnull\tHIGH\tnull\t-1\tNONE\ttopic\n" +
		"Src\tbatch.size\tINT\tfalse\t2000\tLOW\tnull\t-1\tNONE\tbatch.size\n"
	tests := []struct {
		name   string
		golden string
		defs   map[string]*configdef.Def
		want   []string // substrings of the errors, in order
	}{
		{"match", good, map[string]*configdef.Def{"Src": source}, nil},
		{"other default", strings.Replace(good, "2000", "1000", 1), map[string]*configdef.Def{"Src": source},
			[]string{`Src key 2:`}},
		{"missing key", strings.Replace(good, "Src\tfile", "# Src\tfile", 1), map[string]*configdef.Def{"Src": source},
			[]string{"Src: 3 keys, Kafka has 2"}},
		{"class not checked", good + "Sink\tfile\tSTRING\tfalse\tnull\tHIGH\tnull\t-1\tNONE\tfile\n",
			map[string]*configdef.Def{"Src": source}, []string{"golden class Sink not checked"}},
		{"class not in file", good, map[string]*configdef.Def{"Src": source, "Sink": source},
			[]string{"Sink: 3 keys, Kafka has 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config_golden.tsv")
			if err := os.WriteFile(path, []byte(tt.golden), 0o644); err != nil {
				t.Fatal(err)
			}
			r := &recorder{TB: t}
			Compare(r, tt.defs, path)
			if len(r.errs) != len(tt.want) {
				t.Fatalf("errors %q, want %d matching %q", r.errs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(r.errs[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, r.errs[i], w)
				}
			}
		})
	}
}
