package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// impl names one of the two store implementations the shared test tables run
// against.
type impl struct {
	name     string
	inMemory bool
}

var impls = []impl{{"leveldb", false}, {"memory", true}}

func openKV(t *testing.T, im impl) *KeyValueDB {
	t.Helper()
	s, err := OpenKeyValue(KeyValueConfig{Name: "kv", Dir: filepath.Join(t.TempDir(), "kv"), InMemory: im.inMemory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func b(s string) []byte { return []byte(s) }

func collectKV(t *testing.T, it Iterator[[]byte, []byte]) []string {
	t.Helper()
	kvs, err := Collect(it)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, kv := range kvs {
		out = append(out, string(kv.Key)+"="+string(kv.Value))
	}
	return out
}

func TestKeyValueRanges(t *testing.T) {
	// Keys chosen so that byte order differs from length order and from
	// signed-byte order (0x80 sorts after 0x7f, as Kafka's Bytes compare
	// unsigned).
	keys := []string{"a", "ab", "abc", "b", "ba", "\x7f", "\x80", "\xff", "\xff\xff", ""}
	tests := []struct {
		name string
		it   func(s KeyValueBytes) Iterator[[]byte, []byte]
		want []string
	}{
		{"all", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.All() },
			[]string{"=v", "a=va", "ab=vab", "abc=vabc", "b=vb", "ba=vba", "\x7f=v\x7f", "\x80=v\x80", "\xff=v\xff", "\xff\xff=v\xff\xff"}},
		{"reverse all", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.ReverseAll() },
			[]string{"\xff\xff=v\xff\xff", "\xff=v\xff", "\x80=v\x80", "\x7f=v\x7f", "ba=vba", "b=vb", "abc=vabc", "ab=vab", "a=va", "=v"}},
		{"range inclusive", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.Range(b("ab"), b("b")) },
			[]string{"ab=vab", "abc=vabc", "b=vb"}},
		{"reverse range", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.ReverseRange(b("ab"), b("b")) },
			[]string{"b=vb", "abc=vabc", "ab=vab"}},
		{"range open from", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.Range(nil, b("a")) },
			[]string{"=v", "a=va"}},
		{"range open to", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.Range(b("\x80"), nil) },
			[]string{"\x80=v\x80", "\xff=v\xff", "\xff\xff=v\xff\xff"}},
		{"range inverted is empty", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.Range(b("b"), b("a")) },
			[]string{}},
		{"range between keys", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.Range(b("abd"), b("az")) },
			[]string{}},
		{"prefix", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.PrefixScan(b("ab")) },
			[]string{"ab=vab", "abc=vabc"}},
		{"prefix ff", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.PrefixScan(b("\xff")) },
			[]string{"\xff=v\xff", "\xff\xff=v\xff\xff"}},
		{"prefix none", func(s KeyValueBytes) Iterator[[]byte, []byte] { return s.PrefixScan(b("c")) },
			[]string{}},
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := openKV(t, im)
			for _, k := range keys {
				if err := s.Put(b(k), b("v"+k)); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := collectKV(t, tt.it(s))
					if !slices.Equal(got, tt.want) {
						t.Fatalf("got %q\nwant %q", got, tt.want)
					}
				})
			}
			n, err := s.ApproximateNumEntries()
			if err != nil || n != int64(len(keys)) {
				t.Fatalf("ApproximateNumEntries = %d, %v; want %d", n, err, len(keys))
			}
		})
	}
}

func TestKeyValueWrites(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := openKV(t, im)
			get := func(k string) []byte {
				t.Helper()
				v, err := s.Get(b(k))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if v := get("x"); v != nil {
				t.Fatalf("absent key = %q", v)
			}
			if err := s.Put(b("x"), b("1")); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(b("x"), b("2")); err != nil {
				t.Fatal(err)
			}
			if v := get("x"); string(v) != "2" {
				t.Fatalf("overwritten key = %q", v)
			}
			old, err := s.PutIfAbsent(b("x"), b("3"))
			if err != nil || string(old) != "2" || string(get("x")) != "2" {
				t.Fatalf("PutIfAbsent on present key = %q, %v; value now %q", old, err, get("x"))
			}
			old, err = s.PutIfAbsent(b("y"), b("9"))
			if err != nil || old != nil || string(get("y")) != "9" {
				t.Fatalf("PutIfAbsent on absent key = %q, %v; value now %q", old, err, get("y"))
			}
			if err := s.Put(b("empty"), []byte{}); err != nil {
				t.Fatal(err)
			}
			if v := get("empty"); v == nil || len(v) != 0 {
				t.Fatalf("empty value read back as %#v, want present and empty", v)
			}
			old, err = s.Delete(b("x"))
			if err != nil || string(old) != "2" || get("x") != nil {
				t.Fatalf("Delete = %q, %v; value now %q", old, err, get("x"))
			}
			old, err = s.Delete(b("x"))
			if err != nil || old != nil {
				t.Fatalf("second Delete = %q, %v", old, err)
			}
			if err := s.Put(b("y"), nil); err != nil || get("y") != nil {
				t.Fatalf("Put nil did not delete: %v, %q", err, get("y"))
			}
			err = s.PutAll([]KeyValue[[]byte, []byte]{{b("p"), b("1")}, {b("q"), b("2")}, {b("p"), nil}, {b("r"), b("3")}})
			if err != nil {
				t.Fatal(err)
			}
			if got := collectKV(t, s.All()); !slices.Equal(got, []string{"empty=", "q=2", "r=3"}) {
				t.Fatalf("after PutAll: %q", got)
			}
		})
	}
}

