package server

import (
	"errors"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
)

// errorCode maps a domain error to its Kafka error code. This is the only
// place in Runnel where wire error codes meet domain errors.
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// errorMessage is the error text for responses that carry one; nil for
// success.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

var errorTable = []struct {
	err  error
	code *kerr.Error
}{
	// The group coordinator's errors come first: they wrap the replica
	// and log errors of its writes, which they translate as Kafka's
	// coordinator does (a lost leadership is NOT_COORDINATOR).
	// The transaction coordinator's, for the same reason.
	{txn.ErrInvalidRequest, kerr.InvalidRequest},
	{txn.ErrNotCoordinator, kerr.NotCoordinator},
	{txn.ErrCoordinatorLoadInProgress, kerr.CoordinatorLoadInProgress},
	{txn.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{txn.ErrConcurrentTransactions, kerr.ConcurrentTransactions},
	{txn.ErrProducerFenced, kerr.ProducerFenced},
	{txn.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{txn.ErrInvalidProducerIDMapping, kerr.InvalidProducerIDMapping},
	{txn.ErrInvalidTxnState, kerr.InvalidTxnState},
	{txn.ErrInvalidTransactionTimeout, kerr.InvalidTransactionTimeout},
	{txn.ErrTransactionAbortable, kerr.TransactionAbortable},
	{txn.ErrTransactionalIDNotFound, kerr.TransactionalIDNotFound},
	{txn.ErrCoordinatorFenced, kerr.TransactionCoordinatorFenced},
	{log.ErrCoordinatorFenced, kerr.TransactionCoordinatorFenced},
	{log.ErrInvalidTxnState, kerr.InvalidTxnState},
	{group.ErrInvalidGroupID, kerr.InvalidGroupID},
	{group.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{group.ErrNotCoordinator, kerr.NotCoordinator},
	{group.ErrCoordinatorLoadInProgress, kerr.CoordinatorLoadInProgress},
	{group.ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout},
	{group.ErrUnknownMemberID, kerr.UnknownMemberID},
	{group.ErrMemberIDRequired, kerr.MemberIDRequired},
	{group.ErrIllegalGeneration, kerr.IllegalGeneration},
	{group.ErrRebalanceInProgress, kerr.RebalanceInProgress},
	{group.ErrInconsistentGroupProtocol, kerr.InconsistentGroupProtocol},
	{group.ErrFencedInstanceID, kerr.FencedInstanceID},
	{group.ErrGroupMaxSizeReached, kerr.GroupMaxSizeReached},
	{group.ErrGroupIDNotFound, kerr.GroupIDNotFound},
	{group.ErrNonEmptyGroup, kerr.NonEmptyGroup},
	{group.ErrGroupSubscribedToTopic, kerr.GroupSubscribedToTopic},
	{group.ErrOffsetMetadataTooLarge, kerr.OffsetMetadataTooLarge},
	{group.ErrUnstableOffsetCommit, kerr.UnstableOffsetCommit},
	{group.ErrInvalidCommitOffsetSize, kerr.InvalidCommitOffsetSize},

	// The record package's errors come next: the log wraps them in its
	// own, and the more specific cause decides the code (a bad CRC is
	// CORRUPT_MESSAGE even though the log calls the batch invalid).
	{record.ErrBadMagic, kerr.UnsupportedForMessageFormat},
	{record.ErrCorrupt, kerr.CorruptMessage},
	{record.ErrTruncated, kerr.CorruptMessage},
	{record.ErrInvalid, kerr.InvalidRecord},

	{replica.ErrUnknownTopicOrPartition, kerr.UnknownTopicOrPartition},
	{replica.ErrNotLeader, kerr.NotLeaderForPartition},
	{replica.ErrNotEnoughReplicas, kerr.NotEnoughReplicas},
	{replica.ErrFencedLeaderEpoch, kerr.FencedLeaderEpoch},
	{replica.ErrUnknownLeaderEpoch, kerr.UnknownLeaderEpoch},
	{replica.ErrTimeout, kerr.RequestTimedOut},

	{log.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{log.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{log.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{log.ErrRecordTooLarge, kerr.MessageTooLarge},
	{log.ErrInvalidRecord, kerr.InvalidRecord},
	{log.ErrCorruptLog, kerr.KafkaStorageError},
	{log.ErrStorage, kerr.KafkaStorageError},
	{log.ErrClosed, kerr.NotLeaderForPartition},

	{controller.ErrTopicExists, kerr.TopicAlreadyExists},
	{controller.ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{controller.ErrInvalidTopic, kerr.InvalidTopicException},
	{controller.ErrInvalidPartitions, kerr.InvalidPartitions},
	{controller.ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{controller.ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{controller.ErrInvalidConfig, kerr.InvalidConfig},
	{controller.ErrTopicDeletionDisabled, kerr.TopicDeletionDisabled},
	{controller.ErrInvalidRequest, kerr.InvalidRequest},

	{txn.ErrAllocation, kerr.CoordinatorNotAvailable},

	{config.ErrUnknown, kerr.InvalidConfig},
	{config.ErrInvalid, kerr.InvalidConfig},

	// Request-level problems found by the handlers themselves.
	{errInvalidRequest, kerr.InvalidRequest},
	{errUnknownTopicID, kerr.UnknownTopicID},
	{errInvalidTopic, kerr.InvalidTopicException},
	{errPolicy, kerr.PolicyViolation},
}

var (
	errInvalidRequest = errors.New("server: invalid request")
	errUnknownTopicID = errors.New("server: unknown topic id")
	errInvalidTopic   = errors.New("server: invalid topic")
	errPolicy         = errors.New("server: policy violation")
)
