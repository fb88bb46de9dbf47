package group

import "github.com/runnel/runnel/broker/internal/coord"

// timerKind names what a deadline is for.
type timerKind uint8

const (
	// timerSession expires a member that stopped heartbeating.
	timerSession timerKind = iota
	// timerPending expires a member ID handed out with MEMBER_ID_REQUIRED
	// that was never used to join.
	timerPending
	// timerJoin ends the join phase of a rebalance: the initial rebalance
	// delay or the rebalance timeout.
	timerJoin
	// timerSync removes members that have not sent SyncGroup within the
	// rebalance timeout after the join phase.
	timerSync
	// timerExpire runs offset expiration for the whole shard.
	timerExpire
)

// timerKey identifies one deadline; setting a key again replaces it.
type timerKey struct {
	kind   timerKind
	group  string
	member string
}

// timers are a shard's deadlines.
type timers = coord.Timers[timerKey]
