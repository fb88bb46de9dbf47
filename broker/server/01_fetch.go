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
// Fetch sessions (KIP-227, v7+; see fetch_session.go), by the request's
// SessionID and SessionEpoch:
//   - 0, -1: a full fetch without a session (SessionID 0 in the response),
//     as every v4–v6 request is;
//   - 0 or X, 0: a full fetch that closes session X and opens a new one
//     holding the request's partitions, whose ID the response carries (0
//     when max.incremental.fetch.session.cache.slots leaves no room);
//   - X, -1: closes session X and answers as a full fetch without one;
//   - X, E: an incremental fetch of every partition of session X, answered
//     with only the partitions that have records, an error or changed
//     offsets (FETCH_SESSION_ID_NOT_FOUND for an unknown session,
//     SessionID 0 included, INVALID_FETCH_SESSION_EPOCH for an epoch the
//     session does not expect).
//
// Record bytes are not copied: each partition's range of its segment file
// is spliced into the encoded response and sent with sendfile.

func (s *Server) handleFetch(ctx context.Context, req *kmsg.FetchRequest) (*kmsg.FetchResponse, []splice) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version < 7 {
		return s.fetchFull(ctx, req, resp, false)
	}
	switch {
	case req.SessionEpoch == -1:
		if req.SessionID != 0 {
			s.sessions.remove(req.SessionID)
		}
		return s.fetchFull(ctx, req, resp, false)
	case req.SessionEpoch == 0:
		if req.SessionID != 0 {
			s.sessions.remove(req.SessionID)
		}
		return s.fetchFull(ctx, req, resp, true)
	case req.SessionID == 0:
		// An incremental fetch needs a session; there is none with ID 0.
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil
	}
	return s.fetchIncremental(ctx, req, resp)
}

// fetchTarget is one partition a fetch reads.
type fetchTarget struct {
	topic       string   // resolved name ("" for an unknown topic ID)
	topicID     [16]byte // as requested (v13+)
	partition   int32
	fetchOffset int64
	maxBytes    int32
	p           *replica.Partition
	err         error // the partition cannot be read
}

// fetchResult is what reading one target returned.
type fetchResult struct {
	info replica.ReadInfo
	err  error
}

// target resolves one requested partition: by topic ID from v13, by name
// before.
func (s *Server) target(topicIDs bool, topic string, topicID [16]byte, partition int32, fetchOffset int64, maxBytes, leaderEpoch int32) fetchTarget {
	tg := fetchTarget{topic: topic, topicID: topicID, partition: partition, fetchOffset: fetchOffset, maxBytes: maxBytes}
	if topicIDs {
		t := s.cfg.Controller.Image().TopicsByID[topicID]
		if t == nil {
			tg.err = errUnknownTopicID
			return tg
		}
		tg.topic = t.Name
	}
	if tg.p, tg.err = s.cfg.Replicas.Get(tg.topic, partition); tg.err == nil {
		tg.err = tg.p.CheckEpoch(leaderEpoch)
	}
	return tg
}

// fetchFull answers req in full: every requested partition. With
// newSession it then opens a session holding them.
func (s *Server) fetchFull(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse, newSession bool) (*kmsg.FetchResponse, []splice) {
	topicIDs := req.Version >= 13
	var targets []fetchTarget
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			targets = append(targets, s.target(topicIDs, rt.Topic, rt.TopicID, rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch))
		}
	}
	results := s.readWaiting(ctx, req, targets)
	if newSession {
		parts := make([]sessionPartition, 0, len(targets))
		i := 0
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				sp := newSessionPartition(sessionKeyOf(topicIDs, rt.Topic, rt.TopicID, rp.Partition), rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset)
				r := readOf(targets[i], results[i])
				sp.hw, sp.lso, sp.logStart = r.hw, r.lso, r.logStart
				if r.err {
					sp.hw = -1
				}
				parts = append(parts, sp)
				i++
			}
		}
		resp.SessionID = s.sessions.create(time.Now(), topicIDs, parts)
	}
	all := make([]int, len(targets))
	for i := range all {
		all[i] = i
	}
	return resp, s.buildFetch(req, resp, targets, results, all)
}

// fetchIncremental answers an incremental request of a session.
func (s *Server) fetchIncremental(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse) (*kmsg.FetchResponse, []splice) {
	topicIDs := req.Version >= 13
	var upd []sessionPartition
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			upd = append(upd, newSessionPartition(sessionKeyOf(topicIDs, rt.Topic, rt.TopicID, rp.Partition), rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset))
		}
	}
	var forget []sessionKey
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			forget = append(forget, sessionKeyOf(topicIDs, ft.Topic, ft.TopicID, p))
		}
	}
	sess, snap, err := s.sessions.incremental(time.Now(), req.SessionID, req.SessionEpoch, topicIDs, upd, forget)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	if sess == nil {
		// The request emptied the session, which is closed.
		return s.fetchFull(ctx, req, resp, false)
	}
	targets := make([]fetchTarget, len(snap))
	for i, sp := range snap {
		targets[i] = s.target(topicIDs, sp.key.topic, sp.key.topicID, sp.key.partition, sp.fetchOffset, sp.maxBytes, sp.leaderEpoch)
	}
	results := s.readWaiting(ctx, req, targets)
	reads := make([]partitionRead, len(targets))
	for i := range targets {
		reads[i] = readOf(targets[i], results[i])
	}
	include, err := sess.respond(req.SessionEpoch, snap, reads)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		resp.SessionID = sess.id
		return resp, nil
	}
	resp.SessionID = sess.id
	return resp, s.buildFetch(req, resp, targets, results, include)
}

