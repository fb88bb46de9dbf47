package group

import (
	"maps"
	"time"
)

// This file holds the classic rebalance protocol: JoinGroup, SyncGroup,
// Heartbeat and LeaveGroup and the state changes they drive, matching
// Kafka's GroupCoordinator check for check.

// join handles a JoinGroup; reply may be called now or when the rebalance
// completes.
func (s *shard) join(req JoinRequest, reply func(JoinResult)) {
	if req.Group == "" {
		reply(JoinResult{Err: ErrInvalidGroupID, MemberID: req.MemberID})
		return
	}
	if req.SessionTimeout < s.cfg.minSession || req.SessionTimeout > s.cfg.maxSession {
		reply(JoinResult{Err: ErrInvalidSessionTimeout, MemberID: req.MemberID})
		return
	}
	unknown := req.MemberID == ""
	g := s.group(req.Group, unknown)
	if g == nil {
		reply(JoinResult{Err: ErrUnknownMemberID, MemberID: req.MemberID})
		return
	}
	switch {
	case !s.acceptJoiningMember(g, req.MemberID):
		if m := g.members[req.MemberID]; m != nil {
			s.timers.Cancel(sessionKey(g, m.id))
			g.completeJoin(m, JoinResult{Err: ErrGroupMaxSizeReached})
			g.completeSync(m, SyncResult{Err: ErrGroupMaxSizeReached})
		}
		g.remove(req.MemberID)
		reply(JoinResult{Err: ErrGroupMaxSizeReached})
	case unknown:
		s.newMemberJoin(g, req, reply)
	default:
		s.currentMemberJoin(g, req, reply)
	}
	if g.is(PreparingRebalance) {
		s.maybeCompleteJoin(g)
	}
}

// acceptJoiningMember applies group.max.size: members already waiting are
// kept; new ones are turned away once the group (or, while preparing a
// rebalance, the number of members that have joined) is full.
func (s *shard) acceptJoiningMember(g *group, memberID string) bool {
	switch g.state {
	case PreparingRebalance:
		m := g.members[memberID]
		return m != nil && m.join != nil || g.awaitingJoin < s.cfg.maxSize
	case CompletingRebalance, Stable:
		return g.members[memberID] != nil || len(g.members) < s.cfg.maxSize
	}
	return true
}

func (s *shard) newMemberJoin(g *group, req JoinRequest, reply func(JoinResult)) {
	switch {
	case g.is(Dead):
		reply(JoinResult{Err: ErrCoordinatorNotAvailable})
		return
	case !g.supportsProtocols(req.ProtocolType, req.Protocols):
		reply(JoinResult{Err: ErrInconsistentGroupProtocol})
		return
	}
	prefix := req.ClientID
	if req.InstanceID != "" {
		prefix = req.InstanceID
	}
	id := s.cfg.newMemberID(prefix)
	switch {
	case req.InstanceID != "":
		if old, ok := g.static[req.InstanceID]; ok {
			s.log.Info("static member rejoined with a new member id", "group", g.id, "instance", req.InstanceID, "member", id, "old_member", old)
			s.replaceStaticMember(g, old, id, req, reply)
			return
		}
		s.addMemberAndRebalance(g, id, req, reply)
	case req.RequireKnownMemberID:
		// KIP-394: the member must come back with this ID, so that a
		// client that times out and retries does not add members.
		g.pending[id] = true
		s.timers.Set(timerKey{kind: timerPending, group: g.id, member: id}, s.now.Add(req.SessionTimeout))
		reply(JoinResult{Err: ErrMemberIDRequired, MemberID: id})
	default:
		s.addMemberAndRebalance(g, id, req, reply)
	}
}

