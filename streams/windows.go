package streams

import (
	"fmt"
	"time"
)

// Windows chooses how a grouped stream is windowed: TimeWindows (tumbling
// and hopping), SessionWindows or SlidingWindows.
type Windows interface {
	// grace is how long after a window ends records are still accepted.
	gracePeriod() int64
}

// TimeWindows are fixed-size windows that start every advance
// milliseconds, aligned to the epoch (Kafka's TimeWindows): tumbling when
// advance equals size, hopping otherwise. A window is [start, start+size).
type TimeWindows struct {
	size, advance, grace int64
}

// Tumbling returns non-overlapping windows of the given size with no grace
// period (TimeWindows.ofSizeWithNoGrace).
func Tumbling(size time.Duration) TimeWindows {
	ms := size.Milliseconds()
	return TimeWindows{size: ms, advance: ms}
}

// Hopping returns windows of size starting every advance.
func Hopping(size, advance time.Duration) TimeWindows {
	return TimeWindows{size: size.Milliseconds(), advance: advance.Milliseconds()}
}

// Grace returns the windows with a grace period: records up to d after a
// window's end (in stream time) still update it; later ones are dropped.
func (w TimeWindows) Grace(d time.Duration) TimeWindows { w.grace = d.Milliseconds(); return w }

func (w TimeWindows) gracePeriod() int64 { return w.grace }

// windowsFor returns the starts of the windows containing ts, ascending.
func (w TimeWindows) windowsFor(ts int64) []int64 {
	var out []int64
	for start := max(0, ts-w.size+w.advance) / w.advance * w.advance; start <= ts; start += w.advance {
		out = append(out, start)
	}
	return out
}

// SessionWindows group records of a key separated by less than an
// inactivity gap into one session [first, last] (Kafka's SessionWindows).
type SessionWindows struct {
	gap, grace int64
}

// Sessions returns session windows with the given inactivity gap and no
// grace period.
func Sessions(inactivityGap time.Duration) SessionWindows {
	return SessionWindows{gap: inactivityGap.Milliseconds()}
}

// Grace returns the windows with a grace period after a session's end.
func (w SessionWindows) Grace(d time.Duration) SessionWindows { w.grace = d.Milliseconds(); return w }

func (w SessionWindows) gracePeriod() int64 { return w.grace }

// SlidingWindows are windows of a fixed time difference anchored on
// records (Kafka's SlidingWindows): for every record, a window ending at it
// [ts-diff, ts] and one starting just after it [ts+1, ts+1+diff] when that
// one would hold records; both ends inclusive.
type SlidingWindows struct {
	diff, grace int64
}

// Sliding returns sliding windows with the given maximum time difference
// and no grace period (SlidingWindows.ofTimeDifferenceWithNoGrace).
func Sliding(timeDifference time.Duration) SlidingWindows {
	return SlidingWindows{diff: timeDifference.Milliseconds()}
}

// Grace returns the windows with a grace period.
func (w SlidingWindows) Grace(d time.Duration) SlidingWindows { w.grace = d.Milliseconds(); return w }

func (w SlidingWindows) gracePeriod() int64 { return w.grace }

// windowing builds a windowed aggregation for a GroupedStream whose key
// type is Windowed of the inner key; it captures the inner key type.
type windowing struct {
	// build adds the aggregation processor and its store below parent and
	// returns the output key serde (a Serde[Windowed[K]]).
	build func(b *Builder, spec aggSpec, procName, storeName string, aggSerde erasedSerde, parent string, storeOpts []StoreOption) any
	// end returns the end of a Windowed[K] key's window.
	end     func(k any) int64
	grace   int64
	session bool
}

