package coord

import (
	"testing"
	"time"
)

func TestTimers(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type op struct {
		set    string // key to set at sec
		sec    int
		cancel string
	}
	tests := []struct {
		name string
		ops  []op
		now  int
		want []string // keys popped by now, in order
		next int      // the deadline left after, -1 for none
	}{
		{"earliest first", []op{{set: "b", sec: 2}, {set: "a", sec: 1}, {set: "c", sec: 3}}, 2, []string{"a", "b"}, 3},
		{"same deadline in set order", []op{{set: "x", sec: 1}, {set: "y", sec: 1}, {set: "w", sec: 1}}, 1, []string{"x", "y", "w"}, -1},
		{"set again replaces", []op{{set: "a", sec: 1}, {set: "b", sec: 2}, {set: "a", sec: 5}}, 2, []string{"b"}, 5},
		{"set again earlier", []op{{set: "a", sec: 5}, {set: "a", sec: 1}}, 1, []string{"a"}, -1},
		{"cancelled never fires", []op{{set: "a", sec: 1}, {set: "b", sec: 2}, {cancel: "a"}}, 3, []string{"b"}, -1},
		{"nothing due", []op{{set: "a", sec: 4}}, 3, nil, 4},
		{"empty", nil, 3, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tm Timers[string]
			for _, o := range tt.ops {
				if o.cancel != "" {
					tm.Cancel(o.cancel)
					if tm.Has(o.cancel) {
						t.Fatalf("Has(%q) after Cancel", o.cancel)
					}
					continue
				}
				tm.Set(o.set, at(o.sec))
				if !tm.Has(o.set) {
					t.Fatalf("Has(%q) false after Set", o.set)
				}
			}
			var got []string
			for {
				k, ok := tm.Pop(at(tt.now))
				if !ok {
					break
				}
				if tm.Has(k) {
					t.Errorf("Has(%q) after it fired", k)
				}
				got = append(got, k)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("popped %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("popped %q, want %q", got, tt.want)
				}
			}
			next, ok := tm.Next()
			switch {
			case tt.next < 0 && ok:
				t.Errorf("Next = %v, want none", next)
			case tt.next >= 0 && (!ok || !next.Equal(at(tt.next))):
				t.Errorf("Next = %v %v, want %v", next, ok, at(tt.next))
			}
		})
	}
}

// TestTimersCompact resets one key many times: the heap must not keep
// every replaced entry, and the last deadline set is the one that fires.
func TestTimersCompact(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var tm Timers[int]
	tm.Set(1, t0.Add(time.Hour))
	for i := range 10000 {
		tm.Set(0, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if len(tm.h) > 100 {
		t.Errorf("heap holds %d entries for 2 live keys", len(tm.h))
	}
	if k, ok := tm.Pop(t0.Add(9998 * time.Millisecond)); ok {
		t.Fatalf("popped %d before its last deadline", k)
	}
	if k, ok := tm.Pop(t0.Add(9999 * time.Millisecond)); !ok || k != 0 {
		t.Fatalf("Pop = %d %v, want 0 true", k, ok)
	}
	if k, ok := tm.Pop(t0.Add(time.Hour)); !ok || k != 1 {
		t.Fatalf("Pop = %d %v, want 1 true", k, ok)
	}
	if _, ok := tm.Next(); ok {
		t.Error("deadlines left after every key fired")
	}
}
