package streams

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Kafka Streams' suppression name prefixes.
const (
	prefixSuppress      = "KTABLE-SUPPRESS-"
	prefixSuppressStore = "KTABLE-SUPPRESS-STATE-STORE-"
)

// ErrBufferFull is the task error when a suppression buffer configured to
// shut down when full overflows.
var ErrBufferFull = fmt.Errorf("streams: suppression buffer full")

// Suppressed configures Suppress (Kafka's Suppressed).
type Suppressed struct {
	name         string
	finalResults bool
	limit        int64
	maxRecords   int
	shutDown     bool
}

// UntilWindowCloses holds each window's updates until the window closes
// (its end plus grace is behind stream time) and emits only the final
// result, with an unbounded buffer. Only for windowed aggregations.
func UntilWindowCloses() Suppressed { return Suppressed{finalResults: true} }

// UntilTimeLimit holds each key's updates for d of stream time after the
// first one and emits the latest, with an unbounded buffer.
func UntilTimeLimit(d time.Duration) Suppressed { return Suppressed{limit: d.Milliseconds()} }

// WithName names the suppression processor; its buffer store is then
// <name>-store.
func (s Suppressed) WithName(name string) Suppressed { s.name = name; return s }

// EmitEarlyWhenFull bounds the buffer to maxRecords keys, emitting the
// oldest early when it overflows (BufferConfig.maxRecords(n).emitEarlyWhenFull).
func (s Suppressed) EmitEarlyWhenFull(maxRecords int) Suppressed {
	s.maxRecords, s.shutDown = maxRecords, false
	return s
}

// ShutDownWhenFull bounds the buffer to maxRecords keys and fails the task
// with ErrBufferFull when it overflows.
func (s Suppressed) ShutDownWhenFull(maxRecords int) Suppressed {
	s.maxRecords, s.shutDown = maxRecords, true
	return s
}

// Suppress holds back a table's updates (Kafka's KTable.suppress). The
// buffer is kept in a logged store (<name>-store, or
// KTABLE-SUPPRESS-STATE-STORE-<n>), so a restarted task still emits what it
// held; it needs the table's key and value serdes.
func Suppress[K, V any](t Table[K, V], s Suppressed) Table[K, V] {
	b := t.b
	name, storeName := s.name, s.name+"-store"
	if name == "" {
		name, storeName = b.newName(prefixSuppress), b.newName(prefixSuppressStore)
	}
	var grace int64
	var end func(any) int64
	if s.finalResults {
		if t.win == nil {
			b.fail("suppress %q: UntilWindowCloses needs a windowed aggregation", name)
			return t
		}
		grace, end = t.win.grace, t.win.end
	}
	if t.ks == nil || t.vs == nil {
		b.fail("suppress %q: the table's key and value serdes are unknown; give the aggregation WithValueSerde", name)
		return t
	}
	ks, vs := erase1(t.ks), erase1(t.vs)
	b.addStore(&bufferBuilder{name: storeName})
	b.addProcessor(name, func() anyProcessor {
		return &suppressProc{cfg: s, grace: grace, end: end, ks: ks, vs: vs, store: storeName}
	}, t.node)
	b.connect(name, storeName)
	out := t
	out.node, out.store, out.materialize, out.getter = name, "", nil, nil
	return out
}

// buffered is one key's held update, decoded: the store keeps its bytes.
type buffered struct {
	key     any
	kb      []byte
	time    int64 // window end or first record time
	newV    any
	prior   any // the value before the first held update
	ts      int64
	headers Headers
}

// suppressProc is Kafka's KTableSuppressProcessor over its in-memory
// time-ordered buffer (see bufferStore): updates are held per key and
// emitted, oldest buffer time first, once buffer time <= stream time -
// (grace or limit).
type suppressProc struct {
	ctx      *nodeContext
	cfg      Suppressed
	grace    int64
	end      func(any) int64
	ks, vs   erasedSerde
	store    string
	st       *bufferStore
	loaded   bool
	buf      map[string]*buffered
	observed int64
}

func (p *suppressProc) init(ctx *nodeContext) {
	p.ctx, p.buf, p.observed = ctx, map[string]*buffered{}, minTime
	p.st = ctx.stateStore(p.store).(*bufferStore)
}
func (p *suppressProc) close() {}

