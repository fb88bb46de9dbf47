package txn

import (
	"errors"
	"sync"
	"testing"
)

func TestProducerIDsUniqueAcrossBlocks(t *testing.T) {
	var next int64
	var calls int
	p := NewProducerIDs(func(n int64) (int64, error) {
		calls++
		first := next
		next += n
		return first, nil
	})
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range BlockSize {
				id, err := p.Next()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("producer ID %d given twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 4*BlockSize || calls != 4 {
		t.Fatalf("%d IDs from %d blocks, want %d from 4", len(seen), calls, 4*BlockSize)
	}
}

func TestProducerIDsAllocationError(t *testing.T) {
	boom := errors.New("no quorum")
	p := NewProducerIDs(func(int64) (int64, error) { return 0, boom })
	if _, err := p.Next(); !errors.Is(err, ErrAllocation) || !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}
