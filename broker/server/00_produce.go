package server

import (
	"context"
	"fmt"
	"time"

	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce v3–v11 (RecordBatch v2 only). Every partition is appended first;
// with acks=all the request then waits, up to its timeout, for the high
// watermark to pass each partition's records (REQUEST_TIMED_OUT past it).
// acks=0 gets no response at all. Each batch is validated by the log
// (CRC, magic, sizes against max.message.bytes, count and lastOffsetDelta,
// no client control batches, keys on compacted topics) and must be the
// partition's only batch (INVALID_RECORD otherwise); a bad batch fails
// only its partition, and nothing already acknowledged is touched.
//
// Idempotent producers (a producer ID from InitProducerId) are checked by
// the partition log: a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER, a
// fenced epoch INVALID_PRODUCER_EPOCH, and the retry of a batch the log
// already holds succeeds with the batch's original base offset without
// writing it again (Kafka stopped answering DUPLICATE_SEQUENCE_NUMBER in
// 2.x). Transactional produce (a transactional ID) is refused with
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: Runnel has no transactions yet.

func (s *Server) handleProduce(ctx context.Context, req *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type pending struct {
		rp   *kmsg.ProduceResponseTopicPartition
		part *replica.Partition
		next int64
	}
	var waits []pending
	acksValid := req.Acks == 0 || req.Acks == 1 || req.Acks == -1
	for _, rt := range req.Topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for i, rp := range rt.Partitions {
			out := &t.Partitions[i]
			*out = kmsg.NewProduceResponseTopicPartition()
			out.Partition = rp.Partition
			out.BaseOffset = -1
			out.LogAppendTime = -1
			out.LogStartOffset = -1
			if !acksValid {
				out.ErrorCode = kerr.InvalidRequiredAcks.Code
				continue
			}
			if req.TransactionID != nil {
				out.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				continue
			}
			part, err := s.cfg.Replicas.Get(rt.Topic, rp.Partition)
			if err == nil {
				err = oneBatch(rp.Records)
			}
			var info log.AppendInfo
			if err == nil {
				info, err = part.Append(rp.Records, req.Acks)
			}
			if err != nil {
				out.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					out.ErrorMessage = errorMessage(err)
				}
				continue
			}
			out.BaseOffset = info.FirstOffset
			out.LogAppendTime = info.LogAppendTime
			out.LogStartOffset = info.LogStartOffset
			if req.Acks == -1 {
				waits = append(waits, pending{rp: out, part: part, next: info.LastOffset + 1})
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	if len(waits) > 0 {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		defer cancel()
		for _, w := range waits {
			if err := w.part.WaitReplicated(wctx, w.next); err != nil {
				w.rp.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					w.rp.ErrorMessage = errorMessage(err)
				}
			}
		}
	}
	return resp
}

// oneBatch enforces Kafka's rule for produce v3 and later: each partition's
// records are exactly one record batch.
func oneBatch(records []byte) error {
	if len(records) == 0 {
		return fmt.Errorf("%w: no records", errInvalidRequest)
	}
	_, rest, err := record.Next(records)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: produce requests from version 3 on carry exactly one record batch per partition", record.ErrInvalid)
	}
	return nil
}
