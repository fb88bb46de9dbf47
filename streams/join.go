package streams

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runnel/runnel/state"
)

// Kafka Streams' join name prefixes.
const (
	prefixWindowed        = "KSTREAM-WINDOWED-"
	prefixJoinThis        = "KSTREAM-JOINTHIS-"
	prefixJoinOther       = "KSTREAM-JOINOTHER-"
	prefixOuterThis       = "KSTREAM-OUTERTHIS-"
	prefixOuterOther      = "KSTREAM-OUTEROTHER-"
	prefixStreamTableJoin = "KSTREAM-JOIN-"
	prefixStreamTableLeft = "KSTREAM-LEFTJOIN-"
	prefixTableJoinThis   = "KTABLE-JOINTHIS-"
	prefixTableJoinOther  = "KTABLE-JOINOTHER-"
	prefixTableLeftThis   = "KTABLE-LEFTTHIS-"
	prefixTableLeftOther  = "KTABLE-LEFTOTHER-"
	prefixTableOuterThis  = "KTABLE-OUTERTHIS-"
	prefixTableOuterOther = "KTABLE-OUTEROTHER-"
	prefixTableMerge      = "KTABLE-MERGE-"
)

// JoinWindows bounds a stream-stream join: a left record at time t joins
// right records in [t-before, t+after] (Kafka's JoinWindows).
type JoinWindows struct {
	before, after, grace int64
}

// JoinTimeDifference returns symmetric join windows: records join when
// their timestamps differ by at most d, with no grace period
// (JoinWindows.ofTimeDifferenceWithNoGrace).
func JoinTimeDifference(d time.Duration) JoinWindows {
	ms := d.Milliseconds()
	return JoinWindows{before: ms, after: ms}
}

// Before sets how far back in time a left record looks for right records.
func (w JoinWindows) Before(d time.Duration) JoinWindows { w.before = d.Milliseconds(); return w }

// After sets how far forward in time a left record looks for right
// records.
func (w JoinWindows) After(d time.Duration) JoinWindows { w.after = d.Milliseconds(); return w }

// Grace sets how long after a window closes out-of-order records still
// join; it also delays left/outer join results without a match.
func (w JoinWindows) Grace(d time.Duration) JoinWindows { w.grace = d.Milliseconds(); return w }

// joinKind is inner, left or outer.
type joinKind int

const (
	innerJoin joinKind = iota
	leftJoin
	outerJoin
)

// Join joins two streams on key within join windows (Kafka's
// KStream.join): every pair of left and right records with equal keys and
// timestamps within the windows yields joiner(key, left, right), stamped
// with the larger timestamp. Streams whose keys may have changed are
// repartitioned first. Options: Named, Materialized (the base name of the
// two window stores), WithKeySerde, WithValueSerde (left),
// WithOtherValueSerde (right).
func Join[K, VL, VR, VO any](left Stream[K, VL], right Stream[K, VR], joiner func(k K, l VL, r VR) VO, w JoinWindows, opts ...Option) Stream[K, VO] {
	return streamJoin[K, VL, VR, VO](left, right, innerJoin, func(k any, l, r any) any {
		return joiner(as[K](k), as[VL](l), as[VR](r))
	}, w, opts)
}

// LeftJoin joins like Join and also emits joiner(key, left, nil) for left
// records that found no match, once their window has closed (after the
// grace period), so no spurious unmatched results appear.
func LeftJoin[K, VL, VR, VO any](left Stream[K, VL], right Stream[K, VR], joiner func(k K, l VL, r *VR) VO, w JoinWindows, opts ...Option) Stream[K, VO] {
	return streamJoin[K, VL, VR, VO](left, right, leftJoin, func(k any, l, r any) any {
		return joiner(as[K](k), as[VL](l), ptr[VR](r))
	}, w, opts)
}

// OuterJoin joins like LeftJoin and also emits joiner(key, nil, right) for
// unmatched right records.
func OuterJoin[K, VL, VR, VO any](left Stream[K, VL], right Stream[K, VR], joiner func(k K, l *VL, r *VR) VO, w JoinWindows, opts ...Option) Stream[K, VO] {
	return streamJoin[K, VL, VR, VO](left, right, outerJoin, func(k any, l, r any) any {
		return joiner(as[K](k), ptr[VL](l), ptr[VR](r))
	}, w, opts)
}

// ptr returns a pointer to the engine value, or nil for null.
func ptr[T any](v any) *T {
	if v == nil {
		return nil
	}
	x := v.(T)
	return &x
}

