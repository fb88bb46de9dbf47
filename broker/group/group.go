package group

import (
	"bytes"
	"slices"
	"time"

	"github.com/runnel/runnel/broker/internal/coord"
)

// consumerProtocolType is the protocol type of Kafka consumers, whose
// subscriptions the coordinator reads for their topics (and nothing else).
const consumerProtocolType = "consumer"

// member is one member of a classic group.
type member struct {
	id               string
	instanceID       string // empty for dynamic members
	clientID         string
	clientHost       string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocolType     string
	protocols        []Protocol
	assignment       []byte

	// join and sync are the pending JoinGroup and SyncGroup of the member,
	// answered when the rebalance gets there.
	join func(JoinResult)
	sync func(SyncResult)
	// isNew marks a member added in this rebalance that has not had its
	// JoinGroup answered; it expires after newMemberJoinTimeout rather than
	// being kept alive by the rebalance.
	isNew bool
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether protocols are exactly the member's, in order and
// byte for byte.
func (m *member) matches(protocols []Protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// vote is the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.Name] {
			return p.Name
		}
	}
	return ""
}

// offsetEntry is a committed offset held in memory.
type offsetEntry struct {
	OffsetValue
	// seq orders the entry's record among the partition's offset records
	// (the order they were written, or replayed): when a transaction's
	// offsets are committed they replace only older entries.
	seq uint64
}

// txnOffset is an offset committed in a transaction that has not ended
// yet (TxnOffsetCommit): it takes effect when the transaction commits.
type txnOffset struct {
	val OffsetValue
	seq uint64
	// written is set once the record is in the log; an append that fails
	// drops the entry instead.
	written bool
}

// pendingCommit tracks offset commits of one partition whose records are
// being written: latest is the newest commit's sequence number and floor
// the oldest that may still take effect (commits written before an offset
// deletion must not resurrect the offset).
type pendingCommit struct {
	latest, floor uint64
}

// group is one classic group.
type group struct {
	id           string
	state        State
	stateTime    time.Time // when the group entered state; zero when unknown
	protocolType string    // empty = none (a group used only for offsets)
	protocol     string    // the selected protocol, empty = none
	generation   int32
	leader       string

	members map[string]*member
	order   []string          // member IDs by join order, for stable answers
	static  map[string]string // group.instance.id → member ID
	pending map[string]bool   // member IDs handed out, not yet joined
	// pendingSync holds members that have not sent SyncGroup since the join
	// phase ended.
	pendingSync  map[string]bool
	awaitingJoin int
	supported    map[string]int // protocol → members supporting it

	// newMemberAdded lets the initial rebalance delay extend itself while
	// members keep arriving.
	newMemberAdded   bool
	joinInitial      bool          // the join timer is the initial delay
	initialRemaining time.Duration // what the initial delay may still add

	// subscribed is the union of consumer members' topics, known only for
	// the consumer protocol type.
	subscribed      map[string]bool
	subscribedKnown bool

	offsets        map[TopicPartition]offsetEntry
	pendingCommits map[TopicPartition]pendingCommit
	// txnOffsets are the offsets of open transactions, by producer ID.
	txnOffsets map[int64]map[TopicPartition]txnOffset
}

func newGroup(id string, now time.Time) *group {
	return &group{
		id:             id,
		state:          Empty,
		stateTime:      now,
		members:        map[string]*member{},
		static:         map[string]string{},
		pending:        map[string]bool{},
		pendingSync:    map[string]bool{},
		supported:      map[string]int{},
		offsets:        map[TopicPartition]offsetEntry{},
		pendingCommits: map[TopicPartition]pendingCommit{},
		txnOffsets:     map[int64]map[TopicPartition]txnOffset{},
	}
}

func (g *group) is(s State) bool { return g.state == s }

func (g *group) transition(s State, now time.Time) {
	g.state = s
	g.stateTime = now
}

// canRebalance reports whether the group may enter PreparingRebalance.
func (g *group) canRebalance() bool {
	return g.state == Stable || g.state == CompletingRebalance || g.state == Empty
}

func (g *group) membersInOrder() []*member {
	ms := make([]*member, 0, len(g.order))
	for _, id := range g.order {
		ms = append(ms, g.members[id])
	}
	return ms
}