// WindowedBy windows a grouped stream: aggregations then produce one
// result per key and window, keyed by Windowed[K]. Records later than a
// window's end plus its grace period (in stream time) are dropped and
// counted in Task.DroppedRecords.
func WindowedBy[K, V any](g GroupedStream[K, V], w Windows) GroupedStream[Windowed[K], V] {
	out := GroupedStream[Windowed[K], V]{b: g.b, vs: g.vs, name: g.name, source: g.source}
	if g.table || g.win != nil {
		g.b.fail("WindowedBy needs a grouped stream")
		return out
	}
	win := &windowing{
		end:   func(k any) int64 { return k.(Windowed[K]).Window.End },
		grace: w.gracePeriod(),
	}
	ks := g.ks
	switch w := w.(type) {
	case TimeWindows:
		if w.size <= 0 || w.advance <= 0 || w.advance > w.size {
			g.b.fail("time windows: size %dms and advance %dms must be positive, advance at most size", w.size, w.advance)
			return out
		}
		if ks != nil {
			out.ks = TimeWindowedSerde(ks, time.Duration(w.size)*time.Millisecond)
		}
		win.build = func(b *Builder, spec aggSpec, procName, storeName string, aggSerde erasedSerde, parent string, storeOpts []StoreOption) any {
			o := dslStoreOptions(storeOpts)
			retention := max(o.retention, w.size+w.grace)
			addWindowStore(b, procName, storeName, retention, w.size, ks, aggSerde, o)
			b.addProcessor(procName, func() anyProcessor { return &timeWinProc[K]{w: w, spec: spec, store: storeName} }, parent)
			b.connect(procName, storeName)
			return out.ks
		}
	case SessionWindows:
		if w.gap <= 0 {
			g.b.fail("session windows: inactivity gap %dms must be positive", w.gap)
			return out
		}
		win.session = true
		// A session can still grow until the gap has passed after its end;
		// Kafka's final-results suppression waits gap plus grace.
		win.grace = w.gap + w.grace
		if ks != nil {
			out.ks = SessionWindowedSerde(ks)
		}
		win.build = func(b *Builder, spec aggSpec, procName, storeName string, aggSerde erasedSerde, parent string, storeOpts []StoreOption) any {
			if spec.merge == nil {
				b.fail("aggregation %q over session windows needs a merger: use AggregateSessions", procName)
				return out.ks
			}
			o := dslStoreOptions(storeOpts)
			if ks == nil {
				b.fail("aggregation %q: no key serde; pass WithKeySerde to the grouping", procName)
				return out.ks
			}
			b.addStore(&sessBuilder{name: storeName, retention: max(o.retention, w.gap+w.grace), ks: erase1(ks), vs: aggSerde, opts: o})
			b.addProcessor(procName, func() anyProcessor { return &sessionWinProc[K]{w: w, spec: spec, store: storeName} }, parent)
			b.connect(procName, storeName)
			return out.ks
		}
	case SlidingWindows:
		if w.diff <= 0 {
			g.b.fail("sliding windows: time difference %dms must be positive", w.diff)
			return out
		}
		if ks != nil {
			out.ks = TimeWindowedSerde(ks, time.Duration(w.diff)*time.Millisecond)
		}
		win.build = func(b *Builder, spec aggSpec, procName, storeName string, aggSerde erasedSerde, parent string, storeOpts []StoreOption) any {
			o := dslStoreOptions(storeOpts)
			retention := max(o.retention, 2*w.diff+w.grace)
			addWindowStore(b, procName, storeName, retention, w.diff, ks, aggSerde, o)
			b.addProcessor(procName, func() anyProcessor { return &slidingWinProc[K]{w: w, spec: spec, store: storeName} }, parent)
			b.connect(procName, storeName)
			return out.ks
		}
	default:
		g.b.fail("unknown windows %T", w)
		return out
	}
	out.win = win
	return out
}

func addWindowStore[K any](b *Builder, procName, storeName string, retention, size int64, ks Serde[K], vs erasedSerde, o storeOptions) {
	if ks == nil {
		b.fail("aggregation %q: no key serde; pass WithKeySerde to the grouping", procName)
		return
	}
	b.addStore(&winBuilder{name: storeName, retention: retention, size: size, ks: erase1(ks), vs: vs, opts: o})
}

// AggregateWindows folds the values of each key and time or sliding
// window into an aggregate of type A starting from init(). The aggregate's
// serde is required (WithValueSerde).
func AggregateWindows[K, V, A any](g GroupedStream[Windowed[K], V], init func() A, aggregator func(k K, v V, agg A) A, opts ...Option) Table[Windowed[K], A] {
	if g.win != nil && g.win.session {
		g.b.fail("AggregateWindows over session windows needs a merger: use AggregateSessions")
	}
	spec := aggSpec{
		init:   func() any { return init() },
		add:    func(k, v, agg any) any { return aggregator(as[K](k), as[V](v), as[A](agg)) },
		prefix: prefixAggregate,
	}
	return aggregateGrouped[Windowed[K], V, A](g, spec, nil, opts)
}

