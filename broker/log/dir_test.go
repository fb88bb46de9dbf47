package log

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDir(t *testing.T) {
	tests := []struct {
		name      string
		topic     string
		partition int32
		ok        bool
	}{
		{"orders-0", "orders", 0, true},
		{"my-topic-12", "my-topic", 12, true},
		{"__consumer_offsets-49", "__consumer_offsets", 49, true},
		{"a.b_c-2147483647", "a.b_c", 2147483647, true},
		{"t--1", "t-", 1, true},
		{"orders", "", 0, false},
		{"-0", "", 0, false},
		{"orders-", "", 0, false},
		{"orders-x", "", 0, false},
		{"orders-+1", "", 0, false},
		{"orders-2147483648", "", 0, false},
		{"or ders-1", "", 0, false},
		{"lost+found", "", 0, false},
		{"orders-0.abc123-delete", "", 0, false},
		{"..-1", "", 0, false},
		{strings.Repeat("t", 250) + "-1", "", 0, false},
	}
	for _, tt := range tests {
		topic, p, err := ParseDir(tt.name)
		if tt.ok != (err == nil) || topic != tt.topic || p != tt.partition {
			t.Errorf("ParseDir(%q) = %q, %d, %v; want %q, %d, ok=%v", tt.name, topic, p, err, tt.topic, tt.partition, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidDirName) {
			t.Errorf("ParseDir(%q) error %v does not wrap ErrInvalidDirName", tt.name, err)
		}
		if err == nil && DirName(topic, p) != tt.name {
			t.Errorf("DirName(%q, %d) = %q, want %q", topic, p, DirName(topic, p), tt.name)
		}
	}
}

// FuzzParseDir: no panic, and a parsed name formats back to itself.
func FuzzParseDir(f *testing.F) {
	f.Add("orders-0")
	f.Add("my-topic-12")
	f.Add("x-00")
	f.Fuzz(func(t *testing.T, name string) {
		topic, p, err := ParseDir(name)
		if err != nil {
			return
		}
		if p < 0 || topic == "" {
			t.Fatalf("ParseDir(%q) = %q, %d", name, topic, p)
		}
		if back, p2, err := ParseDir(DirName(topic, p)); err != nil || back != topic || p2 != p {
			t.Fatalf("round trip of %q: %q %d %v", name, back, p2, err)
		}
	})
}