func (s *shard) currentMemberJoin(g *group, req JoinRequest, reply func(JoinResult)) {
	switch {
	case g.is(Dead):
		reply(JoinResult{Err: ErrCoordinatorNotAvailable, MemberID: req.MemberID})
		return
	case !g.supportsProtocols(req.ProtocolType, req.Protocols):
		reply(JoinResult{Err: ErrInconsistentGroupProtocol, MemberID: req.MemberID})
		return
	case g.pending[req.MemberID]:
		if req.InstanceID != "" {
			// Pending IDs are handed only to dynamic members. Kafka fails
			// this with an internal error; the member does not exist as
			// a static member, so Runnel answers as for any unknown one.
			reply(JoinResult{Err: ErrUnknownMemberID, MemberID: req.MemberID})
			return
		}
		s.timers.Cancel(timerKey{kind: timerPending, group: g.id, member: req.MemberID})
		s.addMemberAndRebalance(g, req.MemberID, req, reply)
		return
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		reply(JoinResult{Err: err, MemberID: req.MemberID})
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		s.updateMemberAndRebalance(g, m, req, reply)
	case CompletingRebalance:
		if m.matches(req.Protocols) {
			// The member lost its JoinGroup answer; give it again.
			reply(s.currentGeneration(g, m.id, g.leader == m.id))
			return
		}
		s.updateMemberAndRebalance(g, m, req, reply)
	case Stable:
		// A leader's join forces a rebalance: it is how a consumer leader
		// reacts to metadata changes its members' subscriptions do not show.
		if g.leader == m.id || !m.matches(req.Protocols) {
			s.updateMemberAndRebalance(g, m, req, reply)
			return
		}
		reply(s.currentGeneration(g, m.id, false))
	default:
		reply(JoinResult{Err: ErrUnknownMemberID, MemberID: req.MemberID})
	}
}

// currentGeneration is a JoinGroup answer describing the generation in
// place, with the member list when withMembers.
func (s *shard) currentGeneration(g *group, memberID string, withMembers bool) JoinResult {
	r := JoinResult{
		MemberID:     memberID,
		Generation:   g.generation,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		Leader:       g.leader,
	}
	if withMembers {
		r.Members = g.joinMembers()
	}
	return r
}

func (s *shard) addMemberAndRebalance(g *group, id string, req JoinRequest, reply func(JoinResult)) {
	m := &member{
		id:               id,
		instanceID:       req.InstanceID,
		clientID:         req.ClientID,
		clientHost:       req.ClientHost,
		sessionTimeout:   req.SessionTimeout,
		rebalanceTimeout: req.RebalanceTimeout,
		protocolType:     req.ProtocolType,
		protocols:        req.Protocols,
		isNew:            true,
	}
	if g.is(PreparingRebalance) && g.generation == 0 {
		g.newMemberAdded = true
	}
	g.add(m, reply)
	// A new member cannot heartbeat until its JoinGroup is answered; its
	// wait is bounded instead by newMemberJoinTimeout.
	s.heartbeatIn(g, m, newMemberJoinTimeout)
	s.log.Debug("member joined", "group", g.id, "member", id, "instance", req.InstanceID, "reason", req.Reason)
	s.maybePrepareRebalance(g, "new member "+id+" joined")
}

func (s *shard) updateMemberAndRebalance(g *group, m *member, req JoinRequest, reply func(JoinResult)) {
	if m.join != nil {
		// A second JoinGroup for a member replaces the first (its client
		// gave up on it); answer the first rather than leave it hanging.
		g.completeJoin(m, JoinResult{Err: ErrRebalanceInProgress, MemberID: m.id})
	}
	g.updateMember(m, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, reply)
	s.maybePrepareRebalance(g, "member "+m.id+" rejoined")
}

