package state

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentReaders runs one writer and several interactive-query
// readers on each store kind (run with -race). Every iterator must return
// keys in order and only values the writer wrote.
func TestConcurrentReaders(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			kv := openKV(t, im)
			win := openWindow(t, im, WindowConfig{Retention: time.Minute, WindowSize: time.Second})
			cache := newCache(t, 50*(cacheEntryOverhead+10))
			cached := mustCached(t, openKV(t, im), CachingConfig[[]byte]{Cache: cache})

			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			wg.Go(func() {
				defer done.Store(true)
				for i := range 3000 {
					k := fmt.Appendf(nil, "k%03d", i%200)
					v := fmt.Appendf(nil, "v%d", i)
					if err := kv.Put(k, v); err != nil {
						errs <- err
						return
					}
					// Windows move through time, so segments expire
					// while readers iterate.
					if err := win.Put(k, v, int64(i)*100); err != nil {
						errs <- err
						return
					}
					if err := cached.Put(k, v); err != nil {
						errs <- err
						return
					}
					if i%500 == 0 {
						if err := cached.Flush(); err != nil {
							errs <- err
							return
						}
					}
				}
			})
			check := func(it Iterator[[]byte, []byte]) error {
				var prev []byte
				for it.Next() {
					if prev != nil && bytes.Compare(prev, it.Key()) >= 0 {
						it.Close()
						return fmt.Errorf("keys out of order: %q then %q", prev, it.Key())
					}
					if !bytes.HasPrefix(it.Value(), []byte("v")) {
						it.Close()
						return fmt.Errorf("value %q was never written", it.Value())
					}
					prev = it.Key()
				}
				return errors.Join(it.Err(), it.Close())
			}
			for range 3 {
				wg.Go(func() {
					for !done.Load() {
						if err := check(kv.Range(b("k050"), b("k150"))); err != nil {
							errs <- err
							return
						}
						if err := check(cached.All()); err != nil {
							errs <- err
							return
						}
						it := win.All()
						for it.Next() {
							if !bytes.HasPrefix(it.Value(), []byte("v")) {
								errs <- fmt.Errorf("window value %q", it.Value())
							}
						}
						if err := errors.Join(it.Err(), it.Close()); err != nil {
							errs <- err
							return
						}
						if _, err := cached.Get(b("k007")); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// probeKV runs probe before every write reaches the wrapped store: the
// moment an evicted entry is on its way from the cache to the store.
type probeKV struct {
	KeyValueBytes
	probe func()
}

func (p *probeKV) Put(key, value []byte) error {
	if p.probe != nil {
		p.probe()
	}
	return p.KeyValueBytes.Put(key, value)
}

// TestCachedReadsNeverMissEvicted scans a cached store while each evicted
// entry is between the cache and the store: every key must be visible
// all the time.
func TestCachedReadsNeverMissEvicted(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			const keys = 30
			inner := &probeKV{KeyValueBytes: openKV(t, im)}
			s := mustCached(t, inner, CachingConfig[[]byte]{Cache: newCache(t, 10*(cacheEntryOverhead+12))})
			for i := range keys {
				s.Put(fmt.Appendf(nil, "k%03d", i), b("v"))
			}
			probes := 0
			inner.probe = func() {
				probes++
				kvs, err := Collect(s.All())
				if err != nil {
					t.Fatal(err)
				}
				if len(kvs) != keys {
					t.Fatalf("scan during a flush saw %d keys, want %d", len(kvs), keys)
				}
			}
			for i := range 200 {
				s.Put(fmt.Appendf(nil, "k%03d", i%keys), fmt.Appendf(nil, "v%d", i))
			}
			if probes == 0 {
				t.Fatal("no eviction happened")
			}
		})
	}
}
