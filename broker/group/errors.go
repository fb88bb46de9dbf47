package group

import "errors"

// Errors of the group coordinator. broker/server maps each to the Kafka
// error code of the same name.
var (
	ErrInvalidGroupID            = errors.New("group: invalid group id")
	ErrCoordinatorNotAvailable   = errors.New("group: coordinator not available")
	ErrNotCoordinator            = errors.New("group: not the coordinator for this group")
	ErrCoordinatorLoadInProgress = errors.New("group: coordinator is loading its groups")
	ErrInvalidSessionTimeout     = errors.New("group: session timeout outside group.min.session.timeout.ms..group.max.session.timeout.ms")
	ErrUnknownMemberID           = errors.New("group: unknown member id")
	ErrMemberIDRequired          = errors.New("group: member id required; rejoin with the id given")
	ErrIllegalGeneration         = errors.New("group: illegal generation")
	ErrRebalanceInProgress       = errors.New("group: rebalance in progress")
	ErrInconsistentGroupProtocol = errors.New("group: inconsistent group protocol")
	ErrFencedInstanceID          = errors.New("group: group instance id fenced by a newer member")
	ErrGroupMaxSizeReached       = errors.New("group: group.max.size reached")
	ErrGroupIDNotFound           = errors.New("group: group id not found")
	ErrNonEmptyGroup             = errors.New("group: group is not empty")
	ErrGroupSubscribedToTopic    = errors.New("group: group is subscribed to the topic")
	ErrOffsetMetadataTooLarge    = errors.New("group: offset metadata larger than offset.metadata.max.bytes")
	ErrUnstableOffsetCommit      = errors.New("group: offset commit in progress")
	ErrInvalidCommitOffsetSize   = errors.New("group: offset commit too large for __consumer_offsets")
	ErrInvalidRecord             = errors.New("group: malformed __consumer_offsets record")
	ErrUnsupportedRecordVersion  = errors.New("group: unsupported __consumer_offsets record version")
	errWriteTimeout              = errors.New("group: write to __consumer_offsets timed out")
	errWriteTooLarge             = errors.New("group: write to __consumer_offsets too large")
)