// replaceStaticMember gives a static member that restarted (it joins with
// its instance ID and no member ID) a new member ID. The old ID is fenced.
// A stable group keeps its assignment and does not rebalance unless the
// member's protocols change the group's choice (KIP-345).
func (s *shard) replaceStaticMember(g *group, oldID, newID string, req JoinRequest, reply func(JoinResult)) {
	prevLeader := g.leader
	s.timers.Cancel(sessionKey(g, oldID))
	m := g.replaceStatic(req.InstanceID, oldID, newID)
	s.heartbeatIn(g, m, m.sessionTimeout)
	oldProtocols, oldRebalance, oldSession := m.protocols, m.rebalanceTimeout, m.sessionTimeout
	g.updateMember(m, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, reply)

	switch g.state {
	case Stable:
		if g.selectProtocol() != g.protocol {
			s.maybePrepareRebalance(g, "static member "+newID+" changed the group's protocol")
			return
		}
		assignments := map[string][]byte{}
		for id, mm := range g.members {
			assignments[id] = mm.assignment
		}
		s.storeGroup(g, assignments, func(err error) {
			if g.members[newID] != m {
				return // the member left or was replaced again meanwhile
			}
			if err != nil {
				s.log.Warn("could not store replaced static member; reverting", "group", g.id, "member", newID, "err", err)
				join := m.join
				g.updateMember(m, oldProtocols, oldRebalance, oldSession, nil)
				s.timers.Cancel(sessionKey(g, newID))
				old := g.replaceStatic(req.InstanceID, newID, oldID)
				s.heartbeatIn(g, old, old.sessionTimeout)
				if join != nil {
					join(JoinResult{
						Err: err, Generation: g.generation, ProtocolType: g.protocolType,
						Protocol: g.protocol, Leader: prevLeader,
					})
				}
				return
			}
			if req.SupportsSkipAssignment {
				// KIP-814: the leader learns it leads, with the members,
				// but skips the assignor while the group is stable.
				leads := g.leader == newID
				r := s.currentGeneration(g, newID, leads)
				r.SkipAssignment = leads
				g.completeJoin(m, r)
				return
			}
			// Older clients are told the old leader ID, so that a restarted
			// leader does not run an assignment the stable group would
			// ignore.
			r := s.currentGeneration(g, newID, false)
			r.Leader = prevLeader
			g.completeJoin(m, r)
		})
	case CompletingRebalance:
		// The leader may already have assigned to the old member ID, so the
		// generation cannot complete; start over.
		s.prepareRebalance(g, "static member "+newID+" replaced "+oldID+" during the sync phase")
	}
}

func (s *shard) maybePrepareRebalance(g *group, reason string) {
	if g.canRebalance() {
		s.prepareRebalance(g, reason)
	}
}

func (s *shard) prepareRebalance(g *group, reason string) {
	if g.is(CompletingRebalance) {
		s.resetAndPropagateAssignmentError(g, ErrRebalanceInProgress)
	}
	s.cancelSyncTimer(g)
	joinKey := timerKey{kind: timerJoin, group: g.id}
	if g.is(Empty) {
		// group.initial.rebalance.delay.ms: the first rebalance of an
		// empty group waits for more members, extending itself up to the
		// rebalance timeout while they keep coming.
		g.joinInitial = true
		g.initialRemaining = max(g.rebalanceTimeout()-s.cfg.initialDelay, 0)
		s.timers.Set(joinKey, s.now.Add(s.cfg.initialDelay))
	} else {
		g.joinInitial = false
		s.timers.Set(joinKey, s.now.Add(g.rebalanceTimeout()))
	}
	s.log.Info("preparing to rebalance group", "group", g.id, "state", g.state.String(), "generation", g.generation, "reason", reason)
	g.transition(PreparingRebalance, s.now)
	s.maybeCompleteJoin(g)
}

// maybeCompleteJoin ends the join phase once every member has rejoined
// (not during the initial delay, which always runs its course).
func (s *shard) maybeCompleteJoin(g *group) {
	if g.is(PreparingRebalance) && !g.joinInitial && g.hasAllMembersJoined() {
		s.completeJoinPhase(g)
	}
}

func (s *shard) onJoinTimer(g *group) {
	if !g.is(PreparingRebalance) {
		return
	}
	if g.joinInitial && g.newMemberAdded && g.initialRemaining > 0 {
		g.newMemberAdded = false
		delay := min(s.cfg.initialDelay, g.initialRemaining)
		g.initialRemaining = max(g.initialRemaining-delay, 0)
		s.timers.Set(timerKey{kind: timerJoin, group: g.id}, s.now.Add(delay))
		return
	}
	s.completeJoinPhase(g)
}

