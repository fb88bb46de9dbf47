package server

import (
	"context"
	"fmt"
	"time"

	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/txn"
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
// 2.x).
//
// Transactional produce (a transactional ID) is verified with the
// transaction coordinator first: a partition not added to the producer's
// ongoing transaction is INVALID_TXN_STATE and nothing is written to it.
// A transactional batch in a request without a transactional ID is
// INVALID_RECORD: it would open a transaction no coordinator ever ends.

func (s *Server) handleProduce(ctx context.Context, req *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type pending struct {
		rp   *kmsg.ProduceResponseTopicPartition
		part *replica.Partition
		next int64
	}
	type target struct {
		out     *kmsg.ProduceResponseTopicPartition
		part    *replica.Partition
		records []byte
	}
	var (
		targets  []target
		txnParts []produceTxn
		batches  map[txn.TopicPartition]record.Batch
	)
	acksValid := req.Acks == 0 || req.Acks == 1 || req.Acks == -1
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for ti, rt := range req.Topics {
		t := &resp.Topics[ti]
		*t = kmsg.NewProduceResponseTopic()
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
			part, err := s.cfg.Replicas.Get(rt.Topic, rp.Partition)
			if err == nil {
				err = oneBatch(rp.Records)
			}
			if err == nil {
				b, _, _ := record.Next(rp.Records)
				switch {
				case req.TransactionID != nil:
					if batches == nil {
						batches = map[txn.TopicPartition]record.Batch{}
					}
					tp := txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
					batches[tp] = b
					txnParts = append(txnParts, produceTxn{tp: tp, code: &out.ErrorCode})
				case b.Attributes().Transactional():
					err = fmt.Errorf("%w: a transactional batch needs the producer's transactional ID in the request", record.ErrInvalid)
				}
			}
			if err != nil {
				out.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					out.ErrorMessage = errorMessage(err)
				}
				continue
			}
			targets = append(targets, target{out: out, part: part, records: rp.Records})
		}
	}
	if req.TransactionID != nil {
		s.verifyProduce(ctx, *req.TransactionID, batches, txnParts)
	}
	var waits []pending
	for _, tg := range targets {
		out := tg.out
		if out.ErrorCode != 0 {
			continue
		}
		info, err := tg.part.Append(tg.records, req.Acks)
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
			waits = append(waits, pending{rp: out, part: tg.part, next: info.LastOffset + 1})
		}
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
