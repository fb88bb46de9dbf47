package file

import (
	"strings"
	"testing"
)

// FuzzLineSplit feeds content to the source task's line splitter in two
// pieces and checks the lines and byte positions against a plain reading
// of the rules: a line ends at "\r\n", "\n", or a "\r" that is not the
// last byte seen so far; the unterminated rest is held back.
func FuzzLineSplit(f *testing.F) {
	f.Add("a\nb\r\nc\rd", uint16(3))
	f.Add("日本\r", uint16(7))
	f.Add("\r\r\n\n", uint16(1))
	f.Add("x\xffy\n", uint16(2))
	f.Fuzz(func(t *testing.T, content string, cut uint16) {
		split := int(cut) % (len(content) + 1)
		task := &SourceTask{}
		var lines []string
		var positions []int64
		for _, piece := range []string{content[:split], content[split:]} {
			task.buf = append(task.buf, piece...)
			for {
				l, ok := task.nextLine()
				if !ok {
					break
				}
				lines = append(lines, l)
				positions = append(positions, task.pos)
			}
		}
		// Reference.
		var want []string
		var wantPos []int64
		start := 0
		for i := 0; i < len(content); i++ {
			switch content[i] {
			case '\n':
				want = append(want, content[start:i])
				start = i + 1
				wantPos = append(wantPos, int64(start))
			case '\r':
				if i+1 == len(content) {
					i = len(content) // held back
					continue
				}
				want = append(want, content[start:i])
				if content[i+1] == '\n' {
					i++
				}
				start = i + 1
				wantPos = append(wantPos, int64(start))
			}
		}
		if len(lines) != len(want) {
			t.Fatalf("%q cut at %d: lines %q, want %q", content, split, lines, want)
		}
		for i := range want {
			if lines[i] != strings.ToValidUTF8(want[i], "\uFFFD") || positions[i] != wantPos[i] {
				t.Fatalf("%q cut at %d: line %d = %q@%d, want %q@%d", content, split, i, lines[i], positions[i], want[i], wantPos[i])
			}
		}
		if int(task.pos)+len(task.buf) != len(content) {
			t.Fatalf("position %d + held %d != %d bytes", task.pos, len(task.buf), len(content))
		}
	})
}