// repartitionForJoin repartitions s when its key may have changed, naming
// the topic after prefix. Like Kafka, a stream joined several times under
// the same repartition name writes one repartition topic, reused.
func repartitionForJoin[K, V any](s Stream[K, V], prefix string, ks Serde[K], vs Serde[V]) Stream[K, V] {
	if !s.repartition {
		return s
	}
	if ks == nil || vs == nil {
		s.b.fail("join: stream %q must be repartitioned; pass WithKeySerde and value serdes", s.node)
		return s
	}
	key := s.node + "\x00" + prefix
	src, ok := s.b.joinRepartitions[key]
	if ok {
		// Kafka generates (and discards) the names of a new repartition
		// before reusing the old one, so the index still advances.
		s.b.newName(prefixSink)
		s.b.newName(prefixFilter)
		s.b.newName(prefixSource)
	} else {
		src = repartitionThrough[K, V](s.b, s.node, prefix, ks, vs, nil)
		s.b.joinRepartitions[key] = src
	}
	return Stream[K, V]{b: s.b, node: src, ks: ks, vs: vs}
}

func streamJoin[K, VL, VR, VO any](left Stream[K, VL], right Stream[K, VR], kind joinKind, joiner func(k, l, r any) any, w JoinWindows, opts []Option) Stream[K, VO] {
	b := left.b
	o := applyOptions(opts)
	ks := serdeOr[K](b, o.keySerde, firstSerde(left.ks, right.ks), "join")
	lvs := left.vs
	if o.valueSerde != nil {
		lvs = serdeOr[VL](b, o.valueSerde, nil, "join")
	}
	rvs := right.vs
	if o.otherSerde != nil {
		rvs = serdeOr[VR](b, o.otherSerde, nil, "join")
	}
	lp, rp := left.node, right.node
	if o.name != "" {
		lp, rp = o.name+"-left", o.name+"-right"
	}
	left = repartitionForJoin(left, lp, ks, lvs)
	right = repartitionForJoin(right, rp, ks, rvs)
	if lvs == nil || rvs == nil {
		b.fail("join: the value serdes of both streams are required for the join stores")
		return Stream[K, VO]{b: b}
	}

	named := func(suffix, prefix string) string {
		// Kafka burns an index even for named operators, so later
		// generated names do not depend on naming.
		gen := b.newName(prefix)
		if o.name != "" {
			return o.name + suffix
		}
		return gen
	}
	thisWindowed := named("-this-windowed", prefixWindowed)
	otherWindowed := named("-other-windowed", prefixWindowed)
	leftOuter, rightOuter := kind != innerJoin, kind == outerJoin
	thisGen, otherGen := prefixJoinThis, prefixJoinOther
	thisSuffix, otherSuffix := "-this-join", "-other-join"
	if rightOuter {
		thisGen, thisSuffix = prefixOuterThis, "-outer-this-join"
	}
	if leftOuter {
		otherGen, otherSuffix = prefixOuterOther, "-outer-other-join"
	}
	thisGenName, otherGenName := b.newName(thisGen), b.newName(otherGen)
	thisName, otherName := thisGenName, otherGenName
	if o.name != "" {
		thisName, otherName = o.name+thisSuffix, o.name+otherSuffix
	}
	mergeName := named("-merge", prefixMerge)

	thisStore, otherStore := thisGenName+"-store", otherGenName+"-store"
	sharedStore := strings.Replace(strings.Replace(thisGenName, "JOINTHIS", "OUTERSHARED", 1), "OUTERTHIS", "OUTERSHARED", 1) + "-store"
	if o.storeName != "" {
		thisStore, otherStore = o.storeName+thisSuffix+"-store", o.storeName+otherSuffix+"-store"
		sharedStore = o.storeName + "-outer-shared-join-store"
	}
	size := w.before + w.after
	retention := size + w.grace
	storeOpts := applyStoreOptions(o.storeOpts)
	b.addStore(&winBuilder{name: thisStore, retention: retention, size: size, dupes: true, ks: erase1(ks), vs: erase1(lvs), opts: storeOpts})
	b.addStore(&winBuilder{name: otherStore, retention: retention, size: size, dupes: true, ks: erase1(ks), vs: erase1(rvs), opts: storeOpts})

	b.addProcessor(thisWindowed, func() anyProcessor { return &joinWindowProc{store: thisStore} }, left.node)
	b.connect(thisWindowed, thisStore)
	b.addProcessor(otherWindowed, func() anyProcessor { return &joinWindowProc{store: otherStore} }, right.node)
	b.connect(otherWindowed, otherStore)

	shared := ""
	if leftOuter {
		shared = sharedStore
		b.addStore(&outerBuilder{name: sharedStore, ks: erase1(ks), lvs: erase1(lvs), rvs: erase1(rvs), opts: storeOpts})
	}
	tracker := mergeName // the key both sides share their time tracker under
	b.addProcessor(thisName, func() anyProcessor {
		return &streamJoinProc{left: true, outer: leftOuter, otherStore: otherStore, shared: shared, tracker: tracker,
			before: w.before, after: w.after, w: w, joiner: joiner}
	}, thisWindowed)
	b.connect(thisName, otherStore)
	b.addProcessor(otherName, func() anyProcessor {
		return &streamJoinProc{left: false, outer: rightOuter, otherStore: thisStore, shared: shared, tracker: tracker,
			before: w.after, after: w.before, w: w, joiner: joiner}
	}, otherWindowed)
	b.connect(otherName, thisStore)
	if shared != "" {
		b.connect(thisName, shared)
		b.connect(otherName, shared)
	}
	b.addProcessor(mergeName, funcSupplier(func(ctx *nodeContext, r anyRecord) { ctx.forward(r) }), thisName, otherName)
	return Stream[K, VO]{b: b, node: mergeName, ks: ks}
}

