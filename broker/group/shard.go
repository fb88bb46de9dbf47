package group

import (
	"errors"
	"log/slog"
	"time"
)

// newMemberJoinTimeout bounds how long a new member's JoinGroup may wait in
// a rebalance (Kafka's NewMemberJoinTimeoutMs): a client that gave up and
// retried must not leave a defunct member behind for ever.
const newMemberJoinTimeout = 5 * time.Minute

// shardConfig is what a shard needs of the coordinator's configuration.
type shardConfig struct {
	minSession, maxSession time.Duration // group.min/max.session.timeout.ms
	initialDelay           time.Duration // group.initial.rebalance.delay.ms
	maxSize                int           // group.max.size
	retention              time.Duration // offsets.retention.minutes
	retentionCheck         time.Duration // offsets.retention.check.interval.ms
	metadataMaxBytes       int           // offset.metadata.max.bytes
	// newMemberID returns prefix-uuid.
	newMemberID func(prefix string) string
	log         *slog.Logger
}

// kv is one record for __consumer_offsets; a nil value is a
// tombstone.
type kv struct {
	key, value []byte
}

// write is records to append as one batch, and what to do once the append
// has succeeded or failed.
type write struct {
	records []kv
	done    func(err error)
	// txn, when set, writes the records in that producer's transaction.
	txn *txnProducer
}

// txnProducer is the transactional producer an offset commit belongs to.
type txnProducer struct {
	id    int64
	epoch int16
}

// shard holds the groups of one __consumer_offsets partition. It is a
// state machine: it never blocks, starts goroutines or reads a clock.
// Every entry point runs inside run, which sets the time and fires the
// deadlines that have passed; appends go to an outbox (takeWrites) and
// their outcome comes back through the write's done function, which the
// caller must also invoke inside run.
type shard struct {
	cfg       shardConfig
	log       *slog.Logger
	now       time.Time
	groups    map[string]*group
	timers    timers
	writes    []write
	commitSeq uint64
	// txnGroups are the groups holding offsets of each open transaction,
	// by producer ID.
	txnGroups map[int64]map[string]bool
}

func newShard(cfg shardConfig) *shard {
	s := &shard{cfg: cfg, log: cfg.log, groups: map[string]*group{}, txnGroups: map[int64]map[string]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// run executes fn at now and then fires every deadline due by now.
func (s *shard) run(now time.Time, fn func()) {
	if now.After(s.now) {
		s.now = now
	}
	if fn != nil {
		fn()
	}
	for {
		key, ok := s.timers.Pop(s.now)
		if !ok {
			return
		}
		s.fire(key)
	}
}

// next is the earliest deadline, when the shard wants run called again.
func (s *shard) next() (time.Time, bool) { return s.timers.Next() }

// takeWrites returns and clears the outbox. The writes must be appended in
// order.
func (s *shard) takeWrites() []write {
	w := s.writes
	s.writes = nil
	return w
}

func (s *shard) write(recs []kv, done func(error)) {
	if len(recs) == 0 {
		done(nil)
		return
	}
	s.writes = append(s.writes, write{records: recs, done: done})
}

// startExpiration schedules the periodic offset expiration.
func (s *shard) startExpiration() {
	if s.cfg.retentionCheck > 0 {
		s.timers.Set(timerKey{kind: timerExpire}, s.now.Add(s.cfg.retentionCheck))
	}
}

func (s *shard) fire(key timerKey) {
	if key.kind == timerExpire {
		s.expireOffsets()
		s.startExpiration()
		return
	}
	g := s.groups[key.group]
	if g == nil || g.is(Dead) {
		return
	}
	switch key.kind {
	case timerSession:
		m := g.members[key.member]
		if m == nil {
			return
		}
		// Members waiting in a rebalance are kept alive by it; only new
		// members, whose wait is bounded separately, expire there.
		if !m.isNew && (m.join != nil || m.sync != nil) {
			return
		}
		s.log.Info("member failed to heartbeat; removing it", "group", g.id, "member", m.id)
		s.removeMember(g, m, "session timeout")
	case timerPending:
		if g.pending[key.member] {
			delete(g.pending, key.member)
			s.maybeCompleteJoin(g)
		}
	case timerJoin:
		s.onJoinTimer(g)
	case timerSync:
		s.onSyncTimer(g)
	}
}

func sessionKey(g *group, memberID string) timerKey {
	return timerKey{kind: timerSession, group: g.id, member: memberID}
}

// heartbeat restarts m's session timer with timeout.
func (s *shard) heartbeatIn(g *group, m *member, timeout time.Duration) {
	s.timers.Set(sessionKey(g, m.id), s.now.Add(timeout))
}

// group returns the group, creating an empty one when create is set.
func (s *shard) group(id string, create bool) *group {
	g := s.groups[id]
	if g == nil && create {
		g = newGroup(id, s.now)
		s.groups[id] = g
	}
	return g
}

// dropGroup removes a Dead group and its deadlines.
func (s *shard) dropGroup(g *group) {
	if s.groups[g.id] == g {
		delete(s.groups, g.id)
	}
	for id := range g.members {
		s.timers.Cancel(sessionKey(g, id))
	}
	for id := range g.pending {
		s.timers.Cancel(timerKey{kind: timerPending, group: g.id, member: id})
	}
	s.timers.Cancel(timerKey{kind: timerJoin, group: g.id})
	s.timers.Cancel(timerKey{kind: timerSync, group: g.id})
}

// unload ends the shard: every waiting request is answered with
// ErrNotCoordinator, as Kafka answers when a coordinator resigns, and
// every group is Dead.
func (s *shard) unload() {
	for _, g := range s.groups {
		for _, m := range g.membersInOrder() {
			g.completeJoin(m, JoinResult{Err: ErrNotCoordinator, MemberID: m.id})
			g.completeSync(m, SyncResult{Err: ErrNotCoordinator})
		}
		g.transition(Dead, s.now)
		s.dropGroup(g)
	}
}

// storeError maps a failed group metadata write to the error members see,
// as Kafka's coordinator maps it: a replication timeout asks them to
// rejoin.
func storeError(err error) error {
	if errors.Is(err, errWriteTimeout) {
		return ErrRebalanceInProgress
	}
	return err
}

// commitError maps a failed offset commit write to the error the committer
// sees, as Kafka's coordinator maps it.
func commitError(err error) error {
	switch {
	case errors.Is(err, errWriteTimeout):
		return ErrCoordinatorNotAvailable
	case errors.Is(err, errWriteTooLarge):
		return ErrInvalidCommitOffsetSize
	}
	return err
}

// storeGroup writes the group's metadata with assignments.
func (s *shard) storeGroup(g *group, assignments map[string][]byte, done func(error)) {
	v := g.metadataValue(assignments)
	s.write([]kv{{key: GroupKey(g.id).AppendTo(nil), value: v.AppendTo(nil)}}, func(err error) {
		if err != nil {
			err = storeError(err)
		}
		done(err)
	})
}
