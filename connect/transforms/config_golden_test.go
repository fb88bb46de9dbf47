package transforms

import (
	"path/filepath"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/internal/configgolden"
)

// checkConfigGolden compares the configuration definitions of the
// transformations and predicates with those of Kafka's classes of the same
// name (testdata/config_golden.tsv, written by
// connect/converter/testdata/gen/ConfigGolden.java).
func checkConfigGolden(t *testing.T, defs map[string]*configdef.Def) {
	t.Helper()
	configgolden.Compare(t, defs, filepath.Join("testdata", "config_golden.tsv"))
}