func firstSerde[T any](a, b Serde[T]) Serde[T] {
	if a != nil {
		return a
	}
	return b
}

// joinWindowProc forwards each record to its join processor, then buffers
// it in its side's window store at its timestamp (Kafka's
// KStreamJoinWindow).
type joinWindowProc struct {
	ctx   *nodeContext
	store string
	st    *rawWin
}

func (p *joinWindowProc) init(ctx *nodeContext) {
	p.ctx = ctx
	p.st = ctx.stateStore(p.store).(*rawWin)
}
func (p *joinWindowProc) close() {}
func (p *joinWindowProc) process(r anyRecord) {
	p.ctx.forward(r)
	if !isNull(r.Key) && !isNull(r.Value) {
		if err := p.st.put(r.Key, r.Value, r.Timestamp, r.Timestamp); err != nil {
			p.ctx.task.fail(err)
		}
	}
}

// joinTimes is the stream time both sides of one join share in a task, and
// the smallest timestamp waiting in the outer-join store.
type joinTimes struct {
	streamTime int64
	minTime    int64
}

// streamJoinProc is one side of a stream-stream join (Kafka's
// KStreamKStreamJoin with the fix for spurious left/outer results, KIP-633
// and KAFKA-10847): unmatched records of an outer side wait in the shared
// store until their window closes, and are emitted then only if no match
// arrived meanwhile.
type streamJoinProc struct {
	ctx           *nodeContext
	left, outer   bool
	otherStore    string
	shared        string
	tracker       string
	before, after int64 // this side's view: other records in [t-before, t+after]
	w             JoinWindows
	joiner        func(k, l, r any) any
	other         *rawWin
	outerSt       *outerStore
	times         *joinTimes
}

func (p *streamJoinProc) init(ctx *nodeContext) {
	p.ctx = ctx
	p.other = ctx.stateStore(p.otherStore).(*rawWin)
	if p.shared != "" {
		p.outerSt = ctx.stateStore(p.shared).(*outerStore)
	}
	t, ok := ctx.task.shared[p.tracker].(*joinTimes)
	if !ok {
		t = &joinTimes{streamTime: minTime, minTime: maxTime}
		ctx.task.shared[p.tracker] = t
	}
	p.times = t
}
func (p *streamJoinProc) close() {}

// join calls the joiner with the values in left/right order.
func (p *streamJoinProc) join(k, this, other any) any {
	if p.left {
		return p.joiner(k, this, other)
	}
	return p.joiner(k, other, this)
}

