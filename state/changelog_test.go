package state

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/runnel/runnel/streams/serde"
)

type sliceSink struct{ recs []ChangelogRecord }

func (s *sliceSink) Send(r ChangelogRecord) error {
	s.recs = append(s.recs, r)
	return nil
}

func recStrings(recs []ChangelogRecord) []string {
	var out []string
	for _, r := range recs {
		v := "<tombstone>"
		if r.Value != nil {
			v = string(r.Value)
		}
		out = append(out, fmt.Sprintf("%q=%s@%d", r.Key, v, r.Timestamp))
	}
	return out
}

// TestLoggedKeyValueRestore checks that every write reaches the sink, in
// order, and that restoring the sink's records into an empty store rebuilds
// the same contents.
func TestLoggedKeyValueRestore(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			var now int64 = 100
			sink := &sliceSink{}
			s := NewLoggedKeyValue(openKV(t, im), sink, func() int64 { return now })
			s.Put(b("a"), b("1"))
			now = 200
			s.Put(b("b"), b("2"))
			s.PutIfAbsent(b("a"), b("x")) // present: not written, not logged
			s.PutIfAbsent(b("c"), b("3"))
			s.Delete(b("b"))
			s.PutAll([]KeyValue[[]byte, []byte]{{b("d"), b("4")}, {b("a"), b("5")}})
			s.Put(b("c"), nil)
			want := []string{`"a"=1@100`, `"b"=2@200`, `"c"=3@200`, `"b"=<tombstone>@200`, `"d"=4@200`, `"a"=5@200`, `"c"=<tombstone>@200`}
			if got := recStrings(sink.recs); !slices.Equal(got, want) {
				t.Fatalf("changelog %q\nwant %q", got, want)
			}
			fresh := openKV(t, im)
			if err := NewLoggedKeyValue(fresh, &sliceSink{}, nil).Restore(sink.recs); err != nil {
				t.Fatal(err)
			}
			if got, want := collectKV(t, fresh.All()), collectKV(t, s.All()); !slices.Equal(got, want) || len(got) != 2 {
				t.Fatalf("restored %q, original %q", got, want)
			}
		})
	}
}

func TestLoggedWindowRestore(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			cfg := WindowConfig{Retention: time.Hour, WindowSize: time.Minute, RetainDuplicates: true}
			sink := &sliceSink{}
			w := NewLoggedWindow(openWindow(t, im, cfg), sink, func() int64 { return 7 })
			w.Put(b("k"), b("x"), 1000)
			w.Put(b("k"), b("y"), 1000)
			w.Put(b("j"), b("z"), 2000)
			w.Put(b("k"), nil, 1000) // ignored with duplicates: not logged
			want := []string{
				fmt.Sprintf("%q=x@7", WindowStoreKey(b("k"), 1000, 1)),
				fmt.Sprintf("%q=y@7", WindowStoreKey(b("k"), 1000, 2)),
				fmt.Sprintf("%q=z@7", WindowStoreKey(b("j"), 2000, 3)),
			}
			if got := recStrings(sink.recs); !slices.Equal(got, want) {
				t.Fatalf("changelog %q\nwant %q", got, want)
			}
			fresh := openWindow(t, im, cfg)
			if err := fresh.Restore(sink.recs); err != nil {
				t.Fatal(err)
			}
			if got := windowedStrings(t, fresh.All()); !slices.Equal(got, windowedStrings(t, w.All())) || len(got) != 3 {
				t.Fatalf("restored %q", got)
			}
			// A malformed changelog key is an error that names the record.
			if err := fresh.Restore([]ChangelogRecord{{Key: b("short")}}); !errors.Is(err, ErrFormat) {
				t.Fatalf("restore of short key: %v", err)
			}
		})
	}
}

func TestWindowRestoreSkipsExpired(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			w := openWindow(t, im, WindowConfig{Retention: time.Minute, WindowSize: time.Second})
			recs := []ChangelogRecord{
				{Key: WindowStoreKey(b("k"), 1000, 0), Value: b("old")},
				{Key: WindowStoreKey(b("k"), 10*60_000, 0), Value: b("new")},
			}
			if err := w.Restore(recs); err != nil {
				t.Fatal(err)
			}
			if got := fetchStrings(t, w.Fetch(b("k"), 0, math.MaxInt64)); !slices.Equal(got, []string{"600000=new"}) {
				t.Fatalf("after restore %q", got)
			}
			if ids := w.segs.segmentIDs(); len(ids) != 1 {
				t.Fatalf("restore created expired segments: %v", ids)
			}
		})
	}
}