// AggregateSessions aggregates session-windowed groups: merger combines
// the aggregates of two sessions a new record joins into one.
func AggregateSessions[K, V, A any](g GroupedStream[Windowed[K], V], init func() A, aggregator func(k K, v V, agg A) A, merger func(k K, a, b A) A, opts ...Option) Table[Windowed[K], A] {
	spec := aggSpec{
		init:   func() any { return init() },
		add:    func(k, v, agg any) any { return aggregator(as[K](k), as[V](v), as[A](agg)) },
		merge:  func(k, a, b any) any { return merger(as[K](k), as[A](a), as[A](b)) },
		prefix: prefixAggregate,
	}
	return aggregateGrouped[Windowed[K], V, A](g, spec, nil, opts)
}

// dropLate counts a record dropped because its window closed.
func dropLate(ctx *nodeContext, ts, closeTime int64) {
	ctx.task.log.Debug("dropping record for a closed window", "node", ctx.pn.n.name, "timestamp", ts, "close_time", closeTime)
	ctx.task.drop(ctx.pn.n.name, fmt.Sprintf("window closed (record time %d, close time %d)", ts, closeTime))
}

// newAggregate applies spec to one value: the first value of a reduce,
// init then add for an aggregation.
func newAggregate(spec aggSpec, k, v, old any, found bool) any {
	switch {
	case found:
		return spec.add(k, v, old)
	case spec.init != nil:
		return spec.add(k, v, spec.init())
	default:
		return v
	}
}

// timeWinProc aggregates into tumbling or hopping windows (Kafka's
// KStreamWindowAggregate): a record updates every window containing it
// whose end is after stream time minus grace.
type timeWinProc[K any] struct {
	ctx      *nodeContext
	w        TimeWindows
	spec     aggSpec
	store    string
	st       *rawWin
	observed int64
	cached   bool
}

func (p *timeWinProc[K]) init(ctx *nodeContext) {
	p.ctx, p.observed = ctx, minTime
	p.st = ctx.stateStore(p.store).(*rawWin)
	p.cached = forwardWindowsOnFlush(ctx, p.st, func(k any, start int64) any {
		return Windowed[K]{Key: k.(K), Window: Window{Start: start, End: start + p.w.size}}
	})
}
func (p *timeWinProc[K]) close() {}

func (p *timeWinProc[K]) process(r anyRecord) {
	if isNull(r.Key) || isNull(r.Value) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key or value")
		return
	}
	p.observed = max(p.observed, r.Timestamp)
	closeTime := p.observed - p.w.grace
	for _, start := range p.w.windowsFor(r.Timestamp) {
		end := start + p.w.size
		if end <= closeTime {
			dropLate(p.ctx, r.Timestamp, closeTime)
			continue
		}
		olds, err := p.st.fetch(r.Key, start, start)
		if err != nil {
			p.ctx.task.fail(err)
			return
		}
		var old any
		newTS := r.Timestamp
		found := len(olds) > 0
		if found {
			old, newTS = olds[0].value, max(r.Timestamp, olds[0].ts)
		}
		agg := newAggregate(p.spec, r.Key, r.Value, old, found)
		if err := p.st.put(r.Key, agg, start, newTS); err != nil {
			p.ctx.task.fail(err)
			return
		}
		if !p.cached {
			key := Windowed[K]{Key: r.Key.(K), Window: Window{Start: start, End: end}}
			p.ctx.forward(anyRecord{Key: key, Value: change{newV: agg, oldV: old}, Timestamp: newTS, Headers: r.Headers})
		}
	}
}

// sessionWinProc aggregates into session windows (Kafka's
// KStreamSessionWindowAggregate): a record merges every session of its key
// that ends within the gap before it or starts within the gap after it;
// merged sessions are removed and forwarded as deletes.
type sessionWinProc[K any] struct {
	ctx      *nodeContext
	w        SessionWindows
	spec     aggSpec
	store    string
	st       *rawSess
	observed int64
	cached   bool
}