func (p *streamJoinProc) process(r anyRecord) {
	ts := r.Timestamp
	p.times.streamTime = max(p.times.streamTime, ts)
	if p.outer && isNull(r.Key) && !isNull(r.Value) {
		p.ctx.forward(anyRecord{Key: r.Key, Value: p.join(r.Key, r.Value, nil), Timestamp: ts, Headers: r.Headers})
		return
	}
	if isNull(r.Key) || isNull(r.Value) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key or value")
		return
	}
	if ts == p.times.streamTime && p.outerSt != nil {
		p.emitNonJoined(r)
		if p.ctx.task.err != nil {
			return
		}
	}
	from, to := max(0, ts-p.before), max(0, ts+p.after)
	matches, err := p.other.fetch(r.Key, from, to)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	for _, m := range matches {
		if p.outerSt != nil {
			// The other record found a partner: it must not be emitted as
			// unmatched later.
			if err := p.outerSt.remove(m.start, !p.left, r.Key); err != nil {
				p.ctx.task.fail(err)
				return
			}
		}
		p.ctx.forward(anyRecord{Key: r.Key, Value: p.join(r.Key, r.Value, m.value), Timestamp: max(ts, m.start), Headers: r.Headers})
	}
	if p.outer && len(matches) == 0 {
		if p.outerSt == nil || to < p.times.streamTime {
			p.ctx.forward(anyRecord{Key: r.Key, Value: p.join(r.Key, r.Value, nil), Timestamp: ts, Headers: r.Headers})
			return
		}
		p.times.minTime = min(p.times.minTime, ts)
		if err := p.outerSt.add(ts, p.left, r.Key, r.Value); err != nil {
			p.ctx.task.fail(err)
		}
	}
}

// emitNonJoined emits the waiting unmatched records whose windows closed,
// in timestamp order, and removes them.
func (p *streamJoinProc) emitNonJoined(r anyRecord) {
	t := p.times
	if t.minTime != maxTime && t.minTime+p.after+p.w.grace >= t.streamTime {
		return
	}
	entries, err := p.outerSt.all()
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	t.minTime = maxTime
	leftOpen, rightOpen := false, false
	for _, e := range entries {
		t.minTime = e.ts
		if leftOpen && rightOpen {
			break
		}
		lookBack := p.w.before
		if e.left {
			lookBack = p.w.after
		}
		if e.ts+lookBack+p.w.grace >= t.streamTime {
			if e.left {
				leftOpen = true
			} else {
				rightOpen = true
			}
			continue
		}
		for _, v := range e.values {
			var out any
			if e.left {
				out = p.joiner(e.key, v, nil)
			} else {
				out = p.joiner(e.key, nil, v)
			}
			p.ctx.forward(anyRecord{Key: e.key, Value: out, Timestamp: e.ts, Headers: r.Headers})
		}
		if err := p.outerSt.delete(e.raw); err != nil {
			p.ctx.task.fail(err)
			return
		}
	}
	if len(entries) == 0 || (!leftOpen && !rightOpen) {
		t.minTime = maxTime
	}
}

// outerBuilder builds the store shared by the two sides of a left or
// outer stream-stream join, holding unmatched records until their window
// closes.
type outerBuilder struct {
	name         string
	ks, lvs, rvs erasedSerde
	opts         storeOptions
}

func (b *outerBuilder) Name() string { return b.name }
func (b *outerBuilder) Logged() bool { return !b.opts.loggingOff }
func (b *outerBuilder) open(env storeEnv) (storeImpl, error) {
	db, err := state.OpenKeyValue(state.KeyValueConfig{Name: b.name, Dir: env.dir, InMemory: env.inMemory(b.opts), Logger: loggerOf(env)})
	if err != nil {
		return nil, err
	}
	s := &outerStore{outerBuilder: b, db: db, b: db, env: env}
	if sink := env.sink(false); sink != nil {
		s.b = state.NewLoggedKeyValue(db, sink, env.now)
	}
	return s, nil
}

// outerStore keys entries as Kafka's TimestampedKeyAndJoinSide:
// timestamp (int64 big-endian) ‖ side (1 left, 0 right) ‖ key, so they
// iterate in time order. A value is the list of those records' values in
// Kafka's ListValueStore format (see encodeValueList).
type outerStore struct {
	*outerBuilder
	env storeEnv
	db  *state.KeyValueDB
	b   state.KeyValueBytes
}

func (s *outerStore) Name() string { return s.name }
func (s *outerStore) Flush() error { return s.b.Flush() }
func (s *outerStore) Close() error { return s.b.Close() }
func (s *outerStore) Restore(records []state.ChangelogRecord) error {
	return s.db.Restore(records)
}

// topic is what keys and values are serialized for: the changelog topic,
// as Kafka's metered stores do, or the store name when logging is off.
func (s *outerStore) topic() string {
	if s.env.changelog != "" {
		return s.env.changelog
	}
	return s.name
}