func TestLoggedSessionRestore(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			cfg := SessionConfig{Retention: time.Hour}
			sink := &sliceSink{}
			s := NewLoggedSession(openSession(t, im, cfg), sink, nil)
			s.Put(b("u"), Window{Start: 0, End: 10}, b("1"))
			s.Put(b("u"), Window{Start: 0, End: 30}, b("2"))
			s.Remove(b("u"), Window{Start: 0, End: 10})
			want := []string{
				fmt.Sprintf("%q=1@-1", SessionStoreKey(b("u"), Window{0, 10})),
				fmt.Sprintf("%q=2@-1", SessionStoreKey(b("u"), Window{0, 30})),
				fmt.Sprintf("%q=<tombstone>@-1", SessionStoreKey(b("u"), Window{0, 10})),
			}
			if got := recStrings(sink.recs); !slices.Equal(got, want) {
				t.Fatalf("changelog %q\nwant %q", got, want)
			}
			fresh := openSession(t, im, cfg)
			if err := fresh.Restore(sink.recs); err != nil {
				t.Fatal(err)
			}
			if got := windowedStrings(t, fresh.Fetch(b("u"))); !slices.Equal(got, []string{`"u"@0-30=2`}) {
				t.Fatalf("restored %q", got)
			}
		})
	}
}

func TestLoggedSinkError(t *testing.T) {
	boom := errors.New("producer fenced")
	s := NewLoggedKeyValue(openKV(t, impls[1]), SinkFunc(func(ChangelogRecord) error { return boom }), nil)
	if err := s.Put(b("a"), b("1")); !errors.Is(err, boom) {
		t.Fatalf("Put with failing sink: %v", err)
	}
}

func TestNames(t *testing.T) {
	if got := ChangelogTopic("wordcount", "counts"); got != "wordcount-counts-changelog" {
		t.Errorf("ChangelogTopic = %q", got)
	}
	if got := ChangelogTopicConfigs(false, 0, 0); !maps.Equal(got, map[string]string{"cleanup.policy": "compact"}) {
		t.Errorf("key-value changelog configs %v", got)
	}
	got := ChangelogTopicConfigs(true, time.Hour, DefaultWindowChangelogAdditionalRetention)
	if want := map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "90000000"}; !maps.Equal(got, want) {
		t.Errorf("windowed changelog configs %v, want %v", got, want)
	}
	if got := StoreDir("/var/runnel", "wordcount", "0_3", "counts"); got != "/var/runnel/wordcount/0_3/counts" {
		t.Errorf("StoreDir = %q", got)
	}
}

// TestFullStackRestore stacks typed store → cache → changelog → leveldb as
// the runtime does, commits, loses the store directory, and rebuilds it
// from the changelog: every committed count comes back.
func TestFullStackRestore(t *testing.T) {
	dir := t.TempDir()
	clock := NewClock()
	sink := &sliceSink{}
	cache := newCache(t, 0)
	open := func(sub string) *KeyValueDB {
		db, err := OpenKeyValue(KeyValueConfig{Name: "counts", Dir: StoreDir(dir, "app", "0_0", sub)})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open("counts")
	cached := mustCached(t, NewLoggedKeyValue(db, sink, clock.Now), CachingConfig[[]byte]{Cache: cache, Clock: clock})
	counts := NewKeyValueStore(cached, ChangelogTopic("app", "counts"), serde.String(), serde.Int64())
	words := []string{"a", "b", "a", "c", "a", "b"}
	for i, w := range words {
		clock.Set(int64(i))
		n, _, err := counts.Get(w)
		if err != nil {
			t.Fatal(err)
		}
		if err := counts.Put(w, n+1); err != nil {
			t.Fatal(err)
		}
	}
	if err := counts.Flush(); err != nil { // commit
		t.Fatal(err)
	}
	if len(sink.recs) != 3 {
		t.Fatalf("changelog has %d records after dedup, want 3 (one per word)", len(sink.recs))
	}
	counts.Close()

	fresh := open("counts-restored")
	defer fresh.Close()
	if err := NewLoggedKeyValue(fresh, &sliceSink{}, nil).Restore(sink.recs); err != nil {
		t.Fatal(err)
	}
	restored := NewKeyValueStore[string, int64](fresh, "t", serde.String(), serde.Int64())
	got, err := Collect(restored.All())
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyValue[string, int64]{{"a", 3}, {"b", 2}, {"c", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("restored %v, want %v", got, want)
	}
}
