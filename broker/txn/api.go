package txn

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// State is a transactional ID's state. Its numbering is Kafka's, as
// __transaction_state stores it; its String is Kafka's name, as
// DescribeTransactions and ListTransactions report it.
type State int8

// The transaction states.
const (
	// Empty: no transaction since the producer was initialized.
	Empty State = 0
	// Ongoing: partitions have been added; EndTxn ends it.
	Ongoing State = 1
	// PrepareCommit: the commit is decided; markers are being written.
	PrepareCommit State = 2
	// PrepareAbort: the abort is decided; markers are being written.
	PrepareAbort State = 3
	// CompleteCommit: every commit marker is written.
	CompleteCommit State = 4
	// CompleteAbort: every abort marker is written.
	CompleteAbort State = 5
	// Dead: the transactional ID expired and is being removed.
	Dead State = 6
	// PrepareEpochFence: the producer is being fenced before its
	// transaction is aborted. Runnel goes straight to PrepareAbort with
	// the bumped epoch, so it never reports this state.
	PrepareEpochFence State = 7
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// ParseState returns the state Kafka names name (case-sensitive, as
// ListTransactions' state filters are).
func ParseState(name string) (State, bool) {
	i := slices.Index(stateNames[:], name)
	return State(i), i >= 0
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// MarkerWriter writes transaction markers (WriteTxnMarkers, KIP-98) to
// the leaders of the partitions of a transaction: a COMMIT or ABORT
// control batch with the producer's ID and epoch and the coordinator
// epoch. The broker supplies it.
//
// It returns nil when every marker is written. When some fail it returns
// MarkerErrors naming them (the others were written); any other error
// means none was. A partition that no longer exists fails with
// ErrPartitionDeleted and is dropped; ErrCoordinatorFenced stops the
// transaction's markers; every other failure is retried with backoff
// until it succeeds, so markers are eventually written. It must be safe
// for concurrent use: the markers of different transactions are written
// at the same time, and it should give up when ctx ends (the partition
// was unloaded).
type MarkerWriter interface {
	WriteMarkers(ctx context.Context, producerID int64, epoch int16, coordinatorEpoch int32, commit bool, partitions []TopicPartition) error
}

// MarkerErrors is the error of a MarkerWriter that wrote some markers but
// not others: the error of each failed partition.
type MarkerErrors map[TopicPartition]error

func (m MarkerErrors) Error() string {
	tps := slices.SortedFunc(maps.Keys(m), compareTP)
	parts := make([]string, len(tps))
	for i, tp := range tps {
		parts[i] = fmt.Sprintf("%s: %v", tp, m[tp])
	}
	return "txn: writing markers: " + strings.Join(parts, "; ")
}

// Description is one transactional ID as DescribeTransactions reports
// it. On error only ID and Err are set.
type Description struct {
	ID            string
	Err           error
	State         State
	ProducerID    int64
	ProducerEpoch int16
	Timeout       time.Duration
	// StartTime is when the current (or last) transaction started; zero
	// when none has.
	StartTime time.Time
	// Partitions are those in the transaction, sorted.
	Partitions []TopicPartition
}

// Listing is one transactional ID as ListTransactions reports it.
type Listing struct {
	ID         string
	ProducerID int64
	State      State
}

// ListFilter selects the transactions ListTransactions reports. Zero
// values select everything.
type ListFilter struct {
	// States keeps the IDs in one of these states.
	States []State
	// ProducerIDs keeps the IDs with one of these producer IDs.
	ProducerIDs []int64
	// MinDuration (KIP-994) keeps the transactions running (Ongoing or
	// completing) at least this long; zero or negative keeps all.
	MinDuration time.Duration
}

func sortListings(ls []Listing) {
	slices.SortFunc(ls, func(a, b Listing) int { return strings.Compare(a.ID, b.ID) })
}
