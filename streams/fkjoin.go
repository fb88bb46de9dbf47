package streams

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams/serde"
)

// Kafka Streams' foreign-key join name prefixes.
const (
	prefixFKRegistration = "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-"
	prefixFKStore        = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-"
	prefixFKProcessor    = "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-"
	prefixFKResponse     = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-"
	prefixFKResolver     = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-"
	prefixFKOutput       = "KTABLE-FK-JOIN-OUTPUT-"
	prefixTableSink      = "KTABLE-SINK-"
)

// Subscription instructions, with the byte values of Kafka's
// SubscriptionWrapper.Instruction.
const (
	fkDeleteNoPropagate      byte = 0 // forget the subscription, answer nothing
	fkDeleteAndPropagate     byte = 1 // forget it and answer null
	fkPropagateNullIfNoValue byte = 2 // answer the right value, or null
	fkPropagateOnlyIfValue   byte = 3 // answer only if there is a right value
)

// subscription is what a left row sends to the partition of its foreign
// key (Kafka's SubscriptionWrapper): the hash of its value (nil when
// deleted), what to do, its primary key and the partition to answer to
// (-1 when unknown: version 0 wrappers do not carry it). version is the
// wrapper version it was read as, kept so that a stored subscription is
// logged as it came.
type subscription struct {
	version     byte
	hash        []byte
	instruction byte
	pk          any
	partition   int32
}

// fkResponse is what the right side answers (Kafka's
// SubscriptionResponseWrapper): the hash it was sent, and the right row's
// value (nil when none). partition, the left partition to answer to, is
// not written to the response topic; it only chooses the partition.
type fkResponse struct {
	hash      []byte
	value     any
	partition int32
}

// fkKey is the subscription store's key: foreign key and primary key.
type fkKey struct{ fk, pk any }

// JoinForeignKey joins every row of left with the row of right whose key
// foreignKey extracts from the left value (Kafka's KTable.join with a
// foreign-key extractor, KIP-213). The result is keyed like left. Left
// rows travel to the right table's partitions through the
// <application.id>-…-subscription-registration-topic and answers come back
// through …-subscription-response-topic; a hash of the left value drops
// answers that a newer left value has overtaken. Options: Named,
// Materialized, WithValueSerde (the result's serde, needed to materialize).
func JoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], foreignKey func(V) KO, joiner func(v V, vo VO) VR, opts ...Option) Table[K, VR] {
	return fkJoin[K, V, KO, VO, VR](left, right, false, foreignKey, func(v, vo any) any { return joiner(as[V](v), as[VO](vo)) }, opts)
}

// LeftJoinForeignKey is JoinForeignKey keeping left rows without a right
// row (vo is nil then).
func LeftJoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], foreignKey func(V) KO, joiner func(v V, vo *VO) VR, opts ...Option) Table[K, VR] {
	return fkJoin[K, V, KO, VO, VR](left, right, true, foreignKey, func(v, vo any) any { return joiner(as[V](v), ptr[VO](vo)) }, opts)
}

