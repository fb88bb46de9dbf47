package server_test

import (
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/broker/record"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnProduce produces one transactional batch with a transactional ID (nil
// for none) in the request.
func txnProduce(t *testing.T, c *rawClient, txnID *string, topic string, pid int64, epoch int16, seq int32, transactional bool) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	bb := record.NewBuilder(record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Transactional: transactional})
	bb.Add(record.Record{Timestamp: 1000, Value: []byte("v")})
	b, err := bb.Build()
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.TransactionID = txnID
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return do[*kmsg.ProduceResponse](c, req).Topics[0].Partitions[0]
}

// The transactional APIs on the wire: the errors a client relies on to
// drive its transaction, from a raw connection.
func TestTransactionalRequests(t *testing.T) {
	bt := brokertest.Start(t, "transaction.state.log.num.partitions=1", "transaction.max.timeout.ms=60000")
	srv := testServer{addr: bt.Addr}
	const topic = "raw-txn"
	_, adm := srv.clients(t)
	mustCreate(t, adm, 1, nil, topic)
	c := dialRaw(t, srv.addr)
	id := strp("raw-tx")

	// FindCoordinator creates __transaction_state; its partition loads.
	var init *kmsg.InitProducerIDResponse
	for range 200 {
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.SetVersion(3)
		fc.CoordinatorType, fc.CoordinatorKey = 1, *id
		do[*kmsg.FindCoordinatorResponse](c, fc)
		init = initProducerID(t, c, 4, id)
		if init.ErrorCode == 0 {
			break
		}
	}
	if init.ErrorCode != 0 || init.ProducerEpoch != 0 {
		t.Fatalf("InitProducerID: %s epoch %d", codeName(init.ErrorCode), init.ProducerEpoch)
	}
	pid, epoch := init.ProducerID, init.ProducerEpoch

	// A timeout above transaction.max.timeout.ms.
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(4)
	req.TransactionalID = strp("raw-tx-2")
	req.ProducerID, req.ProducerEpoch = -1, -1
	req.TransactionTimeoutMillis = 60001
	if r := do[*kmsg.InitProducerIDResponse](c, req); r.ErrorCode != kerr.InvalidTransactionTimeout.Code {
		t.Errorf("InitProducerID with a timeout above the maximum: %s", codeName(r.ErrorCode))
	}

	// Writing to a partition not added to the transaction, and a
	// transactional batch without a transactional ID.
	if r := txnProduce(t, c, id, topic, pid, epoch, 0, true); r.ErrorCode != kerr.InvalidTxnState.Code {
		t.Errorf("produce before AddPartitionsToTxn: %s", codeName(r.ErrorCode))
	}
	if r := txnProduce(t, c, nil, topic, pid, epoch, 0, true); r.ErrorCode != kerr.InvalidRecord.Code {
		t.Errorf("transactional batch without a transactional ID: %s", codeName(r.ErrorCode))
	}

	// TxnOffsetCommit before AddOffsetsToTxn: the group's partition is not
	// in the transaction; a partition that does not exist says so.
	toc := kmsg.NewPtrTxnOffsetCommitRequest()
	toc.SetVersion(3)
	toc.TransactionalID, toc.Group, toc.ProducerID, toc.ProducerEpoch, toc.Generation = *id, "raw-group", pid, epoch, -1
	toc.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{
		{Partition: 0, Offset: 1, LeaderEpoch: -1}, {Partition: 9, Offset: 1, LeaderEpoch: -1}}}}
	tocr := do[*kmsg.TxnOffsetCommitResponse](c, toc).Topics[0].Partitions
	if tocr[0].ErrorCode != kerr.InvalidTxnState.Code || tocr[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("TxnOffsetCommit outside the transaction: %s, unknown partition: %s", codeName(tocr[0].ErrorCode), codeName(tocr[1].ErrorCode))
	}

	add := func(version int16, topic string, epoch int16) int16 {
		r := kmsg.NewPtrAddPartitionsToTxnRequest()
		r.SetVersion(version)
		r.TransactionalID, r.ProducerID, r.ProducerEpoch = *id, pid, epoch
		r.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
		return do[*kmsg.AddPartitionsToTxnResponse](c, r).Topics[0].Partitions[0].ErrorCode
	}
	if code := add(3, "no-such-topic", epoch); code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("AddPartitionsToTxn of an unknown topic: %s", codeName(code))
	}
	if code := add(3, topic, epoch+1); code != kerr.ProducerFenced.Code {
		t.Errorf("AddPartitionsToTxn v3 with a future epoch: %s", codeName(code))
	}
	if code := add(1, topic, epoch+1); code != kerr.InvalidProducerEpoch.Code {
		t.Errorf("AddPartitionsToTxn v1 with a future epoch: %s", codeName(code))
	}
	if code := add(3, topic, epoch); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %s", codeName(code))
	}
	if r := txnProduce(t, c, id, topic, pid, epoch, 0, true); r.ErrorCode != 0 {
		t.Fatalf("produce in the transaction: %s", codeName(r.ErrorCode))
	}

	// The open transaction shows in DescribeProducers, DescribeTransactions
	// and ListTransactions.
	dp := kmsg.NewPtrDescribeProducersRequest()
	dp.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: topic, Partitions: []int32{0}}}
	dpr := do[*kmsg.DescribeProducersResponse](c, dp).Topics[0].Partitions[0]
	if dpr.ErrorCode != 0 || len(dpr.ActiveProducers) != 1 || dpr.ActiveProducers[0].ProducerID != pid || dpr.ActiveProducers[0].CurrentTxnStartOffset != 0 {
		t.Errorf("DescribeProducers: %s %+v", codeName(dpr.ErrorCode), dpr.ActiveProducers)
	}
	dt := kmsg.NewPtrDescribeTransactionsRequest()
	dt.TransactionalIDs = []string{*id, "never-used"}
	dtr := do[*kmsg.DescribeTransactionsResponse](c, dt)
	if st := dtr.TransactionStates[0]; st.ErrorCode != 0 || st.State != "Ongoing" || st.ProducerID != pid || len(st.Topics) != 1 || st.Topics[0].Topic != topic {
		t.Errorf("DescribeTransactions: %s %+v", codeName(st.ErrorCode), st)
	}
	if st := dtr.TransactionStates[1]; st.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Errorf("DescribeTransactions of an unknown ID: %s", codeName(st.ErrorCode))
	}
	lt := kmsg.NewPtrListTransactionsRequest()
	lt.SetVersion(1)
	lt.StateFilters = []string{"Ongoing", "Bogus"}
	lt.DurationFilterMillis = -1
	ltr := do[*kmsg.ListTransactionsResponse](c, lt)
	if ltr.ErrorCode != 0 || len(ltr.TransactionStates) != 1 || ltr.TransactionStates[0].TransactionalID != *id ||
		len(ltr.UnknownStateFilters) != 1 || ltr.UnknownStateFilters[0] != "Bogus" {
		t.Errorf("ListTransactions: %s %+v unknown %v", codeName(ltr.ErrorCode), ltr.TransactionStates, ltr.UnknownStateFilters)
	}

	end := func(version int16, epoch int16, commit bool) int16 {
		r := kmsg.NewPtrEndTxnRequest()
		r.SetVersion(version)
		r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Commit = *id, pid, epoch, commit
		return do[*kmsg.EndTxnResponse](c, r).ErrorCode
	}
	if code := end(3, epoch+1, true); code != kerr.ProducerFenced.Code {
		t.Errorf("EndTxn with a future epoch: %s", codeName(code))
	}
	if code := end(3, epoch, true); code != 0 {
		t.Fatalf("EndTxn commit: %s", codeName(code))
	}
	// Aborting what is being committed is refused; committing again is
	// answered once the markers are written.
	if code := end(3, epoch, false); code != kerr.InvalidTxnState.Code && code != kerr.ConcurrentTransactions.Code {
		t.Errorf("EndTxn abort after commit: %s", codeName(code))
	}
	for range 200 {
		if code := end(3, epoch, true); code != kerr.ConcurrentTransactions.Code {
			if code != 0 {
				t.Errorf("EndTxn commit retried: %s", codeName(code))
			}
			break
		}
	}
	// A second InitProducerID fences the first producer (retried, as
	// clients do, while the commit's last state change is written).
	again := initProducerID(t, c, 4, id)
	for i := 0; i < 200 && again.ErrorCode == kerr.ConcurrentTransactions.Code; i++ {
		time.Sleep(10 * time.Millisecond)
		again = initProducerID(t, c, 4, id)
	}
	if again.ErrorCode != 0 || again.ProducerID != pid || again.ProducerEpoch != epoch+1 {
		t.Fatalf("InitProducerID again: %s id %d epoch %d", codeName(again.ErrorCode), again.ProducerID, again.ProducerEpoch)
	}
	if code := add(3, topic, epoch); code != kerr.ProducerFenced.Code {
		t.Errorf("AddPartitionsToTxn of the fenced producer: %s", codeName(code))
	}

	// WriteTxnMarkers, as a coordinator elsewhere would send it: the new
	// epoch's open transaction is aborted by a marker from a newer
	// coordinator epoch; an older coordinator epoch is fenced; an unknown
	// partition is reported as such.
	epoch = again.ProducerEpoch
	if code := add(3, topic, epoch); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %s", codeName(code))
	}
	if r := txnProduce(t, c, id, topic, pid, epoch, 0, true); r.ErrorCode != 0 {
		t.Fatalf("produce in the second transaction: %s", codeName(r.ErrorCode))
	}
	markers := func(coordinatorEpoch int32, topic string) int16 {
		r := kmsg.NewPtrWriteTxnMarkersRequest()
		r.SetVersion(1)
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = pid, epoch, false, coordinatorEpoch
		m.Topics = []kmsg.WriteTxnMarkersRequestMarkerTopic{{Topic: topic, Partitions: []int32{0}}}
		r.Markers = append(r.Markers, m)
		return do[*kmsg.WriteTxnMarkersResponse](c, r).Markers[0].Topics[0].Partitions[0].ErrorCode
	}
	if code := markers(100, topic); code != 0 {
		t.Fatalf("WriteTxnMarkers: %s", codeName(code))
	}
	dpr = do[*kmsg.DescribeProducersResponse](c, dp).Topics[0].Partitions[0]
	if len(dpr.ActiveProducers) != 1 || dpr.ActiveProducers[0].CurrentTxnStartOffset != -1 || dpr.ActiveProducers[0].CoordinatorEpoch != 100 {
		t.Errorf("DescribeProducers after the marker: %+v", dpr.ActiveProducers)
	}
	if code := markers(99, topic); code != kerr.TransactionCoordinatorFenced.Code {
		t.Errorf("WriteTxnMarkers from an older coordinator epoch: %s", codeName(code))
	}
	if code := markers(100, "no-such-topic"); code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("WriteTxnMarkers to an unknown topic: %s", codeName(code))
	}
}
