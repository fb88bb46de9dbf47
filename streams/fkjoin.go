package streams

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

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

// Subscription instructions (Kafka's SubscriptionWrapper.Instruction).
const (
	fkDeleteAndPropagate byte = iota
	fkDeleteNoPropagate
	fkPropagateNullIfNoValue
	fkPropagateOnlyIfValue
)

// subscription is what a left row sends to the partition of its foreign
// key: the hash of its value (nil when deleted), what to do, its primary
// key and the partition to answer to.
type subscription struct {
	hash        []byte
	instruction byte
	pk          any
	partition   int32
}

// fkResponse is what the right side answers: the hash it was sent, and
// the right row's value (nil when none).
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
	hashOf := func(v any) []byte {
		if v == nil {
			return nil
		}
		vb, err := lvs.Serialize(subTopic+"-vh", v.(V))
		if err != nil {
			return nil
		}
		h := fnv.New128a()
		h.Write(vb)
		return h.Sum(nil)
	}
	fkBytes := func(fk any) []byte {
		if isNull(fk) {
			return nil
		}
		kb, _ := rks.Serialize(subTopic+"-fk", fk.(KO))
		return kb
	}

	// Left side: send subscriptions keyed by foreign key.
	b.addProcessor(regName, funcSupplier(func(ctx *nodeContext, r anyRecord) {
		c := r.Value.(change)
		hash := hashOf(c.newV)
		send := func(fk any, instr byte) {
			ctx.forward(anyRecord{Key: fk, Value: subscription{hash: hash, instruction: instr, pk: r.Key, partition: ctx.task.rc.partition},
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
				if !isNull(oldFK) && !bytes.Equal(fkBytes(newFK), fkBytes(oldFK)) {
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
			if !bytes.Equal(fkBytes(newFK), fkBytes(oldFK)) {
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
	subSerde := subscriptionSerde[K]{pk: lks}
	b.addNode(&node{name: regSink, kind: sinkNode, topic: subTopic, internal: true, parents: []string{regName},
		ser: func(topic string, k, v any) ([]byte, []byte, error) {
			vb, err := subSerde.Serialize(topic, v.(subscription))
			return fkBytes(k), vb, err
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
	combined := func(fk, pk any) ([]byte, error) {
		pb, err := lks.Serialize(subTopic+"-pk", pk.(K))
		if err != nil {
			return nil, err
		}
		fb := fkBytes(fk)
		out := binary.BigEndian.AppendUint32(nil, uint32(len(fb)))
		return append(append(out, fb...), pb...), nil
	}
	b.addStore(&kvBuilder{name: storeName, ks: erase1(serde.Bytes()), vs: erase1[subscription](subSerde), opts: applyStoreOptions(nil)})
	b.addProcessor(receiveName, func() anyProcessor {
		return &fkReceiveProc{store: storeName, combined: combined}
	}, regSource)
	b.connect(receiveName, storeName)
	b.addProcessor(joinForeignName, func() anyProcessor { return &fkJoinForeignProc{getter: rg} }, receiveName)
	b.connect(joinForeignName, rg.stores...)
	b.addProcessor(foreignJoinName, func() anyProcessor {
		return &fkForeignJoinProc{store: storeName, prefix: func(fk any) []byte {
			fb := fkBytes(fk)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(fb))), fb...)
		}, pkOf: func(key []byte) (any, error) {
			if len(key) < 4 {
				return nil, errFKFormat
			}
			n := int(binary.BigEndian.Uint32(key))
			if len(key) < 4+n {
				return nil, errFKFormat
			}
			pk, err := lks.Deserialize(subTopic+"-pk", key[4+n:])
			return pk, err
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
	combined func(fk, pk any) ([]byte, error)
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
	key, err := p.combined(r.Key, s.pk)
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
	prefix func(fk any) []byte
	pkOf   func(key []byte) (any, error)
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
	subs, err := p.st.prefixScan(p.prefix(r.Key))
	if err != nil {
		p.ctx.task.fail(err)
		return
	}
	for _, e := range subs {
		pk, err := p.pkOf(e.Key)
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
	hashOf   func(v any) []byte
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
	if !bytes.Equal(resp.hash, p.hashOf(cur)) {
		return // a newer left value overtook this answer
	}
	var result any
	if resp.value != nil || (p.leftJoin && cur != nil) {
		result = p.joiner(cur, resp.value)
	}
	p.ctx.forward(anyRecord{Key: r.Key, Value: result, Timestamp: r.Timestamp, Headers: r.Headers})
}

// subscriptionSerde writes a subscription: version (1), instruction, hash
// length (0 or 16) and hash, partition (int32 big-endian), primary key.
type subscriptionSerde[K any] struct{ pk Serde[K] }

func (s subscriptionSerde[K]) Serialize(topic string, v subscription) ([]byte, error) {
	pb, err := s.pk.Serialize(topic, as[K](v.pk))
	if err != nil {
		return nil, err
	}
	out := []byte{1, v.instruction, byte(len(v.hash))}
	out = append(out, v.hash...)
	out = binary.BigEndian.AppendUint32(out, uint32(v.partition))
	return append(out, pb...), nil
}

func (s subscriptionSerde[K]) Deserialize(topic string, b []byte) (subscription, error) {
	var v subscription
	if len(b) < 3 || b[0] != 1 || len(b) < 3+int(b[2])+4 {
		return v, fmt.Errorf("%w: subscription of %d bytes", errFKFormat, len(b))
	}
	v.instruction = b[1]
	n := int(b[2])
	if n > 0 {
		v.hash = bytes.Clone(b[3 : 3+n])
	}
	v.partition = int32(binary.BigEndian.Uint32(b[3+n:]))
	pk, err := s.pk.Deserialize(topic, b[3+n+4:])
	v.pk = pk
	return v, err
}

// responseSerde writes a response: version (1), hash length and hash,
// partition (int32 big-endian), a presence byte and the right value.
type responseSerde[VO any] struct{ vs Serde[VO] }

func (s responseSerde[VO]) Serialize(topic string, v fkResponse) ([]byte, error) {
	out := []byte{1, byte(len(v.hash))}
	out = append(out, v.hash...)
	out = binary.BigEndian.AppendUint32(out, uint32(v.partition))
	if v.value == nil {
		return append(out, 0), nil
	}
	vb, err := s.vs.Serialize(topic, v.value.(VO))
	if err != nil {
		return nil, err
	}
	return append(append(out, 1), vb...), nil
}

func (s responseSerde[VO]) Deserialize(topic string, b []byte) (fkResponse, error) {
	var v fkResponse
	if len(b) < 2 || b[0] != 1 || len(b) < 2+int(b[1])+5 {
		return v, fmt.Errorf("%w: response of %d bytes", errFKFormat, len(b))
	}
	n := int(b[1])
	if n > 0 {
		v.hash = bytes.Clone(b[2 : 2+n])
	}
	v.partition = int32(binary.BigEndian.Uint32(b[2+n:]))
	if b[2+n+4] == 1 {
		x, err := s.vs.Deserialize(topic, b[2+n+5:])
		if err != nil {
			return v, err
		}
		v.value = x
	}
	return v, nil
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
