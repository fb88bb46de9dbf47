package state

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

type flushLog struct{ got []string }

func (f *flushLog) listener(e Flushed[[]byte]) error {
	str := func(b []byte) string {
		if b == nil {
			return "nil"
		}
		return string(b)
	}
	f.got = append(f.got, fmt.Sprintf("%s:%s->%s@%d", e.Key, str(e.OldValue), str(e.NewValue), e.Timestamp))
	return nil
}

func newCache(t *testing.T, max int64) *Cache {
	t.Helper()
	c, err := NewCache(CacheConfig{MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCacheDedupAndFlush checks that repeated writes of a key reach the
// store, the changelog and the listener once, at flush, with the last
// value and the timestamp of the last write.
func TestCacheDedupAndFlush(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			clock := NewClock()
			sink := &sliceSink{}
			inner := openKV(t, im)
			logged := NewLoggedKeyValue(inner, sink, clock.Now)
			fl := &flushLog{}
			s := mustCached(t, logged, CachingConfig[[]byte]{Cache: newCache(t, 0), Clock: clock, Forward: fl.listener})

			for i, v := range []string{"1", "2", "3"} {
				clock.Set(int64(100 + i))
				if err := s.Put(b("k"), b(v)); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(200)
			s.Put(b("gone"), b("x"))
			s.Delete(b("gone"))
			if v, _ := s.Get(b("k")); string(v) != "3" {
				t.Fatalf("read through cache = %q", v)
			}
			if v, _ := inner.Get(b("k")); v != nil {
				t.Fatalf("write reached the store before flush: %q", v)
			}
			if len(sink.recs) != 0 || len(fl.got) != 0 {
				t.Fatalf("before flush: changelog %v, forwarded %v", sink.recs, fl.got)
			}
			clock.Set(999)
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			// "gone" was put and deleted before the store saw it: the
			// tombstone reaches the store and changelog, not the listener.
			if want := []string{"k:nil->3@102"}; !slices.Equal(fl.got, want) {
				t.Fatalf("forwarded %q, want %q", fl.got, want)
			}
			if want := []string{`"k"=3@102`, `"gone"=<tombstone>@200`}; !slices.Equal(recStrings(sink.recs), want) {
				t.Fatalf("changelog %q, want %q", recStrings(sink.recs), want)
			}
			if clock.Now() != 999 {
				t.Fatalf("clock not restored after flush: %d", clock.Now())
			}
			// A second flush has nothing to write.
			s.Flush()
			if len(fl.got) != 1 || len(sink.recs) != 2 {
				t.Fatalf("second flush wrote again: %v %v", fl.got, sink.recs)
			}
			// An update forwards the old value.
			clock.Set(300)
			s.Put(b("k"), b("4"))
			s.Flush()
			if fl.got[1] != "k:3->4@300" {
				t.Fatalf("update forwarded %q", fl.got[1])
			}
		})
	}
}

func TestCacheMergedRanges(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inner := openKV(t, im)
			for _, k := range []string{"a", "b", "c", "e"} {
				inner.Put(b(k), b("store-"+k))
			}
			s := mustCached(t, inner, CachingConfig[[]byte]{Cache: newCache(t, 0)})
			s.Put(b("b"), b("cache-b"))
			s.Delete(b("c"))
			s.Put(b("d"), b("cache-d"))
			s.Put(b("f"), nil) // tombstone of an absent key
			tests := []struct {
				name string
				it   Iterator[[]byte, []byte]
				want []string
			}{
				{"all", s.All(), []string{"a=store-a", "b=cache-b", "d=cache-d", "e=store-e"}},
				{"reverse all", s.ReverseAll(), []string{"e=store-e", "d=cache-d", "b=cache-b", "a=store-a"}},
				{"range", s.Range(b("b"), b("d")), []string{"b=cache-b", "d=cache-d"}},
				{"reverse range", s.ReverseRange(b("a"), b("c")), []string{"b=cache-b", "a=store-a"}},
				{"prefix", s.PrefixScan(b("d")), []string{"d=cache-d"}},
				{"inverted", s.Range(b("d"), b("a")), []string{}},
			}
			for _, tt := range tests {
				if got := collectKV(t, tt.it); !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
				}
			}
			if v, _ := s.Get(b("c")); v != nil {
				t.Fatalf("deleted key reads %q", v)
			}
		})
	}
}

