// Package configgolden compares Connect plugin configuration definitions
// with golden files taken from Kafka's plugins of the same class, so that
// a plugin's keys, types, defaults and display metadata stay the ones
// Kafka users know. Documentation strings are Runnel's own and are not
// compared.
package configgolden

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
)

// Compare fails t unless defs, keyed by plugin class, match the golden file
// at goldenPath: the same keys in the same order, with the same type,
// requiredness, default, importance, group, order in group, width and
// display name, and every class of the file present in defs.
//
// The golden file is tab-separated, one key a line: class, name, type,
// required, default ("null" for none or when required), importance, group
// ("null" for none), order in group, width and display name. Empty lines
// and lines starting with '#' are skipped.
func Compare(t testing.TB, defs map[string]*configdef.Def, goldenPath string) {
	t.Helper()
	want := read(t, goldenPath)
	for class, def := range defs {
		keys := def.KeyInfos()
		rows := want[class]
		if len(keys) != len(rows) {
			t.Errorf("%s: %d keys, Kafka has %d", class, len(keys), len(rows))
			continue
		}
		for i, k := range keys {
			got := []string{k.Name, k.Type, strconv.FormatBool(k.Required), orNull(k.DefaultValue), k.Importance,
				orNull(k.Group), strconv.Itoa(k.OrderInGroup), k.Width, k.DisplayName}
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

// read returns the golden rows of path by class, without the class column.
func read(t testing.TB, path string) map[string][][]string {
	t.Helper()
	f, err := os.Open(path)
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
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return want
}

// orNull is *p, or "null" when p is nil, as the golden files write Java's
// null.
func orNull(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
