package server

import (
	"context"
	"slices"
	"time"

	"github.com/runnel/runnel/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions v0 (KIP-664): each transactional ID's state as its
// coordinator holds it — state name, producer ID and epoch, timeout, start
// time (-1 before the first transaction) and the partitions of the
// transaction, grouped by topic. An ID the coordinator does not know is
// TRANSACTIONAL_ID_NOT_FOUND.

func (s *Server) handleDescribeTransactions(ctx context.Context, req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	tc, err := s.transactions()
	var descs []txn.Description
	if err == nil {
		descs = tc.Describe(ctx, req.TransactionalIDs)
	}
	for i, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
		if err != nil {
			st.ErrorCode = errorCode(err)
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		d := descs[i]
		if d.Err != nil {
			st.ErrorCode = errorCode(d.Err)
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State = d.State.String()
		st.TimeoutMillis = int32(d.Timeout / time.Millisecond)
		st.ProducerID, st.ProducerEpoch = d.ProducerID, d.ProducerEpoch
		if !d.StartTime.IsZero() {
			st.StartTimestamp = d.StartTime.UnixMilli()
		}
		for _, tp := range d.Partitions {
			n := len(st.Topics)
			if n == 0 || st.Topics[n-1].Topic != tp.Topic {
				t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				t.Topic = tp.Topic
				st.Topics = append(st.Topics, t)
				n++
			}
			st.Topics[n-1].Partitions = append(st.Topics[n-1].Partitions, tp.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}

// ListTransactions v0–v1 (KIP-664, KIP-994): the transactional IDs of the
// coordinator, filtered by state names, producer IDs and (v1) how long the
// transaction has been running. State names Kafka does not know come back
// in unknown_state_filters.

func (s *Server) handleListTransactions(ctx context.Context, req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	var filter txn.ListFilter
	for _, name := range req.StateFilters {
		if st, ok := txn.ParseState(name); ok {
			filter.States = append(filter.States, st)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	filter.ProducerIDs = slices.Clone(req.ProducerIDFilters)
	if req.Version >= 1 && req.DurationFilterMillis >= 0 {
		filter.MinDuration = time.Duration(req.DurationFilterMillis) * time.Millisecond
	}
	tc, err := s.transactions()
	var listed []txn.Listing
	if err == nil {
		listed, err = tc.List(ctx, filter)
	}
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	for _, l := range listed {
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = l.ID, l.ProducerID, l.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}