// TestKeyValueIteratorSnapshot checks that an open iterator does not see
// writes made after it was created, in both implementations.
func TestKeyValueIteratorSnapshot(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := openKV(t, im)
			for _, k := range []string{"a", "b", "c"} {
				s.Put(b(k), b("old"))
			}
			it := s.All()
			if !it.Next() || string(it.Key()) != "a" {
				t.Fatal("first entry missing")
			}
			s.Put(b("b"), b("new"))
			s.Delete(b("c"))
			s.Put(b("d"), b("new"))
			var rest []string
			for it.Next() {
				rest = append(rest, string(it.Key())+"="+string(it.Value()))
			}
			it.Close()
			if !slices.Equal(rest, []string{"b=old", "c=old"}) {
				t.Fatalf("iterator saw later writes: %q", rest)
			}
		})
	}
}

// TestKeyValueModel compares both implementations with a map under random
// operations, ranges included.
func TestKeyValueModel(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := openKV(t, im)
			model := map[string]string{}
			r := rand.New(rand.NewPCG(1, 2))
			key := func() string { return fmt.Sprintf("k%02x", r.IntN(64)) }
			for i := range 3000 {
				k := key()
				switch r.IntN(4) {
				case 0, 1:
					v := fmt.Sprint(i)
					s.Put(b(k), b(v))
					model[k] = v
				case 2:
					s.Delete(b(k))
					delete(model, k)
				case 3:
					lo, hi := key(), key()
					var want []string
					for mk, mv := range model {
						if mk >= lo && mk <= hi {
							want = append(want, mk+"="+mv)
						}
					}
					slices.Sort(want)
					if want == nil {
						want = []string{}
					}
					if got := collectKV(t, s.Range(b(lo), b(hi))); !slices.Equal(got, want) {
						t.Fatalf("step %d: Range(%s, %s) = %q, want %q", i, lo, hi, got, want)
					}
					rev := collectKV(t, s.ReverseRange(b(lo), b(hi)))
					slices.Reverse(rev)
					if !slices.Equal(rev, want) {
						t.Fatalf("step %d: ReverseRange(%s, %s) reversed = %q, want %q", i, lo, hi, rev, want)
					}
				}
			}
			n, _ := s.ApproximateNumEntries()
			if n != int64(len(model)) {
				t.Fatalf("count %d, model %d", n, len(model))
			}
		})
	}
}

func TestKeyValueRestartKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app", "0_1", "counts")
	cfg := KeyValueConfig{Name: "counts", Dir: dir}
	s, err := OpenKeyValue(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		s.Put(fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i))
	}
	s.Delete(b("k050"))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenKeyValue(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kvs, err := Collect(s.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 99 {
		t.Fatalf("after restart %d entries, want 99", len(kvs))
	}
	for _, kv := range kvs {
		var i int
		fmt.Sscanf(string(kv.Key), "k%03d", &i)
		if i == 50 || !bytes.Equal(kv.Value, fmt.Appendf(nil, "v%d", i)) {
			t.Fatalf("after restart %q=%q", kv.Key, kv.Value)
		}
	}
}

func TestKeyValueClosedAndConfig(t *testing.T) {
	if _, err := OpenKeyValue(KeyValueConfig{Name: "x"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing Dir: %v", err)
	}
	if _, err := OpenKeyValue(KeyValueConfig{InMemory: true}); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing Name: %v", err)
	}
	for _, im := range impls {
		s := openKV(t, im)
		s.Close()
		if err := s.Put(b("a"), b("b")); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s: Put after Close: %v", im.name, err)
		}
		if _, err := Collect(s.All()); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s: All after Close: %v", im.name, err)
		}
	}
}
