package transforms

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
)

// checkConfigGolden compares plugin configuration definitions with those of
// Kafka's plugins of the same class (testdata/config_golden.tsv, written by
// connect/converter/testdata/gen/ConfigGolden.java): the same keys in the
// same order, with the same type, requiredness, default, importance, group,
// order in group, width and display name. Documentation is Runnel's own.
func checkConfigGolden(t *testing.T, defs map[string]*configdef.Def) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "config_golden.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			row := strings.Split(l, "\t")
			want[row[0]] = append(want[row[0]], row[1:])
		}
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	for class, def := range defs {
		keys := def.KeyInfos()
		rows := want[class]
		if len(keys) != len(rows) {
			t.Errorf("%s: %d keys, Kafka has %d", class, len(keys), len(rows))
			continue
		}
		for i, k := range keys {
			got := []string{k.Name, k.Type, strconv.FormatBool(k.Required), str(k.DefaultValue), k.Importance,
				str(k.Group), strconv.Itoa(k.OrderInGroup), k.Width, k.DisplayName}
			if k.Required {
				got[3] = "null"
			}
			if strings.Join(got, "\t") != strings.Join(rows[i], "\t") {
				t.Errorf("%s key %d:\n got %q\nwant %q", class, i, got, rows[i])
			}
		}
	}
	for class := range want {
		if defs[class] == nil {
			t.Errorf("golden class %s not checked", class)
		}
	}
}