func (s *outerStore) key(ts int64, left bool, k any) ([]byte, error) {
	kb, err := s.ks.ser(s.topic(), k)
	if err != nil {
		return nil, fmt.Errorf("%w %q: serialize key: %w", ErrStore, s.name, err)
	}
	side := byte(0)
	if left {
		side = 1
	}
	return append(append(be64(nil, ts), side), kb...), nil
}

func (s *outerStore) add(ts int64, left bool, k, v any) error {
	key, err := s.key(ts, left, k)
	if err != nil {
		return err
	}
	vs, side := s.rvs, byte(0)
	if left {
		vs, side = s.lvs, 1
	}
	vb, err := vs.ser(s.topic(), v)
	if err != nil {
		return fmt.Errorf("%w %q: serialize value: %w", ErrStore, s.name, err)
	}
	old, err := s.b.Get(key)
	if err != nil {
		return err
	}
	items, err := splitValueList(old)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrStore, s.name, err)
	}
	return s.b.Put(key, encodeValueList(append(items, append([]byte{side}, vb...))))
}

func (s *outerStore) remove(ts int64, left bool, k any) error {
	key, err := s.key(ts, left, k)
	if err != nil {
		return err
	}
	old, err := s.b.Get(key)
	if err != nil || old == nil {
		return err
	}
	_, err = s.b.Delete(key)
	return err
}

func (s *outerStore) delete(raw []byte) error {
	_, err := s.b.Delete(raw)
	return err
}

// outerEntry is one key of the outer store, decoded.
type outerEntry struct {
	raw    []byte
	ts     int64
	left   bool
	key    any
	values []any
}

var errOuterFormat = errors.New("streams: malformed outer join store entry")

// The outer store's values are Kafka's ListValueStore values: a list
// serialized by Kafka's ListSerializer over byte arrays (strategy byte 1,
// VARIABLE_SIZE; int32 count; each entry an int32 length and the bytes),
// each entry a LeftOrRightValue (1 for a left value, 0 for a right one,
// then the value's bytes). Its changelog carries the whole list.
const listVariableSize = 1

// encodeValueList writes entries as a Kafka list of byte arrays.
func encodeValueList(items [][]byte) []byte {
	n := 5
	for _, it := range items {
		n += 4 + len(it)
	}
	out := binary.BigEndian.AppendUint32(append(make([]byte, 0, n), listVariableSize), uint32(len(items)))
	for _, it := range items {
		out = append(binary.BigEndian.AppendUint32(out, uint32(len(it))), it...)
	}
	return out
}

// splitValueList returns the entries of a Kafka list of byte arrays; nil
// data is the empty list.
func splitValueList(data []byte) ([][]byte, error) {
	if data == nil {
		return nil, nil
	}
	if len(data) < 5 || data[0] != listVariableSize {
		return nil, fmt.Errorf("%w: list header", errOuterFormat)
	}
	count := binary.BigEndian.Uint32(data[1:])
	if uint64(count) > uint64(len(data)-5)/4 {
		return nil, fmt.Errorf("%w: list of %d entries in %d bytes", errOuterFormat, count, len(data))
	}
	items := make([][]byte, 0, count)
	rest := data[5:]
	for range count {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: short list", errOuterFormat)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("%w: list entry of %d bytes", errOuterFormat, int32(n))
		}
		items = append(items, rest[4:4+n])
		rest = rest[4+n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the list", errOuterFormat, len(rest))
	}
	return items, nil
}

