package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// ErrUnloaded is Replay's error when the partition is unloaded before its
// log is replayed.
var ErrUnloaded = errors.New("coord: partition unloaded")

// Replay reads p's log from its start offset up to its committed end,
// about bufSize bytes at a time, and passes every batch to fn in order.
// It stops at fn's first error, and with ErrUnloaded once p is to be
// unloaded.
func Replay[S any](p *Partition[S], bufSize int, fn func(record.Batch) error) error {
	off := p.Log.StartOffset()
	for {
		select {
		case <-p.stop:
			return ErrUnloaded
		default:
		}
		data, err := p.Log.Read(off, bufSize)
		if err != nil {
			return fmt.Errorf("reading %s-%d at %d: %w", p.cfg.Topic, p.Index, off, err)
		}
		if len(data) == 0 {
			return nil
		}
		for len(data) > 0 {
			b, rest, err := record.Next(data)
			if err != nil {
				return fmt.Errorf("replaying %s-%d at %d: %w", p.cfg.Topic, p.Index, off, err)
			}
			data = rest
			off = b.NextOffset()
			if err := fn(b); err != nil {
				return err
			}
		}
	}
}

// Write is an append a state machine asks for.
type Write struct {
	// Append writes the records to the partition's log. Appends run one
	// at a time, in the order they were asked for, on a writer goroutine
	// of the loop; ctx ends when the partition is unloaded.
	Append func(ctx context.Context) error
	// Done takes the append's outcome; the loop calls it inside Step.
	Done func(err error)
}

// Effects are what one step of a state machine asks of its loop.
type Effects struct {
	// Writes are appends, in order.
	Writes []Write
	// Tasks run concurrently on goroutines the loop owns, with a context
	// that ends when the partition is unloaded. What a task returns runs
	// inside Step (nil: nothing), unless the partition is unloaded first.
	Tasks []func(ctx context.Context) func()
	// Next is the earliest deadline of the state machine; zero for none.
	Next time.Time
}

// Machine is a coordinator's state machine as its partition's loop
// drives it: it never blocks or starts goroutines, and reads the time
// only from Step.
type Machine interface {
	// Step runs fn (nil: nothing) at now, fires the deadlines due by now
	// and returns what the machine now asks for.
	Step(now time.Time, fn func()) Effects
}

// Serve drives a loaded partition's state machine until the partition is
// unloaded: it runs the calls routed to p (which get s), the deadlines,
// the outcomes of appends and those of tasks, each in its own Step. On
// unload, appends waiting for replication and tasks are abandoned (their
// context ends), appends not yet begun fail with Errors.NotCoordinator,
// as do those asked for meanwhile, and Serve returns once every goroutine
// it started has ended.
func Serve[S any](p *Partition[S], s S, m Machine) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := make(chan Write)
	results := make(chan error)
	var writer, tasks sync.WaitGroup
	writer.Go(func() {
		defer close(results)
		for w := range jobs {
			results <- w.Append(ctx)
		}
	})
	outcomes := make(chan func())
	var queue, inflight []Write
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	step := func(fn func()) {
		e := m.Step(time.Now(), fn)
		queue = append(queue, e.Writes...)
		for _, task := range e.Tasks {
			tasks.Go(func() {
				then := task(ctx)
				select {
				case outcomes <- then:
				case <-ctx.Done():
				}
			})
		}
		if !e.Next.IsZero() {
			timer.Reset(time.Until(e.Next))
		} else {
			timer.Stop()
		}
	}
	step(nil)
	for {
		var send chan Write
		var next Write
		if len(queue) > 0 {
			send, next = jobs, queue[0]
		}
		select {
		case op := <-p.ops:
			step(func() { op(s) })
		case send <- next:
			inflight = append(inflight, next)
			queue = queue[1:]
		case err := <-results:
			w := inflight[0]
			inflight = inflight[1:]
			step(func() { w.Done(err) })
		case then := <-outcomes:
			step(then)
		case <-timer.C:
			step(nil)
		case <-p.stop:
			cancel()
			close(jobs)
			var asked []Write // appends asked for while the last ones end
			for err := range results {
				w := inflight[0]
				inflight = inflight[1:]
				asked = append(asked, m.Step(time.Now(), func() { w.Done(err) }).Writes...)
			}
			writer.Wait()
			tasks.Wait()
			for pending := append(append(inflight, queue...), asked...); len(pending) > 0; {
				asked = nil
				for _, w := range pending {
					asked = append(asked, m.Step(time.Now(), func() { w.Done(p.cfg.Errors.NotCoordinator) }).Writes...)
				}
				pending = asked
			}
			return
		}
	}
}
