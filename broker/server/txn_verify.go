package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Transactional writes are verified with the transaction coordinator
// before they are appended (KIP-890 part 1, Kafka's
// transaction.partition.verification.enable): a producer may write to a
// partition, or commit a group's offsets, only once the partition is in
// its ongoing transaction. Otherwise a write that arrives after its
// transaction ended would open a transaction no marker ever closes, and
// hold every read_committed reader of the partition at it.

// errNotInTxn is a transactional write to a partition outside its
// transaction.
var errNotInTxn = fmt.Errorf("%w: partition was not added to the transaction", txn.ErrInvalidTxnState)

// groupPartition is the __consumer_offsets partition of a group.
func (s *Server) groupPartition(groupID string) int32 {
	n := int(s.broker().OffsetsTopicNumPartitions)
	if t := s.cfg.Controller.Image().Topic(controller.ConsumerOffsetsTopic); t != nil && len(t.Partitions) > 0 {
		n = len(t.Partitions)
	}
	return group.PartitionFor(groupID, n)
}

// verifyTxnOffsets checks that a TxnOffsetCommit's group partition is in
// the producer's transaction.
func (s *Server) verifyTxnOffsets(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) error {
	tc, err := s.transactions()
	if err != nil {
		return err
	}
	tp := txn.TopicPartition{Topic: controller.ConsumerOffsetsTopic, Partition: s.groupPartition(req.Group)}
	errs, err := tc.VerifyPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp})
	if err != nil {
		return err
	}
	if errs[0] != nil {
		return fmt.Errorf("%w (%s)", errNotInTxn, errs[0])
	}
	return nil
}

// produceTxn is one partition of a transactional Produce to verify.
type produceTxn struct {
	tp   txn.TopicPartition
	code *int16 // the partition's response error code
}

// verifyProduce checks a transactional Produce's partitions against the
// producer's transaction and sets the error code of each that may not be
// written. Coordinator errors the producer cannot act on are answered
// NOT_ENOUGH_REPLICAS, which every producer retries, as Kafka does.
func (s *Server) verifyProduce(ctx context.Context, txnID string, batches map[txn.TopicPartition]record.Batch, parts []produceTxn) {
	if len(parts) == 0 {
		return
	}
	// Every batch of a transactional request comes from the same producer.
	first := batches[parts[0].tp]
	pid, epoch := first.ProducerID(), first.ProducerEpoch()
	fail := func(code int16) {
		for _, p := range parts {
			*p.code = code
		}
	}
	for _, p := range parts {
		b := batches[p.tp]
		if !b.Attributes().Transactional() || b.ProducerID() != pid || b.ProducerEpoch() != epoch {
			fail(errorCode(fmt.Errorf("%w: a transactional request's batches must be transactional and from one producer", record.ErrInvalid)))
			return
		}
	}
	tc, err := s.transactions()
	var errs []error
	if err == nil {
		tps := make([]txn.TopicPartition, len(parts))
		for i, p := range parts {
			tps[i] = p.tp
		}
		errs, err = tc.VerifyPartitions(ctx, txnID, pid, epoch, tps)
	}
	if err != nil {
		fail(produceVerifyCode(err))
		return
	}
	for i, p := range parts {
		if errs[i] != nil {
			*p.code = produceVerifyCode(errs[i])
		}
	}
}

func produceVerifyCode(err error) int16 {
	switch {
	case errors.Is(err, txn.ErrInvalidTxnState):
		return kerr.InvalidTxnState.Code
	case errors.Is(err, txn.ErrProducerFenced), errors.Is(err, txn.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, txn.ErrInvalidProducerIDMapping):
		return kerr.InvalidProducerIDMapping.Code
	case errors.Is(err, txn.ErrNotCoordinator), errors.Is(err, txn.ErrCoordinatorNotAvailable),
		errors.Is(err, txn.ErrCoordinatorLoadInProgress), errors.Is(err, txn.ErrConcurrentTransactions):
		return kerr.NotEnoughReplicas.Code
	}
	return kerr.InvalidTxnState.Code
}