// TestCacheEviction checks that going over the size evicts the least
// recently used entry and that evicting a dirty entry writes it downstream
// first, then the store's other dirty entries in write order.
func TestCacheEviction(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			entry := int64(1 + 1 + cacheEntryOverhead) // one-byte key and value
			fl := &flushLog{}
			inner := openKV(t, im)
			s := mustCached(t, inner, CachingConfig[[]byte]{Cache: newCache(t, 3*entry), Forward: fl.listener})
			s.Put(b("a"), b("1"))
			s.Put(b("b"), b("2"))
			s.Put(b("c"), b("3"))
			s.Put(b("a"), b("1")) // a becomes most recently used; b is the eldest
			if len(fl.got) != 0 {
				t.Fatalf("evicted within budget: %v", fl.got)
			}
			s.Put(b("d"), b("4"))
			// b is evicted and goes first; the rest follow in the order
			// of their last write.
			want := []string{"b:nil->2@-1", "c:nil->3@-1", "a:nil->1@-1", "d:nil->4@-1"}
			if !slices.Equal(fl.got, want) {
				t.Fatalf("eviction flushed %q, want %q", fl.got, want)
			}
			if got := collectKV(t, inner.All()); len(got) != 4 {
				t.Fatalf("store after eviction %q", got)
			}
			if got := collectKV(t, s.All()); !slices.Equal(got, []string{"a=1", "b=2", "c=3", "d=4"}) {
				t.Fatalf("reads after eviction %q", got)
			}
		})
	}
}

func TestCacheSharedBudget(t *testing.T) {
	entry := int64(2 + cacheEntryOverhead)
	c := newCache(t, 2*entry)
	fl1, fl2 := &flushLog{}, &flushLog{}
	s1 := mustCached(t, openKV(t, impls[1]), CachingConfig[[]byte]{Cache: c, Forward: fl1.listener})
	s2 := mustCached(t, openKV(t, impls[1]), CachingConfig[[]byte]{Cache: c, Forward: fl2.listener})
	s1.Put(b("a"), b("1"))
	s2.Put(b("a"), b("1"))
	if c.Size() != 2*entry || len(fl1.got)+len(fl2.got) != 0 {
		t.Fatalf("size %d, flushed %v %v", c.Size(), fl1.got, fl2.got)
	}
	// The store written evicts from its own namespace.
	s2.Put(b("b"), b("2"))
	if len(fl1.got) != 0 || len(fl2.got) != 2 {
		t.Fatalf("flushed s1 %v, s2 %v", fl1.got, fl2.got)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if len(fl1.got) != 1 {
		t.Fatalf("close did not flush: %v", fl1.got)
	}
	if _, err := NewCache(CacheConfig{MaxBytes: -1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative MaxBytes: %v", err)
	}
}

// TestCacheModel runs random writes, reads, ranges and flushes against a
// cached store with a small cache and checks them against a map; at the end
// the store itself must hold the model after a flush.
func TestCacheModel(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			inner := openKV(t, im)
			s := mustCached(t, inner, CachingConfig[[]byte]{Cache: newCache(t, 8*(cacheEntryOverhead+8))})
			model := map[string]string{}
			r := rand.New(rand.NewPCG(5, 6))
			key := func() string { return fmt.Sprintf("k%02d", r.IntN(40)) }
			for i := range 4000 {
				switch k := key(); r.IntN(6) {
				case 0, 1:
					v := fmt.Sprint(i)
					s.Put(b(k), b(v))
					model[k] = v
				case 2:
					s.Delete(b(k))
					delete(model, k)
				case 3:
					v, err := s.Get(b(k))
					if want, ok := model[k]; err != nil || (ok != (v != nil)) || (ok && string(v) != want) {
						t.Fatalf("step %d: Get(%s) = %q, %v; want %q", i, k, v, err, want)
					}
				case 4:
					lo, hi := key(), key()
					want := []string{}
					for mk, mv := range model {
						if mk >= lo && mk <= hi {
							want = append(want, mk+"="+mv)
						}
					}
					slices.Sort(want)
					if got := collectKV(t, s.Range(b(lo), b(hi))); !slices.Equal(got, want) {
						t.Fatalf("step %d: Range(%s, %s) = %q, want %q", i, lo, hi, got, want)
					}
				case 5:
					if r.IntN(20) == 0 {
						if err := s.Flush(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for mk, mv := range model {
				want = append(want, mk+"="+mv)
			}
			slices.Sort(want)
			if got := collectKV(t, inner.All()); !slices.Equal(got, want) {
				t.Fatalf("store after flush %q\nwant %q", got, want)
			}
		})
	}
}

func mustCached(t *testing.T, inner KeyValueBytes, cfg CachingConfig[[]byte]) *CachedKeyValue {
	t.Helper()
	s, err := NewCachedKeyValue(inner, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