func (p *sessionWinProc[K]) init(ctx *nodeContext) {
	p.ctx, p.observed = ctx, minTime
	p.st = ctx.stateStore(p.store).(*rawSess)
	p.cached = forwardSessionsOnFlush(ctx, p.st, func(k any, w Window) any { return Windowed[K]{Key: k.(K), Window: w} })
}
func (p *sessionWinProc[K]) close() {}

func (p *sessionWinProc[K]) process(r anyRecord) {
	if isNull(r.Key) || isNull(r.Value) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key or value")
		return
	}
	ts := r.Timestamp
	p.observed = max(p.observed, ts)
	closeTime := p.observed - p.w.grace
	merged, err := p.st.findSessions(r.Key, ts-p.w.gap, ts+p.w.gap)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	window := Window{Start: ts, End: ts}
	var agg any
	if p.spec.init != nil {
		agg = p.spec.init()
	}
	for _, s := range merged {
		if agg == nil {
			agg = s.value
		} else {
			agg = p.spec.merge(r.Key, agg, s.value)
		}
		window = Window{Start: min(window.Start, s.start), End: max(window.End, s.end)}
	}
	if window.End < closeTime {
		dropLate(p.ctx, ts, closeTime)
		return
	}
	key := r.Key.(K)
	if window != (Window{Start: ts, End: ts}) {
		for _, s := range merged {
			w := Window{Start: s.start, End: s.end}
			if err := p.st.put(r.Key, w, nil); err != nil {
				p.ctx.task.fail(err)
				return
			}
			if !p.cached {
				p.ctx.forward(anyRecord{Key: Windowed[K]{Key: key, Window: w}, Value: change{oldV: s.value}, Timestamp: s.end, Headers: r.Headers})
			}
		}
	}
	if agg == nil {
		agg = r.Value
	} else {
		agg = p.spec.add(r.Key, r.Value, agg)
	}
	if err := p.st.put(r.Key, window, agg); err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !p.cached {
		p.ctx.forward(anyRecord{Key: Windowed[K]{Key: key, Window: window}, Value: change{newV: agg}, Timestamp: window.End, Headers: r.Headers})
	}
}

// slidingWinProc aggregates into sliding windows (Kafka's
// KStreamSlidingWindowAggregate, forward-iterating variant): each record
// updates the existing windows containing it, creates its own left window
// [ts-diff, ts], its right window [ts+1, ts+1+diff] when later records fall
// in it, and the previous record's right window when missing.
type slidingWinProc[K any] struct {
	ctx      *nodeContext
	w        SlidingWindows
	spec     aggSpec
	store    string
	st       *rawWin
	observed int64
	cached   bool
}

func (p *slidingWinProc[K]) init(ctx *nodeContext) {
	p.ctx, p.observed = ctx, minTime
	p.st = ctx.stateStore(p.store).(*rawWin)
	p.cached = forwardWindowsOnFlush(ctx, p.st, func(k any, start int64) any {
		return Windowed[K]{Key: k.(K), Window: Window{Start: start, End: start + p.w.diff}}
	})
}
func (p *slidingWinProc[K]) close() {}

// aggTS is an aggregate with the largest timestamp in it.
type aggTS struct {
	agg any
	ts  int64
}

func (p *slidingWinProc[K]) process(r anyRecord) {
	if isNull(r.Key) || isNull(r.Value) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key or value")
		return
	}
	ts, diff := r.Timestamp, p.w.diff
	p.observed = max(p.observed, ts)
	closeTime := p.observed - p.w.grace
	if ts+diff < closeTime {
		dropLate(p.ctx, ts, closeTime)
		return
	}
	if ts < diff {
		p.processEarly(r, closeTime)
		return
	}
	entries, err := p.st.fetch(r.Key, max(0, ts-2*diff), ts+1)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	starts := map[int64]bool{}
	var leftAgg, rightAgg *aggTS
	leftCreated, rightCreated := false, false
	var prevTS *int64
	for _, e := range entries {
		starts[e.start] = true
		end := e.start + diff
		cur := &aggTS{agg: e.value, ts: e.ts}
		switch {
		case end < ts:
			leftAgg = cur
			t := e.ts
			prevTS = &t
		case end == ts:
			leftCreated = true
			if e.ts < ts {
				t := e.ts
				prevTS = &t
			}
			p.update(e.start, cur, r, closeTime)
		case end > ts && e.start <= ts:
			rightAgg = cur
			p.update(e.start, cur, r, closeTime)
		case e.start == ts+1:
			rightCreated = true
		default:
			p.ctx.task.fail(fmt.Errorf("streams: sliding window aggregate %q: unexpected window at %d for record at %d", p.ctx.pn.n.name, e.start, ts))
			return
		}
	}
	if prevTS != nil {
		prevRight := *prevTS + 1
		if !starts[prevRight] && prevRight+diff >= ts {
			p.update(prevRight, &aggTS{agg: p.initAgg(), ts: ts}, r, closeTime)
		}
	}
	if !leftCreated {
		var left *aggTS
		if prevTS != nil && ts-diff <= *prevTS {
			left = &aggTS{agg: leftAgg.agg, ts: ts}
		} else {
			left = &aggTS{agg: p.initAgg(), ts: ts}
		}
		p.update(ts-diff, left, r, closeTime)
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		p.createRight(ts, rightAgg, r)
	}
}

