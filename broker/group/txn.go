package group

// This file holds offsets committed inside transactions (TxnOffsetCommit,
// KIP-98 and KIP-447): they are written to __consumer_offsets in the
// producer's transaction, held aside per producer, and take effect or are
// dropped when the transaction coordinator's marker reaches the partition.

// TxnCommitRequest is a TxnOffsetCommit.
type TxnCommitRequest struct {
	Group           string
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// Generation, MemberID and InstanceID (v3+, KIP-447) fence zombie
	// consumers of the group; -1 and empty skip the check.
	Generation int32
	MemberID   string
	InstanceID string
	Offsets    []OffsetCommit
}

// validateTxnCommit applies Kafka's rules for transactional commits: the
// group's member, instance and generation are checked only when the
// producer gives them.
func (s *shard) validateTxnCommit(g *group, req TxnCommitRequest) error {
	switch {
	case g.is(Dead):
		return ErrCoordinatorNotAvailable
	case req.InstanceID != "" && g.static[req.InstanceID] != "" && g.static[req.InstanceID] != req.MemberID:
		return ErrFencedInstanceID
	case req.MemberID != "" && g.members[req.MemberID] == nil:
		return ErrUnknownMemberID
	case req.Generation >= 0 && req.Generation != g.generation:
		return ErrIllegalGeneration
	}
	return nil
}

// txnCommit handles a TxnOffsetCommit; reply gets one error per offset, in
// order, once the records are written. The offsets stay pending until
// completeTxn.
func (s *shard) txnCommit(req TxnCommitRequest, reply func([]error)) {
	errs := make([]error, len(req.Offsets))
	fail := func(err error) { failAll(len(req.Offsets), err, reply) }
	g := s.groups[req.Group]
	if g == nil {
		if req.Generation >= 0 || req.MemberID != "" {
			fail(ErrIllegalGeneration)
			return
		}
		g = s.group(req.Group, true)
	}
	if err := s.validateTxnCommit(g, req); err != nil {
		fail(err)
		return
	}
	now := s.now.UnixMilli()
	s.commitSeq++
	seq := s.commitSeq
	type staged struct {
		i  int
		tp TopicPartition
	}
	var batch []staged
	var recs []kv
	pending := g.txnOffsets[req.ProducerID]
	for i, oc := range req.Offsets {
		if len(oc.Metadata) > s.cfg.metadataMaxBytes {
			errs[i] = ErrOffsetMetadataTooLarge
			continue
		}
		v := newOffsetValue(oc, now)
		if pending == nil {
			pending = map[TopicPartition]txnOffset{}
			g.txnOffsets[req.ProducerID] = pending
		}
		pending[oc.TopicPartition] = txnOffset{val: v, seq: seq}
		batch = append(batch, staged{i, oc.TopicPartition})
		recs = append(recs, offsetRecord(req.Group, oc.TopicPartition, v))
	}
	if len(batch) == 0 {
		reply(errs)
		return
	}
	s.addTxnGroup(req.ProducerID, req.Group)
	s.writes = append(s.writes, write{
		records: recs,
		txn:     &txnProducer{id: req.ProducerID, epoch: req.ProducerEpoch},
		done: func(err error) {
			if err != nil {
				err = commitError(err)
			}
			offs := g.txnOffsets[req.ProducerID]
			for _, st := range batch {
				errs[st.i] = err
				e, ok := offs[st.tp]
				if !ok || e.seq != seq {
					continue // ended, deleted or replaced meanwhile
				}
				if err != nil {
					delete(offs, st.tp)
				} else {
					e.written = true
					offs[st.tp] = e
				}
			}
			if offs != nil && len(offs) == 0 {
				delete(g.txnOffsets, req.ProducerID)
			}
			reply(errs)
		},
	})
}

func (s *shard) addTxnGroup(producerID int64, groupID string) {
	groups := s.txnGroups[producerID]
	if groups == nil {
		groups = map[string]bool{}
		s.txnGroups[producerID] = groups
	}
	groups[groupID] = true
}

// completeTxn ends a producer's transaction on this partition, as its
// marker does: on commit its offsets replace older committed ones, on
// abort they are dropped. An unknown producer is a no-op (the marker was
// replayed already, or the transaction committed no offsets here).
func (s *shard) completeTxn(producerID int64, commit bool) {
	groups := s.txnGroups[producerID]
	delete(s.txnGroups, producerID)
	for id := range groups {
		g := s.groups[id]
		if g == nil {
			continue
		}
		offs := g.txnOffsets[producerID]
		delete(g.txnOffsets, producerID)
		if !commit || g.is(Dead) {
			continue
		}
		for tp, e := range offs {
			if e.written {
				g.setOffset(tp, offsetEntry{e.val, e.seq})
			}
		}
	}
}

// setOffset installs a committed offset unless one written later is there.
func (g *group) setOffset(tp TopicPartition, e offsetEntry) {
	if cur, ok := g.offsets[tp]; ok && cur.seq > e.seq {
		return
	}
	g.offsets[tp] = e
}

// commitPending reports whether an offset of tp is being written or waits
// for its transaction to end: OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for it.
func (g *group) commitPending(tp TopicPartition) bool {
	if _, ok := g.pendingCommits[tp]; ok {
		return true
	}
	for _, offs := range g.txnOffsets {
		if _, ok := offs[tp]; ok {
			return true
		}
	}
	return false
}
