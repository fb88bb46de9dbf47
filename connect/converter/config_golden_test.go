package converter

import (
	"path/filepath"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/internal/configgolden"
)

// checkConfigGolden compares the converters' configuration definitions
// with those of Kafka's JsonConverter and StringConverter
// (testdata/config_golden.tsv, written by
// connect/converter/testdata/gen/ConfigGolden.java).
func checkConfigGolden(t *testing.T, defs map[string]*configdef.Def) {
	t.Helper()
	configgolden.Compare(t, defs, filepath.Join("testdata", "config_golden.tsv"))
}
