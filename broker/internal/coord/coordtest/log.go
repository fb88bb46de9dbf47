// Package coordtest provides what the coordinators' tests share: an
// in-memory partition log (Log) and the runner of their script tests
// (RunScripts, ParseCmd).
package coordtest

import (
	"context"
	"slices"
	"sync"

	"github.com/runnel/runnel/broker/record"
)

// Log is an in-memory coord.Log: appended batches get offsets, and reads
// return them. The zero value is an empty log. Set the fields before the
// coordinator uses the log, or while every goroutine that does is blocked
// (in a synctest bubble).
type Log struct {
	// AppendErr, when set, fails every append.
	AppendErr error
	// AppendGate, when set, holds appends until it is closed or their
	// context ends.
	AppendGate chan struct{}
	// ReadGate, when set, holds reads until it is closed.
	ReadGate chan struct{}

	mu      sync.Mutex
	batches []record.Batch
	next    int64
}

// Append stores a copy of b at the next offset.
func (l *Log) Append(ctx context.Context, b []byte) error {
	if g := l.AppendGate; g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.AppendErr != nil {
		return l.AppendErr
	}
	batch := record.Batch(append([]byte{}, b...))
	batch.SetBaseOffset(l.next)
	l.next = batch.NextOffset()
	l.batches = append(l.batches, batch)
	return nil
}

// StartOffset is 0.
func (l *Log) StartOffset() int64 { return 0 }

// Read returns the batches from the one holding offset on, about maxBytes
// of them (at least one).
func (l *Log) Read(offset int64, maxBytes int) ([]byte, error) {
	if l.ReadGate != nil {
		<-l.ReadGate
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []byte
	for _, b := range l.batches {
		if b.LastOffset() >= offset && (len(out) == 0 || len(out) < maxBytes) {
			out = append(out, b...)
		}
	}
	return out, nil
}

// Batches returns the batches appended so far, in order.
func (l *Log) Batches() []record.Batch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.batches)
}
