package state

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func openWindow(t *testing.T, im impl, cfg WindowConfig) *WindowDB {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "win"
	}
	cfg.InMemory = im.inMemory
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), cfg.Name)
	}
	w, err := OpenWindow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func windowedStrings(t *testing.T, it Iterator[Windowed[[]byte], []byte]) []string {
	t.Helper()
	kvs, err := Collect(it)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, kv := range kvs {
		out = append(out, fmt.Sprintf("%q@%d-%d=%s", kv.Key.Key, kv.Key.Window.Start, kv.Key.Window.End, kv.Value))
	}
	return out
}

func fetchStrings(t *testing.T, it Iterator[int64, []byte]) []string {
	t.Helper()
	kvs, err := Collect(it)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, kv := range kvs {
		out = append(out, fmt.Sprintf("%d=%s", kv.Key, kv.Value))
	}
	return out
}

func TestWindowFetch(t *testing.T) {
	// "a" is a prefix of "a\x00" and of "ab"; a timestamp whose first bytes
	// exceed 0x00 makes "a"'s store key sort above "a\x00…".
	big := int64(0x0100_0000_0000_0000)
	puts := []struct {
		key   string
		start int64
		value string
	}{
		{"a", 1000, "a1"},
		{"a", 61_000, "a61"},
		{"a", 5000, "a5"},
		{"a\x00", 1000, "a0-1"},
		{"ab", 2000, "ab2"},
		{"b", 1000, "b1"},
		{"b", 130_000, "b130"},
		{"a", 1000, "a1'"}, // overwrite
	}
	tests := []struct {
		name string
		run  func(w *WindowDB) []string
		want []string
	}{
		{"fetch one key by start", func(w *WindowDB) []string { return fetchStrings(t, w.Fetch(b("a"), 0, 200_000)) },
			[]string{"1000=a1'", "5000=a5", "61000=a61"}},
		{"fetch time bounds inclusive", func(w *WindowDB) []string { return fetchStrings(t, w.Fetch(b("a"), 5000, 61_000)) },
			[]string{"5000=a5", "61000=a61"}},
		{"backward fetch", func(w *WindowDB) []string { return fetchStrings(t, w.BackwardFetch(b("a"), 0, 200_000)) },
			[]string{"61000=a61", "5000=a5", "1000=a1'"}},
		{"fetch other key", func(w *WindowDB) []string { return fetchStrings(t, w.Fetch(b("a\x00"), 0, 200_000)) },
			[]string{"1000=a0-1"}},
		{"fetch empty time range", func(w *WindowDB) []string { return fetchStrings(t, w.Fetch(b("a"), 6000, 5000)) },
			[]string{}},
		{"fetch range by segment then key", func(w *WindowDB) []string {
			return windowedStrings(t, w.FetchRange(b("a"), b("ab"), 0, 200_000))
		}, []string{`"a\x00"@1000-1100=a0-1`, `"a"@1000-1100=a1'`, `"a"@5000-5100=a5`, `"ab"@2000-2100=ab2`, `"a"@61000-61100=a61`}},
		{"fetch range keys", func(w *WindowDB) []string {
			return windowedStrings(t, w.FetchRange(b("a\x00"), b("b"), 0, 2000))
		}, []string{`"a\x00"@1000-1100=a0-1`, `"ab"@2000-2100=ab2`, `"b"@1000-1100=b1`}},
		{"backward fetch range", func(w *WindowDB) []string {
			return windowedStrings(t, w.BackwardFetchRange(b("a"), b("a\x00"), 0, 200_000))
		}, []string{`"a"@61000-61100=a61`, `"a"@5000-5100=a5`, `"a"@1000-1100=a1'`, `"a\x00"@1000-1100=a0-1`}},
		{"fetch all time range", func(w *WindowDB) []string { return windowedStrings(t, w.FetchAll(60_000, 200_000)) },
			[]string{`"a"@61000-61100=a61`, `"b"@130000-130100=b130`}},
		{"backward fetch all", func(w *WindowDB) []string { return windowedStrings(t, w.BackwardFetchAll(60_000, 200_000)) },
			[]string{`"b"@130000-130100=b130`, `"a"@61000-61100=a61`}},
		{"all", func(w *WindowDB) []string { return windowedStrings(t, w.All()) },
			[]string{`"a\x00"@1000-1100=a0-1`, `"a"@1000-1100=a1'`, `"a"@5000-5100=a5`, `"ab"@2000-2100=ab2`, `"b"@1000-1100=b1`, `"a"@61000-61100=a61`, `"b"@130000-130100=b130`}},
		{"backward all", func(w *WindowDB) []string { return windowedStrings(t, w.BackwardAll()) },
			[]string{`"b"@130000-130100=b130`, `"a"@61000-61100=a61`, `"b"@1000-1100=b1`, `"ab"@2000-2100=ab2`, `"a"@5000-5100=a5`, `"a"@1000-1100=a1'`, `"a\x00"@1000-1100=a0-1`}},
		{"fetch one", func(w *WindowDB) []string {
			v, err := w.FetchOne(b("a"), 5000)
			v2, err2 := w.FetchOne(b("a"), 5001)
			return []string{string(v), fmt.Sprint(err), fmt.Sprint(v2 == nil), fmt.Sprint(err2)}
		}, []string{"a5", "<nil>", "true", "<nil>"}},
		{"inverted key range", func(w *WindowDB) []string { return windowedStrings(t, w.FetchRange(b("b"), b("a"), 0, 200_000)) },
			[]string{}},
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			// Retention long enough that nothing expires here.
			w := openWindow(t, im, WindowConfig{Retention: time.Hour, WindowSize: 100 * time.Millisecond, SegmentInterval: time.Minute})
			for _, p := range puts {
				if err := w.Put(b(p.key), b(p.value), p.start); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if got := tt.run(w); !slices.Equal(got, tt.want) {
						t.Fatalf("got  %q\nwant %q", got, tt.want)
					}
				})
			}
			// A key whose store key sorts above a longer key's.
			if err := w.Put(b("a"), b("abig"), big); err != nil {
				t.Fatal(err)
			}
			got := windowedStrings(t, w.FetchRange(b("a"), b("a\x00"), big, big))
			if want := fmt.Sprintf(`"a"@%d-%d=abig`, big, big+100); !slices.Equal(got, []string{want}) {
				t.Fatalf("prefix key at large timestamp: got %q, want %q", got, want)
			}
		})
	}
}

