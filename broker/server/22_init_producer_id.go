package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId v0–v4, for idempotent producers (no transactional ID): each
// request gets a new producer ID with epoch 0, taken from the blocks the
// controller allocates, so that no two producers ever share an ID. As in
// Kafka, the producer ID and epoch a v3+ request carries (KIP-360) are not
// looked at without a transactional ID: the producer simply starts afresh.
//
// Transactions are not served yet. A request with a transactional ID is
// answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED, the answer Kafka gives a
// client that may not use that transactional ID: it is not retriable, so
// transactional clients fail at once with a clear error instead of
// retrying a coordinator error (COORDINATOR_NOT_AVAILABLE,
// NOT_COORDINATOR) until their timeout. Produce refuses transactional
// writes with the same code.

func (s *Server) handleInitProducerID(req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		s.log.Info("refusing transactional producer: transactions are not supported", "transactional_id", *req.TransactionalID)
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
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
