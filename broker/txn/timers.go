package txn

import "github.com/runnel/runnel/broker/internal/coord"

// timerKind names what a deadline is for.
type timerKind uint8

const (
	// timerAbort runs the periodic check for timed-out transactions
	// (transaction.abort.timed.out.transaction.cleanup.interval.ms).
	timerAbort timerKind = iota
	// timerExpire runs the periodic removal of expired transactional IDs
	// (transaction.remove.expired.transaction.cleanup.interval.ms).
	timerExpire
	// timerRetry retries a transaction's markers or its completion record
	// after a failure.
	timerRetry
)

// timerKey identifies one deadline; setting a key again replaces it.
type timerKey struct {
	kind timerKind
	id   string // transactional ID, for timerRetry
}

// timers are a shard's deadlines.
type timers = coord.Timers[timerKey]