func TestWindowDelete(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			w := openWindow(t, im, WindowConfig{Retention: time.Hour, WindowSize: time.Second})
			w.Put(b("k"), b("v"), 1000)
			w.Put(b("k"), nil, 1000)
			if got := fetchStrings(t, w.Fetch(b("k"), 0, 5000)); len(got) != 0 {
				t.Fatalf("deleted window still there: %q", got)
			}
			// A delete in a live segment that does not exist creates none.
			w.Put(b("k"), nil, 40*time.Minute.Milliseconds())
			if ids := w.segs.segmentIDs(); len(ids) != 1 {
				t.Fatalf("segments after deletes: %v", ids)
			}
		})
	}
}

func TestWindowRetainDuplicates(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			w := openWindow(t, im, WindowConfig{Retention: time.Hour, WindowSize: time.Second, RetainDuplicates: true})
			for _, v := range []string{"x", "y", "z"} {
				if err := w.Put(b("k"), b(v), 1000); err != nil {
					t.Fatal(err)
				}
			}
			w.Put(b("k"), nil, 1000) // ignored with duplicates
			got := fetchStrings(t, w.Fetch(b("k"), 1000, 1000))
			if want := []string{"1000=x", "1000=y", "1000=z"}; !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// countSegmentDirs counts the leveldb segment directories of a store.
func countSegmentDirs(t *testing.T, dir, name string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), name+".") {
			n++
		}
	}
	return n
}

func TestWindowExpiryDropsSegments(t *testing.T) {
	const minute = 60_000
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "win")
			// Retention 2 min: segment interval max(1 min, 60 s) = 1 min.
			w := openWindow(t, im, WindowConfig{Dir: dir, Retention: 2 * time.Minute, WindowSize: time.Second})
			for m := range int64(5) {
				if err := w.Put(b("k"), fmt.Appendf(nil, "m%d", m), m*minute+10); err != nil {
					t.Fatal(err)
				}
			}
			// Stream time 4m+10ms: live from segment (4m+10ms-2m)/1m = 2.
			if ids := w.segs.segmentIDs(); !slices.Equal(ids, []int64{2, 3, 4}) {
				t.Fatalf("live segments %v, want [2 3 4]", ids)
			}
			if !im.inMemory {
				if n := countSegmentDirs(t, dir, "win"); n != 3 {
					t.Fatalf("%d segment directories on disk, want 3", n)
				}
			}
			// Reads stop at stream time - retention + 1 = 2m+11ms.
			if got := fetchStrings(t, w.Fetch(b("k"), 0, 10*minute)); !slices.Equal(got, []string{"180010=m3", "240010=m4"}) {
				t.Fatalf("fetch after expiry: %q", got)
			}
			// A write into a dropped segment is skipped and counted.
			if err := w.Put(b("late"), b("x"), 10); err != nil {
				t.Fatal(err)
			}
			if w.ExpiredDropped() != 1 {
				t.Fatalf("ExpiredDropped = %d, want 1", w.ExpiredDropped())
			}
			if ids := w.segs.segmentIDs(); !slices.Equal(ids, []int64{2, 3, 4}) {
				t.Fatalf("late write recreated a segment: %v", ids)
			}
		})
	}
}

