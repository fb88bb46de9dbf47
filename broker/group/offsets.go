package group

import (
	"cmp"
	"slices"
)

// This file holds committed offsets (OffsetCommit, OffsetFetch,
// OffsetDelete, expiration), group administration (DescribeGroups,
// ListGroups, DeleteGroups) and the replay that rebuilds a shard.

// validateCommit applies Kafka's rules for who may commit: anyone to an
// empty group with generation -1 (simple consumers, admin tools), members
// of the current generation otherwise, and nobody while the group waits
// for its leader's assignment.
func (s *shard) validateCommit(g *group, req CommitRequest) error {
	if g.is(Dead) {
		return ErrCoordinatorNotAvailable
	}
	if req.Generation < 0 && g.is(Empty) {
		return nil
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != "" {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			return err
		}
		if req.Generation != g.generation {
			return ErrIllegalGeneration
		}
	} else if !g.is(Empty) {
		return ErrUnknownMemberID
	}
	if g.is(CompletingRebalance) {
		return ErrRebalanceInProgress
	}
	return nil
}

// newOffsetValue is the record value of a committed offset (version 3,
// no expire timestamp), committed now.
func newOffsetValue(oc OffsetCommit, now int64) OffsetValue {
	return OffsetValue{Version: 3, Offset: oc.Offset, LeaderEpoch: oc.LeaderEpoch, Metadata: oc.Metadata, CommitTimestamp: now, ExpireTimestamp: -1}
}

// offsetRecord is the __consumer_offsets record of a committed offset.
func offsetRecord(groupID string, tp TopicPartition, v OffsetValue) kv {
	return kv{key: OffsetKey(groupID, tp.Topic, tp.Partition).AppendTo(nil), value: v.AppendTo(nil)}
}

// failAll answers a commit of n offsets with err for each.
func failAll(n int, err error, reply func([]error)) {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	reply(errs)
}

// commit handles an OffsetCommit; reply gets one error per offset, in
// order, once the records are written.
func (s *shard) commit(req CommitRequest, reply func([]error)) {
	errs := make([]error, len(req.Offsets))
	fail := func(err error) { failAll(len(req.Offsets), err, reply) }
	g := s.groups[req.Group]
	if g == nil {
		if req.Generation >= 0 {
			// An old generation of a group that is gone, or a member of a
			// group on another coordinator: either way, not accepted.
			fail(ErrIllegalGeneration)
			return
		}
		s.log.Info("creating a group for offsets committed outside group management", "group", req.Group)
		g = s.group(req.Group, true)
	}
	if err := s.validateCommit(g, req); err != nil {
		fail(err)
		return
	}
	if m := g.members[req.MemberID]; m != nil && (g.is(Stable) || g.is(PreparingRebalance)) {
		// A commit counts as a heartbeat. During PreparingRebalance the
		// previous generation may still commit; the heartbeat answer tells
		// the member to rejoin.
		s.heartbeatIn(g, m, m.sessionTimeout)
	}
	now := s.now.UnixMilli()
	expire := int64(-1)
	if req.Retention >= 0 {
		expire = now + req.Retention.Milliseconds()
	}
	type staged struct {
		i   int
		tp  TopicPartition
		val OffsetValue
	}
	var batch []staged
	var recs []kv
	for i, oc := range req.Offsets {
		if len(oc.Metadata) > s.cfg.metadataMaxBytes {
			errs[i] = ErrOffsetMetadataTooLarge
			continue
		}
		v := newOffsetValue(oc, now)
		if oc.CommitTimestamp >= 0 {
			v.CommitTimestamp = oc.CommitTimestamp
		}
		if expire >= 0 {
			v.Version, v.ExpireTimestamp = 1, expire
		}
		batch = append(batch, staged{i, oc.TopicPartition, v})
		recs = append(recs, offsetRecord(req.Group, oc.TopicPartition, v))
	}
	if len(batch) == 0 {
		reply(errs)
		return
	}
	s.commitSeq++
	seq := s.commitSeq
	for _, st := range batch {
		pc, ok := g.pendingCommits[st.tp]
		if !ok {
			pc.floor = seq
		}
		pc.latest = seq
		g.pendingCommits[st.tp] = pc
	}
	s.write(recs, func(err error) {
		if err != nil {
			err = commitError(err)
		}
		for _, st := range batch {
			errs[st.i] = err
			pc, ok := g.pendingCommits[st.tp]
			if !ok || seq < pc.floor {
				continue // deleted while being written
			}
			if pc.latest == seq {
				delete(g.pendingCommits, st.tp)
			}
			if err == nil && !g.is(Dead) {
				g.setOffset(st.tp, offsetEntry{st.val, seq})
			}
		}
		reply(errs)
	})
}

