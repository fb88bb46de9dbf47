package coordtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exec runs one command of a script against a coordinator's state machine
// and returns what it produced.
type Exec func(t *testing.T, cmd string) string

// RunScripts runs every script matching glob as a subtest named after the
// file, each against a fresh state machine from start.
//
// A script is a sequence of blocks separated by blank lines: a command
// line, a line "----" and the output expected, which must match exactly.
// Lines starting with # between blocks are comments. With rewrite, the
// expected outputs are replaced by what the commands produce (then they
// need reading: they are the specification).
func RunScripts(t *testing.T, glob string, rewrite bool, start func() Exec) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			runScript(t, f, rewrite, start())
		})
	}
}

type block struct {
	cmd, want string
}

func parseScript(t *testing.T, path string) []block {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	inOut := false
	for line := range strings.SplitSeq(string(data), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "":
		case cur == nil && strings.HasPrefix(line, "#"):
			blocks = append(blocks, block{cmd: line})
		case cur == nil:
			blocks = append(blocks, block{cmd: line})
			cur = &blocks[len(blocks)-1]
		case !inOut && line == "----":
			inOut = true
		case !inOut:
			t.Fatalf("%s: command %q has no ---- line", path, cur.cmd)
		case line == "":
			cur, inOut = nil, false
		default:
			cur.want += line + "\n"
		}
	}
	return blocks
}

func runScript(t *testing.T, path string, rewrite bool, exec Exec) {
	blocks := parseScript(t, path)
	var out strings.Builder
	for _, b := range blocks {
		if strings.HasPrefix(b.cmd, "#") {
			out.WriteString(b.cmd + "\n")
			continue
		}
		got := exec(t, b.cmd)
		fmt.Fprintf(&out, "%s\n----\n%s\n", b.cmd, got)
		if !rewrite && got != b.want {
			t.Fatalf("%s: %s\ngot:\n%swant:\n%s", path, b.cmd, got, b.want)
		}
	}
	if rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ParseCmd splits a script command "name [tag] key=value flag ..." into
// its name, its tag ("" when the second word has a '=') and its
// arguments; a flag without '=' has the value "true".
func ParseCmd(line string) (name, tag string, args map[string]string) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", "", map[string]string{}
	}
	name, fields = fields[0], fields[1:]
	if len(fields) > 0 && !strings.Contains(fields[0], "=") {
		tag, fields = fields[0], fields[1:]
	}
	args = make(map[string]string, len(fields))
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "true"
		}
		args[k] = v
	}
	return name, tag, args
}
