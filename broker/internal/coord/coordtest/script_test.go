package coordtest

import (
	"maps"
	"testing"
)

func TestParseCmd(t *testing.T) {
	tests := []struct {
		line, name, tag string
		args            map[string]string
	}{
		{"tick 1s", "tick", "1s", map[string]string{}},
		{"join c1 group=g session=10s static", "join", "c1", map[string]string{"group": "g", "session": "10s", "static": "true"}},
		{"describe id=t1", "describe", "", map[string]string{"id": "t1"}},
		{"list", "list", "", map[string]string{}},
		{"  commit   p  offset=5 meta=a=b ", "commit", "p", map[string]string{"offset": "5", "meta": "a=b"}},
	}
	for _, tt := range tests {
		name, tag, args := ParseCmd(tt.line)
		if name != tt.name || tag != tt.tag || !maps.Equal(args, tt.args) {
			t.Errorf("ParseCmd(%q) = %q %q %v, want %q %q %v", tt.line, name, tag, args, tt.name, tt.tag, tt.args)
		}
	}
}