// fetch handles OffsetFetch for one group: the partitions asked for, or
// every partition with an offset when partitions is nil.
func (s *shard) fetch(groupID string, partitions []TopicPartition, requireStable bool) []FetchedOffset {
	g := s.groups[groupID]
	if g == nil || g.is(Dead) {
		out := make([]FetchedOffset, 0, len(partitions))
		for _, tp := range partitions {
			out = append(out, FetchedOffset{TopicPartition: tp, Offset: -1, LeaderEpoch: -1})
		}
		return out
	}
	if partitions == nil {
		for tp := range g.offsets {
			partitions = append(partitions, tp)
		}
		slices.SortFunc(partitions, compareTP)
	}
	out := make([]FetchedOffset, 0, len(partitions))
	for _, tp := range partitions {
		f := FetchedOffset{TopicPartition: tp, Offset: -1, LeaderEpoch: -1}
		if requireStable && g.commitPending(tp) {
			f.Err = ErrUnstableOffsetCommit
		} else if o, ok := g.offsets[tp]; ok {
			f.Offset, f.LeaderEpoch, f.Metadata = o.Offset, o.LeaderEpoch, o.Metadata
		}
		out = append(out, f)
	}
	return out
}

func compareTP(a, b TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// removeOffsets drops offsets from memory (and any commit of them in
// flight) and returns their tombstones.
func (s *shard) removeOffsets(g *group, tps []TopicPartition) []kv {
	var recs []kv
	for _, tp := range tps {
		delete(g.pendingCommits, tp)
		for pid, offs := range g.txnOffsets {
			delete(offs, tp)
			if len(offs) == 0 {
				delete(g.txnOffsets, pid)
			}
		}
		if _, ok := g.offsets[tp]; ok {
			delete(g.offsets, tp)
			recs = append(recs, kv{key: OffsetKey(g.id, tp.Topic, tp.Partition).AppendTo(nil)})
		}
	}
	return recs
}

// cleanup ends an empty group that has no offsets left: it becomes Dead,
// leaves the shard, and its metadata gets a tombstone.
func (s *shard) cleanup(g *group, recs []kv) []kv {
	if g.is(Empty) && !g.hasOffsets() {
		g.transition(Dead, s.now)
	}
	if g.is(Dead) {
		s.dropGroup(g)
		recs = append(recs, kv{key: GroupKey(g.id).AppendTo(nil)})
	}
	return recs
}

// deleteOffsets handles OffsetDelete: the group error, or one error per
// partition. reply runs once the tombstones are written.
func (s *shard) deleteOffsets(groupID string, tps []TopicPartition, reply func(error, []error)) {
	if groupID == "" {
		reply(ErrInvalidGroupID, nil)
		return
	}
	g := s.groups[groupID]
	if g == nil || g.is(Dead) {
		reply(ErrGroupIDNotFound, nil)
		return
	}
	errs := make([]error, len(tps))
	var eligible []TopicPartition
	switch {
	case g.is(Empty):
		eligible = tps
	case g.protocolType == consumerProtocolType:
		for i, tp := range tps {
			if g.isSubscribedTo(tp.Topic) {
				errs[i] = ErrGroupSubscribedToTopic
			} else {
				eligible = append(eligible, tp)
			}
		}
	default:
		reply(ErrNonEmptyGroup, nil)
		return
	}
	if len(eligible) == 0 {
		reply(nil, errs)
		return
	}
	recs := s.cleanup(g, s.removeOffsets(g, eligible))
	s.log.Info("offsets deleted", "group", g.id, "partitions", len(eligible))
	s.write(recs, func(err error) {
		if err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
		reply(nil, errs)
	})
}

// deleteGroup handles one group of DeleteGroups: only empty groups can be
// deleted; their offsets and metadata get tombstones. reply runs once they
// are written.
func (s *shard) deleteGroup(groupID string, reply func(error)) {
	g := s.groups[groupID]
	switch {
	case g == nil || g.is(Dead):
		reply(ErrGroupIDNotFound)
		return
	case !g.is(Empty):
		reply(ErrNonEmptyGroup)
		return
	}
	g.transition(Dead, s.now)
	all := make([]TopicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		all = append(all, tp)
	}
	slices.SortFunc(all, compareTP)
	recs := s.cleanup(g, s.removeOffsets(g, all))
	s.log.Info("group deleted", "group", g.id, "offsets", len(all))
	s.write(recs, reply)
}

// expireOffsets removes offsets past offsets.retention.minutes, as Kafka's
// periodic cleanup does: for an empty group, counted from when it became
// empty (or from each commit when that is unknown); for a stable consumer
// group, offsets of topics it no longer subscribes to, counted from their
// commit (KIP-496); for a group used only for commits, from each commit.
// Offsets committed with an explicit retention expire at their expire
// timestamp. Groups left empty and without offsets are removed.
func (s *shard) expireOffsets() {
	now := s.now.UnixMilli()
	retention := s.cfg.retention.Milliseconds()
	var recs []kv
	ids := make([]string, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g := s.groups[id]
		var base func(o offsetEntry) int64
		var keep map[string]bool
		switch {
		case g.protocolType != "" && g.is(Empty):
			base = func(o offsetEntry) int64 {
				if !g.stateTime.IsZero() {
					return g.stateTime.UnixMilli()
				}
				return o.CommitTimestamp
			}
		case g.protocolType == consumerProtocolType && g.subscribedKnown && g.is(Stable):
			base = func(o offsetEntry) int64 { return o.CommitTimestamp }
			keep = g.subscribed
		case g.protocolType == "":
			base = func(o offsetEntry) int64 { return o.CommitTimestamp }
		}
		var expired []TopicPartition
		if base != nil {
			for tp, o := range g.offsets {
				if keep[tp.Topic] {
					continue
				}
				if g.commitPending(tp) {
					continue
				}
				if o.ExpireTimestamp >= 0 && now >= o.ExpireTimestamp ||
					o.ExpireTimestamp < 0 && now-base(o) >= retention {
					expired = append(expired, tp)
				}
			}
		}
		slices.SortFunc(expired, compareTP)
		r := s.removeOffsets(g, expired)
		if len(expired) > 0 {
			s.log.Info("offsets expired", "group", g.id, "partitions", len(expired))
		}
		recs = append(recs, s.cleanup(g, r)...)
	}
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("could not write tombstones of expired offsets", "err", err)
		}
	})
}

