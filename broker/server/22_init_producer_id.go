package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId v0–v4.
//
// Without a transactional ID (idempotent producers) each request gets a new
// producer ID with epoch 0, taken from the blocks the controller allocates,
// so that no two producers ever share an ID. As in Kafka, the producer ID
// and epoch a v3+ request carries (KIP-360) are not looked at then: the
// producer simply starts afresh.
//
// With a transactional ID the transaction coordinator answers: a new ID
// gets a producer ID with epoch 0, a known one its epoch bumped (fencing
// the previous producer, whose open transaction is aborted first —
// CONCURRENT_TRANSACTIONS until that is done), and a timeout above
// transaction.max.timeout.ms is INVALID_TRANSACTION_TIMEOUT. Requests
// older than v4 get INVALID_PRODUCER_EPOCH where v4 has PRODUCER_FENCED.

func (s *Server) handleInitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		tc, err := s.transactions()
		if err == nil {
			var id int64
			var epoch int16
			id, epoch, err = tc.InitProducerID(ctx, *req.TransactionalID, millis(req.TransactionTimeoutMillis), req.ProducerID, req.ProducerEpoch)
			if err == nil {
				resp.ProducerID, resp.ProducerEpoch = id, epoch
			}
		}
		resp.ErrorCode = txnErrorCode(err, req.Version < 4)
		return resp
	}
	if s.cfg.ProducerIDs == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	id, err := s.cfg.ProducerIDs.Next()
	if err != nil {
		s.log.Warn("allocating a producer ID", "err", err)
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

// transactions returns the transaction coordinator, or an error when the
// server has none.
func (s *Server) transactions() (*txn.Coordinator, error) {
	if s.cfg.Transactions == nil {
		return nil, fmt.Errorf("%w: this server runs no transaction coordinator", txn.ErrCoordinatorNotAvailable)
	}
	return s.cfg.Transactions, nil
}

// txnErrorCode maps a transaction coordinator error; old requests that
// predate PRODUCER_FENCED (KIP-588) get INVALID_PRODUCER_EPOCH for it.
func txnErrorCode(err error, noProducerFenced bool) int16 {
	if noProducerFenced && errors.Is(err, txn.ErrProducerFenced) {
		return kerr.InvalidProducerEpoch.Code
	}
	return errorCode(err)
}
