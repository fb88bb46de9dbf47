package controller

import (
	"errors"
	"testing"

	"github.com/runnel/runnel/broker/metadata"
)

func TestAllocateProducerIDsNeverRepeats(t *testing.T) {
	store := metadata.NewStore(t.TempDir())
	c, err := New(Config{Image: metadata.Empty("c"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	var firsts []int64
	for range 2 {
		first, err := c.AllocateProducerIDs(1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, first)
	}
	if _, err := c.AllocateProducerIDs(1, 0); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty block: %v", err)
	}
	// A restarted controller continues after the committed blocks.
	img, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := New(Config{Image: img, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c2.AllocateProducerIDs(1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	firsts = append(firsts, first)
	want := []int64{0, 1000, 2000}
	for i := range want {
		if firsts[i] != want[i] {
			t.Fatalf("block starts %v, want %v", firsts, want)
		}
	}
}
