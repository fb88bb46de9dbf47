package state

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/runnel/runnel/streams/serde"
)

func TestTypedKeyValue(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := NewKeyValueStore(openKV(t, im), "app-counts-changelog", serde.String(), serde.Int64())
			for i, k := range []string{"banana", "apple", "cherry", "apricot"} {
				if err := s.Put(k, int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			if v, ok, err := s.Get("apple"); v != 1 || !ok || err != nil {
				t.Fatalf("Get = %d %v %v", v, ok, err)
			}
			if _, ok, _ := s.Get("durian"); ok {
				t.Fatal("absent key found")
			}
			kvs, err := Collect(s.PrefixScan([]byte("ap")))
			if err != nil || len(kvs) != 2 || kvs[0].Key != "apple" || kvs[1].Key != "apricot" {
				t.Fatalf("PrefixScan = %v, %v", kvs, err)
			}
			kvs, _ = Collect(s.ReverseRange("apricot", "banana"))
			if len(kvs) != 2 || kvs[0] != (KeyValue[string, int64]{"banana", 0}) {
				t.Fatalf("ReverseRange = %v", kvs)
			}
			if old, ok, _ := s.PutIfAbsent("apple", 9); !ok || old != 1 {
				t.Fatalf("PutIfAbsent = %d %v", old, ok)
			}
			if old, ok, _ := s.Delete("cherry"); !ok || old != 2 {
				t.Fatalf("Delete = %d %v", old, ok)
			}
			ro := s.ReadOnly()
			if _, ok := ro.(interface{ Put(string, int64) error }); ok {
				t.Fatal("read-only view exposes Put")
			}
			kvs, _ = Collect(ro.All())
			var keys []string
			for _, kv := range kvs {
				keys = append(keys, kv.Key)
			}
			if !slices.Equal(keys, []string{"apple", "apricot", "banana"}) {
				t.Fatalf("All = %v", keys)
			}
			// A value the serde cannot read stops iteration with an error.
			s.Bytes().Put([]byte("bad"), []byte{1})
			if _, err := Collect(s.All()); !errors.Is(err, serde.ErrSize) {
				t.Fatalf("bad value: %v", err)
			}
		})
	}
}

type click struct {
	Page string `json:"page"`
	N    int    `json:"n"`
}

func TestTypedWindowAndSession(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			w := NewWindowStore(openWindow(t, im, WindowConfig{Retention: time.Hour, WindowSize: time.Minute}), "t", serde.String(), serde.JSON[click]())
			w.Put("u1", click{"/", 1}, 0)
			w.Put("u1", click{"/a", 2}, 60_000)
			w.Put("u2", click{"/b", 3}, 60_000)
			got, err := Collect(w.ReadOnly().FetchRange("u1", "u2", 60_000, 60_000))
			want := []KeyValue[Windowed[string], click]{
				{Windowed[string]{"u1", Window{60_000, 120_000}}, click{"/a", 2}},
				{Windowed[string]{"u2", Window{60_000, 120_000}}, click{"/b", 3}},
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("FetchRange = %v, %v", got, err)
			}
			fetched, _ := Collect(w.BackwardFetch("u1", 0, 60_000))
			if len(fetched) != 2 || fetched[0].Key != 60_000 || fetched[1].Value.Page != "/" {
				t.Fatalf("BackwardFetch = %v", fetched)
			}
			if v, ok, _ := w.FetchOne("u2", 60_000); !ok || v.N != 3 {
				t.Fatalf("FetchOne = %v %v", v, ok)
			}
			w.Delete("u2", 60_000)
			if _, ok, _ := w.FetchOne("u2", 60_000); ok {
				t.Fatal("deleted window still there")
			}

			s := NewSessionStore(openSession(t, im, SessionConfig{Retention: time.Hour}), "t", serde.String(), serde.Int64())
			s.Put(Windowed[string]{"u", Window{0, 100}}, 5)
			s.Put(Windowed[string]{"u", Window{500, 600}}, 7)
			sess, _ := Collect(s.ReadOnly().FindSessions("u", 50, 550))
			if len(sess) != 2 || sess[0].Value != 5 || sess[1].Key.Window != (Window{500, 600}) {
				t.Fatalf("FindSessions = %v", sess)
			}
			s.Remove(Windowed[string]{"u", Window{0, 100}})
			if _, ok, _ := s.FetchSession("u", 0, 100); ok {
				t.Fatal("removed session still there")
			}
			if v, ok, _ := s.FetchSession("u", 500, 600); !ok || v != 7 {
				t.Fatalf("FetchSession = %v %v", v, ok)
			}
		})
	}
}
