package streams

import (
	"time"
)

// Processor is one node of a topology written against the Processor API.
// The engine creates one Processor per task from a ProcessorSupplier, calls
// Init once, Process for every record that reaches the node, and Close when
// the task closes. Calls for one task never overlap.
type Processor[KIn, VIn, KOut, VOut any] interface {
	// Init hands the processor its context; keep it to forward records,
	// reach state stores and schedule punctuators.
	Init(ctx ProcessorContext[KOut, VOut])
	// Process handles one record. Report a failure with ctx.Fail.
	Process(r Record[KIn, VIn])
	// Close releases what Init acquired.
	Close()
}

// ProcessorSupplier returns a new Processor for each task.
type ProcessorSupplier[KIn, VIn, KOut, VOut any] func() Processor[KIn, VIn, KOut, VOut]

// PunctuationType chooses the clock a punctuator follows.
type PunctuationType int

const (
	// StreamTime punctuators fire as the task's stream time (the largest
	// record timestamp seen) advances; they never fire without input.
	StreamTime PunctuationType = iota
	// WallClockTime punctuators fire as the system clock advances.
	WallClockTime
)

// String returns Kafka's name of the type.
func (t PunctuationType) String() string {
	if t == WallClockTime {
		return "WALL_CLOCK_TIME"
	}
	return "STREAM_TIME"
}

// Cancellable cancels a scheduled punctuator.
type Cancellable interface {
	Cancel()
}

// StoreGetter is the part of a ProcessorContext that hands out state stores;
// the typed helpers (GetKeyValueStore, …) take it so they work with any
// ProcessorContext type.
type StoreGetter interface {
	StateStore(name string) StateStore
}

// ProcessorContext is a processor's view of its task: forwarding, state
// stores, punctuation and the metadata of the record being processed.
type ProcessorContext[K, V any] interface {
	StoreGetter
	// Forward sends r to every child of this node.
	Forward(r Record[K, V])
	// ForwardTo sends r to the named child only.
	ForwardTo(child string, r Record[K, V])
	// Schedule calls fn every interval of the given clock, passing the
	// punctuation time in milliseconds. Stream-time punctuation is aligned
	// to 0 and fires once stream time reaches it; wall-clock punctuation
	// fires interval after scheduling and every interval after that. Missed
	// punctuations are skipped, not replayed.
	Schedule(interval time.Duration, typ PunctuationType, fn func(ts int64)) Cancellable
	// TaskID names the task running the processor.
	TaskID() TaskID
	// ApplicationID is the application.id of the running application.
	ApplicationID() string
	// Topic, Partition and Offset locate the record being processed; during
	// punctuation Topic is "" and Offset is -1.
	Topic() string
	Partition() int32
	Offset() int64
	// CurrentStreamTime is the task's stream time (-1 before any record).
	CurrentStreamTime() int64
	// CurrentSystemTime is the wall clock in milliseconds.
	CurrentSystemTime() int64
	// Commit asks the engine to commit the task soon.
	Commit()
	// Fail records an error; the task stops and reports it.
	Fail(err error)
}

// anyProcessor is the type-erased node implementation the engine runs.
// DSL operators implement it directly; user processors are adapted.
type anyProcessor interface {
	init(ctx *nodeContext)
	process(r anyRecord)
	close()
}

// userProcessor adapts a typed Processor to the engine.
type userProcessor[KIn, VIn, KOut, VOut any] struct {
	p Processor[KIn, VIn, KOut, VOut]
}

func (u *userProcessor[KIn, VIn, KOut, VOut]) init(ctx *nodeContext) {
	u.p.Init(typedContext[KOut, VOut]{ctx})
}
func (u *userProcessor[KIn, VIn, KOut, VOut]) process(r anyRecord) {
	u.p.Process(typed[KIn, VIn](r))
}
func (u *userProcessor[KIn, VIn, KOut, VOut]) close() { u.p.Close() }

// typedContext is the typed face of a nodeContext.
type typedContext[K, V any] struct{ n *nodeContext }

func (c typedContext[K, V]) Forward(r Record[K, V]) { c.n.forward(erase(r)) }
func (c typedContext[K, V]) ForwardTo(child string, r Record[K, V]) {
	c.n.forwardTo(child, erase(r))
}
func (c typedContext[K, V]) Schedule(interval time.Duration, typ PunctuationType, fn func(ts int64)) Cancellable {
	return c.n.schedule(interval, typ, fn)
}
func (c typedContext[K, V]) StateStore(name string) StateStore { return c.n.stateStore(name) }
func (c typedContext[K, V]) TaskID() TaskID                    { return c.n.task.id }
func (c typedContext[K, V]) ApplicationID() string             { return c.n.task.appID }
func (c typedContext[K, V]) Topic() string                     { return c.n.task.rc.topic }
func (c typedContext[K, V]) Partition() int32                  { return c.n.task.rc.partition }
func (c typedContext[K, V]) Offset() int64                     { return c.n.task.rc.offset }
func (c typedContext[K, V]) CurrentStreamTime() int64          { return c.n.task.streamTime }
func (c typedContext[K, V]) CurrentSystemTime() int64          { return c.n.task.now() }
func (c typedContext[K, V]) Commit()                           { c.n.task.commitRequested = true }
func (c typedContext[K, V]) Fail(err error)                    { c.n.task.fail(err) }

// boundFunc is a stateless engine processor made of one function; most
// stateless DSL operators are one of these.
type boundFunc struct {
	f   func(ctx *nodeContext, r anyRecord)
	ctx *nodeContext
}

func (b *boundFunc) init(ctx *nodeContext) { b.ctx = ctx }
func (b *boundFunc) process(r anyRecord)   { b.f(b.ctx, r) }
func (b *boundFunc) close()                {}

// funcSupplier returns a supplier of stateless processors running f.
func funcSupplier(f func(ctx *nodeContext, r anyRecord)) func() anyProcessor {
	return func() anyProcessor { return &boundFunc{f: f} }
}