// add makes m a member, waiting for its join answer when join is set.
func (g *group) add(m *member, join func(JoinResult)) {
	if m.instanceID != "" {
		g.static[m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	m.join = join
	if join != nil {
		g.awaitingJoin++
	}
	delete(g.pending, m.id)
}

// remove drops a member. Its pending answers are the caller's business.
func (g *group) remove(id string) {
	if m, ok := g.members[id]; ok {
		for _, p := range m.protocols {
			g.supported[p.Name]--
		}
		if m.join != nil {
			g.awaitingJoin--
		}
		if m.instanceID != "" && g.static[m.instanceID] == id {
			delete(g.static, m.instanceID)
		}
		delete(g.members, id)
		g.order = slices.DeleteFunc(g.order, func(x string) bool { return x == id })
	}
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	delete(g.pending, id)
	delete(g.pendingSync, id)
}

// updateMember replaces a member's protocols and timeouts and sets or
// clears its pending join answer.
func (g *group) updateMember(m *member, protocols []Protocol, rebalance, session time.Duration, join func(JoinResult)) {
	for _, p := range m.protocols {
		g.supported[p.Name]--
	}
	m.protocols = protocols
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	m.rebalanceTimeout, m.sessionTimeout = rebalance, session
	switch {
	case join != nil && m.join == nil:
		g.awaitingJoin++
	case join == nil && m.join != nil:
		g.awaitingJoin--
	}
	m.join = join
}

// completeJoin answers m's pending JoinGroup, if it has one.
func (g *group) completeJoin(m *member, r JoinResult) bool {
	if m.join == nil {
		return false
	}
	join := m.join
	m.join = nil
	g.awaitingJoin--
	join(r)
	return true
}

// completeSync answers m's pending SyncGroup, if it has one.
func (g *group) completeSync(m *member, r SyncResult) bool {
	if m.sync == nil {
		return false
	}
	sync := m.sync
	m.sync = nil
	sync(r)
	return true
}

// replaceStatic gives a static member a new member ID, fencing whatever
// the old ID was waiting for.
func (g *group) replaceStatic(instanceID, oldID, newID string) *member {
	m := g.members[oldID]
	if m.join != nil {
		join := m.join
		m.join = nil
		g.awaitingJoin--
		join(JoinResult{Err: ErrFencedInstanceID, MemberID: oldID})
	}
	g.completeSync(m, SyncResult{Err: ErrFencedInstanceID})
	delete(g.members, oldID)
	m.id = newID
	g.members[newID] = m
	if i := slices.Index(g.order, oldID); i >= 0 {
		g.order[i] = newID
	}
	if g.leader == oldID {
		g.leader = newID
	}
	g.static[instanceID] = newID
	return m
}

// validateMember checks that the member exists and, for a static member,
// that the instance ID maps to it (a newer instance fences the older).
func (g *group) validateMember(memberID, instanceID string) error {
	if instanceID != "" {
		cur, ok := g.static[instanceID]
		if !ok {
			return ErrUnknownMemberID
		}
		if cur != memberID {
			return ErrFencedInstanceID
		}
	}
	if _, ok := g.members[memberID]; !ok {
		return ErrUnknownMemberID
	}
	return nil
}

// supportsProtocols reports whether a member with these protocols could
// join: an empty group takes any non-empty type and protocol list; a
// group with members requires the same type and one protocol every member
// supports.
func (g *group) supportsProtocols(protocolType string, protocols []Protocol) bool {
	if g.state == Empty {
		return protocolType != "" && len(protocols) > 0
	}
	if g.protocolType != protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supported[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol every member supports that most
// members prefer; ties go to the one the earliest member prefers.
func (g *group) selectProtocol() string {
	candidates := map[string]bool{}
	for name, n := range g.supported {
		if n == len(g.members) && n > 0 {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	var order []string
	for _, m := range g.membersInOrder() {
		v := m.vote(candidates)
		if votes[v] == 0 {
			order = append(order, v)
		}
		votes[v]++
	}
	best := ""
	for _, name := range order {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// rebalanceTimeout is the longest rebalance timeout of the members.
func (g *group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.awaitingJoin && len(g.pending) == 0
}

// electJoinedLeader keeps the leader if it rejoined, or makes the earliest
// rejoined member leader. It reports false when no member rejoined.
func (g *group) electJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if g.members[g.leader].join != nil {
		return true
	}
	for _, m := range g.membersInOrder() {
		if m.join != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// initNextGeneration starts a generation with the members that joined.
func (g *group) initNextGeneration(now time.Time) {
	g.generation++
	if len(g.members) > 0 {
		g.protocol = g.selectProtocol()
		g.computeSubscribed()
		g.transition(CompletingRebalance, now)
	} else {
		g.protocol = ""
		g.computeSubscribed()
		g.transition(Empty, now)
	}
	clear(g.pendingSync)
}

// joinMembers is the member list the leader receives.
func (g *group) joinMembers() []JoinMember {
	out := make([]JoinMember, 0, len(g.members))
	for _, m := range g.membersInOrder() {
		out = append(out, JoinMember{MemberID: m.id, InstanceID: m.instanceID, Metadata: m.metadata(g.protocol)})
	}
	return out
}

// computeSubscribed collects the consumer members' subscribed topics. For
// other protocol types, or subscriptions it cannot parse, they are
// unknown.
func (g *group) computeSubscribed() {
	g.subscribed, g.subscribedKnown = nil, false
	if g.protocolType != consumerProtocolType {
		return
	}
	if len(g.members) == 0 {
		g.subscribed, g.subscribedKnown = map[string]bool{}, true
		return
	}
	if g.protocol == "" {
		return
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		ts, ok := subscriptionTopics(m.metadata(g.protocol))
		if !ok {
			return
		}
		for _, t := range ts {
			topics[t] = true
		}
	}
	g.subscribed, g.subscribedKnown = topics, true
}

// isSubscribedTo reports whether the consumer group reads topic; unknown
// subscriptions count as subscribed.
func (g *group) isSubscribedTo(topic string) bool {
	if g.subscribedKnown {
		return g.subscribed[topic]
	}
	return g.protocolType == consumerProtocolType
}

// subscriptionTopics reads the topic list at the start of a consumer
// protocol subscription (every version begins with an int16 version and
// the topics as an int32 count of int16-length strings). Nothing else of
// the metadata is read.
func subscriptionTopics(b []byte) ([]string, bool) {
	r := newReader(b)
	r.Int16()
	n := r.Int32()
	if r.Err != nil || n < 0 || int(n) > len(r.B)/2 {
		return nil, false
	}
	topics := make([]string, 0, n)
	for range n {
		topics = append(topics, r.string())
	}
	return topics, r.Err == nil
}

// hasOffsets reports whether the group holds offsets or has commits in
// flight.
func (g *group) hasOffsets() bool {
	return len(g.offsets) > 0 || len(g.pendingCommits) > 0 || len(g.txnOffsets) > 0
}

// summary describes the group for DescribeGroups: member metadata and
// assignments only when Stable, as Kafka reports them.
func (g *group) summary() GroupDescription {
	d := GroupDescription{Group: g.id, State: g.state, ProtocolType: g.protocolType}
	stable := g.state == Stable
	if stable {
		d.Protocol = g.protocol
	}
	for _, m := range g.membersInOrder() {
		md := MemberDescription{MemberID: m.id, InstanceID: m.instanceID, ClientID: m.clientID, ClientHost: m.clientHost}
		if stable {
			md.Metadata, md.Assignment = m.metadata(g.protocol), m.assignment
		}
		d.Members = append(d.Members, md)
	}
	return d
}

// metadataValue is the group's metadata record with the given assignments.
func (g *group) metadataValue(assignments map[string][]byte) GroupValue {
	v := GroupValue{
		Version:               3,
		ProtocolType:          g.protocolType,
		Generation:            g.generation,
		Protocol:              g.protocol,
		Leader:                g.leader,
		CurrentStateTimestamp: -1,
	}
	if !g.stateTime.IsZero() {
		v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	}
	for _, m := range g.membersInOrder() {
		v.Members = append(v.Members, MemberValue{
			MemberID:         m.id,
			InstanceID:       m.instanceID,
			ClientID:         m.clientID,
			ClientHost:       m.clientHost,
			RebalanceTimeout: int32(m.rebalanceTimeout.Milliseconds()),
			SessionTimeout:   int32(m.sessionTimeout.Milliseconds()),
			Subscription:     nonNil(m.metadata(g.protocol)),
			Assignment:       nonNil(assignments[m.id]),
		})
	}
	return v
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PartitionFor returns the __consumer_offsets (or __transaction_state)
// partition that owns key among n partitions: abs(hash) mod n, with
// Kafka's abs that maps the smallest int32 to 0.
func PartitionFor(key string, n int) int32 { return coord.PartitionFor(key, n) }
