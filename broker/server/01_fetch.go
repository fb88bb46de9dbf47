package server

import (
	"context"
	"time"

	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch v4–v16. Reads whole batches below the high watermark (or the last
// stable offset for read_committed), at least one batch in the first
// partition that has data even past the byte limits (KIP-74), then at most
// PartitionMaxBytes per partition and MaxBytes in all. When fewer than
// MinBytes are available the request waits up to MaxWaitMillis for any of
// its partitions to receive data. Topics are named up to v12 and
// identified by topic ID from v13.
//
// Fetch sessions (KIP-227): Runnel answers every request in full and never
// creates a session — SessionID 0 in the response tells the client so, as
// a Java broker with a full session cache does. An incremental request for
// a session gets FETCH_SESSION_ID_NOT_FOUND and the client starts over with
// full requests.
//
// Record bytes are not copied: each partition's range of its segment file
// is spliced into the encoded response and sent with sendfile.

func (s *Server) handleFetch(ctx context.Context, req *kmsg.FetchRequest) (*kmsg.FetchResponse, []splice) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version >= 7 && req.SessionID != 0 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		resp.SessionID = 0
		return resp, nil
	}

	// Resolve every requested partition once.
	type target struct {
		topic, part int
		p           *replica.Partition
		err         error
	}
	var targets []target
	img := s.cfg.Controller.Image()
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	for ti, rt := range req.Topics {
		out := &resp.Topics[ti]
		*out = kmsg.NewFetchResponseTopic()
		out.Topic, out.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		var topicErr error
		if req.Version >= 13 {
			if t := img.TopicsByID[rt.TopicID]; t != nil {
				name = t.Name
			} else {
				topicErr = errUnknownTopicID
			}
		}
		out.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			op := &out.Partitions[pi]
			*op = kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = -1, -1, -1
			op.PreferredReadReplica = -1
			tg := target{topic: ti, part: pi, err: topicErr}
			if tg.err == nil {
				tg.p, tg.err = s.cfg.Replicas.Get(name, rp.Partition)
			}
			if tg.err == nil {
				tg.err = tg.p.CheckEpoch(rp.CurrentLeaderEpoch)
			}
			targets = append(targets, tg)
		}
	}

	isolation := int8(replica.ReadUncommitted)
	if req.IsolationLevel == 1 {
		isolation = replica.ReadCommitted
	}
	maxBytes := int(req.MaxBytes)
	if req.Version < 3 || maxBytes <= 0 {
		maxBytes = int(^uint32(0) >> 1)
	}

	read := func() (int, []splice, bool) {
		total := 0
		var splices []splice
		mk := newMarkers()
		hadError := false
		for _, tg := range targets {
			op := &resp.Topics[tg.topic].Partitions[tg.part]
			rp := req.Topics[tg.topic].Partitions[tg.part]
			op.RecordBatches = []byte{} // empty, not null: clients read a size of 0
			if tg.err != nil {
				op.ErrorCode = errorCode(tg.err)
				hadError = true
				continue
			}
			limit := min(int(rp.PartitionMaxBytes), maxBytes-total)
			info, err := tg.p.Read(rp.FetchOffset, max(limit, 0), isolation, total == 0)
			op.HighWatermark = info.HighWatermark
			op.LastStableOffset = info.LastStableOffset
			op.LogStartOffset = info.LogStartOffset
			if isolation == replica.ReadCommitted {
				op.AbortedTransactions = make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, 0, len(info.AbortedTransactions))
				for _, a := range info.AbortedTransactions {
					op.AbortedTransactions = append(op.AbortedTransactions, kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
				}
			}
			if err != nil {
				op.ErrorCode = errorCode(err)
				hadError = true
				continue
			}
			op.ErrorCode = 0
			if info.Size > 0 {
				sp := mk.splice(info.File, info.Position, info.Size)
				op.RecordBatches = sp.marker
				splices = append(splices, sp)
				total += info.Size
			}
		}
		return total, splices, hadError
	}

	total, splices, hadError := read()
	wait := time.Duration(req.MaxWaitMillis) * time.Millisecond
	if total >= int(req.MinBytes) || hadError || wait <= 0 || len(targets) == 0 {
		return resp, splices
	}
	var parts []*replica.Partition
	for _, tg := range targets {
		parts = append(parts, tg.p)
	}
	w := replica.NewWatcher(parts...)
	defer w.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	// Data may have arrived between the read and the watch.
	if total, splices, hadError = read(); total >= int(req.MinBytes) || hadError {
		return resp, splices
	}
	for {
		select {
		case <-w.C():
			if total, splices, hadError = read(); total >= int(req.MinBytes) || hadError {
				return resp, splices
			}
		case <-timer.C:
			_, splices, _ = read()
			return resp, splices
		case <-ctx.Done():
			_, splices, _ = read()
			return resp, splices
		}
	}
}
