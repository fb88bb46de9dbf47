package metadata

import (
	"errors"
	"testing"
)

func TestProducerIDBlocksSurviveRestart(t *testing.T) {
	img, err := Empty("cid").Apply(AllocateProducerIDs(1, 1000), AllocateProducerIDs(1, 2000))
	if err != nil {
		t.Fatal(err)
	}
	if img.NextProducerID != 2000 {
		t.Fatalf("next producer ID %d, want 2000", img.NextProducerID)
	}
	tests := []struct {
		name string
		next int64
	}{
		{"same block again", 2000},
		{"backwards", 1500},
	}
	for _, tt := range tests {
		if _, err := img.Apply(AllocateProducerIDs(1, tt.next)); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: %v, want ErrBadRecord", tt.name, err)
		}
	}
	s := NewStore(t.TempDir())
	if err := s.Save(img); err != nil {
		t.Fatal(err)
	}
	back, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if back.NextProducerID != 2000 {
		t.Fatalf("after reload next producer ID %d, want 2000", back.NextProducerID)
	}
}