// processEarly handles records earlier than the time difference, whose
// left windows would start before 0: they share the window [0, diff].
func (p *slidingWinProc[K]) processEarly(r anyRecord, closeTime int64) {
	ts := r.Timestamp
	entries, err := p.st.fetch(r.Key, 0, ts+1)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	starts := map[int64]bool{}
	var combined, rightAgg *aggTS
	rightCreated := false
	var prevTS *int64
	for _, e := range entries {
		starts[e.start] = true
		cur := &aggTS{agg: e.value, ts: e.ts}
		switch {
		case e.start == 0:
			combined = cur
			if e.ts < ts {
				t := e.ts
				prevTS = &t
			}
		case e.start <= ts:
			rightAgg = cur
			p.update(e.start, cur, r, closeTime)
		case e.start == ts+1:
			rightCreated = true
		default:
			p.ctx.task.fail(fmt.Errorf("streams: sliding window aggregate %q: unexpected window at %d for record at %d", p.ctx.pn.n.name, e.start, ts))
			return
		}
	}
	if rightAgg == nil && combined != nil && combined.ts > ts {
		rightAgg = combined
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		p.createRight(ts, rightAgg, r)
	}
	if prevTS != nil && !starts[*prevTS+1] {
		p.update(*prevTS+1, &aggTS{agg: p.initAgg(), ts: ts}, r, closeTime)
	}
	if combined == nil {
		p.update(0, &aggTS{agg: p.initAgg(), ts: ts}, r, closeTime)
	} else {
		p.update(0, combined, r, closeTime)
	}
}

func (p *slidingWinProc[K]) initAgg() any {
	if p.spec.init != nil {
		return p.spec.init()
	}
	return nil
}

// createRight stores the record's right window holding the aggregate of
// the later records, and forwards it.
func (p *slidingWinProc[K]) createRight(ts int64, right *aggTS, r anyRecord) {
	start := ts + 1
	if err := p.st.put(r.Key, right.agg, start, right.ts); err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !p.cached {
		key := Windowed[K]{Key: r.Key.(K), Window: Window{Start: start, End: start + p.w.diff}}
		p.ctx.forward(anyRecord{Key: key, Value: change{newV: right.agg}, Timestamp: right.ts, Headers: r.Headers})
	}
}

// update adds the record to the window at start holding cur, unless the
// window has closed.
func (p *slidingWinProc[K]) update(start int64, cur *aggTS, r anyRecord, closeTime int64) {
	end := start + p.w.diff
	if end < closeTime {
		dropLate(p.ctx, r.Timestamp, closeTime)
		return
	}
	old := cur.agg
	var agg any
	if old == nil {
		agg = r.Value
	} else {
		agg = p.spec.add(r.Key, r.Value, old)
	}
	newTS := r.Timestamp
	if old != nil {
		newTS = max(r.Timestamp, cur.ts)
	}
	if err := p.st.put(r.Key, agg, start, newTS); err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !p.cached {
		key := Windowed[K]{Key: r.Key.(K), Window: Window{Start: start, End: end}}
		p.ctx.forward(anyRecord{Key: key, Value: change{newV: agg, oldV: old}, Timestamp: newTS, Headers: r.Headers})
	}
}
