package state

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

func openEngine(t *testing.T, im impl) engine {
	t.Helper()
	if im.inMemory {
		return newMem()
	}
	e, err := openLevel(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.close() })
	return e
}

func drain(t *testing.T, r rawIter) []string {
	t.Helper()
	defer r.close()
	out := []string{}
	for r.next() {
		out = append(out, string(r.key())+"="+string(r.value()))
	}
	if err := r.err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEngineModel drives both engines with enough keys to build a B+tree
// several levels deep, deletes included, and checks ranges in both
// directions (open bounds too) and snapshots against a sorted model.
func TestEngineModel(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			e := openEngine(t, im)
			r := rand.New(rand.NewPCG(9, 10))
			model := map[string]string{}
			key := func() string { return fmt.Sprintf("%04d", r.IntN(5000)) }
			expect := func(lo, hi *string, reverse bool) []string {
				out := []string{}
				for k, v := range model {
					if (lo == nil || k >= *lo) && (hi == nil || k < *hi) {
						out = append(out, k+"="+v)
					}
				}
				slices.Sort(out)
				if reverse {
					slices.Reverse(out)
				}
				return out
			}
			bound := func() *string {
				if r.IntN(5) == 0 {
					return nil
				}
				k := key()
				return &k
			}
			bytesOf := func(s *string) []byte {
				if s == nil {
					return nil
				}
				return []byte(*s)
			}
			type snapshot struct {
				it   rawIter
				want []string
			}
			var snaps []snapshot
			for i := range 15000 {
				switch r.IntN(10) {
				case 0, 1, 2, 3, 4:
					k, v := key(), fmt.Sprint(i)
					e.put([]byte(k), []byte(v))
					model[k] = v
				case 5, 6, 7:
					k := key()
					e.delete([]byte(k))
					delete(model, k)
				case 8:
					if i%4 != 0 {
						continue
					}
					lo, hi := bound(), bound()
					rev := r.IntN(2) == 0
					if got, want := drain(t, e.iter(bytesOf(lo), bytesOf(hi), rev)), expect(lo, hi, rev); !slices.Equal(got, want) {
						t.Fatalf("step %d: iter(%v, %v, reverse=%v): %d entries, want %d\ngot  %.200q\nwant %.200q", i, lo, hi, rev, len(got), len(want), got, want)
					}
				case 9:
					// Iterators taken now must not see later
					// writes, in-place ones included.
					if i%40 == 9 {
						snaps = append(snaps, snapshot{e.iter(nil, nil, false), expect(nil, nil, false)})
					}
				}
			}
			if len(snaps) < 10 {
				t.Fatalf("only %d snapshots taken", len(snaps))
			}
			for j, sn := range snaps {
				if got := drain(t, sn.it); !slices.Equal(got, sn.want) {
					t.Fatalf("snapshot %d changed under later writes: %d entries, want %d", j, len(got), len(sn.want))
				}
			}
			n, _ := e.count()
			if n != int64(len(model)) {
				t.Fatalf("count %d, want %d", n, len(model))
			}
			// Delete everything: the tree must collapse back to empty.
			for k := range model {
				e.delete([]byte(k))
			}
			if got := drain(t, e.iter(nil, nil, true)); len(got) != 0 {
				t.Fatalf("after deleting all: %q", got)
			}
			if n, _ := e.count(); n != 0 {
				t.Fatalf("count after deleting all: %d", n)
			}
		})
	}
}
