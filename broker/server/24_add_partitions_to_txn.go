package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitionsToTxn v0–v4. A transactional producer adds the partitions
// it is about to write to its transaction before producing to them. If any
// partition does not exist it is UNKNOWN_TOPIC_OR_PARTITION and the others
// OPERATION_NOT_ATTEMPTED; otherwise every partition gets the transaction
// coordinator's answer (CONCURRENT_TRANSACTIONS while the previous
// transaction completes, PRODUCER_FENCED — INVALID_PRODUCER_EPOCH before
// v2 — for a fenced producer, INVALID_TXN_STATE outside a transaction).
//
// v4 is the brokers' batched form (KIP-890): several transactions per
// request, each either added or, with verify_only, checked: a partition not
// in its transaction is INVALID_TXN_STATE.

func (s *Server) handleAddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version < 4 {
		tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
		tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch = req.TransactionalID, req.ProducerID, req.ProducerEpoch
		for _, t := range req.Topics {
			tx.Topics = append(tx.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: t.Topic, Partitions: t.Partitions})
		}
		out := s.addPartitionsToTxn(ctx, tx, req.Version)
		for _, t := range out.Topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p.Partition, ErrorCode: p.ErrorCode})
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	for _, tx := range req.Transactions {
		resp.Transactions = append(resp.Transactions, s.addPartitionsToTxn(ctx, tx, req.Version))
	}
	return resp
}

// addPartitionsToTxn adds (or verifies) one transaction's partitions.
func (s *Server) addPartitionsToTxn(ctx context.Context, tx kmsg.AddPartitionsToTxnRequestTransaction, version int16) kmsg.AddPartitionsToTxnResponseTransaction {
	out := kmsg.NewAddPartitionsToTxnResponseTransaction()
	out.TransactionalID = tx.TransactionalID
	img := s.cfg.Controller.Image()
	var parts []txn.TopicPartition
	var codes []*int16
	unknown := false
	for _, t := range tx.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.AddPartitionsToTxnResponseTransactionTopicPartition, len(t.Partitions))
		topic := img.Topic(t.Topic)
		for i, p := range t.Partitions {
			rp := &rt.Partitions[i]
			*rp = kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			rp.Partition = p
			if !topic.HasPartition(p) {
				rp.ErrorCode = errorCode(fmt.Errorf("%w: %s-%d", replica.ErrUnknownTopicOrPartition, t.Topic, p))
				unknown = true
				continue
			}
			parts = append(parts, txn.TopicPartition{Topic: t.Topic, Partition: p})
		}
		out.Topics = append(out.Topics, rt)
	}
	// Point codes at the response's partitions only now that the slices
	// no longer grow.
	for ti := range out.Topics {
		for pi := range out.Topics[ti].Partitions {
			if out.Topics[ti].Partitions[pi].ErrorCode == 0 {
				codes = append(codes, &out.Topics[ti].Partitions[pi].ErrorCode)
			}
		}
	}
	if unknown {
		for _, c := range codes {
			*c = kerr.OperationNotAttempted.Code
		}
		return out
	}
	tc, err := s.transactions()
	if err == nil {
		if tx.VerifyOnly {
			var errs []error
			errs, err = tc.VerifyPartitions(ctx, tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, parts)
			if err == nil {
				for i, c := range codes {
					*c = txnErrorCode(errs[i], version < 2)
				}
				return out
			}
		} else {
			err = tc.AddPartitions(ctx, tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, parts)
		}
	}
	code := txnErrorCode(err, version < 2)
	for _, c := range codes {
		*c = code
	}
	return out
}

// AddOffsetsToTxn v0–v3: a transactional producer that will commit a
// consumer group's offsets (sendOffsetsToTransaction) first adds the
// group's __consumer_offsets partition to its transaction, so the
// transaction's marker reaches it.

func (s *Server) handleAddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	tc, err := s.transactions()
	if err == nil {
		err = tc.AddOffsets(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, s.groupPartition(req.Group))
	}
	resp.ErrorCode = txnErrorCode(err, req.Version < 2)
	return resp
}

// EndTxn v0–v4: the producer commits or aborts its transaction. The answer
// comes once the decision is written to __transaction_state; the markers
// follow.

func (s *Server) handleEndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	tc, err := s.transactions()
	if err == nil {
		err = tc.EndTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
	}
	if err != nil && !errors.Is(err, txn.ErrConcurrentTransactions) {
		s.log.Debug("EndTxn refused", "transactional_id", req.TransactionalID, "commit", req.Commit, "err", err)
	}
	resp.ErrorCode = txnErrorCode(err, req.Version < 2)
	return resp
}
