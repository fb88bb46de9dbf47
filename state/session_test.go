package state

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func openSession(t *testing.T, im impl, cfg SessionConfig) *SessionDB {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "sess"
	}
	cfg.InMemory = im.inMemory
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), cfg.Name)
	}
	s, err := OpenSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSessionFind(t *testing.T) {
	puts := []struct {
		key        string
		start, end int64
		value      string
	}{
		{"a", 100, 200, "a100"},
		{"a", 0, 10, "a0"},
		{"a", 20, 30, "a20"},
		{"a", 20, 25, "a20b"},
		{"a\x00", 5, 15, "ax5"},
		{"b", 0, 5, "b0"},
		{"b", 70_000, 80_000, "b70k"},
	}
	tests := []struct {
		name string
		run  func(s *SessionDB) Iterator[Windowed[[]byte], []byte]
		want []string
	}{
		{"find overlapping", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.FindSessions(b("a"), 15, 25) },
			[]string{`"a"@20-25=a20b`, `"a"@20-30=a20`}},
		{"find all of key by end then start", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.FindSessions(b("a"), 0, 1000) },
			[]string{`"a"@0-10=a0`, `"a"@20-25=a20b`, `"a"@20-30=a20`, `"a"@100-200=a100`}},
		{"find bounds inclusive", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.FindSessions(b("a"), 30, 100) },
			[]string{`"a"@20-30=a20`, `"a"@100-200=a100`}},
		{"find none", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.FindSessions(b("a"), 201, 1000) },
			[]string{}},
		{"backward find", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.BackwardFindSessions(b("a"), 0, 1000) },
			[]string{`"a"@100-200=a100`, `"a"@20-30=a20`, `"a"@20-25=a20b`, `"a"@0-10=a0`}},
		{"fetch key", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.Fetch(b("b")) },
			[]string{`"b"@0-5=b0`, `"b"@70000-80000=b70k`}},
		{"backward fetch key", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.BackwardFetch(b("b")) },
			[]string{`"b"@70000-80000=b70k`, `"b"@0-5=b0`}},
		{"fetch prefix key alone", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.Fetch(b("a\x00")) },
			[]string{`"a\x00"@5-15=ax5`}},
		{"range by segment then store key", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.FetchRange(b("a"), b("b")) },
			// Byte order: "a\x00"‖end sorts before "a"‖end when the end's
			// low bytes are non-zero.
			[]string{`"a\x00"@5-15=ax5`, `"a"@0-10=a0`, `"a"@20-25=a20b`, `"a"@20-30=a20`, `"a"@100-200=a100`, `"b"@0-5=b0`, `"b"@70000-80000=b70k`}},
		{"backward range", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] { return s.BackwardFetchRange(b("a\x00"), b("b")) },
			[]string{`"b"@70000-80000=b70k`, `"b"@0-5=b0`, `"a\x00"@5-15=ax5`}},
		{"backward find range", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] {
			return s.BackwardFindSessionsRange(nil, b("a\x00"), 12, 20)
		}, []string{`"a"@20-30=a20`, `"a"@20-25=a20b`, `"a\x00"@5-15=ax5`}},
		{"find range", func(s *SessionDB) Iterator[Windowed[[]byte], []byte] {
			return s.FindSessionsRange(b("a\x00"), nil, 0, 10)
		},
			[]string{`"a\x00"@5-15=ax5`, `"b"@0-5=b0`}},
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := openSession(t, im, SessionConfig{Retention: time.Hour})
			for _, p := range puts {
				if err := s.Put(b(p.key), Window{Start: p.start, End: p.end}, b(p.value)); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if got := windowedStrings(t, tt.run(s)); !slices.Equal(got, tt.want) {
						t.Fatalf("got  %q\nwant %q", got, tt.want)
					}
				})
			}
			v, err := s.FetchSession(b("a"), 20, 30)
			if err != nil || string(v) != "a20" {
				t.Fatalf("FetchSession = %q, %v", v, err)
			}
			if err := s.Remove(b("a"), Window{Start: 20, End: 30}); err != nil {
				t.Fatal(err)
			}
			if v, _ := s.FetchSession(b("a"), 20, 30); v != nil {
				t.Fatalf("removed session reads %q", v)
			}
			if got := windowedStrings(t, s.FindSessions(b("a"), 15, 25)); !slices.Equal(got, []string{`"a"@20-25=a20b`}) {
				t.Fatalf("after remove: %q", got)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	const minute = 60_000
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sess")
			s := openSession(t, im, SessionConfig{Dir: dir, Retention: 2 * time.Minute})
			for m := range int64(6) {
				s.Put(b("k"), Window{Start: m * minute, End: m*minute + 10}, fmt.Appendf(nil, "m%d", m))
			}
			// Stream time (latest end) 5m+10ms: live from segment 3.
			if ids := s.segs.segmentIDs(); !slices.Equal(ids, []int64{3, 4, 5}) {
				t.Fatalf("live segments %v", ids)
			}
			if !im.inMemory {
				if n := countSegmentDirs(t, dir, "sess"); n != 3 {
					t.Fatalf("%d segment dirs, want 3", n)
				}
			}
			got := windowedStrings(t, s.Fetch(b("k")))
			if want := []string{`"k"@240000-240010=m4`, `"k"@300000-300010=m5`}; !slices.Equal(got, want) {
				t.Fatalf("after expiry %q, want %q", got, want)
			}
			s.Put(b("k"), Window{Start: 0, End: 5}, b("late"))
			if s.ExpiredDropped() != 1 {
				t.Fatalf("ExpiredDropped = %d", s.ExpiredDropped())
			}
		})
	}
}

func TestSessionRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sess")
	cfg := SessionConfig{Name: "sess", Dir: dir, Retention: time.Hour}
	s, err := OpenSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(b("u1"), Window{Start: 10, End: 20}, b("x"))
	s.Put(b("u2"), Window{Start: 15, End: 90_000}, b("y"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := windowedStrings(t, s.FetchRange(nil, nil))
	if want := []string{`"u1"@10-20=x`, `"u2"@15-90000=y`}; !slices.Equal(got, want) {
		t.Fatalf("after restart %q, want %q", got, want)
	}
	if got := windowedStrings(t, s.FindSessions(b("u2"), 0, math.MaxInt64)); len(got) != 1 {
		t.Fatalf("FindSessions after restart: %q", got)
	}
}