// removeTopics drops every group's offsets of the given (deleted) topics,
// writing their tombstones; groups left empty without offsets are
// removed.
func (s *shard) removeTopics(topics map[string]bool) {
	ids := make([]string, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var recs []kv
	for _, id := range ids {
		g := s.groups[id]
		var tps []TopicPartition
		for tp := range g.offsets {
			if topics[tp.Topic] {
				tps = append(tps, tp)
			}
		}
		for tp := range g.pendingCommits {
			if topics[tp.Topic] {
				tps = append(tps, tp)
			}
		}
		for _, offs := range g.txnOffsets {
			for tp := range offs {
				if topics[tp.Topic] {
					tps = append(tps, tp)
				}
			}
		}
		tps = slices.Compact(slices.SortedFunc(slices.Values(tps), compareTP))
		if len(tps) == 0 {
			continue
		}
		recs = append(recs, s.cleanup(g, s.removeOffsets(g, tps))...)
		s.log.Info("offsets of deleted topics removed", "group", g.id, "partitions", len(tps))
	}
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("could not write tombstones of deleted topics' offsets", "err", err)
		}
	})
}

// describe handles DescribeGroups for one group.
func (s *shard) describe(groupID string) GroupDescription {
	g := s.groups[groupID]
	if g == nil {
		return GroupDescription{Group: groupID, State: Dead}
	}
	return g.summary()
}

