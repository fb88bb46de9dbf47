package txn

import "errors"

// Errors of the transaction coordinator. broker/server maps each to the
// Kafka error code of the same name (for requests too old to know
// PRODUCER_FENCED, KIP-588, it answers INVALID_PRODUCER_EPOCH instead).
var (
	// ErrInvalidRequest is an empty transactional ID, or a producer ID
	// given without its epoch (or the reverse).
	ErrInvalidRequest = errors.New("txn: invalid request")
	// ErrNotCoordinator means this node does not lead the
	// __transaction_state partition of the transactional ID (any more).
	ErrNotCoordinator = errors.New("txn: not the coordinator for this transactional id")
	// ErrCoordinatorLoadInProgress means the partition is being replayed.
	ErrCoordinatorLoadInProgress = errors.New("txn: coordinator is loading its transactions")
	// ErrCoordinatorNotAvailable means __transaction_state cannot take
	// writes now (replication timed out, too few in-sync replicas).
	ErrCoordinatorNotAvailable = errors.New("txn: coordinator not available")
	// ErrConcurrentTransactions asks the producer to retry: the previous
	// transaction is still completing, or another request for the ID is
	// being written.
	ErrConcurrentTransactions = errors.New("txn: a transaction state change is in progress; retry")
	// ErrProducerFenced means a newer producer with the same
	// transactional ID has a higher epoch.
	ErrProducerFenced = errors.New("txn: producer fenced by a newer epoch")
	// ErrInvalidProducerEpoch is INVALID_PRODUCER_EPOCH, what Kafka
	// answered for a fenced producer before KIP-588. The coordinator
	// itself always returns ErrProducerFenced; broker/server answers this
	// instead to requests too old to know PRODUCER_FENCED.
	ErrInvalidProducerEpoch = errors.New("txn: invalid producer epoch")
	// ErrInvalidProducerIDMapping means the producer ID is not the one the
	// transactional ID has, or the ID is unknown.
	ErrInvalidProducerIDMapping = errors.New("txn: producer id does not belong to the transactional id")
	// ErrInvalidTxnState is a request the transaction's state does not
	// allow, such as committing a transaction that is being aborted.
	ErrInvalidTxnState = errors.New("txn: request not allowed in the transaction's state")
	// ErrInvalidTransactionTimeout is a timeout of zero or above
	// transaction.max.timeout.ms.
	ErrInvalidTransactionTimeout = errors.New("txn: transaction timeout outside 1..transaction.max.timeout.ms")
	// ErrTransactionAbortable answers a verify-only AddPartitionsToTxn
	// (v4+, KIP-890) for a partition that is not in the transaction: the
	// producer must abort.
	ErrTransactionAbortable = errors.New("txn: partition not in the transaction; abort it")
	// ErrTransactionalIDNotFound answers DescribeTransactions for an ID
	// this coordinator does not know.
	ErrTransactionalIDNotFound = errors.New("txn: transactional id not found")
	// ErrInvalidRecord is a __transaction_state record that cannot be
	// decoded.
	ErrInvalidRecord = errors.New("txn: malformed __transaction_state record")
	// ErrUnsupportedRecordVersion is a __transaction_state key or value of
	// a version Runnel does not know.
	ErrUnsupportedRecordVersion = errors.New("txn: unsupported __transaction_state record version")

	// ErrPartitionDeleted is what a MarkerWriter returns (wrapped, in
	// MarkerErrors) for a partition that no longer exists: its marker is
	// dropped, as Kafka drops the markers of deleted topics.
	ErrPartitionDeleted = errors.New("txn: partition deleted")
	// ErrCoordinatorFenced is what a MarkerWriter returns when the
	// partition has seen markers from a newer coordinator epoch: this
	// coordinator stops writing the transaction's markers and leaves
	// completing it to the newer one.
	ErrCoordinatorFenced = errors.New("txn: transaction coordinator fenced")

	errWriteTimeout  = errors.New("txn: write to __transaction_state timed out")
	errWriteTooLarge = errors.New("txn: write to __transaction_state too large")
)