func fkJoin[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], leftJoin bool, foreignKey func(V) KO, joiner func(v, vo any) any, opts []Option) Table[K, VR] {
	b := left.b
	o := applyOptions(opts)
	named := func(suffix, prefix string) string {
		gen := b.newName(prefix)
		if o.name != "" {
			return o.name + suffix
		}
		return gen
	}
	lg, rg := left.needGetter(), right.needGetter()
	subTopic := named("-subscription-registration", prefixFKRegistration) + "-topic"
	regName := named("-subscription-registration-processor", prefixFKRegistration)
	regSink := named("-subscription-registration-sink", prefixTableSink)
	regSource := named("-subscription-registration-source", prefixTableSource)
	storeName := named("-subscription-store", prefixFKStore)
	receiveName := named("-subscription-receive", prefixFKProcessor)
	joinForeignName := named("-subscription-join-foreign", prefixFKProcessor)
	foreignJoinName := named("-foreign-join-subscription", prefixFKProcessor)
	respTopic := named("-subscription-response", prefixFKResponse) + "-topic"
	respSink := named("-subscription-response-sink", prefixTableSink)
	respSource := named("-subscription-response-source", prefixTableSource)
	resolverName := named("-subscription-response-resolver", prefixFKResolver)
	outputName := named("-result", prefixFKOutput)
	outStore := o.storeName
	if outStore == "" {
		outStore = b.newName(prefixFKOutput + "STATE-STORE-")
	}
	if left.ks == nil || left.vs == nil || right.ks == nil || right.vs == nil {
		b.fail("foreign-key join %q: both tables' key and value serdes are required", outputName)
		return Table[K, VR]{b: b}
	}
	if lg == nil || rg == nil {
		b.fail("foreign-key join %q: both tables must be readable", outputName)
		return Table[K, VR]{b: b}
	}
	lks, lvs, rks, rvs := left.ks, left.vs, right.ks, right.vs
	// Values, keys and foreign keys serialized outside a topic use Kafka's
	// pseudo topics <application.id>-<subscription topic>-vh, -pk and -fk.
	pseudo := func(ctx *nodeContext, suffix string) string {
		return ctx.task.topo.runtimeTopic(subTopic, true, ctx.task.appID) + suffix
	}
	hashOf := func(ctx *nodeContext, v any) ([]byte, error) {
		if v == nil {
			return nil, nil
		}
		vb, err := lvs.Serialize(pseudo(ctx, "-vh"), v.(V))
		if err != nil {
			return nil, err
		}
		return valueHash(vb), nil
	}
	fkBytesIn := func(topic string, fk any) []byte {
		if isNull(fk) {
			return nil
		}
		kb, _ := rks.Serialize(topic, fk.(KO))
		return kb
	}
	fkBytes := func(ctx *nodeContext, fk any) []byte { return fkBytesIn(pseudo(ctx, "-fk"), fk) }

	// Left side: send subscriptions keyed by foreign key.
	b.addProcessor(regName, funcSupplier(func(ctx *nodeContext, r anyRecord) {
		c := r.Value.(change)
		hash, err := hashOf(ctx, c.newV)
		if err != nil {
			ctx.task.fail(fmt.Errorf("streams: foreign-key join %q: hash the value: %w", ctx.pn.n.name, err))
			return
		}
		send := func(fk any, instr byte) {
			ctx.forward(anyRecord{Key: fk, Value: subscription{version: subscriptionVersion, hash: hash, instruction: instr, pk: r.Key, partition: ctx.task.rc.partition},
				Timestamp: r.Timestamp, Headers: r.Headers})
		}
		extract := func(v any) any {
			if v == nil {
				return nil
			}
			return foreignKey(v.(V))
		}
		if leftJoin {
			if c.oldV != nil {
				oldFK, newFK := extract(c.oldV), extract(c.newV)
				if !isNull(oldFK) && !bytes.Equal(fkBytes(ctx, newFK), fkBytes(ctx, oldFK)) {
					send(oldFK, fkDeleteAndPropagate)
				}
				send(newFK, fkPropagateNullIfNoValue)
			} else if c.newV != nil {
				send(extract(c.newV), fkPropagateNullIfNoValue)
			}
			return
		}
		switch {
		case c.oldV != nil:
			oldFK := extract(c.oldV)
			if isNull(oldFK) {
				ctx.task.drop(ctx.pn.n.name, "null foreign key")
				return
			}
			if c.newV == nil {
				send(oldFK, fkDeleteAndPropagate)
				return
			}
			newFK := extract(c.newV)
			if isNull(newFK) {
				ctx.task.drop(ctx.pn.n.name, "null foreign key")
				return
			}
			if !bytes.Equal(fkBytes(ctx, newFK), fkBytes(ctx, oldFK)) {
				send(oldFK, fkDeleteNoPropagate)
			}
			send(newFK, fkPropagateNullIfNoValue)
		case c.newV != nil:
			newFK := extract(c.newV)
			if isNull(newFK) {
				ctx.task.drop(ctx.pn.n.name, "null foreign key")
				return
			}
			send(newFK, fkPropagateOnlyIfValue)
		}
	}), left.node)
	// The wrapper serializes the primary key with the -pk pseudo topic: the
	// runtime subscription topic's name with that suffix.
	subSerde := subscriptionSerde[K]{pk: lks, pkTopic: func(topic string) string { return topic + "-pk" }}
	b.addNode(&node{name: regSink, kind: sinkNode, topic: subTopic, internal: true, parents: []string{regName},
		ser: func(topic string, k, v any) ([]byte, []byte, error) {
			vb, err := subSerde.Serialize(topic, v.(subscription))
			return fkBytesIn(topic, k), vb, err
		}})
	b.addSource(&node{name: regSource, topics: []string{subTopic}, internal: true,
		deser: func(topic string, kb, vb []byte) (any, any, error) {
			var fk any
			if kb != nil {
				k, err := rks.Deserialize(topic, kb)
				if err != nil {
					return nil, nil, err
				}
				fk = k
			}
			s, err := subSerde.Deserialize(topic, vb)
			return fk, s, err
		}})

	// Right side: keep subscriptions, answer them, and answer again when
	// the right row changes.
	// The subscription store is keyed by Kafka's CombinedKey.
	combined := func(ctx *nodeContext, fk, pk any) ([]byte, error) {
		pb, err := lks.Serialize(pseudo(ctx, "-pk"), pk.(K))
		if err != nil {
			return nil, err
		}
		return combinedKey(fkBytes(ctx, fk), pb), nil
	}
	// The store's value serde sees the changelog topic; the primary key
	// inside still uses the -pk pseudo topic, as Kafka's wrapper serde does.
	// The store's serde is handed <application.id>-<store>-changelog.
	storeSubSerde := subscriptionSerde[K]{pk: lks, pkTopic: func(topic string) string {
		if app, ok := strings.CutSuffix(topic, "-"+storeName+"-changelog"); ok {
			return app + "-" + subTopic + "-pk"
		}
		return subTopic + "-pk"
	}}
	b.addStore(&kvBuilder{name: storeName, ks: erase1(serde.Bytes()), vs: erase1[subscription](storeSubSerde), opts: applyStoreOptions(nil)})
	b.addProcessor(receiveName, func() anyProcessor {
		return &fkReceiveProc{store: storeName, combined: combined}
	}, regSource)
	b.connect(receiveName, storeName)
	b.addProcessor(joinForeignName, func() anyProcessor { return &fkJoinForeignProc{getter: rg} }, receiveName)
	b.connect(joinForeignName, rg.stores...)
	b.addProcessor(foreignJoinName, func() anyProcessor {
		return &fkForeignJoinProc{store: storeName, prefix: func(ctx *nodeContext, fk any) []byte {
			return combinedKey(fkBytes(ctx, fk), nil)
		}, pkOf: func(ctx *nodeContext, key []byte) (any, error) {
			_, pb, err := splitCombinedKey(key)
			if err != nil {
				return nil, err
			}
			return lks.Deserialize(pseudo(ctx, "-pk"), pb)
		}}
	}, right.node)
	b.connect(foreignJoinName, storeName)
	respSerde := responseSerde[VO]{vs: rvs}
	b.addNode(&node{name: respSink, kind: sinkNode, topic: respTopic, internal: true, parents: []string{joinForeignName, foreignJoinName},
		ser: func(topic string, k, v any) ([]byte, []byte, error) {
			kb, err := lks.Serialize(topic, k.(K))
			if err != nil {
				return nil, nil, err
			}
			vb, err := respSerde.Serialize(topic, v.(fkResponse))
			return kb, vb, err
		},
		partitioner: func(_ string, r anyRecord, num int32) (int32, bool) {
			p := r.Value.(fkResponse).partition
			return p, p >= 0 && p < num
		}})
	b.addSource(&node{name: respSource, topics: []string{respTopic}, internal: true,
		deser: func(topic string, kb, vb []byte) (any, any, error) {
			k, err := lks.Deserialize(topic, kb)
			if err != nil {
				return nil, nil, err
			}
			resp, err := respSerde.Deserialize(topic, vb)
			return k, resp, err
		}})

	// Left side again: resolve answers against the current left row.
	b.addProcessor(resolverName, func() anyProcessor {
		return &fkResolveProc{getter: lg, leftJoin: leftJoin, hashOf: hashOf, joiner: joiner}
	}, respSource)
	b.connect(resolverName, lg.stores...)
	var outVS Serde[VR]
	if o.valueSerde != nil {
		outVS = serdeOr[VR](b, o.valueSerde, nil, "foreign-key join "+outputName)
	}
	if o.storeName != "" && outVS == nil {
		b.fail("foreign-key join %q: WithValueSerde is required to materialize %q", outputName, o.storeName)
		return Table[K, VR]{b: b}
	}
	return newStoredTable[K, VR](b, resolverName, outputName, outStore, o.storeName != "", lks, outVS, o.storeOpts)
}