// list returns every group of the shard.
func (s *shard) list() []GroupListing {
	out := make([]GroupListing, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, GroupListing{Group: g.id, ProtocolType: g.protocolType, State: g.state})
	}
	return out
}

// loader collects the last record per key while a partition is replayed.
// Offsets written in a transaction are held per producer until the
// transaction's marker says whether they count.
type loader struct {
	groups  map[string]*GroupValue
	offsets map[string]map[TopicPartition]offsetEntry
	txn     map[int64]map[string]map[TopicPartition]offsetEntry
	seq     uint64
}

func newLoader() *loader {
	return &loader{
		groups:  map[string]*GroupValue{},
		offsets: map[string]map[TopicPartition]offsetEntry{},
		txn:     map[int64]map[string]map[TopicPartition]offsetEntry{},
	}
}

// apply replays one record, written in a transaction of producerID or
// outside one (producerID < 0). Records Runnel cannot read are reported
// and skipped: one bad record must not keep every group of the partition
// from loading.
func (l *loader) apply(producerID int64, key, value []byte) error {
	k, err := ParseKey(key)
	if err != nil {
		return err
	}
	l.seq++
	if k.IsOffset() {
		tp := TopicPartition{k.Topic, k.Partition}
		if value == nil {
			delete(l.offsets[k.Group], tp)
			for _, groups := range l.txn {
				delete(groups[k.Group], tp)
			}
			return nil
		}
		v, err := ParseOffsetValue(value)
		if err != nil {
			return err
		}
		into := l.offsets
		if producerID >= 0 {
			if l.txn[producerID] == nil {
				l.txn[producerID] = map[string]map[TopicPartition]offsetEntry{}
			}
			into = l.txn[producerID]
		}
		if into[k.Group] == nil {
			into[k.Group] = map[TopicPartition]offsetEntry{}
		}
		into[k.Group][tp] = offsetEntry{v, l.seq}
		return nil
	}
	if value == nil {
		delete(l.groups, k.Group)
		return nil
	}
	v, err := ParseGroupValue(value)
	if err != nil {
		return err
	}
	l.groups[k.Group] = &v
	return nil
}

// endTxn replays a transaction marker: a commit makes the producer's
// offsets count (unless a later commit replaced them), an abort drops them.
func (l *loader) endTxn(producerID int64, commit bool) {
	groups := l.txn[producerID]
	delete(l.txn, producerID)
	if !commit {
		return
	}
	for id, offs := range groups {
		if l.offsets[id] == nil {
			l.offsets[id] = map[TopicPartition]offsetEntry{}
		}
		for tp, e := range offs {
			if cur, ok := l.offsets[id][tp]; !ok || cur.seq < e.seq {
				l.offsets[id][tp] = e
			}
		}
	}
}

// finish installs the replayed groups in s: every group with metadata,
// and every group with offsets but none (offsets committed outside group
// management). Offsets of transactions still open stay pending.
func (l *loader) finish(s *shard) {
	for id, v := range l.groups {
		s.loadedGroup(id, v, l.offsets[id])
	}
	for id, offs := range l.offsets {
		if _, ok := l.groups[id]; !ok && len(offs) > 0 {
			s.loadedGroup(id, nil, offs)
		}
	}
	for pid, groups := range l.txn {
		for id, offs := range groups {
			if len(offs) == 0 {
				continue
			}
			g := s.group(id, true)
			pending := map[TopicPartition]txnOffset{}
			for tp, e := range offs {
				pending[tp] = txnOffset{val: e.OffsetValue, seq: e.seq, written: true}
			}
			g.txnOffsets[pid] = pending
			s.addTxnGroup(pid, id)
		}
	}
	s.commitSeq = l.seq
	s.startExpiration()
}