// load decodes the store's entries, once, so that entries restored from
// the changelog are emitted in time.
func (p *suppressProc) load() error {
	p.loaded = true
	for k, e := range p.st.entries {
		b, err := p.decode([]byte(k), e)
		if err != nil {
			return err
		}
		p.buf[k] = b
		p.observed = max(p.observed, b.ts)
	}
	return nil
}

// decode turns a stored entry into a held update.
func (p *suppressProc) decode(kb []byte, e *bufferEntry) (*buffered, error) {
	topic := p.st.topic()
	key, err := p.ks.deser(topic, kb)
	if err != nil {
		return nil, fmt.Errorf("%w %q: deserialize key: %w", ErrStore, p.store, err)
	}
	b := &buffered{key: key, kb: kb, time: e.time, ts: e.ctx.timestamp, headers: e.ctx.headers}
	for _, x := range []struct {
		b   []byte
		dst *any
	}{{e.new, &b.newV}, {e.prior, &b.prior}} {
		if x.b == nil {
			continue
		}
		if *x.dst, err = p.vs.deser(topic, x.b); err != nil {
			return nil, fmt.Errorf("%w %q: deserialize value: %w", ErrStore, p.store, err)
		}
	}
	return b, nil
}

// serialize returns v's bytes for the buffer, nil for null.
func (p *suppressProc) serialize(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return p.vs.ser(p.st.topic(), v)
}

func (p *suppressProc) process(r anyRecord) {
	if !p.loaded {
		if err := p.load(); err != nil {
			p.ctx.task.fail(err)
			return
		}
	}
	p.observed = max(p.observed, r.Timestamp)
	c := r.Value.(change)
	kb, err := p.ks.ser(p.st.topic(), r.Key)
	if err != nil {
		p.ctx.task.fail(fmt.Errorf("streams: suppress %q: %w", p.ctx.pn.n.name, err))
		return
	}
	t := r.Timestamp
	if p.cfg.finalResults {
		t = p.end(r.Key)
	}
	// A key keeps its place (buffer time) when updated again, as Kafka's
	// non-resetting buffer does.
	nb, err := p.serialize(c.newV)
	var ob []byte
	if err == nil {
		ob, err = p.serialize(c.oldV)
	}
	if err != nil {
		p.ctx.task.fail(fmt.Errorf("streams: suppress %q: %w", p.ctx.pn.n.name, err))
		return
	}
	rc := p.ctx.task.rc
	stored := &bufferEntry{ctx: bufferContext{timestamp: r.Timestamp, offset: rc.offset, topic: rc.topic, partition: rc.partition, headers: r.Headers},
		prior: ob, old: ob, new: nb, time: t}
	e, ok := p.buf[string(kb)]
	if !ok {
		e = &buffered{key: r.Key, kb: kb, prior: c.oldV, time: t}
		p.buf[string(kb)] = e
	} else if prev := p.st.entries[string(kb)]; prev != nil {
		stored.prior = prev.prior
	}
	stored.time = e.time
	e.newV, e.ts, e.headers = c.newV, r.Timestamp, r.Headers
	p.st.put(kb, stored)
	p.enforce()
}

func (p *suppressProc) enforce() {
	wait := p.cfg.limit
	if p.cfg.finalResults {
		wait = p.grace
	}
	expiry := p.observed - wait
	for _, e := range p.ordered() {
		over := p.cfg.maxRecords > 0 && len(p.buf) > p.cfg.maxRecords
		if e.time > expiry && !over {
			break
		}
		if e.time > expiry && p.cfg.shutDown {
			p.ctx.task.fail(fmt.Errorf("%w: %q holds more than %d keys", ErrBufferFull, p.ctx.pn.n.name, p.cfg.maxRecords))
			return
		}
		p.emit(e)
	}
}

// ordered returns the held updates by buffer time, then key bytes.
func (p *suppressProc) ordered() []*buffered {
	out := make([]*buffered, 0, len(p.buf))
	for _, e := range p.buf {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *buffered) int {
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return bytes.Compare(a.kb, b.kb)
	})
	return out
}

func (p *suppressProc) emit(e *buffered) {
	delete(p.buf, string(e.kb))
	p.st.remove(e.kb)
	// Final results never carry deletes (merged sessions).
	if e.newV == nil && p.cfg.finalResults {
		return
	}
	p.ctx.forward(anyRecord{Key: e.key, Value: change{newV: e.newV, oldV: e.prior}, Timestamp: e.ts, Headers: e.headers})
}
