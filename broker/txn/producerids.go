package txn

import (
	"errors"
	"fmt"
	"sync"
)

// BlockSize is the number of producer IDs taken from the controller at a
// time (Kafka's ProducerIdsBlock size).
const BlockSize = 1000

// ErrAllocation means no producer ID could be had: the controller did not
// grant a block.
var ErrAllocation = errors.New("txn: producer ID allocation failed")

// Allocator grants producer ID blocks: it commits a block of n IDs and
// returns its first ID. The controller's AllocateProducerIDs, bound to the
// broker's node ID, is one.
type Allocator func(n int64) (first int64, err error)

// ProducerIDs hands out producer IDs from blocks of the Allocator. It is
// safe for concurrent use.
type ProducerIDs struct {
	alloc Allocator

	mu        sync.Mutex
	next, end int64 // the current block's next ID and end (exclusive)
}

// NewProducerIDs returns a manager taking blocks from alloc.
func NewProducerIDs(alloc Allocator) *ProducerIDs {
	return &ProducerIDs{alloc: alloc}
}

// Next returns a producer ID no one has had before.
func (p *ProducerIDs) Next() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.end {
		first, err := p.alloc(BlockSize)
		if err != nil {
			return -1, fmt.Errorf("%w: %w", ErrAllocation, err)
		}
		if first < 0 {
			return -1, fmt.Errorf("%w: block starts at %d", ErrAllocation, first)
		}
		p.next, p.end = first, first+BlockSize
	}
	id := p.next
	p.next++
	return id, nil
}
