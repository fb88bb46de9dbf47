package streams

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/runnel/runnel/streams/serde"
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
	b.addStore(&kvBuilder{name: storeName, ks: erase1(serde.Bytes()), vs: erase1(serde.Bytes()), opts: applyStoreOptions(nil)})
	b.addProcessor(name, func() anyProcessor {
		return &suppressProc{cfg: s, grace: grace, end: end, ks: ks, vs: vs, store: storeName}
	}, t.node)
	b.connect(name, storeName)
	out := t
	out.node, out.store, out.materialize, out.getter = name, "", nil, nil
	return out
}

// buffered is one key's held update.
type buffered struct {
	key     any
	kb      []byte
	time    int64 // window end or first record time
	newV    any
	prior   any // the value before the first held update
	ts      int64
	headers Headers
}

// suppressProc is Kafka's KTableSuppressProcessor with an in-memory
// time-ordered buffer: updates are held per key and emitted, oldest buffer
// time first, once buffer time <= stream time - (grace or limit).
type suppressProc struct {
	ctx      *nodeContext
	cfg      Suppressed
	grace    int64
	end      func(any) int64
	ks, vs   erasedSerde
	store    string
	st       *rawKV
	loaded   bool
	buf      map[string]*buffered
	observed int64
}

func (p *suppressProc) init(ctx *nodeContext) {
	p.ctx, p.buf, p.observed = ctx, map[string]*buffered{}, minTime
	p.st = ctx.stateStore(p.store).(*rawKV)
}
func (p *suppressProc) close() {}

// load rebuilds the buffer from the store, once, so a restored store's
// entries are emitted in time.
func (p *suppressProc) load() error {
	p.loaded = true
	all, err := p.st.scan(nil, nil)
	if err != nil {
		return err
	}
	for _, kv := range all {
		e, err := p.decode(kv.Key.([]byte), kv.Value.([]byte))
		if err != nil {
			return err
		}
		p.buf[string(e.kb)] = e
		p.observed = max(p.observed, e.ts)
	}
	return nil
}

// encode writes a held update: buffer time, record time, then the new and
// prior values each as a presence byte, a 4-byte length and the bytes.
func (p *suppressProc) encode(e *buffered) ([]byte, error) {
	out := be64(be64(nil, e.time), e.ts)
	for _, v := range []any{e.newV, e.prior} {
		if v == nil {
			out = append(out, 0)
			continue
		}
		b, err := p.vs.ser(p.store, v)
		if err != nil {
			return nil, err
		}
		out = binary.BigEndian.AppendUint32(append(out, 1), uint32(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

func (p *suppressProc) decode(kb, b []byte) (*buffered, error) {
	bad := fmt.Errorf("%w %q: malformed suppression buffer entry", ErrStore, p.store)
	if len(b) < 16 {
		return nil, bad
	}
	key, err := p.ks.deser(p.store, kb)
	if err != nil {
		return nil, err
	}
	e := &buffered{key: key, kb: kb, time: int64(binary.BigEndian.Uint64(b)), ts: int64(binary.BigEndian.Uint64(b[8:]))}
	rest := b[16:]
	for _, dst := range []*any{&e.newV, &e.prior} {
		if len(rest) < 1 {
			return nil, bad
		}
		if rest[0] == 0 {
			rest = rest[1:]
			continue
		}
		if len(rest) < 5 {
			return nil, bad
		}
		n := int(binary.BigEndian.Uint32(rest[1:]))
		if len(rest) < 5+n {
			return nil, bad
		}
		v, err := p.vs.deser(p.store, rest[5:5+n])
		if err != nil {
			return nil, err
		}
		*dst, rest = v, rest[5+n:]
	}
	return e, nil
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
	kb, err := p.ks.ser(p.store, r.Key)
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
	e, ok := p.buf[string(kb)]
	if !ok {
		e = &buffered{key: r.Key, kb: kb, prior: c.oldV, time: t}
		p.buf[string(kb)] = e
	}
	e.newV, e.ts, e.headers = c.newV, r.Timestamp, r.Headers
	vb, err := p.encode(e)
	if err == nil {
		err = p.st.put(kb, vb, r.Timestamp)
	}
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
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
	if err := p.st.put(e.kb, nil, e.ts); err != nil {
		p.ctx.task.fail(err)
		return
	}
	// Final results never carry deletes (merged sessions).
	if e.newV == nil && p.cfg.finalResults {
		return
	}
	p.ctx.forward(anyRecord{Key: e.key, Value: change{newV: e.newV, oldV: e.prior}, Timestamp: e.ts, Headers: e.headers})
}