// sessionKeyOf names a partition in a session: by topic ID when the
// session uses them, by name otherwise.
func sessionKeyOf(topicIDs bool, topic string, topicID [16]byte, partition int32) sessionKey {
	if topicIDs {
		return sessionKey{topicID: topicID, partition: partition}
	}
	return sessionKey{topic: topic, partition: partition}
}

// readOf is what a session learns from reading tg.
func readOf(tg fetchTarget, r fetchResult) partitionRead {
	if tg.err != nil {
		return partitionRead{hw: -1, lso: -1, logStart: -1, err: true}
	}
	return partitionRead{hw: r.info.HighWatermark, lso: r.info.LastStableOffset, logStart: r.info.LogStartOffset,
		records: r.info.Size > 0, err: r.err != nil}
}

// readWaiting reads targets in order and, when fewer than MinBytes came
// back and no partition failed, waits up to MaxWaitMillis for any of them
// to receive data, reading again each time one does.
func (s *Server) readWaiting(ctx context.Context, req *kmsg.FetchRequest, targets []fetchTarget) []fetchResult {
	isolation := int8(replica.ReadUncommitted)
	if req.IsolationLevel == 1 {
		isolation = replica.ReadCommitted
	}
	maxBytes := int(req.MaxBytes)
	if maxBytes <= 0 {
		maxBytes = int(^uint32(0) >> 1)
	}
	results := make([]fetchResult, len(targets))
	read := func() (total int, hadError bool) {
		for i, tg := range targets {
			if tg.err != nil {
				hadError = true
				continue
			}
			limit := min(int(tg.maxBytes), maxBytes-total)
			info, err := tg.p.Read(tg.fetchOffset, max(limit, 0), isolation, total == 0)
			results[i] = fetchResult{info: info, err: err}
			if err != nil {
				hadError = true
				continue
			}
			total += info.Size
		}
		return total, hadError
	}

	total, hadError := read()
	wait := time.Duration(req.MaxWaitMillis) * time.Millisecond
	if total >= int(req.MinBytes) || hadError || wait <= 0 || len(targets) == 0 {
		return results
	}
	parts := make([]*replica.Partition, 0, len(targets))
	for _, tg := range targets {
		parts = append(parts, tg.p)
	}
	w := replica.NewWatcher(parts...)
	defer w.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	// Data may have arrived between the read and the watch.
	if total, hadError = read(); total >= int(req.MinBytes) || hadError {
		return results
	}
	for {
		select {
		case <-w.C():
			if total, hadError = read(); total >= int(req.MinBytes) || hadError {
				return results
			}
		case <-timer.C:
			read()
			return results
		case <-ctx.Done():
			read()
			return results
		}
	}
}

// buildFetch fills resp's topics with the targets indexed by include,
// grouping consecutive partitions of one topic, and returns the splices of
// their records in response order.
func (s *Server) buildFetch(req *kmsg.FetchRequest, resp *kmsg.FetchResponse, targets []fetchTarget, results []fetchResult, include []int) []splice {
	readCommitted := req.IsolationLevel == 1
	var splices []splice
	mk := newMarkers()
	add := func(i int) {
		tg, r := targets[i], results[i]
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != tg.topic || resp.Topics[n-1].TopicID != tg.topicID {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = tg.topic, tg.topicID
			resp.Topics = append(resp.Topics, rt)
		}
		out := &resp.Topics[len(resp.Topics)-1]
		op := kmsg.NewFetchResponseTopicPartition()
		op.Partition = tg.partition
		op.PreferredReadReplica = -1
		op.RecordBatches = []byte{} // empty, not null: clients read a size of 0
		switch {
		case tg.err != nil:
			op.ErrorCode = errorCode(tg.err)
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = -1, -1, -1
		default:
			op.HighWatermark = r.info.HighWatermark
			op.LastStableOffset = r.info.LastStableOffset
			op.LogStartOffset = r.info.LogStartOffset
			if readCommitted {
				op.AbortedTransactions = make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, 0, len(r.info.AbortedTransactions))
				for _, a := range r.info.AbortedTransactions {
					op.AbortedTransactions = append(op.AbortedTransactions, kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
				}
			}
			if r.err != nil {
				op.ErrorCode = errorCode(r.err)
			} else if r.info.Size > 0 {
				sp := mk.splice(r.info.File, r.info.Position, r.info.Size)
				op.RecordBatches = sp.marker
				splices = append(splices, sp)
			}
		}
		out.Partitions = append(out.Partitions, op)
	}
	for _, i := range include {
		add(i)
	}
	return splices
}