var errFKFormat = errors.New("streams: malformed foreign-key join record")

// fkReceiveProc keeps subscriptions by (foreign key, primary key).
type fkReceiveProc struct {
	ctx      *nodeContext
	store    string
	st       *rawKV
	combined func(ctx *nodeContext, fk, pk any) ([]byte, error)
}

func (p *fkReceiveProc) init(ctx *nodeContext) { p.ctx, p.st = ctx, ctx.stateStore(p.store).(*rawKV) }
func (p *fkReceiveProc) close()                {}
func (p *fkReceiveProc) process(r anyRecord) {
	s := r.Value.(subscription)
	if isNull(r.Key) {
		if s.instruction != fkPropagateNullIfNoValue {
			p.ctx.task.drop(p.ctx.pn.n.name, "null foreign key")
			return
		}
		p.ctx.forward(anyRecord{Key: fkKey{pk: s.pk}, Value: s, Timestamp: r.Timestamp, Headers: r.Headers})
		return
	}
	if s.version > subscriptionVersion {
		p.ctx.task.fail(fmt.Errorf("%w: subscription version %d", errFKFormat, s.version))
		return
	}
	key, err := p.combined(p.ctx, r.Key, s.pk)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	if s.instruction == fkDeleteAndPropagate || s.instruction == fkDeleteNoPropagate {
		err = p.st.put(key, nil, r.Timestamp)
	} else {
		err = p.st.put(key, s, r.Timestamp)
	}
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	p.ctx.forward(anyRecord{Key: fkKey{fk: r.Key, pk: s.pk}, Value: s, Timestamp: r.Timestamp, Headers: r.Headers})
}