// decodeValueList decodes an outer-join store value into its values, each
// read with the serde of its side.
func decodeValueList(lvs, rvs erasedSerde, topic string, data []byte) ([]any, error) {
	items, err := splitValueList(data)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		if len(it) < 1 || it[0] > 1 {
			return nil, fmt.Errorf("%w: bad side flag", errOuterFormat)
		}
		vs := rvs
		if it[0] == 1 {
			vs = lvs
		}
		v, err := vs.deser(topic, it[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *outerStore) all() ([]outerEntry, error) {
	raw, err := state.Collect(s.b.All())
	if err != nil {
		return nil, err
	}
	out := make([]outerEntry, 0, len(raw))
	for _, kv := range raw {
		if len(kv.Key) < 9 {
			return nil, errOuterFormat
		}
		e := outerEntry{raw: kv.Key, ts: int64(binary.BigEndian.Uint64(kv.Key)), left: kv.Key[8] == 1}
		if e.key, err = s.ks.deser(s.topic(), kv.Key[9:]); err != nil {
			return nil, err
		}
		if e.values, err = decodeValueList(s.lvs, s.rvs, s.topic(), kv.Value); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// JoinTable joins a stream with a table (Kafka's KStream.join(KTable)):
// each stream record with a matching table row yields joiner(key, value,
// row), stamped with the stream record's time; table updates produce no
// output. The stream is repartitioned first if its key may have changed.
// Options: Named, WithKeySerde, WithValueSerde.
func JoinTable[K, V, VT, VO any](s Stream[K, V], t Table[K, VT], joiner func(k K, v V, row VT) VO, opts ...Option) Stream[K, VO] {
	return streamTableJoin[K, V, VT, VO](s, t, false, func(k, v, row any) any { return joiner(as[K](k), as[V](v), as[VT](row)) }, opts)
}

// LeftJoinTable is JoinTable that also emits joiner(key, value, nil) when
// the table has no row for the key.
func LeftJoinTable[K, V, VT, VO any](s Stream[K, V], t Table[K, VT], joiner func(k K, v V, row *VT) VO, opts ...Option) Stream[K, VO] {
	return streamTableJoin[K, V, VT, VO](s, t, true, func(k, v, row any) any { return joiner(as[K](k), as[V](v), ptr[VT](row)) }, opts)
}

func streamTableJoin[K, V, VT, VO any](s Stream[K, V], t Table[K, VT], left bool, joiner func(k, v, row any) any, opts []Option) Stream[K, VO] {
	b := s.b
	o := applyOptions(opts)
	prefix := s.node
	if o.name != "" {
		prefix = o.name
	}
	ks := serdeOr[K](b, o.keySerde, firstSerde(s.ks, t.ks), "stream-table join")
	vs := s.vs
	if o.valueSerde != nil {
		vs = serdeOr[V](b, o.valueSerde, nil, "stream-table join")
	}
	s = repartitionForJoin(s, prefix, ks, vs)
	g := t.needGetter()
	pfx := prefixStreamTableJoin
	if left {
		pfx = prefixStreamTableLeft
	}
	name := b.nameOr(o.name, pfx)
	if g == nil {
		b.fail("join %q: the table cannot be read; materialize it", name)
		return Stream[K, VO]{b: b}
	}
	b.addProcessor(name, func() anyProcessor {
		return &lookupJoinProc{getter: g, left: left, joiner: joiner, mapKey: func(k, v any) any { return k }}
	}, s.node)
	b.connect(name, g.stores...)
	return Stream[K, VO]{b: b, node: name, ks: ks}
}

// lookupJoinProc joins stream records with a table looked up by key
// (Kafka's KStreamKTableJoinProcessor).
type lookupJoinProc struct {
	ctx    *nodeContext
	getter *getterSupplier
	get    valueGetter
	left   bool
	joiner func(k, v, row any) any
	mapKey func(k, v any) any
}

func (p *lookupJoinProc) init(ctx *nodeContext) { p.ctx, p.get = ctx, p.getter.make(ctx) }
func (p *lookupJoinProc) close()                {}
func (p *lookupJoinProc) process(r anyRecord) {
	if isNull(r.Value) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null value")
		return
	}
	lookup := p.mapKey(r.Key, r.Value)
	if isNull(lookup) {
		if p.left {
			p.ctx.forward(anyRecord{Key: r.Key, Value: p.joiner(r.Key, r.Value, nil), Timestamp: r.Timestamp, Headers: r.Headers})
		} else {
			p.ctx.task.drop(p.ctx.pn.n.name, "null key")
		}
		return
	}
	row, _, ok, err := p.get(lookup)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !ok {
		row = nil
	}
	if ok || p.left {
		p.ctx.forward(anyRecord{Key: r.Key, Value: p.joiner(r.Key, r.Value, row), Timestamp: r.Timestamp, Headers: r.Headers})
	}
}

// GlobalTable is a table fully replicated to every task of the
// application (Kafka's GlobalKTable); it can only be joined with streams.
type GlobalTable[K, V any] struct {
	b     *Builder
	store string
}

// StoreName returns the name of the global table's store.
func (g GlobalTable[K, V]) StoreName() string { return g.store }

// GlobalTableOf reads topic into a global table kept in a key-value store
// in every instance; the topic is its changelog, so the store is not
// logged. Options: Named (names the processor, and the source
// <name>-source), Materialized.
func GlobalTableOf[K, V any](b *Builder, topic string, keySerde Serde[K], valueSerde Serde[V], opts ...Option) GlobalTable[K, V] {
	o := applyOptions(opts)
	storeName := o.storeName
	if storeName == "" {
		storeName = b.newName(topic + "-STATE-STORE-")
	}
	srcName, procName := tableSourceNames(b, o.name)
	if keySerde == nil || valueSerde == nil {
		b.fail("global table %q: key and value serdes are required", topic)
		return GlobalTable[K, V]{b: b}
	}
	b.addSource(&node{name: srcName, topics: []string{topic}, deser: deserializer(keySerde, valueSerde), global: true})
	b.addProcessor(procName, func() anyProcessor { return &tableSourceProc{store: storeName} }, srcName)
	so := applyStoreOptions(o.storeOpts)
	so.loggingOff = true
	b.addStore(&kvBuilder{name: storeName, ks: erase1(keySerde), vs: erase1(valueSerde), opts: so})
	b.connect(procName, storeName)
	b.byName[procName].global = true
	return GlobalTable[K, V]{b: b, store: storeName}
}

// JoinGlobal joins a stream with a global table, looking rows up by
// keyMapper(key, value) (Kafka's KStream.join(GlobalKTable)); no
// repartitioning is needed. Options: Named.
func JoinGlobal[K, V, GK, GV, VO any](s Stream[K, V], g GlobalTable[GK, GV], keyMapper func(K, V) GK, joiner func(k K, v V, row GV) VO, opts ...Option) Stream[K, VO] {
	return globalJoin[K, V, GK, GV, VO](s, g, false, keyMapper, func(k, v, row any) any { return joiner(as[K](k), as[V](v), as[GV](row)) }, opts)
}

// LeftJoinGlobal is JoinGlobal that also emits joiner(key, value, nil)
// when the global table has no row.
func LeftJoinGlobal[K, V, GK, GV, VO any](s Stream[K, V], g GlobalTable[GK, GV], keyMapper func(K, V) GK, joiner func(k K, v V, row *GV) VO, opts ...Option) Stream[K, VO] {
	return globalJoin[K, V, GK, GV, VO](s, g, true, keyMapper, func(k, v, row any) any { return joiner(as[K](k), as[V](v), ptr[GV](row)) }, opts)
}

func globalJoin[K, V, GK, GV, VO any](s Stream[K, V], g GlobalTable[GK, GV], left bool, keyMapper func(K, V) GK, joiner func(k, v, row any) any, opts []Option) Stream[K, VO] {
	b := s.b
	o := applyOptions(opts)
	pfx := prefixStreamTableJoin
	if left {
		pfx = prefixStreamTableLeft
	}
	name := b.nameOr(o.name, pfx)
	// The global store is not connected (that would tie the sub-topology
	// to the global one); the processor finds it through the global task.
	getter := &getterSupplier{make: storeGetter(g.store)}
	b.addProcessor(name, func() anyProcessor {
		return &lookupJoinProc{getter: getter, left: left, joiner: joiner, mapKey: func(k, v any) any {
			return keyMapper(as[K](k), as[V](v))
		}}
	}, s.node)
	return Stream[K, VO]{b: b, node: name, ks: s.ks, repartition: s.repartition}
}

// JoinTables joins two tables on key (Kafka's KTable.join): the result
// has a row for every key with rows on both sides, updated whenever either
// side changes. Options: Named, Materialized (keeps the result in a
// store), WithValueSerde (the result's serde, needed to materialize).
func JoinTables[K, VL, VR, VO any](l Table[K, VL], r Table[K, VR], joiner func(k K, l VL, r VR) VO, opts ...Option) Table[K, VO] {
	return tableJoin[K, VL, VR, VO](l, r, innerJoin, func(k, a, b any) any { return joiner(as[K](k), as[VL](a), as[VR](b)) }, opts)
}

// LeftJoinTables is JoinTables keeping every left row; r is nil when the
// right table has no row.
func LeftJoinTables[K, VL, VR, VO any](l Table[K, VL], r Table[K, VR], joiner func(k K, l VL, r *VR) VO, opts ...Option) Table[K, VO] {
	return tableJoin[K, VL, VR, VO](l, r, leftJoin, func(k, a, b any) any { return joiner(as[K](k), as[VL](a), ptr[VR](b)) }, opts)
}

// OuterJoinTables is JoinTables keeping the rows of both sides.
func OuterJoinTables[K, VL, VR, VO any](l Table[K, VL], r Table[K, VR], joiner func(k K, l *VL, r *VR) VO, opts ...Option) Table[K, VO] {
	return tableJoin[K, VL, VR, VO](l, r, outerJoin, func(k, a, b any) any { return joiner(as[K](k), ptr[VL](a), ptr[VR](b)) }, opts)
}

func tableJoin[K, VL, VR, VO any](l Table[K, VL], r Table[K, VR], kind joinKind, joiner func(k, l, r any) any, opts []Option) Table[K, VO] {
	b := l.b
	o := applyOptions(opts)
	lg, rg := l.needGetter(), r.needGetter()
	thisPfx, otherPfx := prefixTableJoinThis, prefixTableJoinOther
	switch kind {
	case leftJoin:
		thisPfx, otherPfx = prefixTableLeftThis, prefixTableLeftOther
	case outerJoin:
		thisPfx, otherPfx = prefixTableOuterThis, prefixTableOuterOther
	}
	named := func(suffix, prefix string) string {
		// Kafka burns an index even for named operators, so later
		// generated names do not depend on naming.
		gen := b.newName(prefix)
		if o.name != "" {
			return o.name + suffix
		}
		return gen
	}
	// Kafka names the merge first, then the two sides.
	mergeName := b.nameOr(o.name, prefixTableMerge)
	thisName, otherName := named("-join-this", thisPfx), named("-join-other", otherPfx)
	if lg == nil || rg == nil {
		b.fail("table join %q: both tables must be readable; materialize them", mergeName)
		return Table[K, VO]{b: b}
	}
	b.addProcessor(thisName, func() anyProcessor {
		return &tableJoinProc{getter: rg, this: true, kind: kind, joiner: joiner}
	}, l.node)
	b.connect(thisName, rg.stores...)
	b.addProcessor(otherName, func() anyProcessor {
		return &tableJoinProc{getter: lg, this: false, kind: kind, joiner: joiner}
	}, r.node)
	b.connect(otherName, lg.stores...)
	out := Table[K, VO]{b: b, node: mergeName, ks: firstSerde(l.ks, r.ks)}
	if o.valueSerde != nil {
		out.vs = serdeOr[VO](b, o.valueSerde, nil, "table join "+mergeName)
	}
	storeName := o.storeName
	b.addProcessor(mergeName, func() anyProcessor { return &deriveProc{f: func(_, v any) any { return v }, store: storeName} }, thisName, otherName)
	if storeName != "" {
		if out.vs == nil || out.ks == nil {
			b.fail("table join %q: serdes are required to materialize %q", mergeName, storeName)
			return out
		}
		b.addStore(&kvBuilder{name: storeName, ks: erase1(out.ks), vs: erase1(out.vs), opts: dslStoreOptions(o.storeOpts)})
		b.connect(mergeName, storeName)
		out.store = storeName
		out.getter = &getterSupplier{stores: []string{storeName}, make: storeGetter(storeName)}
	}
	return out
}

// tableJoinProc is one side of a table-table join (Kafka's
// KTableKTableInnerJoin, LeftJoin, RightJoin and OuterJoin): a change on
// this side is joined with the other side's current row.
type tableJoinProc struct {
	ctx    *nodeContext
	getter *getterSupplier
	get    valueGetter
	this   bool // the left table's side
	kind   joinKind
	joiner func(k, l, r any) any
}

func (p *tableJoinProc) init(ctx *nodeContext) { p.ctx, p.get = ctx, p.getter.make(ctx) }
func (p *tableJoinProc) close()                {}

func (p *tableJoinProc) process(r anyRecord) {
	if isNull(r.Key) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key")
		return
	}
	c := r.Value.(change)
	other, otherTS, ok, err := p.get(r.Key)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !ok {
		other = nil
	}
	// Does a missing row on this side or the other still give a result?
	keepThis := p.kind != innerJoin && (p.this || p.kind == outerJoin) // this side's rows survive a missing other row
	keepOther := p.kind != innerJoin && (!p.this || p.kind == outerJoin)
	if other == nil && !keepThis {
		return
	}
	if other == nil && c.newV == nil && c.oldV == nil {
		return
	}
	ts := r.Timestamp
	if other != nil {
		ts = max(ts, otherTS)
	}
	apply := func(v any) any {
		if v == nil && !(other != nil && keepOther) {
			return nil
		}
		if p.this {
			return p.joiner(r.Key, v, other)
		}
		return p.joiner(r.Key, other, v)
	}
	p.ctx.forward(anyRecord{Key: r.Key, Value: change{newV: apply(c.newV), oldV: apply(c.oldV)}, Timestamp: ts, Headers: r.Headers})
}
