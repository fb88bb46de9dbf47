package state

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type windowFlushLog struct{ got []string }

func (f *windowFlushLog) listener(e Flushed[Windowed[[]byte]]) error {
	str := func(b []byte) string {
		if b == nil {
			return "nil"
		}
		return string(b)
	}
	f.got = append(f.got, fmt.Sprintf("%s@%d-%d:%s->%s@%d", e.Key.Key, e.Key.Window.Start, e.Key.Window.End, str(e.OldValue), str(e.NewValue), e.Timestamp))
	return nil
}

// TestCachedWindowEmitOnFlush checks that several updates of one window
// reach the store and the listener once, as the windowed aggregation's
// single result, with the window's end.
func TestCachedWindowEmitOnFlush(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inner := openWindow(t, im, WindowConfig{Retention: time.Hour, WindowSize: time.Minute})
			clock := NewClock()
			fl := &windowFlushLog{}
			s, err := NewCachedWindow(inner, inner.Layout(), CachingConfig[Windowed[[]byte]]{Cache: newCache(t, 0), Clock: clock, Forward: fl.listener})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				clock.Set(int64(10 + i))
				s.Put(b("user"), fmt.Appendf(nil, "count=%d", i+1), 0)
			}
			if got := fetchStrings(t, s.Fetch(b("user"), 0, 0)); !slices.Equal(got, []string{"0=count=3"}) {
				t.Fatalf("read through cache %q", got)
			}
			if v, _ := inner.FetchOne(b("user"), 0); v != nil {
				t.Fatalf("store written before flush: %q", v)
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := []string{"user@0-60000:nil->count=3@12"}; !slices.Equal(fl.got, want) {
				t.Fatalf("forwarded %q, want %q", fl.got, want)
			}
			if v, _ := inner.FetchOne(b("user"), 0); string(v) != "count=3" {
				t.Fatalf("store after flush %q", v)
			}
		})
	}
}

// TestCachedWindowModel checks reads through a small cache in front of a
// window store against a model, and the store against the model after a
// final flush.
func TestCachedWindowModel(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inner := openWindow(t, im, WindowConfig{Retention: 24 * time.Hour, WindowSize: time.Second, SegmentInterval: 10 * time.Second})
			s, err := NewCachedWindow(inner, inner.Layout(), CachingConfig[Windowed[[]byte]]{Cache: newCache(t, 6*(cacheEntryOverhead+30))})
			if err != nil {
				t.Fatal(err)
			}
			type ent struct {
				key string
				ts  int64
				val string
			}
			model := map[string]ent{}
			r := rand.New(rand.NewPCG(7, 8))
			keys := []string{"a", "a\x00", "ab", "b", "\xff"}
			order := func(es []ent) []string {
				seg := func(ts int64) int64 { return ts / 10_000 }
				slices.SortFunc(es, func(x, y ent) int {
					return cmp.Or(cmp.Compare(seg(x.ts), seg(y.ts)), bytes.Compare(WindowStoreKey(b(x.key), x.ts, 0), WindowStoreKey(b(y.key), y.ts, 0)))
				})
				out := []string{}
				for _, e := range es {
					out = append(out, fmt.Sprintf("%q@%d-%d=%s", e.key, e.ts, e.ts+1000, e.val))
				}
				return out
			}
			for i := range 3000 {
				k, ts := keys[r.IntN(len(keys))], r.Int64N(60_000)/500*500
				mk := string(WindowStoreKey(b(k), ts, 0))
				switch r.IntN(5) {
				case 0, 1:
					v := fmt.Sprint(i)
					s.Put(b(k), b(v), ts)
					model[mk] = ent{k, ts, v}
				case 2:
					s.Put(b(k), nil, ts)
					delete(model, mk)
				case 3:
					kf, kt := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
					if kf > kt {
						kf, kt = kt, kf
					}
					tf := r.Int64N(60_000)
					tt := tf + r.Int64N(30_000)
					var want []ent
					for _, e := range model {
						if e.key >= kf && e.key <= kt && e.ts >= tf && e.ts <= tt {
							want = append(want, e)
						}
					}
					wantS := order(want)
					if got := windowedStrings(t, s.FetchRange(b(kf), b(kt), tf, tt)); !slices.Equal(got, wantS) {
						t.Fatalf("step %d FetchRange(%q, %q, %d, %d)\ngot  %q\nwant %q", i, kf, kt, tf, tt, got, wantS)
					}
					rev := windowedStrings(t, s.BackwardFetchRange(b(kf), b(kt), tf, tt))
					slices.Reverse(rev)
					if !slices.Equal(rev, wantS) {
						t.Fatalf("step %d BackwardFetchRange reversed\ngot  %q\nwant %q", i, rev, wantS)
					}
				case 4:
					if r.IntN(10) == 0 {
						if err := s.Flush(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			var all []ent
			for _, e := range model {
				all = append(all, e)
			}
			if got, want := windowedStrings(t, inner.All()), order(all); !slices.Equal(got, want) {
				t.Fatalf("store after flush\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

func TestCachedSession(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inner := openSession(t, im, SessionConfig{Retention: time.Hour})
			fl := &windowFlushLog{}
			s, err := NewCachedSession(inner, inner.SegmentInterval(), CachingConfig[Windowed[[]byte]]{Cache: newCache(t, 0), Forward: fl.listener})
			if err != nil {
				t.Fatal(err)
			}
			// Flushed: in the store. Then merged in the cache: the old
			// session removed, a longer one written, both unflushed.
			s.Put(b("u"), Window{0, 10}, b("1"))
			s.Put(b("v"), Window{5, 8}, b("v1"))
			s.Flush()
			s.Remove(b("u"), Window{0, 10})
			s.Put(b("u"), Window{0, 25}, b("2"))
			if got := windowedStrings(t, s.FindSessions(b("u"), 0, 30)); !slices.Equal(got, []string{`"u"@0-25=2`}) {
				t.Fatalf("FindSessions through cache %q", got)
			}
			if got := windowedStrings(t, s.FetchRange(nil, nil)); !slices.Equal(got, []string{`"u"@0-25=2`, `"v"@5-8=v1`}) {
				t.Fatalf("FetchRange through cache %q", got)
			}
			if got := windowedStrings(t, inner.Fetch(b("u"))); !slices.Equal(got, []string{`"u"@0-10=1`}) {
				t.Fatalf("store before flush %q", got)
			}
			s.Flush()
			want := []string{"u@0-10:nil->1@-1", "v@5-8:nil->v1@-1", "u@0-10:1->nil@-1", "u@0-25:nil->2@-1"}
			if !slices.Equal(fl.got, want) {
				t.Fatalf("forwarded %q\nwant %q", fl.got, want)
			}
			if got := windowedStrings(t, inner.Fetch(b("u"))); !slices.Equal(got, []string{`"u"@0-25=2`}) {
				t.Fatalf("store after flush %q", got)
			}
		})
	}
}