// fkJoinForeignProc answers a subscription with the right row's value.
type fkJoinForeignProc struct {
	ctx    *nodeContext
	getter *getterSupplier
	get    valueGetter
}

func (p *fkJoinForeignProc) init(ctx *nodeContext) { p.ctx, p.get = ctx, p.getter.make(ctx) }
func (p *fkJoinForeignProc) close()                {}
func (p *fkJoinForeignProc) process(r anyRecord) {
	k := r.Key.(fkKey)
	s := r.Value.(subscription)
	var value any
	ts := r.Timestamp
	found := false
	if !isNull(k.fk) {
		v, vts, ok, err := p.get(k.fk)
		if err != nil {
			p.ctx.task.fail(err)
			return
		}
		if ok {
			value, found, ts = v, true, max(ts, vts)
		}
	}
	resp := fkResponse{hash: s.hash, value: value, partition: s.partition}
	switch s.instruction {
	case fkDeleteAndPropagate:
		resp.value = nil
	case fkPropagateNullIfNoValue:
	case fkPropagateOnlyIfValue:
		if !found {
			return
		}
	default:
		return
	}
	p.ctx.forward(anyRecord{Key: k.pk, Value: resp, Timestamp: ts, Headers: r.Headers})
}

// fkForeignJoinProc answers every subscription to a right row that
// changed.
type fkForeignJoinProc struct {
	ctx    *nodeContext
	store  string
	st     *rawKV
	prefix func(ctx *nodeContext, fk any) []byte
	pkOf   func(ctx *nodeContext, key []byte) (any, error)
}

func (p *fkForeignJoinProc) init(ctx *nodeContext) {
	p.ctx, p.st = ctx, ctx.stateStore(p.store).(*rawKV)
}
func (p *fkForeignJoinProc) close() {}
func (p *fkForeignJoinProc) process(r anyRecord) {
	if isNull(r.Key) {
		p.ctx.task.drop(p.ctx.pn.n.name, "null key")
		return
	}
	c := r.Value.(change)
	subs, err := p.st.prefixScan(p.prefix(p.ctx, r.Key))
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	for _, e := range subs {
		pk, err := p.pkOf(p.ctx, e.Key)
		if err != nil {
			p.ctx.task.fail(err)
			return
		}
		s := e.Value.(subscription)
		p.ctx.forward(anyRecord{Key: pk, Value: fkResponse{hash: s.hash, value: c.newV, partition: s.partition}, Timestamp: r.Timestamp, Headers: r.Headers})
	}
}

// fkResolveProc joins an answer with the current left row if the answer
// was for that row's current value.
type fkResolveProc struct {
	ctx      *nodeContext
	getter   *getterSupplier
	get      valueGetter
	leftJoin bool
	hashOf   func(ctx *nodeContext, v any) ([]byte, error)
	joiner   func(v, vo any) any
}

func (p *fkResolveProc) init(ctx *nodeContext) { p.ctx, p.get = ctx, p.getter.make(ctx) }
func (p *fkResolveProc) close()                {}
func (p *fkResolveProc) process(r anyRecord) {
	resp := r.Value.(fkResponse)
	cur, _, ok, err := p.get(r.Key)
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	if !ok {
		cur = nil
	}
	hash, err := p.hashOf(p.ctx, cur)
	if err != nil {
		p.ctx.task.fail(fmt.Errorf("streams: foreign-key join %q: hash the value: %w", p.ctx.pn.n.name, err))
		return
	}
	if !bytes.Equal(resp.hash, hash) {
		return // a newer left value overtook this answer
	}
	var result any
	if resp.value != nil || (p.leftJoin && cur != nil) {
		result = p.joiner(cur, resp.value)
	}
	p.ctx.forward(anyRecord{Key: r.Key, Value: result, Timestamp: r.Timestamp, Headers: r.Headers})
}

// prefixScan returns the entries whose key starts with prefix.
func (s *rawKV) prefixScan(prefix []byte) ([]KeyValue[[]byte, any], error) {
	raw, err := state.Collect(s.b.PrefixScan(prefix))
	if err != nil {
		return nil, err
	}
	out := make([]KeyValue[[]byte, any], 0, len(raw))
	for _, kv := range raw {
		v, _, err := s.decode(kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyValue[[]byte, any]{Key: kv.Key, Value: v})
	}
	return out, nil
}
