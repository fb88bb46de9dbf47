package group

import (
	"fmt"
	"time"
)

// State is a classic group's state. Its String is Kafka's name for it, as
// DescribeGroups and ListGroups report it.
type State int8

// The classic group states.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	case Dead:
		return "Dead"
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// Protocol is one protocol a member supports (an assignor for consumers)
// with the member's metadata for it, which the coordinator never reads.
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup.
type JoinRequest struct {
	Group string
	// MemberID is empty on a member's first join.
	MemberID string
	// InstanceID is group.instance.id for static members (KIP-345), empty
	// for dynamic ones.
	InstanceID       string
	ClientID         string
	ClientHost       string
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	ProtocolType     string
	Protocols        []Protocol
	// RequireKnownMemberID (JoinGroup v4+, dynamic members) makes a first
	// join answer MEMBER_ID_REQUIRED with the member's new ID (KIP-394).
	RequireKnownMemberID bool
	// SupportsSkipAssignment (JoinGroup v9+) lets a static leader rejoining
	// a stable group learn it leads without running its assignor (KIP-814).
	SupportsSkipAssignment bool
	// Reason is the client's reason for joining (v8+), for the log.
	Reason string
}

// JoinMember is a member as the leader sees it in its JoinGroup response.
type JoinMember struct {
	MemberID   string
	InstanceID string
	Metadata   []byte
}

// JoinResult answers a JoinGroup. On error only Err and MemberID are set.
type JoinResult struct {
	Err          error
	MemberID     string
	Generation   int32
	ProtocolType string // empty = null
	Protocol     string // empty = null
	Leader       string
	// SkipAssignment tells a static leader not to assign (KIP-814).
	SkipAssignment bool
	// Members is set for the leader only.
	Members []JoinMember
}

// SyncRequest is a SyncGroup.
type SyncRequest struct {
	Group      string
	Generation int32
	MemberID   string
	InstanceID string
	// ProtocolType and Protocol (SyncGroup v5+) must match the group's
	// when given.
	ProtocolType *string
	Protocol     *string
	// Assignments is the leader's assignment per member ID.
	Assignments map[string][]byte
}

// SyncResult answers a SyncGroup.
type SyncResult struct {
	Err          error
	ProtocolType string // empty = null
	Protocol     string // empty = null
	Assignment   []byte
}

// HeartbeatRequest is a Heartbeat.
type HeartbeatRequest struct {
	Group      string
	Generation int32
	MemberID   string
	InstanceID string
}

// LeaveMember is one member leaving, by member ID, or by group instance ID
// alone (an administrator removing a static member).
type LeaveMember struct {
	MemberID   string
	InstanceID string
	Reason     string
}

// LeaveResult answers a LeaveGroup: Err for the group, Members one error
// per member asked about, in order.
type LeaveResult struct {
	Err     error
	Members []error
}

// TopicPartition names a partition whose offset a group commits.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// OffsetCommit is one partition of an OffsetCommit.
type OffsetCommit struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32 // -1 when not given
	Metadata    string
	// CommitTimestamp (OffsetCommit v1) is the client's commit time in ms;
	// -1 means now.
	CommitTimestamp int64
}

// CommitRequest is an OffsetCommit.
type CommitRequest struct {
	Group string
	// Generation is -1 and MemberID empty for commits from outside group
	// management (simple consumers, admin tools).
	Generation int32
	MemberID   string
	InstanceID string
	// Retention (OffsetCommit v2–v4 retention_time_ms) sets the offsets'
	// expire timestamp; negative means offsets.retention.minutes applies.
	Retention time.Duration
	Offsets   []OffsetCommit
}

// FetchedOffset is one partition of an OffsetFetch result. Offset is -1
// when the group has committed none.
type FetchedOffset struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	Err         error
}

// GroupListing is one group in ListGroups.
type GroupListing struct {
	Group        string
	ProtocolType string
	State        State
}

// MemberDescription is one member in DescribeGroups.
type MemberDescription struct {
	MemberID   string
	InstanceID string
	ClientID   string
	ClientHost string
	// Metadata and Assignment are set when the group is Stable.
	Metadata   []byte
	Assignment []byte
}

// GroupDescription answers DescribeGroups for one group. A group the
// coordinator does not know is Dead, with no error, as in Kafka.
type GroupDescription struct {
	Group        string
	Err          error
	State        State
	ProtocolType string
	Protocol     string
	Members      []MemberDescription
}