// TestWindowIteratorSurvivesExpiry checks that a segment dropped while an
// iterator reads it stays readable until the iterator is closed.
func TestWindowIteratorSurvivesExpiry(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "win")
			w := openWindow(t, im, WindowConfig{Dir: dir, Retention: time.Minute, WindowSize: time.Second})
			for i := range int64(10) {
				w.Put(fmt.Appendf(nil, "k%d", i), b("v"), 1000)
			}
			it := w.FetchAll(0, 2000)
			if !it.Next() {
				t.Fatal("no first window")
			}
			w.Put(b("k"), b("v"), 10*60_000) // expires segment 0
			n := 1
			for it.Next() {
				n++
			}
			if err := it.Err(); err != nil || n != 10 {
				t.Fatalf("read %d windows, err %v; want 10", n, err)
			}
			it.Close()
			if !im.inMemory {
				if c := countSegmentDirs(t, dir, "win"); c != 1 {
					t.Fatalf("%d segment dirs after close of iterator, want 1", c)
				}
			}
		})
	}
}

func TestWindowRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app", "1_0", "win")
	cfg := WindowConfig{Name: "win", Dir: dir, Retention: 10 * time.Minute, WindowSize: time.Minute}
	w, err := OpenWindow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(20) {
		w.Put(b("k"), fmt.Appendf(nil, "v%d", i), i*60_000)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = OpenWindow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got := fetchStrings(t, w.Fetch(b("k"), 0, math.MaxInt64))
	// Stream time 19m, retention 10m: windows from 9m+1ms on are live;
	// after reopen the store knows stream time only to its newest
	// segment's start, so it may return a little more, never less.
	if len(got) < 10 || got[len(got)-1] != "1140000=v19" {
		t.Fatalf("after restart: %q", got)
	}
	for _, g := range got[len(got)-10:] {
		var ts int64
		var v string
		fmt.Sscanf(strings.Replace(g, "=", " ", 1), "%d %s", &ts, &v)
		if v != fmt.Sprintf("v%d", ts/60_000) {
			t.Fatalf("after restart: %q", got)
		}
	}
}

// TestWindowModel compares FetchRange on both implementations with a model
// over random keys that are prefixes of each other.
func TestWindowModel(t *testing.T) {
	type ent struct {
		key string
		ts  int64
		val string
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			// Retention so long that nothing expires.
			w := openWindow(t, im, WindowConfig{Retention: math.MaxInt64, WindowSize: time.Second, SegmentInterval: 10 * time.Second})
			r := rand.New(rand.NewPCG(3, 4))
			alphabet := []string{"", "\x00", "\x01", "a", "\xff"}
			key := func() string {
				var sb strings.Builder
				for range 1 + r.IntN(3) {
					sb.WriteString(alphabet[r.IntN(len(alphabet))])
				}
				return sb.String()
			}
			ts := func() int64 {
				if r.IntN(10) == 0 {
					// Far future: non-zero high timestamp bytes
					// exercise the byte order against keys.
					return int64(r.Uint64() >> 22)
				}
				return r.Int64N(60_000)
			}
			model := map[string]ent{}
			for i := range 400 {
				e := ent{key(), ts(), fmt.Sprint(i)}
				w.Put(b(e.key), b(e.val), e.ts)
				model[string(WindowStoreKey(b(e.key), e.ts, 0))] = e
			}
			for range 200 {
				kf, kt := key(), key()
				tf, tt := ts(), ts()
				if kf > kt {
					kf, kt = kt, kf
				}
				if tf > tt {
					tf, tt = tt, tf
				}
				var want []ent
				for _, e := range model {
					if e.key >= kf && e.key <= kt && e.ts >= tf && e.ts <= tt {
						want = append(want, e)
					}
				}
				seg := func(ts int64) int64 { return ts / 10_000 }
				slices.SortFunc(want, func(x, y ent) int {
					if c := cmp.Compare(seg(x.ts), seg(y.ts)); c != 0 {
						return c
					}
					return bytes.Compare(WindowStoreKey(b(x.key), x.ts, 0), WindowStoreKey(b(y.key), y.ts, 0))
				})
				wantS := []string{}
				for _, e := range want {
					wantS = append(wantS, fmt.Sprintf("%q@%d-%d=%s", e.key, e.ts, e.ts+1000, e.val))
				}
				if got := windowedStrings(t, w.FetchRange(b(kf), b(kt), tf, tt)); !slices.Equal(got, wantS) {
					t.Fatalf("FetchRange(%q, %q, %d, %d)\ngot  %q\nwant %q", kf, kt, tf, tt, got, wantS)
				}
			}
		})
	}
}