// completeJoinPhase ends the join phase: members that did not rejoin are
// dropped (static members are kept until their session expires), the next
// generation starts and every joined member gets its answer, the leader
// with the member list.
func (s *shard) completeJoinPhase(g *group) {
	s.timers.Cancel(timerKey{kind: timerJoin, group: g.id})
	g.joinInitial, g.newMemberAdded = false, false
	for _, m := range g.membersInOrder() {
		if m.join == nil && m.instanceID == "" {
			s.log.Info("member did not rejoin in time; removing it", "group", g.id, "member", m.id)
			s.timers.Cancel(sessionKey(g, m.id))
			g.completeSync(m, SyncResult{Err: ErrUnknownMemberID})
			g.remove(m.id)
		}
	}
	if !g.electJoinedLeader() && len(g.members) > 0 {
		// Only static members that have not rejoined are left: wait another
		// rebalance timeout for them or their sessions to end.
		s.log.Warn("no member rejoined; waiting another rebalance timeout", "group", g.id)
		s.timers.Set(timerKey{kind: timerJoin, group: g.id}, s.now.Add(g.rebalanceTimeout()))
		return
	}
	g.initNextGeneration(s.now)
	if g.is(Empty) {
		s.log.Info("group is empty", "group", g.id, "generation", g.generation)
		s.storeGroup(g, nil, func(err error) {
			if err != nil {
				// The last generation written stays in the log; with no
				// members in this one, that is harmless.
				s.log.Warn("could not store empty group", "group", g.id, "err", err)
			}
		})
		return
	}
	s.log.Info("group joined; awaiting the leader's assignment", "group", g.id, "generation", g.generation,
		"members", len(g.members), "protocol", g.protocol, "leader", g.leader)
	for _, m := range g.membersInOrder() {
		g.completeJoin(m, s.currentGeneration(g, m.id, g.leader == m.id))
		s.heartbeatIn(g, m, m.sessionTimeout)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	// Members that never send SyncGroup are removed after the rebalance
	// timeout, so that the group does not stay in CompletingRebalance.
	s.timers.Set(timerKey{kind: timerSync, group: g.id}, s.now.Add(g.rebalanceTimeout()))
}

func (s *shard) cancelSyncTimer(g *group) {
	clear(g.pendingSync)
	s.timers.Cancel(timerKey{kind: timerSync, group: g.id})
}

// syncReceived notes that a member sent SyncGroup.
func (s *shard) syncReceived(g *group, memberID string) {
	delete(g.pendingSync, memberID)
	if len(g.pendingSync) == 0 {
		s.timers.Cancel(timerKey{kind: timerSync, group: g.id})
	}
}

func (s *shard) onSyncTimer(g *group) {
	if !g.is(CompletingRebalance) && !g.is(Stable) || len(g.pendingSync) == 0 {
		return
	}
	var gone []string
	for _, m := range g.membersInOrder() {
		if g.pendingSync[m.id] {
			gone = append(gone, m.id)
		}
	}
	for _, id := range gone {
		s.log.Info("member did not sync in time; removing it", "group", g.id, "member", id)
		s.timers.Cancel(sessionKey(g, id))
		m := g.members[id]
		g.completeJoin(m, JoinResult{Err: ErrUnknownMemberID})
		g.remove(id)
	}
	s.prepareRebalance(g, "members did not sync within the rebalance timeout")
}

// removeMember removes a member that left or failed and lets the group
// react: a stable or syncing group rebalances, a joining one may now have
// everyone it waits for.
func (s *shard) removeMember(g *group, m *member, reason string) {
	g.completeJoin(m, JoinResult{Err: ErrUnknownMemberID})
	g.completeSync(m, SyncResult{Err: ErrUnknownMemberID})
	s.timers.Cancel(sessionKey(g, m.id))
	g.remove(m.id)
	switch g.state {
	case Stable, CompletingRebalance:
		s.maybePrepareRebalance(g, reason+" removed member "+m.id)
	case PreparingRebalance:
		s.maybeCompleteJoin(g)
	}
}

func (s *shard) resetAndPropagateAssignmentError(g *group, err error) {
	for _, m := range g.membersInOrder() {
		m.assignment = nil
	}
	s.propagateAssignment(g, err)
}

func (s *shard) propagateAssignment(g *group, err error) {
	for _, m := range g.membersInOrder() {
		r := SyncResult{Err: err}
		if err == nil {
			r = SyncResult{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: nonNil(m.assignment)}
		}
		if g.completeSync(m, r) {
			// The session restarts once the member has its answer: it may
			// have been kept alive only by waiting.
			s.heartbeatIn(g, m, m.sessionTimeout)
		}
	}
}

// sync handles a SyncGroup; reply may be called when the leader's
// assignment is stored.
func (s *shard) sync(req SyncRequest, reply func(SyncResult)) {
	if req.Group == "" {
		reply(SyncResult{Err: ErrInvalidGroupID})
		return
	}
	g := s.groups[req.Group]
	if g == nil {
		reply(SyncResult{Err: ErrUnknownMemberID})
		return
	}
	if err := s.validateSync(g, req); err != nil {
		reply(SyncResult{Err: err})
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case Empty:
		reply(SyncResult{Err: ErrUnknownMemberID})
	case PreparingRebalance:
		reply(SyncResult{Err: ErrRebalanceInProgress})
	case CompletingRebalance:
		if m.sync != nil {
			g.completeSync(m, SyncResult{Err: ErrRebalanceInProgress})
		}
		m.sync = reply
		s.syncReceived(g, m.id)
		if g.leader != m.id {
			return
		}
		assignments := make(map[string][]byte, len(g.members))
		for id := range g.members {
			assignments[id] = nonNil(req.Assignments[id])
		}
		gen := g.generation
		s.log.Info("assignment received from the leader", "group", g.id, "generation", gen, "members", len(g.members))
		s.storeGroup(g, assignments, func(err error) {
			// Another member may have started a rebalance meanwhile.
			if !g.is(CompletingRebalance) || g.generation != gen || s.groups[g.id] != g {
				return
			}
			if err != nil {
				s.log.Warn("could not store the group's assignment", "group", g.id, "err", err)
				s.resetAndPropagateAssignmentError(g, err)
				s.maybePrepareRebalance(g, "storing the assignment failed")
				return
			}
			for _, mm := range g.membersInOrder() {
				mm.assignment = assignments[mm.id]
			}
			s.propagateAssignment(g, nil)
			g.transition(Stable, s.now)
			s.log.Info("group is stable", "group", g.id, "generation", gen)
		})
	case Stable:
		s.syncReceived(g, m.id)
		reply(SyncResult{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: nonNil(m.assignment)})
		s.heartbeatIn(g, m, m.sessionTimeout)
	default:
		reply(SyncResult{Err: ErrCoordinatorNotAvailable})
	}
}

func (s *shard) validateSync(g *group, req SyncRequest) error {
	if g.is(Dead) {
		return ErrCoordinatorNotAvailable
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	switch {
	case req.Generation != g.generation:
		return ErrIllegalGeneration
	case req.ProtocolType != nil && (g.protocolType == "" || *req.ProtocolType != g.protocolType):
		return ErrInconsistentGroupProtocol
	case req.Protocol != nil && (g.protocol == "" || *req.Protocol != g.protocol):
		return ErrInconsistentGroupProtocol
	}
	return nil
}

// heartbeat handles a Heartbeat.
func (s *shard) heartbeat(req HeartbeatRequest) error {
	if req.Group == "" {
		return ErrInvalidGroupID
	}
	g := s.groups[req.Group]
	switch {
	case g == nil:
		return ErrUnknownMemberID
	case g.is(Dead):
		return ErrCoordinatorNotAvailable
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return ErrIllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case Empty:
		return ErrUnknownMemberID
	case PreparingRebalance:
		s.heartbeatIn(g, m, m.sessionTimeout)
		return ErrRebalanceInProgress
	}
	// A member may heartbeat as soon as it has its JoinGroup answer, in
	// CompletingRebalance as in Stable.
	s.heartbeatIn(g, m, m.sessionTimeout)
	return nil
}

// leave handles a LeaveGroup of one or more members.
func (s *shard) leave(group string, members []LeaveMember) LeaveResult {
	if group == "" {
		return LeaveResult{Err: ErrInvalidGroupID}
	}
	res := LeaveResult{Members: make([]error, len(members))}
	g := s.groups[group]
	if g == nil {
		for i := range members {
			res.Members[i] = ErrUnknownMemberID
		}
		return res
	}
	if g.is(Dead) {
		return LeaveResult{Err: ErrCoordinatorNotAvailable}
	}
	for i, lm := range members {
		switch {
		case lm.MemberID == "":
			// An administrator removes a static member by instance ID.
			id, ok := g.static[lm.InstanceID]
			if lm.InstanceID == "" || !ok {
				res.Members[i] = ErrUnknownMemberID
				continue
			}
			s.log.Info("static member removed by LeaveGroup", "group", g.id, "member", id, "reason", lm.Reason)
			s.removeMember(g, g.members[id], "leave group")
		case g.pending[lm.MemberID]:
			delete(g.pending, lm.MemberID)
			s.timers.Cancel(timerKey{kind: timerPending, group: g.id, member: lm.MemberID})
			s.maybeCompleteJoin(g)
		default:
			if err := g.validateMember(lm.MemberID, lm.InstanceID); err != nil {
				res.Members[i] = err
				continue
			}
			s.log.Info("member left the group", "group", g.id, "member", lm.MemberID, "reason", lm.Reason)
			s.removeMember(g, g.members[lm.MemberID], "leave group")
		}
	}
	return res
}

// loadedGroup installs a group read from the log: Stable with its members
// (whose sessions start now) or Empty.
func (s *shard) loadedGroup(id string, v *GroupValue, offsets map[TopicPartition]offsetEntry) {
	g := newGroup(id, time.Time{})
	if v != nil {
		g.protocolType = v.ProtocolType
		g.generation = v.Generation
		g.protocol = v.Protocol
		if v.CurrentStateTimestamp >= 0 {
			g.stateTime = time.UnixMilli(v.CurrentStateTimestamp)
		}
		for _, mv := range v.Members {
			m := &member{
				id:               mv.MemberID,
				instanceID:       mv.InstanceID,
				clientID:         mv.ClientID,
				clientHost:       mv.ClientHost,
				sessionTimeout:   time.Duration(mv.SessionTimeout) * time.Millisecond,
				rebalanceTimeout: time.Duration(mv.RebalanceTimeout) * time.Millisecond,
				protocolType:     v.ProtocolType,
				protocols:        []Protocol{{Name: v.Protocol, Metadata: mv.Subscription}},
				assignment:       mv.Assignment,
			}
			if m.rebalanceTimeout < 0 {
				m.rebalanceTimeout = m.sessionTimeout
			}
			g.add(m, nil)
		}
		g.leader = v.Leader
		if _, ok := g.members[g.leader]; !ok && len(g.order) > 0 {
			g.leader = g.order[0]
		}
		if len(g.members) > 0 {
			g.state = Stable
		}
		g.computeSubscribed()
	}
	maps.Copy(g.offsets, offsets)
	s.groups[id] = g
	for _, m := range g.membersInOrder() {
		s.heartbeatIn(g, m, m.sessionTimeout)
	}
	if len(g.members) > s.cfg.maxSize {
		s.prepareRebalance(g, "loaded group is larger than group.max.size")
	}
}
